"""Cron expressions: field parsing and "next wall-clock time that matches".

Two spellings share one matcher. Keyword fields follow APScheduler (``day_of_week`` 0 =
Monday, every given field must match). ``crontab="m h dom mon dow"`` strings follow cron
(0 and 7 = Sunday; when both day-of-month and day-of-week are restricted, a day matching
either one fires), so a line copied from a crontab means what it meant there.

This module knows nothing about time zones: it walks naive wall-clock times. Turning them
into instants (and DST gaps/folds) is the trigger's job.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

__all__ = ("FIELD_NAMES", "CronSpec", "cron_spec_from_crontab", "cron_spec_from_fields", "parse_field")

FIELD_NAMES = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
_BOUNDS = {
    "year": (1970, 2999),
    "month": (1, 12),
    "day": (1, 31),
    "week": (1, 53),
    "day_of_week": (0, 6),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}
_MONTH_NAMES = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_APS_DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_CRON_DAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
# APScheduler fills fields below the least significant given one with these (above it: "*").
_DEFAULTS = {"year": "*", "month": "1", "day": "1", "week": "*", "day_of_week": "*",
             "hour": "0", "minute": "0", "second": "0"}
_PART_RE = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/(\d+))?$")
#: How far ahead a search for a matching day goes before giving up (e.g. "31 February").
_SEARCH_YEARS = 30


def _value(token: str, names: Mapping[str, int], field: str) -> int:
    if token.isdigit():
        return int(token)
    if token in names:
        return names[token]
    raise ValueError(f"invalid value {token!r} in cron field {field!r}")


def parse_field(
    expr: str | int, field: str, lo: int, hi: int, names: Mapping[str, int] | None = None
) -> frozenset[int]:
    """The values ``expr`` selects: ``*``, ``*/n``, ``a``, ``a-b``, ``a-b/n``, ``a/n``, lists.

    Raises:
        ValueError: unparseable text or a value outside ``lo..hi``.
    """
    text = str(expr).strip().lower()
    if not text:
        raise ValueError(f"empty cron field {field!r}")
    selected: set[int] = set()
    for part in text.split(","):
        match = _PART_RE.match(part.strip())
        if match is None:
            raise ValueError(f"invalid cron field {field!r}: {expr!r}")
        star, first, last, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step must be at least 1 in cron field {field!r}: {expr!r}")
        if star:
            start, stop = lo, hi
        else:
            start = _value(first, names or {}, field)
            # "a/n" means from a to the end, stepping n (as cron and APScheduler read it)
            stop = _value(last, names or {}, field) if last else (hi if step_text else start)
        if not (lo <= start <= hi and lo <= stop <= hi):
            raise ValueError(f"cron field {field!r} accepts {lo}..{hi}, got {expr!r}")
        if stop < start:
            raise ValueError(f"cron range {start}-{stop} runs backwards in field {field!r}")
        selected.update(range(start, stop + 1, step))
    return frozenset(selected)


def _is_star(expr: str | int) -> bool:
    # NOTE: cron (Vixie) treats a field as unrestricted when it starts with "*", so "*/2" counts too.
    return str(expr).strip().startswith("*")


@dataclass(frozen=True)
class CronSpec:
    """Allowed values per field; ``days_or`` = cron's "day-of-month OR day-of-week" rule."""

    years: frozenset[int]
    months: tuple[int, ...]
    days: frozenset[int]
    weeks: frozenset[int]
    weekdays: frozenset[int]  # 0 = Monday
    hours: tuple[int, ...]
    minutes: tuple[int, ...]
    seconds: tuple[int, ...]
    days_or: bool = False
    every_hour: bool = False
    source: str = ""

    def day_matches(self, day: date) -> bool:
        if day.isocalendar().week not in self.weeks:
            return False
        dom = day.day in self.days
        dow = day.weekday() in self.weekdays
        return (dom or dow) if self.days_or else (dom and dow)

    def _dates_from(self, start: date) -> Iterator[date]:
        for year in range(start.year, start.year + _SEARCH_YEARS + 1):
            if year not in self.years:
                continue
            for month in self.months:
                if (year, month) < (start.year, start.month):
                    continue
                first = start.day if (year, month) == (start.year, start.month) else 1
                for day_number in range(first, calendar.monthrange(year, month)[1] + 1):
                    day = date(year, month, day_number)
                    if self.day_matches(day):
                        yield day

    def walls_from(self, start: datetime) -> Iterator[datetime]:
        """Matching naive wall-clock times ``>= start`` (whole seconds), ascending."""
        start = start.replace(microsecond=0)
        for day in self._dates_from(start.date()):
            first_day = day == start.date()
            for hour in self.hours[bisect_left(self.hours, start.hour) if first_day else 0:]:
                same_hour = first_day and hour == start.hour
                for minute in self.minutes[bisect_left(self.minutes, start.minute) if same_hour else 0:]:
                    same_minute = same_hour and minute == start.minute
                    for second in self.seconds[bisect_left(self.seconds, start.second) if same_minute else 0:]:
                        yield datetime.combine(day, time(hour, minute, second))

    def period_hint(self) -> timedelta:
        """A rough gap between fire times (used only to size lock lifetimes)."""
        if len(self.seconds) > 1:
            return timedelta(seconds=60 / len(self.seconds))
        if len(self.minutes) > 1:
            return timedelta(minutes=60 / len(self.minutes))
        if len(self.hours) > 1:
            return timedelta(hours=24 / len(self.hours))
        return timedelta(days=1)


def _build(values: Mapping[str, str | int], *, cron_weekdays: bool, days_or: bool, source: str) -> CronSpec:
    sets: dict[str, frozenset[int]] = {}
    for field in FIELD_NAMES:
        lo, hi = _BOUNDS[field]
        names: Mapping[str, int] | None = None
        if field == "month":
            names = _MONTH_NAMES
        elif field == "day_of_week":
            names = _CRON_DAY_NAMES if cron_weekdays else _APS_DAY_NAMES
            if cron_weekdays:
                hi = 7
        parsed = parse_field(values[field], field, lo, hi, names)
        if field == "day_of_week" and cron_weekdays:
            parsed = frozenset((v + 6) % 7 for v in parsed)  # cron 0/7 = Sunday → 6
        sets[field] = parsed
    return CronSpec(
        years=sets["year"],
        months=tuple(sorted(sets["month"])),
        days=sets["day"],
        weeks=sets["week"],
        weekdays=sets["day_of_week"],
        hours=tuple(sorted(sets["hour"])),
        minutes=tuple(sorted(sets["minute"])),
        seconds=tuple(sorted(sets["second"])),
        days_or=days_or,
        every_hour=len(sets["hour"]) == 24,
        source=source,
    )


def cron_spec_from_fields(**fields: Any) -> CronSpec:
    """APScheduler-style keyword fields; unknown names → ``ValueError``."""
    unknown = set(fields) - set(FIELD_NAMES)
    if unknown:
        raise ValueError(f"unknown cron field(s): {', '.join(sorted(unknown))}")
    given = {k: v for k, v in fields.items() if v is not None}
    values: dict[str, str | int] = {}
    remaining = set(given)
    for field in FIELD_NAMES:
        if field in given:
            values[field] = given[field]
            remaining.discard(field)
        else:
            # below the least significant given field → its minimum, above it → any value
            values[field] = _DEFAULTS[field] if not remaining and given else "*"
    if not given:
        values["second"] = "0"
    source = " ".join(f"{k}={given[k]}" for k in FIELD_NAMES if k in given) or "every minute"
    return _build(values, cron_weekdays=False, days_or=False, source=source)


def cron_spec_from_crontab(expr: str) -> CronSpec:
    """A five-field crontab line ``minute hour day month day_of_week`` (cron's own semantics)."""
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError(f"crontab needs 5 fields (minute hour day month day_of_week), got {expr!r}")
    minute, hour, day, month, dow = parts
    values = {"year": "*", "month": month, "day": day, "week": "*", "day_of_week": dow,
              "hour": hour, "minute": minute, "second": "0"}
    days_or = not _is_star(day) and not _is_star(dow)
    return _build(values, cron_weekdays=True, days_or=days_or, source=expr)
