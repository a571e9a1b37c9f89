"""Agent: a person (or a simulated agent) who takes the calls of campaign groups.

An agent is known by its login within its account; its id derives from both
(:func:`agent_id`), so the API (by login) and the dialer (by id) name the same stream.

States and the commands that move between them (anything else is refused with an
:class:`~domain.errors.InvalidTransition` that names the agent and its state)::

    logged_out --log_in--> logged_in --ready--> ready <--ready-- not_ready
    logged_in | ready --not_ready(reason)--> not_ready
    ready --reserve--> reserved --release--> ready            (engage-agent-first, or a preview hold)
    ready --request_preview--> ready (waiting for a record of that group: pull preview)
    ready --offer_preview--> reserved (record offered) --skip_preview--> ready
                                      --accept_preview--> reserved (accepted: the dialer dials it)
    ready | reserved --connect_call--> on_call --end_call--> wrap_up
    wrap_up --finish_wrap_up | ready | not_ready--> ready | not_ready
    any state but on_call and reserved --log_out--> logged_out

Commands that change nothing store nothing: logging in again to the same agent group, ready
when ready, not ready with the reason it has. The dialer's commands name an attempt, and the
agent remembers the last attempt it held (``last_attempt_id``), so a dialer that repeats a
command after a crash or a lost answer (reserve, offer, connect, end, release for an attempt
the agent has held) stores nothing twice.

Decisions are pure: the clock's time comes in as ``now``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID

import msgspec

from domain.aggregate import Aggregate, Changes, projector
from domain.errors import InvalidTransition, NotFound, RuleViolation
from domain.record_chain import name_based_id
from schemas.agents import (
    AfterWrapUp,
    AgentCallConnected,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentPreviewAccepted,
    AgentPreviewOffered,
    AgentPreviewRequested,
    AgentPreviewSkipped,
    AgentReady,
    AgentReservationReleased,
    AgentReserved,
    AgentWrapUpFinished,
    AgentWrapUpStarted,
    ReservationPurpose,
)
from schemas.base import Event

AgentState = Literal["logged_out", "logged_in", "ready", "not_ready", "reserved", "on_call", "wrap_up"]
STATES: tuple[AgentState, ...] = get_args(AgentState)
# Where a preview record stands for the agent: asked for (pull preview, the agent is ready),
# offered to it, accepted by it (the dialer places the call). Empty: no preview under way.
PreviewStage = Literal["", "requested", "offered", "accepted"]
LABEL = "agent"
MAX_LOGIN = 100
MAX_TEXT = 200


def agent_id(account_id: UUID, login: str) -> UUID:
    """The agent's id: name-based on its account and login (uuid5), so it is known without a lookup."""
    return name_based_id(account_id, "agent:" + login)


def check_login(login: str) -> str:
    """A login names the agent in URLs: 1–100 characters, no spaces, slashes or control characters."""
    if not login:
        raise RuleViolation("an agent needs a login", field="login")
    if len(login) > MAX_LOGIN:
        raise RuleViolation(f"a login has at most {MAX_LOGIN} characters", field="login")
    if any(char.isspace() or char == "/" or not char.isprintable() for char in login):
        raise RuleViolation(
            f"login {login!r} may not hold spaces, slashes or control characters", field="login"
        )
    return login


class Agent(Aggregate, frozen=True, kw_only=True):
    login: str
    name: str
    agent_group: str
    simulated: bool
    state: AgentState
    since: datetime  # when the current state began
    reason: str = ""  # why the agent is not ready
    # What the agent is held for or busy with: a reservation, a preview record, a call.
    campaign_group_id: UUID | None = None
    record_id: UUID | None = None
    attempt_id: UUID | None = None
    purpose: str = ""  # of a reservation: "engage" or "preview"
    preview: PreviewStage = ""
    # The last attempt the agent was reserved for, offered or connected to; kept after it ends
    # so that the dialer repeating a command about it stores nothing twice.
    last_attempt_id: UUID | None = None


# Refusals ----------------------------------------------------------------------------------


