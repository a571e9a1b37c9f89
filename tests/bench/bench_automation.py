"""A list automation run importing a 1,000,000-row PGP-encrypted file from SFTP, beside a plain import.

The file: bench_import's (1,000,000 rows, fixed seed, about 73 MB), generated once per run by
its generator, and encrypted (gpg, to the account's system OpenPGP key from
``GET /api/v1/settings/pgp-public-key``) before any clock starts.

The automation run: a real OpenSSH sshd (``tests/sshd.py``, password login) and ``dialstream
up`` as its own process on a fresh data directory, embedded. The encrypted file is dropped in
the SFTP user's inbox as ``bench_1m.csv.pgp``; a job is created over the API (import file,
secured, files starting with ``bench``, the server's host key pinned, a cron schedule that is
not due) and asked to run now. The worker looks for asked runs every 20 s: that wait is not
timed. The clock starts at the run's start event (``list_automation.run_started``: its
``started_at`` in the job's activity, the server's wall clock) and stops when the import job is
completed and every read model has caught up with the log (every record stored with its time
zone and visible in the list), as seen by polling: it covers the SFTP login, the fetch, the
decryption, the new list, the import and the read models.

The baseline: bench_import's embedded import of the clear file (an HTTP upload to a new list,
timed from the first byte of the upload to the same end), on a fresh server of its own, run
second so that the automation pays any first-run costs of the machine (cold caches).

Figures: automation_1m_seconds, automation_vs_plain_import_ratio (target: at most 1.3). One
round of each (``--rounds`` is not used); ``--events N`` makes the file N rows (a quick look).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from processors.files import openpgp
from tests import sshd
from tests.bench.bench_import import ROWS, SECRET, _start, _stop, generate, import_once
from tests.bench.figures import Figure, Options

FILE_NAME = "bench_1m.csv.pgp"
FINISHED = ("completed", "failed")


def log(message: str) -> None:
    print(f"[bench automation] {message}", file=sys.stderr, flush=True)


def _poll(
    client: httpx.Client,
    path: str,
    ready: Callable[[Any], Any],
    every_s: float = 0.1,
    timeout_s: float = 1800,
) -> Any:
    """GET ``path`` until ``ready(body)`` is true: what it returned."""
    deadline = time.monotonic() + timeout_s
    body = None
    while time.monotonic() < deadline:
        body = client.get(path).json()
        if found := ready(body):
            return found
        time.sleep(every_s)
    raise RuntimeError(f"gave up waiting on {path}: {body}")


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def automation_once(clear: Path, data_dir: Path, rows: int) -> float:
    """Seconds from the run's start to the import completed and the read models caught up."""
    with sshd.running() as server:
        process, base, log_path = _start(data_dir, {"DIALSTREAM_BUS": "embedded"})
        try:
            with httpx.Client(
                base_url=base,
                headers={"Authorization": f"Bearer {SECRET}"},
                timeout=httpx.Timeout(60, read=900),
            ) as client:
                key = client.get("/api/v1/settings/pgp-public-key")
                key.raise_for_status()
                encrypted = server.inbox("password") / FILE_NAME
                size = openpgp.encrypt_file(clear, encrypted, [key.text])
                log(f"encrypted to the account's key: {size / 1e6:.0f} MB in the SFTP inbox")
                created = client.post(
                    "/api/v1/list-automations",
                    json={
                        "name": "bench automation",
                        "schedule": {"kind": "cron", "cron": "0 3 1 1 *", "time_zone": "UTC"},
                        "source": {
                            "location": f"{server.url}/inbox",
                            "username": server.user("password"),
                            "login": "password",
                            "password": server.password,
                            "host_key": server.host_key_fingerprint(),
                        },
                        "action": {
                            "type": "import_file",
                            "import": {
                                "files": {"operator": "starts_with", "value": "bench"},
                                "secure": True,
                            },
                        },
                    },
                )
                created.raise_for_status()
                jobs = f"/api/v1/list-automations/{created.json()['id']}"
                client.post(f"{jobs}/run").raise_for_status()
                run = _poll(
                    client, f"{jobs}/activity", lambda runs: runs and runs[0]["started_at"] and runs[0]
                )
                started = _at(run["started_at"])
                log(f"run started {time.time() - started:.1f} s ago (the worker's wait is not timed)")
                run = _poll(client, f"{jobs}/activity", lambda runs: runs[0]["ended_at"] and runs[0])
                if run["result"] != "success":
                    raise RuntimeError(f"the run did not take the file: {run['result']}: {run['message']}")
                listed = _poll(client, "/api/v1/contact-lists", lambda lists: lists and lists[0])
                imports = f"/api/v1/contact-lists/{listed['id']}/imports"
                job = _poll(client, imports, lambda jobs: jobs and jobs[0])
                job = _poll(
                    client, f"/api/v1/imports/{job['id']}", lambda job: job["status"] in FINISHED and job
                )
                if job["status"] != "completed":
                    raise RuntimeError(f"import failed: {job['reason']}")
                _poll(
                    client, "/healthz", lambda h: h["read_models_position"] >= h["log_position"], every_s=0.05
                )
                elapsed = time.time() - started
                log(
                    f"  from the run's start: import requested (file fetched and decrypted) at "
                    f"{_at(job['created_on']) - started:.1f} s, run ended at {_at(run['ended_at']) - started:.1f} s, "
                    f"import completed at {_at(job['finished_on']) - started:.1f} s, read models caught up "
                    f"at {elapsed:.1f} s; {job['counts']}"
                )
                if job["counts"]["imported"] != rows:
                    raise RuntimeError(
                        f"expected {rows} chains, the job imported {job['counts']['imported']}"
                    )
                return elapsed
        except Exception:
            log(log_path.read_text()[-3000:])
            raise
        finally:
            _stop(process)


def run(options: Options) -> Iterator[Figure]:
    rows = options.events or ROWS
    with tempfile.TemporaryDirectory(prefix="dialstream-bench-automation-") as tmp:
        root = Path(tmp)
        clear = generate(root / "contacts-1m.csv", rows)
        log(f"generated {rows} rows, {clear.stat().st_size / 1e6:.0f} MB")
        automation_seconds = automation_once(clear, root / "automation", rows)
        plain_seconds, _, job = import_once(clear, root / "plain", {"DIALSTREAM_BUS": "embedded"}, rows)
        log(
            f"plain import (HTTP upload of the clear file): {plain_seconds:.1f} s, of which the import "
            f"job, requested to completed, {_at(job['finished_on']) - _at(job['created_on']):.1f} s"
        )
    yield Figure("automation_1m_seconds", automation_seconds, "s")
    yield Figure("automation_vs_plain_import_ratio", automation_seconds / plain_seconds, "x")
