"""/api/v1/suppression-lists: suppression lists, their entries, and a campaign group's optional
lists (``PUT /api/v1/campaign-groups/{group_id}/suppression-lists``).

The lists are read from the ``suppression_lists`` read model; whether a value is in a list is
answered by the suppression index (``runtime.suppression_index``), as pre-dial validation asks it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from msgspec import Struct
from starlette.concurrency import run_in_threadpool

from dialstream.bootstrap import Runtime
from dialstream.handlers.suppression import EntriesDone
from domain.campaign_group import CampaignGroup
from domain.errors import RuleViolation
from domain.suppression_list import (
    ChangeSuppressionList,
    CreateSuppressionList,
    EntryInput,
    NoValidEntries,
    RejectedEntry,
    SelectSuppressionLists,
    SuppressionEntries,
    SuppressionList,
)
from gateway.deps import HandlersDep, IfMatch, Reader, RuntimeDep, Supervisor
from gateway.io import doc, read_body, respond
from gateway.problems import PROBLEM_MEDIA_TYPE, Problem
from gateway.routes import campaign_groups
from gateway.views import settled, view
from processors.suppression.index import IndexUnavailable
from processors.suppression.lookup import EntryLookup, look_up
from projections.catalogue import ACCOUNT
from schemas.settings import RegionSettings

PREFIX = "/api/v1/suppression-lists"
router = APIRouter(prefix=PREFIX, tags=["suppression lists"])
group_router = APIRouter(prefix="/api/v1/campaign-groups", tags=["campaign groups"])

ListId = Annotated[UUID, Path(alias="suppression_list_id")]
ONE = "/{suppression_list_id}"


# Representations (also the OpenAPI schemas) ----------------------------------------------


class SuppressionListView(SuppressionList, frozen=True, kw_only=True):
    entry_count: int  # entries in the list now, expired ones not yet swept included


class AddedEntries(msgspec.Struct, frozen=True, kw_only=True):
    added: int  # distinct valid entries stored (an entry already there is replaced)
    rejected: list[RejectedEntry]
    entry_count: int


class RemovedEntries(msgspec.Struct, frozen=True, kw_only=True):
    removed: int  # distinct valid entries named; one that was not in the list stays absent
    rejected: list[RejectedEntry]
    entry_count: int


def _row(runtime: Runtime, account_id: UUID, list_id: UUID) -> Any:
    row = runtime.suppression_lists.get(account_id, list_id)
    if row is None:
        raise Problem(404, "Not found", f"suppression list {list_id} not found", field="id")
    return row


def respond_one(runtime: Runtime, account_id: UUID, list_id: UUID, status: int = 200) -> Response:
    row = _row(runtime, account_id, list_id)
    return respond(view(row.state, entry_count=row.entry_count), status=status, version=row.state.version)


def _entry_count(runtime: Runtime, account_id: UUID, list_id: UUID) -> int:
    row = runtime.suppression_lists.get(account_id, list_id)
    return 0 if row is None else row.entry_count


def _no_valid_entries(request: Request, error: NoValidEntries) -> JSONResponse:
    """422 naming the first bad entry's field, with every rejection (an RFC 9457 extension)."""
    body = {
        "type": "about:blank",
        "title": error.title,
        "status": 422,
        "detail": error.detail,
        "instance": request.url.path,
        "field": error.field,
        "rejected": msgspec.to_builtins(error.rejected),
    }
    return JSONResponse(body, status_code=422, media_type=PROBLEM_MEDIA_TYPE)


# The list itself ------------------------------------------------------------------------


@router.get("", **doc(response=list[SuppressionListView]), summary="List suppression lists")
def list_all(runtime: RuntimeDep, caller: Reader) -> Response:
    return respond(
        [
            view(row.state, entry_count=row.entry_count)
            for row in runtime.suppression_lists.list_by_account(caller.account_id)
        ]
    )


