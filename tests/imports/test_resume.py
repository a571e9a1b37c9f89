"""Kill ``dialstream up`` in the middle of an import; the restarted process finishes the job,
and the list ends with exactly the records of a clean run, each chain stored once."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from dialstream.bootstrap import build
from dialstream.settings import Settings
from processors.imports.runner import PARALLEL_FROM_BYTES
from schemas.records import RecordChainImported
from tests.imports.support import by_client, new_list, run_import, running

ROWS = 48_000
# A custom column wide enough that the file is over PARALLEL_FROM_BYTES (drafting in worker
# processes) with fewer rows to import twice.
NOTE = "a note long enough to make the file big " * 2
SECRET = "dsk_resume-test-secret-0123456789"


def _file(path: Path) -> Path:
    rng = random.Random(7)
    areas = [212, 312, 303, 602, 213, 907, 808, 404, 617, 206]
    with path.open("w", encoding="utf-8") as out:
        out.write("client_id,home,mobile,a,b\n")
        for n in range(ROWS):
            home = f"{rng.choice(areas)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            mobile = f"{rng.choice(areas)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            bad = "12" if n % 997 == 0 else mobile  # some rejected numbers too
            out.write(f"C{n:07d},{home},{bad},x{n} {NOTE},{n % 13}\n")
    assert path.stat().st_size > PARALLEL_FROM_BYTES
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DIALSTREAM_DATA_DIR": str(data_dir),
        "DIALSTREAM_PORT": str(port),
        "DIALSTREAM_BOOTSTRAP_KEY": SECRET,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "dialstream.cli", "up"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("dialstream up did not start:\n" + log.read_text())


def _job(client: httpx.Client, job_id: str) -> Any:
    response = client.get(f"/api/v1/imports/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_killed_import_resumes_to_the_records_of_a_clean_run(tmp_path: Path) -> None:
    source = _file(tmp_path / "big.csv")
    data_dir, port, log = tmp_path / "killed", _free_port(), tmp_path / "up.log"
    process = _start(data_dir, port, log)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {SECRET}"}, timeout=60
    )
    try:
        created = client.post("/api/v1/contact-lists", json={"name": "resume"})
        assert created.status_code == 201, created.text
        list_id = created.json()["id"]
        with source.open("rb") as file:
            uploaded = client.post(
                f"/api/v1/contact-lists/{list_id}/imports", files={"file": ("big.csv", file)}
            )
        assert uploaded.status_code == 202, uploaded.text
        job_id = uploaded.json()["id"]
        while (job := _job(client, job_id))["progress"] < 0.2:
            assert job["status"] in ("requested", "running"), job
            time.sleep(0.02)
        workers = _children(process.pid)
        assert workers, "a file this size drafts in worker processes"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert 0.2 <= job["progress"] < 0.8, f"the kill must land mid-import, not at {job['progress']}"
        _assert_exit(workers, within=10.0)

        process = _start(data_dir, port, log)
        interrupted = _job(client, job_id)
        assert not interrupted["complete"], "a half-imported list must not be presented as complete"
        deadline = time.monotonic() + 300
        while (job := _job(client, job_id))["status"] not in ("completed", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["status"] == "completed", job
    finally:
        client.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)

    runtime = build(Settings(data_dir=data_dir))
    try:
        resumed = _comparable(by_client(runtime, _uuid(list_id)))
        imported = [
            e.client_id
            for _, e in _events(runtime)
            if isinstance(e, RecordChainImported) and str(e.list_id) == list_id
        ]
    finally:
        runtime.stop()
    assert len(imported) == len(set(imported)), "a chain was stored twice"

    with running(tmp_path / "clean") as clean_runtime:
        clean_list = new_list(clean_runtime)
        clean_job = run_import(clean_runtime, clean_list, source)
        clean = _comparable(by_client(clean_runtime, clean_list))
    assert clean_job.counts == _counts(job)
    assert len(resumed) == len(clean) == len(imported)
    assert resumed == clean


def _children(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                children.append(int(entry))
    return children


def _assert_exit(pids: list[int], within: float) -> None:
    """The drafting workers of a killed process leave by themselves (they are orphans now)."""
    deadline = time.monotonic() + within
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if _running(pid)]
    assert not alive, f"drafting workers {alive} outlived the killed import process"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _uuid(text: str) -> Any:
    from uuid import UUID

    return UUID(text)


def _events(runtime: Any) -> list[Any]:
    events, position = [], 0
    while batch := runtime.store.read(after=position, limit=5000):
        events.extend(batch)
        position = batch[-1][0]
    return events


def _counts(job: Any) -> Any:
    from msgspec import convert

    from schemas.imports import Counts

    return convert(job["counts"], Counts)


def _comparable(chains: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    keep = (
        "chain_n",
        "contact_info",
        "contact_info_type",
        "time_zone",
        "time_zone_rule",
        "second_time_zone",
        "line",
    )
    return {
        client: ([tuple(r[k] for k in keep) for r in records], records[0]["custom"])
        for client, records in chains.items()
    }
