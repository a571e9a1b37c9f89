"""The rules of a running group's calls, apart from pacing (:mod:`domain.pacing`): what a
telephony outcome is as a Genesys call result, which agent takes an answered call, when a
live answer waiting for an agent is abandoned, and how the dialing modes differ.

Pure: times are seconds on the telephony clock, passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from domain.codes import CallResult
from schemas.profiles import PREVIEW_MODES

# The outcome the telephony reports for a call that was not answered by a person, and the
# call result it is on the record (outbound-facts: "Call result").
UNANSWERED_RESULTS: dict[str, CallResult] = {
    "busy": CallResult.BUSY,
    "no_answer": CallResult.NO_ANSWER,
    "sit_invalid": CallResult.SIT_INVALID_NUMBER,
    "network_error": CallResult.SYSTEM_ERROR,
    "answering_machine": CallResult.ANSWERING_MACHINE,
    "fax": CallResult.FAX,
}
ANSWERED_BY = {"answered_person": "person", "answering_machine": "machine", "fax": "fax"}

AGENTLESS_MODES = frozenset({"power"})
ENGAGE_FIRST_MODES = frozenset({"progressive_engage"})
# Predictive with engage-agent-first seizes an agent when the customer answers, before the
# call is bridged: the agent's reservation is an event of its own (the product's ASM modes).
ENGAGE_ON_ANSWER_MODES = frozenset({"predictive_engage"})
PREDICTIVE_MODES = frozenset({"predictive", "predictive_engage"})


def is_preview(mode: str) -> bool:
    return mode in PREVIEW_MODES


def reserves_agent_first(mode: str) -> bool:
    """Whether a call in ``mode`` has its agent reserved before it is placed: engage-agent-first,
    or a preview its agent accepted (what the abandoned-call quiet hours make an exception of)."""
    return mode in ENGAGE_FIRST_MODES or is_preview(mode)


@dataclass(frozen=True, slots=True)
class ReadyAgent:
    agent_id: UUID
    ready_since: float  # telephony seconds


def pick_agent(ready: Iterable[ReadyAgent]) -> ReadyAgent | None:
    """The agent that has waited longest takes the next answered call (fair occupancy)."""
    return min(ready, key=lambda agent: (agent.ready_since, agent.agent_id.int), default=None)


def abandon_deadline(answered_at: float, definition_s: float) -> float:
    """A live answer not connected to an agent by then is abandoned (the regulators' 2 s:
    outbound-facts "Rules a dialer enforces")."""
    return answered_at + definition_s


def connected_result() -> CallResult:
    """A call an agent talked on, until the agent's disposition (issue 16) says more."""
    return CallResult.ANSWER


def abandoned_result(message_played: bool) -> CallResult:
    """Dropped by the dialer with its message, or abandoned by the customer before that."""
    return CallResult.DROPPED if message_played else CallResult.ABANDONED
