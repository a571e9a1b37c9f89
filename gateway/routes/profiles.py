"""The routes dialing and session profiles share; each resource module binds its own kind."""

# No `from __future__ import annotations`: FastAPI must see the factory's local types.
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from domain.profile import Profile, ProfileKind
from gateway.deps import HandlersDep, IfMatch, Reader, RuntimeDep
from gateway.io import doc, read_body, respond
from gateway.views import fetch, respond_state, settled, view
from projections.catalogue import ACCOUNT


def profile_router(
    *,
    kind: ProfileKind[Any],
    prefix: str,
    tag: str,
    create: type[Any],
    change: type[Any],
    settings_type: type[Any],
    writer: Any,
) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[tag])
    label = kind.label
    state_type = Profile[settings_type]  # type: ignore[valid-type]

    def default_id(runtime: Any, account_id: UUID) -> UUID | None:
        account = runtime.catalogue.get(account_id, ACCOUNT, account_id)
        return kind.default_of(account) if account else None

    def one(runtime: Any, account_id: UUID, profile_id: UUID, status: int = 200) -> Response:
        state = fetch(runtime, account_id, kind.kind, profile_id, label)
        return respond_state(state, status=status, is_default=default_id(runtime, account_id) == state.id)

    @router.get("", **doc(response=list[state_type]), summary=f"List {label}s")
    def list_profiles(runtime: RuntimeDep, caller: Reader) -> Response:
        default = default_id(runtime, caller.account_id)
        return respond(
            [
                view(p, is_default=p.id == default)
                for p in runtime.catalogue.list_kind(caller.account_id, kind.kind)
            ]
        )

    @router.post("", **doc(body=create, response=state_type, status=201), summary=f"Create a {label}")
    async def create_profile(
        request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: writer
    ) -> Response:
        command = await read_body(request, create)
        done = handlers.create_profile(kind, caller.account_id, command)
        settled(runtime, done)
        return one(runtime, caller.account_id, done.id, status=201)

    @router.get("/{profile_id}", **doc(response=state_type), summary=f"Get a {label}")
    def get_profile(profile_id: UUID, runtime: RuntimeDep, caller: Reader) -> Response:
        return one(runtime, caller.account_id, profile_id)

    @router.patch("/{profile_id}", **doc(body=change, response=state_type), summary=f"Change a {label}")
    async def change_profile(
        profile_id: UUID,
        request: Request,
        runtime: RuntimeDep,
        handlers: HandlersDep,
        caller: writer,
        expected: IfMatch,
    ) -> Response:
        command = await read_body(request, change)
        settled(
            runtime,
            handlers.change_profile(kind, caller.account_id, profile_id, command, expected_version=expected),
        )
        return one(runtime, caller.account_id, profile_id)

    @router.delete("/{profile_id}", status_code=204, summary=f"Delete a {label}")
    def delete_profile(
        profile_id: UUID,
        runtime: RuntimeDep,
        handlers: HandlersDep,
        caller: writer,
        expected: IfMatch,
    ) -> Response:
        settled(
            runtime,
            handlers.delete_profile(kind, caller.account_id, profile_id, expected_version=expected),
        )
        return Response(status_code=204)

    @router.post(
        "/{profile_id}/make-default",
        **doc(response=state_type),
        summary=f"Make the account's default {label}",
    )
    def make_default(
        profile_id: UUID, runtime: RuntimeDep, handlers: HandlersDep, caller: writer
    ) -> Response:
        settled(runtime, handlers.make_default_profile(kind, caller.account_id, profile_id))
        return one(runtime, caller.account_id, profile_id)

    return router
