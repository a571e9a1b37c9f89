"""Command handlers of the compliance processor: bring a chain's suppressions to what the
suppression index says now.

The processor (:mod:`processors.compliance.processor`) calls these inside its unit of work; the
decision is :func:`domain.compliance.decide`. Outside a unit of work (a tool, a test) a
conflict with another writer is decided again on the chain as it is then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from dialstream.clock import utc_now
from dialstream.store import ConcurrencyConflict, EventStore, retry_on_conflict
from domain import compliance, record_chain
from domain.record_chain import RecordChain
from schemas.records import Suppression


class ComplianceHandlers:
    def __init__(self, store: EventStore, *, clock: Callable[[], datetime] = utc_now):
        self.store = store
        self.clock = clock

    def apply_suppressions(
        self, state: RecordChain, matches: Sequence[Suppression], *, now: datetime | None = None
    ) -> int:
        """Mark the chain's matched records "no call" and restore the others; ``state`` is the
        chain as the caller loaded it. Returns how many events were recorded."""
        at = now if now is not None else self.clock()
        current = [state]

        def attempt() -> int:
            events = compliance.decide(current[0], matches, now=at)
            if events:
                try:
                    self.store.append(events)
                except ConcurrencyConflict:
                    fresh = self.store.load(current[0].id, record_chain.project)
                    if fresh is not None and not fresh.deleted:
                        current[0] = fresh
                    raise
            return len(events)

        return retry_on_conflict(attempt, attempts=3, what=f"compliance of chain {state.id}") or 0
