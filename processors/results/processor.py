"""The call results processor: each finished attempt updates the record it dialled and applies
the treatment its campaign group's dialing profile gives the result (and the agent's
disposition code, when an agent talked to the customer).

Input: ``call_attempt.finished`` and ``call_attempt.wrapped_up`` (topic ``call-attempts``: one
record's attempts are one stream, so on Kafka one partition, in order). Output:
``record.updated`` (the call result, call time and attempt count) and ``record.treated`` (the
record's new type, status and due time, the chain's other records that change, the step added
to the record's treatment history and why), through
:meth:`dialstream.handlers.queue.QueueHandlers.apply_results`, the decisions being
:func:`domain.treatments.treat`'s; and, for a "do not call" disposition (or call result 51, do
not call), the device or client id added to the account's required suppression list of the
channel, through the suppression handlers, in the same transaction.

When: an attempt no agent talked on is applied at ``finished``. One connected to an agent
waits for the agent's wrap-up (``wrapped_up``, with the disposition it gave), while the agent
is on that call or wrapping it up (:func:`domain.call_attempts.awaits_wrap_up`); an agent that
left the wrap-up without finishing it (logged out, released) also stores ``wrapped_up``.

State: none beyond its tracking position; the plan is read from the group's effective dialing
profile when a batch needs it (a profile changed mid-campaign applies from the next result on).
Delivery: exactly-once effect — the processor host stores a batch's events and its position in
one transaction, and a result whose attempt no longer holds its record (applied before) stores
nothing. Run: ``dialstream up`` (embedded host, :class:`CallResultsProcessor`) or ``dialstream
worker call-results`` (a Kafka consumer group).

Until its result is applied the record stays drawn (status 2), so its chain is not drawn again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from uuid import UUID

from dialstream.handlers import Handlers
from dialstream.handlers.queue import Applied, Result
from dialstream.store import EventStore, stored_topic_of
from domain import agent, call_attempts
from domain.codes import CallResult, ContactInfoType
from domain.suppression_list import EntryInput
from processors.host.embedded import EmbeddedHost
from processors.host.processor import Batch
from projections.suppression_lists import SuppressionListQueries
from schemas.attempts import CallAttemptFinished, CallAttemptWrappedUp
from schemas.base import Event

log = logging.getLogger(__name__)

NAME = "call-results"
READS: tuple[type[Event], ...] = (CallAttemptFinished, CallAttemptWrappedUp)
TOPICS = tuple(stored_topic_of(cls) for cls in READS)
BUSY = ("on_call", "wrap_up")  # an agent in these states holds its attempt


class CallResults:
    """The call results processor (the contract of :mod:`processors.host.processor`)."""

    name = NAME
    reads = READS

    def __init__(self, store: EventStore, handlers: Handlers, lists: SuppressionListQueries):
        self.store = store  # read only: attempts and agents, and whether a stretch of the log ends any attempt
        self.handlers = handlers
        self.lists = lists

    def nothing_to_do(self, after: int, upto: int) -> bool:
        return not self.store.read_topics(TOPICS, after=after, limit=1, upto=upto)

    def handle(self, batch: Batch) -> None:
        waiting = self._waiting_for_wrap_up(
            [e for e in batch.events if isinstance(e, CallAttemptFinished) and e.agent_id is not None]
        )
        by_account: dict[UUID, list[Result]] = defaultdict(list)
        for event in batch.events:
            if isinstance(event, CallAttemptFinished) and event.attempt_id in waiting:
                continue
            if isinstance(event, CallAttemptFinished | CallAttemptWrappedUp):
                wrapped = event if isinstance(event, CallAttemptWrappedUp) else None
                by_account[event.account_id].append(
                    Result(
                        event.originator_id,
                        event.attempt_id,
                        event.call_result,
                        event.call_time,
                        None if wrapped is None else wrapped.disposition_code,
                        chain_n=event.chain_n,
                        callback_at=None if wrapped is None else wrapped.callback_at,
                        callback_agent_id=wrapped.agent_id if wrapped is not None and wrapped.callback_personal else None,
                    )
                )
        for account_id, results in by_account.items():
            applied = self.handlers.queue.apply_results(account_id, results)
            self._do_not_call(account_id, applied)

    def _waiting_for_wrap_up(self, finished: Sequence[CallAttemptFinished]) -> set[UUID]:
        """The attempts of ``finished`` whose result waits for their agent's wrap-up."""
        if not finished:
            return set()
        # Agents before attempts: an agent's wrap-up ends in the same transaction that stores
        # the attempt's ``wrapped_up``, so an agent read as no longer busy has its attempt's
        # wrap-up visible to the later read (the other order can miss both and apply too early).
        agents = self.store.load_many([e.agent_id for e in finished if e.agent_id is not None], agent.project)
        attempts = self.store.load_many([e.originator_id for e in finished], call_attempts.project)
        waiting = set()
        for event in finished:
            if event.call_result == CallResult.STALE:
                continue  # its dialer died: stale at once, whatever its agent does
            held = agents.get(event.agent_id) if event.agent_id is not None else None
            busy_with = held.attempt_id if held is not None and held.state in BUSY else None
            if call_attempts.awaits_wrap_up(attempts.get(event.originator_id), event.attempt_id, busy_with):
                waiting.add(event.attempt_id)
        return waiting

    def _do_not_call(self, account_id: UUID, applied: Sequence[Applied]) -> None:
        """A customer who asked not to be called again (the agent's "do not call" disposition,
        or call result 51): the device or client id goes on the required list of the channel."""
        for done in applied:
            what = done.disposition.do_not_call if done.disposition is not None else None
            if what is None and done.result.call_result == CallResult.DO_NOT_CALL:
                what = "device"
            if what is None:
                continue
            record = done.record
            email = record.contact_info_type == ContactInfoType.EMAIL
            channel = "email" if email else "voice"
            list_id = self.lists.required_for(account_id, channel)
            if list_id is None:
                log.warning(
                    "account %s: no required %s suppression list: do-not-call request of record %s not recorded",
                    account_id,
                    channel,
                    record.record_id,
                )
                continue
            if what == "client_id":
                entry = EntryInput(kind="client_id", value=done.client_id)
            else:
                entry = EntryInput(kind="email" if email else "phone", value=record.contact_info)
            self.handlers.suppression.add_entries(account_id, list_id, [entry], source="disposition")


class CallResultsProcessor(EmbeddedHost):
    """The call results processor on the embedded host (``dialstream up``)."""

    def __init__(
        self, store: EventStore, handlers: Handlers, lists: SuppressionListQueries, *, retry_seconds: float = 1.0
    ):
        super().__init__(store, CallResults(store, handlers, lists), retry_seconds=retry_seconds)
