"""Samples of the agent events (topic ``agents``), for golden files and schemas: one agent's
shift, in order — log in, ready, a predictive call with wrap-up, a preview record skipped and one
accepted and dialled, an engage-agent-first reservation released, a break, log out."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schemas import agents
from schemas.base import Event

AGENT = UUID("7e1a644f-1953-5944-a01e-58a2fd190393")  # domain.agent.agent_id(ACCOUNT, "amy.chen")
GROUP = UUID("d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70")
RECORD = UUID("f6a7b8c9-d0e1-4f2a-8b3c-4d5e6f708193")
ATTEMPT = UUID("5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b")
SKIPPED_RECORD = UUID("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")
SKIPPED_ATTEMPT = UUID("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")
ENGAGE_RECORD = UUID("c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f")
ENGAGE_ATTEMPT = UUID("d4e5f6a7-b8c9-4d0e-9f1a-3b4c5d6e7f80")

AGENT_SPECS: dict[type[Event], tuple[UUID, int, dict[str, Any]]] = {
    agents.AgentLoggedIn: (
        AGENT,
        1,
        dict(login="amy.chen", name="Amy Chen", agent_group="Collections Team A", simulated=False),
    ),
    agents.AgentReady: (AGENT, 2, {}),
    agents.AgentCallConnected: (
        AGENT,
        3,
        dict(campaign_group_id=GROUP, record_id=RECORD, attempt_id=ATTEMPT),
    ),
    agents.AgentWrapUpStarted: (AGENT, 4, dict(attempt_id=ATTEMPT)),
    agents.AgentWrapUpFinished: (AGENT, 5, dict(then="ready", reason="")),
    agents.AgentPreviewRequested: (AGENT, 6, dict(campaign_group_id=GROUP)),
    agents.AgentPreviewOffered: (
        AGENT,
        7,
        dict(campaign_group_id=GROUP, record_id=SKIPPED_RECORD, attempt_id=SKIPPED_ATTEMPT),
    ),
    agents.AgentPreviewSkipped: (AGENT, 8, dict(record_id=SKIPPED_RECORD, attempt_id=SKIPPED_ATTEMPT)),
    agents.AgentPreviewAccepted: (AGENT, 10, dict(record_id=RECORD, attempt_id=ATTEMPT)),
    agents.AgentReserved: (
        AGENT,
        14,
        dict(campaign_group_id=GROUP, record_id=ENGAGE_RECORD, attempt_id=ENGAGE_ATTEMPT, purpose="engage"),
    ),
    agents.AgentReservationReleased: (AGENT, 15, dict(reason="busy")),
    agents.AgentNotReady: (AGENT, 16, dict(reason="lunch")),
    agents.AgentLoggedOut: (AGENT, 17, {}),
}
