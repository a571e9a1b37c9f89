"""Import jobs spread across the import runners of a deployment (``dialstream worker imports``
started N times over one store and one shared data directory): each job is claimed by one runner,
N runners run N jobs at once, every job ends once with exactly its rows, and a job whose runner
died is taken over by another once its lease lapses."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from dialstream.bootstrap import IMPORTS, Runtime
from dialstream.store import EventStore
from domain import import_job
from processors.imports.runner import ImportRunner
from schemas.imports import ImportStarted
from tests.imports.support import StopsAfter, by_client, finished, new_list, request, running, write

JOBS = 6
ROWS = 600


def _file(tmp_path: Path, n: int) -> Path:
    rows = "".join(f"C{n}-{i},212555{i:04d}\n" for i in range(ROWS))
    return write(tmp_path / f"list{n}.csv", "client_id,home\n" + rows)


def _worker(runtime: Runtime, store: EventStore | None = None, lease_seconds: float = 60.0) -> ImportRunner:
    """An import runner as ``dialstream worker imports`` builds it on Kafka: it takes over
    another runner's job only once that runner stopped writing for ``lease_seconds``."""
    return ImportRunner(
        store or runtime.store,
        runtime.import_jobs,
        runtime.records,
        runtime.wait,
        runtime.settings.data_dir,
        take_over_at_start=False,
        lease_seconds=lease_seconds,
        batch_rows=20,  # many small transactions: each job runs long enough to be seen running
        workers=1,
    )


def test_jobs_spread_across_two_runners_and_each_ends_once(tmp_path: Path) -> None:
    with running(tmp_path / "data") as runtime:
        runtime.services[IMPORTS].stop()
        workers = [_worker(runtime), _worker(runtime)]
        lists = [new_list(runtime) for _ in range(JOBS)]
        jobs = [request(runtime, list_id, _file(tmp_path, n)) for n, list_id in enumerate(lists)]
        for worker in workers:
            worker.start()
        try:
            ended = [finished(runtime, job_id) for job_id in jobs]
        finally:
            for worker in workers:
                worker.stop()

        assert [job.status for job in ended] == ["completed"] * JOBS
        assert {job.runner for job in ended} == {worker.id for worker in workers}
        assert [_claims(runtime, job_id) for job_id in jobs] == [[job.runner] for job in ended]
        for n, (job, list_id) in enumerate(zip(ended, lists, strict=True)):
            assert (job.counts.rows, job.counts.imported) == (ROWS, ROWS)
            held = by_client(runtime, list_id)
            assert sorted(held) == sorted(f"C{n}-{i}" for i in range(ROWS))
            assert all(len(chain) == 1 for chain in held.values())
        assert [worker.health().failures for worker in workers] == [0, 0]


def _claims(runtime: Runtime, job_id: UUID) -> list[str]:
    """The runners that claimed the job (its ``import_job.started`` events)."""
    return [event.runner for event in runtime.store.events.get(job_id) if isinstance(event, ImportStarted)]


def test_a_job_whose_runner_died_is_taken_over_once_its_lease_lapses(tmp_path: Path) -> None:
    with running(tmp_path / "data") as runtime:
        runtime.services[IMPORTS].stop()
        list_id = new_list(runtime)
        job_id = request(runtime, list_id, _file(tmp_path, 0))

        store = StopsAfter(runtime.store, batches=4)  # started, then three batches
        dying = _worker(runtime, cast(EventStore, store), lease_seconds=1.0)
        store.runner = dying
        assert dying.run_job(job_id) is None
        left: Any = runtime.store.load(job_id, import_job.project)
        assert left.status == "running" and left.runner == dying.id and left.counts.rows == 60

        other = _worker(runtime, lease_seconds=1.0)
        assert other.run_job(job_id) is None  # the lease has not lapsed: still the dead runner's
        time.sleep(1.2)
        other.start()
        try:
            job = finished(runtime, job_id)
        finally:
            other.stop()

        assert job.status == "completed" and job.runner == other.id
        assert _claims(runtime, job_id) == [dying.id, other.id]
        assert (job.counts.rows, job.counts.imported) == (ROWS, ROWS)
        assert len(by_client(runtime, list_id)) == ROWS


def test_an_embedded_runner_keeps_the_read_models_within_its_lag(tmp_path: Path) -> None:
    """Before storing each batch the runner waits until the read models are at most
    ``read_models_lag`` events behind the log's head, so that a command stored meanwhile (which
    the embedded read models reach only after the chains before it) is readable soon."""
    with running(tmp_path / "data") as runtime:
        runtime.services[IMPORTS].stop()
        asked: list[tuple[int, int]] = []  # (position waited for, the log's head then)

        def wait(position: int, timeout: float) -> bool:
            asked.append((position, runtime.store.position()))
            return runtime.wait(position, timeout)

        worker = ImportRunner(
            runtime.store, runtime.import_jobs, runtime.records, wait, runtime.settings.data_dir,
            take_over_at_start=True, batch_rows=100, workers=1, read_models_lag=30,
        )
        list_id = new_list(runtime)
        job_id = request(runtime, list_id, _file(tmp_path, 0))
        worker.start()
        try:
            job = finished(runtime, job_id)
        finally:
            worker.stop()
        assert (job.status, job.counts.imported) == ("completed", ROWS)
        held_back = [position for position, head in asked if position == head - 30]
        assert len(held_back) >= ROWS // 100, "a wait before every batch, 30 events behind the head"
