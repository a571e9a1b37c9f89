"""The records projection reads an import's chains straight from their JSON: it
must leave exactly the rows that applying the decoded events leaves, for every field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from dialstream.store import LogEntry, stored_topic
from domain import record_chain
from projections.base import ProjectionStore
from projections.records import Records, dump_rows
from projections.sql import SQLiteDatabase
from schemas import registry
from schemas.base import Event
from schemas.records import Contact, Record, RecordChainDeleted, RecordChainImported, RecordChainReplaced

LIST = UUID("7f1c2d9e-0000-4000-8000-000000000001")
ACCOUNT = UUID("7f1c2d9e-0000-4000-8000-000000000002")


def chain(
    client_id: str,
    version: int = 1,
    *,
    at: datetime,
    records: list[Record] | None = None,
    contact: Contact | None = None,
    custom: dict[str, str] | None = None,
) -> RecordChainImported | RecordChainReplaced:
    chain_id = record_chain.chain_id(LIST, client_id)
    kind = RecordChainImported if version == 1 else RecordChainReplaced
    return kind(
        originator_id=chain_id,
        originator_version=version,
        timestamp=at,
        account_id=ACCOUNT,
        list_id=LIST,
        client_id=client_id,
        job_id=uuid4(),
        line=version + 1,
        records=records
        or [
            Record(
                record_id=record_chain.record_id(chain_id, 1),
                chain_n=1,
                contact_info="+12125550101",
                contact_info_type=1,
                time_zone="America/New_York",
                time_zone_rule="device",
            )
        ],
        contact=contact or Contact(),
        custom=custom or {},
    )


def every_field(client_id: str) -> RecordChainImported | RecordChainReplaced:
    chain_id = record_chain.chain_id(LIST, client_id)
    return chain(
        client_id,
        at=datetime(2026, 3, 8, 6, 59, 59, 123456, tzinfo=UTC),
        records=[
            Record(
                record_id=record_chain.record_id(chain_id, 1),
                chain_n=1,
                contact_info="+12125550101",
                contact_info_type=1,
                record_type=7,
                record_status=3,
                call_result=33,
                attempt=4,
                dial_sched_time=1_800_000_000,
                call_time=1_799_999_000,
                daily_from=0,
                daily_till=86_399,
                time_zone="America/New_York",
                time_zone_rule="postal_code",
                second_time_zone="America/Chicago",
            ),
            Record(
                record_id=record_chain.record_id(chain_id, 2),
                chain_n=2,
                contact_info="ana@example.com",
                contact_info_type=10,
                time_zone="Europe/London",
                time_zone_rule="default_on_error",
            ),
        ],
        contact=Contact(postal_code="10001", country="US", state="NY", time_zone="America/New_York"),
        custom={
            "name": "Zoë O'Brien \"Jr\"",
            "note": "line one\nline two\ttab \\ backslash, comma; ☎ \u2028 \x01",
            "empty": "",
            "ключ": "значение",
        },
    )


def project(tmp_path: Path, name: str, entries: list[LogEntry]) -> dict[str, list[tuple[object, ...]]]:
    db = SQLiteDatabase(f"sqlite:///{tmp_path / name}.sqlite")
    projections = ProjectionStore(db, [Records()])
    projections.apply_log("records", entries)
    return dump_rows(db)


def stored(events: list[Event]) -> list[LogEntry]:
    return [LogEntry(n, stored_topic(e), registry.encode(e)) for n, e in enumerate(events, start=1)]


def decoded(events: list[Event]) -> list[LogEntry]:
    return [LogEntry.of(n, e) for n, e in enumerate(events, start=1)]


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([every_field("C'1 \"odd\" ☎")], id="every-field"),
        pytest.param([chain("C2", at=datetime(2026, 11, 1, 6, 0, tzinfo=UTC))], id="defaults-whole-second"),
        pytest.param(
            [
                chain("C3", at=datetime(2026, 1, 1, tzinfo=UTC)),
                chain("C3", 2, at=datetime(2026, 1, 2, tzinfo=UTC)),
                every_field("C4"),
            ],
            id="replaced-in-one-batch",
        ),
    ],
)
def test_rows_from_json_equal_rows_from_decoded_events(tmp_path: Path, events: list[Event]) -> None:
    from_json = project(tmp_path, "json", stored(events))
    from_events = project(tmp_path, "events", decoded(events))
    assert from_json == from_events
    assert from_json["records"], "the scenario should store records"


def test_a_replaced_chain_keeps_only_its_new_records(tmp_path: Path) -> None:
    first = every_field("C5")
    second = chain("C5", 2, at=datetime(2026, 1, 2, tzinfo=UTC))
    rows = project(tmp_path, "json", stored([first, second]))["records"]
    assert [(r[1], r[2], r[6]) for r in rows] == [("C5", 1, "+12125550101")]


def test_events_of_other_types_still_reach_the_projection(tmp_path: Path) -> None:
    imported = every_field("C6")
    deleted = RecordChainDeleted(
        originator_id=imported.originator_id,
        originator_version=2,
        timestamp=datetime(2026, 1, 3, tzinfo=UTC),
        account_id=ACCOUNT,
        list_id=LIST,
        client_id="C6",
        reason="retention",
    )
    assert project(tmp_path, "json", stored([imported, deleted]))["records"] == []
