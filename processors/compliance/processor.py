"""The compliance processor: records that match suppression entries become "no call", with the
reason recorded, and get their record type back when no entry matches them any more.

Input: the event types of :data:`domain.compliance.READS` (chains imported or replaced,
suppression entries and lists, campaign groups' selections, contact lists joining or leaving
groups). Output: ``record_chain.suppressed`` / ``restored``, recorded through
:class:`dialstream.handlers.compliance.ComplianceHandlers`. State: none of its own beyond its
tracking position; it reads the read models (records, suppression lists, catalogue) and the
suppression index. Delivery: exactly-once effect — hosted by the processor host
(:mod:`processors.host`), which stores the events a batch causes and the batch's position in
one transaction. Run: ``dialstream up`` (embedded host, :class:`ComplianceProcessor`) or
``dialstream worker compliance``.

What a batch asks to check (:func:`domain.compliance.plan`):

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
:func:`domain.compliance.decide` decide, so the outcome does not depend on which event
triggered it. Before asking the index the processor waits until the read models and the index
hold the log up to the batch (log positions: on Kafka every record carries its ``position``
header); if they cannot answer, the batch is retried (pre-dial validation is the gate that
fails closed meanwhile).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from dialstream.clock import utc_now
from dialstream.handlers.compliance import ComplianceHandlers
from dialstream.store import EventStore, stored_topic_of
from domain import campaign_group, compliance, record_chain
from domain.codes import ContactInfoType
from domain.contact_list import KIND as CONTACT_LIST
from domain.record_chain import RecordChain
from processors.host.embedded import EmbeddedHost
from processors.host.processor import Batch
from processors.suppression.index import IndexUnavailable, Kind, SuppressionIndex, SuppressionQuery
from projections.catalogue import CatalogueQueries
from projections.record_suppressions import RecordSuppressionQueries
from projections.records import RecordQueries
from projections.suppression_lists import SuppressionListQueries
from schemas.profiles import Channel
from schemas.records import Suppression
from schemas.suppression import SuppressionListCreated

NAME = "compliance"
READS = compliance.READS
LIST_CREATED = (stored_topic_of(SuppressionListCreated),)


class Compliance:
    """The compliance processor (the contract of :mod:`processors.host.processor`)."""

    name = NAME
    reads = READS

    def __init__(
        self,
        store: EventStore,
        handlers: ComplianceHandlers,
        index: SuppressionIndex,
        catalogue: CatalogueQueries,
        lists: SuppressionListQueries,
        records: RecordQueries,
        suppressed: RecordSuppressionQueries,
        wait_read_models: Callable[[int, float], bool],
        *,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.store = store  # read only: loads chains and groups, asks the log about lists
        self.handlers = handlers
        self.index = index
        self.catalogue = catalogue
        self.lists = lists
        self.records = records
        self.suppressed = suppressed
        self.wait_read_models = wait_read_models
        self.clock = clock
        self._stopping: Callable[[], bool] = lambda: False
        self._first_list: int | None = None  # where the log creates its first suppression list
        self._lists_checked = 0  # the log up to here creates no suppression list
        self._policies: dict[tuple[UUID, UUID], tuple[Channel, set[UUID]]] = {}

    def nothing_to_do(self, after: int, upto: int) -> bool:
        """Nothing up to ``upto`` can match or change while no suppression list exists: records
        imported before the first list is created are matched when its entries are added.
        Decoding an import's chains only to learn that costs it a tenth of its time."""
        first = self._first_list_at(upto)
        return first is None or upto < first

    def _first_list_at(self, head: int) -> int | None:
        """The log position of the first suppression list, if the log up to ``head`` creates
        one (once it does, it always will: lists are archived, never deleted). Asked of the
        log, not of the read models, which lag behind an import."""
        if self._first_list is None and head > self._lists_checked:
            found = self.store.read_topics(LIST_CREATED, after=self._lists_checked, limit=1, upto=head)
            if found:
                self._first_list = found[0][0]
            else:
                self._lists_checked = head
        return self._first_list

    def handle(self, batch: Batch) -> None:
        self._stopping = batch.stopping
        upto = batch.upto
        work = compliance.plan(batch.events)
        if work.empty:
            return
        # Which chains hold a value and which lists apply come from the read models: they must
        # have seen this batch too before they are asked (on Kafka the records read model is a
        # consumer group of its own, which may trail this processor).
        if not self.wait_read_models(upto, 30.0):
            raise TimeoutError("the read models did not reach the compliance processor's position")
        recheck: set[UUID] = set()
        for account_id, contacts, client_ids in work.added:
            recheck |= self.records.chains_with(account_id, contacts, client_ids)
        for list_id, values in work.gone:
            recheck |= self.suppressed.chains(list_id, values)
        for list_id in work.lists_changed:
            recheck |= self.suppressed.chains(list_id)
        sweep = set(work.sweep)
        for account_id, group_id in sorted(work.groups_selected):
            group = self.store.load(group_id, campaign_group.project)
            if group is not None:
                sweep |= {(account_id, list_id) for list_id in group.contact_list_ids}
        if not work.imported and not recheck and not sweep and not work.narrowed and not work.widened:
            return
        if not self.lists.any_active():
            return  # nothing can match (entries added later find their records themselves)
        self._policies.clear()  # lists and their groups may have changed since the last batch
        recheck |= self._reach_changed(upto, sweep, work.narrowed, work.widened)
        drafts = [state for chain, state in work.imported.items() if chain not in recheck]
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
            if time.monotonic() > deadline or self._stopping():
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
            self.handlers.apply_suppressions(state, matches.get(state.id, []), now=now)

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


class ComplianceProcessor(EmbeddedHost):
    """The compliance processor on the embedded host (``dialstream up``)."""

    def __init__(
        self,
        store: EventStore,
        processor: Compliance,
        *,
        legacy_position: Callable[[], int] | None = None,
        retry_seconds: float = 1.0,
    ):
        super().__init__(store, processor, legacy_position=legacy_position, retry_seconds=retry_seconds)

    def expected(self, error: Exception) -> bool:
        return isinstance(error, IndexUnavailable | TimeoutError)
