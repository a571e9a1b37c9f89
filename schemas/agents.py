"""Topic ``agents``: the agents who take the calls of campaign groups, one stream per agent
(keyed by the agent's id, derived from its account and login: ``domain.agent.agent_id``).

An agent logs in to an agent group (the name session profiles and campaign groups use), becomes
ready or not ready (with a reason), is reserved by the dialer (engage-agent-first: before the
call is placed) or offered a preview record, is connected to a call, wraps up after it, and logs
out. Every change of state is one of these events, so an agent's state, and how long each agent
spent in each state (occupancy), are a replay of its stream.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from msgspec import Struct

from schemas import topics
from schemas.base import Event

# What a reservation holds the agent for: a call the dialer places for it (engage-agent-first),
# or a preview record it is about to be offered.
ReservationPurpose = Literal["engage", "preview"]
# Where an agent goes after wrap-up.
AfterWrapUp = Literal["ready", "not_ready"]


class AgentEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.AGENTS


class AgentLoggedIn(AgentEvent, frozen=True, kw_only=True, tag="agent.logged_in"):
    """The agent logged in to an agent group (it is neither ready nor not ready yet)."""

    login: str
    name: str = ""
    agent_group: str
    simulated: bool = False  # an agent of the telephony simulator, not a person


class AgentReady(AgentEvent, frozen=True, kw_only=True, tag="agent.ready"):
    """The agent is ready for calls."""


class AgentNotReady(AgentEvent, frozen=True, kw_only=True, tag="agent.not_ready"):
    """The agent is logged in but takes no calls (break, meeting, training …)."""

    reason: str = ""


class AgentReserved(AgentEvent, frozen=True, kw_only=True, tag="agent.reserved"):
    """The dialer holds a ready agent for one campaign group: for the call it places now
    (engage-agent-first), or for a preview record; record and attempt are None while not drawn."""

    campaign_group_id: UUID
    record_id: UUID | None = None
    attempt_id: UUID | None = None
    purpose: ReservationPurpose


class AgentReservationReleased(AgentEvent, frozen=True, kw_only=True, tag="agent.reservation_released"):
    """The reservation ended without a call (no answer, busy, group paused …): the agent is ready."""

    reason: str = ""


class AgentPreviewRequested(AgentEvent, frozen=True, kw_only=True, tag="agent.preview_requested"):
    """A ready agent asked for the next record of a preview campaign group (pull preview)."""

    campaign_group_id: UUID


class AgentPreviewOffered(AgentEvent, frozen=True, kw_only=True, tag="agent.preview_offered"):
    """The dialer offered a record to the agent, who may accept (dial it) or skip it."""

    campaign_group_id: UUID
    record_id: UUID
    attempt_id: UUID


class AgentPreviewAccepted(AgentEvent, frozen=True, kw_only=True, tag="agent.preview_accepted"):
    """The agent accepted the offered record: the dialer places the call for it."""

    record_id: UUID
    attempt_id: UUID


class AgentPreviewSkipped(AgentEvent, frozen=True, kw_only=True, tag="agent.preview_skipped"):
    """The agent skipped the offered record (it goes back to the queue); the agent is ready."""

    record_id: UUID
    attempt_id: UUID


class AgentCallConnected(AgentEvent, frozen=True, kw_only=True, tag="agent.call_connected"):
    """The agent is talking to the customer of this attempt."""

    campaign_group_id: UUID
    record_id: UUID
    attempt_id: UUID


class AgentWrapUpStarted(AgentEvent, frozen=True, kw_only=True, tag="agent.wrap_up_started"):
    """The call of this attempt ended; the agent is in after-call work."""

    attempt_id: UUID


class AgentWrapUpFinished(AgentEvent, frozen=True, kw_only=True, tag="agent.wrap_up_finished"):
    """The agent finished after-call work and is ready, or not ready with a reason; with the
    disposition code it gave the call (one of the account's ``dispositions``), if any."""

    then: AfterWrapUp = "ready"
    reason: str = ""
    disposition_code: str | None = None


class CallbackRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A callback the agent agreed with the customer at wrap-up: ``at`` is wall-clock time in
    the contact's zone (no offset). A campaign callback (the default): any agent of the
    campaign may take it. ``personal``: a personal callback, the agent's own: dialled for that
    agent, and offered to another only once the dialing profile's grace period after ``at``
    is over (``personal_callback_grace_minutes``)."""

    at: datetime
    personal: bool = False


class AgentLoggedOut(AgentEvent, frozen=True, kw_only=True, tag="agent.logged_out"):
    """The agent logged out."""


EVENTS: tuple[type[Event], ...] = (
    AgentLoggedIn,
    AgentReady,
    AgentNotReady,
    AgentReserved,
    AgentReservationReleased,
    AgentPreviewRequested,
    AgentPreviewOffered,
    AgentPreviewAccepted,
    AgentPreviewSkipped,
    AgentCallConnected,
    AgentWrapUpStarted,
    AgentWrapUpFinished,
    AgentLoggedOut,
)
