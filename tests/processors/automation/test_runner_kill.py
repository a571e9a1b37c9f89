"""``dialstream up`` SIGKILLed in the middle of an import a list automation run started: the
restarted process resumes the import to every row, the file is not fetched again, and the job
counts one run."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import build
from dialstream.settings import Settings
from dialstream.store import stored_topic_of
from schemas.automation import ListAutomationFileTaken
from schemas.records import RecordChainImported
from tests import sshd
from tests.imports.test_resume import ROWS, SECRET, _file, _free_port, _start

pytestmark = pytest.mark.integration


def _poll(client: httpx.Client, path: str, done: Any, what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(path)
        assert response.status_code == 200, response.text
        body = response.json()
        if done(body):
            return body
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}: {body}"
        time.sleep(0.05)


@pytest.mark.timeout(600)
def test_a_run_whose_import_is_killed_resumes_it_and_fetches_nothing_again(tmp_path: Path) -> None:
    data_dir, port, log = tmp_path / "data", _free_port(), tmp_path / "up.log"
    with sshd.running() as server:
        _file(server.inbox("password") / "big_list.csv")
        process = _start(data_dir, port, log)
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {SECRET}"}, timeout=60
        )
        try:
            created = client.post(
                "/api/v1/list-automations",
                json={
                    "name": "nightly",
                    "schedule": {"kind": "cron", "cron": "0 3 * * *", "time_zone": "UTC"},
                    "source": {
                        "location": f"{server.url}/inbox",
                        "username": server.user("password"),
                        "login": "password",
                        "password": server.password,
                        "host_key": server.host_key_fingerprint(),
                    },
                    "action": {
                        "type": "import_file",
                        "import": {"files": {"operator": "starts_with", "value": "big"}},
                    },
                },
            )
            assert created.status_code == 201, created.text
            job = created.json()["id"]
            assert client.post(f"/api/v1/list-automations/{job}/run").status_code == 202
            runs = _poll(
                client,
                f"/api/v1/list-automations/{job}/activity",
                lambda r: r and r[0]["result"],
                "the run ends",
            )
            assert runs[0]["result"] == "success", runs
            lists = client.get("/api/v1/contact-lists").json()
            (imported_list,) = [each for each in lists if each["name"] == "big_list"]
            imports = f"/api/v1/contact-lists/{imported_list['id']}/imports"
            (started,) = _poll(
                client, imports, lambda jobs: jobs and jobs[0]["progress"] >= 0.2, "the import is under way"
            )
            assert started["status"] == "running" and started["progress"] < 0.8, started
            process.send_signal(signal.SIGKILL)
            process.wait(10)

            process = _start(data_dir, port, log)
            (finished,) = _poll(
                client,
                imports,
                lambda jobs: jobs[0]["status"] in ("completed", "failed"),
                "the import resumes",
                300,
            )
            assert finished["status"] == "completed", finished
            assert not list(server.inbox("password").iterdir()), (
                "the file was deleted once its import was requested"
            )
            after = client.get(f"/api/v1/list-automations/{job}").json()
            assert (after["successes"], after["failures"]) == (1, 0)
            assert len(client.get(f"/api/v1/list-automations/{job}/activity").json()) == 1
        finally:
            client.close()
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)

    runtime = build(Settings(data_dir=data_dir), workers=[])
    try:
        store = runtime.store
        taken = store.read_topics((stored_topic_of(ListAutomationFileTaken),), 0, 100)
        assert [event.file_name for _, event in taken] == ["big_list.csv"], "the file was fetched once"
        chains: list[str] = []
        after_position = 0
        while batch := store.read_topics((stored_topic_of(RecordChainImported),), after_position, 20_000):
            chains += [event.client_id for _, event in batch if isinstance(event, RecordChainImported)]
            after_position = batch[-1][0]
        assert len(chains) == len(set(chains)), "a chain was stored twice"
        assert len(chains) >= ROWS * 0.99  # every row but the few with a rejected number
    finally:
        runtime.stop()
