"""The README pastes: its shell blocks run, in order, in one bash, against a server of their own.

``dialstream up`` starts on a free loopback port with a fresh data directory (the working
directory's ``var``, as ``make run`` has it) and the tour's bootstrap key; the blocks find it
through ``DIALSTREAM_URL``, which the tour defaults to http://127.0.0.1:8080. See
:mod:`tests.readme` for how a block announces an error status or is left out.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.readme import ReadmeError, Script, script, shell_blocks
from tests.up import free_port, stop, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
HARNESS = Path(__file__).with_name("readme_harness.sh")
BOOTSTRAP_KEY = re.compile(r"\bDIALSTREAM_BOOTSTRAP_KEY=(\S+)")
FAILED_AT = re.compile(r"README\.md(?::|: line )(\d+):")  # the harness's messages, and bash's own
RUN_TIMEOUT = 120.0
TOUR = "A tour of the API"


@dataclass(frozen=True)
class Server:
    url: str
    workdir: Path  # the blocks' working directory, where the server keeps its data (var/)


def _tour_key(text: str) -> str:
    """The bootstrap key the tour starts the server with, so the test starts it with that."""
    tour = next((block for block in shell_blocks(text) if block.heading == TOUR), None)
    assert tour, f"README.md has no shell block under {TOUR!r}"
    match = BOOTSTRAP_KEY.search("\n".join(text.splitlines()[tour.first - 1 : tour.last]))
    assert match, "README.md: the tour no longer starts the server with DIALSTREAM_BOOTSTRAP_KEY=..."
    return match.group(1)


def _clean_environment() -> dict[str, str]:
    """The caller's environment without Dialstream settings: the README's defaults apply."""
    return {name: value for name, value in os.environ.items() if not name.startswith("DIALSTREAM_")}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("readme")
    venv = Path(sys.prefix)
    assert (venv / "bin" / "dialstream").exists(), f"the README runs .venv/bin/dialstream; {venv} has none"
    (workdir / ".venv").symlink_to(venv)
    port = free_port()
    env = {
        **_clean_environment(),
        "DIALSTREAM_PORT": str(port),
        "DIALSTREAM_BOOTSTRAP_KEY": _tour_key(README.read_text()),
    }
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "dialstream.cli", "up"],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, workdir / "server.log", 60)
        yield Server(url, workdir)
    finally:
        stop(process)
        log.close()


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    seen: dict[int, str]  # line -> the last HTTP status a curl call on it answered


def run_blocks(readme_text: str, server: Server, name: str) -> tuple[Script, Run]:
    """Run ``readme_text``'s shell blocks as :mod:`tests.readme` describes; ``name`` keeps
    this run's files apart from other runs against the same server."""
    runnable = script(readme_text)
    folder = server.workdir / f"harness-{name}"
    folder.mkdir()
    (folder / "README.md").write_text(runnable.text)
    seen_file = folder / "seen"
    seen_file.touch()
    env = {
        **_clean_environment(),
        "DIALSTREAM_URL": server.url,
        "README_SCRIPT": str(folder / "README.md"),
        "README_ANNOUNCED": " ".join(f"{line}={status}" for line, status in runnable.announced.items()),
        "README_SEEN": str(seen_file),
    }
    try:
        done = subprocess.run(
            ["bash", str(HARNESS)],
            cwd=server.workdir, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired as error:
        # TimeoutExpired carries bytes even under text=True
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else error.stderr or ""
        raise AssertionError(f"the README's blocks did not finish in {RUN_TIMEOUT} s:\n{stderr}") from error
    seen: dict[int, str] = {}
    for entry in seen_file.read_text().splitlines():
        line, _, status = entry.partition(" ")
        seen[int(line)] = status
    return runnable, Run(done.returncode, done.stdout, done.stderr, seen)


def explain(runnable: Script, run: Run) -> str:
    """Which block and line failed, and what bash and curl said."""
    lines = [int(number) for number in FAILED_AT.findall(run.stderr)]
    where = "the README's blocks failed"
    if lines:
        block = runnable.block_at(lines[0])
        where = f"README.md line {lines[0]}" + (f", in {block.describe()}" if block else "")
    return f"{where} (bash exit {run.returncode})\n--- stderr\n{run.stderr[-4000:]}\n--- stdout\n{run.stdout[-2000:]}"


def test_every_shell_block_of_the_readme_runs_against_a_server(server: Server) -> None:
    text = README.read_text()
    runnable, run = run_blocks(text, server, "readme")
    assert run.returncode == 0, explain(runnable, run)
    # An announcement on a line no curl call reached announces nothing: the README is wrong.
    for line, status in runnable.announced.items():
        command = runnable.command_at(line)
        assert any(number in run.seen for number in command.lines), (
            f"README.md line {command.last} announces {status}, but no curl call ran there"
        )


def test_the_readme_leaves_out_only_what_cannot_run_here() -> None:
    """Exclusions stay few and deliberate: adding one means adding it here, with its reason."""
    blocks = shell_blocks(README.read_text())
    left_out = sorted(block.heading for block in blocks if block.not_run)
    # Quick start: `make test` would run this test again, `make run` never returns.
    # Kafka: a broker of its own, minutes to fetch and start; tests/gateway/test_kafka_mode.py covers it.
    assert left_out == ["Kafka", "Quick start"], left_out
    commands = [
        (block.heading, command.comment)
        for block in blocks
        if not block.not_run
        for command in block.commands
        if command.not_run
    ]
    # The tour's `make run ... &`: the test starts the server itself, on a port of its own.
    assert [heading for heading, _ in commands] == [TOUR], commands


# The harness itself: a README that breaks must fail, naming its line.

BROKEN_STATUS = """# A section

```sh
K="Authorization: Bearer $DIALSTREAM_API_KEY"
curl -s -H "$K" $DIALSTREAM_URL/api/v1/contact-lists/00000000-0000-0000-0000-000000000000
```
"""


def test_an_unannounced_error_status_fails_naming_the_line(server: Server) -> None:
    runnable, run = run_blocks(BROKEN_STATUS.replace("$DIALSTREAM_API_KEY", "nobody"), server, "status")
    assert run.returncode != 0
    assert "README.md:5: HTTP 401, not 2xx and not announced" in run.stderr, run.stderr
    assert "README.md line 5, in the block under 'A section' (README.md lines 4-5)" in explain(runnable, run)


def test_an_announced_status_passes_and_must_happen(server: Server) -> None:
    announced = BROKEN_STATUS.replace("$DIALSTREAM_API_KEY", "nobody").replace(
        "0000-000000000000\n", "0000-000000000000   # -> 401\n"
    )
    _, run = run_blocks(announced, server, "announced")
    assert run.returncode == 0, run.stderr
    wrong = announced.replace("# -> 401", "# -> 412")
    _, run = run_blocks(wrong, server, "wrong")
    assert run.returncode != 0
    assert "README.md:5: HTTP 401, but the README announces 412" in run.stderr, run.stderr


def test_an_undefined_variable_and_a_foreign_url_fail(server: Server) -> None:
    undefined = "## Compliance\n\n```sh\ncurl -s -H \"$AUTH\" $DIALSTREAM_URL/healthz\n```\n"
    runnable, run = run_blocks(undefined, server, "undefined")
    assert run.returncode != 0
    assert "line 4: AUTH: unbound variable" in run.stderr, run.stderr
    assert explain(runnable, run).startswith("README.md line 4, in the block under 'Compliance'")
    foreign = "```sh\ncurl -s localhost:8080/api/v1/settings\n```\n"
    _, run = run_blocks(foreign, server, "foreign")
    assert run.returncode != 0
    assert "README.md:2: curl asks no URL under $DIALSTREAM_URL" in run.stderr, run.stderr


def test_a_failing_command_stops_the_run_and_later_blocks_do_not_run(server: Server) -> None:
    text = "```sh\nls missing.csv\n```\n\n```sh\ntouch after\n```\n"
    _, run = run_blocks(text, server, "failing")
    assert run.returncode != 0
    assert "README.md:2: exit 2: ls missing.csv" in run.stderr, run.stderr
    assert not (server.workdir / "after").exists()


def test_left_out_commands_and_blocks_keep_line_numbers() -> None:
    text = (
        "```sh\n# not run by the README test: needs a broker\nmake kafka-up\n```\n"
        "```sh\nmake run &   # not run by the README test: the test starts its own\n"
        "cat > f <<'EOF'\nit's here: (\nEOF\necho \"a\n#b\" \\\n  c   # -> 404\n```\n"
    )
    runnable = script(text)
    lines = runnable.text.splitlines()
    assert lines[:6] == ["", "", "", "", "", ""]
    assert lines[6:9] == ["cat > f <<'EOF'", "it's here: (", "EOF"]
    assert runnable.announced == {10: 404, 11: 404, 12: 404}
    with pytest.raises(ReadmeError, match="line 2"):
        script("```sh\necho 'open\n```\n")
