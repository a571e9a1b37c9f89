"""One lifecycle for everything a process hosts in the background: start, stop, health,
error and back-off, on THE one thread loop. No processor, sweep or follower starts a thread
of its own; it subclasses :class:`Hosted` and says what one round of work is.

The loop (``run``), on a daemon thread that ``start`` opens::

    on_start()
    until stop():
        run_once()            # one round of work; an exception is caught, never ends the loop
        ok    -> idle()       # wait for more work (default: interval_s, or until stop())
        error -> back off     # Backoff.delay(consecutive failures), or until stop()
    on_stop()

A subclass implements :meth:`Hosted.run_once` and may override:

- ``idle()``: how to wait between rounds when the last one succeeded (a log follower waits
  for the next append; a sweep sleeps ``interval_s``). Use :meth:`Hosted.sleep`, which
  returns early on stop;
- ``interrupt()``: wakes whatever ``idle`` or ``run_once`` blocks on, from the thread that
  calls ``stop`` (a follower wakes the store's append condition);
- ``expected(error)``: an outage waited out quietly (one warning) rather than a bug logged
  with its traceback at every round;
- ``on_start()`` / ``on_stop()``: set-up and tear-down on the hosted thread (take or give
  back a lease, open or close a connection);
- ``backoff``: the class attribute or the ``backoff=`` argument.

``error`` is the last round's failure (None once a round succeeds again), ``health()`` a
snapshot for /healthz and logs. ``run()`` can also be called directly, in the caller's
thread (a test, a foreground worker); ``stop()`` from any other thread ends it.

Delivery guarantee: none by itself — a round that fails is run again after the back-off;
what makes a repeated round harmless is the hosted thing's own business (the processor host
commits effects with their tracking position, a sweep holds a lease).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Wait ``first_s`` after a failure, doubling (``factor``) per consecutive one, at most ``max_s``."""

    first_s: float = 1.0
    max_s: float = 30.0
    factor: float = 2.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure (1 = the first)."""
        if failures <= 0:
            return 0.0
        return min(self.first_s * self.factor ** (failures - 1), self.max_s)


@dataclass(frozen=True)
class Health:
    name: str
    running: bool
    failures: int  # consecutive failed rounds; 0 once a round succeeds
    error: str | None  # the last failure, while failing
    last_success: float | None  # time.time() of the last round that succeeded

    @property
    def healthy(self) -> bool:
        return self.running and self.error is None


class Hosted:
    """Base of every hosted thing: subclass, implement :meth:`run_once`, then ``start``/``stop``."""

    name: str = "hosted"
    interval_s: float = 1.0  # default idle() between successful rounds
    backoff: Backoff = Backoff()

    def __init__(self, *, name: str | None = None, backoff: Backoff | None = None):
        if name is not None:
            self.name = name
        if backoff is not None:
            self.backoff = backoff
        self.error: BaseException | None = None  # the last round's failure, while failing
        self.failures = 0
        self.last_success: float | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # What a subclass provides ---------------------------------------------------------

    def run_once(self) -> None:
        """One round of work. Raise to have it retried after the back-off."""
        raise NotImplementedError

    def idle(self) -> None:
        """Wait until there may be more work; return early when stopping."""
        self.sleep(self.interval_s)

    def interrupt(self) -> None:
        """Wake ``idle``/``run_once`` from another thread when stopping (default: nothing to wake)."""

    def expected(self, error: Exception) -> bool:
        """An error waited out quietly (an outage of what it reads or writes), not a bug."""
        return False

    def on_start(self) -> None:
        """Runs on the hosted thread before the first round."""

    def on_stop(self) -> None:
        """Runs on the hosted thread after the last round, even when a round failed."""

    # What the base owns ----------------------------------------------------------------

    def start(self) -> None:
        """Run the loop on a daemon thread of its own (named after ``name``)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to end after its current round and wait up to ``timeout`` for it."""
        self._stopping.set()
        self.interrupt()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s: still running %.0f s after it was asked to stop", self.name, timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` or until stopped; True if stopping."""
        return self._stopping.wait(seconds)

    def health(self) -> Health:
        return Health(
            name=self.name,
            running=self.running and not self.stopping,
            failures=self.failures,
            error=None if self.error is None else f"{type(self.error).__name__}: {self.error}",
            last_success=self.last_success,
        )

    def run(self) -> None:
        """The loop (see the module docstring), in the calling thread, until :meth:`stop`."""
        while True:  # a failing start (a database down) is retried like a round
            if self._stopping.is_set():
                return
            try:
                self.on_start()
                break
            except Exception as error:
                self._failed(error)
                self.sleep(self.backoff.delay(self.failures))
        try:
            while not self._stopping.is_set():
                try:
                    self.run_once()
                except Exception as error:  # an outage or a bug must not end the loop
                    self._failed(error)
                    self.sleep(self.backoff.delay(self.failures))
                    continue
                if self.error is not None:
                    log.info("%s: working again after %d failed rounds", self.name, self.failures)
                self.error = None
                self.failures = 0
                self.last_success = time.time()
                if not self._stopping.is_set():
                    self.idle()
        finally:
            try:
                self.on_stop()
            except Exception:
                log.exception("%s: stopping failed", self.name)

    def _failed(self, error: Exception) -> None:
        self.failures += 1
        if not self.expected(error):
            log.exception("%s: round failed (%d in a row), retrying", self.name, self.failures)
        elif self.error is None:
            log.warning("%s: waiting out %s", self.name, error)
        self.error = error
