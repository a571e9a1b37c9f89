"""/api/v1/contact-lists: lists, their channel, time-zone options and retention; and their
records, a page at a time.

``GET /api/v1/contact-lists/{list_id}/records`` pages through the list's records in its key
order (client id, then chain position), from the ``records`` read model, as
``{"items": [...], "next": <cursor> | null}``: pass ``next`` back as ``?after=`` for the
following page; null means the list ends there. ``?selection_rule=`` keeps the records a
selection rule selects (the language of exports and dialing filters; a bad rule is a 422
naming ``selection_rule``), applied while reading, as the export applies it.

A selective rule could make one request read a whole large list to fill a page, so a page
stops after reading ``SCAN`` records even when it holds fewer than ``limit`` (even none):
while ``next`` is not null there may be more. Each item is the record's calling-list fields,
codes as their numbers, instants as UTC ISO 8601 (the per-record trail,
``GET /api/v1/records/{record_id}``, names the codes and tells the record's history).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from fastapi import Path, Query, Response

from dialstream.queries.dialability import utc_iso
from dialstream.queries.record_trail import epoch_iso
from domain.contact_list import ChangeContactList, ContactList, CreateContactList
from domain.selection import Rule, parse
from gateway.deps import Reader, RuntimeDep, Supervisor
from gateway.io import doc, respond
from gateway.problems import Problem
from gateway.routes.resource import Resource
from projections.catalogue import CONTACT_LIST

resource = Resource(
    prefix="/api/v1/contact-lists",
    tag="contact lists",
    kind=CONTACT_LIST,
    label="contact list",
    state_type=ContactList,
    create=CreateContactList,
    change=ChangeContactList,
    writer=Supervisor,
    id_name="list_id",
    create_with=lambda handlers, account_id, command: handlers.lists.create(account_id, command),
    change_with=lambda handlers, account_id, list_id, command, expected: handlers.lists.change(
        account_id, list_id, command, expected_version=expected
    ),
    delete_with=lambda handlers, account_id, list_id, expected: handlers.lists.archive(
        account_id, list_id, expected_version=expected
    ),
    delete_summary="Archive a contact list",
)
router = resource.router

ListId = Annotated[UUID, Path(alias="list_id")]
MAX_LIMIT = 1000
# Records read at most per page when a selection rule drops some: a bound on one request's work.
SCAN = 20_000
# Rows the read model returns per query while a rule filters them.
FILTERED_PAGE = 2000


class ListedRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A record of a contact list: its calling-list fields, contact fields and custom fields."""

    record_id: UUID
    chain_id: UUID
    client_id: str
    chain_n: int
    contact_info: str
    contact_info_type: int
    record_type: int
    record_status: int
    call_result: int
    attempt: int
    dial_sched_time: str | None
    call_time: str | None
    daily_from: int | None  # seconds since local midnight
    daily_till: int | None
    time_zone: str
    time_zone_rule: str
    second_time_zone: str | None
    postal_code: str
    country: str
    state: str
    custom: dict[str, str]
    imported_at: str
    job_id: UUID | None  # the import that stored the record's chain
    line: int  # its line in that import's file


class RecordPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ListedRecord]
    next: str | None  # the cursor of the following page (?after=); null: the list ends here


@router.get(
    "/{list_id}/records",
    summary="A page of a contact list's records, in client id and chain order",
    **doc(response=RecordPage),
)
def list_records(
    list_id: ListId,
    runtime: RuntimeDep,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Records per page")] = 100,
    after: Annotated[str, Query(description="The `next` cursor of the previous page")] = "",
    selection_rule: Annotated[str, Query(description="Only the records it selects")] = "",
) -> Response:
    if runtime.catalogue.get(caller.account_id, CONTACT_LIST, list_id) is None:
        raise Problem(404, "Not found", f"contact list {list_id} not found", field="list_id")
    rule = parse(selection_rule)  # SelectionError: a 422 naming selection_rule
    keep = None if rule.selects_all else rule
    start = decode_cursor(after) if after else ("", 0)
    page = FILTERED_PAGE if keep is not None else limit + 1  # one more: is there a next page?
    items, next_key = _page(runtime.records.iterate(list_id, page=page, after=start), keep, limit)
    return respond(
        RecordPage(items=[_listed(r) for r in items], next=None if next_key is None else encode_cursor(next_key))
    )


def _page(
    records: Iterator[dict[str, Any]], rule: Rule | None, limit: int
) -> tuple[list[dict[str, Any]], tuple[str, int] | None]:
    """Up to ``limit`` records the rule selects, and the key the next page starts after (None:
    no record is left to read)."""
    items: list[dict[str, Any]] = []
    for read, record in enumerate(records, start=1):
        if rule is None or rule.matches(record):
            if len(items) == limit:
                return items, _key(items[-1])
            items.append(record)
        if read >= SCAN:
            return items, _key(record)
    return items, None


def _key(record: dict[str, Any]) -> tuple[str, int]:
    return str(record["client_id"]), int(record["chain_n"])


def encode_cursor(key: tuple[str, int]) -> str:
    """The opaque cursor of a key: URL-safe base64 of its JSON, unpadded."""
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=tuple[str, int])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        # DecodeError covers a wrong shape (ValidationError) and text that is not JSON.
        raise Problem(
            422, "Invalid request", "after is not a cursor this API gave: pass a page's next as it is", field="after"
        ) from None


def _listed(record: dict[str, Any]) -> ListedRecord:
    return ListedRecord(
        record_id=UUID(record["record_id"]),
        chain_id=UUID(record["chain_id"]),
        client_id=record["client_id"],
        chain_n=record["chain_n"],
        contact_info=record["contact_info"],
        contact_info_type=record["contact_info_type"],
        record_type=record["record_type"],
        record_status=record["record_status"],
        call_result=record["call_result"],
        attempt=record["attempt"],
        dial_sched_time=epoch_iso(record["dial_sched_time"]),
        call_time=epoch_iso(record["call_time"]),
        daily_from=record["daily_from"],
        daily_till=record["daily_till"],
        time_zone=record["time_zone"],
        time_zone_rule=record["time_zone_rule"],
        second_time_zone=record["second_time_zone"],
        postal_code=record["postal_code"],
        country=record["country"],
        state=record["state"],
        custom=record["custom"],
        imported_at=_instant_text(record["imported_at"]),
        job_id=UUID(record["job_id"]) if record["job_id"] else None,
        line=record["line"],
    )


def _instant_text(stored: str) -> str:
    """The read model's import time (``datetime.isoformat``) as the API writes instants."""
    return utc_iso(datetime.fromisoformat(stored)) or stored
