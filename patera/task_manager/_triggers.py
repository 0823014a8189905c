"""Triggers: when a job fires next (``interval``, ``cron``, ``date``).

A trigger answers ``next_fire_time(after)``: the first fire time strictly after ``after``
(an aware datetime), or ``None`` when it will never fire again. Fire times are nominal;
jitter is added by the scheduler, so every process agrees on them.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._cron import CronSpec, cron_spec_from_crontab, cron_spec_from_fields

__all__ = (
    "EPOCH",
    "CronTrigger",
    "DateTrigger",
    "IntervalTrigger",
    "Trigger",
    "build_trigger",
    "local_timezone",
    "resolve_timezone",
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND = timedelta(seconds=1)
#: Wider than any DST shift, so a search near a transition sees both sides.
_DST_MARGIN = timedelta(hours=3)


def local_timezone() -> tzinfo:
    """The machine's zone as a DST-aware ``ZoneInfo`` (``TZ``, then /etc/localtime), else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    except OSError:
        return UTC


def resolve_timezone(value: str | tzinfo | None) -> tzinfo:
    """An IANA name or ``tzinfo`` → ``tzinfo``; ``None`` → the local zone.

    Raises:
        ValueError: unknown zone name.
    """
    if value is None:
        return local_timezone()
    if isinstance(value, tzinfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc


def to_aware(value: datetime | date | str | None, tz: tzinfo) -> datetime | None:
    """``datetime``/``date``/ISO text → aware datetime; naive values are wall time in ``tz``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    aware = value if value.tzinfo is not None else value.replace(tzinfo=tz)
    # NOTE: kept in UTC: aware datetimes sharing one tzinfo compare and add as wall time.
    return aware.astimezone(UTC)


class Trigger(ABC):
    """Fire-time arithmetic for one job."""

    start_date: datetime | None = None
    end_date: datetime | None = None
    jitter: float | None = None

    @abstractmethod
    def next_fire_time(self, after: datetime) -> datetime | None:
        """The first fire time strictly after ``after``."""

    def period_hint(self) -> timedelta:
        """Roughly the gap between fire times (sizes lock lifetimes)."""
        return timedelta(days=1)

    def _within_end(self, when: datetime | None) -> datetime | None:
        if when is None or (self.end_date is not None and when > self.end_date):
            return None
        return when


class IntervalTrigger(Trigger):
    """Every ``interval`` from an anchor; the first run is one interval after the anchor."""

    def __init__(
        self,
        interval: timedelta,
        anchor: datetime,
        *,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        jitter: float | None = None,
    ) -> None:
        if interval <= timedelta(0):
            raise ValueError("interval must be positive")
        self.interval = interval
        self.anchor = anchor.astimezone(UTC)
        self.start_date = start_date
        self.end_date = end_date
        self.jitter = jitter

    def next_fire_time(self, after: datetime) -> datetime | None:
        # PERF: integer microseconds, so fire times never drift however many intervals pass
        step = self.interval // timedelta(microseconds=1)
        elapsed = (after - self.anchor) // timedelta(microseconds=1)
        count = max(1, elapsed // step + 1)
        return self._within_end(self.anchor + timedelta(microseconds=count * step))

    def period_hint(self) -> timedelta:
        return self.interval

    def __repr__(self) -> str:
        return f"IntervalTrigger(interval={self.interval}, anchor={self.anchor.isoformat()})"


class CronTrigger(Trigger):
    """Wall-clock schedule in ``timezone``; each matching wall time fires once.

    Around DST: a wall time that does not exist (spring forward) fires at the same offset
    after the gap (02:30 → 03:30); a wall time that occurs twice (fall back) fires at its
    first occurrence only, except that a schedule covering every hour fires in both copies
    of the repeated hour, so an hourly or per-minute job keeps running through it.
    """

    def __init__(
        self,
        spec: CronSpec,
        timezone: tzinfo,
        *,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        jitter: float | None = None,
    ) -> None:
        self.spec = spec
        self.timezone = timezone
        self.start_date = start_date
        self.end_date = end_date
        self.jitter = jitter

    def _instants(self, wall: datetime) -> list[datetime]:
        first = wall.replace(tzinfo=self.timezone, fold=0)
        second = wall.replace(tzinfo=self.timezone, fold=1)
        if first.utcoffset() == second.utcoffset():
            return [first.astimezone(UTC)]
        round_trip = first.astimezone(UTC).astimezone(self.timezone).replace(tzinfo=None)
        if round_trip != wall:
            return [first.astimezone(UTC)]  # in the gap: fold=0 reads it with the offset before the change
        both = [first.astimezone(UTC), second.astimezone(UTC)]
        return both if self.spec.every_hour else both[:1]

    def _offsets_around(self, when: datetime) -> tuple[timedelta, timedelta]:
        before = (when - _DST_MARGIN).astimezone(self.timezone).utcoffset() or timedelta(0)
        after = (when + _DST_MARGIN).astimezone(self.timezone).utcoffset() or timedelta(0)
        return before, after

    def _first_in_wall_order(self, after: datetime) -> datetime | None:
        for wall in self.spec.walls_from(after.astimezone(self.timezone).replace(tzinfo=None)):
            instant = self._instants(wall)[0]
            if instant > after:
                return instant
            if self.end_date is not None and instant > self.end_date:
                return None
        return None

    def next_fire_time(self, after: datetime) -> datetime | None:
        if self.start_date is not None and after < self.start_date:
            after = self.start_date - timedelta(microseconds=1)
        after = after.astimezone(UTC)
        near_after = self._offsets_around(after)
        if near_after[0] == near_after[1]:
            # PERF: away from an offset change wall order is instant order, so the first
            # matching wall time wins, unless the answer itself lies next to a change.
            candidate = self._first_in_wall_order(after)
            if candidate is None:
                return None
            near_candidate = self._offsets_around(candidate)
            if near_candidate[0] == near_candidate[1]:
                return self._within_end(candidate)
            offsets = [*near_after, *near_candidate]
        else:
            offsets = list(near_after)
        # Near a change a wall time w fires somewhere between w - max offset and
        # w - min offset, which bounds the wall times that can hold the answer.
        low, high = min(offsets), max(offsets)
        naive_after = after.replace(tzinfo=None)
        best: datetime | None = None
        for wall in self.spec.walls_from(naive_after + low):
            if best is not None and wall - high >= best.replace(tzinfo=None):
                break
            for instant in self._instants(wall):
                if instant > after and (best is None or instant < best):
                    best = instant
            if best is None and self.end_date is not None and wall - high > self.end_date.replace(tzinfo=None):
                break
        return self._within_end(best)

    def period_hint(self) -> timedelta:
        return self.spec.period_hint()

    def __repr__(self) -> str:
        return f"CronTrigger({self.spec.source!r}, timezone={self.timezone})"


class DateTrigger(Trigger):
    """Fires once at ``run_date``."""

    def __init__(self, run_date: datetime) -> None:
        self.run_date = run_date.astimezone(UTC)

    def next_fire_time(self, after: datetime) -> datetime | None:
        return self.run_date if self.run_date > after else None

    def __repr__(self) -> str:
        return f"DateTrigger({self.run_date.isoformat()})"


_INTERVAL_KEYS = ("weeks", "days", "hours", "minutes", "seconds")
_CRON_KEYS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")


def build_trigger(
    trigger: str | Trigger | None,
    options: dict[str, Any],
    *,
    default_timezone: tzinfo,
    now: datetime,
    epoch_anchor: bool,
) -> Trigger:
    """A trigger from APScheduler-style ``trigger`` + keyword options (consumed).

    Raises:
        ValueError: unknown trigger, unknown option or a bad value.
    """
    if isinstance(trigger, Trigger):
        if options:
            raise ValueError(f"unexpected trigger options with a Trigger object: {', '.join(sorted(options))}")
        return trigger
    kind = trigger or "date"
    tz = resolve_timezone(options.pop("timezone", None) or default_timezone)
    start_date = to_aware(options.pop("start_date", None), tz)
    end_date = to_aware(options.pop("end_date", None), tz)
    jitter = options.pop("jitter", None)
    if jitter is not None and float(jitter) < 0:
        raise ValueError("jitter must not be negative")
    jitter = None if jitter is None else float(jitter)
    if kind == "interval":
        amounts = {key: options.pop(key) for key in _INTERVAL_KEYS if key in options}
        _reject_unknown(kind, options)
        interval = timedelta(**{k: float(v) for k, v in amounts.items()})
        if interval <= timedelta(0):
            interval = timedelta(seconds=1) if not amounts else interval
        if interval <= timedelta(0):
            raise ValueError("interval trigger needs a positive weeks/days/hours/minutes/seconds")
        anchor = start_date if start_date is not None else (EPOCH if epoch_anchor else now)
        return IntervalTrigger(interval, anchor, start_date=start_date, end_date=end_date, jitter=jitter)
    if kind == "cron":
        crontab = options.pop("crontab", None)
        fields = {key: options.pop(key) for key in _CRON_KEYS if key in options}
        _reject_unknown(kind, options)
        if crontab is not None:
            if fields:
                raise ValueError("give either crontab= or cron fields, not both")
            spec = cron_spec_from_crontab(str(crontab))
        else:
            spec = cron_spec_from_fields(**fields)
        return CronTrigger(spec, tz, start_date=start_date, end_date=end_date, jitter=jitter)
    if kind == "date":
        run_date = to_aware(options.pop("run_date", None), tz) or now
        _reject_unknown(kind, options)
        return DateTrigger(run_date)
    raise ValueError(f"unknown trigger {kind!r}: use 'interval', 'cron' or 'date'")


def _reject_unknown(kind: str, options: dict[str, Any]) -> None:
    if options:
        raise ValueError(f"unknown option(s) for the {kind!r} trigger: {', '.join(sorted(options))}")
