"""Samples of the suppression events (topic ``suppressions``), for golden files and schemas."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schemas import suppression
from schemas.base import Event

SUPPRESSION_LIST = UUID("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
GROUP = UUID("d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70")
PHONE_ENTRY = UUID("7b1c0f5e-2a9d-5c3e-8f4a-6b7c8d9e0f1a")
EMAIL_ENTRY = UUID("8c2d1a6f-3b0e-5d4f-9a5b-7c8d9e0f1a2b")

SUPPRESSION_SPECS: dict[type[Event], tuple[UUID, int, dict[str, Any]]] = {
    suppression.SuppressionListCreated: (
        SUPPRESSION_LIST,
        1,
        dict(
            name="Internal do-not-call",
            description="Customers who asked not to be called",
            channel="voice",
            required=True,
            retention_days=None,
        ),
    ),
    suppression.SuppressionListChanged: (
        SUPPRESSION_LIST,
        2,
        dict(name="Internal DNC", description="Kept 90 days", required=True, retention_days=90),
    ),
    suppression.SuppressionEntriesAdded: (
        SUPPRESSION_LIST,
        3,
        dict(
            channel="voice",
            entries=[
                suppression.SuppressionEntry(kind="phone", value="+13125550143", entry_id=PHONE_ENTRY),
                suppression.SuppressionEntry(
                    kind="email", value="pat@example.com", entry_id=EMAIL_ENTRY, expires_at=1742000000
                ),
            ],
            source="api",
        ),
    ),
    suppression.SuppressionEntriesRemoved: (
        SUPPRESSION_LIST,
        4,
        dict(
            channel="voice",
            entries=[suppression.SuppressionEntryKey(kind="phone", value="+13125550143")],
            reason="removed",
        ),
    ),
    suppression.SuppressionEntriesExpired: (
        SUPPRESSION_LIST,
        5,
        dict(channel="voice", entries=[suppression.SuppressionEntryKey(kind="email", value="pat@example.com")]),
    ),
    suppression.SuppressionListArchived: (SUPPRESSION_LIST, 6, {}),
    suppression.CampaignGroupSuppressionListsSelected: (
        GROUP,
        7,
        dict(suppression_list_ids=[SUPPRESSION_LIST]),
    ),
}
