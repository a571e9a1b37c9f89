"""The routes dialing and session profiles share; each resource module binds its own kind."""

# No `from __future__ import annotations`: FastAPI must see the factory's local types.
from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from dialstream.bootstrap import Runtime
from domain.profile import Profile, ProfileKind
from gateway.deps import HandlersDep, RuntimeDep
from gateway.io import doc
from gateway.routes.resource import Resource
from gateway.views import settled
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
    def describe(runtime: Runtime, account_id: UUID) -> Callable[[Any], dict[str, Any]]:
        account = runtime.catalogue.get(account_id, ACCOUNT, account_id)
        default = kind.default_of(account) if account else None
        return lambda state: {"is_default": state.id == default}

    resource = Resource(
        prefix=prefix,
        tag=tag,
        kind=kind.kind,
        label=kind.label,
        state_type=Profile[settings_type],  # type: ignore[valid-type]
        create=create,
        change=change,
        writer=writer,
        id_name="profile_id",
        create_with=lambda handlers, account_id, command: handlers.profiles.create(kind, account_id, command),
        change_with=lambda handlers, account_id, profile_id, command, expected: handlers.profiles.change(
            kind, account_id, profile_id, command, expected_version=expected
        ),
        delete_with=lambda handlers, account_id, profile_id, expected: handlers.profiles.delete(
            kind, account_id, profile_id, expected_version=expected
        ),
        describe=describe,
        describe_in_list=True,
    )

    @resource.router.post(
        "/{profile_id}/make-default",
        **doc(response=resource.state_type),
        summary=f"Make the account's default {kind.label}",
    )
    def make_default(
        profile_id: UUID, runtime: RuntimeDep, handlers: HandlersDep, caller: writer
    ) -> Response:
        settled(runtime, handlers.profiles.make_default(kind, caller.account_id, profile_id))
        return resource.respond_one(runtime, caller.account_id, profile_id)

    return resource.router