def describe(agent: Agent) -> str:
    """The agent's state in words, for messages: "agent 'amy' is on a call"."""
    who = f"agent {agent.login!r}"
    match agent.state:
        case "reserved" if agent.preview == "offered":
            return f"{who} has a preview record offered"
        case "reserved" if agent.preview == "accepted":
            return f"{who} accepted a preview record and its call is being placed"
        case "reserved":
            return f"{who} is reserved for a call"
        case "on_call":
            return f"{who} is on a call"
        case "wrap_up":
            return f"{who} is in wrap-up"
        case "logged_in":
            return f"{who} is logged in but not ready yet"
        case "not_ready":
            return f"{who} is not ready" + (f" ({agent.reason})" if agent.reason else "")
        case _:
            return f"{who} is {agent.state.replace('_', ' ')}"


def _refused(agent: Agent, hint: str) -> InvalidTransition:
    return InvalidTransition(f"{describe(agent)}; {hint}", field="state")


def _busy_hint(agent: Agent, action: str) -> str:
    """What an agent in the middle of a call must do before ``action``."""
    if agent.state == "on_call":
        return f"the call must end before it can {action}"
    if agent.preview == "offered":
        return f"it must accept or skip the record before it can {action}"
    if agent.state == "reserved":
        return f"the dialer must connect or release it before it can {action}"
    if agent.state == "logged_out":
        return "log in first"
    return f"it cannot {action} now"


def known(state: Agent | None) -> Agent:
    if state is None:
        raise NotFound("agent not found (it never logged in)", field="login")
    return state


def _text(value: str, field: str) -> str:
    cleaned = " ".join(value.split())
    if len(cleaned) > MAX_TEXT:
        raise RuleViolation(f"{field} has at most {MAX_TEXT} characters", field=field)
    return cleaned


def _seen(agent: Agent, attempt_id: UUID | None) -> bool:
    """Whether the agent held this attempt last (it may hold it still)."""
    return attempt_id is not None and attempt_id == agent.last_attempt_id


# Decisions of the agent (the desktop, through the API) -------------------------------------


def log_in(
    state: Agent | None,
    *,
    account_id: UUID,
    login: str,
    agent_group: str,
    name: str = "",
    simulated: bool = False,
    now: datetime,
) -> list[Event]:
    """Log in to ``agent_group``; again to the same group changes nothing; to another, refused."""
    check_login(login)
    group = _text(agent_group, "agent_group")
    if not group:
        raise RuleViolation("an agent logs in to an agent group", field="agent_group")
    if state is not None and state.state != "logged_out":
        if state.agent_group == group:
            return []
        raise InvalidTransition(
            f"agent {login!r} is logged in to agent group {state.agent_group!r} ({state.state.replace('_', ' ')}); "
            f"log out first to log in to {group!r}",
            field="agent_group",
        )
    changes = (
        Changes(agent_id(account_id, login), account_id, 0, now) if state is None else Changes.of(state, now)
    )
    changes.record(
        AgentLoggedIn, login=login, name=_text(name, "name"), agent_group=group, simulated=simulated
    )
    return changes.events


def log_out(state: Agent | None, *, now: datetime) -> list[Event]:
    agent = known(state)
    if agent.state == "logged_out":
        return []
    if agent.state in ("on_call", "reserved"):
        raise _refused(agent, _busy_hint(agent, "log out"))
    changes = Changes.of(agent, now)
    changes.record(AgentLoggedOut)
    return changes.events


def ready(state: Agent | None, *, now: datetime) -> list[Event]:
    """Ready for calls: from logged in or not ready; from wrap-up it finishes the wrap-up."""
    agent = known(state)
    changes = Changes.of(agent, now)
    match agent.state:
        case "ready":
            return []
        case "logged_in" | "not_ready":
            changes.record(AgentReady)
        case "wrap_up":
            changes.record(AgentWrapUpFinished, then="ready", reason="")
        case _:
            raise _refused(agent, _busy_hint(agent, "become ready"))
    return changes.events


