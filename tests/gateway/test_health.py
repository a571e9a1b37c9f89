"""/healthz tells the truth: each dependency with a status and a reason, 503 while one the
server needs is down; and pre-dial denials name the real cause when the Redis suppression
index is unreachable, not a rebuild that is not happening.

The Redis tests run ``dialstream up`` as a subprocess against a real Redis
(``tests/redis.py``), stop Redis by its pid and start it again on the same port."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import DIALER, LIST_AUTOMATION, SERVICES, SUPPRESSION_EXPIRY
from gateway.health import (
    LAG_TOLERANCE,
    Answer,
    Check,
    FollowerState,
    Readiness,
    bus_check,
    index_check,
    probe,
    processors_check,
    public_address,
    read_models_check,
    store_check,
)
from processors.host.lifecycle import Health
from processors.suppression.redis_index import RedisSuppressionIndex
from tests import redis
from tests.imports.support import running
from tests.redis import ROOT

CHECKS = {"store", "read_models", "suppression_index", "bus", "processors"}
KEY = "dsk_health-test-bootstrap-key-0001"
VALIDATE = "/api/v1/compliance/validate"
LISTS = "/api/v1/suppression-lists"
REQUEST = {"contact_info": "+13125550143", "client_id": "C1", "time_zone": "America/Chicago"}


# -- the verdicts ----------------------------------------------------------------------------


def test_the_worst_check_decides_and_only_unavailable_is_a_503() -> None:
    ok, degraded, down = Check("ok", "fine"), Check("degraded", "behind"), Check("unavailable", "down")
    assert Readiness({"a": ok, "b": ok}, 1, 1).status == "ok"
    assert (
        Readiness({"a": ok, "b": degraded}, 1, 1).status,
        Readiness({"a": degraded}, 1, 1).http_status,
    ) == (
        "degraded",
        200,
    )
    mixed = Readiness({"a": degraded, "b": down, "c": ok}, 1, 1)
    assert (mixed.status, mixed.http_status) == ("unavailable", 503)


def test_an_unreachable_index_is_unavailable_with_its_own_reason() -> None:
    reason = "the suppression index in Redis at 127.0.0.1:6390 is unreachable: connection refused"
    check = index_check("redis://127.0.0.1:6390/0", Answer(problem=reason), 10, FollowerState(False, None))
    assert (check.status, check.reason) == ("unavailable", reason)
    assert check.facts["index"] == "redis://127.0.0.1:6390/0"


@pytest.mark.parametrize(
    ("position", "head", "follower", "status", "words"),
    [
        (None, 10, FollowerState(False, None), "degraded", "not built yet (this process builds it)"),
        (None, 10, None, "degraded", "the suppression-index worker builds it"),
        (None, 10, None, "degraded", "does not host the suppression-index follower"),
        (
            4,
            10,
            FollowerState(False, None),
            "degraded",
            "being rebuilt from the event log (at position 4 of 10)",
        ),
        (
            4,
            10,
            FollowerState(True, "OperationalError: disk I/O error"),
            "degraded",
            "cannot follow the event log",
        ),
        (
            10,
            10 + LAG_TOLERANCE + 1,
            FollowerState(True, None),
            "degraded",
            f"{LAG_TOLERANCE + 1} events behind",
        ),
        (9, 10, FollowerState(True, None), "ok", "1 event behind the log head, catching up"),
        (10, 10, FollowerState(True, None), "ok", "answering, up to date"),
        (10, 10, None, "ok", "answering, up to date"),
    ],
)
def test_an_index_being_built_or_behind_is_degraded(
    position: int | None, head: int, follower: FollowerState | None, status: str, words: str
) -> None:
    adapter = "redis://127.0.0.1:6390/0" if "worker builds it" in words else "embedded"
    check = index_check(adapter, Answer(value=position), head, follower)
    assert check.status == status, check
    assert words in check.reason, check


def test_read_models_lag_and_a_failing_bus() -> None:
    assert read_models_check(Answer(value=10), 10, None).status == "ok"
    behind = read_models_check(Answer(value=10), 11 + LAG_TOLERANCE, None)
    assert (behind.status, behind.facts["lag"]) == ("degraded", LAG_TOLERANCE + 1)
    stuck = read_models_check(Answer(value=10), 12, "delivery of the event log is failing: boom")
    assert stuck.status == "unavailable" and "boom" in stuck.reason
    unknown = read_models_check(Answer(value=10), None, None)
    assert unknown.status == "degraded" and unknown.facts["lag"] is None
    assert bus_check(running=False, error=None).status == "unavailable"
    assert bus_check(running=None, error="KafkaConnectionError: broker down").status == "unavailable"
    assert bus_check(running=True, error=None).status == "ok"
    down = store_check(Answer(problem="the event store did not answer within 2 s"), 2000)
    assert (down.status, down.reason) == ("unavailable", "the event store did not answer within 2 s")


def test_a_failing_or_stopped_processor_is_degraded_and_named() -> None:
    working = Health("compliance", running=True, failures=0, error=None, last_success=1_800_000_000.0)
    failing = Health(
        "imports", running=True, failures=3, error="OperationalError: database is locked", last_success=None
    )
    stopped = Health("retention", running=False, failures=0, error=None, last_success=None)

    assert processors_check([]).status == "ok"
    ok = processors_check([working])
    assert (ok.status, ok.reason) == ("ok", "running: compliance")
    assert ok.facts["processors"]["compliance"]["last_success"] == "2027-01-15T08:00:00+00:00"
    bad = processors_check([working, failing, stopped])
    assert bad.status == "degraded"
    assert bad.reason == (
        "work waits until they recover: imports: OperationalError: database is locked "
        "(3 failed rounds in a row); retention: stopped"
    )
    assert bad.facts["processors"]["imports"] == {
        "running": True,
        "failures": 3,
        "error": "OperationalError: database is locked",
        "last_success": None,
    }


def test_addresses_are_shown_without_passwords() -> None:
    assert public_address("redis://:s3cret@10.0.0.5:6379/0") == "redis://:***@10.0.0.5:6379/0"
    assert public_address("redis://app:s3cret@redis:6379/1?password=x") == "redis://app:***@redis:6379/1"
    assert public_address("redis://127.0.0.1:6390/0") == "redis://127.0.0.1:6390/0"
    assert public_address("embedded") == "embedded"


def test_a_dependency_that_hangs_is_reported_within_the_deadline(tmp_path: Path) -> None:
    """A Redis that accepts connections and never answers (the kernel's backlog does the
    accepting): the index's own timeout is 5 s, the check's answer comes at its deadline."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        url = f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
        with running(tmp_path) as runtime:
            silent = dataclasses.replace(
                runtime,
                settings=dataclasses.replace(runtime.settings, suppression_index=url),
                suppression_index=RedisSuppressionIndex(url),
                services={},
            )
            started = time.monotonic()
            readiness = probe(silent, timeout=0.5)
            elapsed = time.monotonic() - started
    assert elapsed < 1.5, elapsed
    index = readiness.checks["suppression_index"]
    assert (index.status, index.reason) == (
        "unavailable",
        f"the suppression index ({url}) did not answer within 0.5 s",
    )
    assert readiness.checks["store"].status == "ok"
    assert (readiness.status, readiness.http_status) == ("unavailable", 503)


