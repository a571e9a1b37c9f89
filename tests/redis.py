"""A real Redis for tests and benchmarks, started by ``compose/redis.sh``.

The server listens on 127.0.0.1 only, on a free port, with its data in a temporary
directory; it is stopped (by its pid) when the context ends. Starting it never degrades
to a skip: if redis-server is missing or does not start, :class:`RedisUnavailable` says why.

:meth:`Server.stop` and :meth:`Server.start` stop and restart the same server — same
address, same data (``compose/redis.sh`` saves a snapshot when it stops the server and
loads it on start) — for tests of what clients do while it is away.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import services

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "compose" / "redis.sh"

START_TIMEOUT = 120
STOP_TIMEOUT = 120


class RedisUnavailable(RuntimeError):
    """Redis could not be started; the message carries the script's diagnostics."""


def start(directory: Path) -> str:
    """Start (or restart) the server of ``directory``; return its URL ``redis://127.0.0.1:PORT/0``."""
    return services.start(SCRIPT, directory, START_TIMEOUT, RedisUnavailable, 'install redis-server with `make deps`')

def stop(directory: Path) -> None:
    """Stop the server of ``directory`` (it saves its data first); its port and data stay."""
    services.stop(SCRIPT, directory, STOP_TIMEOUT)


@dataclass
class Server:
    """A running server: its URL and the directory with its configuration and data."""

    url: str
    directory: Path

    def stop(self) -> None:
        """Stop the server (SIGTERM: it saves a snapshot and exits); :meth:`start` brings it back."""
        stop(self.directory)

    def start(self) -> None:
        """Restart the server in the same directory: same address, same data."""
        url = start(self.directory)
        if url != self.url:
            raise RedisUnavailable(f"the server came back on {url}, not {self.url}")


@contextmanager
def running() -> Iterator[Server]:
    """A fresh server for the duration of the block."""
    directory = Path(tempfile.mkdtemp(prefix="dialstream-redis-"))
    try:
        yield Server(start(directory), directory)
    finally:
        # Also after a failed or timed-out start, which may leave a server behind.
        try:
            stop(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
