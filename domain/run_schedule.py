"""When a list automation job runs: its schedule checked, and its next runs found. Pure.

The product's two forms (:mod:`schemas.automation`):

- **Options**: every 15 to 60 minutes from a start time (included) up to an end time
  (excluded) on the chosen weekdays, local time in the schedule's zone. 13:00 to 14:00 every
  15 minutes is four runs: 13:00, 13:15, 13:30, 13:45.
- **Crontab string**: five fields, minute (0-59), hour (0-23), day of month (1-31), month
  (1-12) and day of week (0-6, 0 = Sunday), in the schedule's zone, with the document's syntax
  rules: one space between fields; in a field ``*``, or values and ``a-b`` ranges separated by
  commas, with no space around a comma or inside a range. Anything else (steps ``*/5``, names,
  a sixth field, ``7`` for Sunday) is refused by :func:`check` with the field named. When both
  day fields are restricted a run happens on a day either names (cron's rule): the document's
  ``0 3 8 9 2,3`` runs at 03:00 on 8 September and on every Tuesday and Wednesday of September.

**Daylight-saving changes.** Runs are local wall-clock times; each becomes one instant:

- a local time that happens twice (the hour repeated when clocks go back) runs once, at its
  first occurrence;
- a local time that does not exist (the hour skipped when clocks go forward) runs once, at the
  next valid instant (02:30 on a New York spring-forward day runs at 03:00 EDT); several
  skipped times, or a skipped one and the valid time it falls on, make one run;
- nothing else moves, so no run is skipped or doubled.

The arithmetic: croniter (7, with ``zoneinfo`` zones) finds the crontab string's local times and
already runs a skipped time once at the next valid instant; it runs a repeated time twice,
once in each offset, so :func:`runs` keeps only the first. The options form is generated here
with ``zoneinfo``, by the same rules.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from domain.errors import RuleViolation
from schemas.automation import WEEKDAYS, CronSchedule, RunSchedule, ScheduleOptions

# (name in messages, lowest, highest) of each crontab field, in order.
CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 6))
CRON_FIELD = "schedule.cron"
_ITEM = re.compile(r"([0-9]+)(?:-([0-9]+))?")
_LEAP_YEAR = 2024  # February has 29 days in some year: a day of month is possible if it ever comes


def check(schedule: RunSchedule) -> None:
    """Refuse a schedule that breaks a rule, naming the field (:class:`RuleViolation`)."""
    zone(schedule)
    if isinstance(schedule, CronSchedule):
        check_cron(schedule.cron)
        return
    start, end = _minutes(schedule.starts_at, "schedule.starts_at"), _minutes(schedule.ends_at, "schedule.ends_at")
    if end <= start:
        raise RuleViolation(
            f"the schedule ends at {schedule.ends_at}, not after it starts at {schedule.starts_at}",
            field="schedule.ends_at",
        )
    if not schedule.days:
        raise RuleViolation("choose at least one day of the week (or all seven)", field="schedule.days")
    if len(set(schedule.days)) != len(schedule.days):
        raise RuleViolation("a day of the week is named twice", field="schedule.days")


def check_cron(expression: str) -> None:
    """Refuse a crontab string that breaks the document's syntax rules, saying which."""
    if not expression.strip():
        raise RuleViolation("the crontab string is empty: give five fields, * for no specific value", field=CRON_FIELD)
    if re.search(r"\s,|,\s", expression):
        raise RuleViolation(
            f"no space may stand beside a comma in {expression!r}: write 15,30,45, not 15, 30, 45", field=CRON_FIELD
        )
    if re.search(r"\s-|-\s", expression):
        raise RuleViolation(f"no space may stand inside a range in {expression!r}: write 15-30, not 15 - 30", field=CRON_FIELD)
    if re.search(r"[^ \S]", expression) or "  " in expression or expression != expression.strip():
        raise RuleViolation(f"separate the five fields of {expression!r} by one space each", field=CRON_FIELD)
    fields = expression.split(" ")
    if len(fields) != len(CRON_FIELDS):
        raise RuleViolation(
            f"a crontab string has five fields (minute hour day-of-month month day-of-week), each separated "
            f"by one space, * for no specific value (15 * * * *, not 15****); {expression!r} has {len(fields)}",
            field=CRON_FIELD,
        )
    values = [_field_values(text, *spec) for text, spec in zip(fields, CRON_FIELDS, strict=True)]
    days, months, weekdays = values[2], values[3], values[4]
    restricted = weekdays is None and days is not None and months is not None
    if restricted and not any(day <= calendar.monthrange(_LEAP_YEAR, m)[1] for m in months or () for day in days or ()):
        raise RuleViolation(f"{expression!r} never runs: day {fields[2]} never comes in month {fields[3]}", field=CRON_FIELD)


