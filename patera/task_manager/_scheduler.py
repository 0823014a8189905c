"""The asyncio scheduler: one loop task that sleeps until the next due job and fires it.

Each firing runs as its own task, so a slow job never delays others. A job that is late
(the loop was blocked, or the scheduler paused) runs once for all the fire times it
missed. With a lock, each fire time runs in only one of the processes sharing it.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from loguru import logger

from .._background import run_sync_or_async
from ._clock import Clock, SystemClock
from ._triggers import DateTrigger, Trigger, build_trigger, to_aware

__all__ = ("FireLock", "Job", "JobLookupError", "Scheduler", "current_fire_time")

_fire_time: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("patera_fire_time", default=None)
_TICK = timedelta(microseconds=1)  # "from now on, now included"
_MIN_LOCK_TTL = timedelta(seconds=60)
_MAX_LOCK_TTL = timedelta(days=7)


def current_fire_time() -> datetime | None:
    """Inside a scheduled run: the (nominal, un-jittered) fire time it runs for."""
    return _fire_time.get()


class JobLookupError(KeyError):
    """No job with that id."""

    def __str__(self) -> str:
        return f"no job with id {self.args[0]!r}"


class FireLock(Protocol):
    """Claims one fire time for this process; ``True`` means "run it here"."""

    async def acquire(self, key: str, ttl_ms: int) -> bool: ...


class Job:
    """A scheduled callable. ``next_run_time`` is ``None`` while the job is paused."""

    def __init__(
        self,
        scheduler: Scheduler,
        func: Callable[..., Any],
        trigger: Trigger,
        *,
        id: str,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        max_instances: int,
        coalesce: bool,
        lock_name: str,
    ) -> None:
        self._scheduler = scheduler
        self.func = func
        self.trigger = trigger
        self.id = id
        self.name = name
        self.args = args
        self.kwargs = kwargs
        self.max_instances = max_instances
        self.coalesce = coalesce
        self.lock_name = lock_name
        self.fire_time: datetime | None = None  # nominal, shared by every process
        self.run_at: datetime | None = None  # fire_time plus this process's jitter
        self.running: set[asyncio.Task[None]] = set()

    @property
    def next_run_time(self) -> datetime | None:
        """When this process runs the job next, in the scheduler's time zone."""
        return None if self.run_at is None else self.run_at.astimezone(self._scheduler.timezone)

    def pause(self) -> Job:
        self._scheduler.pause_job(self)
        return self

    def resume(self) -> Job:
        self._scheduler.resume_job(self)
        return self

    def remove(self) -> None:
        self._scheduler.remove_job(self)

    def __repr__(self) -> str:
        when = self.run_at.isoformat() if self.run_at else "paused"
        return f"<Job id={self.id!r} name={self.name!r} trigger={self.trigger!r} next={when}>"


