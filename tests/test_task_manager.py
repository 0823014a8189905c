"""The task manager's scheduling semantics, driven by a manual clock (no real waiting)."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from loguru import logger

from patera import MissingDependency
from patera.task_manager import (
    Job,
    JobLookupError,
    ManualClock,
    Scheduler,
    TaskManager,
    current_fire_time,
    schedule_job,
)
from patera.testing import PateraTestClient
from tests.conftest import build_app

T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


async def settle(rounds: int = 30) -> None:
    """Let the scheduler loop and the job tasks it started take their turns."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


@pytest.fixture
def records() -> Iterator[list[Any]]:
    seen: list[Any] = []
    sink = logger.add(lambda message: seen.append(message.record), level="DEBUG")
    yield seen
    logger.remove(sink)


def messages(records: list[Any], level: str) -> list[str]:
    return [r["message"] for r in records if r["level"].name == level]


@pytest.fixture
async def clock_and_scheduler() -> AsyncIterator[tuple[ManualClock, Scheduler]]:
    clock = ManualClock(T0)
    scheduler = Scheduler(timezone=UTC, clock=clock)
    scheduler.start()
    yield clock, scheduler
    await scheduler.shutdown(2)


async def test_interval_job_runs_at_each_fire_time(clock_and_scheduler: tuple[ManualClock, Scheduler]) -> None:
    clock, scheduler = clock_and_scheduler
    fired: list[datetime | None] = []

    async def tick() -> None:
        fired.append(current_fire_time())

    job = scheduler.add_job(tick, "interval", seconds=10)
    assert job.next_run_time == T0 + timedelta(seconds=10)
    await settle()
    assert fired == []
    for step in range(1, 4):
        clock.advance(10)
        await until(lambda n=step: len(fired) == n)  # type: ignore[misc]
    assert fired == [T0 + timedelta(seconds=s) for s in (10, 20, 30)]
    assert job.next_run_time == T0 + timedelta(seconds=40)


async def test_missed_fire_times_run_once(clock_and_scheduler: tuple[ManualClock, Scheduler]) -> None:
    clock, scheduler = clock_and_scheduler
    fired: list[datetime | None] = []
    job = scheduler.add_job(lambda: fired.append(current_fire_time()), "interval", seconds=10)
    clock.advance(95)  # nine fire times passed while the loop was "blocked"
    await until(lambda: len(fired) == 1)
    await settle()
    await asyncio.sleep(0.05)
    assert fired == [T0 + timedelta(seconds=10)]
    assert job.next_run_time == T0 + timedelta(seconds=100)


async def test_max_instances_skips_with_a_warning(
    clock_and_scheduler: tuple[ManualClock, Scheduler], records: list[Any]
) -> None:
    clock, scheduler = clock_and_scheduler
    release = asyncio.Event()
    started: list[int] = []

    async def slow() -> None:
        started.append(1)
        await release.wait()

    scheduler.add_job(slow, "interval", seconds=1, max_instances=2, name="slow")
    for expected in (1, 2):
        clock.advance(1)
        await until(lambda n=expected: len(started) == n)  # type: ignore[misc]
    clock.advance(1)
    await until(lambda: any("maximum number of running instances" in m for m in messages(records, "WARNING")))
    assert len(started) == 2
    release.set()
    await settle()
    clock.advance(1)
    await until(lambda: len(started) == 3)


async def test_exception_is_logged_and_the_job_keeps_its_schedule(
    clock_and_scheduler: tuple[ManualClock, Scheduler], records: list[Any]
) -> None:
    clock, scheduler = clock_and_scheduler
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("job exploded")

    job = scheduler.add_job(broken, "interval", minutes=1, id="broken")
    clock.advance(60)
    await until(lambda: any("broken" in m for m in messages(records, "ERROR")))
    error = next(r for r in records if r["level"].name == "ERROR")
    assert error["exception"] is not None and "job exploded" in str(error["exception"].value)
    assert scheduler.get_job("broken") is job and job.next_run_time == T0 + timedelta(minutes=2)
    clock.advance(60)
    await until(lambda: len(calls) == 2)


