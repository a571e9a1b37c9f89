"""Two connections to one shared database, SQLite and a real PostgreSQL: two processes' worth,
for the lease and the scheduler. (Modules that need another database define their own
``database_url``.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.sql import Database, connect


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'views.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
def connections(database_url: str) -> Iterator[list[Database]]:
    opened: list[Database] = [connect(database_url), connect(database_url)]
    try:
        yield opened
    finally:
        for db in opened:
            db.close()
