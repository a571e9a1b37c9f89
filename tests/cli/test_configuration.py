"""Wrong configuration, a busy port, a missing event store and a locked-out account, met as
a user meets them: ``dialstream`` run as a subprocess. Each refusal is one line on stderr,
exit status 2, no traceback, and nothing written to the data directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, DEFAULT_ACCOUNT_NAME, build
from dialstream.settings import Settings

DIALSTREAM = [sys.executable, "-m", "dialstream.cli"]


def dialstream(
    *args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIALSTREAM_")}
    full = {**clean, "DIALSTREAM_DATA_DIR": str(data_dir), **(env or {})}
    return subprocess.run(
        [*DIALSTREAM, *args], env=full, capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_refused(result: subprocess.CompletedProcess[str], *, starts: str) -> str:
    """Exit status 2 and exactly one line on stderr, beginning with ``starts``; returns it."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith(starts), lines[0]
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DIALSTREAM_BOOTSTRAP_KEY", "abc", "an API key is at least 20 characters"),
        ("DIALSTREAM_DATABASE_URL", "mysql://root:pw@db/dialstream", "'mysql' databases are not supported"),
        ("DIALSTREAM_DATABASE_URL", "not a url", "not a URL"),
        ("DIALSTREAM_PORT", "abc", "'abc' is not a port number"),
        ("DIALSTREAM_VIEWS_URL", "views", "not a URL"),
        ("DIALSTREAM_BUS", "kafka://broker", "'broker' is not HOST:PORT"),
        ("DIALSTREAM_SUPPRESSION_INDEX", "redis:/cache", "no host"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(tmp_path: Path, variable: str, value: str, says: str) -> None:
    data_dir = tmp_path / "data"
    result = dialstream("up", data_dir=data_dir, env={variable: value})
    line = assert_refused(result, starts=f"dialstream: {variable}: ")
    assert says in line
    assert result.stdout == ""
    assert not data_dir.exists()


def test_a_wrong_flag_is_named_by_the_flag(tmp_path: Path) -> None:
    result = dialstream("up", "--port", "99999", data_dir=tmp_path / "data")
    assert_refused(result, starts="dialstream: --port: 99999 is not a port number")
    result = dialstream("accounts", "create", "Acme", "--bus", "kafka:9092", data_dir=tmp_path / "data")
    assert_refused(result, starts="dialstream: --bus: 'kafka:9092' is not a bus")
    assert not (tmp_path / "data").exists()


def test_a_data_directory_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = dialstream("up", data_dir=tmp_path / "a-file" / "data")
    line = assert_refused(result, starts="dialstream: DIALSTREAM_DATA_DIR: cannot create")
    assert f"{tmp_path / 'a-file'} is not a directory" in line


def test_a_data_directory_the_file_system_refuses(tmp_path: Path) -> None:
    # /proc looks writable to root, so only the attempt to create it can tell.
    result = dialstream("up", data_dir=Path("/proc/dialstream-data"))
    assert_refused(result, starts="dialstream: DIALSTREAM_DATA_DIR: cannot create /proc/dialstream-data")


def test_postgresql_that_nobody_listens_on_is_named_at_once(tmp_path: Path) -> None:
    port = free_port()
    started = time.monotonic()
    result = dialstream(
        "up",
        data_dir=tmp_path / "data",
        env={"DIALSTREAM_DATABASE_URL": f"postgresql://dialstream:pw@127.0.0.1:{port}/dialstream"},
    )
    # The pool would give up only after 30 s: anything short of it is the check's own refusal,
    # however long the interpreter takes to start on a loaded machine (18 s once, on two cores).
    assert time.monotonic() - started < 28, "the refusal must come before the pool's 30 s"
    assert_refused(
        result,
        starts=f"dialstream: DIALSTREAM_DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:{port}"
        " — connection refused",
    )
    assert not (tmp_path / "data").exists()


def test_a_busy_port_fails_before_the_banner(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = dialstream("up", "--port", str(port), data_dir=data_dir)
    assert_refused(result, starts=f"dialstream: cannot listen on 127.0.0.1:{port} — address already in use")
    assert result.stdout == "", "no key and no banner for a server that never listened"
    assert not data_dir.exists()


@pytest.mark.parametrize("command", [["events", "tail"], ["replay", "all"], ["api-keys", "issue", "--role", "admin"]])
def test_reading_a_data_directory_without_a_store_creates_none(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nothing-here"
    assert_refused(dialstream(*command, data_dir=missing), starts=f"dialstream: no event store in {missing} (")
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_refused(dialstream(*command, data_dir=empty), starts=f"dialstream: no event store in {empty} (")
    assert not any(empty.iterdir())


def _wait_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("dialstream up did not answer /healthz within 30 s")


def test_an_account_without_an_admin_key_says_how_to_get_one(tmp_path: Path) -> None:
    # What a start with a refused bootstrap key left behind before settings were checked
    # first: the default account, opened, with no key at all.
    runtime = build(Settings(data_dir=tmp_path))
    runtime.handlers.accounts.open_account(DEFAULT_ACCOUNT_NAME, DEFAULT_ACCOUNT_ID)
    runtime.stop()

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALSTREAM_")}
    env.update(DIALSTREAM_DATA_DIR=str(tmp_path), DIALSTREAM_PORT=str(port))
    server = subprocess.Popen(
        [*DIALSTREAM, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_healthy(port, server)
        issued = dialstream("api-keys", "issue", "--role", "admin", "--name", "rescue", data_dir=tmp_path)
        assert issued.returncode == 0, issued.stderr
        assert issued.stdout.splitlines()[0] == f"account {DEFAULT_ACCOUNT_ID}"
        secret = issued.stdout.split("(shown once): ")[1].strip()
        deadline = time.monotonic() + 10
        while True:  # the running server's read models follow the shared event store
            answer = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/settings", headers={"Authorization": f"Bearer {secret}"}
            )
            if answer.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert answer.status_code == 200, answer.text
    finally:
        server.terminate()
        stdout, stderr = server.communicate(timeout=20)
    assert f"account {DEFAULT_ACCOUNT_ID} has no usable admin API key" in stderr
    assert "dialstream api-keys issue --role admin" in stderr
    assert "Bootstrap admin API key" not in stdout
    assert f"Dialstream on http://127.0.0.1:{port}/" in stdout and "Ctrl-C to stop" in stdout


def test_api_keys_issue_picks_the_only_account_and_asks_among_several(tmp_path: Path) -> None:
    runtime = build(Settings(data_dir=tmp_path))  # like `accounts create`: no read model follows
    acme = runtime.handlers.accounts.open_account("Acme").id
    runtime.stop()
    only = dialstream("api-keys", "issue", "--role", "viewer", data_dir=tmp_path)
    assert only.returncode == 0, only.stderr
    assert only.stdout.startswith(f"account {acme}\nviewer API key (shown once): dsk_")

    runtime = build(Settings(data_dir=tmp_path))
    globex = runtime.handlers.accounts.open_account("Globex").id
    runtime.stop()
    line = assert_refused(
        dialstream("api-keys", "issue", "--role", "admin", data_dir=tmp_path),
        starts="dialstream: several accounts; name one with --account: ",
    )
    assert f"{acme} (Acme)" in line and f"{globex} (Globex)" in line
    chosen = dialstream("api-keys", "issue", "--role", "admin", "--account", str(globex), data_dir=tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.startswith(f"account {globex}\n")
    assert_refused(
        dialstream("api-keys", "issue", "--role", "admin", "--account", "acme", data_dir=tmp_path),
        starts="dialstream: --account 'acme' is not an account id",
    )
