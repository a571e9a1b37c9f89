"""Run schedules of list automation jobs: the options form, the crontab string with the
document's syntax rules and examples, and both 2026 daylight-saving changes in New York and
London (all pure, in virtual time: the runs after a given instant)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from domain import run_schedule
from domain.errors import RuleViolation
from schemas.automation import CronSchedule, ScheduleOptions

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def local(schedule: CronSchedule | ScheduleOptions, after: datetime, count: int) -> list[str]:
    """The runs as local wall-clock times with their UTC offsets."""
    zone = ZoneInfo(schedule.time_zone)
    return [r.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %z") for r in run_schedule.runs(schedule, after, count)]


def cron(expression: str, zone: str = "America/New_York") -> CronSchedule:
    schedule = CronSchedule(cron=expression, time_zone=zone)
    run_schedule.check(schedule)
    return schedule


# The options form -------------------------------------------------------------------------------


def test_options_run_every_interval_from_the_start_up_to_the_end_on_the_chosen_days() -> None:
    # The document's example: Wednesday 1 pm to 2 pm every 15 minutes is four runs.
    wednesdays = ScheduleOptions(every_minutes=15, days=["wed"], starts_at="13:00", ends_at="14:00", time_zone="America/New_York")
    run_schedule.check(wednesdays)
    after = datetime(2026, 6, 1, tzinfo=NEW_YORK)  # a Monday
    assert local(wednesdays, after, 5) == [
        "Wed 2026-06-03 13:00 -0400",
        "Wed 2026-06-03 13:15 -0400",
        "Wed 2026-06-03 13:30 -0400",
        "Wed 2026-06-03 13:45 -0400",
        "Wed 2026-06-10 13:00 -0400",
    ]
    assert run_schedule.runs(wednesdays, after, 0) == []
    # Strictly after: a run at the instant asked about is not "next".
    assert local(wednesdays, datetime(2026, 6, 3, 13, 15, tzinfo=NEW_YORK), 1) == ["Wed 2026-06-03 13:30 -0400"]


def test_options_every_45_minutes_on_weekdays_in_utc_too() -> None:
    weekdays = ScheduleOptions(
        every_minutes=45, days=["mon", "tue", "wed", "thu", "fri"], starts_at="06:00", ends_at="08:00", time_zone="Europe/London"
    )
    after = datetime(2026, 1, 9, 7, 0, tzinfo=UTC)  # Friday 07:00 in London (GMT)
    runs = run_schedule.runs(weekdays, after, 4)
    assert [r.isoformat() for r in runs] == [
        "2026-01-09T07:30:00+00:00",
        "2026-01-12T06:00:00+00:00",  # Monday: the weekend has no run
        "2026-01-12T06:45:00+00:00",
        "2026-01-12T07:30:00+00:00",
    ]
    assert all(r.tzinfo is UTC for r in runs)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"starts_at": "20:00", "ends_at": "06:00"}, "schedule.ends_at", "not after it starts"),
        ({"starts_at": "25:00"}, "schedule.starts_at", "not a time of day"),
        ({"ends_at": "10:60"}, "schedule.ends_at", "not a time of day"),
        ({"days": []}, "schedule.days", "at least one day"),
        ({"days": ["mon", "mon"]}, "schedule.days", "named twice"),
        ({"time_zone": "Mars/Olympus"}, "schedule.time_zone", "not a time zone"),
    ],
)
def test_options_that_break_a_rule_are_refused_naming_the_field(fields: dict[str, object], field: str, words: str) -> None:
    base: dict[str, object] = {"every_minutes": 30, "starts_at": "06:00", "ends_at": "20:00", "time_zone": "America/New_York"}
    with pytest.raises(RuleViolation, match=words) as refused:
        run_schedule.check(ScheduleOptions(**{**base, **fields}))  # type: ignore[arg-type]
    assert refused.value.field == field


# The crontab string: the document's examples -------------------------------------------------------


def test_the_documents_cron_examples() -> None:
    after = datetime(2026, 8, 31, 0, 0, tzinfo=NEW_YORK)  # Monday 31 August
    assert local(cron("15 * * * *"), after, 3) == [
        "Mon 2026-08-31 00:15 -0400",
        "Mon 2026-08-31 01:15 -0400",
        "Mon 2026-08-31 02:15 -0400",
    ]
    assert local(cron("0 17 * * 3"), after, 2) == ["Wed 2026-09-02 17:00 -0400", "Wed 2026-09-09 17:00 -0400"]
    sunday = local(cron("15-30 7 * * 0"), after, 17)
    assert sunday[0] == "Sun 2026-09-06 07:15 -0400" and sunday[15] == "Sun 2026-09-06 07:30 -0400"
    assert sunday[16] == "Sun 2026-09-13 07:15 -0400"  # every minute 15 to 30 inclusive: 16 runs
    assert local(cron("15 14 * * 1,3,4"), after, 4) == [
        "Mon 2026-08-31 14:15 -0400",
        "Wed 2026-09-02 14:15 -0400",
        "Thu 2026-09-03 14:15 -0400",
        "Mon 2026-09-07 14:15 -0400",
    ]
    # 3 am on the 8th of September AND on every Tuesday and Wednesday of September.
    september = local(cron("0 3 8 9 2,3"), after, 10)
    assert september == [
        "Tue 2026-09-01 03:00 -0400",
        "Wed 2026-09-02 03:00 -0400",
        "Tue 2026-09-08 03:00 -0400",  # the 8th, a Tuesday: once
        "Wed 2026-09-09 03:00 -0400",
        "Tue 2026-09-15 03:00 -0400",
        "Wed 2026-09-16 03:00 -0400",
        "Tue 2026-09-22 03:00 -0400",
        "Wed 2026-09-23 03:00 -0400",
        "Tue 2026-09-29 03:00 -0400",
        "Wed 2026-09-30 03:00 -0400",
    ]
    assert local(cron("0 3 8 9 *"), after, 2) == ["Tue 2026-09-08 03:00 -0400", "Wed 2027-09-08 03:00 -0400"]


# The crontab string: every syntax rule of the document, and what it does not support ------------


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("", "empty"),
        ("15****", "has 1"),
        ("15 * * *", "has 4"),
        ("15 * * * * *", "has 6"),
        ("15  * * * *", "one space each"),
        (" 15 * * * *", "one space each"),
        ("15\t* * * *", "one space each"),
        ("15, 30, 45 * * * *", "write 15,30,45, not 15, 30, 45"),
        ("15 ,30 * * * *", "beside a comma"),
        ("15 - 30 * * * *", "write 15-30, not 15 - 30"),
        ("60 * * * *", "the minute field '60': 60 is outside 0 to 59"),
        ("0 24 * * *", "the hour field '24': 24 is outside 0 to 23"),
        ("0 0 0 * *", "the day of month field '0': 0 is outside 1 to 31"),
        ("0 0 32 * *", "the day of month field '32'"),
        ("0 0 * 13 *", "the month field '13': 13 is outside 1 to 12"),
        ("0 0 * * 7", "the day of week field '7': 7 is outside 0 to 6"),
        ("*/15 * * * *", "steps (/) are not supported"),
        ("30-15 * * * *", "the range '30-15' runs backwards"),
        ("15,,30 * * * *", "empty value between commas"),
        ("15,* * * * *", "stands alone"),
        ("0 0 * * MON", "'MON' is not a number from 0 to 6"),
        ("0 0 * JAN *", "'JAN' is not a number from 1 to 12"),
        ("0 0 31 2 *", "never runs: day 31 never comes in month 2"),
        ("0 0 30,31 2 *", "never runs"),
    ],
)
def test_a_crontab_string_that_breaks_a_rule_is_refused_saying_which(expression: str, words: str) -> None:
    with pytest.raises(RuleViolation, match=words.replace("(", r"\(").replace(")", r"\)")) as refused:
        run_schedule.check(CronSchedule(cron=expression, time_zone="UTC"))
    assert refused.value.field == "schedule.cron"


def test_the_29th_of_february_is_a_day_that_comes() -> None:
    leap = cron("0 12 29 2 *", "UTC")
    assert [r.isoformat() for r in run_schedule.runs(leap, datetime(2026, 1, 1, tzinfo=UTC), 2)] == [
        "2028-02-29T12:00:00+00:00",
        "2032-02-29T12:00:00+00:00",
    ]


# Daylight-saving changes: 2026 in New York (8 March, 1 November) and London (29 March, 25 October) -


QUARTERS = "0,15,30,45 * * * *"


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        # New York springs forward at 02:00 EST to 03:00 EDT: 02:00-02:45 do not exist and
        # run once, at 03:00, which is also a run of its own: one run there.
        (
            "America/New_York",
            datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK),
            ["01:45 -0500", "03:00 -0400", "03:15 -0400"],
        ),
        # New York falls back at 02:00 EDT to 01:00 EST: 01:00-01:45 happen twice and run once.
        (
            "America/New_York",
            datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK),
            ["00:45 -0400", "01:00 -0400", "01:15 -0400", "01:30 -0400", "01:45 -0400", "02:00 -0500", "02:15 -0500"],
        ),
        # London springs forward at 01:00 GMT to 02:00 BST.
        (
            "Europe/London",
            datetime(2026, 3, 29, 0, 30, tzinfo=LONDON),
            ["00:45 +0000", "02:00 +0100", "02:15 +0100"],
        ),
        # London falls back at 02:00 BST to 01:00 GMT.
        (
            "Europe/London",
            datetime(2026, 10, 25, 0, 30, tzinfo=LONDON),
            ["00:45 +0100", "01:00 +0100", "01:15 +0100", "01:30 +0100", "01:45 +0100", "02:00 +0000", "02:15 +0000"],
        ),
    ],
)
def test_both_forms_run_each_local_time_once_across_both_changes(zone: str, after: datetime, expected: list[str]) -> None:
    every_quarter = ScheduleOptions(every_minutes=15, starts_at="00:00", ends_at="24:00", time_zone=zone)
    for schedule in (cron(QUARTERS, zone), every_quarter):
        runs = local(schedule, after, len(expected))
        assert [r.split(" ", 2)[2] for r in runs] == expected, schedule


@pytest.mark.parametrize(
    ("zone", "expression", "day", "expected"),
    [
        ("America/New_York", "30 2 * * *", datetime(2026, 3, 7, 12, tzinfo=UTC), ["03-08 03:00 -0400", "03-09 02:30 -0400"]),
        ("America/New_York", "30 1 * * *", datetime(2026, 10, 31, 12, tzinfo=UTC), ["11-01 01:30 -0400", "11-02 01:30 -0500"]),
        ("Europe/London", "30 1 * * *", datetime(2026, 3, 28, 12, tzinfo=UTC), ["03-29 02:00 +0100", "03-30 01:30 +0100"]),
        ("Europe/London", "30 1 * * *", datetime(2026, 10, 24, 12, tzinfo=UTC), ["10-25 01:30 +0100", "10-26 01:30 +0000"]),
    ],
)
def test_a_daily_run_in_a_skipped_or_repeated_hour_runs_once_that_day(
    zone: str, expression: str, day: datetime, expected: list[str]
) -> None:
    daily_options = ScheduleOptions(
        every_minutes=60, starts_at=expression.split()[1].zfill(2) + ":30", ends_at=expression.split()[1].zfill(2) + ":31", time_zone=zone
    )
    for schedule in (cron(expression, zone), daily_options):
        tz = ZoneInfo(zone)
        runs = [r.astimezone(tz).strftime("%m-%d %H:%M %z") for r in run_schedule.runs(schedule, day, 2)]
        assert runs == expected, schedule


def test_a_year_of_hourly_runs_has_each_local_hour_once() -> None:
    """Over all of 2026 in New York: 8,760 hours less the skipped one; no instant twice, and the
    gaps between runs are an hour except across the two changes."""
    hourly = cron("0 * * * *")
    runs = run_schedule.runs(hourly, datetime(2025, 12, 31, 23, 59, tzinfo=NEW_YORK), 8759)
    labels = [r.astimezone(NEW_YORK).strftime("%Y-%m-%d %H") for r in runs]
    assert len(set(labels)) == len(labels) == 8759 and len(set(runs)) == 8759
    assert (labels[0], labels[-1]) == ("2026-01-01 00", "2026-12-31 23")
    gaps = [(b - a).total_seconds() / 3600 for a, b in itertools.pairwise(runs)]
    assert sorted(set(gaps)) == [1.0, 2.0]
    assert gaps.count(2.0) == 1  # the repeated 01:00 in November runs once: two hours between 00:00 and 02:00 EST
