"""The processor contract: what a stream processor declares and does, whichever host runs it.

A processor names the event types it reads (``reads``) and handles a :class:`Batch` of them:
its decisions come from a pure core in ``domain/`` (``(events, state, now) -> decisions``),
and it writes only through the service layer — the command handlers the gateway calls —
never by appending to the store itself. The host calls :meth:`Processor.handle` inside the
store's unit of work (:meth:`dialstream.store.EventStore.unit_of_work`), so the events the
handlers append and the processor's tracking position are stored in one transaction: a
redelivered or replayed batch has no second effect. Hosts: :mod:`processors.host.embedded`
(follows the store's log) and :mod:`processors.host.kafka` (a Kafka consumer group).

A processor must therefore not depend on its appends being visible to others before the
batch ends (they are not), only on its own loads (which see them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from dialstream.store import stored_topic_of
from schemas.base import Event


@dataclass(frozen=True)
class Batch:
    events: Sequence[Event]  # in log order (on Kafka: in one partition's order)
    upto: int  # the log position every event of the batch is at or before
    stopping: Callable[[], bool]  # true once the host is asked to stop: give up long waits


class Processor(Protocol):
    name: str  # its tracking name; positions are recorded under it
    reads: tuple[type[Event], ...]

    def handle(self, batch: Batch) -> None:
        """Decide on the batch and have the command handlers record the outcome."""
        ...

    def nothing_to_do(self, after: int, upto: int) -> bool:
        """True when nothing in the log between ``after`` and ``upto`` can have an effect (the
        host then records ``upto`` without reading the log): a cheap shortcut, or False."""
        ...


def stored_topics(processor: Processor) -> tuple[str, ...]:
    return tuple(stored_topic_of(cls) for cls in processor.reads)
