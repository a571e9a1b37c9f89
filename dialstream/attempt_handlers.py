"""Handlers of call attempts: the dialer reports each attempt it makes to a record.

Mixed into :class:`dialstream.handlers.Handlers` (``store``, ``clock``, ``new_id``, ``_commit``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from dialstream.results import Done
from dialstream.store import ConcurrencyConflict
from domain import call_attempts, record_chain
from domain.record_chain import RecordChain
from schemas.attempts import CallAttemptMade
from schemas.profiles import Channel

# Two attempts reported at once for one record race for its next version; the loser is decided again.
ATTEMPTS = 3


class AttemptHandlers:
    def make_attempt(
        self: Any,
        chain: RecordChain,
        chain_n: int,
        *,
        attempt_id: UUID | None,
        channel: Channel,
        campaign_group_id: UUID | None,
    ) -> tuple[Done, UUID, CallAttemptMade | None]:
        """Record an attempt to a record of ``chain`` (found by the caller in its account):
        what was stored, its attempt id and its event (None: that attempt id was stored before)."""
        attempt = attempt_id or self.new_id()
        record_id = record_chain.record_id(chain.id, chain_n)
        for tried in range(ATTEMPTS):
            state = self.store.load(record_id, call_attempts.project)
            events = call_attempts.make_attempt(
                state,
                chain,
                chain_n=chain_n,
                attempt_id=attempt,
                channel=channel,
                campaign_group_id=campaign_group_id,
                now=self.clock(),
            )
            try:
                done = self._commit(record_id, events)
            except ConcurrencyConflict:
                if tried == ATTEMPTS - 1:
                    raise
                continue
            made = next((e for e in events if isinstance(e, CallAttemptMade)), None)
            return done, attempt, made
        raise AssertionError("unreachable")
