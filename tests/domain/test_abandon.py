"""Abandon-rate accounting: PureConnect's worked example exactly, Ofcom's machine-adjusted rate,
and the 24-hour and 30-day windows rolling over — in elapsed time, across daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import abandon
from domain.abandon import AbandonWindows, Bucket, Window

NEW_YORK = ZoneInfo("America/New_York")

# Genesys PureConnect, "How Call Analysis detections affect Abandon Rate" (pacing-notes §1a):
# 250 dialled, 150 auto-dispositioned, 100 classed live; 3 of those abandoned (2 people, 1
# machine); 97 handled by agents: 78 people and 19 not (17 answering machines, 2 SITs).
ABANDONED, ABANDONED_LIVE, HANDLED_LIVE, MACHINES_BY_AGENTS = 3, 2, 78, 17


def test_the_pure_connect_dialer_rate_is_3_over_81() -> None:
    rate = abandon.dialer_rate(ABANDONED, HANDLED_LIVE)
    assert rate == pytest.approx(100 * 3 / 81)
    assert round(rate, 1) == 3.7


def test_the_pure_connect_true_rate_is_2_over_78() -> None:
    rate = abandon.true_rate(ABANDONED_LIVE, HANDLED_LIVE)
    assert rate == pytest.approx(100 * 2 / 78)
    assert round(rate, 1) == 2.6


def test_the_dialers_rate_is_abandoned_over_live_answers_which_include_them() -> None:
    # What the dialer sees: 81 calls answered by a "person" (call analysis), 3 of them abandoned.
    assert abandon.rate(ABANDONED, HANDLED_LIVE + ABANDONED) == abandon.dialer_rate(ABANDONED, HANDLED_LIVE)
    assert Window(abandoned=3, live_answered=81).rate == pytest.approx(3.7037, abs=1e-4)


def test_ofcoms_rate_discounts_abandons_by_the_share_of_machines_agents_found() -> None:
    # am_share = 17 / 95; adjusted = 3 × 78/95 = 2.4632; rate = 2.4632 / 80.4632
    rate = abandon.ofcom_rate(ABANDONED, HANDLED_LIVE, MACHINES_BY_AGENTS)
    adjusted = 3 * (1 - 17 / 95)
    assert rate == pytest.approx(100 * adjusted / (78 + adjusted))
    assert round(rate, 2) == 3.06
    # Without machines among what agents handled, it is the dialer rate.
    assert abandon.ofcom_rate(3, 78, 0) == pytest.approx(abandon.dialer_rate(3, 78))


def test_no_live_answer_is_no_rate() -> None:
    assert abandon.rate(0, 0) == abandon.dialer_rate(0, 0) == abandon.true_rate(0, 0) == 0.0
    assert abandon.ofcom_rate(0, 0, 0) == 0.0


def test_headroom_counts_the_abandons_left_under_the_target() -> None:
    # 3 % of 100 live answers, none abandoned: x / (100 + x) <= 0.03 holds for x <= 3.09.
    assert Window(abandoned=0, live_answered=100).headroom(3.0) == pytest.approx(3 / 0.97)
    assert Window(abandoned=4, live_answered=100).headroom(3.0) < 0


NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def hourly(*items: tuple[datetime, int, int]) -> list[Bucket]:
    return [Bucket(start, abandoned, live) for start, abandoned, live in items]


def test_the_24_hour_window_rolls_over_a_bucket_at_24_hours() -> None:
    buckets = hourly((NOW - timedelta(hours=24), 1, 10), (NOW - timedelta(hours=2), 0, 20))
    assert abandon.window(buckets, now=NOW, span=abandon.DAY) == Window(abandoned=1, live_answered=30)
    later = NOW + timedelta(minutes=1)
    assert abandon.window(buckets, now=later, span=abandon.DAY) == Window(abandoned=0, live_answered=20)


def test_the_30_day_window_rolls_over_at_30_days_and_ignores_the_future() -> None:
    buckets = hourly(
        (NOW - timedelta(days=30), 2, 40),
        (NOW - timedelta(days=3), 1, 60),
        (NOW + timedelta(hours=1), 5, 5),  # after `now`: a window asked for the past ignores it
    )
    windows = abandon.rolling(buckets, NOW)
    assert windows.month == Window(abandoned=3, live_answered=100)
    assert windows.day == Window()
    assert abandon.rolling(buckets, NOW + timedelta(hours=1)).month == Window(abandoned=6, live_answered=65)
    assert abandon.rolling(buckets, NOW + timedelta(seconds=1)).month == Window(abandoned=1, live_answered=60)


def test_the_stricter_window_binds() -> None:
    # Over 30 days 2.0 %, but the last 24 hours at 4.0 %: the 24-hour window binds.
    windows = AbandonWindows(
        day=Window(abandoned=2, live_answered=50), month=Window(abandoned=20, live_answered=1000)
    )
    assert windows.binding == "24h" and windows.bound.rate == pytest.approx(4.0)
    # A quiet day after a bad month: the 30-day window binds.
    windows = AbandonWindows(
        day=Window(abandoned=0, live_answered=80), month=Window(abandoned=35, live_answered=1000)
    )
    assert windows.binding == "30d" and windows.bound.rate == pytest.approx(3.5)
    assert AbandonWindows(day=Window(), month=Window()).binding == "30d"


def test_finer_buckets_make_the_24_hour_window_exact_to_their_width() -> None:
    hours = hourly((NOW - timedelta(hours=24), 2, 10))
    minutes = hourly(
        (NOW - timedelta(hours=24), 1, 5), (NOW - timedelta(hours=24) + timedelta(minutes=30), 1, 5)
    )
    at = NOW + timedelta(minutes=10)
    windows = abandon.rolling(hours, at, fine=minutes)
    assert windows.day == Window(abandoned=1, live_answered=5)  # the minute at 12:30 yesterday is in
    assert windows.month == Window(abandoned=2, live_answered=10)


def utc(local: datetime) -> datetime:
    return local.replace(tzinfo=NEW_YORK).astimezone(UTC)


def test_24_hours_are_elapsed_time_across_the_spring_change_in_new_york() -> None:
    # 8 March 2026, 02:00 EST -> 03:00 EDT: from 11:30 EST on the 7th to 12:00 EDT on the 8th is
    # 23.5 hours, though the clock on the wall moved 24.5. Buckets are instants (UTC).
    now = utc(datetime(2026, 3, 8, 12, 0))
    before = utc(datetime(2026, 3, 7, 11, 30))
    assert now - before == timedelta(hours=23, minutes=30)
    buckets = hourly((before, 1, 4), (utc(datetime(2026, 3, 7, 10, 30)), 1, 4))  # 24.5 h ago: out
    assert abandon.rolling(buckets, now).day == Window(abandoned=1, live_answered=4)


def test_24_hours_are_elapsed_time_across_the_autumn_change_in_new_york() -> None:
    # 1 November 2026, 02:00 EDT -> 01:00 EST: 12:30 EDT on 31 October is 24.5 hours before
    # 12:00 EST on 1 November, though the clock moved only 23.5: outside the window.
    now = utc(datetime(2026, 11, 1, 12, 0))
    buckets = hourly((utc(datetime(2026, 10, 31, 12, 30)), 1, 2), (utc(datetime(2026, 10, 31, 13, 30)), 0, 3))
    assert now - buckets[0].start == timedelta(hours=24, minutes=30)
    assert abandon.rolling(buckets, now).day == Window(abandoned=0, live_answered=3)


def test_30_days_are_elapsed_time_across_a_change_too() -> None:
    # 30 × 24 hours before 12:00 EDT on 25 March 2026 is 11:00 EST on 23 February (the clock
    # moved an hour on 8 March in between).
    now = utc(datetime(2026, 3, 25, 12, 0))
    edge = now - abandon.MONTH
    assert edge == utc(datetime(2026, 2, 23, 11, 0))
    buckets = hourly((edge, 1, 10), (edge - timedelta(hours=1), 1, 10))
    assert abandon.rolling(buckets, now).month == Window(abandoned=1, live_answered=10)
