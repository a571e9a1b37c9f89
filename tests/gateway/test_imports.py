"""The import API over HTTP: streamed multipart upload, job progress, error report, the CLI."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from dialstream.bootstrap import Runtime
from tests.gateway.conftest import Server
from tests.gateway.helpers import LISTS, assert_problem, create, unique

FILE = (
    "client_id,home_phone,mobile,first_name\n"
    "C1,(212) 555-0101,(312) 555-0101,Ada\n"
    "C2,not a number,,Bob\n"
    "C3,213 555 0103,,Cy\n"
)


def _list(client: httpx.Client) -> str:
    return str(create(client, LISTS, {"name": unique("Import list")})["id"])


def _upload(
    client: httpx.Client, list_id: str, content: bytes, name: str = "contacts.csv", **form: str
) -> httpx.Response:
    return client.post(f"{LISTS}/{list_id}/imports", files={"file": (name, content, "text/csv")}, data=form)


def _finished(client: httpx.Client, location: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(location).json()
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"{location} did not finish")


def test_upload_runs_a_job_with_progress_counts_and_an_error_report(supervisor: httpx.Client) -> None:
    list_id = _list(supervisor)
    response = _upload(supervisor, list_id, FILE.encode(), append_type="append_only")
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["Location"] == f"/api/v1/imports/{accepted['id']}"
    assert accepted["status"] in ("requested", "running", "completed")
    assert accepted["file_name"] == "contacts.csv" and accepted["size"] == len(FILE.encode())
    assert accepted["append_type"] == "append_only"

    job = _finished(supervisor, response.headers["Location"])
    assert job["status"] == "completed" and job["complete"] and job["progress"] == 1.0
    assert job["counts"]["rows"] == 3 and job["counts"]["imported"] == 2 and job["counts"]["rejected"] == 1
    assert job["columns"] == ["client_id", "home_phone", "mobile", "first_name"]

    jobs = supervisor.get(f"{LISTS}/{list_id}/imports")
    assert [j["id"] for j in jobs.json()] == [job["id"]]

    report = supervisor.get(job["errors_url"])
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.text)))
    assert rows[0] == ["line", "field", "reason", "raw"]
    assert [r[0] for r in rows[1:]] == ["3"]
    assert "not a number" in rows[1][2] or "not a phone number" in rows[1][2] or "valid" in rows[1][2]


def test_a_bad_file_fails_the_job_with_the_reason(supervisor: httpx.Client) -> None:
    list_id = _list(supervisor)
    response = _upload(supervisor, list_id, b"", name="empty.csv")
    assert response.status_code == 202
    job = _finished(supervisor, response.headers["Location"])
    assert job["status"] == "failed" and not job["complete"]
    assert "empty.csv" in job["reason"] and "empty" in job["reason"]


def test_upload_refusals(supervisor: httpx.Client, viewer: httpx.Client, other_admin: httpx.Client) -> None:
    list_id = _list(supervisor)
    assert_problem(_upload(viewer, list_id, FILE.encode()), 403)
    assert_problem(_upload(other_admin, list_id, FILE.encode()), 404, "list_id")
    assert_problem(
        supervisor.post(f"{LISTS}/{list_id}/imports", content=FILE, headers={"Content-Type": "text/csv"}), 415
    )
    assert_problem(_upload(supervisor, list_id, FILE.encode(), colour="blue"), 422, "colour")
    assert_problem(_upload(supervisor, list_id, FILE.encode(), append_type="sideways"), 422)
    missing = supervisor.post(f"{LISTS}/{list_id}/imports", files={"other": ("x.csv", b"a", "text/csv")})
    assert_problem(missing, 422, "file")
    assert_problem(supervisor.get("/api/v1/imports/00000000-0000-4000-8000-000000000000"), 404, "job_id")
    assert supervisor.get(f"{LISTS}/{list_id}/imports").json() == []


def test_cli_uploads_and_follows_the_job(server: Server, supervisor: httpx.Client, tmp_path: Path) -> None:
    list_id = _list(supervisor)
    path = tmp_path / "cli.csv"
    path.write_text(FILE, encoding="utf-8")
    key = supervisor.headers["Authorization"].removeprefix("Bearer ")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dialstream.cli",
            "lists",
            "import",
            str(path),
            "--list",
            list_id,
            "--url",
            server.base_url,
        ],
        env={**os.environ, "DIALSTREAM_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "completed: rows 3, imported 2" in result.stdout
    assert "/errors" in result.stdout

    failed = subprocess.run(
        [
            sys.executable,
            "-m",
            "dialstream.cli",
            "lists",
            "import",
            str(path),
            "--list",
            list_id,
            "--url",
            server.base_url,
            "--append-type",
            "new_list_only",
        ],
        env={**os.environ, "DIALSTREAM_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 1
    assert "new list only" in failed.stderr


def _exported(client: httpx.Client, list_id: str) -> list[dict[str, str]]:
    response = client.get(f"{LISTS}/{list_id}/export")
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def test_a_jobs_records_are_the_records_its_chains_hold(runtime: Runtime, supervisor: httpx.Client) -> None:
    """Append and update: a later row replaces the chain an earlier row wrote, and the job's
    ``records`` counts the replacement's records only, as the export and the read model do."""
    list_id = _list(supervisor)
    first = _upload(
        supervisor,
        list_id,
        b"client_id,home_phone,mobile\nC1,2125550101,3125550101\nC2,2125550102,\nC3,2125550103,3125550103\n",
        append_type="append_only",
    )
    assert _finished(supervisor, first.headers["Location"])["counts"]["records"] == 5

    overlapping = (
        "client_id,home_phone,mobile\n"
        "C1,2125550101,\n"  # C1 (first job) loses its mobile: 2 records -> 1
        "C4,2125550104,3125550104\n"  # new, 2 records ...
        "C2,2125550102,3125550109\n"  # C2 (first job) gains a mobile: 1 -> 2
        "C4,2125550105,\n"  # ... replaced by this row: 1 record
        "C5,not a number,\n"  # rejected
        "C6,2125550106,12\n"  # one number dropped: 1 record
        "C6,2125550107,3125550107\n"  # C6 again, now 2 records
        "C1,2125550111,3125550112\n"  # C1 a third time: 2 records
    )
    second = _upload(supervisor, list_id, overlapping.encode(), append_type="append_and_update")
    job = _finished(supervisor, second.headers["Location"])
    assert job["status"] == "completed", job
    counts = job["counts"]
    assert (counts["rows"], counts["rejected"], counts["dropped"]) == (8, 1, 1), counts

    exported = _exported(supervisor, list_id)
    written = {"C1", "C2", "C4", "C6"}
    assert counts["records"] == sum(row["client_id"] in written for row in exported) == 7
    assert len(exported) == runtime.records.counts(UUID(list_id))[1] == 7 + 2  # C3's two, untouched
    assert sorted((r["client_id"], r["contact_info"]) for r in exported if r["client_id"] in ("C1", "C4")) == [
        ("C1", "+12125550111"),
        ("C1", "+13125550112"),
        ("C4", "+12125550105"),
    ]

    into_empty = _list(supervisor)
    third = _upload(supervisor, into_empty, overlapping.encode(), append_type="append_and_update")
    job = _finished(supervisor, third.headers["Location"])
    assert job["counts"]["records"] == len(_exported(supervisor, into_empty)) == 7
    assert runtime.records.counts(UUID(into_empty)) == (4, 7)
