"""A contact's trace for an auditor: everything the system did about one client id, across
every contact list of the account (so every channel), read from the event store.

Each row is one event with its position in the log: the chain imported, replaced, suppressed,
restored or deleted; each record drawn, returned (denied by the pre-dial gate, with the
gate's reasons), updated and treated; each attempt made, answered, connected or abandoned,
finished and wrapped up. An auditor can replay the log to any of these positions.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any
from uuid import UUID

from dialstream.store import EventStore
from domain import record_chain
from domain.codes import CallResult
from domain.contact_list import ContactList
from domain.predial import denial_codes
from projections.catalogue import CONTACT_LIST, CatalogueQueries
from schemas.base import Event
from schemas.records import RecordChainImported, RecordChainReplaced, RecordChainSuppressed, RecordReturned

COLUMNS = [
    "position", "at", "event", "list_id", "list_name", "channel", "record_id", "chain_n", "device",
    "campaign_group_id", "attempt_id", "answered_by", "agent_id", "call_result", "call_result_name",
    "reason", "denied_for", "action", "detail",
]  # fmt: skip
# What an event may say, under the name of its column.
_FIELDS = ("chain_n", "device", "campaign_group_id", "attempt_id", "answered_by", "agent_id", "call_result",
           "reason", "action", "detail")  # fmt: skip


def contact_trace(
    store: EventStore, catalogue: CatalogueQueries, account_id: UUID, client_id: str
) -> list[dict[str, Any]]:
    """The client id's events in log order, as rows of :data:`COLUMNS`."""
    lists: dict[UUID, ContactList] = {
        record_chain.chain_id(found.id, client_id): found
        for found in catalogue.list_kind(account_id, CONTACT_LIST)
    }
    chain_events = store.read_streams(list(lists))
    records: dict[UUID, ContactList] = {}
    for _, event in chain_events:
        if isinstance(event, RecordChainImported | RecordChainReplaced):
            for record in event.records:
                records[record.record_id] = lists[event.originator_id]
    attempt_events = store.read_streams(list(records))  # each record's call-attempts stream
    rows = []
    for position, event in sorted(chain_events + attempt_events, key=lambda item: item[0]):
        if event.account_id != account_id:
            continue  # a chain id is the same for another account's list of the same id: never
        of_list = lists.get(event.originator_id) or records[event.originator_id]
        rows.append(_row(position, event, of_list, records))
    return rows


def _row(
    position: int, event: Event, of_list: ContactList, records: dict[UUID, ContactList]
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        position=position,
        at=event.timestamp.astimezone(UTC).isoformat(),
        event=type(event).__struct_config__.tag,
        list_id=str(of_list.id),
        list_name=of_list.name,
        channel=of_list.settings.channel,
    )
    for name in _FIELDS:
        value = getattr(event, name, None)
        if value is not None:
            row[name] = value if isinstance(value, int | str) else str(value)
    record_id = getattr(event, "record_id", None)
    if record_id is None and event.originator_id in records:
        record_id = event.originator_id  # an attempt event: its stream is the record's
    row["record_id"] = None if record_id is None else str(record_id)
    if row["call_result"] is not None:
        try:
            row["call_result_name"] = CallResult(row["call_result"]).name.lower()
        except ValueError:
            row["call_result_name"] = ""
    if isinstance(event, RecordReturned) and event.reason == "denied":
        row["denied_for"] = ",".join(denial_codes(event.detail))
    if isinstance(event, RecordChainSuppressed):
        row["detail"] = "; ".join(
            f"chain position {match.chain_n}: {match.kind} {match.value} on suppression list {match.suppression_list_id}"
            for match in event.suppressions
        )
    return row