async def test_sync_jobs_run_in_the_thread_pool(clock_and_scheduler: tuple[ManualClock, Scheduler]) -> None:
    clock, scheduler = clock_and_scheduler
    threads: list[int] = []
    fire_times: list[datetime | None] = []

    def sync_job(tag: str, *, also: str) -> None:
        threads.append(threading.get_ident())
        fire_times.append(current_fire_time())
        assert (tag, also) == ("a", "b")

    scheduler.add_job(sync_job, "interval", ["a"], {"also": "b"}, seconds=5)
    clock.advance(5)
    await until(lambda: len(threads) == 1)
    assert threads[0] != threading.get_ident()
    assert fire_times == [T0 + timedelta(seconds=5)]


async def test_pause_resume_and_remove(clock_and_scheduler: tuple[ManualClock, Scheduler]) -> None:
    clock, scheduler = clock_and_scheduler
    calls: list[int] = []
    job = scheduler.add_job(lambda: calls.append(1), "interval", seconds=10, id="j")
    assert scheduler.jobs == {"j": job}
    job.pause()
    assert job.next_run_time is None
    clock.advance(35)
    await settle()
    await asyncio.sleep(0.05)
    assert calls == []
    scheduler.resume_job("j")
    assert job.next_run_time == clock.now() + timedelta(seconds=5)  # next whole interval after now
    clock.advance(5)
    await until(lambda: len(calls) == 1)
    scheduler.pause_job(job)
    job.resume()
    job.remove()
    assert scheduler.get_job("j") is None and scheduler.jobs == {}
    for call in (scheduler.remove_job, scheduler.pause_job, scheduler.resume_job):
        with pytest.raises(JobLookupError) as caught:
            call("j")
        assert isinstance(caught.value, KeyError) and "'j'" in str(caught.value)


async def test_pausing_the_scheduler_then_resuming_runs_missed_jobs_once(
    clock_and_scheduler: tuple[ManualClock, Scheduler],
) -> None:
    clock, scheduler = clock_and_scheduler
    calls: list[int] = []
    scheduler.add_job(lambda: calls.append(1), "interval", seconds=10)
    scheduler.pause()
    clock.advance(45)
    await settle()
    await asyncio.sleep(0.05)
    assert calls == []
    scheduler.resume()
    await until(lambda: len(calls) == 1)
    await asyncio.sleep(0.05)
    assert calls == [1]


async def test_date_job_runs_once_and_is_removed(clock_and_scheduler: tuple[ManualClock, Scheduler]) -> None:
    clock, scheduler = clock_and_scheduler
    calls: list[int] = []
    job = scheduler.add_job(lambda: calls.append(1), "date", run_date=T0 + timedelta(hours=1), id="once")
    clock.advance(3600)
    await until(lambda: calls == [1])
    assert scheduler.get_job("once") is None and job.next_run_time is None
    now_job = scheduler.add_job(lambda: calls.append(2))  # no trigger: "date", now
    await until(lambda: calls == [1, 2])
    assert scheduler.get_job(now_job.id) is None


async def test_cron_job_with_a_zone_follows_wall_time(clock_and_scheduler: tuple[ManualClock, Scheduler]) -> None:
    clock, scheduler = clock_and_scheduler
    fired: list[datetime | None] = []
    zone = ZoneInfo("Europe/Ljubljana")
    scheduler.add_job(lambda: fired.append(current_fire_time()), "cron", hour=13, minute=30, timezone=zone)
    clock.set(datetime(2026, 5, 4, 11, 30, tzinfo=UTC))  # 13:30 CEST
    await until(lambda: len(fired) == 1)
    assert fired[0] is not None and fired[0].astimezone(zone).strftime("%H:%M") == "13:30"


