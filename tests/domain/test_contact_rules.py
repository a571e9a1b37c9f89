"""Attempt rules: N attempts today (the contact's local day) or in the last H hours, per
client id, per device or both, required or for named campaign groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.contact_rules import (
    Attempt,
    AttemptHistory,
    AttemptRule,
    applicable,
    check,
    history_since,
)
from domain.errors import RuleViolation

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)  # Tuesday 11:00 EDT in New York

THREE_TODAY = AttemptRule("three a day", 3)
THREE_IN_24_H = AttemptRule("three in 24 h", 3, in_last_hours=24)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def by_client(*times: datetime) -> AttemptHistory:
    return AttemptHistory(client_id=times)


# --- today ----------------------------------------------------------------------------


def test_today_counts_from_the_contacts_local_midnight() -> None:
    # Midnight of 10 March in New York is 04:00 UTC (EDT).
    today = by_client(utc(2026, 3, 10, 4), utc(2026, 3, 10, 10), utc(2026, 3, 10, 14))
    verdict = check([THREE_TODAY], "Sales", today, NEW_YORK, NOW)
    assert not verdict.allowed
    (breach,) = verdict.reasons
    assert (breach.code, breach.rule, breach.key, breach.count, breach.limit) == (
        "attempts_today",
        "three a day",
        "client_id",
        3,
        3,
    )
    assert breach.allowed_from == utc(2026, 3, 11, 4)
    assert verdict.next_allowed == utc(2026, 3, 11, 4)
    assert breach.text == (
        "rule 'three a day' (at most 3 per client id today): 3 attempts to this client id today "
        "(2026-03-10 in America/New_York); allowed again from 2026-03-11 00:00 EDT"
    )
    # 23:59 EDT the evening before is yesterday.
    yesterday = by_client(utc(2026, 3, 10, 3, 59), utc(2026, 3, 10, 10), utc(2026, 3, 10, 14))
    verdict = check([THREE_TODAY], "Sales", yesterday, NEW_YORK, NOW)
    assert verdict.allowed
    assert verdict.reasons == ()
    assert verdict.next_allowed == NOW


def test_today_is_the_contacts_day_not_utcs() -> None:
    # At 15:00 UTC it is already 10 March in London since 00:00 UTC, in New York since 04:00.
    history = by_client(utc(2026, 3, 10, 1), utc(2026, 3, 10, 2), utc(2026, 3, 10, 3))
    assert not check([THREE_TODAY], None, history, LONDON, NOW).allowed
    assert check([THREE_TODAY], None, history, NEW_YORK, NOW).allowed


def test_today_on_a_switch_day_ends_at_the_next_local_midnight() -> None:
    # Sunday 8 March began at 05:00 UTC (EST) and ends at 04:00 UTC (EDT): 23 hours.
    at = utc(2026, 3, 8, 20)
    history = by_client(utc(2026, 3, 8, 5), utc(2026, 3, 8, 12), utc(2026, 3, 8, 19))
    verdict = check([THREE_TODAY], None, history, NEW_YORK, at)
    assert verdict.next_allowed == utc(2026, 3, 9, 4)
    assert check([THREE_TODAY], None, history, NEW_YORK, utc(2026, 3, 9, 4)).allowed
    assert not check([THREE_TODAY], None, history, NEW_YORK, utc(2026, 3, 9, 3, 59)).allowed
    # 04:59 UTC was 23:59 EST on the 7th: yesterday.
    before_midnight = by_client(utc(2026, 3, 8, 4, 59), utc(2026, 3, 8, 12), utc(2026, 3, 8, 19))
    assert check([THREE_TODAY], None, before_midnight, NEW_YORK, at).allowed
    # London, 25 October: a 25-hour day from 23:00 UTC on the 24th to 00:00 UTC on the 26th.
    london = by_client(utc(2026, 10, 24, 23), utc(2026, 10, 25, 9), utc(2026, 10, 25, 23, 30))
    verdict = check([THREE_TODAY], None, london, LONDON, utc(2026, 10, 25, 23, 45))
    assert verdict.next_allowed == utc(2026, 10, 26, 0)
    assert verdict.reasons[0].text.endswith("allowed again from 2026-10-26 00:00 GMT")


def test_today_is_one_local_day_on_both_sides() -> None:
    # An attempt stamped on the contact's next day (badly skewed clock) is tomorrow's, not today's.
    history = by_client(utc(2026, 3, 10, 5), utc(2026, 3, 10, 6), utc(2026, 3, 11, 4))
    assert check([THREE_TODAY], None, history, NEW_YORK, NOW).allowed


# --- the last H hours -------------------------------------------------------------------


def test_in_the_last_hours_is_a_sliding_window() -> None:
    history = by_client(NOW - timedelta(hours=23), NOW - timedelta(hours=10), NOW - timedelta(hours=1))
    verdict = check([THREE_IN_24_H], None, history, NEW_YORK, NOW)
    (breach,) = verdict.reasons
    assert breach.code == "attempts_in_hours"
    # The oldest of the three leaves the window 24 h after it was made.
    assert breach.allowed_from == NOW + timedelta(hours=1)
    assert breach.text == (
        "rule 'three in 24 h' (at most 3 per client id in the last 24 h): 3 attempts to this "
        "client id in the last 24 h; allowed again from 2026-03-10 12:00 EDT"
    )
    assert check([THREE_IN_24_H], None, history, NEW_YORK, NOW + timedelta(hours=1)).allowed
    assert not check([THREE_IN_24_H], None, history, NEW_YORK, NOW + timedelta(minutes=59)).allowed


def test_an_attempt_exactly_h_hours_ago_no_longer_counts() -> None:
    history = by_client(NOW - timedelta(hours=24), NOW - timedelta(hours=10), NOW - timedelta(hours=1))
    assert check([THREE_IN_24_H], None, history, NEW_YORK, NOW).allowed


def test_over_the_limit_waits_for_enough_attempts_to_leave() -> None:
    hours_ago = (23, 20, 10, 1)
    history = by_client(*(NOW - timedelta(hours=h) for h in hours_ago))
    (breach,) = check([THREE_IN_24_H], None, history, NEW_YORK, NOW).reasons
    assert breach.count == 4
    # Two must leave: the second oldest (20 h ago) leaves in 4 h.
    assert breach.allowed_from == NOW + timedelta(hours=4)
    assert check([THREE_IN_24_H], None, history, NEW_YORK, breach.allowed_from).allowed


def test_the_last_hours_are_elapsed_time_across_a_switch() -> None:
    # 01:00 EST on 8 March to 09:00 EDT is 7 hours, not 8.
    rule = AttemptRule("one in 8 h", 1, in_last_hours=8)
    history = by_client(utc(2026, 3, 8, 6))
    verdict = check([rule], None, history, NEW_YORK, utc(2026, 3, 8, 13))
    assert verdict.next_allowed == utc(2026, 3, 8, 14)
    assert verdict.reasons[0].text.endswith("allowed again from 2026-03-08 10:00 EDT")


def test_an_attempt_stamped_after_now_counts() -> None:
    # Clock skew between hosts: fail closed.
    history = by_client(NOW - timedelta(hours=2), NOW - timedelta(hours=1), NOW + timedelta(seconds=5))
    assert not check([THREE_IN_24_H], None, history, NEW_YORK, NOW).allowed
    assert not check([THREE_TODAY], None, history, NEW_YORK, NOW).allowed


# --- client id, device, both ---------------------------------------------------------------


def test_keyed_per_client_id_per_device_or_both() -> None:
    three = (utc(2026, 3, 10, 12), utc(2026, 3, 10, 13), utc(2026, 3, 10, 14))
    client_only = AttemptHistory(client_id=three, device=three[:1])
    per_client = AttemptRule("client", 3, by="client_id")
    per_device = AttemptRule("device", 3, by="device")
    either = AttemptRule("both", 3, by="both")
    assert not check([per_client], None, client_only, NEW_YORK, NOW).allowed
    assert check([per_device], None, client_only, NEW_YORK, NOW).allowed
    (breach,) = check([either], None, client_only, NEW_YORK, NOW).reasons
    assert breach.key == "client_id"
    device_only = AttemptHistory(client_id=three[:2], device=three)
    (breach,) = check([either], None, device_only, NEW_YORK, NOW).reasons
    assert (breach.key, breach.count) == ("device", 3)
    assert "3 attempts to this device today" in breach.text
    both_over = AttemptHistory(client_id=three, device=three)
    assert [b.key for b in check([either], None, both_over, NEW_YORK, NOW).reasons] == ["client_id", "device"]


def test_history_from_a_log_of_attempts_across_lists_and_channels() -> None:
    log = [
        Attempt(utc(2026, 3, 10, 12), "C-1", "+13125550101"),  # voice, one list
        Attempt(utc(2026, 3, 10, 13), "C-1", "ann@example.com"),  # e-mail, another list
        Attempt(utc(2026, 3, 10, 14), "C-2", "+13125550101"),  # the same phone, another customer
        Attempt(utc(2026, 3, 10, 14, 30), "C-1", "+13125550101"),
    ]
    history = AttemptHistory.of(log, client_id="C-1", device="+13125550101")
    assert history.client_id == (utc(2026, 3, 10, 12), utc(2026, 3, 10, 13), utc(2026, 3, 10, 14, 30))
    assert history.device == (utc(2026, 3, 10, 12), utc(2026, 3, 10, 14), utc(2026, 3, 10, 14, 30))
    assert not check([AttemptRule("client", 3)], None, history, NEW_YORK, NOW).allowed
    assert not check([AttemptRule("device", 3, by="device")], None, history, NEW_YORK, NOW).allowed
    assert check([AttemptRule("client", 4, by="both")], None, history, NEW_YORK, NOW).allowed


# --- required and campaign-group rules ------------------------------------------------------


def test_required_rules_apply_everywhere_optional_ones_to_their_groups() -> None:
    required = AttemptRule("required", 5)
    collections = AttemptRule("collections", 2, required=False, campaign_groups=frozenset({"Collections"}))
    unattached = AttemptRule("unattached", 1, required=False)
    rules = [required, collections, unattached]
    assert applicable(rules, "Collections") == (required, collections)
    assert applicable(rules, "Sales") == (required,)
    assert applicable(rules, None) == (required,)
    two = by_client(utc(2026, 3, 10, 12), utc(2026, 3, 10, 13))
    (breach,) = check(rules, "Collections", two, NEW_YORK, NOW).reasons
    assert breach.rule == "collections"
    assert check(rules, "Sales", two, NEW_YORK, NOW).allowed


def test_every_broken_rule_is_a_reason_and_the_latest_decides() -> None:
    rules = [THREE_TODAY, AttemptRule("two in 72 h", 2, in_last_hours=72)]
    history = by_client(utc(2026, 3, 9, 20), utc(2026, 3, 10, 5), utc(2026, 3, 10, 6), utc(2026, 3, 10, 14))
    verdict = check(rules, None, history, NEW_YORK, NOW)
    assert [(b.rule, b.allowed_from) for b in verdict.reasons] == [
        ("three a day", utc(2026, 3, 11, 4)),
        ("two in 72 h", utc(2026, 3, 13, 6)),  # 4 counted; the second newest (06:00 on the 10th) + 72 h
    ]
    assert verdict.next_allowed == utc(2026, 3, 13, 6)
    assert check(rules, None, history, NEW_YORK, verdict.next_allowed).allowed


# --- what an adapter reads -----------------------------------------------------------------


def test_history_since_is_the_oldest_attempt_any_rule_can_count() -> None:
    rules = [THREE_TODAY, AttemptRule("one in 2 h", 1, in_last_hours=2)]
    assert history_since(rules, None, NEW_YORK, NOW) == utc(2026, 3, 10, 4)
    assert history_since([*rules, THREE_IN_24_H], None, NEW_YORK, NOW) == NOW - timedelta(hours=24)
    optional = AttemptRule("optional", 1, in_last_hours=72, required=False, campaign_groups=frozenset({"A"}))
    assert history_since([optional], "B", NEW_YORK, NOW) is None
    assert history_since([optional], "A", NEW_YORK, NOW) == NOW - timedelta(hours=72)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": " ", "max_attempts": 1}, "name", "needs a name"),
        ({"name": "r", "max_attempts": 0}, "max_attempts", "at least 1, not 0"),
        ({"name": "r", "max_attempts": 1, "by": "phone"}, "by", "not 'phone'"),
        ({"name": "r", "max_attempts": 1, "in_last_hours": 0}, "in_last_hours", "not 0"),
        (
            {"name": "r", "max_attempts": 1, "campaign_groups": frozenset({"A"})},
            "campaign_groups",
            "is required",
        ),
    ],
)
def test_bad_rules_are_refused(fields: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(RuleViolation, match=message) as refused:
        AttemptRule(**fields)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_bad_zones_and_naive_instants_are_refused() -> None:
    with pytest.raises(RuleViolation, match="not an IANA time zone"):
        check([THREE_TODAY], None, AttemptHistory(), "Eastern", NOW)
    with pytest.raises(ValueError, match="no time zone"):
        check([THREE_TODAY], None, AttemptHistory(), NEW_YORK, datetime(2026, 3, 10, 15))
    with pytest.raises(ValueError, match="no time zone"):
        check([THREE_TODAY], None, by_client(datetime(2026, 3, 10, 12)), NEW_YORK, NOW)
