"""The embedded bus: one thread follows the event store's log and feeds every subscriber.

Appends in this process wake it at once; appends by other processes (a CLI command on
the same SQLite file) are seen within ``poll_interval``.
"""

from __future__ import annotations

import logging
import threading
import time

from dialstream.store import EventStore
from dialstream.store.events import FollowPace
from processors.bus.port import Subscriber

log = logging.getLogger(__name__)


class EmbeddedBus:
    def __init__(self, store: EventStore, *, batch_size: int = 2000, poll_interval: float = 0.25):
        self.store = store
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._subscribers: list[Subscriber] = []
        self._positions: dict[str, int] = {}
        self._progress = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pace = FollowPace()
        self.error: BaseException | None = None

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)
        self._positions[subscriber.name] = subscriber.position()

    def start(self) -> None:
        """Catch up with the log, then follow it in a thread."""
        while self.run_once():
            pass
        self._thread = threading.Thread(target=self._run, name="embedded-bus", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.store.wake()
        self._pace.hurry()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def running(self) -> bool:
        """Whether the thread that follows the log is alive (for health checks)."""
        return self._thread is not None and self._thread.is_alive()

    def catch_up(self, timeout: float = 60.0) -> bool:
        if self._thread is not None and self._thread.is_alive():
            return self.wait_until(self.store.position(), timeout)
        while self.run_once():
            pass
        return True

    def caught_up_to(self) -> int:
        with self._progress:
            return min(self._positions.values(), default=self.store.position())

    def relayed_to(self) -> None:
        return None

    def read_model_positions(self) -> dict[str, int]:
        with self._progress:
            return dict(self._positions)

    def wait_until(self, position: int, timeout: float = 5.0, *, since: int | None = None) -> bool:
        # In log order, one bus for every read model: ``since`` changes nothing here.
        deadline = time.monotonic() + timeout
        with self._progress:
            while min(self._positions.values(), default=position) < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.error is not None:
                    return False
                self._pace.hurry()
                self._progress.wait(remaining)
        return True

    def run_once(self) -> int:
        """Deliver one batch to every subscriber that is behind; return how many events."""
        start = min(self._positions.values(), default=0)
        batch = self.store.read_log(after=start, limit=self.batch_size)
        if not batch:
            return 0
        for subscriber in self._subscribers:
            done = self._positions[subscriber.name]
            behind = batch if done <= start else [entry for entry in batch if entry.position > done]
            if behind:
                position = subscriber.handle(behind)
                with self._progress:
                    self._positions[subscriber.name] = position
                    self._progress.notify_all()
        return len(batch)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                seen = self.store.appends()
                self._pace.round_starts()
                if self.run_once() < self.batch_size:  # caught up: wait for more (FollowPace)
                    self.store.wait_for_append(seen, self.poll_interval)
                    self._pace.pause()
            except Exception as error:  # keep following; a broken handler must not stop the bus
                log.exception("embedded bus: delivery failed, retrying")
                self.error = error
                with self._progress:
                    self._progress.notify_all()
                self._stopping.wait(1.0)
                self.error = None
