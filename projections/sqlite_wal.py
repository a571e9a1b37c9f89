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

log = logging.getLogger(__name__)

BACKSTOP_PAGES = 16384  # 64 MiB of 4 KiB pages
INTERVAL_SECONDS = 0.5


def configure(connection: sqlite3.Connection) -> None:
    """WAL settings of every connection Dialstream opens on a SQLite file."""
    connection.execute("PRAGMA journal_mode = WAL")
    # In WAL mode a commit survives a killed process; only an OS crash can lose the last
    # commits (never corrupt the file). FULL adds an fsync per commit.
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")


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
