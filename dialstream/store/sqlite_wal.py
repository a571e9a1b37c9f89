"""SQLite in WAL mode, with the log copied into the database file off the writing threads.

By default SQLite checkpoints inside the commit that grows the write-ahead log past
1,000 pages: the writer that happens to cross the line copies the log into the database
file and syncs it. For a bulk import that was 40% of the cost of each stored batch, on
the threads the import waits for (the import runner and the read models). Here a
thread of its own checkpoints every half second (PASSIVE: it never blocks a reader or a
writer), and the commit-time checkpoint stays only as a backstop for processes that do
not run the checkpointer (short CLI commands), at 64 MiB of log.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Pages of 16 KiB instead of SQLite's 4 KiB: the stores take their index entries in random
# order (chain ids), and per page touched a commit pays for the page, its write to the log
# and its checkpoint; a 1M-event store took 23 us per event on 4 KiB pages, 15 on 16 KiB.
PAGE_SIZE = 16384
BACKSTOP_PAGES = 4096  # 64 MiB of log
INTERVAL_SECONDS = 0.5


def sqlite_path(url: str) -> str:
    """``sqlite:///relative/file`` or ``sqlite:////absolute/file`` to a file path."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r}")
    return url[len("sqlite:///") :] or ":memory:"


def create(path: str) -> None:
    """Create the database file with Dialstream's page size unless it exists already.

    A file's page size is fixed by its first write, and WAL mode is one; for a connection
    whose opener turns WAL on before :func:`configure` runs (the event store's library).
    """
    if path == ":memory:" or path.startswith("file:") or Path(path).exists():
        return
    connection = sqlite3.connect(path)
    try:
        configure(connection)
    finally:
        connection.close()


def configure(connection: sqlite3.Connection) -> None:
    """WAL settings of every connection Dialstream opens on a SQLite file."""
    connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # no effect on an existing file
    connection.execute("PRAGMA journal_mode = WAL")
    # In WAL mode a commit survives a killed process; only an OS crash can lose the last
    # commits (never corrupt the file). FULL adds an fsync per commit.
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")


class ThreadConnections:
    """A connection to one SQLite file for each thread that asks (readers that must not wait
    for the writers' lock or the library's pool).

    A thread-local connection is not freed with its thread (a reference cycle that the tuned
    garbage collector leaves for long), and some threads live for one request (a health
    probe): the connections of threads that have ended are closed when the next one opens,
    and every one at :meth:`close`.
    """

    def __init__(self, path: str, **options: Any):
        self.path = path
        self.options = {"check_same_thread": False, "timeout": 30, **options}
        self._local = threading.local()
        self._opened: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, **self.options)
            self._local.connection = connection
            with self._lock:
                for thread, ended in [each for each in self._opened if not each[0].is_alive()]:
                    ended.close()
                    self._opened.remove((thread, ended))
                self._opened.append((threading.current_thread(), connection))
        return connection

    def close(self) -> None:
        with self._lock:
            for _, connection in self._opened:
                connection.close()
            self._opened.clear()


class WalCheckpointer:
    """Checkpoints one SQLite database file from a background thread."""

    def __init__(self, path: str, interval: float = INTERVAL_SECONDS):
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"wal-checkpoint:{self.path}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        try:
            while not self._stopping.wait(self.interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as error:  # busy or locked: the next round copies it
                    log.debug("checkpoint of %s skipped: %s", self.path, error)
        finally:
            connection.close()