# -- the embedded server of the gateway tests ------------------------------------------------


def test_healthz_reports_every_dependency(base_url: str, admin: httpx.Client) -> None:
    response = httpx.get(f"{base_url}/healthz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok", body
    assert set(body["checks"]) == CHECKS
    for name, check in body["checks"].items():
        assert check["status"] == "ok", (name, check)
        assert isinstance(check["reason"], str) and check["reason"], (name, check)
    assert body["checks"]["suppression_index"]["index"] == "embedded"
    assert body["checks"]["read_models"]["position"] == body["read_models_position"]
    assert body["checks"]["store"]["log_position"] == body["log_position"]
    # `up` hosts every processor; the tests' server all but the dialer, the list automation
    # worker and the suppression expiry sweep (see conftest.serving).
    hosted = body["checks"]["processors"]["processors"]
    assert set(hosted) == set(SERVICES) - {DIALER, LIST_AUTOMATION, SUPPRESSION_EXPIRY}, hosted
    assert all(p["running"] and p["error"] is None for p in hosted.values()), hosted


# -- a real Redis, stopped and started -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Up:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def health(self) -> httpx.Response:
        return httpx.get(f"{self.base_url}/healthz", timeout=10)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base_url}{path}", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
        )
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer

    def validate(self) -> dict[str, Any]:
        return self.post(VALIDATE, REQUEST)

    def suppress_the_number(self) -> None:
        """A required voice list holding the number validated, so every verdict asks the index."""
        dnc = self.post(LISTS, {"name": "DNC", "channel": "voice", "required": True, "retention_days": 90})
        added = self.post(
            f"{LISTS}/{dnc['id']}/entries", {"entries": [{"kind": "phone", "value": REQUEST["contact_info"]}]}
        )
        assert added["added"] == 1, added

    def wait_for(
        self, wanted: Callable[[httpx.Response], bool], what: str, timeout: float = 30
    ) -> httpx.Response:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"dialstream up stopped\n{self.output()}"
            try:
                response = self.health()
            except httpx.HTTPError as error:
                last = error
            else:
                if wanted(response):
                    return response
                last = response.text
            time.sleep(0.2)
        raise AssertionError(f"/healthz never {what} in {timeout} s; last: {last}\n{self.output()}")