def not_ready(state: Agent | None, reason: str = "", *, now: datetime) -> list[Event]:
    """Not ready (with a reason): from logged in or ready; from wrap-up it finishes the wrap-up;
    when not ready already, a new reason is recorded and the same one changes nothing."""
    agent = known(state)
    reason = _text(reason, "reason")
    changes = Changes.of(agent, now)
    match agent.state:
        case "not_ready" if agent.reason == reason:
            return []
        case "logged_in" | "ready" | "not_ready":
            changes.record(AgentNotReady, reason=reason)
        case "wrap_up":
            changes.record(AgentWrapUpFinished, then="not_ready", reason=reason)
        case _:
            raise _refused(agent, _busy_hint(agent, "become not ready"))
    return changes.events


def request_preview(
    state: Agent | None, *, group_id: UUID, group_agent_group: str, now: datetime
) -> list[Event]:
    """A ready agent asks for the next record of a campaign group of its agent group (pull preview)."""
    agent = known(state)
    if agent.state != "ready":
        hint = "make it ready first" if agent.state in ("logged_in", "not_ready") else None
        raise _refused(agent, hint or _busy_hint(agent, "ask for a preview record"))
    if group_agent_group != agent.agent_group:
        raise RuleViolation(
            f"agent {agent.login!r} is in agent group {agent.agent_group!r}; that campaign group "
            f"dials for {group_agent_group!r}",
            field="campaign_group_id",
        )
    if agent.preview == "requested" and agent.campaign_group_id == group_id:
        return []
    changes = Changes.of(agent, now)
    changes.record(AgentPreviewRequested, campaign_group_id=group_id)
    return changes.events


def accept_preview(state: Agent | None, *, now: datetime) -> list[Event]:
    """Accept the offered record: the dialer places its call for this agent."""
    agent = known(state)
    if agent.preview == "accepted":
        return []
    if agent.preview != "offered" or agent.record_id is None or agent.attempt_id is None:
        raise _refused(agent, "it has no preview record to accept")
    changes = Changes.of(agent, now)
    changes.record(AgentPreviewAccepted, record_id=agent.record_id, attempt_id=agent.attempt_id)
    return changes.events


def skip_preview(state: Agent | None, *, now: datetime) -> list[Event]:
    """Skip the offered record (the dialer returns it to the queue); the agent is ready again."""
    agent = known(state)
    if agent.preview == "accepted":
        raise _refused(agent, "an accepted record can no longer be skipped")
    if agent.preview != "offered" or agent.record_id is None or agent.attempt_id is None:
        raise _refused(agent, "it has no preview record to skip")
    changes = Changes.of(agent, now)
    changes.record(AgentPreviewSkipped, record_id=agent.record_id, attempt_id=agent.attempt_id)
    return changes.events


def finish_wrap_up(
    state: Agent | None,
    then: str = "ready",
    reason: str = "",
    *,
    attempt_id: UUID | None = None,
    disposition_code: str | None = None,
    now: datetime,
) -> list[Event]:
    """End after-call work, then ready or not ready (with a reason), with the disposition the
    agent gave the call (checked against the account's catalogue by the caller). Given the
    attempt whose wrap-up it ends (the dialer, for simulated agents), a repeat after the end
    stores nothing."""
    agent = known(state)
    if then not in get_args(AfterWrapUp):
        raise RuleViolation(f"after wrap-up an agent is ready or not_ready, not {then!r}", field="then")
    if agent.state != "wrap_up":
        if _seen(agent, attempt_id) and agent.attempt_id != attempt_id:
            return []
        raise _refused(agent, "only an agent in wrap-up can finish it")
    if attempt_id is not None and agent.attempt_id != attempt_id:
        raise _refused(agent, f"its wrap-up is of another call (attempt {agent.attempt_id})")
    changes = Changes.of(agent, now)
    changes.record(
        AgentWrapUpFinished,
        then=then,
        reason=_text(reason, "reason") if then == "not_ready" else "",
        disposition_code=disposition_code,
    )
    return changes.events


# Decisions of the dialer (by agent id, each about one attempt) ------------------------------


