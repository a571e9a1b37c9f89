"""/api/v1/contact-lists: lists, their channel, time-zone options and retention."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from domain.contact_list import ChangeContactList, ContactList, CreateContactList
from gateway.deps import HandlersDep, IfMatch, Reader, RuntimeDep, Supervisor
from gateway.io import doc, read_body, respond
from gateway.views import fetch, respond_state, settled, view
from projections.catalogue import CONTACT_LIST

router = APIRouter(prefix="/api/v1/contact-lists", tags=["contact lists"])
LABEL = "contact list"


@router.get("", **doc(response=list[ContactList]))
def list_lists(runtime: RuntimeDep, caller: Reader) -> Response:
    return respond([view(c) for c in runtime.catalogue.list_kind(caller.account_id, CONTACT_LIST)])


@router.post("", **doc(body=CreateContactList, response=ContactList, status=201))
async def create_list(
    request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command = await read_body(request, CreateContactList)
    done = handlers.create_list(caller.account_id, command)
    settled(runtime, done)
    return respond_state(fetch(runtime, caller.account_id, CONTACT_LIST, done.id, LABEL), status=201)


@router.get("/{list_id}", **doc(response=ContactList))
def get_list(list_id: UUID, runtime: RuntimeDep, caller: Reader) -> Response:
    return respond_state(fetch(runtime, caller.account_id, CONTACT_LIST, list_id, LABEL))


@router.patch("/{list_id}", **doc(body=ChangeContactList, response=ContactList))
async def change_list(
    list_id: UUID,
    request: Request,
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
    expected: IfMatch,
) -> Response:
    command = await read_body(request, ChangeContactList)
    settled(
        runtime,
        handlers.change_list(caller.account_id, list_id, command, expected_version=expected),
    )
    return respond_state(fetch(runtime, caller.account_id, CONTACT_LIST, list_id, LABEL))


@router.delete("/{list_id}", status_code=204, summary="Archive a contact list")
def archive_list(
    list_id: UUID, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor, expected: IfMatch
) -> Response:
    settled(runtime, handlers.archive_list(caller.account_id, list_id, expected_version=expected))
    return Response(status_code=204)
