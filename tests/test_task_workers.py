"""Several app processes, one run per fire time: the Redis fire-time lock (SPEC §17.3).

In-process: two schedulers on manual clocks share a real Redis. Across processes:
``patera run --workers 3`` with a 1-second interval job writing to a shared log; then one
worker is killed abruptly mid-run and the others must carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from patera.task_manager import ManualClock, Scheduler, current_fire_time
from patera.task_manager._lock import RedisFireLock
from tests._services import free_port

pytest.importorskip("hypercorn")
pytest.importorskip("redis")

REPO = Path(__file__).resolve().parent.parent
PATERA = str(Path(sys.executable).with_name("patera"))
T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


async def test_two_schedulers_sharing_a_lock_run_each_fire_time_once(redis_service: Any) -> None:
    runs: list[tuple[str, datetime | None]] = []
    clocks = [ManualClock(T0), ManualClock(T0)]
    locks = [RedisFireLock(redis_service.url), RedisFireLock(redis_service.url)]
    prefix = f"test:{os.getpid()}:{time.monotonic_ns()}:"
    schedulers = [Scheduler(timezone=UTC, clock=c, lock=lk, lock_prefix=prefix) for c, lk in zip(clocks, locks,
                                                                                             strict=True)]
    for name, scheduler in zip("ab", schedulers, strict=True):
        scheduler.add_job(lambda n=name: runs.append((n, current_fire_time())), "interval", seconds=10, id="shared")
        scheduler.start()
    try:
        for step in range(1, 11):
            for clock in clocks:
                clock.advance(10)
            deadline = time.monotonic() + 5
            while len(runs) < step and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # give a second (wrong) run the chance to show up
        fire_times = Counter(when for _, when in runs)
        # epoch-anchored: whole multiples of 10 s, the same in both processes
        assert sorted(fire_times) == [T0 + timedelta(seconds=10 * s) for s in range(1, 11)]
        assert set(fire_times.values()) == {1}
        keys = await locks[0]._client.keys(f"{prefix}*")
        assert len(keys) == 10
        ttls = [await locks[0]._client.pttl(k) for k in keys]
        assert all(0 < ttl <= 60_000 for ttl in ttls)  # claims expire by themselves
    finally:
        for scheduler in schedulers:
            await scheduler.shutdown(2)
        for lock in locks:
            await lock.close()


async def test_lock_store_down_skips_runs_with_one_warning(redis_service: Any) -> None:
    from loguru import logger

    warnings: list[str] = []
    sink = logger.add(lambda m: warnings.append(m.record["message"]), level="WARNING")
    clock = ManualClock(T0)
    lock = RedisFireLock(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    scheduler = Scheduler(timezone=UTC, clock=clock, lock=lock)
    runs: list[int] = []
    scheduler.add_job(lambda: runs.append(1), "interval", seconds=1, id="x")
    scheduler.start()
    try:
        for _ in range(3):
            clock.advance(1)
            deadline = time.monotonic() + 10
            while not any("task lock unavailable" in w for w in warnings) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert runs == []
        assert sum("task lock unavailable" in w for w in warnings) == 1
    finally:
        logger.remove(sink)
        await scheduler.shutdown(2)
        await lock.close()


# ---------------------------------------------------------------- patera run --workers 3

LOCK_APP = '''
import os, signal
from patera import Patera, app, BaseConfig
from patera.task_manager import TaskManager, schedule_job, current_fire_time

LOG = os.environ["LOCK_TEST_LOG"]
RUNNING = []
DIE = []


def write(line):
    with open(LOG, "a") as fh:
        fh.write(line + "\\n")


def die():
    write(f"dying {RUNNING[-1] if RUNNING else '-'} {os.getpid()}")
    os._exit(0)  # abrupt: no shutdown, no lock release; hypercorn replaces a worker exiting 0


def on_signal(signum, frame):
    if RUNNING:
        die()
    DIE.append(1)  # between runs: die as soon as the next fire time has been claimed


class Ticker(TaskManager):
    @schedule_job("interval", seconds=1, id="tick")
    async def tick(self):
        stamp = int(current_fire_time().timestamp())
        RUNNING.append(stamp)
        if DIE:
            die()
        write(f"start {stamp} {os.getpid()}")
        await __import__("asyncio").sleep(0.4)
        write(f"end {stamp} {os.getpid()}")
        RUNNING.remove(stamp)


signal.signal(signal.SIGUSR1, on_signal)
ticker = Ticker()


class Config(BaseConfig):
    APP_NAME = "lock-test"
    VERSION = "1"
    BASE_PATH = "."
    ACCESS_LOG = False
    EXTENSIONS = ["lockapp:ticker"]
    TASK_MANAGER = {"LOCK_URL": os.environ["LOCK_TEST_REDIS"], "LOCK_KEY_PREFIX": os.environ["LOCK_TEST_PREFIX"]}


@app(__name__, configs=Config)
class App(Patera):
    pass
'''


def _lines(log: Path) -> list[tuple[str, int, int]]:
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        kind, stamp, pid = line.split()
        out.append((kind, -1 if stamp == "-" else int(stamp), int(pid)))
    return out


def _running_worker(log: Path, timeout: float = 5.0) -> int | None:
    """The pid of a worker that has started a run and not finished it yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = _lines(log)
        ended = {(s, p) for k, s, p in lines if k == "end"}
        running = [(s, p) for k, s, p in lines if k == "start" and (s, p) not in ended]
        if running:
            return max(running)[1]
        time.sleep(0.01)
    return None


