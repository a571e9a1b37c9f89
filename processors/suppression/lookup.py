"""Is a value in one suppression list now? The question ``GET
/api/v1/suppression-lists/{id}/entries/lookup`` asks, answered by the suppression index the
way pre-dial validation asks it (so the answer is what a dial attempt would meet).

Input: the list, the account's country (phone numbers are read in it), the kind and the value
as written. Output: :class:`EntryLookup`. Raises ``RuleViolation`` for a value that is not one
of its kind, and :class:`~processors.suppression.index.IndexUnavailable` when the index cannot
answer.
"""

from __future__ import annotations

from typing import cast
from uuid import UUID

import msgspec

from domain.suppression_list import SuppressionList, normalise_entry
from processors.suppression.index import Kind, SuppressionIndex, SuppressionQuery


class FoundEntry(msgspec.Struct, frozen=True, kw_only=True):
    entry_id: UUID
    expires_at: int | None  # UTC epoch seconds; null is permanent
    active: bool  # false once expired, until the expiry sweep removes it


class EntryLookup(msgspec.Struct, frozen=True, kw_only=True):
    suppression_list_id: UUID
    channel: str
    kind: str
    value: str  # as the list stores it: E.164, lower-cased e-mail address, client id
    suppressed: bool
    entry: FoundEntry | None


def look_up(
    index: SuppressionIndex, suppression_list: SuppressionList, *, country: str, kind: str, value: str, now: float
) -> EntryLookup:
    """Whether ``value`` (of ``kind``) is in the list at ``now`` (epoch seconds)."""
    channel = suppression_list.channel
    normalised = normalise_entry(kind, value, channel=channel, region=country)
    # normalise_entry refuses a kind that is not one: what is left is an index kind.
    query = SuppressionQuery(channel, cast(Kind, kind), normalised)
    (matches,) = index.lookup([query], [suppression_list.id])
    found = next((match for match in matches if match.list_id == suppression_list.id), None)
    entry = (
        None
        if found is None
        else FoundEntry(entry_id=found.entry_id, expires_at=found.expires_at, active=found.active_at(now))
    )
    return EntryLookup(
        suppression_list_id=suppression_list.id,
        channel=channel,
        kind=kind,
        value=normalised,
        suppressed=entry is not None and entry.active,
        entry=entry,
    )
