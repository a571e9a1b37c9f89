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

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from dialstream.handlers.campaigns import CampaignHandlers
from dialstream.handlers.context import Context, owned
from dialstream.store import ConcurrencyConflict, retry_on_conflict
from domain import call_attempts, campaign_group, dialing_queue, record_chain, treatments
from domain.dialing_queue import Candidate
from domain.errors import DomainError
from domain.record_chain import RecordChain, chain_candidates
from schemas.base import Event
from schemas.profiles import Filtering, Treatment
from schemas.records import Record, ReturnReason
from schemas.settings import DispositionCode

log = logging.getLogger(__name__)

RUNNING = "running"
# A decision on one drawn record of a chain: the events to store (none: nothing to do).
_Decide = Callable[[RecordChain, int], list[Event]]
# A report on one record races at most with another report on its chain (an import, a
# suppression, the stale sweep): decided again on the chain as it is then.
ATTEMPTS = 5


@dataclass(frozen=True)
class Result:
    """The end of one attempt, as the call results processor applies it."""

    record_id: UUID
    attempt_id: UUID
    call_result: int
    call_time: int | None  # UTC epoch seconds the call was made
    disposition_code: str | None = None
    chain_n: int | None = None  # the record's position in its chain, when known: no look-up
    callback_at: datetime | None = None  # a callback agreed: wall-clock time in the record's zone
    callback_agent_id: UUID | None = None  # a personal callback: the agent who agreed it


@dataclass(frozen=True)
class Applied:
    """A result applied: the record it ended (as drawn), its chain's client id, and the
    disposition code's catalogue entry (None: no code, or one no longer in the catalogue)."""

    result: Result
    record: Record
    client_id: str
    disposition: DispositionCode | None


class Return(NamedTuple):
    """A drawn record to give back: its chain and position, the attempt that drew it, when it is
    due again (epoch seconds; None: as it was) and why, in words."""

    chain_id: UUID
    chain_n: int
    attempt_id: UUID
    dial_sched_time: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Drawn:
    """A record drawn for one attempt: the record (status retrieved) and its chain as stored."""

    record: Record
    chain: RecordChain
    attempt_id: UUID