def _wait_for(condition: Any, timeout: float, what: str, proc: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"server exited ({proc.returncode}) while waiting for {what}:\n{output.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}:\n{output.read_text()[-3000:]}")
        time.sleep(0.05)


def test_three_workers_run_each_fire_time_once_and_survive_a_dead_worker(
    redis_service: Any, tmp_path: Path
) -> None:
    (tmp_path / "lockapp.py").write_text(LOCK_APP)
    log, output = tmp_path / "runs.log", tmp_path / "server.out"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}", "PYTHONUNBUFFERED": "1",
           "LOCK_TEST_LOG": str(log), "LOCK_TEST_REDIS": redis_service.url,
           "LOCK_TEST_PREFIX": f"lock-test:{os.getpid()}:{time.monotonic_ns()}:"}
    with output.open("w") as out:
        proc = subprocess.Popen(
            [PATERA, "run", "--app", "lockapp:App", "--port", str(free_port()), "--workers", "3"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        def started() -> list[int]:
            return [stamp for kind, stamp, _ in _lines(log) if kind == "start"]

        _wait_for(lambda: len(set(started())) >= 22 and len({p for _, _, p in _lines(log)}) >= 1, 90,
                  "22 fire times", proc, output)
        first_phase = Counter(started())
        stamps = sorted(first_phase)
        # every fire time between the first and the last seen ran exactly once, in some worker
        assert stamps == list(range(stamps[0], stamps[-1] + 1)), f"gaps: {stamps}"
        assert set(first_phase.values()) == {1}, f"run twice: {[s for s, n in first_phase.items() if n > 1]}"
        workers = {pid for kind, _, pid in _lines(log) if kind == "start"}

        # Kill a worker while it runs a fire time it has claimed (a run lasts 0.4 s; if the signal
        # lands between runs, the worker dies right after claiming its next fire time instead).
        victim = _running_worker(log) or max((ln for ln in _lines(log) if ln[0] == "start"), key=lambda ln: ln[1])[2]
        os.kill(victim, signal.SIGUSR1)
        _wait_for(lambda: any(k == "dying" and p == victim for k, _, p in _lines(log)), 30, "the victim to die",
                  proc, output)
        died_at = time.monotonic()
        dying_stamp = next(s for k, s, p in _lines(log) if k == "dying" and p == victim)
        after_death = max(dying_stamp, stamps[-1])
        _wait_for(lambda: any(s > after_death for s in started()), 10, "firing to resume after the worker died",
                  proc, output)
        resumed_after = time.monotonic() - died_at
        _wait_for(lambda: len([s for s in started() if s > after_death]) >= 3, 15,
                  "three more fire times", proc, output)
        final = Counter(started())
        assert set(final.values()) == {1}, f"run twice: {[s for s, n in final.items() if n > 1]}"
        missing = set(range(stamps[0], max(final) + 1)) - set(final) - {dying_stamp}
        assert not missing, f"fire times nobody ran: {sorted(missing)}"
        # the fire time the victim held was not run again by anyone else
        assert all(p == victim for k, s, p in _lines(log) if k == "start" and s == dying_stamp)
        print(f"workers seen before the kill: {len(workers)}; fire times checked: {len(stamps)}; "
              f"next run {resumed_after:.1f}s after the kill; fire times checked in all: {len(final)}")
        assert resumed_after < 10
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        # Workers whose supervisor died must not outlive the test; a pid is only ours if the
        # process still carries this test's unique environment value (pids get reused).
        for pid in {p for _, _, p in _lines(log)}:
            try:
                ours = env["LOCK_TEST_PREFIX"].encode() in Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if ours:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


FAILING_APP = '''
from patera import Patera, app, BaseConfig, BaseExtension
from patera.task_manager import TaskManager


class Exploder(BaseExtension):
    def init_app(self, app):
        app.add_on_startup_method(self.boom)

    async def boom(self):
        raise RuntimeError("startup exploded on purpose")


scheduler = TaskManager()
exploder = Exploder()


class Config(BaseConfig):
    APP_NAME = "failing"
    VERSION = "1"
    BASE_PATH = "."
    ACCESS_LOG = False
    EXTENSIONS = ["failapp:scheduler", "failapp:exploder"]


@app(__name__, configs=Config)
class App(Patera):
    pass
'''


def test_run_with_workers_exits_non_zero_when_every_worker_fails_at_startup(tmp_path: Path) -> None:
    (tmp_path / "failapp.py").write_text(FAILING_APP)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [PATERA, "run", "--app", "failapp:App", "--port", str(free_port()), "--workers", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode != 0
    assert "startup exploded on purpose" in done.stderr
    assert "a worker exited with status 1" in done.stderr
    # the task manager ran its startup hook first and said what two workers without a lock mean
    assert "each worker runs its own schedule" in done.stderr
