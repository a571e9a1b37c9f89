"""/api/v1/records/{id}/attempts: the dialer reports each attempt it makes to a record.

Attempt rules count these (per client id, per device or both, across every list and channel);
the pre-dial gate reads them from the ``attempt_history`` read model.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request, Response
from msgspec import Struct
from starlette.concurrency import run_in_threadpool

from dialstream.queries.records import ChainDeleted, locate
from gateway.deps import HandlersDep, RuntimeDep, Supervisor
from gateway.io import doc, read_body, respond
from gateway.problems import Problem
from gateway.routes.records import RecordId
from gateway.views import settled
from projections.catalogue import CAMPAIGN_GROUP
from schemas.profiles import Channel

router = APIRouter(prefix="/api/v1/records", tags=["records"])


class MakeAttempt(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # The dialer's id of the attempt: reporting it again stores nothing twice (default: a new id).
    attempt_id: UUID | None = None
    channel: Channel = "voice"
    campaign_group_id: UUID | None = None


class AttemptMade(Struct, frozen=True, kw_only=True):
    attempt_id: UUID
    record_id: UUID
    device: str
    channel: Channel
    at: datetime | None  # when it was stored; None when the attempt id was stored before


@router.post(
    "/{record_id}/attempts",
    summary="Report an attempt made to this record (what attempt rules count)",
    **doc(body=MakeAttempt, response=AttemptMade, status=201),
)
async def make_attempt(
    record_id: RecordId, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command: MakeAttempt = await read_body(request, MakeAttempt)

    def store_and_settle() -> Response:
        try:
            located = locate(runtime, caller.account_id, record_id)
        except ChainDeleted:
            raise Problem(404, "Not found", f"record {record_id} was deleted", field="record_id") from None
        group = command.campaign_group_id
        if group is not None and runtime.catalogue.get(caller.account_id, CAMPAIGN_GROUP, group) is None:
            raise Problem(404, "Not found", f"campaign group {group} not found", field="campaign_group_id")
        done, attempt_id, made = handlers.attempts.make_attempt(
            located.chain,
            located.record.chain_n,
            attempt_id=command.attempt_id,
            channel=command.channel,
            campaign_group_id=command.campaign_group_id,
        )
        settled(runtime, done)
        answer = AttemptMade(
            attempt_id=attempt_id,
            record_id=record_id,
            device=made.device if made else located.record.contact_info,
            channel=command.channel,
            at=made.timestamp if made else None,
        )
        return respond(answer, status=201 if made else 200)

    return await run_in_threadpool(store_and_settle)
