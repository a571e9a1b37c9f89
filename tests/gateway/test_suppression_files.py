"""Entry files into suppression lists, through the import pipeline: columns by header name or
by a contact-list data mapping, each append type, mixed garbage (valid entries kept, the rest
in the error report with their lines), and records of contact lists marked "no call" by
entries that came from a file."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from domain import record_chain
from tests.gateway import helpers as h
from tests.gateway.conftest import Account, Server
from tests.gateway.test_imports import _finished
from tests.gateway.test_suppression_lists import LISTS, suppression_list, url


def upload(client: httpx.Client, made: dict[str, Any], text: str, **form: str) -> httpx.Response:
    return client.post(
        url(made, "/imports"), files={"file": ("dnc.csv", text.encode(), "text/csv")}, data=form
    )


def imported(client: httpx.Client, made: dict[str, Any], text: str, **form: str) -> dict[str, Any]:
    response = upload(client, made, text, **form)
    assert response.status_code == 202, response.text
    assert response.json()["target"] == "suppression_list"
    job: dict[str, Any] = _finished(client, response.headers["Location"])
    return job


def entry_count(client: httpx.Client, made: dict[str, Any], expected: int) -> int:
    """The list's entry count once it is ``expected`` (the read model follows the job's
    events within moments), or as it is after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        count: int = h.get(client, url(made)).json()["entry_count"]
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.02)


def report(client: httpx.Client, job: dict[str, Any]) -> list[list[str]]:
    response = client.get(job["errors_url"])
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.text)))[1:]


def test_a_file_with_mixed_garbage_keeps_its_valid_entries(supervisor: httpx.Client) -> None:
    made = suppression_list(supervisor)
    text = (
        "Phone Number;Client-ID;notes\r\n"
        "(312) 555-0143;A1;ok\r\n"
        "555-0143;;too short\r\n"
        ";;nothing\r\n"
        "+44 20 7946 0958;A2;foreign\r\n"
        "312.555.0143;A1;the same again\r\n"
        "☎ call me;;\r\n"
    )
    job = imported(supervisor, made, text)
    assert job["status"] == "completed", job["reason"]
    # line 2 and 5: two new entries each; 3: a short number; 4: no value; 6: both named on
    # line 2; 7: not a number
    assert job["counts"] == {
        "rows": 6,
        "imported": 4,
        "updated": 0,
        "ignored": 2,
        "rejected": 3,
        "flushed": 0,
        "records": 4,
        "dropped": 0,
    }, job["counts"]
    rows = report(supervisor, job)
    by_line: dict[str, list[list[str]]] = {}
    for row in rows:
        by_line.setdefault(row[0], []).append(row)
    assert sorted(by_line, key=int) == ["3", "4", "6", "7"], rows
    assert by_line["3"][0][1] == "Phone Number"
    assert "no Phone Number, Client-ID value" in by_line["4"][0][2]
    assert {r[1] for r in by_line["6"]} == {"Phone Number", "Client-ID"}
    assert all("named earlier in the file" in r[2] for r in by_line["6"])
    assert by_line["7"][0][1] == "Phone Number"
    assert entry_count(supervisor, made, 4) == 4


def test_counts_of_a_mixed_file(supervisor: httpx.Client) -> None:
    made = suppression_list(supervisor)
    job = imported(supervisor, made, "phone,client_id\n(312) 555-0143,A1\n555-0143,\n,\n312.555.0143,A1\n")
    assert job["status"] == "completed", job["reason"]
    counts = job["counts"]
    # line 2: two new entries; line 3: a bad number; line 4 holds only empty cells (a blank
    # line, not a row); line 5: both named before
    assert (counts["rows"], counts["imported"], counts["ignored"], counts["rejected"]) == (3, 2, 2, 1)
    assert counts["records"] == 2
    assert entry_count(supervisor, made, 2) == 2


def test_blank_lines_are_no_rows_and_rows_without_entries_are_rejected(supervisor: httpx.Client) -> None:
    """As in contact-list imports: a blank line (nothing but spaces and delimiters) is not a
    row; a row with values but none in its entry columns is a rejected row."""
    made = suppression_list(supervisor)
    job = imported(supervisor, made, "phone,note\n3125550143,a\n\n,\n   \n,only a note\n3125550144,b\n\n")
    assert job["status"] == "completed", job["reason"]
    counts = job["counts"]
    assert (counts["rows"], counts["imported"], counts["rejected"]) == (3, 2, 1), counts
    assert report(supervisor, job) == [["6", "", "line 6: no phone value", ",only a note"]]
    assert entry_count(supervisor, made, 2) == 2


def test_each_append_type(supervisor: httpx.Client) -> None:
    made = suppression_list(supervisor, retention_days=30)
    first = imported(supervisor, made, "phone\n3125550143\n3125550144\n")
    assert (first["counts"]["imported"], entry_count(supervisor, made, 2)) == (2, 2)

    again = imported(supervisor, made, "phone\n3125550144\n3125550145\n", append_type="append_only")
    assert (again["counts"]["imported"], again["counts"]["ignored"], again["counts"]["updated"]) == (1, 1, 0)
    assert "already in the list; append only leaves it as it is" in report(supervisor, again)[0][2]
    assert entry_count(supervisor, made, 3) == 3

    update = imported(supervisor, made, "phone\n3125550145\n3125550146\n", append_type="append_and_update")
    assert (update["counts"]["imported"], update["counts"]["updated"], update["counts"]["ignored"]) == (1, 1, 0)
    assert entry_count(supervisor, made, 4) == 4

    refused = imported(supervisor, made, "phone\n3125550147\n", append_type="new_list_only")
    assert refused["status"] == "failed" and "new list only" in refused["reason"]
    assert entry_count(supervisor, made, 4) == 4

    flush = imported(supervisor, made, "phone\n3125550199\n", append_type="flush_and_append")
    assert flush["status"] == "completed", flush
    assert (flush["counts"]["flushed"], flush["counts"]["imported"]) == (4, 1)
    assert entry_count(supervisor, made, 1) == 1

    empty = suppression_list(supervisor)
    fresh = imported(supervisor, empty, "email,phone\n,3125550143\n", append_type="new_list_only")
    assert fresh["status"] == "completed" and fresh["counts"]["imported"] == 1


