"""The import runner: takes requested import jobs and turns their files into record chains.

One batch of rows is one transaction: its chains, its rejected rows and the job's
``progressed`` event (the byte offset after the batch) are appended together, so a job
killed at any moment resumes after its last stored batch and ends with exactly the
chains of a clean run. Drafting rows (numbers, time zones) is CPU work: large files
draft in worker processes while this thread stores what they return, in file order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from dialstream.clock import utc_now
from dialstream.handlers.context import Context
from dialstream.handlers.import_jobs import ImportJobHandlers
from dialstream.store import ConcurrencyConflict, EventStore, retry_on_conflict, stored_topic_of
from domain import import_job, record_chain
from domain.aggregate import Changes
from domain.errors import DomainError
from domain.import_job import ImportJob
from domain.record_chain import Head, Rejection
from domain.record_import import drafting
from processors.files import source as files
from processors.host.lifecycle import Hosted
from processors.imports import uploads as import_uploads
from processors.imports.batches import Batch
from processors.imports.drafting import Drafted, Drafter, JobContext, as_draft
from processors.imports.plan import layout_of, row_plan
from processors.imports.seen_chains import SHORTEST_ROW_BYTES, SeenChains
from processors.imports.suppression_entries import SuppressionFiles, entry_columns
from projections.import_jobs import ImportJobQueries
from projections.records import RecordQueries
from projections.suppression_lists import SuppressionListQueries
from schemas.base import Event
from schemas.imports import Counts, FieldMap, ImportRequested
from schemas.records import RecordChainDeleted, RecordChainImported, RecordChainReplaced

# What wakes a runner with nothing to do: a job requested in this process (not a dialer's
# commits); other processes' jobs and lapsed leases are seen at its half-second poll.
NEW_JOB = frozenset({stored_topic_of(ImportRequested)})

log = logging.getLogger(__name__)

BATCH_ROWS = 5000
# Embedded, the read models apply the log in order, so a command stored during an import is
# readable only once they have passed the chains stored before it: the runner keeps them
# within this many events, so that such a command waits a second or two, not ten.
READ_MODELS_LAG = 50_000
# Below this size a file drafts in this process: starting workers costs more than it saves.
PARALLEL_FROM_BYTES = 4 * 1024 * 1024
# The filter of chains an append-and-update job wrote holds this many rows at most (8 MB):
# past it, more chains are looked up in the store, with the same answers.
REWRITES_MAX_ROWS = 1 << 22
IMPORTED_TOPIC = f"{RecordChainImported.tag()}/v{RecordChainImported.SCHEMA_VERSION}"


class Stopped(Exception):
    """The runner is stopping; the job stays running and resumes at the next start."""


class LostJob(Exception):
    """Another runner took the job over."""



class ImportRunner(Hosted):
    """Runs import jobs to their end, one at a time, on the processor host's lifecycle.

    Each job is held by one runner (its ``runner`` field, claimed with the job's first
    ``started`` event at the job's version): N runners sharing a store take N jobs at once,
    and a job whose runner stopped writing for ``lease_seconds`` is taken over by another.
    """

    name = "imports"

    def __init__(
        self,
        store: EventStore,
        jobs: ImportJobQueries,
        records: RecordQueries,
        wait: Callable[[int, float], bool],
        data_dir: Path,
        *,
        take_over_at_start: bool,
        lease_seconds: float = 60.0,
        read_models_lag: int | None = None,
        batch_rows: int = BATCH_ROWS,
        workers: int | None = None,
        parallel_from_bytes: int = PARALLEL_FROM_BYTES,
        clock: Callable[[], datetime] = utc_now,
        suppression_lists: SuppressionListQueries | None = None,
        handlers: ImportJobHandlers | None = None,
    ):
        self.store = store
        self.jobs = jobs
        self.records = records
        self.wait = wait
        self.data_dir = data_dir
        self.take_over_at_start = take_over_at_start
        self.lease = timedelta(seconds=lease_seconds)
        self.read_models_lag = read_models_lag
        self.batch_rows = batch_rows
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.parallel_from_bytes = parallel_from_bytes
        self.clock = clock
        # What the runner stores goes through the service layer (given by the composition
        # root; a runner made on its own, as in tests, gets handlers over its store).
        self.handlers = handlers or ImportJobHandlers(Context(store, clock=clock, new_id=uuid.uuid4))
        self.suppression_lists = suppression_lists  # for entry files into suppression lists
        super().__init__()
        self._ran = 0
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._started_at = clock()
        self._appends_seen = 0  # the store's append count before the last round
        self._seen: SeenChains | None = None  # see _run_job
        self._rewritten: Rewrites | None = None  # see _run_job

    # Hosting (the lifecycle of processors.host.lifecycle.Hosted) ----------------------------

    def on_start(self) -> None:
        try:
            import_uploads.discard_finished(self.data_dir, lambda job_id: self.store.load(job_id, import_job.project))
        except Exception:  # a leftover file must not keep jobs from running
            log.exception("import runner: cannot delete the uploads of finished jobs")

    def run_once(self) -> None:
        self._appends_seen = self.store.appends()
        self._ran = self.run_pending()

    def idle(self) -> None:
        if not self._ran:  # nothing to do: wait for a new job (or a runner's lease to lapse)
            self.store.wait_for_append(self._appends_seen, 0.5, NEW_JOB)

    def interrupt(self) -> None:
        self.store.wake()

    def run_pending(self) -> int:
        """Run every job that is waiting or orphaned; return how many were run."""
        self.wait(self.store.position(), 5.0)
        ran = 0
        for job_id, runner, modified_at in self.jobs.unfinished():
            if self._stopping.is_set():
                break
            if runner and not self._orphaned(runner, modified_at):
                continue
            self.run_job(job_id)
            ran += 1
        return ran

    def _orphaned(self, runner: str, modified_at: str | datetime) -> bool:
        if runner == self.id:
            return True  # ours, from a pass that stopped on a conflict
        if self.take_over_at_start:
            return True  # one process owns this data directory: whoever ran it is gone
        if isinstance(modified_at, str):
            modified_at = datetime.fromisoformat(modified_at)
        return self.clock() - modified_at > self.lease

    # One job -----------------------------------------------------------------------------

    def run_job(self, job_id: UUID) -> ImportJob | None:
        """Run (or resume) one job to its end; None when the runner stopped or lost it."""
        job = self.store.load(job_id, import_job.project)
        if job is None:
            return None
        if job.runner and not job.finished and not self._orphaned(job.runner, job.modified_on):
            return None  # another runner took it since the read model listed it
        if not job.finished:
            try:
                job = self._run_job(job)
            except (Stopped, LostJob):
                return None
            except Exception as error:  # a bug must not leave the job looking in progress forever
                log.exception("import job %s failed", job_id)
                job = self._fail(job_id, f"internal error: {error}", None)
        if job is not None and job.finished:  # its final event is stored: the file is read no more
            import_uploads.discard(self.data_dir, job)
        return job

    def _run_job(self, job: ImportJob) -> ImportJob | None:
        path = self.data_dir / job.stored_as
        layout = layout_of(job.layout)
        try:
            opened = files.open_file(path, layout)
        except files.FileProblem as problem:
            return self._fail(job.id, f"{job.file_name}: {problem.reason}", problem.line)
        except OSError as error:
            return self._fail(
                job.id, f"{job.file_name}: cannot read the uploaded file ({error.strerror})", None
            )
        if job.target == "suppression_list":
            return self._run_entry_file(job, path, layout, opened)
        try:
            fields, plan = row_plan(job.fields, opened.columns, job.rules.channel)
        except DomainError as error:
            return self._fail(job.id, f"{job.file_name}: {error.detail}", opened.data_line - 1)
        job = self._start(job, opened, fields)
        fresh = job.offset == 0 and job.counts.rows == 0 and not job.flushed
        chains = self._chains_held(job.list_id) if fresh else None
        if job.rules.append_type == "new_list_only" and chains:
            return self._fail(
                job.id,
                f"the list already holds {chains} client ids; 'new list only' imports into an "
                "empty list (use append only, append and update, or flush and append)",
                None,
            )
        if job.rules.append_type == "flush_and_append" and not job.flushed:
            job = self._flush(job)
        # A list that was empty when this job started can only hold chains this job wrote:
        # the store is asked only about chains the job may have written already.
        self._seen = SeenChains.for_file(opened.size) if chains == 0 and not job.flushed else None
        self._rewritten = None
        if job.rules.append_type == "append_and_update":
            rows = min(opened.size // SHORTEST_ROW_BYTES + 1, REWRITES_MAX_ROWS)
            self._rewritten = Rewrites(job, self._seen or SeenChains(rows))
            self._rewritten.remember_rows_before(job, path, layout, opened, plan.client_id)
        return self._import_rows(job, path, layout, opened, plan)

    def _run_entry_file(
        self, job: ImportJob, path: Path, layout: files.Layout, opened: files.Opened
    ) -> ImportJob | None:
        try:
            plan = entry_columns(job.fields, opened.columns)
        except DomainError as error:
            return self._fail(job.id, f"{job.file_name}: {error.detail}", opened.data_line - 1)
        job = self._start(job, opened, [field for _, field in plan])
        rows = self._rows(job, path, layout, opened)
        try:
            return SuppressionFiles(self).run(job, self._batches(rows), plan)
        except DomainError as error:  # the list was archived, or is not empty for "new list only"
            return self._fail(job.id, f"{job.file_name}: {error.detail}", None)

    def _rows(
        self, job: ImportJob, path: Path, layout: files.Layout, opened: files.Opened
    ) -> Iterator[files.Row | files.RowProblem]:
        """The file's rows after the job's last stored batch (all of them for a new job)."""
        resuming = job.offset > 0
        return files.read_rows(
            path,
            layout,
            opened,
            start_offset=job.offset if resuming else None,
            start_line=job.line + 1 if resuming else None,
        )

    def _start(self, job: ImportJob, opened: files.Opened, fields: list[FieldMap]) -> ImportJob:
        try:
            return self.handlers.claim(
                job,
                runner=self.id,
                columns=opened.columns,
                dialect=opened.dialect,
                encoding=opened.encoding,
                data_offset=opened.data_offset,
                data_line=opened.data_line,
                fields=fields,
            )
        except ConcurrencyConflict:  # another runner claimed the job first
            raise LostJob from None

    def _chains_held(self, list_id: UUID) -> int:
        self.wait(self.store.position(), 60.0)
        return self.records.counts(list_id)[0]

    def _import_rows(
        self,
        job: ImportJob,
        path: Path,
        layout: files.Layout,
        opened: files.Opened,
        plan: Any,
    ) -> ImportJob | None:
        rows = self._rows(job, path, layout, opened)
        ctx = JobContext(drafting(job.list_id, plan, job.rules), job.account_id, job.id)
        parallel = self.workers > 1 and opened.size - (job.offset or 0) >= self.parallel_from_bytes
        started = time.monotonic()
        with Drafter[Batch](ctx, self.workers if parallel else 0) as drafter:
            batches = ((batch, batch.rows) for batch in self._batches(rows))
            for batch, drafts in drafter.drafted(batches, self.clock()):
                if self.read_models_lag is not None:
                    self.wait(self.store.position() - self.read_models_lag, 60.0)
                job = self._store_batch(job, batch, drafts)
        changes = Changes.of(job, self.clock())
        import_job.complete(changes, job, counts=job.counts, seconds=self.elapsed_seconds(job, started))
        return self.commit(job, changes.events)

    def elapsed_seconds(self, job: ImportJob, started: float) -> float:
        """How long the job has run: since it first started, across resumes."""
        if job.started_on is None:
            return time.monotonic() - started
        return (self.clock() - job.started_on).total_seconds()

    def _batches(self, rows: Iterable[files.Row | files.RowProblem]) -> Iterator[Batch]:
        batch = Batch()
        for row in rows:
            if isinstance(row, files.RowProblem):
                batch.problems.append(row)
            else:
                batch.rows.append((row.line, row.values))
            batch.last_line, batch.end_offset = files.last_line(row), row.end_offset
            if len(batch.rows) + len(batch.problems) >= self.batch_rows:
                if self._stopping.is_set():
                    raise Stopped
                yield batch
                batch = Batch()
        if batch.rows or batch.problems:
            yield batch

    def _store_batch(self, job: ImportJob, batch: Batch, drafts: list[Drafted | Rejection]) -> ImportJob:
        def attempt() -> ImportJob:
            events, counts = self._decide_batch(job, batch, drafts)
            changes = Changes.of(job, self.clock())
            for problem in batch.problems:
                import_job.reject(
                    changes, job, line=problem.line, reason=problem.reason, field="", raw=problem.raw
                )
            for kind, payload in events:
                if kind == "reject":
                    import_job.reject(changes, job, **payload)
            import_job.progressed(changes, job, line=batch.last_line, offset=batch.end_offset, counts=counts)
            encoded = [payload for kind, payload in events if kind == "stored"]
            chains = [payload for kind, payload in events if kind == "chain"]
            return self.commit(job, chains + changes.events, encoded)

        def reload() -> None:  # a chain changed under us, or the job was taken over (LostJob)
            nonlocal job
            self._seen = None  # someone else writes to this list: ask the store from now on
            job = self.reload(job)

        stored = retry_on_conflict(attempt, attempts=3, on_conflict=reload, what=f"import job {job.id}")
        assert stored is not None
        return stored

    def _decide_batch(
        self, job: ImportJob, batch: Batch, drafts: list[Drafted | Rejection]
    ) -> tuple[list[tuple[str, Any]], Counts]:
        list_id, append_type, now = job.list_id, job.rules.append_type, self.clock()
        drafted = [d for d in drafts if isinstance(d, Drafted)]
        ids = {d.client_id: UUID(bytes=d.chain_id) for d in drafted}
        seen = self._seen
        if seen is None:
            asked = set(ids.values())
        else:  # a list empty at the start: only chains this job may have written
            asked = {ids[d.client_id] for d in drafted if seen.may_hold(d.chain_id)}
        heads = {i: Head.of(v, topic) for i, (v, topic) in self.store.heads(list(asked)).items()}
        c = job.counts
        rows, imported, updated, ignored = c.rows, c.imported, c.updated, c.ignored
        rejected, records, dropped = c.rejected + len(batch.problems), c.records, c.dropped
        rows += len(batch.rows) + len(batch.problems)
        rewritten = self._rewritten
        written: dict[UUID, int] = {}  # records of the chains this batch writes
        out: list[tuple[str, Any]] = []
        for draft in drafts:
            if isinstance(draft, Rejection):
                rejected += 1
                out.append(
                    (
                        "reject",
                        {"line": draft.line, "reason": draft.reason, "field": draft.field, "raw": draft.raw},
                    )
                )
                continue
            chain = ids[draft.client_id]
            head = heads.get(chain)
            result = record_chain.outcome(append_type, head)
            if result == "ignored":
                ignored += 1
                out.append(("reject", _duplicate(draft, append_type)))
                continue
            version = head.version if head else 0
            if version == 0:  # a new chain: the worker's encoding is the event
                out.append(("stored", StoredEvent(chain, 1, IMPORTED_TOPIC, draft.body)))
            else:
                event = record_chain.chain_event(
                    as_draft(draft),
                    result=result,
                    chain=chain,
                    version=version,
                    list_id=list_id,
                    account_id=job.account_id,
                    job_id=job.id,
                    now=now,
                )
                out.append(("chain", event))
            heads[chain] = Head(version + 1, True)
            imported += result == "imported"
            updated += result == "updated"
            records += draft.records
            if result == "updated" and rewritten is not None:
                records -= written[chain] if chain in written else rewritten.records_written_before(self.store, chain)
            written[chain] = draft.records
            for column, reason in draft.dropped:
                dropped += 1
                out.append(
                    (
                        "reject",
                        {
                            "line": draft.line,
                            "reason": f"line {draft.line}: {reason}; left out of the chain",
                            "field": column,
                            "raw": "",
                        },
                    )
                )
        if seen is not None:
            for d in drafted:
                seen.add(d.chain_id)
        if rewritten is not None and rewritten.written is not seen:  # (seen is its filter: filled above)
            rewritten.wrote(written)
        counts = Counts(
            rows=rows,
            imported=imported,
            updated=updated,
            ignored=ignored,
            rejected=rejected,
            flushed=c.flushed,
            records=records,
            dropped=dropped,
        )
        return out, counts

    # Flush and append ----------------------------------------------------------------------

    def _flush(self, job: ImportJob) -> ImportJob:
        """Delete every chain the list holds, in batches, then record that the flush is done."""
        flushed = job.counts.flushed
        after = ""
        while True:
            if self._stopping.is_set():
                raise Stopped
            self.wait(self.store.position(), 60.0)
            page = self.records.live_chains(job.list_id, after=after, limit=self.batch_rows)
            if not page:
                break
            after = page[-1][0]
            ids = [UUID(chain) for _, chain in page]
            heads = self.store.heads(ids)
            now = self.clock()
            deletions: list[Event] = []
            for (client_id, _), chain in zip(page, ids, strict=True):
                version, topic = heads.get(chain, (0, ""))
                if version and Head.of(version, topic).live:
                    deletions.append(
                        record_chain.deletion(
                            chain,
                            version=version,
                            list_id=job.list_id,
                            client_id=client_id,
                            account_id=job.account_id,
                            reason="flush",
                            job_id=job.id,
                            detail=f"flush and append: {job.file_name}",
                            now=now,
                        )
                    )
            flushed += len(deletions)
            changes = Changes.of(job, now)
            import_job.progressed(changes, job, line=0, offset=0, counts=Counts(flushed=flushed))
            job = self.commit(job, deletions + changes.events)
        changes = Changes.of(job, self.clock())
        import_job.flushed(changes, job, flushed)
        return self.commit(job, changes.events)

    # Storing -------------------------------------------------------------------------------

    def commit(
        self, job: ImportJob, events: list[Event], encoded: list[StoredEvent] | None = None
    ) -> ImportJob:
        """Store the events in one transaction (through the service layer); the job as they leave it."""
        return self.handlers.record(job, events, encoded or ())

    def reload(self, job: ImportJob) -> ImportJob:
        """The job as stored; LostJob when it finished or another runner took it over."""
        state = self.store.load(job.id, import_job.project)
        if state is None or state.finished or state.runner != self.id:
            raise LostJob
        return state

    def _fail(self, job_id: UUID, reason: str, line: int | None) -> ImportJob | None:
        return self.handlers.fail(job_id, reason, line)


class Rewrites:
    """The records an append-and-update job counts for a chain it wrote and then replaced.

    A later row with the same client id replaces the chain an earlier row of the same job
    wrote; the job's ``records`` (the records its chains hold) must then count only the
    replacement's. The chains the job wrote are remembered in a Bloom filter (a dict grew
    by 90 MB a million rows; a list empty at the start shares the runner's); a chain that
    may be one of them is looked up in the store, which knows which job wrote it.
    """

    def __init__(self, job: ImportJob, written: SeenChains):
        self.job_id = job.id
        self.written = written

    def remember_rows_before(
        self, job: ImportJob, path: Path, layout: files.Layout, opened: files.Opened, client_column: int
    ) -> None:
        """A resumed job: the chains of the rows before its offset, which it may have written
        before it stopped (a rejected row's chain too: asking the store about it costs a look-up)."""
        if not job.offset:
            return
        rows = cast(Generator[files.Row | files.RowProblem, None, None], files.read_rows(path, layout, opened))
        with contextlib.closing(rows):  # read up to the offset only: the file is closed here
            for row in rows:
                if row.end_offset > job.offset:
                    break
                if isinstance(row, files.Row) and (client := row.values[client_column].strip()):
                    self.written.add(record_chain.chain_id(job.list_id, client).bytes)

    def wrote(self, chains: Iterable[UUID]) -> None:
        for chain in chains:
            self.written.add(chain.bytes)

    def records_written_before(self, store: EventStore, chain: UUID) -> int:
        """Records of the live ``chain`` when this job wrote its current version, else 0."""
        if not self.written.may_hold(chain.bytes):
            return 0
        last = store.load(chain, _last_written)
        return last[1] if last is not None and last[0] == self.job_id else 0


def _last_written(state: tuple[UUID, int] | None, events: Iterable[Any]) -> tuple[UUID, int] | None:
    """(job id, records) of the event that wrote a chain's current records; None once deleted."""
    for event in events:
        if isinstance(event, RecordChainImported | RecordChainReplaced):
            state = (event.job_id, len(event.records))
        elif isinstance(event, RecordChainDeleted):
            state = None
    return state


def _duplicate(draft: Drafted, append_type: str) -> dict[str, Any]:
    return {
        "line": draft.line,
        "reason": f"line {draft.line}: client id {draft.client_id!r} is already in the list; "
        f"{append_type.replace('_', ' ')} keeps the first and ignores duplicates",
        "field": "client_id",
        "raw": "",
    }
