"""Fixtures shared by every test package: a real PostgreSQL, started once per session, and a
fresh SQLite event store per test.

The server comes from ``compose/postgres.sh`` (see :mod:`tests.postgres`). It is never
skipped: if it cannot start, every test that needs it errors with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dialstream.store import EventStore, store_env
from tests import kafka, postgres, redis


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    """A fresh SQLite event store in the test's own directory (a module may define its own)."""
    event_store = EventStore(store_env(f"sqlite:///{tmp_path / 'events.sqlite'}"))
    yield event_store
    event_store.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the ``dialstream`` database on a PostgreSQL server private to this test run."""
    with postgres.running() as url:
        yield url


@pytest.fixture
def fresh_postgres_database(postgres_url: str) -> Iterator[str]:
    """URL of a new, empty database for one test, dropped afterwards."""
    with postgres.fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[kafka.Broker]:
    """A real Apache Kafka broker (KRaft, single node) from ``compose/kafka.sh``, shared by the
    session; tests keep apart by topic prefix. Fault tests that restart a broker start their own."""
    with kafka.running() as broker:
        yield broker


@pytest.fixture(scope="session")
def redis_server() -> Iterator[redis.Server]:
    """A real Redis from ``compose/redis.sh``, shared by the session; tests keep apart by key
    prefix. Fault tests that stop and restart a server start their own (``tests.redis.running``)."""
    with redis.running() as server:
        yield server
