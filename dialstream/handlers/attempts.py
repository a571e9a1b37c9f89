"""Handlers of call attempts: the dialer reports each attempt it makes to a record."""

from __future__ import annotations

from uuid import UUID

from dialstream.handlers.context import Context
from dialstream.results import Done
from dialstream.store import retry_on_conflict
from domain import call_attempts, record_chain
from domain.record_chain import RecordChain
from schemas.attempts import CallAttemptMade
from schemas.profiles import Channel

# Two attempts reported at once for one record race for its next version; the loser is decided again.
ATTEMPTS = 3


class AttemptHandlers:
    def __init__(self, context: Context):
        self.context = context

    def make_attempt(
        self,
        chain: RecordChain,
        chain_n: int,
        *,
        attempt_id: UUID | None,
        channel: Channel,
        campaign_group_id: UUID | None,
    ) -> tuple[Done, UUID, CallAttemptMade | None]:
        """Record an attempt to a record of ``chain`` (found by the caller in its account):
        what was stored, its attempt id and its event (None: that attempt id was stored before)."""
        attempt = attempt_id or self.context.new_id()
        record_id = record_chain.record_id(chain.id, chain_n)

        def decide_and_store() -> tuple[Done, UUID, CallAttemptMade | None]:
            state = self.context.store.load(record_id, call_attempts.project)
            events = call_attempts.make_attempt(
                state,
                chain,
                chain_n=chain_n,
                attempt_id=attempt,
                channel=channel,
                campaign_group_id=campaign_group_id,
                now=self.context.now(),
            )
            done = self.context.commit(record_id, events)
            made = next((e for e in events if isinstance(e, CallAttemptMade)), None)
            return done, attempt, made

        stored = retry_on_conflict(decide_and_store, attempts=ATTEMPTS, what=f"attempt to record {record_id}")
        if stored is None:  # only without a single attempt
            raise AssertionError("unreachable")
        return stored
