"""What the import runner stores: its claim on a job, each batch with the job's progress, the
job's end. The gateway requests jobs (:mod:`dialstream.handlers.imports`); the runner, a
processor, writes only through these handlers, never to the store itself.

A batch is decided by the runner (rows drafted in worker processes, compared with the chains'
heads by the rules of ``domain/record_chain.py`` and ``domain/import_job.py``): thousands of
chains a second cannot be loaded one by one here, so :meth:`ImportJobHandlers.record` stores
the decided events — new chains already encoded by the drafting workers — with the job's
events in one transaction, as the job's own decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from dialstream.handlers.context import Context
from dialstream.store import ConcurrencyConflict, retry_on_conflict
from domain import import_job
from domain.import_job import ImportJob
from schemas.base import Event
from schemas.imports import FieldMap


class ImportJobHandlers:
    def __init__(self, context: Context):
        self.context = context

    def job(self, job_id: UUID) -> ImportJob | None:
        return self.context.store.load(job_id, import_job.project)

    def claim(
        self,
        job: ImportJob,
        *,
        runner: str,
        columns: list[str],
        dialect: str,
        encoding: str,
        data_offset: int,
        data_line: int,
        fields: list[FieldMap],
    ) -> ImportJob:
        """Take the job for ``runner`` at the version it was read at: ConcurrencyConflict when
        another runner claimed it (or wrote to it) since."""
        changes = import_job.start(
            job,
            runner=runner,
            columns=columns,
            dialect=dialect,
            encoding=encoding,
            data_offset=data_offset,
            data_line=data_line,
            fields=fields,
            now=self.context.now(),
        )
        return self.record(job, changes.events)

    def record(
        self, job: ImportJob, events: Sequence[Event], encoded: Sequence[StoredEvent] = ()
    ) -> ImportJob:
        """Store one step of the job (a batch: its chains, rejections and progress) in one
        transaction; the job as the step leaves it. ConcurrencyConflict when a chain or the
        job moved on meanwhile: nothing is stored."""
        self.context.store.append_stored(list(encoded), list(events))
        state: ImportJob | None = job
        for event in events:
            if event.originator_id == job.id:
                state = import_job.evolve(state, event)
        assert state is not None
        return state

    def fail(self, job_id: UUID, reason: str, line: int | None) -> ImportJob | None:
        """End the job as failed with ``reason``; the job as it ends (None: it does not exist,
        or others keep writing to it, so it is theirs to end)."""

        def attempt() -> ImportJob | None:
            state = self.job(job_id)
            if state is None or state.finished:
                return state
            now = self.context.now()
            return self.record(state, import_job.fail(state, reason=reason, line=line, counts=None, now=now))

        try:
            return retry_on_conflict(attempt, attempts=3, what=f"failing import job {job_id}")
        except ConcurrencyConflict:
            return None