def reserve(
    state: Agent | None,
    *,
    group_id: UUID,
    record_id: UUID | None,
    attempt_id: UUID | None,
    purpose: ReservationPurpose,
    now: datetime,
) -> list[Event]:
    """Hold a ready agent for a call of ``group_id`` (engage-agent-first) or a preview record."""
    agent = known(state)
    if purpose not in get_args(ReservationPurpose):
        raise RuleViolation(f"a reservation is for engage or preview, not {purpose!r}", field="purpose")
    if _seen(agent, attempt_id):
        return []  # reserved for it already, or past it
    if (
        agent.state == "reserved"
        and attempt_id is None
        and (agent.campaign_group_id, agent.record_id, agent.attempt_id, agent.purpose)
        == (group_id, record_id, None, purpose)
    ):
        return []
    if agent.state != "ready":
        raise _refused(agent, "only a ready agent can be reserved")
    changes = Changes.of(agent, now)
    changes.record(
        AgentReserved, campaign_group_id=group_id, record_id=record_id, attempt_id=attempt_id, purpose=purpose
    )
    return changes.events


def release(
    state: Agent | None, reason: str = "", *, attempt_id: UUID | None = None, now: datetime
) -> list[Event]:
    """End a reservation without a call (no answer, busy, the group paused): the agent is ready.

    Given the attempt, a release of an attempt the agent no longer holds stores nothing.
    """
    agent = known(state)
    holding = agent.attempt_id
    reserved = agent.state == "reserved"
    if reserved and (attempt_id is None or holding == attempt_id):
        return _released(agent, reason, now)
    if attempt_id is not None and holding == attempt_id:  # on its call or in its wrap-up
        raise _refused(agent, "that call was connected; end it instead of releasing the agent")
    if _seen(agent, attempt_id):
        return []  # released already, or past it
    if reserved and holding is None:  # held before the record was drawn; the dialer names its attempt
        return _released(agent, reason, now)
    if reserved:
        raise _refused(agent, f"it is held for another call (attempt {holding})")
    raise _refused(agent, "only a reserved agent can be released")


def _released(agent: Agent, reason: str, now: datetime) -> list[Event]:
    changes = Changes.of(agent, now)
    changes.record(AgentReservationReleased, reason=_text(reason, "reason"))
    return changes.events


def offer_preview(
    state: Agent | None, *, group_id: UUID, record_id: UUID, attempt_id: UUID, now: datetime
) -> list[Event]:
    """Offer a record to a ready agent (push preview, or the one it asked for), or to an agent
    reserved for a preview of this group."""
    agent = known(state)
    holds_for_preview = (
        agent.state == "reserved"
        and agent.purpose == "preview"
        and agent.preview == ""
        and agent.campaign_group_id == group_id
    )
    # The dialer drew the record it held this agent for (the hold named the attempt already).
    drawn_for_hold = holds_for_preview and agent.attempt_id == attempt_id
    if not drawn_for_hold and _seen(agent, attempt_id):
        return []  # offered already, or past it
    if not (drawn_for_hold or agent.state == "ready" or (holds_for_preview and agent.attempt_id is None)):
        raise _refused(
            agent, "only a ready agent, or one reserved for a preview of this group, gets a record"
        )
    changes = Changes.of(agent, now)
    changes.record(
        AgentPreviewOffered, campaign_group_id=group_id, record_id=record_id, attempt_id=attempt_id
    )
    return changes.events


def connect_call(
    state: Agent | None, *, group_id: UUID, record_id: UUID, attempt_id: UUID, now: datetime
) -> list[Event]:
    """Connect the answered call of ``attempt_id`` to a ready agent, or to the agent reserved for it."""
    agent = known(state)
    held = agent.state == "reserved" and agent.attempt_id == attempt_id
    if not held and _seen(agent, attempt_id):
        return []  # on that call, in its wrap-up, or past it
    if agent.state == "reserved":
        if agent.campaign_group_id != group_id:
            raise _refused(agent, f"it is held for another campaign group ({agent.campaign_group_id})")
        if agent.attempt_id not in (None, attempt_id):
            raise _refused(agent, f"it is held for another call (attempt {agent.attempt_id})")
        if agent.purpose == "preview" and agent.preview != "accepted":
            raise _refused(agent, "its preview record is not accepted; it cannot be connected to the call")
    elif agent.state != "ready":
        raise _refused(agent, "only a ready or reserved agent can be connected to a call")
    changes = Changes.of(agent, now)
    changes.record(AgentCallConnected, campaign_group_id=group_id, record_id=record_id, attempt_id=attempt_id)
    return changes.events


