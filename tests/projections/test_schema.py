"""Processes that start together create the read models' tables without colliding, on a real
PostgreSQL: the schema is created statement by statement under one advisory lock."""

from __future__ import annotations

import threading

import pytest

from dialstream.bootstrap import all_projections
from projections.base import ProjectionStore
from projections.sql import connect

pytestmark = pytest.mark.integration


def test_many_processes_create_the_tables_at_once(fresh_postgres_database: str) -> None:
    starters = 6
    barrier = threading.Barrier(starters)
    failures: list[BaseException] = []

    def start() -> None:
        db = connect(fresh_postgres_database)  # a connection of its own, as a process has
        try:
            barrier.wait()
            ProjectionStore(db, all_projections())
        except BaseException as error:
            failures.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []

