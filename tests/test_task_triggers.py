"""Fire-time arithmetic of the task manager's triggers, checked against croniter and by hand."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from patera.task_manager import CronTrigger, DateTrigger, IntervalTrigger
from patera.task_manager._triggers import EPOCH, build_trigger

LJUBLJANA = ZoneInfo("Europe/Ljubljana")
START = datetime(2026, 1, 30, 13, 7, 41, 250_000, tzinfo=UTC)
STEPS = 25


def trigger(kind: str, tz: object = UTC, now: datetime = START, epoch: bool = False, **options: object):  # type: ignore[no-untyped-def]
    return build_trigger(kind, dict(options), default_timezone=tz, now=now, epoch_anchor=epoch)  # type: ignore[arg-type]


def sequence(trig, start: datetime, count: int = STEPS) -> list[datetime]:  # type: ignore[no-untyped-def]
    out, when = [], start
    for _ in range(count):
        when = trig.next_fire_time(when)
        assert when is not None
        out.append(when)
    return out


def reference(expr: str, start: datetime, tz: object = UTC, count: int = STEPS) -> list[datetime]:
    it = croniter(expr, start.astimezone(tz))  # type: ignore[arg-type]
    return [it.get_next(datetime).astimezone(UTC) for _ in range(count)]


# ---------------------------------------------------------------- crontab strings vs croniter

_MINUTES = ["*", "*/5", "0", "15,45", "10-20", "10-40/7", "59", "5/20", "0-59/30"]
_HOURS = ["*", "0", "*/6", "9-17", "1,13,23", "22-23", "8-18/5"]
_DAYS = ["*", "1", "15", "*/10", "28-31", "13", "1,15", "31"]
_MONTHS = ["*", "1", "2", "jan-mar", "*/4", "6,12", "feb", "sep-dec/2"]
_WEEKDAYS = ["*", "0", "1-5", "sat,sun", "7", "mon", "fri", "2-4", "*/2"]


def _croniter_agrees(expr: str) -> bool:
    # croniter ORs the two day fields whenever neither is exactly "*"; cron's man page (and
    # patera) only when neither *starts* with "*", so "*/10" + "mon" differ. Tested below.
    _, _, day, month, weekday = expr.split()
    if day == "31" and weekday == "*" and month in ("2", "feb", "sep-dec/2"):
        return False  # never fires: croniter gives up with an error, patera returns None (tested below)
    both_restricted = day != "*" and weekday != "*"
    return not (both_restricted and (day.startswith("*") or weekday.startswith("*")))


def _crontab_cases(count: int) -> list[str]:
    rng = random.Random(20260130)
    cases = {"* * * * *", "0 0 * * *", "0 0 29 2 *", "0 12 * * 1-5", "30 2 * * 0", "0 0 1 1 *"}
    while len(cases) < count:
        expr = " ".join(rng.choice(options) for options in (_MINUTES, _HOURS, _DAYS, _MONTHS, _WEEKDAYS))
        if _croniter_agrees(expr):
            cases.add(expr)
    return sorted(cases)


@pytest.mark.parametrize("expr", _crontab_cases(300))
def test_crontab_matches_croniter(expr: str) -> None:
    assert sequence(trigger("cron", crontab=expr), START) == reference(expr, START)


@pytest.mark.parametrize("expr", ["0 9 * * 1-5", "*/15 8-18 * * *", "0 0 1 * *", "45 23 * * sun"])
def test_crontab_in_a_zone_without_dst(expr: str) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    assert sequence(trigger("cron", tz=tokyo, crontab=expr), START) == reference(expr, START, tokyo)


# ---------------------------------------------------------------- keyword fields vs croniter


def _aps_to_cron_weekday(expr: str) -> str:
    """APScheduler numbering (0 = Monday) → cron numbering (0 = Sunday), for plain numbers."""
    return ",".join(str((int(v) + 1) % 7) for v in expr.split(","))


_FIELD_CASES = [
    # (keyword fields, equivalent 6-field croniter expression "m h dom mon dow s")
    ({"second": "*/15"}, "* * * * * */15"),
    ({"second": "0,30", "minute": "*/2"}, "*/2 * * * * 0,30"),
    ({"minute": "*/5"}, "*/5 * * * * 0"),
    ({"hour": 3}, "0 3 * * * 0"),
    ({"hour": "9-17", "minute": 30}, "30 9-17 * * * 0"),
    ({"day": 1, "hour": 0}, "0 0 1 * * 0"),
    ({"day": "*/7"}, "0 0 */7 * * 0"),
    ({"month": "jan,jul"}, "0 0 1 1,7 * 0"),
    ({"month": "2", "day": "last" if False else 28}, "0 0 28 2 * 0"),
]
for _dow in ["0", "4", "6", "0,2,4", "5,6"]:
    _FIELD_CASES.append(({"day_of_week": _dow, "hour": 7}, f"0 7 * * {_aps_to_cron_weekday(_dow)} 0"))
for _dow, _cron in [("mon-fri", "1-5"), ("sat,sun", "6,0"), ("0-2", "1-3"), ("*/2", "1,3,5,0")]:
    _FIELD_CASES.append(({"day_of_week": _dow, "minute": 15, "hour": "*/3"}, f"15 */3 * * {_cron} 0"))
for _second in ["5", "*/20", "10-50/10"]:
    for _minute in ["*", "0", "*/10", "7,37"]:
        for _hour in ["*", "12", "*/8"]:
            _FIELD_CASES.append(
                ({"second": _second, "minute": _minute, "hour": _hour}, f"{_minute} {_hour} * * * {_second}")
            )


@pytest.mark.parametrize(("fields", "expr"), _FIELD_CASES, ids=[e for _, e in _FIELD_CASES])
def test_keyword_fields_match_croniter(fields: dict[str, object], expr: str) -> None:
    assert sequence(trigger("cron", **fields), START) == reference(expr, START)


def test_week_and_year_fields() -> None:
    fires = sequence(trigger("cron", year=2026, week=10, hour=6), START, 7)
    assert [f.date().isoformat() for f in fires] == [f"2026-03-0{d}" for d in range(2, 9)]
    assert all(f.isocalendar().week == 10 and f.hour == 6 for f in fires)
    assert trigger("cron", year=2026, week=10, hour=6).next_fire_time(fires[-1]) is None


@pytest.mark.parametrize(("expr", "weekdays_or_days"), [
    ("0 0 1,15 * mon", "or"),  # both restricted: the 1st, the 15th and every Monday
    ("0 0 */10 * mon", "and"),  # "*/10" starts with "*": only Mondays that are the 1st/11th/21st/31st
    ("0 0 1,15 * */2", "and"),
])
def test_crontab_day_fields_follow_the_cron_man_page(expr: str, weekdays_or_days: str) -> None:
    fires = sequence(trigger("cron", crontab=expr), START, 40)
    day_set = {1, 15} if "1,15" in expr else {1, 11, 21, 31}
    weekday_set = {0} if "mon" in expr else {6, 1, 3, 5}  # cron */2 = Sun, Tue, Thu, Sat
    for fire in fires:
        in_days, in_weekdays = fire.day in day_set, fire.weekday() in weekday_set
        assert (in_days or in_weekdays) if weekdays_or_days == "or" else (in_days and in_weekdays)
    if weekdays_or_days == "or":
        assert any(f.day not in day_set for f in fires) and any(f.weekday() not in weekday_set for f in fires)


def test_day_of_week_zero_is_monday_in_fields_and_sunday_in_crontab() -> None:
    assert trigger("cron", day_of_week=0).next_fire_time(START).weekday() == 0  # type: ignore[union-attr]
    assert trigger("cron", crontab="0 0 * * 0").next_fire_time(START).weekday() == 6  # type: ignore[union-attr]
    assert trigger("cron", crontab="0 0 * * 7").next_fire_time(START).weekday() == 6  # type: ignore[union-attr]


# ---------------------------------------------------------------- interval


_INTERVALS = [
    {"seconds": 1}, {"seconds": 7}, {"seconds": 0.25}, {"minutes": 1}, {"minutes": 13}, {"hours": 1},
    {"hours": 5, "minutes": 30}, {"days": 1}, {"days": 3, "seconds": 11}, {"weeks": 1}, {"weeks": 2, "hours": 1},
]
_ANCHORS = [START, datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2026, 3, 29, 0, 30, tzinfo=LJUBLJANA)]


def _interval_reference(anchor: datetime, interval: timedelta, after: datetime, count: int) -> list[datetime]:
    step = round(interval.total_seconds() * 1_000_000)
    base = round(anchor.timestamp() * 1_000_000)
    k = max(1, (round(after.timestamp() * 1_000_000) - base) // step + 1)
    return [datetime.fromtimestamp((base + (k + i) * step) / 1_000_000, UTC) for i in range(count)]


@pytest.mark.parametrize("anchor", _ANCHORS, ids=lambda a: a.isoformat())
@pytest.mark.parametrize("amounts", _INTERVALS, ids=lambda a: ",".join(f"{k}={v}" for k, v in a.items()))
@pytest.mark.parametrize("offset_s", [0, 1, 86_400 * 3 + 17])
def test_interval_sequence(anchor: datetime, amounts: dict[str, float], offset_s: int) -> None:
    trig = trigger("interval", start_date=anchor, **amounts)
    after = anchor + timedelta(seconds=offset_s)
    assert sequence(trig, after) == _interval_reference(anchor, timedelta(**amounts), after, STEPS)


def test_interval_first_run_is_one_interval_after_now() -> None:
    assert trigger("interval", minutes=1).next_fire_time(START) == START + timedelta(minutes=1)


@pytest.mark.parametrize("seconds", [1, 7, 60, 3600])
def test_interval_epoch_anchor_gives_whole_multiples(seconds: int) -> None:
    trig = trigger("interval", epoch=True, seconds=seconds)
    assert isinstance(trig, IntervalTrigger) and trig.anchor == EPOCH
    for fire in sequence(trig, START, 5):
        assert (fire - EPOCH) % timedelta(seconds=seconds) == timedelta(0)
        assert fire > START


def test_start_and_end_dates() -> None:
    end = START + timedelta(minutes=3)
    trig = trigger("interval", minutes=1, start_date=START, end_date=end)
    assert sequence(trig, START, 3) == [START + timedelta(minutes=m) for m in (1, 2, 3)]
    assert trig.next_fire_time(end) is None
    begin = datetime(2026, 6, 1, tzinfo=UTC)
    cron = trigger("cron", crontab="0 0 * * *", start_date=begin, end_date=begin + timedelta(days=2))
    assert sequence(cron, START, 3) == [begin + timedelta(days=d) for d in range(3)]
    assert cron.next_fire_time(begin + timedelta(days=2)) is None


def test_date_trigger_fires_once_at_its_date_in_the_zone() -> None:
    trig = trigger("date", tz=LJUBLJANA, run_date="2026-07-01 08:00:00")
    assert isinstance(trig, DateTrigger)
    assert trig.next_fire_time(START) == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    assert trig.next_fire_time(datetime(2026, 7, 1, 6, 0, tzinfo=UTC)) is None
    assert trigger("date").next_fire_time(START - timedelta(seconds=1)) == START  # default: now


# ---------------------------------------------------------------- DST in Europe/Ljubljana


def _local_fires(expr: str, day_before: tuple[int, int, int], hours: int = 30) -> list[str]:
    start = datetime(*day_before, 20, 0, tzinfo=LJUBLJANA).astimezone(UTC)
    trig = trigger("cron", tz=LJUBLJANA, crontab=expr)
    assert isinstance(trig, CronTrigger)
    out, when = [], start
    while True:
        when = trig.next_fire_time(when)  # type: ignore[assignment]
        if when > start + timedelta(hours=hours):
            return out
        out.append(when.astimezone(LJUBLJANA).strftime("%d %H:%M%z"))


SPRING = (2026, 3, 28)  # clocks go 02:00 → 03:00 on 29 March
AUTUMN = (2026, 10, 24)  # clocks go 03:00 → 02:00 on 25 October


@pytest.mark.parametrize(("day", "expected"), [
    (SPRING, ["28 02:30+0100", "29 03:30+0200", "30 02:30+0200"]),  # the missing 02:30 runs once, after the gap
    (AUTUMN, ["24 02:30+0200", "25 02:30+0200", "26 02:30+0100"]),  # the doubled 02:30 runs once
])
def test_daily_job_inside_the_transition_hour_runs_once_per_day(day: tuple[int, int, int], expected: list[str]) -> None:
    start = datetime(*day, 0, 0, tzinfo=LJUBLJANA).astimezone(UTC)
    assert [f.astimezone(LJUBLJANA).strftime("%d %H:%M%z") for f in sequence(
        trigger("cron", tz=LJUBLJANA, crontab="30 2 * * *"), start, 3)] == expected


def test_hourly_job_on_spring_day_neither_skips_nor_doubles() -> None:
    fires = _local_fires("0 * * * *", SPRING, hours=10)
    assert fires == ["28 21:00+0100", "28 22:00+0100", "28 23:00+0100", "29 00:00+0100", "29 01:00+0100",
                     "29 03:00+0200", "29 04:00+0200", "29 05:00+0200", "29 06:00+0200", "29 07:00+0200"]
    assert len(set(fires)) == len(fires)


def test_hourly_job_on_autumn_day_runs_every_real_hour() -> None:
    fires = _local_fires("0 * * * *", AUTUMN, hours=8)
    assert fires == ["24 21:00+0200", "24 22:00+0200", "24 23:00+0200", "25 00:00+0200", "25 01:00+0200",
                     "25 02:00+0200", "25 02:00+0100", "25 03:00+0100"]


@pytest.mark.parametrize("day", [SPRING, AUTUMN])
def test_every_15_minutes_is_strictly_increasing_without_gaps_longer_than_15(day: tuple[int, int, int]) -> None:
    start = datetime(*day, 20, 0, tzinfo=LJUBLJANA).astimezone(UTC)
    fires = sequence(trigger("cron", tz=LJUBLJANA, crontab="*/15 * * * *"), start, 4 * 30)
    gaps = {b - a for a, b in itertools.pairwise(fires)}
    assert gaps == {timedelta(minutes=15)}


@pytest.mark.parametrize("day", [SPRING, AUTUMN])
def test_daily_job_outside_the_transition_keeps_local_time(day: tuple[int, int, int]) -> None:
    fires = _local_fires("0 9 * * *", day, hours=72)
    assert [f[3:8] for f in fires] == ["09:00"] * 3


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(("kind", "options"), [
    ("weekly", {}),
    ("cron", {"crontab": "* * * *"}),
    ("cron", {"crontab": "61 * * * *"}),
    ("cron", {"crontab": "* * * * 8"}),
    ("cron", {"hour": "25"}),
    ("cron", {"minute": "*/0"}),
    ("cron", {"minute": "30-10"}),
    ("cron", {"month": "foo"}),
    ("cron", {"fortnight": 1}),
    ("cron", {"crontab": "* * * * *", "hour": 1}),
    ("interval", {"minutes": -1}),
    ("interval", {"minute": 1}),
    ("interval", {"seconds": 1, "jitter": -1}),
    ("date", {"run_date": "not a date"}),
    ("cron", {"timezone": "Mars/Olympus"}),
])
def test_bad_trigger_options_raise_value_error(kind: str, options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        trigger(kind, **options)


def test_impossible_date_never_fires() -> None:
    assert trigger("cron", crontab="0 0 31 2 *").next_fire_time(START) is None


@pytest.mark.parametrize("local_start", [
    datetime(2026, 3, 29, 1, 50, tzinfo=LJUBLJANA),  # 10 minutes before the clocks jump
    datetime(2026, 10, 25, 2, 50, tzinfo=LJUBLJANA),  # 10 minutes before the hour repeats
])
def test_second_level_fields_keep_an_even_pace_through_the_transition(local_start: datetime) -> None:
    fires = sequence(trigger("cron", tz=LJUBLJANA, second="*/20"), local_start.astimezone(UTC), 90)
    assert {b - a for a, b in itertools.pairwise(fires)} == {timedelta(seconds=20)}
    assert fires[0] - local_start == timedelta(seconds=20)


def test_a_far_away_start_still_orders_wall_times_around_the_gap() -> None:
    # 02:30 does not exist on 29 March and runs at 03:30 CEST, after the 03:10 run
    trig = trigger("cron", tz=LJUBLJANA, hour="2,3", minute="10,30")
    start = datetime(2026, 3, 28, 12, 0, tzinfo=LJUBLJANA).astimezone(UTC)
    fires = [f.astimezone(LJUBLJANA).strftime("%d %H:%M%z") for f in sequence(trig, start, 7)]
    assert fires == ["29 03:10+0200", "29 03:30+0200", "30 02:10+0200", "30 02:30+0200", "30 03:10+0200",
                     "30 03:30+0200", "31 02:10+0200"]
