"""An append-and-update job's ``records`` are the records its chains hold at its end: a row
that replaces a chain an earlier row of the same job wrote (in the same batch, an earlier
one, or before the job was stopped and resumed) replaces that row's records in the count."""

from __future__ import annotations

from pathlib import Path
from typing import cast
from uuid import UUID

from dialstream.bootstrap import IMPORTS, Runtime
from dialstream.store import EventStore
from domain import import_job
from processors.imports.runner import ImportRunner
from tests.imports.support import (
    StopsAfter,
    by_client,
    finished,
    new_list,
    records,
    request,
    run_import,
    running,
    write,
)

# Each client id's chains, row after row, with the records (numbers) each row gives.
ROWS = (
    "client_id,home,mobile\n"
    "C1,2125550101,3125550101\n"  # 2
    "C2,2125550102,\n"  # 1
    "C3,2125550103,3125550103\n"  # 2
    "C1,2125550111,\n"  # C1 again: 1
    "C4,2125550104,3125550104\n"  # 2
    "C2,2125550122,3125550122\n"  # C2 again: 2
    "C2,2125550132,\n"  # C2 a third time: 1
    "C5,not a number,\n"  # rejected
    "C3,2125550133,3125550133\n"  # C3 again: 2
)
HELD = {"C1": 1, "C2": 1, "C3": 2, "C4": 2}


def _held(runtime: Runtime, list_id: UUID) -> dict[str, int]:
    return {client: len(chain) for client, chain in by_client(runtime, list_id).items()}


def test_records_across_batches_are_those_the_list_holds(tmp_path: Path) -> None:
    source = write(tmp_path / "rows.csv", ROWS)
    with running(tmp_path / "data") as runtime:
        for batch_rows in (2, 3, 5000):  # replaced in an earlier batch, or in the same one
            cast(ImportRunner, runtime.services[IMPORTS]).batch_rows = batch_rows
            list_id = new_list(runtime)
            job = run_import(runtime, list_id, source, append_type="append_and_update")
            assert _held(runtime, list_id) == HELD
            assert job.counts.records == len(records(runtime, list_id)) == 6, batch_rows
            assert (job.counts.rows, job.counts.rejected) == (9, 1)


def test_records_of_chains_another_job_wrote_count_once(tmp_path: Path) -> None:
    with running(tmp_path / "data") as runtime:
        cast(ImportRunner, runtime.services[IMPORTS]).batch_rows = 2
        list_id = new_list(runtime)
        before = write(tmp_path / "before.csv", "client_id,home\nC1,2125550191\nC9,2125550199\n")
        assert run_import(runtime, list_id, before, append_type="append_only").counts.records == 2
        job = run_import(
            runtime, list_id, write(tmp_path / "rows.csv", ROWS), append_type="append_and_update"
        )
        assert _held(runtime, list_id) == {**HELD, "C9": 1}
        assert job.counts.records == 6 and len(records(runtime, list_id)) == 6 + 1


def _runner(runtime: Runtime, store: EventStore) -> ImportRunner:
    return ImportRunner(
        store,
        runtime.import_jobs,
        runtime.records,
        runtime.wait,
        runtime.settings.data_dir,
        take_over_at_start=True,
        batch_rows=2,
    )


def test_a_resumed_job_counts_the_rows_it_replaced_before_it_stopped(tmp_path: Path) -> None:
    source = write(tmp_path / "rows.csv", ROWS)
    with running(tmp_path / "data") as runtime:
        runtime.services[IMPORTS].stop()  # the test runs the job itself
        list_id = new_list(runtime)
        job_id = request(runtime, list_id, source, append_type="append_and_update")

        store = StopsAfter(runtime.store, batches=3)  # started, then two batches of 2 rows
        first = _runner(runtime, cast(EventStore, store))
        store.runner = first
        assert first.run_job(job_id) is None
        stopped = runtime.store.load(job_id, import_job.project)
        assert stopped is not None and stopped.status == "running" and stopped.counts.rows == 4, stopped

        assert _runner(runtime, runtime.store).run_job(job_id) is not None
        job = finished(runtime, job_id)
        assert job.status == "completed" and _held(runtime, list_id) == HELD
        assert job.counts.records == len(records(runtime, list_id)) == 6
