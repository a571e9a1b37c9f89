"""The compliance processor's pure core: what a batch of events asks to check, and which
suppressions a chain must carry.

``plan(events)`` reads a batch (in log order) and says what to look at: the chains an import
brought (as the event left them: enough to ask the index, no load), the values of entries
added, the entries removed or expired, the lists archived or changed, the contact lists whose
applicable lists may have grown or shrunk. ``decide(state, matches, now)`` brings one chain
to every entry that matches it now (:func:`domain.record_chain.suppression_changes`): the
outcome depends on the index's answer, not on which event triggered the check, so a batch
checked twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain import record_chain
from domain.record_chain import RecordChain
from schemas.base import Event
from schemas.lists import ContactListAssigned, ContactListUnassigned
from schemas.records import RecordChainImported, RecordChainReplaced, Suppression
from schemas.suppression import (
    CampaignGroupSuppressionListsSelected,
    SuppressionEntriesAdded,
    SuppressionEntriesExpired,
    SuppressionEntriesRemoved,
    SuppressionListArchived,
    SuppressionListChanged,
)

READS: tuple[type[Event], ...] = (
    RecordChainImported,
    RecordChainReplaced,
    SuppressionEntriesAdded,
    SuppressionEntriesRemoved,
    SuppressionEntriesExpired,
    SuppressionListArchived,
    SuppressionListChanged,
    CampaignGroupSuppressionListsSelected,
    ContactListAssigned,
    ContactListUnassigned,
)


@dataclass
class Plan:
    imported: dict[UUID, RecordChain] = field(default_factory=dict)  # chain -> as imported
    added: list[tuple[UUID, list[str], list[str]]] = field(default_factory=list)  # account, contacts, client ids
    gone: list[tuple[UUID, list[tuple[str, str]]]] = field(default_factory=list)  # list, (kind, value)s
    lists_changed: set[UUID] = field(default_factory=set)  # archived or changed: re-check what they hold
    groups_selected: set[tuple[UUID, UUID]] = field(default_factory=set)  # (account, group)
    sweep: set[tuple[UUID, UUID]] = field(default_factory=set)  # (account, contact list) whose lists may grow
    narrowed: set[UUID] = field(default_factory=set)  # accounts whose optional lists may apply less
    widened: set[UUID] = field(default_factory=set)  # accounts where a list was made required

    @property
    def empty(self) -> bool:
        return not (
            self.imported
            or self.added
            or self.gone
            or self.lists_changed
            or self.groups_selected
            or self.sweep
            or self.narrowed
            or self.widened
        )


def plan(events: Iterable[Event]) -> Plan:
    """What a batch of events asks the compliance processor to check."""
    work = Plan()
    for event in events:
        match event:
            case RecordChainImported() | RecordChainReplaced():
                fresh = record_chain.evolve(None, event)
                if fresh is not None:
                    work.imported[event.originator_id] = fresh
            case SuppressionEntriesAdded():
                work.added.append(
                    (
                        event.account_id,
                        [e.value for e in event.entries if e.kind != "client_id"],
                        [e.value for e in event.entries if e.kind == "client_id"],
                    )
                )
            case SuppressionEntriesRemoved() | SuppressionEntriesExpired():
                work.gone.append((event.originator_id, [(key.kind, key.value) for key in event.entries]))
            case SuppressionListArchived() | SuppressionListChanged():
                work.lists_changed.add(event.originator_id)
                if isinstance(event, SuppressionListChanged) and event.required:
                    work.widened.add(event.account_id)
            case CampaignGroupSuppressionListsSelected():
                work.groups_selected.add((event.account_id, event.originator_id))
                work.narrowed.add(event.account_id)
            case ContactListAssigned():
                work.sweep.add((event.account_id, event.originator_id))
            case ContactListUnassigned():
                work.narrowed.add(event.account_id)
    return work


def decide(state: RecordChain, matches: Sequence[Suppression], *, now: datetime) -> list[Event]:
    """The events that bring a chain's suppressions to ``matches`` (none when it has them)."""
    return record_chain.suppression_changes(state, matches, now=now)