@contextmanager
def dialstream_up(data_dir: Path, suppression_index: str) -> Iterator[Up]:
    port = _free_port()
    env = {
        **os.environ,
        "DIALSTREAM_DATA_DIR": str(data_dir),
        "DIALSTREAM_HOST": "127.0.0.1",
        "DIALSTREAM_PORT": str(port),
        "DIALSTREAM_BOOTSTRAP_KEY": KEY,
        "DIALSTREAM_SUPPRESSION_INDEX": suppression_index,
        "PYTHONUNBUFFERED": "1",
    }
    log = data_dir.parent / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dialstream.cli", "up"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Up(f"http://127.0.0.1:{port}", process, log)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _is(status: int) -> Callable[[httpx.Response], bool]:
    return lambda response: response.status_code == status


def _index_ok(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.json()["checks"]["suppression_index"]["status"] == "ok"


def _all_ok(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.json()["status"] == "ok"


def _assert_index_down(up: Up, address: str) -> None:
    response = up.wait_for(_is(503), "answered 503")
    body = response.json()
    assert body["status"] == "unavailable", body
    index = body["checks"]["suppression_index"]
    assert index["status"] == "unavailable", body
    assert "Redis" in index["reason"] and "unreachable" in index["reason"] and address in index["reason"], (
        index
    )
    # Only the index is down: the rest of the server answers.
    for name in ("store", "read_models", "bus"):
        assert body["checks"][name]["status"] == "ok", (name, body)
    assert isinstance(body["log_position"], int) and body["bus"] == "embedded"

    verdict = up.validate()
    assert verdict["allowed"] is False
    reason = verdict["reasons"][0]
    assert reason["code"] == "index_unavailable", verdict
    assert "unreachable" in reason["text"] and address in reason["text"], reason
    assert "connection refused" in reason["text"], reason
    assert "rebuilt" not in reason["text"], reason


def _assert_index_answers(up: Up) -> None:
    up.wait_for(_index_ok, "reported the index ok")
    # The index follower reports its own health from its last round: after an outage it is
    # healthy again at its first round past the back-off, a few seconds after the index is.
    body = up.wait_for(_all_ok, "reported every check ok").json()
    assert body["checks"]["processors"]["status"] == "ok", body
    deadline = time.monotonic() + 10
    while True:  # the index applies the entry within the follower's lag
        verdict = up.validate()
        codes = [reason["code"] for reason in verdict["reasons"]]
        if "suppressed" in codes or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert verdict["allowed"] is False and codes[0] == "suppressed", verdict
    assert "index_unavailable" not in codes, verdict


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_redis_stopped_under_a_running_server_is_a_503_naming_it(tmp_path: Path) -> None:
    with redis.running() as server:
        address = server.url.removeprefix("redis://").removesuffix("/0")
        with dialstream_up(tmp_path / "data", server.url) as up:
            up.wait_for(_index_ok, "reported the index ok")
            up.suppress_the_number()
            _assert_index_answers(up)
            assert up.health().json()["checks"]["suppression_index"]["index"] == server.url

            server.stop()
            _assert_index_down(up, address)

            server.start()  # same port, same data
            _assert_index_answers(up)
            assert up.health().status_code == 200


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_a_server_started_while_redis_is_down_says_unreachable_not_rebuilding(tmp_path: Path) -> None:
    with redis.running() as server:
        address = server.url.removeprefix("redis://").removesuffix("/0")
        server.stop()
        with dialstream_up(tmp_path / "data", server.url) as up:
            # The index has never caught up here; the cause is still Redis, not a rebuild.
            _assert_index_down(up, address)
            up.suppress_the_number()  # stored in the log; the index gets it when Redis is back

            server.start()  # an empty Redis: the server builds the index from the log
            _assert_index_answers(up)
