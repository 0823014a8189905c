"""Alias of :mod:`patera.task_manager` (the spelling some of the original's docs use)."""

from ..task_manager import (
    Job,
    JobLookupError,
    ManualClock,
    SystemClock,
    TaskManager,
    current_fire_time,
    schedule_job,
)

__all__ = ("Job", "JobLookupError", "ManualClock", "SystemClock", "TaskManager", "current_fire_time", "schedule_job")