class QueueHandlers:
    def __init__(self, context: Context, *, campaigns: CampaignHandlers):
        self.context = context
        self.campaigns = campaigns

    # Drawing ------------------------------------------------------------------------------

    def draw(
        self,
        account_id: UUID,
        group_id: UUID,
        candidates: Iterable[Candidate],
        *,
        max_attempts: int,
        retrieved_by: str = "",
        callback_grace_s: int = 0,
        for_own_agents: bool = False,
    ) -> list[Drawn]:
        """Draw the candidates the group may dial now, each for a new attempt id, in one
        transaction; what was drawn, in the candidates' order. ``callback_grace_s``: the
        personal callbacks' grace period; ``for_own_agents``: each candidate is a personal
        callback drawn for its own agent (``Candidate.callback_agent_id``), whom the dialer
        reserves for the call (see :func:`domain.dialing_queue.may_take`).

        A candidate is left out when its chain is not in one of the group's lists or not the
        account's, or its chain's next record (:func:`domain.dialing_queue.next_record`) is not
        that record now (a record given to another agent group is not the group's to take); a
        chain changed by another writer between the decision and the append is left out too. Nothing is drawn while the group is not running.
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
        unique: list[Candidate] = []
        seen: set[UUID] = set()
        for candidate in candidates:
            if candidate.chain_id not in seen:
                seen.add(candidate.chain_id)
                unique.append(candidate)
        # One read for every chain (a draw takes a page of them), not one per chain.
        chains = store.load_many([candidate.chain_id for candidate in unique], record_chain.project)
        for candidate in unique:
            chain = chains.get(candidate.chain_id)
            if chain is None or chain.account_id != account_id or chain.list_id not in lists:
                continue
            if for_own_agents and candidate.callback_agent_id is None:
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
                grace_s=callback_grace_s,
                for_agent=candidate.callback_agent_id if for_own_agents else None,
                agent_group=group.agent_group,
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
            drawn = [taken for _, _, taken in decided.values()]
            # Each record drawn is attempted next, and its attempt loads the record's attempts:
            # read them for all in one statement here, not one query per attempt (a unit of
            # work keeps what it loaded, those not stored yet too: dialstream.store.synced).
            store.load_many([each.record.record_id for each in drawn], call_attempts.project)
            return drawn
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
        returns = [
            Return(*located[record_id], attempt_id, dial_sched_time, detail)
            for record_id, attempt_id in items
            if record_id in located
        ]
        return self.return_drawn(account_id, group_id, returns, reason=reason)

    def return_drawn(
        self, account_id: UUID, group_id: UUID, returns: Sequence[Return], *, reason: ReturnReason
    ) -> list[UUID]:
        """:meth:`return_records` of records whose chain the caller knows (the dialer's drawn
        records), each with its own due time and detail: one read of all their chains."""

        def decide_and_store() -> list[UUID]:
            now = self.context.now()
            loaded = self.context.store.load_many(list({r.chain_id for r in returns}), record_chain.project)
            chains = {chain_id: chain for chain_id, chain in loaded.items() if chain.account_id == account_id}
            events: list[Event] = []
            returned: list[UUID] = []
            for item in returns:
                chain = chains.get(item.chain_id)
                if chain is None:
                    continue
                retrieval = chain.retrievals.get(item.chain_n)
                if retrieval is None or retrieval.campaign_group_id != group_id:
                    continue
                decided = dialing_queue.return_record(
                    chain,
                    item.chain_n,
                    attempt_id=item.attempt_id,
                    reason=reason,
                    dial_sched_time=item.dial_sched_time,
                    detail=item.detail,
                    now=now,
                )
                if decided:
                    after = record_chain.project(chain, decided)
                    assert after is not None
                    chains[item.chain_id] = after
                    events += decided
                    returned.append(record_chain.record_id(item.chain_id, item.chain_n))
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
        disposition_code: str | None = None,
    ) -> bool:
        """Record the end of the attempt on the record it drew (call result, call time in
        epoch seconds) and apply its treatment. Whether it was stored (False: that attempt no
        longer holds the record, e.g. this report came before)."""
        result = Result(record_id, attempt_id, call_result, call_time, disposition_code)
        return len(self.apply_results(account_id, [result])) == 1

    def apply_results(self, account_id: UUID, results: Sequence[Result]) -> list[Applied]:
        """End each result's attempt on the record it drew and apply the treatment the
        drawing group's effective dialing profile gives the result
        (:func:`domain.treatments.treat`; a disposition code the account's catalogue marks
        final finishes the record), all in one append; the results applied (one whose attempt
        no longer holds its record, applied before, is left out)."""
        catalogue = (
            self.context.account(account_id).settings.dispositions
            if any(r.disposition_code is not None for r in results)
            else None
        )
        located = self._chains(account_id, [r.record_id for r in results if r.chain_n is None])
        for result in results:
            if result.chain_n is not None:
                located[result.record_id] = (record_chain.chain_of(result.record_id, result.chain_n), result.chain_n)
        plans: dict[UUID, tuple[Sequence[Treatment], int]] = {}

        def decide_and_store() -> list[Applied]:
            now = self.context.now()
            loaded = self.context.store.load_many([chain_id for chain_id, _ in located.values()], record_chain.project)
            chains = {chain_id: chain for chain_id, chain in loaded.items() if chain.account_id == account_id}
            events: list[Event] = []
            applied: list[Applied] = []
            for result in results:
                where = located.get(result.record_id)
                if where is None:
                    continue
                chain_id, chain_n = where
                chain = chains.get(chain_id)
                retrieval = None if chain is None else chain.retrievals.get(chain_n)
                if chain is None or retrieval is None:
                    continue
                group_id = retrieval.campaign_group_id
                if group_id not in plans:
                    plans[group_id] = self._plan(account_id, group_id)
                plan, max_attempts = plans[group_id]
                code = None if catalogue is None or result.disposition_code is None else catalogue.find(result.disposition_code)
                decided = treatments.treat(
                    chain,
                    chain_n,
                    treatments.Outcome(
                        call_result=result.call_result,
                        disposition_code=result.disposition_code,
                        final=code is not None and code.final,
                        callback_at=result.callback_at,
                        callback_agent_id=result.callback_agent_id,
                    ),
                    attempt_id=result.attempt_id,
                    call_time=result.call_time,
                    plan=plan,
                    max_attempts=max_attempts,
                    now=now,
                )
                if decided:
                    after = record_chain.project(chain, decided)
                    assert after is not None
                    record = next(r for r in chain.records if r.chain_n == chain_n)
                    applied.append(Applied(result, record, chain.client_id, code))
                    chains[chain_id] = after
                    events += decided
            if events:
                self.context.store.append(events)
            return applied

        return retry_on_conflict(decide_and_store, attempts=ATTEMPTS, what="call results") or []

    def _plan(self, account_id: UUID, group_id: UUID) -> tuple[Sequence[Treatment], int]:
        """The group's treatment plan and maximum attempts, as its effective dialing profile
        has them now. A group deleted meanwhile, or a plan an override made invalid, treats
        nothing (the record is updated and its chain finished, and the reason says so)."""
        try:
            group = self.campaigns.group(account_id, group_id)
            dialing, _ = self.campaigns.group_settings(account_id, group)
        except DomainError as error:
            log.warning("call results of campaign group %s: no treatment plan: %s", group_id, error)
            return [], Filtering().max_attempts
        problem = treatments.plan_problem(dialing.treatments)
        if problem is not None:
            log.warning("campaign group %s: its treatment plan is not applied: %s: %s", group_id, *problem)
            return [], dialing.filtering.max_attempts
        return dialing.treatments, dialing.filtering.max_attempts

    def settle_stale(self, account_id: UUID, record_id: UUID, attempt_id: UUID) -> bool:
        """Settle a record drawn by a dialer that died: returned (reason stale) when no call
        attempt was recorded for ``attempt_id``, else updated as stale; left alone when the
        attempt's end was recorded (the call results processor applies it) or its message is
        with the SMS provider (its delivery report ends it). Whether it was
        stored."""

        def decide(chain: RecordChain, chain_n: int) -> list[Event]:
            if dialing_queue.drawn_by(chain, chain_n, attempt_id) is None:
                return []
            attempts = self.context.store.load(record_id, call_attempts.project)
            progress = None if attempts is None else attempts.progress.get(attempt_id)
            if progress is not None and progress.stage in ("sent", "finished"):
                return []  # its delivery report, or its result, is on its way to the record
            placed = attempts is not None and attempt_id in attempts.attempt_ids
            return dialing_queue.stale(
                chain, chain_n, attempt_id=attempt_id, placed=placed, now=self.context.now()
            )

        return self._report(account_id, record_id, decide, what=f"stale attempt {attempt_id}")

    # Helpers ---------------------------------------------------------------------------------

    def _report(self, account_id: UUID, record_id: UUID, decide: _Decide, *, what: str) -> bool:
        where = self._chains(account_id, [record_id]).get(record_id)
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
