"""The client commands (``lists import``, ``suppression import``, ``records dialability``) run as a
user runs them, a subprocess, against a server that is not there, one that refuses, one that
drops the connection while a job is followed, and a real Dialstream (for the progress bars,
read from a pseudo-terminal since bars are only drawn on one)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.gateway import helpers as h
from tests.gateway.conftest import Server, serving
from tests.gateway.test_suppression_lists import suppression_list

KEY = "dsk_cli_client_test_key_0000000001"
DIALSTREAM = [sys.executable, "-m", "dialstream.cli"]
ROWS = 20_000  # tqdm's set_postfix shows it as "2e+4"


def _environment(key: str | None = KEY) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DIALSTREAM_API_KEY", "DIALSTREAM_URL")
    }
    if key is not None:
        env["DIALSTREAM_API_KEY"] = key
    return env


def dialstream(*args: str, key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DIALSTREAM, *args], env=_environment(key), capture_output=True, text=True, timeout=60, check=False
    )


def on_a_terminal(*args: str, timeout: float = 120) -> tuple[int, str, str]:
    """Run ``dialstream ARGS`` with stderr on a pseudo-terminal; its exit status, stdout and
    what the terminal showed."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    shown = bytearray()
    with subprocess.Popen(
        [*DIALSTREAM, *args],
        env=_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    ) as process:
        os.close(terminal)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not select.select([controller], [], [], 1.0)[0]:
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        else:
            process.kill()
            raise AssertionError(f"dialstream {' '.join(args)} did not end within {timeout} s")
        assert process.stdout is not None
        stdout = process.stdout.read()
        status = process.wait(timeout=10)
    os.close(controller)
    return status, stdout, shown.decode(errors="replace")


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _nobody_listening() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "records.csv"
    path.write_text("client_id,phone\nA,(212) 555-0101\nB,(212) 555-0102\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("lists", "import", "FILE", "--list", "L"),
        ("suppression", "import", "FILE", "--list", "L"),
        ("records", "dialability", str(uuid4())),
    ],
    ids=["lists import", "suppression import", "records dialability"],
)
def test_an_unreachable_server_is_one_line_and_exit_2(command: tuple[str, ...], records_file: Path) -> None:
    url = _nobody_listening()
    args = [str(records_file) if arg == "FILE" else str(uuid4()) if arg == "L" else arg for arg in command]
    result = dialstream(*args, "--url", url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        _one_line(result.stderr)
        == f"dialstream: cannot reach Dialstream at {url}: [Errno 111] Connection refused"
    )
    assert result.stdout == ""


