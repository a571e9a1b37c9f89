"""A processor that follows the event store's log on a thread of its own.

What the suppression index and the compliance processor share: wake on every append (other
processes' appends are seen within half a second), catch up to the head, publish how far they
got (read-your-writes for tests and callers), and retry after an error instead of dying — an
outage of what they write to holds up only them, never the read models on the bus.
"""

from __future__ import annotations

import logging
import threading
import time

from dialstream.store import EventStore

log = logging.getLogger(__name__)


class LogFollower:
    name = "follower"

    def __init__(self, store: EventStore, *, retry_seconds: float = 1.0):
        self.store = store
        self.retry_seconds = retry_seconds
        self.position = 0
        self.error: BaseException | None = None  # set while following fails
        self._progress = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def catch_up(self) -> int:
        """Handle the log up to its head as it is now; return the position reached."""
        raise NotImplementedError

    def expected(self, error: Exception) -> bool:
        """An error the follower waits out quietly (an outage), rather than a bug to log."""
        return False

    # Hosting ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self.store.wake()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def wait_until(self, position: int, timeout: float = 5.0) -> bool:
        """Block until the follower has handled the log up to ``position``."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while self.position < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._progress.wait(remaining)
        return True

    def reached(self, position: int) -> None:
        with self._progress:
            self.position = position
            self._progress.notify_all()

    def _run(self) -> None:
        while not self._stopping.is_set():
            seen = self.store.appends()
            try:
                self.reached(self.catch_up())
            except Exception as error:  # keep following: an outage or a bug must not end it
                if not self.expected(error):
                    log.exception("%s: following the log failed, retrying", self.name)
                elif self.error is None:
                    log.warning("%s: cannot follow the log: %s", self.name, error)
                self.error = error
                self._stopping.wait(self.retry_seconds)
                continue
            if self.error is not None:
                log.info("%s: following the log again", self.name)
                self.error = None
            self.store.wait_for_append(seen, 0.5)
