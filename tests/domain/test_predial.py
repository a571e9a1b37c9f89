"""Pre-dial validation, the pure decision: the record, suppression, the calling window,
attempt rules, an abandoned call, answers that are missing; and compliance settings turned
into rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import msgspec
import pytest

from domain import calling_windows as windows
from domain import contact_rules
from domain.codes import RecordStatus, RecordType
from domain.errors import RuleViolation
from domain.predial import (
    DIALABLE_TYPES,
    SCHEDULED_TYPES,
    AbandonedCall,
    AbandonedCallRule,
    QuietHours,
    Reason,
    RecordView,
    Verdict,
    abandoned_call_rule,
    abandoned_quiet_hours,
    attempt_rules,
    calling_rules,
    compliance_rules,
    decide,
    normalised,
    rules_for_group,
)
from processors.suppression.index import SuppressionEntry
from schemas.records import Record
from schemas.settings import (
    AttemptRuleSettings,
    CallingHours,
    ComplianceSettings,
    RegionCompliance,
    WeeklyHours,
)

NEW_YORK = "America/New_York"
NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)  # Tuesday 11:00 EDT in New York
LIST_A = UUID("00000000-0000-4000-8000-00000000000a")
LIST_B = UUID("00000000-0000-4000-8000-00000000000b")
ENTRY_1 = UUID("00000000-0000-4000-8000-000000000e01")
ENTRY_2 = UUID("00000000-0000-4000-8000-000000000e02")
ENTRY_3 = UUID("00000000-0000-4000-8000-000000000e03")

RULES = windows.CallingRules()  # 08:00–21:00 every day
TARGET = windows.Target(time_zone=NEW_YORK, country="US", state="NY")
OPEN = windows.check(RULES, TARGET, NOW)
READY_GENERAL = RecordView(RecordType.GENERAL, RecordStatus.READY)


def epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def opens(at: datetime) -> datetime | None:
    return windows.next_allowed(RULES, TARGET, at)


def verdict(
    record: RecordView = READY_GENERAL,
    matches: list[SuppressionEntry] | None = None,
    window: windows.WindowVerdict | None = OPEN,
    attempts: contact_rules.AttemptVerdict | None = None,
    now: datetime = NOW,
    **options: object,
) -> Verdict:
    return decide(record, matches or [], window, attempts, now, window_opens=opens, **options)  # type: ignore[arg-type]


def codes(result: Verdict) -> list[str]:
    return [reason.code for reason in result.reasons]


def phone(list_id: UUID = LIST_A, entry_id: UUID = ENTRY_1, expires_at: int | None = None) -> SuppressionEntry:
    return SuppressionEntry(list_id, "voice", "phone", "+12125550123", entry_id, expires_at)


# --- the record ------------------------------------------------------------------------


def test_a_ready_general_record_inside_its_window_is_allowed() -> None:
    assert verdict() == Verdict(allowed=True, reasons=[], next_allowed=None)


@pytest.mark.parametrize("record_type", list(RecordType), ids=lambda t: t.name.lower())
def test_each_record_type(record_type: RecordType) -> None:
    scheduled = epoch(NOW - timedelta(minutes=5)) if record_type in SCHEDULED_TYPES else None
    result = verdict(RecordView(record_type, RecordStatus.READY, scheduled))
    if record_type in DIALABLE_TYPES:
        assert result.allowed, result
    else:
        assert not result.allowed
        assert codes(result) == ["record_type_not_dialable"]
        assert result.next_allowed is None
        assert f"record type {int(record_type)} (" in result.reasons[0].text


def test_the_dialable_types_are_general_rescheduled_and_callbacks() -> None:
    assert {int(t) for t in DIALABLE_TYPES} == {2, 3, 4, 5, 6}
    assert "never dialled" in verdict(RecordView(RecordType.NO_CALL, RecordStatus.READY)).reasons[0].text


@pytest.mark.parametrize("status", list(RecordStatus), ids=lambda s: s.name.lower())
def test_each_record_status(status: RecordStatus) -> None:
    result = verdict(RecordView(RecordType.GENERAL, status))
    if status == RecordStatus.READY:
        assert result.allowed
    else:
        assert codes(result) == ["record_status_not_ready"]
        assert result.next_allowed is None
        assert f"record status {int(status)} (" in result.reasons[0].text


def test_an_unknown_code_is_named_as_such() -> None:
    result = verdict(RecordView(42, 17))
    assert codes(result) == ["record_type_not_dialable", "record_status_not_ready"]
    assert "42 (not a known code)" in result.reasons[0].text


@pytest.mark.parametrize("record_type", sorted(SCHEDULED_TYPES), ids=lambda t: t.name.lower())
def test_a_callback_or_rescheduled_record_before_its_time_waits_for_it(record_type: RecordType) -> None:
    due = NOW + timedelta(hours=2)  # 13:00 EDT: inside the window
    result = verdict(RecordView(record_type, RecordStatus.READY, epoch(due)))
    assert not result.allowed
    assert codes(result) == ["scheduled_later"]
    assert result.reasons[0].until == due
    assert result.next_allowed == due


@pytest.mark.parametrize("record_type", sorted(SCHEDULED_TYPES), ids=lambda t: t.name.lower())
def test_a_callback_at_or_after_its_time_is_allowed(record_type: RecordType) -> None:
    assert verdict(RecordView(record_type, RecordStatus.READY, epoch(NOW))).allowed
    assert verdict(RecordView(record_type, RecordStatus.READY, epoch(NOW - timedelta(days=1)))).allowed


def test_a_callback_due_at_night_waits_for_the_window_too() -> None:
    due = datetime(2026, 3, 11, 2, tzinfo=UTC)  # 22:00 EDT on Tuesday
    result = verdict(RecordView(RecordType.PERSONAL_CALLBACK, RecordStatus.READY, epoch(due)))
    assert codes(result) == ["scheduled_later"]
    assert result.next_allowed == datetime(2026, 3, 11, 12, tzinfo=UTC)  # Wednesday 08:00 EDT


def test_a_callback_goes_through_the_window_and_suppression_like_a_first_attempt() -> None:
    night = datetime(2026, 3, 11, 3, tzinfo=UTC)  # 23:00 EDT
    record = RecordView(RecordType.CAMPAIGN_CALLBACK, RecordStatus.READY, epoch(night - timedelta(hours=1)))
    result = verdict(record, [phone()], windows.check(RULES, TARGET, night), now=night)
    assert codes(result) == ["suppressed", "outside_hours"]


@pytest.mark.parametrize("record_type", sorted(SCHEDULED_TYPES), ids=lambda t: t.name.lower())
def test_a_callback_without_its_time_is_refused(record_type: RecordType) -> None:
    result = verdict(RecordView(record_type, RecordStatus.READY, None))
    assert codes(result) == ["schedule_missing"]
    assert result.next_allowed is None


def test_a_general_record_retried_later_waits_for_its_time() -> None:
    due = NOW + timedelta(minutes=30)
    result = verdict(RecordView(RecordType.GENERAL, RecordStatus.READY, epoch(due)))
    assert codes(result) == ["scheduled_later"]
    assert result.next_allowed == due


def test_record_view_of_a_record() -> None:
    record = Record(
        record_id=ENTRY_1, chain_n=1, contact_info="+12125550123", contact_info_type=1,
        record_type=5, record_status=1, dial_sched_time=1_800_000_000,
        time_zone=NEW_YORK, time_zone_rule="device",
    )
    assert RecordView.of_record(record) == RecordView(5, 1, 1_800_000_000)


# --- suppression -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "kind", "value", "words"),
    [
        ("voice", "phone", "+12125550123", "phone number"),
        ("voice", "client_id", "CUST-0042", "client id"),
        ("email", "email", "jane.doe@example.com", "e-mail address"),
    ],
)
def test_suppressed_by_each_kind_names_the_list_and_the_entry(
    channel: str, kind: str, value: str, words: str
) -> None:
    entry = SuppressionEntry(LIST_B, channel, kind, value, ENTRY_2)  # type: ignore[arg-type]
    result = verdict(matches=[entry])
    assert not result.allowed
    assert result.reasons == [
        Reason(
            code="suppressed",
            text=f"the {words} {value} is on suppression list {LIST_B} (entry {ENTRY_2}), permanently",
            list_id=LIST_B,
            entry_id=ENTRY_2,
            kind=kind,
        )
    ]
    assert result.next_allowed is None  # a permanent entry has no end


def test_each_active_entry_is_a_reason_of_its_own() -> None:
    entries = [
        SuppressionEntry(LIST_B, "voice", "client_id", "CUST-0042", ENTRY_3),
        phone(LIST_B, ENTRY_2),
        phone(LIST_A, ENTRY_1),
    ]
    result = verdict(matches=entries)
    assert [(r.list_id, r.entry_id) for r in result.reasons] == [
        (LIST_A, ENTRY_1), (LIST_B, ENTRY_3), (LIST_B, ENTRY_2),
    ]


def test_an_expired_entry_is_ignored() -> None:
    assert verdict(matches=[phone(expires_at=epoch(NOW))]).allowed
    assert verdict(matches=[phone(expires_at=epoch(NOW) - 3600)]).allowed


def test_an_entry_that_expires_later_denies_until_then() -> None:
    until = NOW + timedelta(hours=1, seconds=1)
    result = verdict(matches=[phone(expires_at=epoch(until)), phone(LIST_B, ENTRY_2, expires_at=epoch(NOW) - 1)])
    assert codes(result) == ["suppressed"]
    assert result.reasons[0].until == until
    assert "until 2026-03-10 16:00:01 UTC" in result.reasons[0].text
    assert result.next_allowed == until


# --- the calling window ----------------------------------------------------------------


def test_a_closed_window_gives_its_reasons_and_when_it_opens() -> None:
    evening = datetime(2026, 3, 11, 1, 30, tzinfo=UTC)  # Tuesday 21:30 EDT
    result = verdict(window=windows.check(RULES, TARGET, evening), now=evening)
    assert not result.allowed
    assert result.reasons == [
        Reason(
            code="outside_hours",
            text=result.reasons[0].text,
            zone=NEW_YORK,
            region="default",
        )
    ]
    assert "outside the calling hours 08:00–21:00" in result.reasons[0].text
    assert result.next_allowed == datetime(2026, 3, 11, 12, tzinfo=UTC)


def test_holidays_of_a_region_and_the_record_window_each_give_a_reason() -> None:
    rules = windows.CallingRules(regions={"US-NY": windows.RegionRules.of(holidays=["2026-03-10"])})
    target = windows.Target(time_zone=NEW_YORK, country="US", state="NY", daily_from=18 * 3600, daily_till=20 * 3600)
    result = decide(
        READY_GENERAL, [], windows.check(rules, target, NOW), None, NOW,
        window_opens=lambda at: windows.next_allowed(rules, target, at),
    )
    assert codes(result) == ["holiday", "daily_window"]
    assert [(r.zone, r.region) for r in result.reasons] == [(NEW_YORK, "US-NY"), (NEW_YORK, "record")]
    assert result.next_allowed == datetime(2026, 3, 11, 22, tzinfo=UTC)  # Wednesday 18:00 EDT


def test_without_window_opens_a_closed_window_has_no_known_end() -> None:
    evening = datetime(2026, 3, 11, 1, 30, tzinfo=UTC)
    result = decide(READY_GENERAL, [], windows.check(RULES, TARGET, evening), None, evening)
    assert codes(result) == ["outside_hours"]
    assert result.next_allowed is None


def test_a_window_that_never_opens_within_the_horizon_has_no_known_end() -> None:
    target = windows.Target(time_zone=NEW_YORK, daily_from=3600, daily_till=3600)  # empty
    result = decide(
        READY_GENERAL, [], windows.check(RULES, target, NOW), None, NOW,
        window_opens=lambda at: windows.next_allowed(RULES, target, at),
    )
    assert codes(result) == ["daily_window"]
    assert result.next_allowed is None


def test_a_window_not_checked_denies() -> None:
    result = verdict(window=None)
    assert codes(result) == ["validation_failed"]
    assert result.next_allowed is None


# --- attempt rules ---------------------------------------------------------------------


def test_an_attempt_rule_breach_denies_until_the_rule_allows() -> None:
    rule = contact_rules.AttemptRule("two in 4 h", 2, by="both", in_last_hours=4)
    history = contact_rules.AttemptHistory(device=(NOW - timedelta(hours=3), NOW - timedelta(hours=1)))
    attempts = contact_rules.check([rule], None, history, NEW_YORK, NOW)
    result = verdict(attempts=attempts)
    assert not result.allowed
    assert result.reasons == [
        Reason(
            code="attempts_in_hours",
            text=attempts.reasons[0].text,
            rule="two in 4 h",
            key="device",
            count=2,
            limit=2,
            until=NOW + timedelta(hours=1),
        )
    ]
    assert result.next_allowed == NOW + timedelta(hours=1)


def test_a_rule_kept_allows() -> None:
    rule = contact_rules.AttemptRule("three a day", 3)
    attempts = contact_rules.check([rule], None, contact_rules.AttemptHistory(client_id=(NOW,)), NEW_YORK, NOW)
    assert verdict(attempts=attempts).allowed


def test_today_rule_allows_again_at_the_next_local_opening() -> None:
    rule = contact_rules.AttemptRule("one a day", 1)
    attempts = contact_rules.check([rule], None, contact_rules.AttemptHistory(client_id=(NOW,)), NEW_YORK, NOW)
    result = verdict(attempts=attempts)
    assert codes(result) == ["attempts_today"]
    assert result.reasons[0].until == datetime(2026, 3, 11, 4, tzinfo=UTC)  # local midnight
    assert result.next_allowed == datetime(2026, 3, 11, 12, tzinfo=UTC)  # and 08:00 then


# --- an abandoned call -----------------------------------------------------------------

LONDON = "Europe/London"
GB_TARGET = windows.Target(time_zone=LONDON, country="GB")
UK_72 = AbandonedCallRule(regions={"GB": 72})
GB_72 = QuietHours(72, "GB")
DEVICE = "+441632960123"


def gb_opens(at: datetime) -> datetime | None:
    return windows.next_allowed(RULES, GB_TARGET, at)


def abandoned_verdict(ago: timedelta, now: datetime = NOW, quiet: QuietHours = GB_72) -> Verdict:
    return decide(
        READY_GENERAL, [], windows.check(RULES, GB_TARGET, now), None, now,
        window_opens=gb_opens, abandoned=AbandonedCall(DEVICE, now - ago, quiet),
    )


@pytest.mark.parametrize(
    ("rule", "target", "channel", "agent_reserved", "expected"),
    [
        (UK_72, GB_TARGET, "voice", False, GB_72),
        (UK_72, windows.Target(time_zone=LONDON, country="uk"), "voice", False, GB_72),  # "UK" read as GB
        (UK_72, GB_TARGET, "voice", True, None),  # an agent is reserved before the call is placed
        (UK_72, GB_TARGET, "sms", False, None),  # not applied to other channels
        (UK_72, GB_TARGET, "email", False, None),
        (UK_72, TARGET, "voice", False, None),  # a US contact: no region of it sets the rule
        (UK_72, windows.Target(time_zone=LONDON), "voice", False, None),  # no country: the default's
        (AbandonedCallRule(), GB_TARGET, "voice", False, None),
        # The most specific region that sets it wins; the default where none does.
        (AbandonedCallRule(24, {"US": 48, "US-FL": 12}), windows.Target(time_zone=NEW_YORK, country="US", state="FL"),
         "voice", False, QuietHours(12, "US-FL")),
        (AbandonedCallRule(24, {"US": 48, "US-FL": 12}), TARGET, "voice", False, QuietHours(48, "US")),
        (AbandonedCallRule(24, {"US": 48, "US-FL": 12}), GB_TARGET, "voice", False, QuietHours(24, "default")),
        (AbandonedCallRule(24, {"US-FL": 12}), TARGET, "voice", False, QuietHours(24, "default")),
        (AbandonedCallRule(24, {"US": 48}), windows.Target(time_zone=NEW_YORK, country="US", state="US-FL"),
         "voice", False, QuietHours(48, "US")),
    ],
)
def test_which_quiet_hours_apply_to_a_call(
    rule: AbandonedCallRule, target: windows.Target, channel: str, agent_reserved: bool, expected: QuietHours | None
) -> None:
    assert abandoned_quiet_hours(rule, target, channel=channel, agent_reserved=agent_reserved) == expected


@pytest.mark.parametrize(
    ("ago", "allowed"),
    [
        (timedelta(minutes=5), False),
        (timedelta(hours=71, minutes=59, seconds=59), False),
        (timedelta(hours=72), True),  # exactly at the end of the quiet hours: allowed again
        (timedelta(hours=72, seconds=1), True),
        (timedelta(hours=73), True),
        (timedelta(hours=-1), False),  # stamped after now (clock skew): quiet from its own stamp
    ],
    ids=["5 min", "just inside", "exactly 72 h", "just outside", "73 h", "stamped later"],
)
def test_an_abandoned_call_denies_within_the_quiet_hours(ago: timedelta, allowed: bool) -> None:
    result = abandoned_verdict(ago)
    assert result.allowed is allowed
    if allowed:
        assert result == Verdict(allowed=True, reasons=[], next_allowed=None)
        return
    until = NOW - ago + timedelta(hours=72)
    assert codes(result) == ["abandoned_recently"]
    assert result.reasons[0].region == "GB"
    assert result.reasons[0].until == until
    assert result.next_allowed == until  # inside the calling window


def test_the_reason_names_when_the_call_was_abandoned_and_until_when() -> None:
    result = abandoned_verdict(timedelta(hours=1))
    assert result.reasons == [
        Reason(
            code="abandoned_recently",
            text="a call to +441632960123 was abandoned at 2026-03-10 14:00:00 UTC; GB allows no "
            "repeat call within 72 h of an abandoned call unless an agent is reserved before it is "
            "placed: not before 2026-03-13 14:00:00 UTC",
            region="GB",
            until=datetime(2026, 3, 13, 14, tzinfo=UTC),
        )
    ]
    default = abandoned_verdict(timedelta(hours=1), quiet=QuietHours(24, "default"))
    assert "the default region allows no repeat call within 24 h" in default.reasons[0].text
    assert default.next_allowed == NOW + timedelta(hours=23)


def test_quiet_hours_ending_at_night_wait_for_the_window() -> None:
    # Abandoned on Saturday 21:30 GMT: 72 h on is Tuesday 21:30 GMT, after the 21:00 closing.
    abandoned_at = datetime(2026, 3, 7, 21, 30, tzinfo=UTC)
    result = abandoned_verdict(NOW - abandoned_at)
    assert codes(result) == ["abandoned_recently"]
    assert result.reasons[0].until == datetime(2026, 3, 10, 21, 30, tzinfo=UTC)
    assert result.next_allowed == datetime(2026, 3, 11, 8, tzinfo=UTC)  # Wednesday 08:00 GMT


def test_an_abandoned_call_with_other_reasons_waits_for_the_latest() -> None:
    rule = contact_rules.AttemptRule("one in 4 h", 1, by="device", in_last_hours=4)
    attempts = contact_rules.check(
        [rule], None, contact_rules.AttemptHistory(device=(NOW - timedelta(hours=1),)), LONDON, NOW
    )
    result = decide(
        READY_GENERAL, [], windows.check(RULES, GB_TARGET, NOW), attempts, NOW,
        window_opens=gb_opens, abandoned=AbandonedCall(DEVICE, NOW - timedelta(hours=1), GB_72),
    )
    assert codes(result) == ["attempts_in_hours", "abandoned_recently"]
    assert result.next_allowed == NOW + timedelta(hours=71)
    # An unanswered question still leaves no known end.
    missing = Reason(code="settings_unavailable", text="no settings")
    result = decide(
        READY_GENERAL, [], None, None, NOW, unavailable=[missing],
        abandoned=AbandonedCall(DEVICE, NOW - timedelta(hours=1), GB_72),
    )
    assert codes(result) == ["settings_unavailable", "abandoned_recently"]
    assert result.next_allowed is None


def test_an_abandoned_call_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        decide(
            READY_GENERAL, [], OPEN, None, NOW,
            abandoned=AbandonedCall(DEVICE, NOW.replace(tzinfo=None), GB_72),
        )


def test_settings_become_the_abandoned_call_rule() -> None:
    settings = ComplianceSettings(
        regions={
            "GB": RegionCompliance(abandoned_quiet_hours=72),
            "US-FL": RegionCompliance(hours=WeeklyHours(daily=hours("08:00", "20:00"))),
            "US": RegionCompliance(abandoned_quiet_hours=24),
        }
    )
    rule = abandoned_call_rule(settings)
    assert rule == AbandonedCallRule(None, {"GB": 72, "US": 24})
    assert compliance_rules(settings)[2] == rule
    assert abandoned_call_rule(ComplianceSettings(default=RegionCompliance(abandoned_quiet_hours=1))) == (
        AbandonedCallRule(1)
    )


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (ComplianceSettings(regions={"GB": RegionCompliance(abandoned_quiet_hours=0)}), "regions.GB.abandoned_quiet_hours"),
        (ComplianceSettings(default=RegionCompliance(abandoned_quiet_hours=721)), "default.abandoned_quiet_hours"),
    ],
)
def test_quiet_hours_out_of_bounds_name_their_field(settings: ComplianceSettings, field: str) -> None:
    with pytest.raises(RuleViolation) as raised:
        compliance_rules(settings)
    assert raised.value.field == field
    assert "1–720" in raised.value.detail


@pytest.mark.parametrize("value", [0, 721, "72", 7.5])
def test_quiet_hours_decode_strictly(value: object) -> None:
    with pytest.raises(msgspec.ValidationError, match="abandoned_quiet_hours"):
        msgspec.convert({"regions": {"GB": {"abandoned_quiet_hours": value}}}, ComplianceSettings)
    for good in (1, 72, 720, None):
        converted = msgspec.convert({"regions": {"GB": {"abandoned_quiet_hours": good}}}, ComplianceSettings)
        assert converted.regions["GB"].abandoned_quiet_hours == good


# --- together --------------------------------------------------------------------------


def test_every_reason_at_once_and_the_latest_end_moved_into_the_window() -> None:
    evening = datetime(2026, 3, 11, 0, 30, tzinfo=UTC)  # Tuesday 20:30 EDT
    record = RecordView(RecordType.CAMPAIGN_CALLBACK, RecordStatus.READY, epoch(evening + timedelta(minutes=20)))
    window = windows.check(RULES, TARGET, evening)
    rule = contact_rules.AttemptRule("one in 48 h", 1, by="device", in_last_hours=48)
    attempts = contact_rules.check(
        [rule], None, contact_rules.AttemptHistory(device=(evening - timedelta(hours=10),)), NEW_YORK, evening
    )
    expiring = phone(LIST_B, ENTRY_2, expires_at=epoch(evening + timedelta(hours=30)))
    result = verdict(record, [expiring, phone(expires_at=epoch(evening))], window, attempts, now=evening)
    # The window is open (20:30 < 21:00); the expired entry is no reason.
    assert codes(result) == ["scheduled_later", "suppressed", "attempts_in_hours"]
    # Latest end: the attempt rule, 38 h on (Thursday 10:30 EDT), inside the window.
    assert result.next_allowed == evening + timedelta(hours=38)

    night = evening + timedelta(hours=1)  # 21:30 EDT
    attempts = contact_rules.check(
        [rule], None, contact_rules.AttemptHistory(device=(night - timedelta(hours=47, minutes=30),)), NEW_YORK, night
    )
    late_record = RecordView(RecordType.CAMPAIGN_CALLBACK, RecordStatus.READY, epoch(night + timedelta(minutes=5)))
    result = verdict(
        late_record, [phone(LIST_B, ENTRY_2, expires_at=epoch(night + timedelta(minutes=10)))],
        windows.check(RULES, TARGET, night), attempts, now=night,
    )
    assert codes(result) == ["scheduled_later", "suppressed", "outside_hours", "attempts_in_hours"]
    assert result.next_allowed == datetime(2026, 3, 11, 12, tzinfo=UTC)  # Wednesday 08:00 EDT


def test_a_reason_without_an_end_leaves_next_allowed_open() -> None:
    due = NOW + timedelta(hours=1)
    result = verdict(RecordView(RecordType.PERSONAL_CALLBACK, RecordStatus.STALE, epoch(due)), [phone()])
    assert codes(result) == ["record_status_not_ready", "scheduled_later", "suppressed"]
    assert result.next_allowed is None


def test_unavailable_answers_deny_first_with_no_end() -> None:
    missing = Reason(code="index_unavailable", text="the suppression index did not answer")
    result = verdict(unavailable=[missing])
    assert result == Verdict(allowed=False, reasons=[missing], next_allowed=None)
    result = verdict(RecordView(RecordType.NO_CALL, RecordStatus.READY), window=None, unavailable=[missing])
    assert codes(result) == ["index_unavailable", "record_type_not_dialable"]


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        decide(READY_GENERAL, [], OPEN, None, NOW.replace(tzinfo=None))


def test_a_verdict_encodes_without_empty_details() -> None:
    result = verdict(matches=[phone(expires_at=epoch(NOW + timedelta(hours=1)))])
    body = msgspec.json.decode(msgspec.json.encode(result))
    assert body == {
        "allowed": False,
        "reasons": [
            {
                "code": "suppressed",
                "text": result.reasons[0].text,
                "list_id": str(LIST_A),
                "entry_id": str(ENTRY_1),
                "kind": "phone",
                "until": "2026-03-10T16:00:00Z",
            }
        ],
        "next_allowed": "2026-03-10T16:00:00Z",
    }


# --- compliance settings to rules ------------------------------------------------------


def hours(opens: str, closes: str) -> CallingHours:
    return CallingHours(opens=opens, closes=closes)


def test_default_settings_are_08_to_21_every_day_and_no_rules() -> None:
    rules, attempts, abandoned = compliance_rules(ComplianceSettings())
    assert rules == windows.CallingRules()
    assert attempts == []
    assert abandoned == AbandonedCallRule()
    bare = ComplianceSettings(default=RegionCompliance())  # null hours: the standard week
    assert calling_rules(bare) == windows.CallingRules()


def test_settings_become_calling_rules() -> None:
    settings = ComplianceSettings(
        default=RegionCompliance(
            hours=WeeklyHours(daily=hours("09:00", "20:00"), weekdays={"Sun": None, "saturday": hours("10:00", "14:00")}),
            holidays=(date(2026, 12, 25),),
        ),
        regions={
            "US-FL": RegionCompliance(hours=WeeklyHours(daily=hours("08:00", "20:00"))),
            "GB": RegionCompliance(blocked_dates=(date(2026, 12, 26),)),
        },
    )
    nine_to_eight = windows.Hours.of("09:00", "20:00")
    assert calling_rules(settings) == windows.CallingRules(
        windows.RegionRules.of(
            windows.Week((nine_to_eight,) * 5 + (windows.Hours.of("10:00", "14:00"), None)),
            holidays=["2026-12-25"],
        ),
        {
            "US-FL": windows.RegionRules(windows.Week.every_day(windows.Hours.of("08:00", "20:00"))),
            "GB": windows.RegionRules.of(blocked_dates=["2026-12-26"]),
        },
    )


def test_settings_become_attempt_rules() -> None:
    settings = ComplianceSettings(
        attempt_rules=(
            AttemptRuleSettings(name=" three a day ", max_attempts=3, by="both"),
            AttemptRuleSettings(
                name="one in 72 h", max_attempts=1, by="device", in_last_hours=72,
                required=False, campaign_groups=("Collections",),
            ),
        )
    )
    assert attempt_rules(settings) == [
        contact_rules.AttemptRule("three a day", 3, by="both"),
        contact_rules.AttemptRule(
            "one in 72 h", 1, by="device", in_last_hours=72, required=False,
            campaign_groups=frozenset({"Collections"}),
        ),
    ]


BAD_SETTINGS = [
    ({"default": {"hours": {"daily": {"opens": "21:00", "closes": "08:00"}}}}, "default.hours.daily"),
    ({"default": {"hours": {"daily": {"opens": "08:00", "closes": "24:01"}}}}, "default.hours.daily"),
    ({"default": {"hours": {"weekdays": {"friday": {"opens": "25:00", "closes": "26:00"}}}}},
     "default.hours.weekdays.friday"),
    ({"default": {"hours": {"weekdays": {"funday": None}}}}, "default.hours.weekdays.funday"),
    ({"default": {"hours": {"weekdays": {"sun": None, "Sunday": None}}}}, "default.hours.weekdays.Sunday"),
    ({"regions": {"us-fl": {}}}, "regions.us-fl"),
    ({"regions": {"Florida": {}}}, "regions.Florida"),
    ({"regions": {"GB": {"hours": {"daily": {"opens": "10:00", "closes": "09:00"}}}}}, "regions.GB.hours.daily"),
    ({"regions": {"US-TX": {"hours": {"weekdays": {"mon": {"opens": "9:60", "closes": "10:00"}}}}}},
     "regions.US-TX.hours.weekdays.mon"),
    ({"attempt_rules": [{"name": "x", "max_attempts": 1, "campaign_groups": ["g"]}]}, "attempt_rules[0].campaign_groups"),
    ({"attempt_rules": [{"name": "  ", "max_attempts": 1}]}, "attempt_rules[0].name"),
    ({"attempt_rules": [{"name": "x", "max_attempts": 1}, {"name": "X ", "max_attempts": 2}]}, "attempt_rules[1].name"),
]


@pytest.mark.parametrize(("body", "field"), BAD_SETTINGS)
def test_bad_settings_name_their_field(body: dict[str, object], field: str) -> None:
    settings = msgspec.convert(body, ComplianceSettings)
    with pytest.raises(RuleViolation) as raised:
        compliance_rules(settings)
    assert raised.value.field == field, raised.value.detail


def test_normalised_settings_name_weekdays_in_full_and_sort_dates() -> None:
    settings = ComplianceSettings(
        default=RegionCompliance(
            hours=None, holidays=(date(2026, 12, 25), date(2026, 1, 1), date(2026, 12, 25))
        ),
        regions={"GB": RegionCompliance(hours=WeeklyHours(weekdays={"SAT": None, " Sun": hours("12:00", "16:00")}))},
        attempt_rules=(
            AttemptRuleSettings(name=" r ", max_attempts=1, required=False, campaign_groups=(" g ", "g")),
        ),
    )
    settings = msgspec.structs.replace(
        settings, regions={"GB": msgspec.structs.replace(settings.regions["GB"], abandoned_quiet_hours=72)}
    )
    result = normalised(settings)
    assert result.regions["GB"].abandoned_quiet_hours == 72
    assert result.default.hours == WeeklyHours()
    assert result.default.holidays == (date(2026, 1, 1), date(2026, 12, 25))
    assert result.regions["GB"].hours == WeeklyHours(weekdays={"saturday": None, "sunday": hours("12:00", "16:00")})
    assert result.attempt_rules[0].name == "r"
    assert result.attempt_rules[0].campaign_groups == ("g",)
    assert compliance_rules(result) == compliance_rules(settings)
    assert normalised(result) == result


def test_rules_for_a_group_by_id_or_name() -> None:
    required = contact_rules.AttemptRule("all", 5)
    by_name = contact_rules.AttemptRule("named", 1, required=False, campaign_groups=frozenset({"Sales"}))
    by_id = contact_rules.AttemptRule("by id", 2, required=False, campaign_groups=frozenset({str(LIST_A)}))
    rules = [required, by_name, by_id]
    assert [r.name for r in rules_for_group(rules, None, None)] == ["all"]
    assert [r.name for r in rules_for_group(rules, str(LIST_A), None)] == ["all", "by id"]
    assert [r.name for r in rules_for_group(rules, str(LIST_B), "Sales")] == ["all", "named"]
    assert all(r.required for r in rules_for_group(rules, str(LIST_A), "Sales"))


def test_a_denials_codes_are_read_back_from_its_detail() -> None:
    from domain.predial import Reason, denial_codes, denial_detail

    reasons = [
        Reason(code="suppressed", text="on the DNC list; added by: the CRM"),  # "; " inside a text
        Reason(code="outside_hours", text="it is 07:00 in America/Los_Angeles"),
        Reason(code="suppressed", text="on a second list"),
    ]
    assert denial_codes(denial_detail(reasons)) == ["suppressed", "outside_hours"]
    assert denial_codes("") == []
    assert denial_codes("index_unavailable: Redis did not answer") == ["index_unavailable"]
