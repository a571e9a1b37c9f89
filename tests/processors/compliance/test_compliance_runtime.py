"""Compliance wired in one process: suppression lists through the handlers, the index following
the log, the pre-dial gate, and entries that expire by event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, SUPPRESSION_EXPIRY, SUPPRESSION_INDEX, Runtime
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.compliance.predial import PreDialRequest
from processors.host.schedule import Scheduler
from processors.suppression.expiry import SuppressionExpirySweeper
from processors.suppression.projection import SuppressionIndexFollower
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
