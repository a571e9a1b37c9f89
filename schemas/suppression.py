"""Topic ``suppressions``: suppression lists and their entries.

A suppression list is one aggregate: its settings (channel, required or optional, retention)
and, as batches of events on the same stream, the entries added to it and removed from it.
The aggregate's state does not hold the entries (a list may hold millions): the suppression
index (:mod:`processors.suppression.index`, Redis or embedded) is their projection, and
answers "is this contact suppressed" for pre-dial validation and the compliance processor.

An entry is a phone number (E.164), a client id or an e-mail address (lower-cased); it is
identified in its list by (kind, value), so adding it again replaces it (and restarts its
retention). ``expires_at`` is fixed when the entry is added, from the list's retention:
"today" ends at the next local midnight of the account's time zone, N days is N × 24 h
after the addition, permanent is ``None``. Expired entries leave by event
(``suppression_list.entries_expired``), never silently.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct

from schemas import topics
from schemas.base import Event
from schemas.profiles import Channel

EntryKind = Literal["phone", "client_id", "email"]
# disposition: a "do not call" at a call's end; opt_out: the contact's own STOP reply or unsubscribe.
EntrySource = Literal["api", "file", "disposition", "opt_out"]
RemovalReason = Literal["removed", "flush"]
# Entries per event: a file of millions of entries becomes many events, each small enough
# for a Kafka record and a quick decode.
MAX_ENTRIES_PER_EVENT = 5000


class SuppressionEntry(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    kind: EntryKind
    value: str  # E.164, client id as given, or lower-cased e-mail address
    entry_id: UUID  # uuid5(list id, "<kind>:<value>"): the same entry keeps its id
    expires_at: int | None = None  # UTC epoch seconds; None is permanent


class SuppressionEntryKey(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: EntryKind
    value: str


class SuppressionEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.SUPPRESSIONS


class SuppressionListCreated(SuppressionEvent, frozen=True, kw_only=True, tag="suppression_list.created"):
    name: str
    description: str
    channel: Channel
    # Required lists apply to every campaign; optional ones where a campaign group selects them.
    required: bool
    # None is permanent; 0 is "today"; else 1-31, 45, 60, 90, 180 or 360 days.
    retention_days: int | None


class SuppressionListChanged(SuppressionEvent, frozen=True, kw_only=True, tag="suppression_list.changed"):
    name: str
    description: str
    required: bool
    retention_days: int | None  # applies to entries added from now on


class SuppressionListArchived(SuppressionEvent, frozen=True, kw_only=True, tag="suppression_list.archived"):
    """The list no longer applies anywhere; its entries leave the index."""


class SuppressionEntriesAdded(
    SuppressionEvent, frozen=True, kw_only=True, tag="suppression_list.entries_added"
):
    channel: Channel  # the list's, so a projection needs no other event to place the entries
    entries: Annotated[list[SuppressionEntry], Meta(max_length=MAX_ENTRIES_PER_EVENT)]
    source: EntrySource
    job_id: UUID | None = None  # the import job, for entries from a file


class SuppressionEntriesRemoved(
    SuppressionEvent, frozen=True, kw_only=True, tag="suppression_list.entries_removed"
):
    channel: Channel
    entries: Annotated[list[SuppressionEntryKey], Meta(max_length=MAX_ENTRIES_PER_EVENT)]
    reason: RemovalReason


class SuppressionEntriesExpired(
    SuppressionEvent, frozen=True, kw_only=True, tag="suppression_list.entries_expired"
):
    """Entries whose retention ran out (``expires_at`` passed), removed by the expiry sweep."""

    channel: Channel
    entries: Annotated[list[SuppressionEntryKey], Meta(max_length=MAX_ENTRIES_PER_EVENT)]


class CampaignGroupSuppressionListsSelected(
    Event, frozen=True, kw_only=True, tag="campaign_group.suppression_lists_selected"
):
    """The optional suppression lists a campaign group applies (required ones always apply).

    An event of the campaign group aggregate, so on its topic: Kafka keeps an aggregate's
    events in order only within one topic.
    """

    TOPIC: ClassVar[str] = topics.CAMPAIGNS

    suppression_list_ids: list[UUID]


EVENTS: tuple[type[Event], ...] = (
    SuppressionListCreated,
    SuppressionListChanged,
    SuppressionListArchived,
    SuppressionEntriesAdded,
    SuppressionEntriesRemoved,
    SuppressionEntriesExpired,
    CampaignGroupSuppressionListsSelected,
)