def zone(schedule: RunSchedule) -> ZoneInfo:
    """The schedule's time zone (refused by name when this system does not know it)."""
    try:
        return ZoneInfo(schedule.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleViolation(f"{schedule.time_zone!r} is not a time zone this system knows", field="schedule.time_zone") from None


def runs(schedule: RunSchedule, after: datetime, count: int) -> list[datetime]:
    """The ``count`` first runs strictly after ``after`` (aware), as UTC instants, each local
    time once (module docstring). A checked schedule always has a next run."""
    local_zone = zone(schedule)
    found: list[datetime] = []
    if count <= 0:
        return found
    last = after.astimezone(UTC)
    for instant in _instants(schedule, local_zone, after):
        if instant <= last:  # skipped local times fall on one instant: one run
            continue
        found.append(instant)
        last = instant
        if len(found) == count:
            break
    return found


def next_run(schedule: RunSchedule, after: datetime) -> datetime:
    """The first run strictly after ``after``, as a UTC instant."""
    (first,) = runs(schedule, after, 1)
    return first


# -- the crontab string ------------------------------------------------------------------


def _field_values(text: str, name: str, low: int, high: int) -> set[int] | None:
    """The values a field names (None: ``*``, any)."""
    if text == "*":
        return None
    where = f"the {name} field {text!r}"
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise RuleViolation(f"{where} has an empty value between commas", field=CRON_FIELD)
        if "/" in item:
            raise RuleViolation(
                f"{where}: steps (/) are not supported; list the values (0,15,30,45) or give a range (15-30)",
                field=CRON_FIELD,
            )
        if "*" in item:
            raise RuleViolation(f"{where}: * stands alone in a field, not in a list or a range", field=CRON_FIELD)
        match = _ITEM.fullmatch(item)
        if match is None:
            raise RuleViolation(
                f"{where}: {item!r} is not a number from {low} to {high}, a range of them (such as {low}-{high}) or *",
                field=CRON_FIELD,
            )
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        for value in (first, last):
            if not low <= value <= high:
                raise RuleViolation(f"{where}: {value} is outside {low} to {high}", field=CRON_FIELD)
        if last < first:
            raise RuleViolation(f"{where}: the range {item!r} runs backwards", field=CRON_FIELD)
        values.update(range(first, last + 1))
    return values


def _instants(schedule: RunSchedule, local_zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    if isinstance(schedule, CronSchedule):
        yield from _cron_instants(schedule.cron, local_zone, after)
    else:
        yield from _options_instants(schedule, local_zone, after)


def _cron_instants(expression: str, local_zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    local_runs = croniter(expression, after.astimezone(local_zone))  # day-of-month OR day-of-week
    while True:
        run: datetime = local_runs.get_next(datetime)
        if not _second_occurrence(run, local_zone):
            yield run.astimezone(UTC)


def _second_occurrence(run: datetime, local_zone: ZoneInfo) -> bool:
    """Whether ``run`` is the repeat of a local time that happened an hour before."""
    first = run.replace(tzinfo=None).replace(tzinfo=local_zone, fold=0)
    return first.utcoffset() != run.utcoffset()


# -- the options form ---------------------------------------------------------------------


def _options_instants(schedule: ScheduleOptions, local_zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    weekdays = {WEEKDAYS.index(day) for day in schedule.days}
    start, end = _minutes(schedule.starts_at, "schedule.starts_at"), _minutes(schedule.ends_at, "schedule.ends_at")
    day = after.astimezone(local_zone).date() - timedelta(days=1)  # a run late yesterday may be due
    while True:
        if day.isoweekday() % 7 in weekdays:
            for minute in range(start, end, schedule.every_minutes):
                yield _instant(day, minute, local_zone)
        day += timedelta(days=1)


def _instant(day: date, minute: int, local_zone: ZoneInfo) -> datetime:
    """The UTC instant of a local time: its first occurrence, or when it does not exist the
    next valid instant (the moment the clocks went forward)."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    first = wall.replace(tzinfo=local_zone, fold=0).astimezone(UTC)
    if first.astimezone(local_zone).replace(tzinfo=None) == wall:
        return first
    # Skipped: fold=1 reads it with the offset after the change, an instant before the gap;
    # fold=0 with the one before, an instant after it. The change lies between.
    low = wall.replace(tzinfo=local_zone, fold=1).astimezone(UTC)
    high = first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(local_zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _minutes(text: str, field: str) -> int:
    """Minutes since midnight of ``HH:MM`` (``24:00`` is the end of the day)."""
    hours, minutes = (int(part) for part in text.split(":"))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise RuleViolation(f"{text!r} is not a time of day (00:00 to 23:59, or 24:00 to end at midnight)", field=field)
    return hours * 60 + minutes
