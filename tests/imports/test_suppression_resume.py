"""An entry file stopped in the middle of its import resumes after its last stored batch and
ends with exactly the entries of a clean run, each added once."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import cast

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, IMPORTS, Runtime
from domain import import_job
from domain.suppression_list import CreateSuppressionList
from processors.imports.runner import ImportRunner
from schemas.suppression import SuppressionEntriesAdded
from tests.imports.support import finished, request, running

ROWS = 40_000


def _file(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("phone,client_id\n")
        for n in range(ROWS):
            phone = "12" if n % 1000 == 0 else f"312{200 + n // 10_000}{n % 10_000:04d}"
            out.write(f"{phone},C{n % (ROWS - 500)}\n")  # the last 500 client ids repeat earlier ones
    return path


def _request(runtime: Runtime, list_id: uuid.UUID, source: Path) -> uuid.UUID:
    return request(runtime, list_id, source, entries=True)


def _added(runtime: Runtime, job_id: uuid.UUID) -> list[str]:
    values: list[str] = []
    position = 0
    while batch := runtime.store.read(position, 1000):
        position = batch[-1][0]
        for _, event in batch:
            if isinstance(event, SuppressionEntriesAdded) and event.job_id == job_id:
                values += [f"{e.kind}:{e.value}" for e in event.entries]
    return values


def test_a_stopped_entry_file_resumes_to_the_entries_of_a_clean_run(tmp_path: Path) -> None:
    source = _file(tmp_path / "dnc.csv")
    with running(tmp_path / "clean") as runtime:
        clean_list = runtime.handlers.suppression.create_list(
            DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="DNC")
        ).id
        clean = finished(runtime, _request(runtime, clean_list, source))
        clean_entries = sorted(_added(runtime, clean.id))
    assert clean.status == "completed" and clean.counts.rejected == ROWS // 1000

    data_dir = tmp_path / "stopped"
    with running(data_dir) as runtime:
        runner = cast(ImportRunner, runtime.services[IMPORTS])
        runner.batch_rows = 1000
        list_id = runtime.handlers.suppression.create_list(DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="DNC")).id
        job_id = _request(runtime, list_id, source)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = runtime.store.load(job_id, import_job.project)
            if job is not None and job.counts.rows >= 5000:
                break
            time.sleep(0.005)
        runner.stop()  # at the end of the batch it is in, as a process stopping would
        stopped = runtime.store.load(job_id, import_job.project)
    assert stopped is not None and stopped.status == "running" and 0 < stopped.counts.rows < ROWS

    with running(data_dir) as runtime:
        resumed = finished(runtime, job_id)
        entries = _added(runtime, job_id)
        held = runtime.suppression_lists.get(DEFAULT_ACCOUNT_ID, list_id)
    assert resumed.status == "completed"
    assert resumed.counts == clean.counts
    assert sorted(entries) == clean_entries  # every entry added once, none twice or missing
    assert held is not None and held.entry_count == len(clean_entries)
