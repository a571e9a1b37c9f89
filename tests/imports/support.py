"""Running imports in tests: a real embedded runtime, files written by the tests."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, Runtime, build, ensure_bootstrap_key
from dialstream.handlers.imports import ImportOptions
from dialstream.settings import Settings
from dialstream.store import EventStore
from domain import import_job
from domain.contact_list import CreateContactList
from domain.import_job import ImportJob
from processors.imports.runner import ImportRunner
from schemas.lists import ContactListSettings


@contextmanager
def running(data_dir: Path, **settings: Any) -> Iterator[Runtime]:
    runtime = build(Settings(data_dir=data_dir, **settings))
    try:
        ensure_bootstrap_key(runtime)
        runtime.start()
        yield runtime
    finally:
        runtime.stop()


def new_list(runtime: Runtime, settings: ContactListSettings | None = None, name: str | None = None) -> UUID:
    command = CreateContactList(
        name=name or f"list {uuid.uuid4().hex[:8]}", settings=settings or ContactListSettings()
    )
    done = runtime.handlers.lists.create(DEFAULT_ACCOUNT_ID, command)
    assert runtime.wait(done.position)
    return done.id


def request(
    runtime: Runtime,
    list_id: UUID,
    source: Path,
    account_id: UUID = DEFAULT_ACCOUNT_ID,
    *,
    entries: bool = False,
    **options: Any,
) -> UUID:
    """Put ``source`` where an upload would land and request its import (into a suppression
    list when ``entries``)."""
    job_id = uuid.uuid4()
    stored = Path("imports") / str(job_id) / "upload"
    (runtime.settings.data_dir / stored).parent.mkdir(parents=True)
    shutil.copyfile(source, runtime.settings.data_dir / stored)
    requested = runtime.handlers.imports.request_suppression_import if entries else runtime.handlers.imports.request_import
    requested(
        account_id,
        list_id,
        job_id=job_id,
        file_name=source.name,
        stored_as=str(stored),
        size=source.stat().st_size,
        options=ImportOptions(**options),
    )
    return job_id


def finished(runtime: Runtime, job_id: UUID, timeout: float = 120.0) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = runtime.store.load(job_id, import_job.project)
        if job is not None and job.finished:
            assert runtime.wait(runtime.store.position(), 60.0)
            return job
        time.sleep(0.05)
    raise AssertionError(f"import job {job_id} did not finish within {timeout} s")


def run_import(runtime: Runtime, list_id: UUID, source: Path, **options: Any) -> ImportJob:
    return finished(runtime, request(runtime, list_id, source, **options))


def records(runtime: Runtime, list_id: UUID) -> list[dict[str, Any]]:
    return list(runtime.records.iterate(list_id))


def by_client(runtime: Runtime, list_id: UUID) -> dict[str, list[dict[str, Any]]]:
    chains: dict[str, list[dict[str, Any]]] = {}
    for record in records(runtime, list_id):
        chains.setdefault(record["client_id"], []).append(record)
    return chains


def rejections(runtime: Runtime, job_id: UUID) -> list[tuple[int, str, str, str]]:
    return list(runtime.import_jobs.rejections(job_id))


def write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


class StopsAfter:
    """The event store as a runner sees it that stops (or dies: it writes no more) once it has
    stored ``batches`` more times; set ``runner`` to the runner it stops."""

    def __init__(self, store: EventStore, batches: int):
        self.store = store
        self.batches = batches
        self.runner: ImportRunner | None = None

    def append_stored(self, *args: Any, **kwargs: Any) -> int:
        position = self.store.append_stored(*args, **kwargs)
        self.batches -= 1
        if self.batches == 0 and self.runner is not None:
            self.runner.stop(timeout=0)
        return position

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)
