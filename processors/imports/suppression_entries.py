"""Entry files into suppression lists, through the import pipeline of contact lists.

The same job aggregate, upload, file reading (encodings, delimiters, fixed width through
a specification file), batches, rejected rows and error report as a contact-list import;
what differs is what a row becomes: one entry per filled cell of its ``phone``,
``client_id`` and ``email`` columns (named so in the header, or mapped by a data mapping or
specification file). A row whose entry cells are all empty is a rejected row; a blank line
(nothing but spaces and delimiters) is no row at all, as in a contact-list import. A batch's
entries and the job's ``progressed`` event are stored in one transaction, so a job resumes
after its last stored batch.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from dialstream.store import EventStore, retry_on_conflict
from domain import import_job, suppression_list
from domain.aggregate import Changes
from domain.codes import ContactInfoType
from domain.errors import RuleViolation
from domain.import_job import ImportJob
from domain.record_fields import CLIENT_ID, CONTACT_INFO
from domain.suppression_list import FileEntry, SuppressionList
from processors.imports.batches import Batch
from projections.suppression_lists import SuppressionListQueries
from schemas.base import Event
from schemas.imports import Counts, FieldMap

# Header names a column of each kind goes by, once lower-cased with spaces and dashes as "_".
HEADER_NAMES: dict[str, str] = {
    "phone": "phone",
    "phone_number": "phone",
    "number": "phone",
    "client_id": "client_id",
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
}


def entry_columns(fields: list[FieldMap], columns: list[str]) -> list[tuple[int, FieldMap]]:
    """(column index, mapping to a kind of entry) of the columns that hold entries.

    A data mapping or specification file of contact lists serves as it is: ``client_id``
    holds client ids, ``contact_info`` e-mail addresses (contact info type e-mail) or phone
    numbers (any other type); its other fields are left out. Without one, the header names
    the columns. RuleViolation when no column holds entries.
    """
    if fields:
        mapped = [
            (columns.index(f.column), FieldMap(column=f.column, field=kind))
            for f in fields
            if (kind := _kind_of(f)) is not None and f.column in columns
        ]
        missing = [f.column for f in fields if _kind_of(f) is not None and f.column not in columns]
        if missing:
            raise RuleViolation(f"the file has no column {missing[0]!r} that the mapping names", field="fields")
        if not mapped:
            raise RuleViolation(
                "the mapping maps no column to client_id or contact_info: no column holds entries",
                field="fields",
            )
        return mapped
    found = [
        (index, FieldMap(column=name, field=HEADER_NAMES[key]))
        for index, name in enumerate(columns)
        if (key := re.sub(r"[\s\-]+", "_", name.strip().lower())) in HEADER_NAMES
    ]
    if not found:
        raise RuleViolation(
            "the file has no phone, client_id or email column (its columns: "
            f"{', '.join(columns[:10])}); name one so, or give a data mapping",
            field="file",
        )
    return found


def _kind_of(field: FieldMap) -> str | None:
    if field.field in suppression_list.KINDS:  # as a started job records its columns
        return field.field
    if field.field == CLIENT_ID:
        return "client_id"
    if field.field == CONTACT_INFO:
        return "email" if field.contact_info_type == ContactInfoType.EMAIL else "phone"
    return None


class JobRunner(Protocol):
    """What an entry file needs of the import runner that took its job
    (:class:`processors.imports.runner.ImportRunner` is one)."""

    store: EventStore
    suppression_lists: SuppressionListQueries | None
    clock: Callable[[], datetime]
    # Waits until the read models reached a log position, for at most so many seconds.
    wait: Callable[[int, float], bool]

    def commit(self, job: ImportJob, events: list[Event]) -> ImportJob:
        """Store the events in one transaction; the job as they leave it."""
        ...

    def reload(self, job: ImportJob) -> ImportJob:
        """The job as stored; raises when another runner took it over."""
        ...

    def elapsed_seconds(self, job: ImportJob, started: float) -> float:
        """How long the job has run, across resumes."""
        ...


class SuppressionFiles:
    """Runs the jobs of the import runner whose target is a suppression list."""

    def __init__(self, runner: JobRunner):
        self.runner = runner

    def run(self, job: ImportJob, batches: Iterator[Batch], plan: list[tuple[int, FieldMap]]) -> ImportJob:
        runner = self.runner
        assert runner.suppression_lists is not None
        started = time.monotonic()
        state = self._list(job)
        if job.rules.append_type == "new_list_only" and not job.flushed and job.counts.rows == 0:
            runner.wait(runner.store.position(), 60.0)
            held = runner.suppression_lists.get(job.account_id, job.list_id)
            if held is not None and held.entry_count:
                raise RuleViolation(
                    f"the suppression list already holds {held.entry_count} entries; 'new list only' "
                    "imports into an empty list (use append only, append and update, or flush and append)"
                )
        if job.rules.append_type == "flush_and_append" and not job.flushed:
            job = self._flush(job)
        zone = ZoneInfo(job.rules.default_time_zone)
        for batch in batches:
            job, state = self._store_batch(job, state, batch, plan, zone)
        changes = Changes.of(job, runner.clock())
        import_job.complete(changes, job, counts=job.counts, seconds=runner.elapsed_seconds(job, started))
        return runner.commit(job, changes.events)

    def _list(self, job: ImportJob) -> SuppressionList:
        state = self.runner.store.load(job.list_id, suppression_list.project)
        if state is None or state.archived:
            raise RuleViolation("the suppression list was archived; its entries cannot change")
        return state

    def _flush(self, job: ImportJob) -> ImportJob:
        """Remove every entry the list holds, a page at a time, then record that it is done."""
        runner = self.runner
        assert runner.suppression_lists is not None
        flushed = job.counts.flushed
        while True:
            runner.wait(runner.store.position(), 60.0)
            keys = runner.suppression_lists.entries_page(job.list_id)
            if not keys:
                break
            now = runner.clock()
            events = suppression_list.flush_entries(self._list(job), keys, now=now)
            flushed += len(keys)
            changes = Changes.of(job, now)
            import_job.progressed(changes, job, line=0, offset=0, counts=Counts(flushed=flushed))
            job = runner.commit(job, events + changes.events)
        changes = Changes.of(job, runner.clock())
        import_job.flushed(changes, job, flushed)
        return runner.commit(job, changes.events)

    def _store_batch(
        self,
        job: ImportJob,
        state: SuppressionList,
        batch: Batch,
        plan: list[tuple[int, FieldMap]],
        zone: ZoneInfo,
    ) -> tuple[ImportJob, SuppressionList]:
        """Store one batch; the job and the list as they are after it."""
        runner = self.runner
        assert runner.suppression_lists is not None
        cells, empty = _cells(batch, plan)
        checked, rejected = suppression_list.check_file_entries(state, cells, region=job.rules.phone_region)
        lists = runner.suppression_lists

        def attempt() -> tuple[ImportJob, SuppressionList]:
            # Entries of this job's earlier batches are in the read model once it caught up.
            runner.wait(runner.store.position(), 60.0)
            present = lists.present([entry.entry_id for entry in checked])
            now = runner.clock()
            outcome = suppression_list.add_file_entries(
                state,
                checked,
                present=present,
                append_type=job.rules.append_type,
                job_id=job.id,
                zone=zone,
                now=now,
            )
            changes = Changes.of(job, now)
            for problem in batch.problems:
                import_job.reject(changes, job, line=problem.line, reason=problem.reason, field="", raw=problem.raw)
            for line, raw in empty:
                reason = f"line {line}: no {', '.join(f.column for _, f in plan)} value"
                import_job.reject(changes, job, line=line, reason=reason, field="", raw=raw)
            for entry, reason in rejected + outcome.ignored:
                import_job.reject(changes, job, line=entry.line, reason=reason, field=entry.column, raw=entry.raw)
            c = job.counts
            counts = Counts(
                rows=c.rows + len(batch.rows) + len(batch.problems),
                imported=c.imported + outcome.imported,
                updated=c.updated + outcome.updated,
                ignored=c.ignored + len(outcome.ignored),
                rejected=c.rejected + len(batch.problems) + len(empty) + len(rejected),
                flushed=c.flushed,
                records=c.records + outcome.imported + outcome.updated,
            )
            import_job.progressed(changes, job, line=batch.last_line, offset=batch.end_offset, counts=counts)
            stored = runner.commit(job, outcome.events + changes.events)
            advanced = suppression_list.project(state, outcome.events)
            assert advanced is not None
            return stored, advanced

        def reload() -> None:  # entries added or removed meanwhile: decide again on fresh state
            nonlocal job, state
            state = self._list(job)
            job = runner.reload(job)

        done = retry_on_conflict(attempt, attempts=3, on_conflict=reload, what=f"import job {job.id}")
        assert done is not None
        return done


def _cells(batch: Batch, plan: list[tuple[int, FieldMap]]) -> tuple[list[FileEntry], list[tuple[int, str]]]:
    """The batch's filled cells as entries, and (line, raw) of the rows with none."""
    entries: list[FileEntry] = []
    empty: list[tuple[int, str]] = []
    for line, values in batch.rows:
        before = len(entries)
        for index, field in plan:
            raw = values[index].strip() if index < len(values) else ""
            if raw:
                entries.append(FileEntry(line=line, column=field.column, kind=field.field, raw=raw))
        if len(entries) == before:
            empty.append((line, ",".join(values)[: import_job.MAX_RAW]))
    return entries, empty
