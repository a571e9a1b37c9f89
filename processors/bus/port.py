"""The bus port: what delivers the event store's log, in order, to processors and projections.

Adapters: :mod:`processors.bus.embedded` (in process, following the store) and
:mod:`processors.bus.kafka` (relay to Kafka topics, projections as consumer groups). Subscribers say where they are; the bus delivers what
follows, in batches, at least once; subscribers make redelivery harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dialstream.store import LogEntry

Batch = Sequence[LogEntry]


class Subscriber(Protocol):
    name: str

    def position(self) -> int:
        """The last log position this subscriber has fully handled."""
        ...

    def handle(self, batch: Batch) -> int:
        """Handle a batch; return the new position."""
        ...


class Bus(Protocol):
    error: BaseException | None  # set while delivery is failing

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def catch_up(self, timeout: float = 60.0) -> bool:
        """Block until every subscriber has handled the whole log as it is now."""
        ...

    def wait_until(self, position: int, timeout: float = 5.0, *, since: int | None = None) -> bool:
        """Block until every subscriber has handled the log up to ``position``. ``since``: the
        events from there to ``position`` are what the caller waits to see; a bus may then
        wait for those alone rather than for everything before them."""
        ...

    def caught_up_to(self) -> int:
        """A log position every subscriber has handled (for health checks)."""
        ...

    def read_model_positions(self) -> dict[str, int]:
        """Each read model's name and the log position it has applied everything up to."""
        ...

    def relayed_to(self) -> int | None:
        """The log position the relay has published up to (None: no relay, the embedded bus)."""
        ...
