"""The call results processor: each finished attempt updates the record it dialled and applies
the treatment its campaign group's dialing profile gives the result.

Input: ``call_attempt.finished`` (topic ``call-attempts``). Output: ``record.updated`` (the call
result, call time and attempt count) and ``record.treated`` (the record's new type, status and
due time, the chain's other records that change, the step added to the record's treatment
history and why), through :meth:`dialstream.handlers.queue.QueueHandlers.apply_results`; the
decisions are :func:`domain.treatments.treat`'s. State: none beyond its tracking position; the
plan is read from the group's effective dialing profile when a batch needs it, so a profile
changed mid-campaign applies from the next result on. Delivery: exactly-once effect — the
processor host stores a batch's events and its position in one transaction, and a result whose
attempt no longer holds its record (applied before) stores nothing. Run: ``dialstream up``
(embedded host, :class:`CallResultsProcessor`) or ``dialstream worker call-results`` (a Kafka
consumer group: the attempts of one record are on one partition, in order).

Until its result is applied the record stays drawn (status 2), so its chain is not drawn again.
"""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from dialstream.handlers.queue import QueueHandlers, Result
from dialstream.store import EventStore, stored_topic_of
from processors.host.embedded import EmbeddedHost
from processors.host.processor import Batch
from schemas.attempts import CallAttemptFinished
from schemas.base import Event

NAME = "call-results"
FINISHED = (stored_topic_of(CallAttemptFinished),)


class CallResults:
    """The call results processor (the contract of :mod:`processors.host.processor`)."""

    name = NAME
    reads: tuple[type[Event], ...] = (CallAttemptFinished,)

    def __init__(self, store: EventStore, queue: QueueHandlers):
        self.store = store  # read only: whether a stretch of the log ends any attempt
        self.queue = queue

    def nothing_to_do(self, after: int, upto: int) -> bool:
        return not self.store.read_topics(FINISHED, after=after, limit=1, upto=upto)

    def handle(self, batch: Batch) -> None:
        by_account: dict[UUID, list[Result]] = defaultdict(list)
        for event in batch.events:
            if isinstance(event, CallAttemptFinished):
                by_account[event.account_id].append(
                    Result(
                        record_id=event.originator_id,
                        attempt_id=event.attempt_id,
                        call_result=event.call_result,
                        call_time=event.call_time,
                        chain_n=event.chain_n,
                    )
                )
        for account_id, results in by_account.items():
            self.queue.apply_results(account_id, results)


class CallResultsProcessor(EmbeddedHost):
    """The call results processor on the embedded host (``dialstream up``)."""

    def __init__(self, store: EventStore, queue: QueueHandlers, *, retry_seconds: float = 1.0):
        super().__init__(store, CallResults(store, queue), retry_seconds=retry_seconds)