async def test_duplicate_id_and_replace_existing(clock_and_scheduler: tuple[ManualClock, Scheduler]) -> None:
    _, scheduler = clock_and_scheduler
    scheduler.add_job(print, "interval", seconds=1, id="same")
    with pytest.raises(ValueError, match="already exists"):
        scheduler.add_job(print, "interval", seconds=1, id="same")
    replaced = scheduler.add_job(print, "interval", seconds=9, id="same", replace_existing=True)
    assert scheduler.jobs == {"same": replaced}
    with pytest.raises(ValueError):
        scheduler.add_job(print, "cron", hours=1)
    with pytest.raises(ValueError):
        scheduler.add_job(print, "interval", seconds=1, max_instances=0)


async def test_jitter_delays_the_run_not_the_fire_time(clock_and_scheduler: tuple[ManualClock, Scheduler]) -> None:
    clock, scheduler = clock_and_scheduler
    fired: list[datetime | None] = []
    job = scheduler.add_job(lambda: fired.append(current_fire_time()), "interval", seconds=10, jitter=4)
    run_at = job.next_run_time
    assert run_at is not None and T0 + timedelta(seconds=10) <= run_at <= T0 + timedelta(seconds=14)
    clock.advance(14)
    await until(lambda: len(fired) == 1)
    assert fired == [T0 + timedelta(seconds=10)]


async def test_shutdown_cancels_running_jobs_within_the_wait() -> None:
    clock = ManualClock(T0)
    scheduler = Scheduler(timezone=UTC, clock=clock)
    scheduler.start()
    cancelled = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    job = scheduler.add_job(forever, "interval", seconds=1)
    clock.advance(1)
    await until(lambda: bool(job.running))
    await asyncio.wait_for(scheduler.shutdown(5), 6)
    assert cancelled.is_set() and not scheduler.running


# ---------------------------------------------------------------- the extension in an app


class Scheduled(TaskManager):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[str] = []

    @schedule_job("interval", minutes=1, id="my_job")
    async def some_task(self) -> None:
        self.calls.append("interval")

    @schedule_job("cron", crontab="0 12 * * *", id="noon")
    def noon(self) -> None:
        self.calls.append("noon")


async def test_extension_adds_marked_jobs_on_startup_and_stops_on_shutdown() -> None:
    clock = ManualClock(T0)
    manager = Scheduled(clock=clock)
    application = build_app(TASK_MANAGER={"TIMEZONE": "UTC"})
    manager.init_app(application)
    assert application.extensions["TASK_MANAGER"] is manager
    assert manager.jobs == {}
    async with PateraTestClient(application):
        assert set(manager.jobs) == {"my_job", "noon"}
        my_job = manager.get_job("my_job")
        assert isinstance(my_job, Job) and my_job.next_run_time == T0 + timedelta(minutes=1)
        clock.advance(60)
        await until(lambda: manager.calls == ["interval"])
        clock.set(datetime(2026, 5, 4, 12, 0, 30, tzinfo=UTC))
        await until(lambda: manager.calls.count("noon") == 1 and manager.calls.count("interval") == 2)
        manager.pause_job("my_job")
        assert manager.get_job("my_job").next_run_time is None  # type: ignore[union-attr]
        manager.resume_job("my_job")
        manager.pause_scheduler()
        manager.resume_scheduler()
        manager.remove_job("noon")
        assert set(manager.jobs) == {"my_job"}
        done = manager.run_background_task(manager.calls.append, "background")
        await asyncio.wait_for(done, 5)
        assert manager.calls[-1] == "background"
    assert not manager.scheduler.running


async def test_add_job_positional_order_like_apscheduler() -> None:
    manager = TaskManager(clock=ManualClock(T0))
    manager.init_app(build_app())
    seen: list[tuple[Any, ...]] = []
    job = manager.add_job(lambda *a, **k: seen.append((a, k)), "interval", (1, 2), {"x": 3}, "pos", "Positional",
                          seconds=30)
    assert (job.id, job.name, job.args, job.kwargs) == ("pos", "Positional", (1, 2), {"x": 3})
    assert len(manager.add_job(print, "interval", seconds=1).id) == 32  # uuid4 hex