class Scheduler:
    """Jobs, their fire times, and the task that runs them.

    Args:
        timezone: zone for cron/date triggers and naive datetimes.
        job_defaults: ``coalesce`` and ``max_instances`` for jobs that don't say. ``coalesce``
            is kept on the job for compatibility: missed fire times always collapse into one run.
        clock: where time comes from (tests pass a ``ManualClock``).
        lock: claims fire times across processes; ``None`` = this process runs everything.
    """

    def __init__(
        self,
        *,
        timezone: tzinfo,
        job_defaults: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
        lock: FireLock | None = None,
        lock_prefix: str = "patera:task_manager:",
    ) -> None:
        defaults = dict(job_defaults or {})
        self.timezone = timezone
        self.default_max_instances = int(defaults.get("max_instances", 3))
        self.default_coalesce = bool(defaults.get("coalesce", False))
        self.clock: Clock = clock or SystemClock()
        self.lock = lock
        self.lock_prefix = lock_prefix
        self.jobs: dict[str, Job] = {}
        self.paused = False
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._lock_failing = False
        self._runs: set[asyncio.Task[None]] = set()  # every running job, removed ones included

    # ------------------------------------------------------------------ jobs

    def add_job(
        self,
        func: Callable[..., Any],
        trigger: str | Trigger | None = None,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        id: str | None = None,
        name: str | None = None,
        *,
        coalesce: bool | None = None,
        max_instances: int | None = None,
        replace_existing: bool = False,
        next_run_time: datetime | str | None = None,
        **trigger_args: Any,
    ) -> Job:
        """Schedule ``func``; the signature follows APScheduler's ``add_job``.

        Raises:
            ValueError: unknown trigger or option, or a duplicate ``id`` without ``replace_existing``.
            TypeError: ``func`` is not callable.
        """
        if not callable(func):
            raise TypeError(f"job function must be callable, got {func!r}")
        if id is not None and id in self.jobs and not replace_existing:
            raise ValueError(f"a job with id {id!r} already exists (pass replace_existing=True)")
        now = self.clock.now()
        built = build_trigger(
            trigger, dict(trigger_args), default_timezone=self.timezone, now=now, epoch_anchor=self.lock is not None
        )
        limit = self.default_max_instances if max_instances is None else int(max_instances)
        if limit < 1:
            raise ValueError("max_instances must be at least 1")
        qualname = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"
        job = Job(
            self, func, built,
            id=id or uuid.uuid4().hex,
            name=name or getattr(func, "__qualname__", None) or repr(func),
            args=tuple(args or ()),
            kwargs=dict(kwargs or {}),
            max_instances=limit,
            coalesce=self.default_coalesce if coalesce is None else bool(coalesce),
            # NOTE: processes must agree on the lock key, and a default id is random per process
            lock_name=id or f"{qualname}:{built!r}",
        )
        first = to_aware(next_run_time, self.timezone) if next_run_time is not None else None
        if id in self.jobs:
            self.remove_job(id)
        self.jobs[job.id] = job
        # a date trigger's default run_date is "now", which must still count as ahead
        self._schedule(job, first or built.next_fire_time(now - _TICK if isinstance(built, DateTrigger) else now))
        return job

    def _schedule(self, job: Job, fire_time: datetime | None) -> None:
        if fire_time is None:
            self.jobs.pop(job.id, None)
            job.fire_time = job.run_at = None
            return
        job.fire_time = fire_time
        jitter = job.trigger.jitter
        job.run_at = fire_time + timedelta(seconds=random.uniform(0, jitter)) if jitter else fire_time
        self._wakeup.set()

    def _lookup(self, job: str | Job) -> Job:
        job_id = job.id if isinstance(job, Job) else job
        try:
            return self.jobs[job_id]
        except KeyError:
            raise JobLookupError(job_id) from None

    def get_job(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def remove_job(self, job: str | Job, job_store: str | None = None) -> None:
        found = self._lookup(job)
        del self.jobs[found.id]
        found.fire_time = found.run_at = None
        self._wakeup.set()

    def pause_job(self, job: str | Job) -> Job:
        found = self._lookup(job)
        found.fire_time = found.run_at = None
        self._wakeup.set()
        return found

    def resume_job(self, job: str | Job) -> Job:
        found = self._lookup(job)
        if found.fire_time is None:
            self._schedule(found, found.trigger.next_fire_time(self.clock.now()))
        return found

    def pause(self) -> None:
        self.paused = True
        self._wakeup.set()

    def resume(self) -> None:
        self.paused = False
        self._wakeup.set()

    # ------------------------------------------------------------------ running

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    def start(self) -> None:
        if not self.running:
            self._loop_task = asyncio.get_running_loop().create_task(self._run_loop(), name="patera-scheduler")

    async def shutdown(self, wait: float = 5.0) -> None:
        """Stop the loop, cancel running jobs and wait up to ``wait`` seconds for them."""
        tasks: set[asyncio.Task[None]] = set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            tasks.add(self._loop_task)
            self._loop_task = None
        for task in self._runs:
            task.cancel()
            tasks.add(task)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=wait)
            if pending:
                logger.warning("{} scheduled job(s) still running after {}s at shutdown", len(pending), wait)

    async def _run_loop(self) -> None:
        while True:
            self._wakeup.clear()
            now = self.clock.now()
            delay: float | None = None
            if not self.paused:
                for job in list(self.jobs.values()):
                    if job.run_at is not None and job.run_at <= now:
                        try:
                            self._fire(job, now)
                        except Exception:  # noqa: BLE001 - one broken trigger must not stop the others
                            logger.exception("job {!r} could not be scheduled; it is paused", job.name)
                            job.fire_time = job.run_at = None
                    if job.run_at is not None:
                        wait = (job.run_at - now).total_seconds()
                        delay = wait if delay is None else min(delay, wait)
            await self._nap(delay)

    async def _nap(self, delay: float | None) -> None:
        waker = asyncio.ensure_future(self._wakeup.wait())
        sleeper = asyncio.ensure_future(self.clock.sleep(delay)) if delay is not None else None
        waiting = {waker} if sleeper is None else {waker, sleeper}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiting:
                task.cancel()

    def _fire(self, job: Job, now: datetime) -> None:
        fire_time = job.fire_time
        assert fire_time is not None
        # Missed fire times collapse into this one run: the next is the first one after now.
        self._schedule(job, job.trigger.next_fire_time(max(now, fire_time)))
        if len(job.running) >= job.max_instances:
            logger.warning(
                "job {!r} skipped at {}: maximum number of running instances reached ({})",
                job.name, fire_time.isoformat(), job.max_instances,
            )
            return
        task = asyncio.get_running_loop().create_task(self._run_job(job, fire_time), name=f"patera-job-{job.id}")
        job.running.add(task)
        self._runs.add(task)
        task.add_done_callback(job.running.discard)
        task.add_done_callback(self._runs.discard)

    async def _claim(self, job: Job, fire_time: datetime) -> bool:
        if self.lock is None:
            return True
        period = job.trigger.period_hint() * 2
        ttl = min(max(period, _MIN_LOCK_TTL), _MAX_LOCK_TTL)
        key = f"{self.lock_prefix}{job.lock_name}:{fire_time.timestamp():.6f}"
        try:
            claimed = await self.lock.acquire(key, int(ttl / timedelta(milliseconds=1)))
        except Exception as exc:  # noqa: BLE001 - an unreachable lock store must not kill the loop
            if not self._lock_failing:
                logger.warning("task lock unavailable ({}); scheduled runs are skipped until it is back", exc)
            self._lock_failing = True
            return False
        if self._lock_failing:
            logger.info("task lock reachable again; scheduled runs resume")
            self._lock_failing = False
        return claimed

    async def _run_job(self, job: Job, fire_time: datetime) -> None:
        if not await self._claim(job, fire_time):
            return
        token = _fire_time.set(fire_time)
        try:
            result = await run_sync_or_async(job.func, *job.args, **job.kwargs)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failing run is logged; the job keeps its schedule
            logger.exception("job {!r} raised at its run for {}", job.name, fire_time.isoformat())
        finally:
            _fire_time.reset(token)
