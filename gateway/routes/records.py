"""/api/v1/records: one record, found from its id alone: its audit trail; can it be dialled
now, and if not, why?

``GET /api/v1/records/{record_id}`` answers the record's calling-list fields, its treatment
history, every attempt made on it (the call's progress, and what the dialing queue did to
the record for it: drawn, returned, updated, treated and why) and what else changed it,
read from the event store (:func:`dialstream.queries.record_trail.record_trail`)::

    {"record_id", "list_id", "list_name", "chain_id", "client_id", "chain_n", "contact_info",
     "record_type", "record_status", "call_result", "attempt", "dial_sched_time", ...,
     "treatments": [...], "attempts": [...], "history": [...]}

``GET /api/v1/records/{record_id}/dialability`` ("why is my hopper empty") answers, for any
record of the caller's account, whether it can be dialled now and otherwise every reason and
when it next can::

    {"record_id", "list_id", "list_name", "client_id", "chain_n", "contact_info",
     "contact_info_type", "record_type", "record_status", "time_zone", "second_time_zone",
     "channel", "dialable_now", "checked_at", "next_allowed", "reasons": [...], "groups": [...]}

The record is found from its id alone (:func:`dialstream.queries.records.locate`), the answer
is :func:`dialstream.queries.dialability.dialability` and its rules :mod:`domain.dialability`;
this router only translates HTTP. The pre-dial gate (``runtime.predial``,
:class:`processors.compliance.predial.PreDialValidator`, behind :func:`gateway.views.predial_gate`) judges
the record as the dialer would ask it, once per campaign group the record can be dialled in
(which optional suppression lists and attempt rules apply depends on the group): the group
named by ``?campaign_group_id=``, else every group of the record's contact list, in one
batch (one suppression-index lookup). Reasons the gate does not know are added:

- ``list_archived``: the record's contact list is archived (never dialled again);
- ``list_unavailable``: the list is not in the catalogue (read models behind): fail closed;
- ``no_campaign_group``: the list belongs to no campaign group, so nothing dials it;
- ``list_not_in_group``: the ``campaign_group_id`` asked about does not dial this list;
- ``group_not_running`` (per group): the group is loaded, paused or stopped;
- ``no_group_running`` (for the record): none of the list's groups is running;
- ``marked_no_call``: the compliance processor made the record "no call" (record type 7)
  because suppression entries matched it (``record_chain.suppressed``); the reason names
  them and the type it had. The gate then judges the record with that type, so its own
  ``suppressed`` reasons say which entries hold it back now; when they are all seen, the
  mark lifts with them (expiry gives the type back), otherwise it has no known end.

None of these lifts by itself, so a record they block has no ``next_allowed``. The record is
``dialable_now`` when at least one of its groups may dial it now; ``next_allowed`` is then
null, else the earliest instant one of its groups may (each group's is the instant every
reason of that group lifts, as the gate computes it), or null when no reason of any group
lifts by itself (suppression without expiry, record type no call, a group not running, an
unanswered question). Top-level ``reasons`` are every group's reasons once each; a reason
that blocks only some of the groups names them in ``campaign_group_ids``.

It fails closed like the gate: when the suppression index cannot answer, the answer says so
(``index_unavailable``) and the record is not dialable now; with no gate in this process the
answer is 503.

For both, a record that does not exist, or is another account's, is 404; a record whose
chain was deleted (retention, or a "flush and append" import) is 404 saying so
(``"code": "chain_deleted"``, with when and why).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from dialstream.queries.dialability import Dialability, dialability, utc_iso
from dialstream.queries.record_trail import RecordTrail, record_trail
from dialstream.queries.records import ChainDeleted, locate
from gateway.deps import Reader, RuntimeDep
from gateway.io import respond, schema_ref
from gateway.problems import PROBLEM_MEDIA_TYPE
from gateway.views import predial_gate

router = APIRouter(prefix="/api/v1/records", tags=["records"])


def _deleted_response(request: Request, record_id: UUID, error: ChainDeleted) -> JSONResponse:
    chain, deletion = error.chain, error.deletion
    how = {
        "flush": 'by a "flush and append" import',
        "retention": "by the list's record retention",
    }
    detail = (
        f"record {record_id} (client id {chain.client_id!r}, position {error.chain_n} of its chain) "
        f"was deleted from contact list {chain.list_id}"
    )
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": "Record deleted",
        "status": 404,
        "instance": request.url.path,
        "field": "record_id",
        "code": "chain_deleted",
        "record_id": str(record_id),
        "list_id": str(chain.list_id),
        "client_id": chain.client_id,
        "chain_n": error.chain_n,
    }
    if deletion is not None:
        detail += f" {how.get(deletion.reason, deletion.reason)} on {_utc_text(deletion.timestamp)}"
        if deletion.detail:
            detail += f" ({deletion.detail})"
        body["deletion_reason"] = deletion.reason
        body["deleted_at"] = utc_iso(deletion.timestamp)
        if deletion.job_id is not None:
            body["job_id"] = str(deletion.job_id)
    body["detail"] = detail + ": it is never dialled again"
    return JSONResponse(body, status_code=404, media_type=PROBLEM_MEDIA_TYPE)


def _utc_text(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


RecordId = Annotated[
    UUID, Path(description="A record's id (from an export, the records read model or an event)")
]
GroupId = Annotated[
    UUID | None,
    Query(
        description="Judge the record as this campaign group dials it (its optional suppression lists "
        "and attempt rules); default: every group of the record's contact list"
    ),
]


@router.get(
    "/{record_id}",
    summary="A record, its treatments and every attempt made on it (its audit trail)",
    responses={
        200: {
            "description": "The record's fields, treatment history, attempts and changes, from the event store",
            "content": {"application/json": {"schema": schema_ref(RecordTrail)}},
        },
        404: {"description": "No such record in this account, or its chain was deleted (code chain_deleted)"},
    },
)
def get_record(record_id: RecordId, request: Request, runtime: RuntimeDep, caller: Reader) -> Response:
    try:
        located = locate(runtime, caller.account_id, record_id)
    except ChainDeleted as error:
        return _deleted_response(request, record_id, error)
    return respond(record_trail(runtime, caller.account_id, located))


@router.get(
    "/{record_id}/dialability",
    summary="Can this record be dialled now? If not, every reason and when it next can",
    responses={
        200: {
            "description": "The record's dialability, per campaign group",
            "content": {"application/json": {"schema": schema_ref(Dialability)}},
        },
        404: {"description": "No such record in this account, or its chain was deleted (code chain_deleted)"},
        503: {"description": "No pre-dial validator in this process"},
    },
)
def get_dialability(
    record_id: RecordId,
    request: Request,
    runtime: RuntimeDep,
    caller: Reader,
    campaign_group_id: GroupId = None,
) -> Response:
    try:
        located = locate(runtime, caller.account_id, record_id)
    except ChainDeleted as error:
        return _deleted_response(request, record_id, error)
    answer = dialability(runtime, predial_gate(runtime), caller.account_id, located, campaign_group_id)
    return respond(answer)
