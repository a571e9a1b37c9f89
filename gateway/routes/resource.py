"""The routes every catalogued resource has: list, create, get, change, delete.

Each resource module binds its kind, structs, role and handlers, and adds its own
actions (campaign-group start/stop, make-default) with :meth:`Resource.respond_one`.
"""

# No `from __future__ import annotations`: FastAPI must see the factory's local types.
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from dialstream.bootstrap import Runtime
from dialstream.handlers import Handlers
from dialstream.results import Done
from gateway.deps import HandlersDep, IfMatch, Reader, RuntimeDep
from gateway.io import doc, read_body, respond
from gateway.views import fetch, respond_state, settled, view

# Given the runtime and the caller's account, what a representation adds to a state.
Describe = Callable[[Runtime, UUID], Callable[[Any], dict[str, Any]]]


def _nothing(runtime: Runtime, account_id: UUID) -> Callable[[Any], dict[str, Any]]:
    return lambda state: {}


@dataclass
class Resource:
    prefix: str
    tag: str
    kind: str
    label: str
    state_type: Any
    create: type[Any]
    change: type[Any]
    writer: Any
    id_name: str  # the path parameter, e.g. group_id, as published in the OpenAPI document
    create_with: Callable[[Handlers, UUID, Any], Done]
    change_with: Callable[[Handlers, UUID, UUID, Any, int | None], Done]
    delete_with: Callable[[Handlers, UUID, UUID, int | None], Done]
    describe: Describe = _nothing
    describe_in_list: bool = False
    delete_summary: str = ""
    router: APIRouter = field(init=False)

    def __post_init__(self) -> None:
        self.router = APIRouter(prefix=self.prefix, tags=[self.tag])
        _add_routes(self, self.writer, self.state_type, self.create, self.change)

    def respond_one(self, runtime: Runtime, account_id: UUID, object_id: UUID, status: int = 200) -> Response:
        state = fetch(runtime, account_id, self.kind, object_id, self.label)
        return respond_state(state, status=status, **self.describe(runtime, account_id)(state))


def _add_routes(resource: Resource, writer: Any, state_type: Any, create: Any, change: Any) -> None:
    # Parameters rather than attributes, so that type checkers accept them as annotations.
    router, label = resource.router, resource.label
    ObjectId = Annotated[UUID, Path(alias=resource.id_name)]
    one = "/{" + resource.id_name + "}"

    @router.get("", **doc(response=list[state_type]), summary=f"List {label}s")
    def list_all(runtime: RuntimeDep, caller: Reader) -> Response:
        extra = resource.describe(runtime, caller.account_id) if resource.describe_in_list else None
        return respond(
            [
                view(state, **(extra(state) if extra else {}))
                for state in runtime.catalogue.list_kind(caller.account_id, resource.kind)
            ]
        )

    @router.post("", **doc(body=create, response=state_type, status=201), summary=f"Create a {label}")
    async def create_one(
        request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: writer
    ) -> Response:
        command = await read_body(request, create)

        def create_and_settle() -> Response:
            done = resource.create_with(handlers, caller.account_id, command)
            settled(runtime, done)
            return resource.respond_one(runtime, caller.account_id, done.id, status=201)

        return await run_in_threadpool(create_and_settle)

    @router.get(one, **doc(response=state_type), summary=f"Get a {label}")
    def get_one(object_id: ObjectId, runtime: RuntimeDep, caller: Reader) -> Response:
        return resource.respond_one(runtime, caller.account_id, object_id)

    @router.patch(one, **doc(body=change, response=state_type), summary=f"Change a {label}")
    async def change_one(
        object_id: ObjectId,
        request: Request,
        runtime: RuntimeDep,
        handlers: HandlersDep,
        caller: writer,
        expected: IfMatch,
    ) -> Response:
        command = await read_body(request, change)

        def change_and_settle() -> Response:
            settled(runtime, resource.change_with(handlers, caller.account_id, object_id, command, expected))
            return resource.respond_one(runtime, caller.account_id, object_id)

        return await run_in_threadpool(change_and_settle)

    @router.delete(one, status_code=204, summary=resource.delete_summary or f"Delete a {label}")
    def delete_one(
        object_id: ObjectId, runtime: RuntimeDep, handlers: HandlersDep, caller: writer, expected: IfMatch
    ) -> Response:
        settled(runtime, resource.delete_with(handlers, caller.account_id, object_id, expected))
        return Response(status_code=204)
