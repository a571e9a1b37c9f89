"""Handlers of call attempts: the dialer reports each attempt it makes to a record, then each
step of its progress (answered, connected or abandoned, finished), on the record's stream.

Every report is idempotent (a step reported again stores nothing) and ordered (a step out of
order raises :class:`domain.errors.InvalidTransition` naming the attempt's stage); see
:mod:`domain.call_attempts`.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from dialstream.handlers.context import Context, owned
from dialstream.results import Done
from dialstream.store import retry_on_conflict
from domain import call_attempts, record_chain
from domain.call_attempts import RecordAttempts
from domain.record_chain import RecordChain
from schemas.attempts import CallAttemptMade
from schemas.base import Event
from schemas.profiles import Channel

# Two reports at once for one record race for its next version; the loser is decided again.
ATTEMPTS = 3

_Decide = Callable[[RecordAttempts], list[Event]]


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
        caller_id: str = "",
        mode: str = "",
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
                caller_id=caller_id,
                mode=mode,
            )
            done = self.context.commit(record_id, events)
            made = next((e for e in events if isinstance(e, CallAttemptMade)), None)
            return done, attempt, made

        stored = retry_on_conflict(decide_and_store, attempts=ATTEMPTS, what=f"attempt to record {record_id}")
        if stored is None:  # only without a single attempt
            raise AssertionError("unreachable")
        return stored

    # The attempt's progress --------------------------------------------------------------

    def answered(
        self, account_id: UUID, record_id: UUID, attempt_id: UUID, *, answered_by: str, ring_ms: int
    ) -> Done:
        """The called party answered: ``answered_by`` "person", "machine" or "fax"."""
        return self._report(
            account_id,
            record_id,
            lambda state: call_attempts.answered(
                state, attempt_id=attempt_id, answered_by=answered_by, ring_ms=ring_ms, now=self.context.now()
            ),
            what=f"answer of attempt {attempt_id}",
        )

    def connected(
        self, account_id: UUID, record_id: UUID, attempt_id: UUID, *, agent_id: UUID, wait_ms: int
    ) -> Done:
        """The answered call reached ``agent_id`` after ``wait_ms`` from the answer."""
        return self._report(
            account_id,
            record_id,
            lambda state: call_attempts.connected(
                state, attempt_id=attempt_id, agent_id=agent_id, wait_ms=wait_ms, now=self.context.now()
            ),
            what=f"connection of attempt {attempt_id}",
        )

    def abandoned(
        self, account_id: UUID, record_id: UUID, attempt_id: UUID, *, wait_ms: int, message_played: bool
    ) -> Done:
        """No agent took the live answer within the abandon call definition."""
        return self._report(
            account_id,
            record_id,
            lambda state: call_attempts.abandoned(
                state,
                attempt_id=attempt_id,
                wait_ms=wait_ms,
                message_played=message_played,
                now=self.context.now(),
            ),
            what=f"abandon of attempt {attempt_id}",
        )

    def finished(
        self,
        account_id: UUID,
        record_id: UUID,
        attempt_id: UUID,
        *,
        call_result: int,
        ring_ms: int,
        talk_ms: int,
        agent_id: UUID | None = None,
        detail: str = "",
    ) -> Done:
        """The attempt ended with ``call_result`` (a ``domain.codes.CallResult``); ``detail``:
        why, in the words of the channel or its delivery report."""
        return self._report(
            account_id,
            record_id,
            lambda state: call_attempts.finished(
                state,
                attempt_id=attempt_id,
                call_result=call_result,
                ring_ms=ring_ms,
                talk_ms=talk_ms,
                agent_id=agent_id,
                detail=detail,
                now=self.context.now(),
            ),
            what=f"end of attempt {attempt_id}",
        )

    def sent(self, account_id: UUID, record_id: UUID, attempt_id: UUID, *, message_id: str) -> Done:
        """The SMS provider took the attempt's message as ``message_id``."""
        return self._report(
            account_id,
            record_id,
            lambda state: call_attempts.sent(state, attempt_id=attempt_id, message_id=message_id, now=self.context.now()),
            what=f"message of attempt {attempt_id}",
        )

    def record_attempts(self, account_id: UUID, record_id: UUID) -> RecordAttempts:
        """The record's attempts and their progress (NotFound: none, or another account's)."""
        state = self.context.store.load(record_id, call_attempts.project)
        return owned(state, account_id, "attempt", "attempt_id")

    def _report(self, account_id: UUID, record_id: UUID, decide: _Decide, *, what: str) -> Done:
        def decide_and_store() -> Done:
            return self.context.commit(record_id, decide(self.record_attempts(account_id, record_id)))

        done = retry_on_conflict(decide_and_store, attempts=ATTEMPTS, what=what)
        if done is None:  # only without a single attempt
            raise AssertionError("unreachable")
        return done
