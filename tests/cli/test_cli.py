"""The dialstream command, run as a user runs it: a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from schemas.registry import ALL_EVENTS

DIALSTREAM = [sys.executable, "-m", "dialstream.cli"]


def run(*args: str, data_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIALSTREAM_DATA_DIR": str(data_dir)}
    return subprocess.run([*DIALSTREAM, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_help_explains_every_command(tmp_path: Path) -> None:
    top = run("--help", data_dir=tmp_path)
    assert top.returncode == 0
    for command in ("up", "replay", "schemas", "events", "accounts", "api-keys"):
        assert command in top.stdout
    for args, words in (
        (("up", "--help"), "bootstrap admin API key"),
        (("replay", "--help"), "progress bar"),
        (("schemas", "export", "--help"), "JSON Schema"),
        (("events", "tail", "--help"), "following the log"),
        (("api-keys", "issue", "--help"), "no usable admin key"),
    ):
        result = run(*args, data_dir=tmp_path)
        assert result.returncode == 0, result.stderr
        assert words in " ".join(result.stdout.split()), result.stdout


def test_schemas_export_writes_one_schema_per_event(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    result = run("schemas", "export", str(out), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.json"))
    assert len(files) == len(ALL_EVENTS)
    document = json.loads((out / "campaign_group.started.v1.json").read_text())
    assert document["x-topic"] == "campaigns"


def test_accounts_events_tail_and_replay(tmp_path: Path) -> None:
    created = run("accounts", "create", "Acme", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "admin API key" in created.stdout
    tail = run("events", "tail", "--no-follow", data_dir=tmp_path)
    assert tail.returncode == 0, tail.stderr
    lines = tail.stdout.strip().splitlines()
    assert [line.split("\t")[2] for line in lines] == ["account.opened", "account.api_key_issued"]
    assert json.loads(lines[0].split("\t")[5])["settings"]["general"]["account_name"] == "Acme"
    rebuilt = run("replay", "all", "--quiet", data_dir=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "hierarchy: rebuilt to log position 2" in rebuilt.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(tmp_path: Path, port: int, key: str | None) -> subprocess.Popen[str]:
    env = {**os.environ, "DIALSTREAM_DATA_DIR": str(tmp_path), "DIALSTREAM_PORT": str(port)}
    env.pop("DIALSTREAM_BOOTSTRAP_KEY", None)
    if key:
        env["DIALSTREAM_BOOTSTRAP_KEY"] = key
    return subprocess.Popen([*DIALSTREAM, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("dialstream up did not answer /healthz within 30 s")


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    output, _ = process.communicate(timeout=20)
    return output


def test_up_prints_a_bootstrap_key_once_and_serves(tmp_path: Path) -> None:
    port = _free_port()
    key = "dsk_scripted_bootstrap_key_000001"
    first = _start(tmp_path, port, key)
    try:
        _wait_healthy(port, first)
        settings = httpx.get(f"http://127.0.0.1:{port}/api/v1/settings",
                             headers={"Authorization": f"Bearer {key}"}, timeout=5)
        assert settings.status_code == 200
        assert settings.json()["settings"]["general"]["account_name"] == "Default account"
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "Dialstream" in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/static/dashboard.js", timeout=5).status_code == 200
    finally:
        output = _stop(first)
    assert key in output
    assert f"Dialstream on http://127.0.0.1:{port}/" in output and "Ctrl-C to stop" in output
    second = _start(tmp_path, port, None)
    try:
        _wait_healthy(port, second)
    finally:
        output = _stop(second)
    assert "Bootstrap admin API key" not in output
