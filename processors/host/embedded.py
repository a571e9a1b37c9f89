"""The embedded processor host: runs one :class:`~processors.host.processor.Processor` over the
store's log in this process (``dialstream up``; ``dialstream worker NAME`` on SQL alone).

Input: the stored events of the types the processor reads, in log order, a batch at a time.
Output: what the processor's handlers append. State: the processor's tracking position in the
event store (``store.tracked(name)``), recorded in the same transaction as those events, so a
crash between an effect and its position cannot happen: after a restart the batch is either
done (and skipped) or not done at all (and handled). Delivery: exactly-once effect per batch.
A conflict with another writer re-runs the batch (:func:`dialstream.store.retry_on_conflict`);
any other failure is retried by the lifecycle with a back-off. Progress is published for
read-your-writes (:meth:`LogFollower.wait_until`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from dialstream.store import EventStore, retry_on_conflict
from processors.host.log_follower import LogFollower
from processors.host.processor import Batch, Processor, stored_topics
from schemas.base import Event

log = logging.getLogger(__name__)

READ_BATCH = 500
# A stretch of the log with nothing to do is recorded at most this often: during a bulk import
# a tracking write per append would contend with the import for the store's write lock, and a
# lost stretch costs a restart only the processor's (cheap) check that there is nothing to do.
SKIP_RECORD_S = 1.0


class EmbeddedHost(LogFollower):
    def __init__(
        self,
        store: EventStore,
        processor: Processor,
        *,
        legacy_position: Callable[[], int] | None = None,
        retry_seconds: float = 1.0,
        read_batch: int = READ_BATCH,
    ):
        super().__init__(store, retry_seconds=retry_seconds)
        self.processor = processor
        self.name = processor.name
        self.topics = stored_topics(processor)
        self.wake_topics = frozenset(self.topics)  # the processor reads nothing else
        self.read_batch = read_batch
        tracked = store.tracked(processor.name)
        if tracked is None and legacy_position is not None:
            # Before tracking records, the position lived in the read models' database.
            tracked = legacy_position()
        self.position = tracked or 0
        self._recorded = self.position  # the position the store holds for this processor
        self._recorded_at = time.monotonic()

    def catch_up(self) -> int:
        """Handle everything up to the head of the log as it is now."""
        head = self.store.position()
        recorded = self.store.tracked(self.name) or 0
        if recorded > self.position:  # another host of this processor (or a replay) went on
            self.reached(recorded)
            self._recorded = recorded
        if self.position < head and self.processor.nothing_to_do(self.position, head):
            self._pass(head)
            return head
        for events, upto in self.store.follow_topics(
            self.topics, after=self.position, upto=head, batch=self.read_batch
        ):
            if self.stopping:
                break
            if events:
                self._commit(upto, events)
            else:
                self._pass(upto)
        return self.position

    def _pass(self, upto: int) -> None:
        """Go past a stretch of the log with nothing for the processor, recording it at most
        every ``SKIP_RECORD_S``: the other processes' events (a dialer's calls, an import's
        chains) wake every follower, and a tracking write for each would contend with them
        for the store's write lock."""
        if time.monotonic() - self._recorded_at >= SKIP_RECORD_S:
            self._commit(upto, [])
        else:
            self.reached(upto)

    def _commit(self, upto: int, events: Sequence[Event]) -> None:
        batch = Batch(events=events, upto=upto, stopping=lambda: self.stopping)
        after = self.position

        def attempt() -> None:
            with self.store.unit_of_work(self.name, upto, after=after):
                if events:
                    self.processor.handle(batch)

        retry_on_conflict(attempt, settled=lambda: (self.store.tracked(self.name) or 0) >= upto, what=self.name)
        self._recorded, self._recorded_at = upto, time.monotonic()
        self.reached(upto)

    def on_stop(self) -> None:
        if self.position > self._recorded:  # a stretch with nothing to do, not recorded yet
            try:
                self._commit(self.position, [])
            except Exception as error:  # the next start checks that stretch again
                log.warning("%s: position %d not recorded at stop: %s", self.name, self.position, error)
