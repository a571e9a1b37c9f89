"""Dependencies of the routes, as ``Annotated`` aliases in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request

from dialstream.bootstrap import Runtime
from dialstream.handlers import Handlers
from dialstream.handlers.accounts import hash_secret
from gateway.problems import Problem

# What each role may do: admin everything; supervisor campaigns and lists; viewer reads.
ROLE_RANK = {"viewer": 0, "supervisor": 1, "admin": 2}


@dataclass(frozen=True)
class Caller:
    key_id: UUID
    account_id: UUID
    role: str


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_handlers(runtime: RuntimeDep) -> Handlers:
    return runtime.handlers


HandlersDep = Annotated[Handlers, Depends(get_handlers)]


def authenticate(
    runtime: RuntimeDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Caller:
    unauthorised = {"WWW-Authenticate": 'Bearer realm="dialstream"'}
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Problem(
            401,
            "Unauthorised",
            "send an API key as 'Authorization: Bearer <key>'",
            field="Authorization",
            headers=unauthorised,
        )
    secret = authorization[7:].strip()
    credential = runtime.credentials.by_secret_hash(hash_secret(secret))
    if credential is None or credential.revoked:
        raise Problem(
            401,
            "Unauthorised",
            "the API key is unknown or revoked",
            field="Authorization",
            headers=unauthorised,
        )
    return Caller(credential.key_id, credential.account_id, credential.role)


def _require(role: str):  # type: ignore[no-untyped-def]
    def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if ROLE_RANK[caller.role] < ROLE_RANK[role]:
            raise Problem(403, "Forbidden", f"this needs the {role} role; the key is {caller.role}")
        return caller

    return check


Reader = Annotated[Caller, Depends(_require("viewer"))]
Supervisor = Annotated[Caller, Depends(_require("supervisor"))]
Admin = Annotated[Caller, Depends(_require("admin"))]


def if_match(
    value: Annotated[
        str | None, Header(alias="If-Match", description="The version you last read (its ETag)")
    ] = None,
) -> int | None:
    if value is None or value.strip() == "*":
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise Problem(400, "Invalid request", 'If-Match must be an ETag such as "3"', field="If-Match")
    return int(raw)


IfMatch = Annotated[int | None, Depends(if_match)]
