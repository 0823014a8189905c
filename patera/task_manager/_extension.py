"""``TaskManager``: the scheduler as a patera extension (SPEC §17.3).

Subclass it, mark methods with ``@schedule_job(...)``, list the instance in ``EXTENSIONS``.
The scheduler starts on lifespan startup (then the marked methods are added as jobs) and
stops on shutdown.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from loguru import logger
from pydantic import BaseModel, ConfigDict

from .._background import run_in_background
from ..extension import AppLike, BaseExtension, resolve_configs
from ._clock import Clock
from ._lock import RedisFireLock
from ._scheduler import Job, Scheduler
from ._triggers import Trigger, resolve_timezone

__all__ = ("TaskManager", "schedule_job")

F = TypeVar("F", bound=Callable[..., Any])
_JOBS_ATTR = "__patera_scheduled_jobs__"
#: Set by ``patera run`` for its workers, so the extension can say what several of them mean.
WORKERS_ENV = "PATERA_WORKERS"
_SHUTDOWN_WAIT = 5.0


def schedule_job(trigger: str | Trigger, **options: Any) -> Callable[[F], F]:
    """Mark a ``TaskManager`` method to run as a job, e.g. ``@schedule_job("interval", minutes=1)``.

    ``options`` are those of :meth:`TaskManager.add_job` (``id``, ``name``, trigger fields...).
    """

    def mark(fn: F) -> F:
        marks = list(getattr(fn, _JOBS_ATTR, ()))
        marks.append((trigger, dict(options)))
        setattr(fn, _JOBS_ATTR, marks)
        return fn

    return mark


class _TaskManagerConfig(BaseModel):
    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    JOB_DEFAULTS: dict[str, Any] = {"coalesce": False, "max_instances": 3}
    TIMEZONE: Any = None
    NICE_NAME: str = "Task manager"
    DAEMON: bool = True
    LOCK_URL: str | None = None
    LOCK_KEY_PREFIX: str = "patera:task_manager:"


_IGNORED_KEYS = ("JOB_STORES", "EXECUTORS", "SCHEDULER")


class TaskManager(BaseExtension):
    """Runs scheduled jobs in the app's event loop.

    Args:
        configs_name: the config dict (and flat-key prefix) to read.
        clock: time source; tests pass a ``ManualClock``.
    """

    def __init__(self, configs_name: str = "TASK_MANAGER", *, clock: Clock | None = None) -> None:
        self._configs_name = configs_name
        self._clock = clock
        self._scheduler: Scheduler | None = None
        self._lock: RedisFireLock | None = None

    def init_app(self, app: AppLike) -> None:
        raw = resolve_configs(app, self._configs_name)
        for key in _IGNORED_KEYS:
            if key in raw:
                logger.warning("{}: {} is accepted for compatibility and ignored", self._configs_name, key)
                raw.pop(key)
        self._configs = self.validate_configs(raw, _TaskManagerConfig)
        timezone = resolve_timezone(self._configs["TIMEZONE"])
        if self._configs["LOCK_URL"]:
            self._lock = RedisFireLock(self._configs["LOCK_URL"])
        self._scheduler = Scheduler(
            timezone=timezone,
            job_defaults=self._configs["JOB_DEFAULTS"],
            clock=self._clock,
            lock=self._lock,
            lock_prefix=self._configs["LOCK_KEY_PREFIX"],
        )
        self._app = app
        app.add_extension(self)
        app.add_on_startup_method(self._start)
        app.add_on_shutdown_method(self._stop)

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            raise RuntimeError(f"{type(self).__name__} is not initialised: call init_app(app) first")
        return self._scheduler

    # ------------------------------------------------------------------ lifespan

    async def _start(self) -> None:
        scheduler = self.scheduler
        workers = int(os.environ.get(WORKERS_ENV, "1") or 1)
        if self._lock is None and workers > 1:
            logger.info(
                "{}: {} workers and no LOCK_URL, so each worker runs its own schedule "
                "(set {}_LOCK_URL to a Redis URL to run each job once)",
                self.nice_name, workers, self._configs_name,
            )
        scheduler.start()
        for name in dir(type(self)):
            member = getattr(type(self), name, None)
            for trigger, options in getattr(member, _JOBS_ATTR, ()):
                opts = dict(options)
                opts.setdefault("replace_existing", True)
                scheduler.add_job(getattr(self, name), trigger, **opts)

    async def _stop(self) -> None:
        await self.scheduler.shutdown(_SHUTDOWN_WAIT)
        if self._lock is not None:
            await self._lock.close()

    # ------------------------------------------------------------------ public API

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
        """Schedule ``func`` (APScheduler's ``add_job`` signature).

        Raises:
            ValueError: unknown trigger or option, or a duplicate ``id`` without ``replace_existing``.
        """
        return self.scheduler.add_job(
            func, trigger, args, kwargs, id, name, coalesce=coalesce, max_instances=max_instances,
            replace_existing=replace_existing, next_run_time=next_run_time, **trigger_args,
        )

    def remove_job(self, job: str | Job, job_store: str | None = None) -> None:
        """Raises ``JobLookupError`` for an unknown id."""
        self.scheduler.remove_job(job, job_store)

    def pause_job(self, job: str | Job) -> Job:
        return self.scheduler.pause_job(job)

    def resume_job(self, job: str | Job) -> Job:
        return self.scheduler.resume_job(job)

    def get_job(self, job_id: str) -> Job | None:
        return self.scheduler.get_job(job_id)

    @property
    def jobs(self) -> dict[str, Job]:
        return dict(self.scheduler.jobs)

    def pause_scheduler(self) -> None:
        self.scheduler.pause()

    def resume_scheduler(self) -> None:
        self.scheduler.resume()

    def run_background_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        """Fire and forget ``func(*args, **kwargs)``; failures are logged."""
        return run_in_background(func, *args, **kwargs)
