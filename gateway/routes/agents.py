"""/api/v1/agents: the agent desktop (or softphone integration) API, agents named by login.

An agent logs in to an agent group, goes ready or not ready (with a reason), asks for the next
record of a preview campaign group and accepts or skips the record offered, finishes wrap-up
after a call, and logs out. Calls themselves (reservation, connection, end) are the dialer's
(``handlers.agents`` by agent id); their effect shows here as the agent's state.

Writes need a supervisor key: agents act through their supervisor's integration key (one key
per desktop integration, not one per agent). Reads need a viewer key. A write answers the
agent as the read model has it once the change is in (read-your-writes). A command the agent's
state does not allow is 409 naming the state; an agent that never logged in is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from msgspec import Struct
from starlette.concurrency import run_in_threadpool

from dialstream.bootstrap import Runtime
from dialstream.results import Done
from domain.agent import agent_id
from gateway.deps import HandlersDep, Reader, RuntimeDep, Supervisor
from gateway.io import doc, read_body, respond
from gateway.problems import Problem
from gateway.views import settled
from projections.agents import AgentRow
from schemas.agents import AfterWrapUp, CallbackRequest
from schemas.settings import NonEmpty, Text

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])


class LogIn(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    agent_group: NonEmpty  # the agent group of the campaign groups it takes calls of
    name: Text = ""
    # A simulated agent (with the telephony simulator): the dialer ends its wrap-ups and accepts
    # its preview records itself, after the simulator's wrap-up time.
    simulated: bool = False


class NotReady(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Text = ""  # break, lunch, training …


class NextPreview(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    campaign_group_id: UUID  # a group of the agent's agent group


class FinishWrapUp(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    then: AfterWrapUp = "ready"
    reason: Text = ""  # when not_ready
    disposition_code: str | None = None  # one of /api/v1/settings/dispositions
    # A callback: {"at": "2026-03-11T10:00:00"} (the contact's time), the campaign's; with
    # "personal": true, this agent's own (a personal callback).
    callback: CallbackRequest | None = None


def _agent(runtime: Runtime, account_id: UUID, login: str) -> Response:
    row = runtime.agents.get(account_id, agent_id(account_id, login))
    if row is None:
        raise Problem(404, "Not found", f"agent {login!r} not found (it never logged in)", field="login")
    return respond(row, version=row.version)


def _acted(runtime: Runtime, account_id: UUID, login: str, command: Callable[[], Done]) -> Response:
    """Run the command, wait for the read model to hold it, answer the agent."""
    settled(runtime, command())
    return _agent(runtime, account_id, login)


_FINISH_DOC = doc(body=FinishWrapUp, response=AgentRow)
_FINISH_DOC["openapi_extra"]["requestBody"]["required"] = False  # every field has a default


@router.get("", summary="List agents (of one agent group with ?agent_group=)", **doc(response=list[AgentRow]))
def list_agents(
    runtime: RuntimeDep,
    caller: Reader,
    agent_group: Annotated[str | None, Query(description="Only the agents of this agent group")] = None,
) -> Response:
    return respond(runtime.agents.list(caller.account_id, agent_group))


@router.get("/{login}", summary="An agent's state", **doc(response=AgentRow))
def get_agent(login: str, runtime: RuntimeDep, caller: Reader) -> Response:
    return _agent(runtime, caller.account_id, login)


@router.post(
    "/{login}/login", summary="Log the agent in to an agent group", **doc(body=LogIn, response=AgentRow)
)
async def log_in(
    login: str, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command: LogIn = await read_body(request, LogIn)
    return await run_in_threadpool(
        _acted,
        runtime,
        caller.account_id,
        login,
        lambda: handlers.agents.log_in(
            caller.account_id, login, agent_group=command.agent_group, name=command.name, simulated=command.simulated
        ),
    )


@router.post("/{login}/logout", summary="Log the agent out", **doc(response=AgentRow))
def log_out(login: str, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor) -> Response:
    return _acted(
        runtime, caller.account_id, login, lambda: handlers.agents.log_out(caller.account_id, login)
    )


@router.post("/{login}/ready", summary="Make the agent ready for calls", **doc(response=AgentRow))
def ready(login: str, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor) -> Response:
    return _acted(runtime, caller.account_id, login, lambda: handlers.agents.ready(caller.account_id, login))


@router.post(
    "/{login}/not-ready",
    summary="Make the agent not ready, with a reason",
    **doc(body=NotReady, response=AgentRow),
)
async def not_ready(
    login: str, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command: NotReady = await read_body(request, NotReady)
    return await run_in_threadpool(
        _acted,
        runtime,
        caller.account_id,
        login,
        lambda: handlers.agents.not_ready(caller.account_id, login, command.reason),
    )


@router.post(
    "/{login}/preview/next",
    summary="Ask for the next record of a preview campaign group (pull preview)",
    **doc(body=NextPreview, response=AgentRow),
)
async def next_preview(
    login: str, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command: NextPreview = await read_body(request, NextPreview)
    return await run_in_threadpool(
        _acted,
        runtime,
        caller.account_id,
        login,
        lambda: handlers.agents.request_preview(caller.account_id, login, command.campaign_group_id),
    )


@router.post(
    "/{login}/preview/accept", summary="Accept the offered preview record (dial it)", **doc(response=AgentRow)
)
def accept_preview(login: str, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor) -> Response:
    return _acted(
        runtime, caller.account_id, login, lambda: handlers.agents.accept_preview(caller.account_id, login)
    )


@router.post("/{login}/preview/skip", summary="Skip the offered preview record", **doc(response=AgentRow))
def skip_preview(login: str, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor) -> Response:
    return _acted(
        runtime, caller.account_id, login, lambda: handlers.agents.skip_preview(caller.account_id, login)
    )


@router.post(
    "/{login}/wrap-up/finish",
    summary="Finish after-call work, then ready (default) or not ready with a reason",
    **_FINISH_DOC,
)
async def finish_wrap_up(
    login: str, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command = FinishWrapUp()
    if await request.body():  # the body is optional: without one, the agent is ready after
        command = await read_body(request, FinishWrapUp)
    return await run_in_threadpool(
        _acted,
        runtime,
        caller.account_id,
        login,
        lambda: handlers.agents.finish_wrap_up(
            caller.account_id,
            login,
            command.then,
            command.reason,
            disposition_code=command.disposition_code,
            callback=command.callback,
        ),
    )
