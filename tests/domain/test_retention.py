"""Record retention rules: when a chain is due (account time zone), which chains are in scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from domain import record_chain, retention
from domain.codes import RecordStatus, RecordType
from domain.selection import parse
from schemas.lists import Retention
from schemas.records import Contact, Record, RecordChainImported, RecordChainReplaced

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def a_record(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "client_id": "C-1",
        "chain_n": 1,
        "contact_info": "+13125550101",
        "contact_info_type": 1,
        "record_type": RecordType.GENERAL,
        "record_status": RecordStatus.READY,
        "call_result": 28,
        "attempt": 0,
        "time_zone": "America/Chicago",
        "time_zone_rule": "device",
        "country": "US",
        "state": "IL",
        "postal_code": "60601",
        "imported_at": "2024-05-01T08:30:00+00:00",
        "custom": {"segment": "gold"},
    }
    record.update(fields)
    return record


# Due --------------------------------------------------------------------------------------


def test_permanent_is_never_due() -> None:
    imported = datetime(2000, 1, 1, tzinfo=UTC)
    assert not retention.due(Retention(days=None), imported_at=imported, now=datetime.now(UTC), zone=NEW_YORK)


def test_n_days_is_due_at_exactly_n_times_24_hours() -> None:
    imported = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    thirty = Retention(days=30)
    at = imported + timedelta(days=30)
    assert not retention.due(thirty, imported_at=imported, now=at - timedelta(microseconds=1), zone=NEW_YORK)
    assert retention.due(thirty, imported_at=imported, now=at, zone=NEW_YORK)
    assert retention.due(
        Retention(days=1), imported_at=imported, now=imported + timedelta(hours=24), zone=TOKYO
    )
    assert not retention.due(
        Retention(days=1), imported_at=imported, now=imported + timedelta(hours=23), zone=TOKYO
    )


def test_n_days_counts_elapsed_time_across_a_daylight_saving_change() -> None:
    # 10 March 2024: New York springs forward; 1 day is still 24 hours, whatever the wall clock says.
    imported = datetime(2024, 3, 9, 12, 0, tzinfo=NEW_YORK)
    assert not retention.due(
        Retention(days=1),
        imported_at=imported,
        now=datetime(2024, 3, 10, 12, 30, tzinfo=NEW_YORK),
        zone=NEW_YORK,
    )
    assert retention.due(
        Retention(days=1),
        imported_at=imported,
        now=datetime(2024, 3, 10, 13, 0, tzinfo=NEW_YORK),
        zone=NEW_YORK,
    )


def test_today_is_due_from_the_next_local_midnight_of_the_account() -> None:
    today = Retention(days=0)
    # 23:30 in New York on 1 May is 03:30 UTC on 2 May.
    imported = datetime(2024, 5, 2, 3, 30, tzinfo=UTC)
    local_midnight = datetime(2024, 5, 2, 0, 0, tzinfo=NEW_YORK)
    assert not retention.due(today, imported_at=imported, now=imported, zone=NEW_YORK)
    assert not retention.due(
        today, imported_at=imported, now=local_midnight - timedelta(microseconds=1), zone=NEW_YORK
    )
    assert retention.due(today, imported_at=imported, now=local_midnight, zone=NEW_YORK)
    # In UTC the same import was already on 2 May: its "today" ends 20 hours later.
    utc = ZoneInfo("UTC")
    assert not retention.due(today, imported_at=imported, now=local_midnight, zone=utc)
    assert retention.due(today, imported_at=imported, now=datetime(2024, 5, 3, tzinfo=UTC), zone=utc)


def test_today_at_one_minute_past_the_import_when_midnight_is_in_between() -> None:
    imported = datetime(2024, 5, 1, 23, 59, tzinfo=TOKYO)
    assert retention.due(
        Retention(days=0), imported_at=imported, now=imported + timedelta(minutes=1), zone=TOKYO
    )


# In scope ---------------------------------------------------------------------------------

DONE = [
    a_record(record_type=RecordType.NO_CALL, record_status=RecordStatus.READY),
    a_record(record_type=RecordType.NO_CALL, record_status=RecordStatus.RETRIEVED),
    a_record(record_type=RecordType.GENERAL, record_status=RecordStatus.UPDATED),
    a_record(record_type=RecordType.GENERAL, record_status=RecordStatus.CANCELLED),
    a_record(record_type=RecordType.UNKNOWN, record_status=RecordStatus.UPDATED),
    a_record(record_type=RecordType.NO_RECORD_TYPE, record_status=RecordStatus.CANCELLED),
]
NOT_DONE = [
    a_record(record_type=RecordType.GENERAL, record_status=RecordStatus.READY),
    a_record(record_type=RecordType.GENERAL, record_status=RecordStatus.RETRIEVED),
    a_record(record_type=RecordType.GENERAL, record_status=RecordStatus.STALE),
    a_record(record_type=RecordType.GENERAL, record_status=RecordStatus.AGENT_ERROR),
    a_record(record_type=RecordType.CAMPAIGN_RESCHEDULED, record_status=RecordStatus.UPDATED),
    a_record(record_type=RecordType.PERSONAL_RESCHEDULED, record_status=RecordStatus.UPDATED),
    a_record(record_type=RecordType.PERSONAL_CALLBACK, record_status=RecordStatus.UPDATED),
    a_record(record_type=RecordType.CAMPAIGN_CALLBACK, record_status=RecordStatus.CANCELLED),
]


@pytest.mark.parametrize("record", DONE)
def test_done_records(record: dict[str, Any]) -> None:
    assert retention.is_done(record)
    assert retention.in_scope("completed", [record], None)


@pytest.mark.parametrize("record", NOT_DONE)
def test_records_still_to_be_dialled(record: dict[str, Any]) -> None:
    assert not retention.is_done(record)
    assert not retention.in_scope("completed", [record], None)


def test_completed_needs_every_record_of_the_chain_done() -> None:
    assert retention.in_scope("completed", DONE, None)
    assert not retention.in_scope("completed", [*DONE, NOT_DONE[0]], None)


def test_not_in_progress_is_no_record_out_with_the_dialer() -> None:
    ready = a_record(record_status=RecordStatus.READY)
    updated = a_record(record_status=RecordStatus.UPDATED)
    retrieved = a_record(record_status=RecordStatus.RETRIEVED)
    assert retention.in_scope("not_in_progress", [ready, updated], None)
    assert not retention.in_scope("not_in_progress", [ready, retrieved], None)


def test_all_is_every_chain() -> None:
    assert retention.in_scope("all", [*NOT_DONE, *DONE], None)


def test_selection_needs_every_record_to_match() -> None:
    rule = parse("custom.segment = 'gold' and attempt >= 1")
    tried = a_record(attempt=2)
    fresh = a_record(attempt=0)
    assert retention.in_scope("selection", [tried, tried], rule)
    assert not retention.in_scope("selection", [tried, fresh], rule)
    assert not retention.in_scope("selection", [a_record(attempt=3, custom={"segment": "silver"})], rule)
    with pytest.raises(ValueError, match="selection rule"):
        retention.in_scope("selection", [tried], None)


def test_expired_is_due_and_in_scope() -> None:
    policy = Retention(days=30, scope="not_in_progress")
    imported = datetime(2024, 1, 1, tzinfo=UTC)
    late = imported + timedelta(days=31)
    ready = [a_record()]
    busy = [a_record(record_status=RecordStatus.RETRIEVED)]
    assert retention.expired(policy, None, records=ready, imported_at=imported, now=late, zone=NEW_YORK)
    assert not retention.expired(policy, None, records=busy, imported_at=imported, now=late, zone=NEW_YORK)
    assert not retention.expired(
        policy, None, records=ready, imported_at=imported, now=imported + timedelta(days=29), zone=NEW_YORK
    )


def test_describe_names_period_and_scope() -> None:
    assert retention.describe(Retention(days=30)) == "retention 30 days, completed"
    assert retention.describe(Retention(days=1, scope="all")) == "retention 1 day, all"
    assert (
        retention.describe(Retention(days=0, scope="not_in_progress")) == "retention today, not in progress"
    )
    assert (
        retention.describe(Retention(days=90, scope="selection", selection_rule=" attempt > 2 "))
        == "retention 90 days, selection: attempt > 2"
    )


# The stored chain ---------------------------------------------------------------------------


def _imported(chain: UUID, list_id: UUID, account: UUID, at: datetime, status: int) -> RecordChainImported:
    return RecordChainImported(
        originator_id=chain,
        originator_version=1,
        timestamp=at,
        account_id=account,
        list_id=list_id,
        client_id="C-9",
        job_id=uuid4(),
        line=2,
        records=[
            Record(
                record_id=record_chain.record_id(chain, 1),
                chain_n=1,
                contact_info="+13125550101",
                contact_info_type=1,
                record_status=status,
                time_zone="America/Chicago",
                time_zone_rule="device",
            )
        ],
        contact=Contact(postal_code="60601", country="US", state="IL"),
        custom={"segment": "gold"},
    )


def test_the_stored_chain_keeps_its_last_import_time_and_reads_like_the_read_model() -> None:
    list_id, account = uuid4(), uuid4()
    chain = record_chain.chain_id(list_id, "C-9")
    first = datetime(2024, 1, 1, 9, tzinfo=UTC)
    replaced_at = datetime(2024, 2, 1, 9, tzinfo=UTC)
    imported = _imported(chain, list_id, account, first, RecordStatus.READY)
    replaced = RecordChainReplaced(
        **{
            f: getattr(imported, f)
            for f in imported.__struct_fields__
            if f not in ("originator_version", "timestamp")
        },
        originator_version=2,
        timestamp=replaced_at,
    )
    stored = retention.project(None, [imported])
    assert stored is not None and stored.imported_at == first
    stored = retention.project(stored, [replaced])
    assert stored is not None and stored.imported_at == replaced_at and stored.chain.version == 2
    [row] = retention.records_of(stored)
    assert row["imported_at"] == replaced_at.isoformat()
    assert row["record_status"] == RecordStatus.READY and row["state"] == "IL"
    assert row["chain_id"] == str(chain) and row["custom"] == {"segment": "gold"}
    assert parse("imported_at >= '2024-02-01' and custom.segment = 'gold' and state = 'IL'").matches(row)
    deleted = record_chain.deletion(
        chain,
        version=2,
        list_id=list_id,
        client_id="C-9",
        account_id=account,
        reason="retention",
        job_id=None,
        detail="",
        now=replaced_at,
    )
    gone = retention.project(stored, [deleted])
    assert gone is not None and gone.chain.deleted and gone.imported_at == replaced_at
