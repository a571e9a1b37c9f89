"""Two compliance workers on one Kafka stream — ``dialstream up`` and ``dialstream worker
compliance`` — share the partitions; the worker is SIGKILLed in the middle of an import's
marking, the other takes its partitions over and finishes: every matching chain gets exactly
one ``record_chain.suppressed``, none is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dialstream.store import EventStore, store_env
from domain import record_chain
from schemas.records import RecordChainSuppressed
from tests import redis
from tests.imports.test_resume import SECRET, _free_port
from tests.kafka import Broker
from tests.kafka_support import kafka_env, kafka_settings
from tests.processors.compliance.test_compliance_crash import (
    ROWS,
    _file,
    _log,
    _suppressed_count,
    suppress_and_import,
)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dialstream.cli", *args], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _wait_for(what: str, check: Callable[[], bool], log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}:\n{log.read_text()[-5000:]}"
        time.sleep(0.1)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_a_killed_compliance_worker_loses_and_doubles_nothing(tmp_path: Path, kafka_broker: Broker) -> None:
    source = _file(tmp_path / "contacts.csv")
    expected = ROWS // 2
    with redis.running() as server:
        settings = kafka_settings(tmp_path / "data", kafka_broker.bootstrap)
        port = _free_port()
        env = {
            **os.environ,
            **kafka_env(settings),
            "DIALSTREAM_SUPPRESSION_INDEX": server.url,
            "DIALSTREAM_PORT": str(port),
            "DIALSTREAM_BOOTSTRAP_KEY": SECRET,
        }
        events_file = Path(settings.database_url.removeprefix("sqlite:///"))
        up_log, worker_log = tmp_path / "up.log", tmp_path / "worker.log"
        up = _spawn(["up"], env, up_log)
        worker: subprocess.Popen[bytes] | None = None
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {SECRET}"})
        try:
            _wait_for("dialstream up did not start", lambda: up.poll() is None and _healthy(port), up_log)
            worker = _spawn(["worker", "compliance"], env, worker_log)
            # Both members hold partitions once the group has rebalanced around the worker.
            _wait_for(
                "the worker did not join the compliance group",
                lambda: "compliance: assigned" in worker_log.read_text(),
                worker_log,
            )
            list_id = suppress_and_import(client, source, "kafka kill")

            _wait_for(
                "compliance did not start marking",
                lambda: _suppressed_count(events_file) >= expected // 4,
                up_log,
                timeout=300,
            )
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            at_kill = _suppressed_count(events_file)
            assert at_kill < expected, "the kill must land in the middle of the marking"
            _wait_for(
                "the remaining worker did not finish the marking",
                lambda: _suppressed_count(events_file) >= expected,
                up_log,
                timeout=300,
            )
            time.sleep(2.0)  # long enough for a repeated batch to show
        finally:
            client.close()
            for process in (worker, up):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(60)
    store = EventStore(store_env(settings.database_url))
    try:
        logged = _log(store)
        partitions = store.tracked_under("compliance@records/")
    finally:
        store.close()
    suppressed = [e.originator_id for _, e in logged if isinstance(e, RecordChainSuppressed)]
    assert len(suppressed) == len(set(suppressed)) == expected, "each matching chain suppressed exactly once"
    assert set(suppressed) == {record_chain.chain_id(list_id, f"C{n:06d}") for n in range(0, ROWS, 2)}
    assert len(partitions) == 12, "every records partition was handled and tracked"
    assert "compliance: assigned" in worker_log.read_text()