def test_configuration(records: list[Any]) -> None:
    manager = TaskManager()
    manager.init_app(build_app(TASK_MANAGER={
        "JOB_STORES": {"default": object()}, "EXECUTORS": {}, "SCHEDULER": object,
        "JOB_DEFAULTS": {"max_instances": 1}, "TIMEZONE": "Europe/Ljubljana",
    }))
    warned = " ".join(messages(records, "WARNING"))
    assert all(key in warned for key in ("JOB_STORES", "EXECUTORS", "SCHEDULER"))
    assert manager.nice_name == "Task manager" and manager.configs["DAEMON"] is True
    assert manager.scheduler.default_max_instances == 1
    assert str(manager.scheduler.timezone) == "Europe/Ljubljana"
    with pytest.raises(ValueError, match="unknown time zone"):
        TaskManager().init_app(build_app(TASK_MANAGER_TIMEZONE="Nowhere/Atlantis"))
    with pytest.raises(RuntimeError):
        TaskManager().add_job(print)


async def test_info_line_when_several_workers_run_their_own_schedule(
    records: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATERA_WORKERS", "3")
    manager = TaskManager(clock=ManualClock(T0))
    application = build_app()
    manager.init_app(application)
    async with PateraTestClient(application):
        pass
    assert any("each worker runs its own schedule" in m for m in messages(records, "INFO"))


def test_lock_url_without_redis_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(MissingDependency, match=r'patera\[cache\]'):
        TaskManager().init_app(build_app(TASK_MANAGER={"LOCK_URL": "redis://127.0.0.1:1/0"}))


def test_alias_module() -> None:
    import patera.task_manager
    import patera.taskmanager

    assert patera.taskmanager.TaskManager is patera.task_manager.TaskManager
    assert patera.taskmanager.schedule_job is patera.task_manager.schedule_job


@pytest.mark.parametrize(("start", "expected_local"), [
    # spring forward (29 March 2026): 02:00 does not exist, 02:30 runs after the gap, once
    (datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
     ["00:30+0100", "01:30+0100", "03:30+0200", "04:30+0200", "05:30+0200", "06:30+0200"]),
    # fall back (25 October 2026): 02:30 happens twice and an every-hour job runs in both copies
    (datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
     ["00:30+0200", "01:30+0200", "02:30+0200", "02:30+0100", "03:30+0100", "04:30+0100", "05:30+0100"]),
])
async def test_running_through_dst_transitions_neither_skips_nor_doubles(
    start: datetime, expected_local: list[str]
) -> None:
    zone = ZoneInfo("Europe/Ljubljana")
    clock = ManualClock(start)
    scheduler = Scheduler(timezone=zone, clock=clock)
    fired: list[datetime] = []
    scheduler.add_job(lambda: fired.append(current_fire_time()), "cron", crontab="30 * * * *")  # type: ignore[arg-type]
    scheduler.start()
    try:
        for _ in range(4 * len(expected_local)):  # quarter-hour steps through the night
            clock.advance(15 * 60)
            await settle()
        await until(lambda: len(fired) >= len(expected_local))
        await asyncio.sleep(0.05)
    finally:
        await scheduler.shutdown(2)
    local = [f.astimezone(zone).strftime("%H:%M%z") for f in fired]
    assert local[: len(expected_local)] == expected_local
    assert len(set(fired)) == len(fired)


async def test_explicit_next_run_time_then_the_trigger_takes_over(
    clock_and_scheduler: tuple[ManualClock, Scheduler],
) -> None:
    clock, scheduler = clock_and_scheduler
    fired: list[datetime | None] = []
    job = scheduler.add_job(lambda: fired.append(current_fire_time()), "interval", minutes=1, coalesce=True,
                            next_run_time=T0 + timedelta(seconds=5))
    assert job.next_run_time == T0 + timedelta(seconds=5) and job.coalesce
    clock.advance(5)
    await until(lambda: len(fired) == 1)
    assert job.next_run_time == T0 + timedelta(minutes=1)
