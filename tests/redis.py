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
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "compose" / "redis.sh"

START_TIMEOUT = 120
STOP_TIMEOUT = 120


class RedisUnavailable(RuntimeError):
    """Redis could not be started; the message carries the script's diagnostics."""


def start(directory: Path) -> str:
    """Start (or restart) the server of ``directory``; return its URL ``redis://127.0.0.1:PORT/0``."""
    try:
        result = subprocess.run(
            [str(SCRIPT), "start", str(directory)],
            capture_output=True, text=True, timeout=START_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired as error:
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else error.stderr or ""
        raise RedisUnavailable(
            f"{SCRIPT.relative_to(ROOT)} start {directory} did not finish in {START_TIMEOUT} s.\n{stderr.strip()}"
        ) from error
    except OSError as error:
        raise RedisUnavailable(f"cannot run {SCRIPT}: {error}") from error
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RedisUnavailable(
            f"{SCRIPT.relative_to(ROOT)} start {directory} failed (exit {result.returncode}); "
            f"install redis-server with `make deps`.\n{result.stderr.strip()}"
        )
    return lines[-1]


def stop(directory: Path) -> None:
    """Stop the server of ``directory`` (it saves its data first); its port and data stay."""
    result = subprocess.run(
        [str(SCRIPT), "stop", str(directory)],
        capture_output=True, text=True, timeout=STOP_TIMEOUT, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} stop {directory} failed: {result.stderr.strip()}")


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