def end_call(state: Agent | None, attempt_id: UUID, *, now: datetime) -> list[Event]:
    """The call of ``attempt_id`` ended: the agent starts wrap-up."""
    agent = known(state)
    if agent.state == "on_call" and agent.attempt_id == attempt_id:
        changes = Changes.of(agent, now)
        changes.record(AgentWrapUpStarted, attempt_id=attempt_id)
        return changes.events
    if agent.state == "on_call":
        raise _refused(agent, f"that is another call (attempt {agent.attempt_id}) than {attempt_id}")
    held_not_connected = agent.state == "reserved" and agent.attempt_id == attempt_id
    if _seen(agent, attempt_id) and not held_not_connected:
        return []  # its wrap-up started already, or is over
    raise _refused(agent, "only an agent on that call can end it")


# Folding -----------------------------------------------------------------------------------


def _changed(agent: Agent, event: Event, **changes: Any) -> Agent:
    """The agent after ``event``: these changes, its version and time. (Not
    :func:`domain.aggregate.touched`, whose first parameter is named like the field ``state``.)"""
    return msgspec.structs.replace(
        agent, version=event.originator_version, modified_on=event.timestamp, **changes
    )


def _free(state: Agent, event: Event, new_state: AgentState, reason: str = "") -> Agent:
    """The agent holds nothing any more (no group, record or attempt) and enters ``new_state``."""
    return _changed(
        state,
        event,
        state=new_state,
        since=event.timestamp,
        reason=reason,
        campaign_group_id=None,
        record_id=None,
        attempt_id=None,
        purpose="",
        preview="",
    )


def evolve(state: Agent | None, event: Event) -> Agent | None:
    if isinstance(event, AgentLoggedIn):
        return Agent(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=state.created_on if state else event.timestamp,
            modified_on=event.timestamp,
            login=event.login,
            name=event.name,
            agent_group=event.agent_group,
            simulated=event.simulated,
            state="logged_in",
            since=event.timestamp,
            last_attempt_id=state.last_attempt_id if state else None,
        )
    if state is None:
        return None
    match event:
        case AgentReady() | AgentReservationReleased() | AgentPreviewSkipped():
            return _free(state, event, "ready")
        case AgentNotReady():
            return _free(state, event, "not_ready", event.reason)
        case AgentWrapUpFinished():
            return _free(state, event, event.then, event.reason)
        case AgentLoggedOut():
            return _free(state, event, "logged_out")
        case AgentReserved():
            return _changed(
                state,
                event,
                state="reserved",
                since=event.timestamp,
                reason="",
                campaign_group_id=event.campaign_group_id,
                record_id=event.record_id,
                attempt_id=event.attempt_id,
                purpose=event.purpose,
                preview="",
                last_attempt_id=event.attempt_id or state.last_attempt_id,
            )
        case AgentPreviewRequested():
            return _changed(state, event, campaign_group_id=event.campaign_group_id, preview="requested")
        case AgentPreviewOffered():
            return _changed(
                state,
                event,
                state="reserved",
                since=state.since if state.state == "reserved" else event.timestamp,
                campaign_group_id=event.campaign_group_id,
                record_id=event.record_id,
                attempt_id=event.attempt_id,
                purpose="preview",
                preview="offered",
                last_attempt_id=event.attempt_id,
            )
        case AgentPreviewAccepted():
            return _changed(state, event, preview="accepted")
        case AgentCallConnected():
            return _changed(
                state,
                event,
                state="on_call",
                since=event.timestamp,
                campaign_group_id=event.campaign_group_id,
                record_id=event.record_id,
                attempt_id=event.attempt_id,
                purpose="",
                preview="",
                last_attempt_id=event.attempt_id,
            )
        case AgentWrapUpStarted():
            return _changed(state, event, state="wrap_up", since=event.timestamp)
    return _changed(state, event)


project = projector(evolve)
