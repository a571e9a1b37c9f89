"""/api/v1/api-keys: keys scoped to the caller's account; the secret is shown only once."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from msgspec import Meta, Struct
from starlette.concurrency import run_in_threadpool

from gateway.deps import Admin, HandlersDep, RuntimeDep
from gateway.io import doc, read_body, respond
from gateway.problems import Problem
from gateway.views import settled
from schemas.settings import Role

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])


class IssueApiKeyRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    role: Role


class ApiKeyView(Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    role: str
    prefix: str
    revoked: bool


class IssuedApiKey(Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    role: str
    secret: str


@router.get("", **doc(response=list[ApiKeyView]))
def list_keys(runtime: RuntimeDep, caller: Admin) -> Response:
    return respond(
        [
            ApiKeyView(id=c.key_id, name=c.name, role=c.role, prefix=c.prefix, revoked=c.revoked)
            for c in runtime.credentials.for_account(caller.account_id)
        ]
    )


@router.post("", **doc(body=IssueApiKeyRequest, response=IssuedApiKey, status=201))
async def issue_key(request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Admin) -> Response:
    body = await read_body(request, IssueApiKeyRequest)
    issued = await run_in_threadpool(handlers.accounts.issue_api_key, caller.account_id, body.name, body.role)
    if not await run_in_threadpool(runtime.wait, issued.position):
        raise Problem(503, "Read models behind", "the key is stored but not yet usable; retry shortly")
    return respond(
        IssuedApiKey(id=issued.key_id, name=body.name, role=body.role, secret=issued.secret),
        status=201,
    )


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key")
def revoke_key(key_id: UUID, runtime: RuntimeDep, handlers: HandlersDep, caller: Admin) -> Response:
    settled(runtime, handlers.accounts.revoke_api_key(caller.account_id, key_id))
    return Response(status_code=204)
