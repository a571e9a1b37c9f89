"""Two ``dialstream worker imports`` processes on Kafka, over one store and one shared data
directory: the worker that claimed a job is SIGKILLed in the middle of it, the other takes the
job over once the dead worker's lease has lapsed and ends it with exactly the file's chains —
none lost, none written twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dialstream.bootstrap import IMPORTS, all_projections, build, ensure_bootstrap_key
from dialstream.store import stored_topic_of
from domain import import_job, record_chain
from domain.import_job import ImportJob
from schemas.imports import ImportStarted
from schemas.records import RecordChainImported
from tests.imports.support import new_list, request
from tests.kafka import Broker
from tests.kafka_support import kafka_env, kafka_settings

ROWS = 100_000
LEASE_S = 60  # ImportRunner's default: a silent runner keeps its job this long


def _file(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("client_id,phone\n")
        for n in range(ROWS):
            out.write(f"C{n:06d},(312) {200 + n // 10_000:03d}-{n % 10_000:04d}\n")
    return path


def _wait_for(what: str, check: Callable[[], bool], logs: list[Path], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what + "".join(f"\n{log}:\n{log.read_text()[-3000:]}" for log in logs)
        time.sleep(0.1)


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_a_killed_import_worker_loses_and_doubles_nothing(tmp_path: Path, kafka_broker: Broker) -> None:
    source = _file(tmp_path / "contacts.csv")
    settings = kafka_settings(tmp_path / "data", kafka_broker.bootstrap)
    # This process relays and keeps the read models; the import runners are the two workers.
    runtime = build(settings, workers=[projection.name for projection in all_projections()])
    assert IMPORTS not in runtime.services
    env = {**os.environ, **kafka_env(settings)}
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "dialstream.cli", "worker", "imports"],
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        runtime.start()
        ensure_bootstrap_key(runtime)
        list_id = new_list(runtime)
        job_id = request(runtime, list_id, source)

        def job() -> ImportJob:
            state = runtime.store.load(job_id, import_job.project)
            assert state is not None
            return state

        _wait_for("no worker got a tenth of the way", lambda: job().counts.rows >= ROWS // 10, logs, 120)
        claimed = job()
        holder = next(w for w in workers if f":{w.pid}:" in claimed.runner)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        killed_at = time.monotonic()
        assert job().counts.rows < ROWS, "the kill must land in the middle of the job"

        _wait_for("the other worker did not finish the job", lambda: job().finished, logs, LEASE_S + 180)
        taken_over_after = time.monotonic() - killed_at
        time.sleep(2.0)  # long enough for a second write of anything to show
        ended = job()
        claims = [e.runner for e in runtime.store.events.get(job_id) if isinstance(e, ImportStarted)]
        imported = [
            event.originator_id
            for _, event in runtime.store.read_topics([stored_topic_of(RecordChainImported)], after=0, limit=2 * ROWS)
            if isinstance(event, RecordChainImported)
        ]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(60)
        runtime.stop()

    assert ended.status == "completed", ended.reason
    assert (ended.counts.rows, ended.counts.imported, ended.counts.rejected) == (ROWS, ROWS, 0)
    survivor = next(w for w in workers if w is not holder)
    assert [c.split(":")[1] for c in claims] == [str(holder.pid), str(survivor.pid)]
    assert taken_over_after >= LEASE_S - 5, "a live runner's job is not taken from it"
    assert len(imported) == len(set(imported)) == ROWS, "every chain written exactly once"
    assert set(imported) == {record_chain.chain_id(list_id, f"C{n:06d}") for n in range(ROWS)}
