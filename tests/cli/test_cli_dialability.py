"""``dialstream records dialability RECORD_ID``, run as a user runs it (a subprocess) against a
running server: a real Dialstream on a temporary data dir, served by uvicorn, whose pre-dial
gate has its clock stopped at ``NOW`` (Tuesday 2026-03-10 13:00 UTC: 09:00 in New York,
inside the default calling hours; 06:00 in Los Angeles, outside them until 08:00 PDT)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from dialstream.bootstrap import Runtime
from domain.record_chain import chain_id, record_id
from processors.compliance.predial import PreDialValidator
from tests.gateway import helpers as h
from tests.gateway.conftest import serving

NOW = datetime(2026, 3, 10, 13, tzinfo=UTC)
KEY = "dsk_cli_dialability_test_key_000001"
FILE = "client_id,phone,mobile,record_type\nNY,(212) 555-0101,(213) 555-0102,2\nNOCALL,(212) 555-0104,,7\n"


@dataclass
class Running:
    runtime: Runtime
    url: str
    list_id: str
    group: dict[str, Any]


def _import(client: httpx.Client, list_id: str, text: str, **form: str) -> None:
    response = client.post(
        f"{h.LISTS}/{list_id}/imports", files={"file": ("records.csv", text.encode(), "text/csv")}, data=form
    )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(response.headers["Location"]).json()
        if job["status"] in ("completed", "failed"):
            assert job["status"] == "completed", job
            return
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with serving(tmp_path_factory.mktemp("dialstream-cli-dialability"), bootstrap_key=KEY) as running:
        runtime = running.runtime
        built = runtime.predial
        assert built is not None
        runtime.predial = PreDialValidator(built.index, built.lists, built.settings, clock=lambda: NOW)
        with httpx.Client(
            base_url=running.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
        ) as admin:
            h.create(admin, h.DIALING, {"name": "Default dialing"})
            h.create(admin, h.SESSION, {"name": "Default session", "settings": {"agent_group": "Agents"}})
            made = h.chain(admin)
            assert admin.post(f"{h.GROUPS}/{made['group']['id']}/start").status_code == 200
            _import(admin, made["list"]["id"], FILE)
        yield Running(runtime, running.base_url, made["list"]["id"], made["group"])


def rid(list_id: str, client_id: str, n: int = 1) -> str:
    return str(record_id(chain_id(UUID(list_id), client_id), n))


def dialstream(*args: str, url: str, key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("DIALSTREAM_API_KEY", None)
    if key is not None:
        env["DIALSTREAM_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "dialstream.cli", "records", "dialability", *args, "--url", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_dialable_record_exits_0(server: Running) -> None:
    result = dialstream(rid(server.list_id, "NY", 1), url=server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"record {rid(server.list_id, 'NY', 1)}: +12125550101 (position 1 of client id 'NY'"
    )
    assert lines[1] == (
        "dialable now (checked Tue 2026-03-10 09:00 EDT in America/New_York (Tue 2026-03-10 13:00 UTC))"
    )
    assert lines[2:] == ["campaign groups:", f"  {server.group['name']!r} (running): may dial it now"]


def test_outside_hours_exits_1_with_the_reason_and_the_next_allowed_time(server: Running) -> None:
    result = dialstream(rid(server.list_id, "NY", 2), url=server.url)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("NOT dialable now (checked Tue 2026-03-10 06:00 PDT in America/Los_Angeles")
    assert lines[2].startswith("  - outside_hours: it is Tuesday 2026-03-10 06:00 PDT in America/Los_Angeles")
    assert lines[3] == (
        "next allowed: Tue 2026-03-10 08:00 PDT in America/Los_Angeles (Tue 2026-03-10 15:00 UTC)"
    )
    assert lines[5] == (
        f"  {server.group['name']!r} (running): blocked by outside_hours; next allowed "
        "Tue 2026-03-10 08:00 PDT in America/Los_Angeles (Tue 2026-03-10 15:00 UTC)"
    )


def test_a_reason_that_never_lifts_says_so(server: Running) -> None:
    result = dialstream(rid(server.list_id, "NOCALL"), url=server.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "  - record_type_not_dialable: record type 7 (no call) is never dialled" in result.stdout
    assert "next allowed: not by waiting" in result.stdout
    assert "blocked by record_type_not_dialable; no known end" in result.stdout


def test_json_prints_the_api_answer_and_group_picks_one_group(server: Running) -> None:
    record = rid(server.list_id, "NY", 2)
    result = dialstream(record, "--json", "--group", server.group["id"], url=server.url)
    assert result.returncode == 1, result.stderr
    body = json.loads(result.stdout)
    assert body["record_id"] == record and body["dialable_now"] is False
    assert body["next_allowed"] == "2026-03-10T15:00:00Z"
    assert [g["campaign_group_id"] for g in body["groups"]] == [server.group["id"]]


def test_errors_exit_2(server: Running, tmp_path: Path) -> None:
    unknown = dialstream(str(uuid4()), url=server.url)
    assert unknown.returncode == 2 and "404" in unknown.stderr and "not found" in unknown.stderr
    assert unknown.stdout == ""
    as_json = dialstream(str(uuid4()), "--json", url=server.url)
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["status"] == 404

    not_an_id = dialstream("12345", url=server.url)
    assert not_an_id.returncode == 2 and "not a record id" in not_an_id.stderr
    bad_group = dialstream(rid(server.list_id, "NY", 1), "--group", "x", url=server.url)
    assert bad_group.returncode == 2 and "--group" in bad_group.stderr
    missing_group = dialstream(rid(server.list_id, "NY", 1), "--group", str(uuid4()), url=server.url)
    assert missing_group.returncode == 2 and "campaign group" in missing_group.stderr

    no_key = dialstream(rid(server.list_id, "NY", 1), url=server.url, key=None)
    assert no_key.returncode == 2 and "DIALSTREAM_API_KEY" in no_key.stderr
    wrong_key = dialstream(rid(server.list_id, "NY", 1), url=server.url, key="dsk_" + "x" * 43)
    assert wrong_key.returncode == 2 and "401" in wrong_key.stderr

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    unreachable = dialstream(rid(server.list_id, "NY", 1), url=closed)
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr


def test_a_deleted_record_exits_2_saying_so(server: Running) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as admin:
        contacts = h.contact_list(admin)
        _import(admin, contacts["id"], FILE)
        _import(
            admin, contacts["id"], "client_id,phone\nOTHER,(212) 555-0150\n", append_type="flush_and_append"
        )
    result = dialstream(rid(contacts["id"], "NY", 1), url=server.url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "deleted" in result.stderr and "flush and append" in result.stderr
