"""The API end to end in Kafka mode, one process per role, as production runs it: the relay,
one worker per projection and a gateway that serves the API only, all on one SQLite event
store and one read-model file, on a real broker. Read-your-writes holds across processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from dialstream.bootstrap import all_projections
from dialstream.settings import Settings
from tests.gateway import helpers as h
from tests.gateway.test_dashboard_stream import STREAM, TIMEOUT, Messages, board_of
from tests.kafka import ROOT, Broker
from tests.kafka_support import kafka_env, kafka_settings

BOOTSTRAP_KEY = "dsk_kafka-mode-test-bootstrap-secret"
WORKERS = tuple(p.name for p in all_projections())


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def describe(self) -> str:
        return f"--- {self.name} (exit {self.popen.poll()}) ---\n{self.output()[-4000:]}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Processes:
    """``dialstream`` subprocesses on one deployment's settings, each logging to a file."""

    def __init__(self, settings: Settings, logs: Path):
        self.env = {
            **os.environ, **kafka_env(settings),
            "DIALSTREAM_BOOTSTRAP_KEY": BOOTSTRAP_KEY, "PYTHONUNBUFFERED": "1",
        }
        self.logs = logs
        self.running: dict[str, Process] = {}

    def start(self, name: str, *args: str) -> Process:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "dialstream.cli", *args],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )
        self.running[name] = Process(name, popen, log)
        return self.running[name]

    def describe(self) -> str:
        return "\n".join(p.describe() for p in self.running.values())

    def kill_the_rest(self) -> None:
        for process in self.running.values():
            if process.popen.poll() is None:
                process.popen.kill()
                process.popen.wait(10)


@contextmanager
def processes(settings: Settings, logs: Path) -> Iterator[Processes]:
    group = Processes(settings, logs)
    try:
        yield group
    finally:
        group.kill_the_rest()


def wait_for_line(process: Process, text: str, timeout: float, group: Processes) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in process.output():
            return
        if process.popen.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"{process.name} never printed {text!r}\n{group.describe()}")


def wait_for_health(base_url: str, gateway: Process, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gateway.popen.poll() is not None:
            raise AssertionError(f"the gateway stopped\n{gateway.describe()}")
        try:
            response = httpx.get(f"{base_url}/healthz", timeout=1.0)
            if response.status_code == 200:
                body: dict[str, object] = response.json()
                return body
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the gateway did not answer /healthz in {timeout} s\n{gateway.describe()}")


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_the_api_on_kafka_with_every_role_in_its_own_process(tmp_path: Path, kafka_broker: Broker) -> None:
    data_dir = tmp_path / "data"
    settings = kafka_settings(data_dir, kafka_broker.bootstrap)
    assert settings.database_url.startswith("sqlite:") and settings.views_url.startswith("sqlite:")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with processes(settings, tmp_path) as group:
        # As compose does it: topics and tables first, once.
        topics = group.start("topics", "topics", "create")
        assert topics.popen.wait(60) == 0, topics.describe()
        assert "\tcreated" in topics.output(), topics.describe()
        # The relay and the workers first: a gateway's first start waits for the read models
        # to show the bootstrap account and key it has just stored.
        relay = group.start("relay", "relay")
        wait_for_line(relay, "dialstream relay: running on kafka://", 60, group)
        for name in WORKERS:
            group.start(name, "worker", name)
        for name in WORKERS:
            wait_for_line(group.running[name], f"dialstream worker {name}: running on kafka://", 60, group)
        gateway = group.start(
            "gateway", "up", "--gateway-only", "--port", str(port), "--data-dir", str(data_dir)
        )
        health = wait_for_health(base_url, gateway, 90)
        assert health["bus"] == settings.bus
        assert health["read_models_position"] == health["log_position"], health
        gateway_output = gateway.output()
        assert BOOTSTRAP_KEY in gateway_output, "the first start issues the bootstrap key"
        assert "read models are behind" not in gateway_output, gateway.describe()

        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}, timeout=30
        ) as admin:
            made = []
            for n in range(3):
                created = h.create(admin, h.LISTS, {"name": f"Kafka list {n} {uuid4().hex[:8]}"})
                # Read-your-writes across processes: stored by the gateway, published by the
                # relay, projected by the workers, and readable at once.
                got = admin.get(f"{h.LISTS}/{created['id']}")
                assert got.status_code == 200, got.text
                assert got.json() == created
                made.append(created)
            renamed = admin.patch(f"{h.LISTS}/{made[0]['id']}", json={"name": "Renamed on Kafka"})
            assert renamed.status_code == 200, renamed.text
            assert h.get(admin, f"{h.LISTS}/{made[0]['id']}").json()["name"] == "Renamed on Kafka"

            hierarchy = h.get(admin, h.HIERARCHY).json()
            unassigned = {item["id"]: item["name"] for item in hierarchy["unassigned_contact_lists"]}
            assert unassigned[made[0]["id"]] == "Renamed on Kafka"
            assert {m["id"] for m in made} <= set(unassigned)
            assert {m["id"] for m in made} <= set(h.ids(admin, h.LISTS))

            # A key issued through the API works at once (the credentials worker applied it).
            issued = admin.post(h.API_KEYS, json={"name": "viewer", "role": "viewer"})
            assert issued.status_code == 201, issued.text
            viewer = httpx.get(
                f"{base_url}{h.LISTS}/{made[1]['id']}",
                headers={"Authorization": f"Bearer {issued.json()['secret']}"}, timeout=30,
            )
            assert viewer.status_code == 200, viewer.text

            # The live dashboard on Kafka: the gateway streams as the workers' read models advance.
            with admin.stream("GET", STREAM, timeout=TIMEOUT) as response:
                assert response.status_code == 200, response.read()
                messages = Messages(response)
                assert board_of(messages.next())["campaign_groups"] == []
                group_id = h.chain(admin)["group"]["id"]
                deadline = time.monotonic() + 30
                shown: set[str] = set()
                while group_id not in shown:
                    assert time.monotonic() < deadline, "the new group never reached the stream"
                    message = messages.next()
                    if "event" in message:  # not a keep-alive comment
                        shown = {g["campaign_group_id"] for g in board_of(message)["campaign_groups"]}

        health = httpx.get(f"{base_url}/healthz", timeout=10).json()
        assert health["read_models_position"] == health["log_position"], health

        # SIGTERM: each process stops cleanly, the gateway first.
        codes = {}
        for name in ("gateway", "relay", *WORKERS):
            process = group.running[name]
            process.popen.send_signal(signal.SIGTERM)
            try:
                codes[name] = process.popen.wait(30)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"{name} did not stop on SIGTERM\n{process.describe()}") from None
        for name, code in codes.items():
            assert code == 0, group.running[name].describe()
        assert "Application shutdown complete" in gateway.output(), gateway.describe()
