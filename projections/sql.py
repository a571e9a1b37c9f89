"""A small SQL port for read models: SQLite in the embedded default, PostgreSQL in production.

Statements are written once with ``?`` placeholders and portable SQL (``ON CONFLICT``
upserts work on both); the PostgreSQL adapter rewrites the placeholders.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse
from uuid import UUID

from dialstream.store import sqlite_wal
from dialstream.store.sqlite_wal import sqlite_path

# pg_advisory_lock key of schema changes ("dialstrm" in ASCII).
SCHEMA_LOCK = 0x6469616C7374726D
SEPARATOR = 0x1E  # ASCII record separator: joins the values of select_texts
IN_AT_ONCE = 500  # values in one IN list (SQLite's limit of parameters is 999 in old builds)


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...


class Database(Protocol):
    url: str

    def transaction(self) -> Any: ...
    def reading(self) -> Any: ...
    def select(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def select_texts(self, column: str, source: str, params: Sequence[Any] = ()) -> list[str]: ...
    def schema(self) -> Any: ...
    def close(self) -> None: ...


class SQLiteDatabase:
    def __init__(self, url: str):
        self.url = url
        path = sqlite_path(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        sqlite_wal.configure(self._conn)
        self._lock = threading.RLock()
        self._path = path
        self._readers = sqlite_wal.ThreadConnections(path, isolation_level=None)  # never the writers' lock

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._lock:
            cursor = self._conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor  # type: ignore[misc]
            except BaseException:
                self._conn.rollback()
                raise
            else:
                self._conn.commit()
            finally:
                cursor.close()

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A read of what is committed, on the calling thread's own connection.

        The queries (a dialer's draw, its agents, the dashboard) read while the read models
        write; through :meth:`transaction` each read waited for the lock the writers hold and
        took SQLite's write lock itself. A reader in WAL mode needs neither: its deferred
        transaction is one snapshot for every statement in it. (An in-memory database is one
        connection's own: read through the transaction there.)"""
        if self._path == ":memory:" or self._path.startswith("file:"):
            with self.transaction() as cursor:
                yield cursor
            return
        connection = self._readers.get()
        snapshot = connection.cursor()
        snapshot.execute("BEGIN")
        try:
            yield snapshot  # type: ignore[misc]
        finally:
            snapshot.close()
            connection.rollback()

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query, read like :meth:`reading` but without its transaction: one
        statement is one snapshot by itself, and the dialer's step reads several (a BEGIN and
        a ROLLBACK each were a third of the SQLite calls of a read)."""
        if self._path == ":memory:" or self._path.startswith("file:"):
            with self.transaction() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        return self._readers.get().execute(sql, params).fetchall()

    def select_texts(self, column: str, source: str, params: Sequence[Any] = ()) -> list[str]:
        """``SELECT column source``: the text values of one column (never containing the
        ASCII record separator; JSON, say), as :meth:`select` reads them, but in one row.

        SQLite's module gives up the interpreter lock for every row it steps and takes it back
        after; while other threads run Python (the read models following a dialer), each row
        waits for it. Joined in SQLite, the rows of a group's agents come back as one."""
        rows = self.select(f"SELECT group_concat({column}, char({SEPARATOR})) {source}", params)
        joined = rows[0][0] if rows else None
        return [] if joined is None else str(joined).split(chr(SEPARATOR))

    def schema(self) -> Any:
        """A transaction for ``CREATE ... IF NOT EXISTS``: SQLite's write lock serialises them."""
        return self.transaction()

    def close(self) -> None:
        self._readers.close()
        self._conn.close()


class _PgCursor:
    def __init__(self, cursor: Any):
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.replace("?", "%s"), rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._cursor.fetchall())

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)


class PostgresDatabase:
    def __init__(self, url: str):
        import psycopg

        self.url = url
        parsed = urlparse(url)
        self._conn = psycopg.connect(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            dbname=parsed.path.lstrip("/"),
            user=unquote(parsed.username or "postgres"),
            password=unquote(parsed.password or ""),
            autocommit=False,
        )
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._lock:
            try:
                with self._conn.cursor() as cursor:
                    yield _PgCursor(cursor)
            except BaseException:
                self._conn.rollback()
                raise
            else:
                self._conn.commit()

    def reading(self) -> Any:
        """A read (PostgreSQL's readers never wait for its writers; one connection here)."""
        return self.transaction()

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.transaction() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def select_texts(self, column: str, source: str, params: Sequence[Any] = ()) -> list[str]:
        return [str(row[0]) for row in self.select(f"SELECT {column} {source}", params)]

    @contextmanager
    def schema(self) -> Iterator[Cursor]:
        """A cursor for ``CREATE ... IF NOT EXISTS``: each statement commits on its own, under a
        lock that serialises schema changes across processes.

        Two processes creating one new table at once collide on its pg_type row, and one
        transaction holding the locks of several tables while it waits for the next deadlocks
        with a writer (another process's read model) taking them in another order.
        """
        with self._lock:
            self._conn.autocommit = True
            try:
                with self._conn.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
                    try:
                        yield _PgCursor(cursor)
                    finally:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
            finally:
                self._conn.autocommit = False

    def close(self) -> None:
        self._conn.close()


# The text of the ids met lately, by their integer (see id_text).
_ID_TEXTS: dict[int, str] = {}
ID_TEXTS_KEPT = 100_000


def id_text(value: UUID) -> str:
    """``str(value)``, the way an id is stored, kept for the ids met lately: a read model writes
    the same ids (an account's, a group's, an attempt's) for event after event, and a UUID's
    ``__str__`` is Python formatting, on the dialer bench 13 % of the embedded bus's
    instructions. Looked up by the id's integer, whose hash is C's."""
    key = value.int
    text = _ID_TEXTS.get(key)
    if text is None:
        if len(_ID_TEXTS) >= ID_TEXTS_KEPT:
            _ID_TEXTS.clear()
        text = _ID_TEXTS[key] = str(value)
    return text


def in_chunks(values: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
    """``values`` in lists short enough for one statement's ``IN (...)``, each with its marks."""
    for first in range(0, len(values), IN_AT_ONCE):
        chunk = list(values[first : first + IN_AT_ONCE])
        yield ", ".join("?" for _ in chunk), chunk


def connect(url: str) -> SQLiteDatabase | PostgresDatabase:
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        return SQLiteDatabase(url)
    if scheme in ("postgresql", "postgres"):
        return PostgresDatabase(url)
    raise ValueError(f"unsupported database URL {url!r}")


def dump_tables(db: Database, tables: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``tables``, sorted: what a replay of a read model must give again."""
    rows = {}
    with db.transaction() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            rows[table] = sorted(tuple(row) for row in cursor.fetchall())
    return rows
