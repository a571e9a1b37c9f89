"""import_jobs: each import job's state and its rejected rows (the error report).

The job state is folded with the aggregate's own ``evolve``, so what the API shows is
what a replay of the job's events gives; rejected rows get a row each, in line order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import msgspec

from domain import import_job
from domain.import_job import ImportJob
from projections.sql import Cursor, Database
from schemas import imports, topics
from schemas.base import Event

TABLES = ("import_jobs", "import_rejections")
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ImportJob)


class ImportJobs:
    name = "import_jobs"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.LISTS,)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS import_jobs (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, "
            "list_id TEXT NOT NULL, status TEXT NOT NULL, runner TEXT NOT NULL, "
            "requested_at TEXT NOT NULL, modified_at TEXT NOT NULL, body TEXT NOT NULL)"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS import_jobs_by_list ON import_jobs (list_id, requested_at)"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS import_rejections (job_id TEXT NOT NULL, seq INTEGER NOT NULL, "
            "line INTEGER NOT NULL, field TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL, "
            "PRIMARY KEY (job_id, seq))"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS import_rejections_by_line ON import_rejections (job_id, line, seq)"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        if not isinstance(event, imports.ImportEvent):
            return
        key = str(event.originator_id)
        if isinstance(event, imports.ImportRowRejected):
            cursor.execute(
                "INSERT INTO import_rejections VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (key, event.originator_version, event.line, event.field, event.reason, event.raw),
            )
        state: ImportJob | None = None
        if not isinstance(event, imports.ImportRequested):
            cursor.execute("SELECT body FROM import_jobs WHERE id = ?", (key,))
            row = cursor.fetchone()
            if row is None:
                return
            state = _decoder.decode(row[0])
        state = import_job.evolve(state, event)
        if state is None:
            return
        cursor.execute(
            "INSERT INTO import_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "status = excluded.status, runner = excluded.runner, modified_at = excluded.modified_at, "
            "body = excluded.body",
            (
                key,
                str(state.account_id),
                str(state.list_id),
                state.status,
                state.runner,
                state.created_on.isoformat(),
                state.modified_on.isoformat(),
                _encoder.encode(state).decode(),
            ),
        )


class ImportJobQueries:
    def __init__(self, db: Database):
        self.db = db

    def get(self, account_id: UUID, job_id: UUID) -> ImportJob | None:
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT body FROM import_jobs WHERE id = ? AND account_id = ?", (str(job_id), str(account_id))
            )
            row = cursor.fetchone()
        return None if row is None else _decoder.decode(row[0])

    def of_list(self, account_id: UUID, list_id: UUID) -> list[ImportJob]:
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT body FROM import_jobs WHERE list_id = ? AND account_id = ? ORDER BY requested_at DESC",
                (str(list_id), str(account_id)),
            )
            rows = cursor.fetchall()
        return [_decoder.decode(row[0]) for row in rows]

    def running(self, account_id: UUID) -> list[ImportJob]:
        """The account's jobs reading their files now."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT body FROM import_jobs WHERE account_id = ? AND status = 'running' ORDER BY requested_at",
                (str(account_id),),
            )
            rows = cursor.fetchall()
        return [_decoder.decode(row[0]) for row in rows]

    def unfinished(self) -> list[tuple[UUID, str, str]]:
        """(job id, runner, last activity) of every job not completed or failed, oldest first."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT id, runner, modified_at FROM import_jobs "
                "WHERE status IN ('requested', 'running') ORDER BY requested_at"
            )
            return [(UUID(i), str(r), str(m)) for i, r, m in cursor.fetchall()]

    def rejections(self, job_id: UUID, page: int = 5000) -> Iterator[tuple[int, str, str, str]]:
        """(line, field, reason, raw) of every rejected row, in line order, read in pages."""
        after = (-1, -1)
        while True:
            with self.db.reading() as cursor:
                cursor.execute(
                    "SELECT line, seq, field, reason, raw FROM import_rejections WHERE job_id = ? "
                    "AND (line > ? OR (line = ? AND seq > ?)) ORDER BY line, seq LIMIT ?",
                    (str(job_id), after[0], after[0], after[1], page),
                )
                rows: list[Any] = cursor.fetchall()
            for line, _seq, field, reason, raw in rows:
                yield int(line), str(field), str(reason), str(raw)
            if len(rows) < page:
                return
            after = (int(rows[-1][0]), int(rows[-1][1]))
