"""Server-sent event streams: what the open streams of an app share, and the uvicorn server
that ends them when it shuts down.

A stream follows the read models' position (``Bus.caught_up_to``) and sends a new message
when it advances. :class:`Feed` reads that position at most once per poll interval however
many streams are open, and computes a view (one account's dashboard) once per position
however many clients of that account wait for it; the reads run in worker threads, never on
the event loop.

uvicorn, asked to stop, waits for every response under way to finish (with no time limit by
default), and an event stream never finishes by itself: a browser left open on the dashboard
would keep ``dialstream up`` from stopping. :class:`Server` closes the streams first
(:func:`close_streams`); each ends within a poll interval, and the server stops as it would
with none open.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

POLL_S = 0.1  # how often the streams look at the read models' position
# A view is shared for this long after its computation began: long enough for every client
# that polls at once, short enough that one connecting to a quiet account later is not sent
# the clock-dependent figures (dial rate, abandon windows) of long ago.
SHARED_S = 1.0


class Feed:
    """Shared by the streams of one app (on its state: :func:`feed_of`)."""

    def __init__(self, shared_s: float = SHARED_S) -> None:
        self.closing = threading.Event()  # set from any thread: the streams end
        self.shared_s = shared_s
        self._poll: asyncio.Future[int] | None = None
        self._polled_at = 0.0
        # key -> (position, when its computation began, the computation)
        self._latest: dict[Hashable, tuple[int, float, asyncio.Future[Any]]] = {}

    async def position(self, read: Callable[[], int]) -> int:
        """The read models' position by ``read``, read again once the last read is
        :data:`POLL_S` old (every caller shares one read)."""
        now = time.monotonic()
        if self._poll is None or (self._poll.done() and now - self._polled_at >= POLL_S):
            self._polled_at = now
            self._poll = asyncio.ensure_future(run_in_threadpool(read))
        # Shielded: a client that leaves while the read runs must not cancel it for the others.
        return await asyncio.shield(self._poll)

    async def latest(self, key: Hashable, position: int, compute: Callable[[int], Any]) -> tuple[int, Any]:
        """(position, view) of ``key``: ``compute(position)`` run once for the callers that ask
        for this position or an older one within :attr:`shared_s`, and again when one asks for
        a newer one, or later, or after the last computation failed."""
        now = time.monotonic()
        entry = self._latest.get(key)
        if entry is None or entry[0] < position or _stale(entry[1], entry[2], now, self.shared_s):
            computing = asyncio.ensure_future(run_in_threadpool(compute, position))
            entry = self._latest[key] = (position, now, computing)
        return entry[0], await asyncio.shield(entry[2])

    async def pause(self) -> None:
        await asyncio.sleep(POLL_S)


def _stale(began: float, computing: asyncio.Future[Any], now: float, shared_s: float) -> bool:
    if not computing.done():
        return False
    return computing.cancelled() or computing.exception() is not None or now - began >= shared_s


def feed_of(app: Starlette) -> Feed:
    feed: Feed | None = getattr(app.state, "stream_feed", None)
    if feed is None:  # on the event loop's thread: no other coroutine runs in between
        feed = app.state.stream_feed = Feed()
    return feed


def close_streams(app: Starlette) -> None:
    """End the app's open streams, and any opened after this, within :data:`POLL_S`."""
    feed_of(app).closing.set()


class Server(uvicorn.Server):
    """uvicorn that closes the app's event streams as it begins to shut down."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if isinstance(self.config.app, Starlette):
            close_streams(self.config.app)
        await super().shutdown(sockets)
