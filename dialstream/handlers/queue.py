"""Handlers of the dialing queue: a campaign group's dialer draws records, gives back those it
did not dial, records the end of each attempt, and settles what a dead dialer drew.

The candidates come from the dialable-records index (``projections.records``
``RecordQueries.dialable``), which may lag behind the store: every decision is made again on
each chain as the store has it (:mod:`domain.dialing_queue`), so a record is drawn only when
its chain's next record is that record now, and never twice.

A draw stores all the retrievals of one call in one transaction. When another writer changed
some of its chains meanwhile (a second dialer drawing the same chains, an import, a
suppression), the store refuses the whole append; the chains whose version moved are then
left out and the rest is stored again, so one conflict costs the others nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from dialstream.handlers.context import Context, owned
from dialstream.store import ConcurrencyConflict, retry_on_conflict
from domain import call_attempts, campaign_group, dialing_queue, record_chain
from domain.dialing_queue import Candidate
from domain.record_chain import RecordChain, chain_candidates
from schemas.base import Event
from schemas.records import Record, ReturnReason

RUNNING = "running"
# A decision on one drawn record of a chain: the events to store (none: nothing to do).
_Decide = Callable[[RecordChain, int], list[Event]]
# A report on one record races at most with another report on its chain (an import, a
# suppression, the stale sweep): decided again on the chain as it is then.
ATTEMPTS = 5


@dataclass(frozen=True)
class Drawn:
    """A record drawn for one attempt: the record (status retrieved) and its chain as stored."""

    record: Record
    chain: RecordChain
    attempt_id: UUID


class QueueHandlers:
    def __init__(self, context: Context):
        self.context = context

    # Drawing ------------------------------------------------------------------------------

    def draw(
        self,
        account_id: UUID,
        group_id: UUID,
        candidates: Iterable[Candidate],
        *,
        max_attempts: int,
        retrieved_by: str = "",
    ) -> list[Drawn]:
        """Draw the candidates the group may dial now, each for a new attempt id, in one
        transaction; what was drawn, in the candidates' order.

        A candidate is left out when its chain is not in one of the group's lists or not the
        account's, or its chain's next record (:func:`domain.dialing_queue.next_record`) is not
        that record now; a chain changed by another writer between the decision and the append
        is left out too. Nothing is drawn while the group is not running.
        """
        group = owned(
            self.context.store.load(group_id, campaign_group.project), account_id, campaign_group.LABEL
        )
        if group.deleted or group.status != RUNNING:
            return []
        lists = set(group.contact_list_ids)
        now = self.context.now()
        store = self.context.store
        decided: dict[UUID, tuple[int, list[Event], Drawn]] = {}  # chain id -> version, events, drawn
        seen: set[UUID] = set()
        for candidate in candidates:
            if candidate.chain_id in seen:
                continue
            seen.add(candidate.chain_id)
            chain = store.load(candidate.chain_id, record_chain.project)
            if chain is None or chain.account_id != account_id or chain.list_id not in lists:
                continue
            attempt_id = self.context.new_id()
            events = dialing_queue.retrieve(
                chain,
                candidate.chain_n,
                campaign_group_id=group_id,
                attempt_id=attempt_id,
                retrieved_by=retrieved_by,
                now=now,
                max_attempts=max_attempts,
            )
            if not events:
                continue
            after = record_chain.project(chain, events)
            assert after is not None
            record = next(r for r in after.records if r.chain_n == candidate.chain_n)
            decided[chain.id] = (chain.version, events, Drawn(record, after, attempt_id))

        while decided:
            try:
                store.append([event for _, events, _ in decided.values() for event in events])
            except ConcurrencyConflict:
                heads = store.heads(list(decided))
                moved = [
                    chain_id
                    for chain_id, (version, _, _) in decided.items()
                    if chain_id not in heads or heads[chain_id][0] != version
                ]
                if not moved:
                    raise  # not one of these chains: nothing to leave out, so say so
                for chain_id in moved:
                    del decided[chain_id]
                continue
            return [drawn for _, _, drawn in decided.values()]
        return []

    # Reports on a drawn record ----------------------------------------------------------------

    def return_records(
        self,
        account_id: UUID,
        group_id: UUID,
        items: Sequence[tuple[UUID, UUID]],
        *,
        reason: ReturnReason,
        dial_sched_time: int | None = None,
        detail: str = "",
    ) -> list[UUID]:
        """Give back drawn records, each ``(record id, attempt id that drew it)``, in one
        transaction: ready again, due at ``dial_sched_time`` (epoch seconds) when given. The
        ids of the records returned; an item the attempt no longer holds (returned or updated
        already, drawn by another attempt or group) is left alone."""
        located = self._chains(account_id, [record_id for record_id, _ in items])

        def decide_and_store() -> list[UUID]:
            now = self.context.now()
            chains: dict[UUID, RecordChain] = {}
            events: list[Event] = []
            returned: list[UUID] = []
            for record_id, attempt_id in items:
                where = located.get(record_id)
                if where is None:
                    continue
                chain_id, chain_n = where
                chain = chains[chain_id] if chain_id in chains else self._chain(chain_id, account_id)
                if chain is None:
                    continue
                retrieval = chain.retrievals.get(chain_n)
                if retrieval is None or retrieval.campaign_group_id != group_id:
                    continue
                decided = dialing_queue.return_record(
                    chain,
                    chain_n,
                    attempt_id=attempt_id,
                    reason=reason,
                    dial_sched_time=dial_sched_time,
                    detail=detail,
                    now=now,
                )
                if decided:
                    after = record_chain.project(chain, decided)
                    assert after is not None
                    chains[chain_id] = after
                    events += decided
                    returned.append(record_id)
            if events:
                self.context.store.append(events)
            return returned

        return (
            retry_on_conflict(decide_and_store, attempts=ATTEMPTS, what=f"return to group {group_id}") or []
        )

    def finish(
        self,
        account_id: UUID,
        record_id: UUID,
        attempt_id: UUID,
        *,
        call_result: int,
        call_time: int | None,
        chain_id: UUID | None = None,
    ) -> bool:
        """Record the end of the attempt on the record it drew (call result, call time in
        epoch seconds): updated. Whether it was stored (False: that attempt no longer holds
        the record, e.g. this report came before). ``chain_id``: the record's chain, when the
        caller has it (the dialer drew it), saves looking it up."""

        def decide(chain: RecordChain, chain_n: int) -> list[Event]:
            return dialing_queue.finish(
                chain,
                chain_n,
                attempt_id=attempt_id,
                call_result=call_result,
                call_time=call_time,
                now=self.context.now(),
            )

        return self._report(
            account_id, record_id, decide, what=f"finish of attempt {attempt_id}", chain_id=chain_id
        )

    def settle_stale(self, account_id: UUID, record_id: UUID, attempt_id: UUID) -> bool:
        """Settle a record drawn by a dialer that died: returned (reason stale) when no call
        attempt was recorded for ``attempt_id``, else updated as stale. Whether it was stored."""

        def decide(chain: RecordChain, chain_n: int) -> list[Event]:
            if dialing_queue.drawn_by(chain, chain_n, attempt_id) is None:
                return []
            attempts = self.context.store.load(record_id, call_attempts.project)
            placed = attempts is not None and attempt_id in attempts.attempt_ids
            return dialing_queue.stale(
                chain, chain_n, attempt_id=attempt_id, placed=placed, now=self.context.now()
            )

        return self._report(account_id, record_id, decide, what=f"stale attempt {attempt_id}")

    # Helpers ---------------------------------------------------------------------------------

    def _report(
        self, account_id: UUID, record_id: UUID, decide: _Decide, *, what: str, chain_id: UUID | None = None
    ) -> bool:
        where = (
            self._chains(account_id, [record_id]).get(record_id)
            if chain_id is None
            else _located(record_id, chain_id)
        )
        if where is None:
            return False
        chain_id, chain_n = where

        def decide_and_store() -> bool:
            chain = self._chain(chain_id, account_id)
            events = [] if chain is None else decide(chain, chain_n)
            if events:
                self.context.store.append(events)
            return bool(events)

        return bool(retry_on_conflict(decide_and_store, attempts=ATTEMPTS, what=what))

    def _chain(self, chain_id: UUID, account_id: UUID) -> RecordChain | None:
        chain = self.context.store.load(chain_id, record_chain.project)
        return chain if chain is not None and chain.account_id == account_id else None

    def _chains(self, account_id: UUID, record_ids: Sequence[UUID]) -> dict[UUID, tuple[UUID, int]]:
        """record id -> (chain id, position) of the records whose chain is stored (one look-up
        of every chain a record id can come from, see domain.record_chain.record_id)."""
        options = {record_id: chain_candidates(record_id) for record_id in set(record_ids)}
        heads = self.context.store.heads([chain_id for found in options.values() for chain_id in found])
        located: dict[UUID, tuple[UUID, int]] = {}
        for record_id, found in options.items():
            for chain_id, chain_n in sorted(found.items(), key=lambda item: item[1]):
                if chain_id in heads:
                    located[record_id] = (chain_id, chain_n)
                    break
        return located


def _located(record_id: UUID, chain_id: UUID) -> tuple[UUID, int] | None:
    """(chain id, position) of a record of a known chain (None: not one of its records); the
    chain's existence is checked where it is loaded."""
    chain_n = record_id.int ^ chain_id.int
    return (chain_id, chain_n) if 1 <= chain_n <= record_chain.MAX_CHAIN_LENGTH else None
