"""Client commands stay readable: run as a user runs them (a subprocess) against a running
Dialstream, they print their own lines and no library request logs (``HTTP Request: ...``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.gateway import helpers as h
from tests.gateway.conftest import Server, serving

KEY = "dsk_cli_logging_test_key_0000000001"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("dialstream-cli-logging"), bootstrap_key=KEY) as running:
        yield running


def dialstream(*args: str, server: Server) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIALSTREAM_API_KEY": KEY, "DIALSTREAM_URL": server.base_url}
    return subprocess.run(
        [sys.executable, "-m", "dialstream.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lists_import_prints_no_request_logs(server: Server, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}) as admin:
        contact_list = h.contact_list(admin)
    path = tmp_path / "records.csv"
    path.write_text("client_id,phone\nC1,(212) 555-0101\nC2,(212) 555-0102\n", encoding="utf-8")
    result = dialstream("lists", "import", str(path), "--list", contact_list["id"], server=server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "completed" in result.stdout
    assert "HTTP Request:" not in result.stderr, result.stderr
    assert " INFO " not in result.stderr, result.stderr


def test_records_dialability_prints_no_request_logs(server: Server) -> None:
    result = dialstream("records", "dialability", str(uuid4()), server=server)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "HTTP Request:" not in result.stderr