def test_the_demo_without_a_server_says_to_start_one_or_give_its_address() -> None:
    url = _nobody_listening()
    result = dialstream("demo", "--url", url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert _one_line(result.stderr) == (
        f"dialstream: no Dialstream answers at {url}: start it first (make run), "
        "or give its address with --url or DIALSTREAM_URL"
    )


def test_a_url_without_a_scheme_is_one_line_and_exit_2(records_file: Path) -> None:
    result = dialstream(
        "lists", "import", str(records_file), "--list", str(uuid4()), "--url", "localhost:8080"
    )
    assert result.returncode == 2
    assert _one_line(result.stderr).startswith("dialstream: --url 'localhost:8080': ")


def test_the_url_comes_from_dialstream_url(records_file: Path) -> None:
    url = _nobody_listening()
    result = subprocess.run(
        [*DIALSTREAM, "suppression", "import", str(records_file), "--list", str(uuid4())],
        env={**_environment(), "DIALSTREAM_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and f"cannot reach Dialstream at {url}:" in _one_line(result.stderr)


@pytest.mark.parametrize(
    "command", [("lists", "import"), ("suppression", "import"), ("records", "dialability")]
)
def test_help_names_the_environment_variables(command: tuple[str, str]) -> None:
    result = dialstream(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "DIALSTREAM_URL" in result.stdout and "DIALSTREAM_API_KEY" in result.stdout


class _DropsTheConnectionWhileFollowed(BaseHTTPRequestHandler):
    """Accepts an upload as Dialstream does, then closes the connection on the first poll."""

    job_id = str(uuid4())

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"id": self.job_id, "size": 100, "status": "requested", "offset": 0}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.close_connection = True

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def dropping_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DropsTheConnectionWhileFollowed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_connection_dropped_while_following_a_job_is_one_line_and_exit_2(
    dropping_server: str, records_file: Path
) -> None:
    result = dialstream(
        "lists", "import", str(records_file), "--list", str(uuid4()), "--url", dropping_server
    )
    assert result.returncode == 2, result.stdout + result.stderr
    job = _DropsTheConnectionWhileFollowed.job_id
    line = _one_line(result.stderr)
    assert line.startswith(
        f"dialstream: lost Dialstream at {dropping_server} while following import job {job}: "
    )
    assert line.endswith(f"the job goes on there: {dropping_server}/api/v1/imports/{job}")
    assert result.stdout == f"import job {job} for records.csv\n"


# Against a real Dialstream ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("dialstream-cli-client"), bootstrap_key=KEY) as running:
        yield running


@pytest.fixture(scope="module")
def admin(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    ) as client:
        yield client


def test_refusals_are_one_line_with_the_problem_detail_and_exit_2(
    server: Server, admin: httpx.Client, records_file: Path
) -> None:
    contacts = h.contact_list(admin)
    upload = ["lists", "import", str(records_file), "--url", server.base_url]

    wrong_key = dialstream(*upload, "--list", contacts["id"], key="dsk_" + "x" * 43)
    assert wrong_key.returncode == 2, wrong_key.stdout + wrong_key.stderr
    assert _one_line(wrong_key.stderr).startswith("dialstream: upload refused: 401: ")

    unknown = str(uuid4())
    missing = dialstream(*upload, "--list", unknown)
    assert missing.returncode == 2, missing.stdout + missing.stderr
    line = _one_line(missing.stderr)
    assert line.startswith("dialstream: upload refused: 404: ") and unknown in line, line

    invalid = dialstream(*upload, "--list", contacts["id"], "--upload-rule", "not-an-id")
    assert invalid.returncode == 2, invalid.stdout + invalid.stderr
    assert _one_line(invalid.stderr).startswith("dialstream: upload refused: 422: ")

    entries = dialstream(
        "suppression", "import", str(records_file), "--url", server.base_url, "--list", unknown
    )
    assert entries.returncode == 2 and _one_line(entries.stderr).startswith(
        "dialstream: upload refused: 404: "
    )
    for result in (wrong_key, missing, invalid, entries):
        assert result.stdout == ""


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    rows = (f"C{n:05d},(212) {200 + n // 10_000:03d}-{n % 10_000:04d}" for n in range(ROWS))
    path.write_text("client_id,phone\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_progress_bars_show_counts_as_integers(server: Server, admin: httpx.Client, big_file: Path) -> None:
    contacts = h.contact_list(admin)
    status, stdout, terminal = on_a_terminal(
        "lists", "import", str(big_file), "--list", contacts["id"], "--url", server.base_url
    )
    assert status == 0, stdout + terminal
    assert "upload" in terminal and "import" in terminal, terminal
    assert f"rows {ROWS:,}, rejected 0" in terminal, terminal
    assert "e+" not in terminal, terminal
    assert stdout.splitlines()[-1].startswith(f"completed: rows {ROWS}, imported {ROWS}"), stdout


def test_quiet_prints_the_result_line_only(server: Server, admin: httpx.Client, records_file: Path) -> None:
    made = suppression_list(admin)
    status, stdout, terminal = on_a_terminal(
        "suppression", "import", str(records_file), "--list", made["id"], "--url", server.base_url, "--quiet"
    )
    assert status == 0, stdout + terminal
    assert terminal == ""
    assert stdout.startswith("completed: rows 2, imported 4") and stdout.count("\n") == 1, stdout
