"""An uploaded file holds personal data: it is written 0600 in a 0700 directory, kept while
its job may read it, and deleted once the job is completed or failed (and, at a runner's
start, for jobs that finished before).

A server of its own, whose import runner is stopped so that the tests run the jobs when they
choose to, with runners of their own over the same runtime.
"""

from __future__ import annotations

import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import IMPORTS, Runtime
from domain import import_job
from processors.imports.runner import ImportRunner
from tests.gateway.conftest import Server, serving
from tests.gateway.helpers import LISTS, create, unique

FILE = b"client_id,home_phone\nC1,2125550101\nC2,2125550102\n"
ELF = Path(shutil.which("true") or "/bin/true")


@pytest.fixture(scope="module")
def stopped_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose jobs stay requested until a test runs them."""
    with serving(tmp_path_factory.mktemp("dialstream-uploads")) as server:
        server.runtime.services[IMPORTS].stop()
        yield server


@pytest.fixture(scope="module")
def client(stopped_runner: Server) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {stopped_runner.admin_secret}"}
    with httpx.Client(base_url=stopped_runner.base_url, headers=headers, timeout=30.0) as made:
        yield made


def runner(runtime: Runtime) -> ImportRunner:
    return ImportRunner(
        runtime.store,
        runtime.import_jobs,
        runtime.records,
        runtime.wait,
        runtime.settings.data_dir,
        take_over_at_start=True,
        suppression_lists=runtime.suppression_lists,
    )


def requested(client: httpx.Client, content: bytes, name: str = "contacts.csv") -> dict[str, Any]:
    list_id = create(client, LISTS, {"name": unique("Upload list")})["id"]
    response = client.post(f"{LISTS}/{list_id}/imports", files={"file": (name, content, "text/csv")})
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    assert job["status"] == "requested", job
    return job


def upload_of(runtime: Runtime, job: dict[str, Any]) -> Path:
    return runtime.settings.data_dir / "imports" / job["id"] / "upload"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_requested_job_has_its_file_readable_by_the_server_only(
    stopped_runner: Server, client: httpx.Client
) -> None:
    job = requested(client, FILE)
    upload = upload_of(stopped_runner.runtime, job)
    assert upload.read_bytes() == FILE
    assert mode(upload) == 0o600
    assert mode(upload.parent) == 0o700


def test_the_file_is_deleted_when_the_job_completes_or_fails(
    stopped_runner: Server, client: httpx.Client
) -> None:
    runtime = stopped_runner.runtime
    good, bad = requested(client, FILE), requested(client, ELF.read_bytes(), "true.csv")
    for job in (good, bad):
        assert upload_of(runtime, job).is_file()

    done = runner(runtime).run_job(uuid.UUID(good["id"]))
    assert done is not None and done.status == "completed" and done.counts.imported == 2
    assert not upload_of(runtime, good).parent.exists()
    assert upload_of(runtime, bad).is_file()  # another job's file stays until that job is over

    failed = runner(runtime).run_job(uuid.UUID(bad["id"]))
    assert failed is not None and failed.status == "failed"
    assert failed.reason == "true.csv: the file is binary: an executable program (ELF), not text"
    assert not upload_of(runtime, bad).parent.exists()
    assert runtime.wait(runtime.store.position())
    assert client.get(f"/api/v1/imports/{bad['id']}").json()["reason"] == failed.reason


def test_a_stopped_job_keeps_its_file_and_resumes_from_it(
    stopped_runner: Server, client: httpx.Client
) -> None:
    runtime = stopped_runner.runtime
    rows = b"".join(b"C%d,212555%04d\n" % (n, n) for n in range(50))
    job = requested(client, b"client_id,home_phone\n" + rows)
    job_id, upload = uuid.UUID(job["id"]), upload_of(runtime, job)

    stopping = runner(runtime)
    stopping.batch_rows = 10
    stopping.stop()  # before it runs: it starts the job, then stops at its first batch
    assert stopping.run_job(job_id) is None
    running = runtime.store.load(job_id, import_job.project)
    assert running is not None and running.status == "running" and not running.finished
    assert upload.is_file() and mode(upload) == 0o600

    resumed = runner(runtime).run_job(job_id)
    assert resumed is not None and resumed.status == "completed" and resumed.counts.imported == 50
    assert not upload.parent.exists()


def test_a_runner_starting_deletes_the_files_of_jobs_already_over(
    stopped_runner: Server, client: httpx.Client
) -> None:
    """Files an earlier version (or a process stopped at the wrong moment) left behind."""
    runtime = stopped_runner.runtime
    completed, failed = requested(client, FILE), requested(client, b"")
    for job in (completed, failed):
        assert runner(runtime).run_job(uuid.UUID(job["id"])) is not None
        upload = upload_of(runtime, job)
        upload.parent.mkdir()
        upload.write_bytes(FILE)
    kept = upload_of(runtime, completed).parent / "notes.txt"
    kept.write_text("not the upload")
    arriving = runtime.settings.data_dir / "imports" / str(uuid.uuid4()) / "upload"
    arriving.parent.mkdir()
    arriving.write_bytes(FILE)  # no job yet: an upload still arriving

    starting = runner(runtime)
    starting.start()
    try:
        deadline = time.monotonic() + 20
        while upload_of(runtime, completed).exists() or upload_of(runtime, failed).exists():
            assert time.monotonic() < deadline, "the runner did not delete the files of finished jobs"
            time.sleep(0.05)
    finally:
        starting.stop()
    assert not upload_of(runtime, failed).parent.exists()
    assert kept.read_text() == "not the upload"  # the directory keeps what else it holds
    assert arriving.read_bytes() == FILE
