"""Calling windows: account hours per region, contact dates, the record's daily window, two
zones, and next_allowed, on both sides of the 2026 daylight-saving switches."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.calling_windows import (
    DAY,
    CallingRules,
    Hours,
    RegionRules,
    Target,
    Week,
    check,
    next_allowed,
)
from domain.errors import DomainError, RuleViolation
from schemas.records import Contact, Record

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
ANCHORAGE = "America/Anchorage"
ADAK = "America/Adak"
H = 3600
MINUTE = timedelta(minutes=1)

DEFAULT = CallingRules()
ALL_DAY = CallingRules(RegionRules(Week.every_day(Hours(0, DAY))))
# US federal 08:00–21:00 (the default); Florida: 08:00–20:00 and no Sundays.
FLORIDA = CallingRules(
    regions={"US-FL": RegionRules(Week.of({"sunday": None}, otherwise=Hours.of("08:00", "20:00")))}
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def codes(rules: CallingRules, target: Target, instant: datetime) -> list[str]:
    return [reason.code for reason in check(rules, target, instant).reasons]


# --- default hours on both sides of each switch ---------------------------------------

# (zone, local date, the UTC instant of 08:00 local, of 21:00 local) on the day before a
# switch, the switch day (all four are Sundays) and the day after.
OPENINGS = [
    (NEW_YORK, date(2026, 3, 7), utc(2026, 3, 7, 13), utc(2026, 3, 8, 2)),
    (NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 12), utc(2026, 3, 9, 1)),
    (NEW_YORK, date(2026, 3, 9), utc(2026, 3, 9, 12), utc(2026, 3, 10, 1)),
    (NEW_YORK, date(2026, 10, 31), utc(2026, 10, 31, 12), utc(2026, 11, 1, 1)),
    (NEW_YORK, date(2026, 11, 1), utc(2026, 11, 1, 13), utc(2026, 11, 2, 2)),
    (NEW_YORK, date(2026, 11, 2), utc(2026, 11, 2, 13), utc(2026, 11, 3, 2)),
    (LONDON, date(2026, 3, 28), utc(2026, 3, 28, 8), utc(2026, 3, 28, 21)),
    (LONDON, date(2026, 3, 29), utc(2026, 3, 29, 7), utc(2026, 3, 29, 20)),
    (LONDON, date(2026, 3, 30), utc(2026, 3, 30, 7), utc(2026, 3, 30, 20)),
    (LONDON, date(2026, 10, 24), utc(2026, 10, 24, 7), utc(2026, 10, 24, 20)),
    (LONDON, date(2026, 10, 25), utc(2026, 10, 25, 8), utc(2026, 10, 25, 21)),
    (LONDON, date(2026, 10, 26), utc(2026, 10, 26, 8), utc(2026, 10, 26, 21)),
]


@pytest.mark.parametrize(("zone", "day", "eight", "nine_pm"), OPENINGS)
def test_default_hours_open_at_eight_and_close_at_nine_local(
    zone: str, day: date, eight: datetime, nine_pm: datetime
) -> None:
    target = Target(zone)
    assert codes(DEFAULT, target, eight - MINUTE) == ["outside_hours"]
    assert check(DEFAULT, target, eight).allowed
    assert check(DEFAULT, target, nine_pm - MINUTE).allowed
    assert codes(DEFAULT, target, nine_pm) == ["outside_hours"]
    assert next_allowed(DEFAULT, target, eight - timedelta(hours=3)) == eight


def test_a_reason_names_the_zone_the_local_time_and_the_window() -> None:
    verdict = check(DEFAULT, Target(NEW_YORK), utc(2026, 3, 8, 11, 59))
    assert not verdict.allowed
    (reason,) = verdict.reasons
    assert (reason.code, reason.zone, reason.region) == ("outside_hours", NEW_YORK, "default")
    assert reason.text == (
        "it is Sunday 2026-03-08 07:59 EDT in America/New_York, "
        "outside the calling hours 08:00–21:00 of the default region"
    )


def test_an_instant_in_another_offset_is_the_same_instant() -> None:
    in_paris = datetime(2026, 3, 8, 13, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 12:00 UTC
    assert check(DEFAULT, Target(NEW_YORK), in_paris).allowed
    assert next_allowed(DEFAULT, Target(NEW_YORK), in_paris) == utc(2026, 3, 8, 12)


# --- regions: the most specific wins ----------------------------------------------------


def test_a_state_override_closes_at_eight_pm_and_on_sundays() -> None:
    florida = Target(NEW_YORK, country="US", state="FL")
    monday_eight_pm = utc(2026, 3, 10, 0)  # Monday 9 March, 20:00 EDT
    assert check(FLORIDA, florida, monday_eight_pm - MINUTE).allowed
    assert codes(FLORIDA, florida, monday_eight_pm) == ["outside_hours"]
    assert check(FLORIDA, florida, monday_eight_pm).reasons[0].region == "US-FL"
    sunday_noon = utc(2026, 3, 8, 16)
    (closed,) = check(FLORIDA, florida, sunday_noon).reasons
    assert (closed.code, closed.region) == ("weekday_closed", "US-FL")
    assert (
        closed.text
        == "it is Sunday 2026-03-08 12:00 EDT in America/New_York: US-FL allows no calls on Sundays"
    )
    # Georgia has no rule of its own: the default's 21:00 applies.
    assert check(FLORIDA, Target(NEW_YORK, country="US", state="GA"), monday_eight_pm).allowed
    assert check(FLORIDA, Target(NEW_YORK), sunday_noon).allowed


def test_state_over_country_over_default() -> None:
    rules = CallingRules(
        regions={
            "US": RegionRules(Week.every_day(Hours.of("09:00", "21:00"))),
            "US-FL": RegionRules(Week.every_day(Hours.of("08:00", "20:00"))),
            "GB": RegionRules(Week.of({"sat": None, "sun": None}, otherwise=Hours.of("09:00", "20:00"))),
        }
    )
    half_past_eight = utc(2026, 3, 10, 12, 30)  # Tuesday 08:30 EDT
    assert check(rules, Target(NEW_YORK, country="US", state="FL"), half_past_eight).allowed
    assert codes(rules, Target(NEW_YORK, country="US", state="NY"), half_past_eight) == ["outside_hours"]
    assert check(rules, Target(NEW_YORK, country="CA"), half_past_eight).allowed  # default
    # The state may be written with its country; the country column may say USA.
    assert check(rules, Target(NEW_YORK, country="USA", state="us-fl"), half_past_eight).allowed
    saturday_noon = utc(2026, 3, 14, 12)
    assert codes(rules, Target(LONDON, country="GB"), saturday_noon) == ["weekday_closed"]
    assert codes(rules, Target(LONDON, country="UK"), saturday_noon) == ["weekday_closed"]
    assert next_allowed(rules, Target(LONDON, country="GB"), saturday_noon) == utc(2026, 3, 16, 9)


def test_a_region_without_hours_keeps_the_hours_of_the_one_above() -> None:
    rules = CallingRules(
        regions={
            "US": RegionRules(Week.every_day(Hours.of("09:00", "21:00"))),
            "US-TX": RegionRules.of(holidays=["2026-03-02"]),
        }
    )
    texas = Target("America/Chicago", country="US", state="TX")
    assert codes(rules, texas, utc(2026, 3, 3, 14, 30)) == ["outside_hours"]  # 08:30 CST
    assert check(rules, texas, utc(2026, 3, 3, 15)).allowed
    assert codes(rules, texas, utc(2026, 3, 2, 16)) == ["holiday"]


# --- contact dates ------------------------------------------------------------------------


def test_a_holiday_closes_the_contacts_local_date() -> None:
    rules = CallingRules(
        RegionRules(Week.every_day(Hours.of("08:00", "21:00")), holidays=frozenset({date(2026, 12, 25)}))
    )
    new_york = Target(NEW_YORK)
    assert check(rules, new_york, utc(2026, 12, 25, 1)).allowed  # 24 Dec, 20:00 EST
    (holiday,) = check(rules, new_york, utc(2026, 12, 25, 17)).reasons
    assert (holiday.code, holiday.region) == ("holiday", "default")
    assert holiday.text == (
        "it is Friday 2026-12-25 12:00 EST in America/New_York: 2026-12-25 is a holiday in the default region"
    )
    assert codes(rules, new_york, utc(2026, 12, 26, 3)) == ["holiday", "outside_hours"]  # 25 Dec 22:00
    # 09:00 on 26 December in London; still the 25th in New York (04:00), and not a holiday there.
    assert check(rules, Target(LONDON), utc(2026, 12, 26, 9)).allowed
    assert next_allowed(rules, new_york, utc(2026, 12, 25, 17)) == utc(2026, 12, 26, 13)


def test_dates_of_every_level_add_up() -> None:
    rules = CallingRules(
        RegionRules(Week.every_day(Hours(8 * H, 21 * H)), holidays=frozenset({date(2026, 1, 1)})),
        regions={
            "US": RegionRules.of(holidays=["2026-07-03"]),
            "US-FL": RegionRules.of(
                Week.every_day(Hours.of("08:00", "20:00")), blocked_dates=[date(2026, 7, 6)]
            ),
        },
    )
    florida = Target(NEW_YORK, country="US", state="FL")
    assert codes(rules, florida, utc(2026, 1, 1, 16)) == ["holiday"]
    assert check(rules, florida, utc(2026, 7, 3, 16)).reasons[0].region == "US"
    (blocked,) = check(rules, florida, utc(2026, 7, 6, 16)).reasons
    assert (blocked.code, blocked.region) == ("blocked_date", "US-FL")
    assert "2026-07-06 is a blocked date in US-FL" in blocked.text
    assert check(rules, Target(NEW_YORK, country="US", state="GA"), utc(2026, 7, 6, 16)).allowed
    # From Friday 3 July (US holiday): Saturday the 4th at 08:00 EDT.
    assert next_allowed(rules, florida, utc(2026, 7, 3, 16)) == utc(2026, 7, 4, 12)


def test_a_blocked_date_in_one_country() -> None:
    rules = CallingRules(regions={"GB": RegionRules.of(blocked_dates=["2026-05-04"])})
    london = Target(LONDON, country="GB")
    assert codes(rules, london, utc(2026, 5, 4, 11)) == ["blocked_date"]
    assert check(rules, Target(NEW_YORK, country="US"), utc(2026, 5, 4, 15)).allowed
    assert next_allowed(rules, london, utc(2026, 5, 4, 11)) == utc(2026, 5, 5, 7)  # 08:00 BST


# --- the record's daily window -------------------------------------------------------------


def test_daily_from_and_till_narrow_the_account_hours() -> None:
    nine_to_five = Target(NEW_YORK, daily_from=9 * H, daily_till=17 * H)
    assert codes(DEFAULT, nine_to_five, utc(2026, 3, 10, 12, 30)) == ["daily_window"]  # 08:30 EDT
    (reason,) = check(DEFAULT, nine_to_five, utc(2026, 3, 10, 12, 30)).reasons
    assert reason.region == "record"
    assert reason.text.endswith("outside the record's daily window 09:00–17:00")
    assert check(DEFAULT, nine_to_five, utc(2026, 3, 10, 13)).allowed
    assert codes(DEFAULT, nine_to_five, utc(2026, 3, 10, 21)) == ["daily_window"]
    assert codes(DEFAULT, nine_to_five, utc(2026, 3, 11, 2)) == ["outside_hours", "daily_window"]
    assert next_allowed(DEFAULT, nine_to_five, utc(2026, 3, 10, 21)) == utc(2026, 3, 11, 13)


def test_only_one_daily_bound() -> None:
    from_noon = Target(NEW_YORK, daily_from=12 * H)
    assert codes(DEFAULT, from_noon, utc(2026, 3, 10, 15)) == ["daily_window"]
    assert check(DEFAULT, from_noon, utc(2026, 3, 11, 0, 59)).allowed  # 20:59: the account closes
    till_ten = Target(NEW_YORK, daily_till=10 * H)
    assert check(DEFAULT, till_ten, utc(2026, 3, 10, 12)).allowed
    assert next_allowed(DEFAULT, till_ten, utc(2026, 3, 10, 14)) == utc(2026, 3, 11, 12)


def test_a_daily_window_across_midnight_is_its_evening_and_its_morning() -> None:
    evening = Target(NEW_YORK, daily_from=20 * H, daily_till=9 * H)  # 20:00–09:00
    assert check(DEFAULT, evening, utc(2026, 3, 10, 12, 30)).allowed  # 08:30 EDT
    assert codes(DEFAULT, evening, utc(2026, 3, 10, 13)) == ["daily_window"]  # 09:00
    (reason,) = check(DEFAULT, evening, utc(2026, 3, 10, 16)).reasons
    assert reason.text.endswith("daily window 20:00–09:00 (across midnight)")
    assert next_allowed(DEFAULT, evening, utc(2026, 3, 10, 13)) == utc(2026, 3, 11, 0)  # 20:00 EDT
    assert next_allowed(DEFAULT, evening, utc(2026, 3, 11, 1)) == utc(2026, 3, 11, 12)  # 08:00 next day
    # With the account's hours round the clock, the night itself is callable.
    assert check(ALL_DAY, evening, utc(2026, 3, 11, 5)).allowed  # 01:00 EDT


def test_equal_daily_bounds_never_allow_a_call() -> None:
    empty = Target(NEW_YORK, daily_from=9 * H, daily_till=9 * H)
    (reason,) = check(ALL_DAY, empty, utc(2026, 3, 10, 16)).reasons
    assert reason.code == "daily_window"
    assert reason.text.endswith("09:00–09:00 (empty: daily_from equals daily_till)")
    assert next_allowed(ALL_DAY, empty, utc(2026, 3, 10, 16)) is None


# --- two zones --------------------------------------------------------------------------


def test_two_zones_allow_only_their_intersection() -> None:
    alaska = Target(ANCHORAGE, second_time_zone=ADAK)
    # 15 January: Anchorage UTC-9, Adak UTC-10. Adak opens last, Anchorage closes first.
    (reason,) = check(DEFAULT, alaska, utc(2026, 1, 15, 17, 59)).reasons
    assert (reason.code, reason.zone) == ("outside_hours", ADAK)
    assert "07:59 HST" in reason.text
    assert check(DEFAULT, alaska, utc(2026, 1, 15, 18)).allowed
    assert check(DEFAULT, alaska, utc(2026, 1, 16, 5, 59)).allowed
    (closing,) = check(DEFAULT, alaska, utc(2026, 1, 16, 6)).reasons
    assert (closing.code, closing.zone) == ("outside_hours", ANCHORAGE)
    assert next_allowed(DEFAULT, alaska, utc(2026, 1, 16, 6)) == utc(2026, 1, 16, 18)
    assert next_allowed(DEFAULT, Target(ANCHORAGE), utc(2026, 1, 16, 6)) == utc(2026, 1, 16, 17)


def test_two_zones_each_apply_their_own_local_date() -> None:
    # At 09:30 UTC on 2 January it is the 2nd in London, still the 1st in Adak (UTC-10).
    rules = CallingRules(RegionRules(Week.every_day(Hours(0, DAY)), holidays=frozenset({date(2026, 1, 2)})))
    both = Target(LONDON, second_time_zone=ADAK)
    (reason,) = check(rules, both, utc(2026, 1, 2, 9, 30)).reasons
    assert (reason.code, reason.zone) == ("holiday", LONDON)
    # Free again when London reaches the 3rd, but Adak (UTC-10) is on the 2nd until 10:00 UTC on the 3rd.
    assert next_allowed(rules, both, utc(2026, 1, 2, 9, 30)) == utc(2026, 1, 3, 10)


# --- next_allowed ---------------------------------------------------------------------------


def test_next_allowed_across_a_closed_weekend_and_the_spring_switch() -> None:
    weekdays = CallingRules(RegionRules(Week.of({"saturday": None, "sunday": None})))
    friday_nine_pm = utc(2026, 3, 7, 2)  # Friday 6 March 21:00 EST
    assert codes(weekdays, Target(NEW_YORK), friday_nine_pm) == ["outside_hours"]
    # Monday 9 March, 08:00 EDT (the clocks went forward on Sunday).
    assert next_allowed(weekdays, Target(NEW_YORK), friday_nine_pm) == utc(2026, 3, 9, 12)
    # London: Friday 23 October 21:00 BST → Monday 26 October 08:00 GMT.
    assert next_allowed(weekdays, Target(LONDON), utc(2026, 10, 23, 20)) == utc(2026, 10, 26, 8)


def test_next_allowed_over_a_switch_night() -> None:
    # Saturday 21:00 → Sunday 08:00 local, the clocks having changed in the night.
    assert next_allowed(DEFAULT, Target(NEW_YORK), utc(2026, 3, 8, 2)) == utc(2026, 3, 8, 12)
    assert next_allowed(DEFAULT, Target(NEW_YORK), utc(2026, 11, 1, 1)) == utc(2026, 11, 1, 13)
    assert next_allowed(DEFAULT, Target(LONDON), utc(2026, 3, 28, 21)) == utc(2026, 3, 29, 7)
    assert next_allowed(DEFAULT, Target(LONDON), utc(2026, 10, 24, 20)) == utc(2026, 10, 25, 8)


def test_next_allowed_over_a_florida_sunday() -> None:
    florida = Target(NEW_YORK, country="US", state="FL")
    saturday_eight_pm = utc(2026, 3, 15, 0)  # Saturday 14 March 20:00 EDT
    assert next_allowed(FLORIDA, florida, saturday_eight_pm) == utc(2026, 3, 16, 12)


def test_next_allowed_is_the_instant_itself_inside_a_window() -> None:
    at = utc(2026, 3, 10, 15, 17, 3, 250)
    assert next_allowed(DEFAULT, Target(NEW_YORK), at) == at


def test_next_allowed_stops_at_the_horizon() -> None:
    nine_pm = utc(2026, 3, 11, 1)  # 21:00 EDT; opens again 11 h later
    assert next_allowed(DEFAULT, Target(NEW_YORK), nine_pm, horizon=timedelta(hours=11)) == utc(
        2026, 3, 11, 12
    )
    assert next_allowed(DEFAULT, Target(NEW_YORK), nine_pm, horizon=timedelta(hours=10, minutes=59)) is None
    closed = CallingRules(RegionRules(Week.every_day(None)))
    assert next_allowed(closed, Target(NEW_YORK), nine_pm) is None
    # Three weeks of blocked dates: beyond the default 14-day horizon, within a longer one.
    blocked = CallingRules(
        RegionRules(
            Week.every_day(Hours(8 * H, 21 * H)),
            blocked_dates=frozenset(date(2026, 3, d) for d in range(10, 31)),
        )
    )
    assert next_allowed(blocked, Target(NEW_YORK), nine_pm) is None
    assert next_allowed(blocked, Target(NEW_YORK), nine_pm, horizon=timedelta(days=30)) == utc(
        2026, 3, 31, 12
    )


# --- window edges the clock skips or repeats ----------------------------------------------


def test_an_edge_the_clock_skips_falls_on_the_switch() -> None:
    # New York, 8 March: 02:00 EST is followed by 03:00 EDT (07:00 UTC).
    opens_half_two = Target(NEW_YORK, daily_from=2 * H + 1800, daily_till=4 * H)
    assert not check(ALL_DAY, opens_half_two, utc(2026, 3, 8, 6, 59, 59)).allowed  # 01:59:59 EST
    assert check(ALL_DAY, opens_half_two, utc(2026, 3, 8, 7)).allowed  # 03:00 EDT reads past 02:30
    assert next_allowed(ALL_DAY, opens_half_two, utc(2026, 3, 8, 5)) == utc(2026, 3, 8, 7)
    closes_half_two = Target(NEW_YORK, daily_from=1 * H, daily_till=2 * H + 1800)
    assert check(ALL_DAY, closes_half_two, utc(2026, 3, 8, 6, 59, 59)).allowed
    assert not check(ALL_DAY, closes_half_two, utc(2026, 3, 8, 7)).allowed
    # London, 29 March: 01:00 GMT is followed by 02:00 BST (01:00 UTC).
    london = Target(LONDON, daily_from=1 * H + 1800, daily_till=3 * H)
    assert next_allowed(ALL_DAY, london, utc(2026, 3, 28, 23)) == utc(2026, 3, 29, 1)
    assert not check(ALL_DAY, london, utc(2026, 3, 29, 0, 59)).allowed


def test_an_edge_the_clock_repeats_is_taken_on_the_safe_side() -> None:
    # New York, 1 November: 01:00–02:00 EDT (05:00–06:00 UTC), then 01:00–02:00 EST again.
    opens_half_one = Target(NEW_YORK, daily_from=1 * H + 1800, daily_till=3 * H)
    assert not check(ALL_DAY, opens_half_one, utc(2026, 11, 1, 5, 45)).allowed  # 01:45 EDT
    assert not check(ALL_DAY, opens_half_one, utc(2026, 11, 1, 6, 15)).allowed  # 01:15 EST
    assert check(ALL_DAY, opens_half_one, utc(2026, 11, 1, 6, 30)).allowed  # 01:30 EST
    assert next_allowed(ALL_DAY, opens_half_one, utc(2026, 11, 1, 4)) == utc(2026, 11, 1, 6, 30)
    closes_half_one = Target(NEW_YORK, daily_from=0, daily_till=1 * H + 1800)
    assert check(ALL_DAY, closes_half_one, utc(2026, 11, 1, 5, 29)).allowed  # 01:29 EDT
    assert not check(ALL_DAY, closes_half_one, utc(2026, 11, 1, 5, 30)).allowed  # 01:30 EDT
    assert not check(ALL_DAY, closes_half_one, utc(2026, 11, 1, 6, 15)).allowed  # 01:15 EST again
    # London, 25 October: 01:00–02:00 BST (00:00–01:00 UTC), then 01:00–02:00 GMT.
    london = Target(LONDON, daily_from=1 * H + 1800, daily_till=3 * H)
    assert next_allowed(ALL_DAY, london, utc(2026, 10, 24, 23)) == utc(2026, 10, 25, 1, 30)


@pytest.mark.parametrize(
    "target",
    [
        Target(NEW_YORK, country="US", state="FL"),
        Target(LONDON, daily_from=20 * H, daily_till=9 * H),
        Target(ANCHORAGE, second_time_zone=ADAK, daily_from=9 * H + 1800, daily_till=17 * H),
        Target(NEW_YORK, second_time_zone=LONDON),
        Target(NEW_YORK, daily_from=1 * H + 1800, daily_till=2 * H + 1800),
    ],
)
@pytest.mark.parametrize("start", [utc(2026, 3, 5), utc(2026, 3, 26), utc(2026, 10, 22), utc(2026, 10, 29)])
def test_next_allowed_agrees_with_check(target: Target, start: datetime) -> None:
    rules = CallingRules(
        RegionRules(
            Week.every_day(Hours(1 * H, 23 * H)), holidays=frozenset({date(2026, 3, 10), date(2026, 10, 27)})
        ),
        regions={"US-FL": FLORIDA.regions["US-FL"]},
    )
    for step in range(0, 6 * 24 * 4):  # every quarter hour over six days
        at = start + timedelta(minutes=15 * step)
        found = next_allowed(rules, target, at)
        assert found is not None
        assert check(rules, target, found).allowed, (at, found)
        assert found == at or not check(rules, target, found - timedelta(seconds=1)).allowed, (at, found)
        assert check(rules, target, at).allowed == (found == at), (at, found)


# --- building rules and targets ---------------------------------------------------------


def test_hours_from_text() -> None:
    assert Hours.of("08:00", "21:00") == Hours(8 * H, 21 * H)
    assert Hours.of("7:30:15", "24:00") == Hours(7 * H + 1815, DAY)
    assert str(Hours(8 * H, 20 * H + 30)) == "08:00–20:00:30"


@pytest.mark.parametrize(
    ("opens", "closes", "message"),
    [
        ("21:00", "08:00", "must open before they close"),
        ("09:00", "09:00", "must open before they close"),
        ("25:00", "26:00", "not a time of day"),
        ("08:60", "09:00", "not a time of day"),
        ("8am", "21:00", "'8am' is not a time of day"),
        ("24:00", "24:00", "must open before they close"),
    ],
)
def test_bad_hours_are_refused(opens: str, closes: str, message: str) -> None:
    with pytest.raises(RuleViolation, match=message):
        Hours.of(opens, closes)


def test_hours_from_seconds_are_checked_too() -> None:
    with pytest.raises(RuleViolation, match="must open before they close"):
        Hours(20 * H, 8 * H)
    with pytest.raises(RuleViolation, match="not times of one day"):
        Hours(DAY, DAY + 1)


def test_weekdays_by_name() -> None:
    week = Week.of({"Sunday": None, "sat": Hours.of("10:00", "14:00")}, otherwise=Hours(9 * H, 17 * H))
    assert week.days == (*(Hours(9 * H, 17 * H),) * 5, Hours(10 * H, 14 * H), None)
    with pytest.raises(RuleViolation, match="'funday' is not a weekday") as refused:
        Week.of({"funday": None})
    assert refused.value.field == "hours.funday"
    with pytest.raises(RuleViolation, match="sunday is given twice"):
        Week.of({"sun": None, "SUNDAY": None})
    with pytest.raises(RuleViolation, match="a week has 7 days"):
        Week((None,) * 6)


@pytest.mark.parametrize("bad", ["2026-02-30", "25/12/2026", "2026-W52-5", "tomorrow"])
def test_bad_dates_are_refused(bad: str) -> None:
    with pytest.raises(RuleViolation, match="is not a date") as refused:
        RegionRules.of(holidays=["2026-12-25", bad], field="regions.US")
    assert refused.value.field == "regions.US.holidays"


def test_a_date_and_time_is_not_a_date() -> None:
    with pytest.raises(RuleViolation, match="not a date"):
        RegionRules.of(blocked_dates=[datetime(2026, 12, 25, 9, tzinfo=UTC)])


def test_bad_rules_are_refused() -> None:
    with pytest.raises(RuleViolation, match="'Florida' is not a region"):
        CallingRules(regions={"Florida": RegionRules()})
    with pytest.raises(RuleViolation, match="not a region"):
        CallingRules(regions={"us-fl": RegionRules()})
    with pytest.raises(RuleViolation, match="default region needs calling hours"):
        CallingRules(RegionRules())


def test_bad_targets_are_refused() -> None:
    with pytest.raises(RuleViolation, match="'Mars/Olympus' is not an IANA time zone") as refused:
        Target("Mars/Olympus")
    assert refused.value.field == "time_zone"
    with pytest.raises(DomainError) as second:
        Target(NEW_YORK, second_time_zone="EST5EDT6")
    assert second.value.field == "second_time_zone"
    with pytest.raises(RuleViolation, match="daily_till 90000 is not seconds since midnight"):
        Target(NEW_YORK, daily_till=90_000)
    with pytest.raises(RuleViolation, match="daily_from -1"):
        Target(NEW_YORK, daily_from=-1)


def test_instants_must_be_aware_and_the_horizon_not_negative() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        check(DEFAULT, Target(NEW_YORK), datetime(2026, 3, 8, 12))
    with pytest.raises(ValueError, match="no time zone"):
        next_allowed(DEFAULT, Target(NEW_YORK), datetime(2026, 3, 8, 12))
    with pytest.raises(ValueError, match="negative"):
        next_allowed(DEFAULT, Target(NEW_YORK), utc(2026, 3, 8, 12), horizon=timedelta(-1))


def test_a_target_from_a_record_and_its_contact() -> None:
    record = Record(
        record_id=uuid4(),
        chain_n=1,
        contact_info="+19075550123",
        contact_info_type=4,
        daily_from=9 * H,
        daily_till=18 * H,
        time_zone=ANCHORAGE,
        time_zone_rule="device",
        second_time_zone=ADAK,
    )
    target = Target.of_record(record, Contact(country="US", state="AK"))
    assert target == Target(ANCHORAGE, ADAK, "US", "AK", 9 * H, 18 * H)
    assert target.zones == (ANCHORAGE, ADAK)
    assert Target(NEW_YORK, NEW_YORK).zones == (NEW_YORK,)
