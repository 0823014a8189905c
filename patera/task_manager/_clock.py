"""Clocks the scheduler reads time from and sleeps on.

``SystemClock`` is the real one. ``ManualClock`` only moves when told to, so tests can
step through hours of schedule without waiting.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ("Clock", "ManualClock", "SystemClock")

#: Longest single sleep: wall-clock jumps (NTP, suspend) are noticed within this.
_MAX_NAP = 30.0


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""

    async def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` of this clock's time (or earlier)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(max(seconds, 0.0), _MAX_NAP))


class ManualClock:
    """A clock that stands still until :meth:`advance` or :meth:`set` moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._now + timedelta(seconds=seconds), future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def set(self, when: datetime) -> None:
        self._now = when
        for deadline, future in list(self._sleepers):
            if deadline <= when and not future.done():
                future.set_result(None)

    def advance(self, seconds: float) -> None:
        self.set(self._now + timedelta(seconds=seconds))
