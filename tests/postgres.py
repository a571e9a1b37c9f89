"""A real PostgreSQL for tests and benchmarks, started by ``compose/postgres.sh``.

The server listens on 127.0.0.1 only, on a free port, with its data in a temporary
directory; it is stopped (by its pid) when the context ends. Starting it never degrades
to a skip: if PostgreSQL is missing or does not start, :class:`PostgresUnavailable`
says why.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "compose" / "postgres.sh"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be started; the message carries the script's diagnostics."""


def start(directory: Path) -> str:
    """Start a server with its data in ``directory``; return the ``dialstream`` database URL."""
    result = subprocess.run(
        [str(SCRIPT), "start", str(directory)],
        capture_output=True, text=True, timeout=180, check=False,
    )
    if result.returncode != 0:
        raise PostgresUnavailable(
            f"{SCRIPT.relative_to(ROOT)} start {directory} failed (exit {result.returncode}); "
            f"install PostgreSQL with `make deps`.\n{result.stderr.strip()}"
        )
    return result.stdout.strip().splitlines()[-1]


def stop(directory: Path) -> None:
    result = subprocess.run(
        [str(SCRIPT), "stop", str(directory)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} stop {directory} failed: {result.stderr.strip()}")


@contextmanager
def running() -> Iterator[str]:
    """A fresh server for the duration of the block; yields its ``dialstream`` database URL."""
    # Not pytest's tmp_path: its parents are private to root, and the server runs as
    # the postgres user when we are root.
    directory = Path(tempfile.mkdtemp(prefix="dialstream-pg-"))
    try:
        url = start(directory)
        try:
            yield url
        finally:
            stop(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def create_database(url: str, prefix: str = "dialstream_test") -> str:
    """Create a new, uniquely named, empty database on the server of ``url``; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _admin(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(url, name)


def drop_database(url: str) -> None:
    """Drop the database of ``url``, closing whatever connections still use it."""
    name = urlparse(url).path.lstrip("/")
    with _admin(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def fresh_database(url: str, prefix: str = "dialstream_test") -> Iterator[str]:
    database_url = create_database(url, prefix)
    try:
        yield database_url
    finally:
        drop_database(database_url)