def test_an_email_list_takes_addresses_and_client_ids_from_a_data_mapping(supervisor: httpx.Client) -> None:
    made = suppression_list(supervisor, channel="email")
    mapping = h.create(
        supervisor,
        "/api/v1/data-mappings",
        {
            "name": h.unique("DNC mapping"),
            "fields": [
                {"column": "Customer", "field": "client_id"},
                {"column": "Mail", "field": "contact_info", "contact_info_type": 10},
                {"column": "Name", "field": "custom:name"},
            ],
        },
    )
    text = "Customer,Mail,Name\nC1,Jane@Example.com,Jane\nC2,not-an-address,Bob\n"
    job = imported(supervisor, made, text, data_mapping_id=mapping["id"])
    assert job["status"] == "completed", job["reason"]
    assert (job["counts"]["imported"], job["counts"]["rejected"]) == (3, 1)
    (rejected,) = report(supervisor, job)
    assert rejected[:2] == ["3", "Mail"] and "not an e-mail address" in rejected[2]
    assert entry_count(supervisor, made, 3) == 3


def test_files_that_hold_no_entries_fail_clearly(supervisor: httpx.Client) -> None:
    made = suppression_list(supervisor)
    no_column = imported(supervisor, made, "name,notes\nJane,x\n")
    assert no_column["status"] == "failed"
    assert "no phone, client_id or email column" in no_column["reason"]
    empty = imported(supervisor, made, "")
    assert empty["status"] == "failed" and "empty" in empty["reason"]
    assert entry_count(supervisor, made, 0) == 0


def test_wrong_targets_are_refused(supervisor: httpx.Client, other_admin: httpx.Client) -> None:
    made = suppression_list(supervisor)
    response = other_admin.post(url(made, "/imports"), files={"file": ("x.csv", b"phone\n1\n", "text/csv")})
    h.assert_problem(response, 404, "suppression_list_id")
    missing = supervisor.post(
        f"{LISTS}/{UUID(int=7)}/imports", files={"file": ("x.csv", b"phone\n1\n", "text/csv")}
    )
    h.assert_problem(missing, 404, "suppression_list_id")
    bad = upload(supervisor, made, "phone\n1\n", append_type="sometimes")
    h.assert_problem(bad, 422)
    jobs = supervisor.get(url(made, "/imports"))
    assert jobs.status_code == 200 and jobs.json() == []


def test_entries_from_a_file_mark_the_records_they_match(new_account: Callable[[], Account]) -> None:
    admin = new_account().admin  # required lists apply to the whole account: one of its own
    contact_list = h.contact_list(admin)
    contacts = "client_id,home_phone\nKEEP,(312) 555-0160\nSTOP,(312) 555-0161\n"
    response = admin.post(
        f"{h.LISTS}/{contact_list['id']}/imports", files={"file": ("c.csv", contacts.encode(), "text/csv")}
    )
    assert _finished(admin, response.headers["Location"])["status"] == "completed"

    made = suppression_list(admin, required=True)
    job = imported(admin, made, "phone\n312 555 0161\n")
    assert job["status"] == "completed"

    stop = record_chain.record_id(record_chain.chain_id(UUID(contact_list["id"]), "STOP"), 1)
    keep = record_chain.record_id(record_chain.chain_id(UUID(contact_list["id"]), "KEEP"), 1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body = admin.get(f"/api/v1/records/{stop}/dialability").json()
        if body.get("record_type") == 7:
            break
        time.sleep(0.05)
    assert body["record_type"] == 7, body
    assert "suppressed" in [reason["code"] for reason in body["reasons"]]
    assert admin.get(f"/api/v1/records/{keep}/dialability").json()["record_type"] == 2


def test_the_cli_uploads_an_entry_file_and_follows_it(server: Server, supervisor: httpx.Client, tmp_path: Path) -> None:
    made = suppression_list(supervisor)
    path = tmp_path / "dnc.csv"
    path.write_text("phone\n(312) 555-0143\nnope\n", encoding="utf-8")
    key = supervisor.headers["Authorization"].removeprefix("Bearer ")
    command = [sys.executable, "-m", "dialstream.cli", "suppression", "import", str(path)]
    result = subprocess.run(
        [*command, "--list", made["id"], "--url", server.base_url, "--append-type", "append_and_update"],
        env={**os.environ, "DIALSTREAM_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "completed: rows 2, imported 1" in result.stdout and "/errors" in result.stdout
    assert entry_count(supervisor, made, 1) == 1
    (job,) = supervisor.get(url(made, "/imports")).json()
    assert job["append_type"] == "append_and_update" and job["target"] == "suppression_list"
