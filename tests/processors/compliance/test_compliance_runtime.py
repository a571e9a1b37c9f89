"""Compliance wired in one process: suppression lists through the handlers, the index following
the log, the pre-dial gate, entries that expire by event, and the quiet hours after an abandoned
call, read from attempts reported through the handlers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, SUPPRESSION_EXPIRY, SUPPRESSION_INDEX, Runtime, build
from dialstream.settings import Settings
from domain import record_chain
from domain.codes import CallResult
from domain.contact_list import CreateContactList
from domain.predial import Verdict
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.compliance.predial import PreDialRequest
from processors.host.schedule import Scheduler
from processors.suppression.expiry import SuppressionExpirySweeper
from processors.suppression.projection import SuppressionIndexFollower
from schemas.records import Contact, Record, RecordChainImported
from schemas.settings import CallingHours, ComplianceSettings, RegionCompliance, WeeklyHours
from tests.imports.support import running

NUMBER = "+12125550143"


def gate(runtime: Runtime, contact_info: str = NUMBER, client_id: str = "C1") -> list[str]:
    assert runtime.predial is not None
    verdict = runtime.predial.validate(
        PreDialRequest(
            account_id=DEFAULT_ACCOUNT_ID,
            client_id=client_id,
            contact_info=contact_info,
            time_zone="America/New_York",
        )
    )
    return sorted(reason.code for reason in verdict.reasons if reason.code == "suppressed")


def settle(runtime: Runtime, position: int) -> None:
    assert runtime.wait(position, 10)
    follower = runtime.services[SUPPRESSION_INDEX]
    assert isinstance(follower, SuppressionIndexFollower)
    assert follower.wait_until(position, 10)


def test_entries_added_and_removed_through_the_handlers_reach_the_gate(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        made = runtime.handlers.suppression.create_list(
            DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="internal dnc", required=True)
        )
        settle(runtime, made.position)
        assert gate(runtime) == []
        added = runtime.handlers.suppression.add_entries(
            DEFAULT_ACCOUNT_ID,
            made.id,
            [EntryInput(kind="phone", value="(212) 555-0143"), EntryInput(kind="client_id", value="C9")],
        )
        settle(runtime, added.done.position)
        assert gate(runtime) == ["suppressed"]
        assert gate(runtime, "+12125550144", "C9") == ["suppressed"], "client ids are suppressed too"
        assert gate(runtime, "+12125550144", "C1") == []
        removed = runtime.handlers.suppression.remove_entries(
            DEFAULT_ACCOUNT_ID, made.id, [EntryInput(kind="phone", value="+12125550143")]
        )
        settle(runtime, removed.done.position)
        assert gate(runtime) == []


def test_an_optional_list_applies_only_where_a_group_selects_it(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        made = runtime.handlers.suppression.create_list(
            DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="partner dnc", required=False)
        )
        added = runtime.handlers.suppression.add_entries(
            DEFAULT_ACCOUNT_ID, made.id, [EntryInput(kind="phone", value=NUMBER)]
        )
        settle(runtime, added.done.position)
        assert gate(runtime) == [], "no campaign group selected it"


def test_entries_of_a_list_kept_today_expire_by_event_after_the_local_midnight(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        made = runtime.handlers.suppression.create_list(
            DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="today only", required=True, retention_days=0)
        )
        added = runtime.handlers.suppression.add_entries(
            DEFAULT_ACCOUNT_ID, made.id, [EntryInput(kind="phone", value=NUMBER)]
        )
        settle(runtime, added.done.position)
        assert gate(runtime) == ["suppressed"]
        scheduler = runtime.services[SUPPRESSION_EXPIRY]
        assert isinstance(scheduler, Scheduler)
        sweeper = scheduler.schedule.job
        assert isinstance(sweeper, SuppressionExpirySweeper)
        assert sweeper.sweep(datetime.now(UTC)) == 0, "not before the end of the day"
        assert sweeper.sweep(datetime.now(UTC) + timedelta(days=1, hours=1)) == 1
        settle(runtime, runtime.store.position())
        expired = [
            event
            for _, event in runtime.store.read(after=0, limit=10_000)
            if event.originator_id == made.id and type(event).__name__ == "SuppressionEntriesExpired"
        ]
        assert len(expired) == 1
        assert gate(runtime) == []
        assert sweeper.sweep(datetime.now(UTC) + timedelta(days=2)) == 0, "expired once"


# --- the quiet hours after an abandoned call ------------------------------------------------

LONDON = "Europe/London"
NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)  # Tuesday 15:00 GMT: inside 08:00–21:00 in London
RECENT = "+441632960143"  # abandoned an hour ago
LONG_AGO = "+441632960144"  # abandoned 73 hours ago
US_NUMBER = "+12125550145"  # abandoned an hour ago, in a region without the rule


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def abandon(runtime: Runtime, clock: Clock, list_id: UUID, client_id: str, number: str, at: datetime) -> None:
    """A record whose call, placed at ``at``, a person answered and no agent took: abandoned."""
    chain_id = record_chain.chain_id(list_id, client_id)
    country, zone = ("US", "America/New_York") if number.startswith("+1") else ("GB", LONDON)
    runtime.store.append([
        RecordChainImported(
            originator_id=chain_id, originator_version=1, timestamp=at, account_id=DEFAULT_ACCOUNT_ID,
            list_id=list_id, client_id=client_id, job_id=uuid4(), line=2,
            records=[Record(
                record_id=record_chain.record_id(chain_id, 1), chain_n=1, contact_info=number,
                contact_info_type=1, time_zone=zone, time_zone_rule="device",
            )],
            contact=Contact(country=country),
        )
    ])
    chain = runtime.store.load(chain_id, record_chain.project)
    assert chain is not None
    attempts = runtime.handlers.attempts
    clock.now = at
    _, attempt_id, made = attempts.make_attempt(chain, 1, attempt_id=uuid4(), channel="voice", campaign_group_id=None)
    assert made is not None
    record_id = record_chain.record_id(chain_id, 1)
    clock.now = at + timedelta(seconds=12)
    attempts.answered(DEFAULT_ACCOUNT_ID, record_id, attempt_id, answered_by="person", ring_ms=12_000)
    clock.now = at + timedelta(seconds=14)
    attempts.abandoned(DEFAULT_ACCOUNT_ID, record_id, attempt_id, wait_ms=2_000, message_played=True)
    clock.now = at + timedelta(seconds=20)
    attempts.finished(
        DEFAULT_ACCOUNT_ID, record_id, attempt_id, call_result=CallResult.ABANDONED, ring_ms=12_000, talk_ms=0
    )


def validate(runtime: Runtime, number: str, **fields: Any) -> Verdict:
    assert runtime.predial is not None
    us = number.startswith("+1")
    values: dict[str, Any] = {
        "account_id": DEFAULT_ACCOUNT_ID,
        "client_id": f"client {number}",
        "contact_info": number,
        "contact_info_type": 1,
        "time_zone": "America/New_York" if us else LONDON,
        "country": "US" if us else "GB",
    }
    values.update(fields)
    return runtime.predial.validate(PreDialRequest(**values))


def test_a_number_whose_call_was_abandoned_is_not_called_again_for_72_hours(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        clock = Clock(NOW - timedelta(hours=80))
        runtime.handlers.clock = clock
        rule = ComplianceSettings(regions={"GB": RegionCompliance(abandoned_quiet_hours=72)})
        runtime.handlers.accounts.change_compliance_settings(DEFAULT_ACCOUNT_ID, rule)
        list_id = runtime.handlers.lists.create(DEFAULT_ACCOUNT_ID, CreateContactList(name="abandons")).id
        abandon(runtime, clock, list_id, "C1", LONG_AGO, NOW - timedelta(hours=73, seconds=14))
        abandoned_at = NOW - timedelta(hours=1)
        abandon(runtime, clock, list_id, "C2", RECENT, abandoned_at - timedelta(seconds=14))
        abandon(runtime, clock, list_id, "C3", US_NUMBER, abandoned_at - timedelta(seconds=14))
        clock.now = NOW
        settle(runtime, runtime.store.position())

        denied = validate(runtime, RECENT)
        assert not denied.allowed
        assert [reason.code for reason in denied.reasons] == ["abandoned_recently"]
        assert denied.next_allowed == abandoned_at + timedelta(hours=72)
        assert denied.reasons[0].until == abandoned_at + timedelta(hours=72)
        assert denied.reasons[0].text == (
            "a call to +441632960143 was abandoned at 2026-03-10 14:00:00 UTC; GB allows no repeat "
            "call within 72 h of an abandoned call unless an agent is reserved before it is placed: "
            "not before 2026-03-13 14:00:00 UTC"
        )
        assert validate(runtime, RECENT, agent_reserved=True).allowed, "an agent is reserved first"
        assert validate(runtime, RECENT, channel="sms", contact_info_type=4).allowed, "voice only"
        assert validate(runtime, LONG_AGO).allowed, "abandoned 73 h ago"
        assert validate(runtime, US_NUMBER).allowed, "the US sets no quiet hours"

        clock.now = abandoned_at + timedelta(hours=72)
        assert validate(runtime, RECENT).allowed, "the quiet hours are over"


def test_the_gate_holds_the_compliance_settings_the_log_has_before_the_read_models_do(tmp_path: Path) -> None:
    """The settings come from the event store (in a dialer's step, the account it keeps): a
    change is in force at the next dial, however far the read models trail."""
    runtime = build(Settings(data_dir=tmp_path))  # not started: no read model follows the log
    try:
        account_id = runtime.handlers.accounts.open_account("Acme").id
        all_day = WeeklyHours(daily=CallingHours(opens="00:00", closes="23:59"))
        today = datetime.now(ZoneInfo("America/New_York")).date()
        for days in ((today,), ()):
            settings = ComplianceSettings(default=RegionCompliance(hours=all_day, blocked_dates=days))
            runtime.handlers.accounts.change_compliance_settings(account_id, settings)
            codes = {reason.code for reason in validate(runtime, US_NUMBER, account_id=account_id).reasons}
            # (The suppression index is not built either: its own reason denies the call too.)
            assert "settings_unavailable" not in codes and ("blocked_date" in codes) == bool(days)
    finally:
        runtime.stop()
