"""Task scheduling (SPEC §17.3): an in-house asyncio scheduler behind ``TaskManager``.

``from patera.task_manager import TaskManager, schedule_job``. Standard library only;
``LOCK_URL`` (one run per fire time across processes) needs redis, from ``patera[cache]``.
"""

from ._clock import ManualClock, SystemClock
from ._extension import TaskManager, schedule_job
from ._scheduler import Job, JobLookupError, Scheduler, current_fire_time
from ._triggers import CronTrigger, DateTrigger, IntervalTrigger, Trigger

__all__ = (
    "CronTrigger",
    "DateTrigger",
    "IntervalTrigger",
    "Job",
    "JobLookupError",
    "ManualClock",
    "Scheduler",
    "SystemClock",
    "TaskManager",
    "Trigger",
    "current_fire_time",
    "schedule_job",
)