@router.post(
    "",
    **doc(body=CreateSuppressionList, response=SuppressionListView, status=201),
    summary="Create a suppression list",
)
async def create_one(
    request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command = await read_body(request, CreateSuppressionList)

    def create_and_settle() -> Response:
        done = handlers.suppression.create_list(caller.account_id, command)
        settled(runtime, done)
        return respond_one(runtime, caller.account_id, done.id, status=201)

    return await run_in_threadpool(create_and_settle)


@router.get(ONE, **doc(response=SuppressionListView), summary="Get a suppression list")
def get_one(list_id: ListId, runtime: RuntimeDep, caller: Reader) -> Response:
    return respond_one(runtime, caller.account_id, list_id)


@router.patch(
    ONE, **doc(body=ChangeSuppressionList, response=SuppressionListView), summary="Change a suppression list"
)
async def change_one(
    list_id: ListId,
    request: Request,
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
    expected: IfMatch,
) -> Response:
    command = await read_body(request, ChangeSuppressionList)

    def change_and_settle() -> Response:
        settled(runtime, handlers.suppression.change_list(caller.account_id, list_id, command, expected))
        return respond_one(runtime, caller.account_id, list_id)

    return await run_in_threadpool(change_and_settle)


@router.delete(ONE, status_code=204, summary="Archive a suppression list")
def delete_one(
    list_id: ListId, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor, expected: IfMatch
) -> Response:
    settled(runtime, handlers.suppression.archive_list(caller.account_id, list_id, expected))
    return Response(status_code=204)


# Entries ------------------------------------------------------------------------------


@router.post(
    ONE + "/entries",
    **doc(body=SuppressionEntries, response=AddedEntries),
    summary="Add entries to a suppression list",
)
async def add_entries(
    list_id: ListId, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    return await _change_entries(
        request,
        runtime,
        caller.account_id,
        list_id,
        handlers.suppression.add_entries,
        lambda result, count: AddedEntries(
            added=result.accepted, rejected=result.rejected, entry_count=count
        ),
    )


@router.delete(
    ONE + "/entries",
    **doc(body=SuppressionEntries, response=RemovedEntries),
    summary="Remove entries from a suppression list",
)
async def remove_entries(
    list_id: ListId, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    return await _change_entries(
        request,
        runtime,
        caller.account_id,
        list_id,
        handlers.suppression.remove_entries,
        lambda result, count: RemovedEntries(
            removed=result.accepted, rejected=result.rejected, entry_count=count
        ),
    )


async def _change_entries(
    request: Request,
    runtime: RuntimeDep,
    account_id: UUID,
    list_id: UUID,
    change: Callable[[UUID, UUID, Sequence[EntryInput]], EntriesDone],
    answer: Callable[[EntriesDone, int], Struct],
) -> Response:
    """Add or remove entries: the valid ones are kept, every bad one is reported."""
    command = await read_body(request, SuppressionEntries)

    def change_and_settle() -> Response:
        try:
            result = change(account_id, list_id, command.entries)
        except NoValidEntries as error:
            return _no_valid_entries(request, error)
        settled(runtime, result.done)
        return respond(answer(result, _entry_count(runtime, account_id, list_id)))

    return await run_in_threadpool(change_and_settle)


@router.get(
    ONE + "/entries/lookup",
    **doc(response=EntryLookup),
    summary="Is a phone number, client id or e-mail address in a suppression list?",
)
def lookup(
    list_id: ListId,
    kind: Annotated[str, Query(description="phone, client_id or email")],
    value: Annotated[str, Query(description="as written; phone numbers are read in the account's country")],
    runtime: RuntimeDep,
    caller: Reader,
) -> Response:
    row = _row(runtime, caller.account_id, list_id)
    account = runtime.catalogue.get(caller.account_id, ACCOUNT, caller.account_id)
    region = account.settings.region if account is not None else RegionSettings()
    try:
        answer = look_up(
            runtime.suppression_index, row.state, country=region.country_code, kind=kind, value=value, now=time.time()
        )
    except RuleViolation as error:
        raise Problem(422, "Invalid request", error.detail, field=error.field) from error
    except IndexUnavailable as error:
        raise Problem(
            503, "Suppression index unavailable", f"the suppression index cannot answer now: {error.reason}"
        ) from error
    return respond(answer)


# A campaign group's optional lists ------------------------------------------------------


@group_router.put(
    "/{group_id}/suppression-lists",
    **doc(body=SelectSuppressionLists, response=CampaignGroup),
    summary="Choose the optional suppression lists of a campaign group",
)
async def select_lists(
    group_id: UUID,
    request: Request,
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
    expected: IfMatch,
) -> Response:
    command = await read_body(request, SelectSuppressionLists)

    def select_and_settle() -> Response:
        done = handlers.suppression.select_lists(
            caller.account_id, group_id, command.suppression_list_ids, expected_version=expected
        )
        settled(runtime, done)
        return campaign_groups.resource.respond_one(runtime, caller.account_id, group_id)

    return await run_in_threadpool(select_and_settle)
