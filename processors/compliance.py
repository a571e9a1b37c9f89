"""The compliance processor: records that match suppression entries become "no call", with the
reason recorded, and get their record type back when no entry matches them any more.

It follows the log on a thread of its own, like the suppression index:

- ``record_chain.imported`` / ``replaced``: the chain's records (phone or e-mail, and the
  client id) are looked up in the index against the lists that apply to their contact list
  (required lists of its channel, optional ones its campaign groups selected), one round trip
  per batch of the log;
- ``suppression_list.entries_added``: the account's chains with those values are re-checked
  (entries added after the records were imported);
- entries removed or expired, a list archived or changed (no longer required): the chains
  those entries held back are re-checked;
- lists that start applying to contact lists after their records were imported — a list
  made required, a campaign group selecting optional lists, a contact list joining a group
  that selected some: the records of those contact lists are swept (read from the
  ``records`` read model a page at a time, looked up in the index against the lists that
  apply to them) and the chains that match are re-checked; lists that stop applying (a
  group's selection dropping them, a contact list leaving a group) re-check the chains the
  account's optional lists hold back.

Each re-check asks the index for *every* entry matching the chain now and lets
:func:`domain.record_chain.suppression_changes` decide, so the outcome does not depend on
which event triggered it, and a batch handled twice changes nothing. Before asking the index
the processor waits until it holds the log up to the batch; if it cannot answer, the batch
is retried (pre-dial validation is the gate that fails closed meanwhile).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from dialstream.clock import utc_now
from dialstream.store import ConcurrencyConflict, EventStore, stored_topic_of
from domain import campaign_group, record_chain
from domain.codes import ContactInfoType
from domain.contact_list import KIND as CONTACT_LIST
from domain.record_chain import RecordChain
from processors.log_follower import LogFollower
from processors.suppression_index import IndexUnavailable, Kind, SuppressionIndex, SuppressionQuery
from projections.base import ProjectionStore
from projections.catalogue import CatalogueQueries
from projections.record_suppressions import RecordSuppressionQueries
from projections.records import RecordQueries
from projections.suppression_lists import SuppressionListQueries
from schemas.base import Event
from schemas.lists import ContactListAssigned, ContactListUnassigned
from schemas.profiles import Channel
from schemas.records import RecordChainImported, RecordChainReplaced, Suppression
from schemas.suppression import (
    CampaignGroupSuppressionListsSelected,
    SuppressionEntriesAdded,
    SuppressionEntriesExpired,
    SuppressionEntriesRemoved,
    SuppressionListArchived,
    SuppressionListChanged,
    SuppressionListCreated,
)

log = logging.getLogger(__name__)

NAME = "compliance"
READS = (
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
STORED_TOPICS = tuple(stored_topic_of(cls) for cls in READS)
LIST_CREATED = (stored_topic_of(SuppressionListCreated),)
READ_BATCH = 500


class ComplianceProcessor(LogFollower):
    name = NAME

    def __init__(
        self,
        store: EventStore,
        index: SuppressionIndex,
        positions: ProjectionStore,
        catalogue: CatalogueQueries,
        lists: SuppressionListQueries,
        records: RecordQueries,
        suppressed: RecordSuppressionQueries,
        wait_read_models: Callable[[int, float], bool],
        *,
        clock: Callable[[], datetime] = utc_now,
        retry_seconds: float = 1.0,
    ):
        super().__init__(store, retry_seconds=retry_seconds)
        self.index = index
        self.positions = positions
        self.catalogue = catalogue
        self.lists = lists
        self.records = records
        self.suppressed = suppressed
        self.wait_read_models = wait_read_models
        self.clock = clock
        self.position = positions.position(NAME)
        self._lists_seen = False
        self._lists_checked = 0  # the log up to here creates no suppression list
        self._policies: dict[tuple[UUID, UUID], tuple[Channel, set[UUID]]] = {}

    def expected(self, error: Exception) -> bool:
        return isinstance(error, IndexUnavailable | TimeoutError)

    # Following the log -----------------------------------------------------------------

    def catch_up(self) -> int:
        """Handle everything up to the head of the log as it is now."""
        head = self.store.position()
        if self.position < head and not self._lists_exist(head):
            # No suppression list yet: nothing in the log up to here can match or change.
            # Decoding an import's chains only to learn that costs it a tenth of its time.
            self.positions.record_position(NAME, head)
            return head
        return self._follow(head, STORED_TOPICS)

    def _lists_exist(self, head: int) -> bool:
        """Whether the log up to ``head`` creates a suppression list (once it does, it always
        will: lists are archived, never deleted). Asked of the log, not of the read models,
        which lag behind an import."""
        if not self._lists_seen:
            found = self.store.read_topics(LIST_CREATED, after=self._lists_checked, limit=1, upto=head)
            self._lists_seen = bool(found)
            self._lists_checked = head
        return self._lists_seen

    def _follow(self, head: int, topics: tuple[str, ...]) -> int:
        for events, upto in self.store.follow_topics(
            topics, after=self.position, upto=head, batch=READ_BATCH
        ):
            if self.stopping:
                break
            self._handle(events, upto)
            self.positions.record_position(NAME, upto)
            self.reached(upto)
        return self.position

    def _handle(self, events: list[Event], upto: int) -> None:
        imported: dict[UUID, RecordChain] = {}
        recheck: set[UUID] = set()
        sweep: set[tuple[UUID, UUID]] = set()  # (account, contact list) whose lists may have grown
        narrowed: set[UUID] = set()  # accounts where optional lists may apply to fewer lists
        widened: set[UUID] = set()  # accounts where a list was made required
        for event in events:
            match event:
                case RecordChainImported() | RecordChainReplaced():
                    # The chain as this event left it: enough to ask the index, no load.
                    fresh = record_chain.evolve(None, event)
                    if fresh is not None:
                        imported[event.originator_id] = fresh
                case SuppressionEntriesAdded():
                    recheck |= self.records.chains_with(
                        event.account_id,
                        [e.value for e in event.entries if e.kind != "client_id"],
                        [e.value for e in event.entries if e.kind == "client_id"],
                    )
                case SuppressionEntriesRemoved() | SuppressionEntriesExpired():
                    values = [(key.kind, key.value) for key in event.entries]
                    recheck |= self.suppressed.chains(event.originator_id, values)
                case SuppressionListArchived() | SuppressionListChanged():
                    recheck |= self.suppressed.chains(event.originator_id)
                    if isinstance(event, SuppressionListChanged) and event.required:
                        widened.add(event.account_id)
                case CampaignGroupSuppressionListsSelected():
                    group = self.store.load(event.originator_id, campaign_group.project)
                    if group is not None:
                        sweep |= {(event.account_id, list_id) for list_id in group.contact_list_ids}
                    narrowed.add(event.account_id)
                case ContactListAssigned():
                    sweep.add((event.account_id, event.originator_id))
                case ContactListUnassigned():
                    narrowed.add(event.account_id)
        if not imported and not recheck and not sweep and not narrowed and not widened:
            return
        # Which lists apply comes from the read models: they must have seen this batch too.
        if not self.wait_read_models(upto, 30.0):
            raise TimeoutError("the read models did not reach the compliance processor's position")
        if not self.lists.any_active():
            return  # nothing can match (entries added later find their records themselves)
        self._policies.clear()  # lists and their groups may have changed since the last batch
        recheck |= self._reach_changed(upto, sweep, narrowed, widened)
        drafts = [state for chain, state in imported.items() if chain not in recheck]
        drafts = [state for state in drafts if self._policy(state.account_id, state.list_id)[1]]
        if not drafts and not recheck:
            return
        self._await_index(upto)
        # An imported chain changes only if something matches it (it starts unsuppressed).
        matched = [chain for chain in self._matches(drafts) if chain not in recheck]
        self._recheck([*matched, *recheck])

    def _await_index(self, upto: int) -> None:
        """The index must hold every suppression event up to ``upto`` before it is asked."""
        deadline = time.monotonic() + 30.0
        while (self.index.position() or 0) < upto:
            if time.monotonic() > deadline or self.stopping:
                raise IndexUnavailable("the suppression index is behind the compliance processor")
            time.sleep(0.02)

    def _reach_changed(
        self, upto: int, sweep: set[tuple[UUID, UUID]], narrowed: set[UUID], widened: set[UUID]
    ) -> set[UUID]:
        """The chains to re-check because lists reach more contact lists (``sweep``, and every
        contact list of the ``widened`` accounts) or fewer (the ``narrowed`` accounts)."""
        recheck: set[UUID] = set()
        for account_id in widened:
            sweep = sweep | {(account_id, found.id) for found in self.catalogue.list_kind(account_id, CONTACT_LIST)}
        for account_id in narrowed:
            for held in self.lists.list_by_account(account_id):
                if not held.state.required:
                    recheck |= self.suppressed.chains(held.state.id)
        if sweep:
            self._await_index(upto)
            recheck |= self._swept(sweep)
        return recheck

    def _swept(self, contact_lists: set[tuple[UUID, UUID]]) -> set[UUID]:
        """The chains of these contact lists with a record or client id that an entry of a
        list applying to them matches: a page of records per index round trip."""
        matched: set[UUID] = set()
        for account_id, list_id in sorted(contact_lists):
            channel, lists = self._policy(account_id, list_id)
            if not lists:
                continue
            for page in self.records.contacts(list_id):
                queries: list[tuple[UUID, SuppressionQuery]] = []
                for chain, client_id, contact, contact_type in page:
                    kind: Kind = "email" if contact_type == ContactInfoType.EMAIL else "phone"
                    queries.append((chain, SuppressionQuery(channel, kind, contact)))
                    queries.append((chain, SuppressionQuery(channel, "client_id", client_id)))
                found = self.index.lookup([query for _, query in queries], lists)
                matched |= {chain for (chain, _), entries in zip(queries, found, strict=True) if entries}
        return matched

    # Deciding --------------------------------------------------------------------------

    def _recheck(self, chain_ids: Iterable[UUID]) -> None:
        """Load each chain as it is now and bring its suppressions to what the index says."""
        states = [
            s for s in (self.store.load(c, record_chain.project) for c in chain_ids) if s and not s.deleted
        ]
        matches = self._matches(states)
        now = self.clock()
        for state in states:
            self._decide(state, matches.get(state.id, []), now)

    def _decide(self, state: RecordChain, matches: list[Suppression], now: datetime) -> None:
        for _attempt in range(3):
            events = record_chain.suppression_changes(state, matches, now=now)
            if not events:
                return
            try:
                self.store.append(events)
                return
            except ConcurrencyConflict:
                fresh = self.store.load(state.id, record_chain.project)
                if fresh is None or fresh.deleted:
                    return
                state = fresh
        log.warning("compliance: chain %s kept changing; it is re-checked with its next event", state.id)

    def _matches(self, states: list[RecordChain]) -> dict[UUID, list[Suppression]]:
        """Every active entry matching each chain's records, in one index round trip."""
        applicable: dict[UUID, set[UUID]] = {}
        asked: list[tuple[UUID, int, SuppressionQuery]] = []
        for state in states:
            channel, lists = self._policy(state.account_id, state.list_id)
            if not lists:
                continue
            applicable[state.id] = lists
            for record in state.records:
                kind: Kind = "email" if record.contact_info_type == ContactInfoType.EMAIL else "phone"
                asked.append((state.id, record.chain_n, SuppressionQuery(channel, kind, record.contact_info)))
                asked.append(
                    (state.id, record.chain_n, SuppressionQuery(channel, "client_id", state.client_id))
                )
        if not asked:
            return {}
        every_list = set().union(*applicable.values())
        found = self.index.lookup([query for _, _, query in asked], every_list)
        now = int(self.clock().timestamp())
        matches: dict[UUID, list[Suppression]] = {}
        for (chain, chain_n, _), entries in zip(asked, found, strict=True):
            for entry in entries:
                if entry.list_id in applicable[chain] and entry.active_at(now):
                    matches.setdefault(chain, []).append(
                        Suppression(
                            chain_n=chain_n,
                            suppression_list_id=entry.list_id,
                            entry_id=entry.entry_id,
                            kind=entry.kind,
                            value=entry.value,
                        )
                    )
        return matches

    def _policy(self, account_id: UUID, list_id: UUID) -> tuple[Channel, set[UUID]]:
        """The channel of a contact list and the suppression lists that apply to it.

        Asked once per contact list and batch: an import brings thousands of chains of one list.
        """
        key = (account_id, list_id)
        known = self._policies.get(key)
        if known is None:
            found: Any = self.catalogue.get(account_id, CONTACT_LIST, list_id)
            if found is None:
                known = ("voice", set())
            else:
                channel: Channel = found.settings.channel
                groups = [None, *found.campaign_group_ids]
                known = (
                    channel,
                    {applying for g in groups for applying in self.lists.applicable(account_id, channel, g)},
                )
            self._policies[key] = known
        return known
