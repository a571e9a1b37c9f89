"""automation_runs: what did each run of a list automation job do (the product's Job Activity
page: start, end, result, message), and which jobs does a worker look at for due runs?"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from projections.sql import Cursor, Database
from schemas import automation, topics
from schemas.base import Event


@dataclass(frozen=True)
class Run:
    run_id: UUID
    due: datetime | None  # the scheduled instant; None for a run asked for ("run now")
    requested_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    worker: str
    result: str | None  # success, failure, nothing_found; None while it runs or waits
    message: str
    files: list[str]
    trace: list[str]


class AutomationRuns:
    name = "automation_runs"
    tables: tuple[str, ...] = ("automation_runs",)
    topics: tuple[str, ...] = (topics.AUTOMATION,)

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS automation_runs (run_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, "
            "account_id TEXT NOT NULL, seq INTEGER NOT NULL, due TEXT, requested_at TEXT, started_at TEXT, "
            "ended_at TEXT, worker TEXT NOT NULL, result TEXT, message TEXT NOT NULL, files TEXT NOT NULL, "
            "trace TEXT NOT NULL)"
        )
        cursor.execute("CREATE INDEX IF NOT EXISTS automation_runs_by_job ON automation_runs (job_id, seq)")

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        at = event.timestamp.isoformat()
        match event:
            case automation.ListAutomationRunRequested(run_id=run_id):
                self._insert(cursor, event, run_id, requested_at=at)
            case automation.ListAutomationRunStarted(run_id=run_id, due=due, worker=worker):
                self._insert(cursor, event, run_id, due=due.isoformat() if due else None)
                cursor.execute(
                    "UPDATE automation_runs SET started_at = ?, worker = ? WHERE run_id = ?",
                    (at, worker, str(run_id)),
                )
            case automation.ListAutomationFileTaken(run_id=run_id, file_name=name):
                cursor.execute("SELECT files FROM automation_runs WHERE run_id = ?", (str(run_id),))
                row = cursor.fetchone()
                if row is not None and name not in (files := json.loads(row[0])):
                    cursor.execute(
                        "UPDATE automation_runs SET files = ? WHERE run_id = ?",
                        (json.dumps([*files, name]), str(run_id)),
                    )
            case automation.ListAutomationRunFinished(run_id=run_id):
                cursor.execute(
                    "UPDATE automation_runs SET ended_at = ?, result = ?, message = ?, trace = ? WHERE run_id = ?",
                    (at, event.result, event.message, json.dumps(event.trace), str(run_id)),
                )
                if event.files:
                    cursor.execute(
                        "UPDATE automation_runs SET files = ? WHERE run_id = ?",
                        (json.dumps(event.files), str(run_id)),
                    )

    def _insert(
        self,
        cursor: Cursor,
        event: Event,
        run_id: UUID,
        *,
        due: str | None = None,
        requested_at: str | None = None,
    ) -> None:
        cursor.execute(
            "INSERT INTO automation_runs (run_id, job_id, account_id, seq, due, requested_at, worker, message, files, trace) "
            "VALUES (?, ?, ?, ?, ?, ?, '', '', '[]', '[]') ON CONFLICT (run_id) DO NOTHING",
            (
                str(run_id),
                str(event.originator_id),
                str(event.account_id),
                event.originator_version,
                due,
                requested_at,
            ),
        )


class AutomationRunQueries:
    def __init__(self, db: Database):
        self.db = db

    def runs(self, account_id: UUID, job_id: UUID, *, limit: int = 100) -> list[Run]:
        """The job's runs, the latest first."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT run_id, due, requested_at, started_at, ended_at, worker, result, message, files, trace "
                "FROM automation_runs WHERE account_id = ? AND job_id = ? ORDER BY seq DESC LIMIT ?",
                (str(account_id), str(job_id), limit),
            )
            rows = cursor.fetchall()
        return [
            Run(
                UUID(str(row[0])),
                _time(row[1]),
                _time(row[2]),
                _time(row[3]),
                _time(row[4]),
                str(row[5]),
                None if row[6] is None else str(row[6]),
                str(row[7]),
                json.loads(row[8]),
                json.loads(row[9]),
            )
            for row in rows
        ]


def _time(text: object) -> datetime | None:
    return None if text is None else datetime.fromisoformat(str(text))
