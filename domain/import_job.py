"""An import job: one file into one contact list, from request to completion or failure.

The job's events carry its progress. A batch of records and the job's ``progressed``
event are stored in one transaction, so the last ``progressed`` event is exactly where a
job resumed after a crash goes on, and a job is complete only when it says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from domain.aggregate import Aggregate, Changes, existing, projector, touched
from domain.errors import InvalidTransition
from schemas.base import Event
from schemas.imports import (
    Counts,
    FieldMap,
    FileLayout,
    ImportCompleted,
    ImportFailed,
    ImportFlushed,
    ImportProgressed,
    ImportRequested,
    ImportRowRejected,
    ImportStarted,
    ImportTarget,
    RowRules,
)

LABEL = "import job"
Status = Literal["requested", "running", "completed", "failed"]
FINISHED: frozenset[str] = frozenset({"completed", "failed"})
MAX_RAW = 200


class ImportJob(Aggregate, frozen=True, kw_only=True):
    list_id: UUID  # the contact list, or the suppression list when target says so
    file_name: str
    stored_as: str
    size: int
    layout: FileLayout
    fields: list[FieldMap]
    rules: RowRules
    status: Status = "requested"
    runner: str = ""
    columns: list[str] = msgspec.field(default_factory=list)
    dialect: str = ""
    data_offset: int = 0
    data_line: int = 0
    line: int = 0
    offset: int = 0
    flushed: bool = False
    counts: Counts = Counts()
    reason: str = ""
    started_on: datetime | None = None
    finished_on: datetime | None = None
    target: ImportTarget = "contact_list"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def request(
    *,
    job_id: UUID,
    account_id: UUID,
    list_id: UUID,
    file_name: str,
    stored_as: str,
    size: int,
    layout: FileLayout,
    fields: list[FieldMap],
    rules: RowRules,
    upload_rule_id: UUID | None,
    specification_file_id: UUID | None,
    data_mapping_id: UUID | None,
    now: datetime,
    target: ImportTarget = "contact_list",
) -> list[Event]:
    changes = Changes(job_id, account_id, 0, now)
    changes.record(
        ImportRequested,
        list_id=list_id,
        file_name=file_name,
        stored_as=stored_as,
        size=size,
        layout=layout,
        fields=fields,
        rules=rules,
        upload_rule_id=upload_rule_id,
        specification_file_id=specification_file_id,
        data_mapping_id=data_mapping_id,
        target=target,
    )
    return changes.events


def _running(state: ImportJob | None) -> ImportJob:
    job = existing(state, LABEL, "job_id")
    if job.finished:
        raise InvalidTransition(f"the import job is {job.status}", field="job_id")
    return job


def start(
    state: ImportJob | None,
    *,
    runner: str,
    columns: list[str],
    dialect: str,
    encoding: str,
    data_offset: int,
    data_line: int,
    fields: list[FieldMap],
    now: datetime,
) -> Changes:
    """Take the job: the first time, or again after the runner that had it stopped."""
    job = _running(state)
    changes = Changes.of(job, now)
    changes.record(
        ImportStarted,
        list_id=job.list_id,
        runner=runner,
        columns=columns,
        dialect=dialect,
        encoding=encoding,
        data_offset=data_offset,
        data_line=data_line,
        fields=fields,
        resumed=job.status == "running",
    )
    return changes


def flushed(changes: Changes, job: ImportJob, chains: int) -> None:
    changes.record(ImportFlushed, list_id=job.list_id, chains=chains)


def reject(changes: Changes, job: ImportJob, *, line: int, reason: str, field: str, raw: str) -> None:
    changes.record(
        ImportRowRejected, list_id=job.list_id, line=line, reason=reason, field=field, raw=raw[:MAX_RAW]
    )


def progressed(changes: Changes, job: ImportJob, *, line: int, offset: int, counts: Counts) -> None:
    changes.record(ImportProgressed, list_id=job.list_id, line=line, offset=offset, counts=counts)


def complete(changes: Changes, job: ImportJob, *, counts: Counts, seconds: float) -> None:
    changes.record(ImportCompleted, list_id=job.list_id, counts=counts, seconds=round(seconds, 3))


def fail(
    state: ImportJob | None, *, reason: str, line: int | None, counts: Counts | None, now: datetime
) -> list[Event]:
    job = _running(state)
    changes = Changes.of(job, now)
    changes.record(ImportFailed, list_id=job.list_id, reason=reason, line=line, counts=counts or job.counts)
    return changes.events


def evolve(state: ImportJob | None, event: Event) -> ImportJob | None:
    if isinstance(event, ImportRequested):
        return ImportJob(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            list_id=event.list_id,
            file_name=event.file_name,
            stored_as=event.stored_as,
            size=event.size,
            layout=event.layout,
            fields=event.fields,
            rules=event.rules,
            target=event.target,
        )
    if state is None:
        return None
    match event:
        case ImportStarted():
            return touched(
                state,
                event,
                status="running",
                runner=event.runner,
                columns=event.columns,
                dialect=event.dialect,
                data_offset=event.data_offset,
                data_line=event.data_line,
                fields=event.fields,
                started_on=state.started_on or event.timestamp,
            )
        case ImportFlushed():
            return touched(state, event, flushed=True)
        case ImportProgressed():
            return touched(state, event, line=event.line, offset=event.offset, counts=event.counts)
        case ImportCompleted():
            return touched(state, event, status="completed", counts=event.counts, finished_on=event.timestamp)
        case ImportFailed():
            return touched(
                state,
                event,
                status="failed",
                reason=event.reason,
                counts=event.counts,
                finished_on=event.timestamp,
            )
    return touched(state, event)


project = projector(evolve)
