"""A read of a SQLite read model (``SQLiteDatabase.reading``, ``select``) neither waits for a
writer nor sees what it has not committed; each thread reads on a connection of its own, closed
once the thread has ended."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from projections.sql import SQLiteDatabase, connect


def _count(db: SQLiteDatabase) -> int:
    with db.reading() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def _count_selected(db: SQLiteDatabase) -> int:
    return int(db.select("SELECT count(*) FROM t WHERE n > ?", (0,))[0][0])


@pytest.mark.parametrize("count", [_count, _count_selected], ids=["reading", "select"])
def test_a_read_does_not_wait_for_a_writer_and_sees_only_what_is_committed(
    tmp_path: Path, count: Callable[[SQLiteDatabase], int]
) -> None:
    db = SQLiteDatabase(f"sqlite:///{tmp_path / 'rm.sqlite'}")
    with db.transaction() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
        cursor.execute("INSERT INTO t VALUES (1)")
    written, release = threading.Event(), threading.Event()

    def write_and_hold() -> None:
        with db.transaction() as cursor:
            cursor.execute("INSERT INTO t VALUES (2)")
            written.set()
            release.wait(10)

    writer = threading.Thread(target=write_and_hold)
    writer.start()
    try:
        assert written.wait(10)
        read: list[int] = []
        reader = threading.Thread(target=lambda: read.append(count(db)))
        reader.start()
        reader.join(5)
        assert read == [1], "read at once, without the row the writer has not committed"
    finally:
        release.set()
        writer.join(10)
    assert count(db) == 2
    db.close()


def test_the_connection_of_a_thread_that_ended_is_closed(tmp_path: Path) -> None:
    db = SQLiteDatabase(f"sqlite:///{tmp_path / 'rm.sqlite'}")
    with db.transaction() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    for _ in range(5):
        reader = threading.Thread(target=_count, args=(db,))
        reader.start()
        reader.join(5)
    assert _count(db) == 0
    assert len(db._readers._opened) <= 2, "the main thread's, and at most the last reader's"
    db.close()
    assert db._readers._opened == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_texts_of_a_column_come_back_whole_in_one_read(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'rm.sqlite'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("fresh_postgres_database"))
    )
    db = connect(url)
    try:
        with db.transaction() as cursor:
            cursor.execute("CREATE TABLE texts (k INTEGER, body TEXT)")
            bodies = ['{"a": 1}', '{"b": "x, y; z"}', "", '{"c": "\\u001e"}']
            cursor.executemany("INSERT INTO texts VALUES (?, ?)", list(enumerate(bodies)))
        assert sorted(db.select_texts("body", "FROM texts WHERE k >= ?", (0,))) == sorted(bodies)
        assert db.select_texts("body", "FROM texts WHERE k > ?", (99,)) == []
    finally:
        db.close()
