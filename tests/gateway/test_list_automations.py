"""/api/v1/list-automations over HTTP (issue 17): a job created, shown and listed without its
secrets (nor any event holding one in clear), validation naming the field, the next runs
across daylight-saving changes, edits with If-Match, disable / enable / run now / activity /
delete, trusting a real sshd's host key, and the ``dialstream automation`` twin.

A server of its own, whose list automation worker is stopped: a run asked for stays requested
until a test looks at it, and no run changes a job under a test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest

from dialstream.bootstrap import LIST_AUTOMATION, Runtime
from schemas.automation import ListAutomationCreated
from tests import sshd
from tests.gateway import helpers as h
from tests.gateway.conftest import Server, serving
from tests.processors.channels.unused_port import refusing_port

JOBS = "/api/v1/list-automations"
PASSWORD = "Pa55-clear-" + "x7Q" * 4  # a secret that must never come back or be stored in clear
PINNED = "SHA256:" + "A" * 43
OTHER_PIN = "SHA256:" + "b/+9" * 10 + "xyz"
FILES = {"operator": "ends_with", "value": ".csv"}
IMPORT_FILE = {"type": "import_file", "import": {"files": FILES}}
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
OPTIONS = {
    "kind": "options",
    "every_minutes": 15,
    "starts_at": "06:00",
    "ends_at": "20:00",
    "days": WEEKDAYS,
    "time_zone": "America/New_York",
}


def cron(expression: str, zone: str = "America/New_York") -> dict[str, Any]:
    return {"kind": "cron", "cron": expression, "time_zone": zone}


def source(location: str = "sftp://files.example.com/outbound", **fields: Any) -> dict[str, Any]:
    return {"location": location, "username": "leads", "login": "password", "password": PASSWORD, **fields}


def job_body(**fields: Any) -> dict[str, Any]:
    return {
        "name": h.unique("Automation"),
        "schedule": cron("30 1 * * *"),
        "source": source(),
        "action": IMPORT_FILE,
        **fields,
    }


def new_job(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return h.create(client, JOBS, job_body(**fields))


def one(job: dict[str, Any]) -> str:
    return f"{JOBS}/{job['id']}"


def assert_no_secret(response: httpx.Response) -> None:
    assert PASSWORD not in response.text, response.text
    assert "sealed" not in response.text, response.text


def stored_events(runtime: Runtime) -> list[tuple[bytes, Any]]:
    """Every event of the log: its JSON as stored (decrypted, decompressed) and decoded."""
    found: list[tuple[bytes, Any]] = []
    after = 0
    while batch := runtime.store.read_log(after, 5000):
        found += [(entry.state or msgspec.json.encode(entry.event), entry.event) for entry in batch]
        after = batch[-1].position
    return found


def assert_never_stored_in_clear(runtime: Runtime, secret: str) -> None:
    events = stored_events(runtime)
    assert events
    for state, event in events:
        assert secret.encode() not in state, event
        assert secret.encode() not in msgspec.json.encode(event), event


# The server --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("dialstream-automation")) as server:
        assert LIST_AUTOMATION not in server.runtime.services  # runs asked for stay asked for
        assert server.admin_secret is not None
        yield server


def _client(app: Server, secret: str) -> httpx.Client:
    return httpx.Client(base_url=app.base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=30.0)


@pytest.fixture(scope="module")
def admin_api(app: Server) -> Iterator[httpx.Client]:
    assert app.admin_secret is not None
    with _client(app, app.admin_secret) as client:
        yield client


def _secret(admin: httpx.Client, role: str) -> str:
    response = admin.post("/api/v1/api-keys", json={"name": f"automation {role}", "role": role})
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret


@pytest.fixture(scope="module")
def supervisor_key(admin_api: httpx.Client) -> str:
    return _secret(admin_api, "supervisor")


@pytest.fixture(scope="module")
def supervisor_api(app: Server, supervisor_key: str) -> Iterator[httpx.Client]:
    with _client(app, supervisor_key) as client:
        yield client


@pytest.fixture(scope="module")
def viewer_api(app: Server, admin_api: httpx.Client) -> Iterator[httpx.Client]:
    with _client(app, _secret(admin_api, "viewer")) as client:
        yield client


# 1. Create, show, list: never a secret -----------------------------------------------------


def test_create_shows_the_job_without_its_password(
    app: Server, supervisor_api: httpx.Client, viewer_api: httpx.Client
) -> None:
    body = job_body(description="morning leads", schedule=OPTIONS, source=source(trace=True))
    response = supervisor_api.post(JOBS, json=body)
    assert response.status_code == 201, response.text
    assert_no_secret(response)
    job = response.json()
    assert response.headers["ETag"] == f'"{job["version"]}"' == '"1"'
    assert (job["name"], job["description"], job["version"]) == (body["name"], "morning leads", 1)
    assert job["list_source"] == "leads@files.example.com/outbound"
    assert job["status"] == "scheduled"
    assert job["enabled"] is True
    assert job["schedule"] == OPTIONS
    assert job["schedule_text"] == ("every 15 minutes, 06:00-20:00 on mon,tue,wed,thu,fri (America/New_York)")
    assert (job["successes"], job["failures"]) == (0, 0)
    assert (job["running"], job["last_run_at"], job["last_result"]) == (None, None, None)
    assert job["source"] == {
        "location": "sftp://files.example.com/outbound",
        "username": "leads",
        "login": "password",
        "host_key": None,
        "trace": True,
        "has_password": True,
        "has_private_key": False,
        "has_passphrase": False,
    }
    assert job["action"]["type"] == "import_file"
    assert job["action"]["import"]["files"] == {**FILES, "ignore_duplicates": False, "after_import": "delete"}
    for hidden in ("deleted", "processed", "requested", "counts_from", "last_due"):
        assert hidden not in job

    got = viewer_api.get(one(job))
    assert got.status_code == 200, got.text
    assert_no_secret(got)
    assert got.json() == job
    assert got.headers["ETag"] == '"1"'
    listed = viewer_api.get(JOBS)
    assert listed.status_code == 200, listed.text
    assert_no_secret(listed)
    assert [each for each in listed.json() if each["id"] == job["id"]] == [job]

    # The event holds the password sealed; no event holds it in clear.
    created = [
        event
        for _, event in stored_events(app.runtime)
        if isinstance(event, ListAutomationCreated) and event.originator_id == UUID(job["id"])
    ]
    assert len(created) == 1
    sealed = created[0].source.sealed_password
    assert sealed is not None and sealed.startswith("sealed:v1:") and PASSWORD not in sealed
    assert_never_stored_in_clear(app.runtime, PASSWORD)


# 2. Validation, roles -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression", ["15, 30 * * * *", "15 - 30 * * * *", "* * * *", "0 24 * * *", "0 0 * * 7"]
)
def test_a_cron_string_breaking_a_rule_names_the_field(
    app: Server, supervisor_api: httpx.Client, expression: str
) -> None:
    before = app.runtime.store.position()
    response = supervisor_api.post(JOBS, json=job_body(schedule=cron(expression)))
    h.assert_problem(response, 422, "schedule.cron")
    assert app.runtime.store.position() == before


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"source": source("ftp://files.example.com/outbound")}, "source.location", "not an SFTP location"),
        ({"source": source(password=None)}, "source.password", "password"),
        (
            {"action": {"type": "export_contact_list", "campaign_groups": "selected"}},
            "action.campaign_group_ids",
            "name",
        ),
        (
            {"action": {"type": "export_analytics_data", "export_type": "dashboard"}},
            "action.output_format",
            "PDF",
        ),
        (
            {"action": {"type": "send_campaign_group", "import": {"files": FILES}}},
            "action.campaign_template_id",
            "template",
        ),
        ({"schedule": {**OPTIONS, "ends_at": "05:00"}}, "schedule.ends_at", "06:00"),
        ({"schedule": cron("0 3 * * *", "Mars/Olympus_Mons")}, "schedule.time_zone", "Mars"),
    ],
    ids=["ftp", "no password", "export without groups", "export analytics", "no template", "ends", "zone"],
)
def test_a_refused_job_names_the_field(
    app: Server, supervisor_api: httpx.Client, fields: dict[str, Any], field: str, words: str
) -> None:
    before = app.runtime.store.position()
    response = supervisor_api.post(JOBS, json=job_body(**fields))
    problem = h.assert_problem(response, 422, field)
    assert words in problem["detail"], problem
    assert app.runtime.store.position() == before


def test_a_viewer_reads_but_cannot_write(
    app: Server, supervisor_api: httpx.Client, viewer_api: httpx.Client
) -> None:
    job = new_job(supervisor_api)
    before = app.runtime.store.position()
    h.assert_problem(viewer_api.post(JOBS, json=job_body()), 403)
    h.assert_problem(viewer_api.patch(one(job), json={"description": "x"}), 403)
    h.assert_problem(viewer_api.post(f"{one(job)}/run"), 403)
    h.assert_problem(viewer_api.post(f"{one(job)}/disable"), 403)
    h.assert_problem(viewer_api.delete(one(job)), 403)
    assert app.runtime.store.position() == before
    assert h.get(viewer_api, one(job)).json() == job
    assert job["id"] in h.ids(viewer_api, JOBS)
    assert h.get(viewer_api, f"{one(job)}/next-runs").json()["time_zone"] == "America/New_York"
    assert h.get(viewer_api, f"{one(job)}/activity").json() == []


def test_another_accounts_job_is_not_found(app: Server, supervisor_api: httpx.Client) -> None:
    job = new_job(supervisor_api)
    runtime = app.runtime
    opened = runtime.handlers.accounts.open_account(h.unique("Other"))
    issued = runtime.handlers.accounts.issue_api_key(opened.id, "other admin", "admin")
    assert runtime.wait(issued.position)
    with _client(app, issued.secret) as other:
        assert job["id"] not in h.ids(other, JOBS)
        for response in (
            other.get(one(job)),
            other.get(f"{one(job)}/next-runs"),
            other.post(f"{one(job)}/run"),
            other.patch(one(job), json={"description": "mine"}),
        ):
            h.assert_problem(response, 404)
        # The name is per account.
        assert h.create(other, JOBS, job_body(name=job["name"]))["name"] == job["name"]


# 3. Next runs across daylight-saving changes ------------------------------------------------


def next_runs(client: httpx.Client, job: dict[str, Any], after: str, count: int = 5) -> dict[str, Any]:
    response = client.get(f"{one(job)}/next-runs", params={"count": count, "after": after})
    assert response.status_code == 200, response.text
    runs: dict[str, Any] = response.json()
    return runs


def test_next_runs_when_new_york_falls_back(supervisor_api: httpx.Client, viewer_api: httpx.Client) -> None:
    job = new_job(supervisor_api, schedule=cron("30 1 * * *"))
    runs = next_runs(viewer_api, job, "2026-10-30T12:00:00+00:00")
    assert (runs["time_zone"], runs["enabled"]) == ("America/New_York", True)
    # 01:30 happens twice on 1 November 2026: it runs once, at the first (EDT).
    assert runs["runs"] == [
        {"local": "2026-10-31T01:30:00-04:00", "utc": "2026-10-31T05:30:00+00:00"},
        {"local": "2026-11-01T01:30:00-04:00", "utc": "2026-11-01T05:30:00+00:00"},
        {"local": "2026-11-02T01:30:00-05:00", "utc": "2026-11-02T06:30:00+00:00"},
        {"local": "2026-11-03T01:30:00-05:00", "utc": "2026-11-03T06:30:00+00:00"},
        {"local": "2026-11-04T01:30:00-05:00", "utc": "2026-11-04T06:30:00+00:00"},
    ]
    # Just after the first 01:30 of the repeated hour: the second 01:30 is not a run.
    later = next_runs(viewer_api, job, "2026-11-01T05:30:00Z", count=1)
    assert later["runs"] == [{"local": "2026-11-02T01:30:00-05:00", "utc": "2026-11-02T06:30:00+00:00"}]


def test_next_runs_when_london_springs_forward(supervisor_api: httpx.Client) -> None:
    job = new_job(supervisor_api, schedule=cron("30 1 * * *", "Europe/London"))
    runs = next_runs(supervisor_api, job, "2026-03-27T12:00:00+00:00")
    assert runs["time_zone"] == "Europe/London"
    # 01:30 does not exist on 29 March 2026: it runs once, at 02:00 BST (01:00 UTC).
    assert runs["runs"] == [
        {"local": "2026-03-28T01:30:00+00:00", "utc": "2026-03-28T01:30:00+00:00"},
        {"local": "2026-03-29T02:00:00+01:00", "utc": "2026-03-29T01:00:00+00:00"},
        {"local": "2026-03-30T01:30:00+01:00", "utc": "2026-03-30T00:30:00+00:00"},
        {"local": "2026-03-31T01:30:00+01:00", "utc": "2026-03-31T00:30:00+00:00"},
        {"local": "2026-04-01T01:30:00+01:00", "utc": "2026-04-01T00:30:00+00:00"},
    ]


def test_next_runs_of_an_options_schedule_over_a_weekend_and_a_change(supervisor_api: httpx.Client) -> None:
    job = new_job(supervisor_api, schedule=OPTIONS)
    # Friday 6 March 2026, 19:40 EST: 19:45 is the day's last run (20:00 is the end, excluded);
    # then Monday, after New York sprang forward on Sunday 8 March, from 06:00 EDT.
    runs = next_runs(supervisor_api, job, "2026-03-07T00:40:00+00:00")
    assert runs["runs"] == [
        {"local": "2026-03-06T19:45:00-05:00", "utc": "2026-03-07T00:45:00+00:00"},
        {"local": "2026-03-09T06:00:00-04:00", "utc": "2026-03-09T10:00:00+00:00"},
        {"local": "2026-03-09T06:15:00-04:00", "utc": "2026-03-09T10:15:00+00:00"},
        {"local": "2026-03-09T06:30:00-04:00", "utc": "2026-03-09T10:30:00+00:00"},
        {"local": "2026-03-09T06:45:00-04:00", "utc": "2026-03-09T10:45:00+00:00"},
    ]


def test_next_runs_count_is_bounded(supervisor_api: httpx.Client) -> None:
    job = new_job(supervisor_api)
    assert len(next_runs(supervisor_api, job, "2026-01-01T00:00:00Z", count=100)["runs"]) == 100
    for count in (0, 101):
        response = supervisor_api.get(f"{one(job)}/next-runs", params={"count": count})
        assert response.status_code == 422, response.text


def test_next_runs_after_needs_an_offset(supervisor_api: httpx.Client) -> None:
    """A time without its offset is no instant: read in the server's zone, the answer would
    depend on the host it runs on."""
    job = new_job(supervisor_api)
    for after in ("2026-10-30T02:00:00", "tomorrow"):
        response = supervisor_api.get(f"{one(job)}/next-runs", params={"after": after})
        h.assert_problem(response, 422, "after")


# 4. Edit ------------------------------------------------------------------------------------


def test_edit_keeps_what_is_not_sent_and_unpins_another_server(
    app: Server, supervisor_api: httpx.Client
) -> None:
    job = new_job(supervisor_api, source=source("sftp://files.example.com:2222/outbound", host_key=PINNED))
    assert job["source"]["host_key"] == PINNED
    first_tag = h.etag(supervisor_api, one(job))

    described = supervisor_api.patch(
        one(job), json={"description": "nightly"}, headers={"If-Match": first_tag}
    )
    assert described.status_code == 200, described.text
    assert_no_secret(described)
    edited = described.json()
    assert (edited["description"], edited["version"]) == ("nightly", 2)
    assert described.headers["ETag"] == '"2"'
    for kept in ("name", "schedule", "source", "action", "schedule_text", "list_source", "enabled"):
        assert edited[kept] == job[kept], kept
    assert edited["source"]["has_password"] is True

    # A stale version changes nothing.
    before = app.runtime.store.position()
    stale = supervisor_api.patch(one(job), json={"description": "lost"}, headers={"If-Match": first_tag})
    h.assert_problem(stale, 412, "If-Match")
    assert app.runtime.store.position() == before
    assert h.get(supervisor_api, one(job)).json() == edited

    # Another directory of the same server keeps the pinned key and the password not resent.
    moved = supervisor_api.patch(
        one(job),
        json={
            "source": {
                "location": "sftp://files.example.com:2222/inbound",
                "username": "leads",
                "login": "password",
            }
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["source"]["host_key"] == PINNED
    assert moved.json()["source"]["has_password"] is True
    assert moved.json()["list_source"] == "leads@files.example.com/inbound"

    # Another server: the key pinned for the first is not its key.
    elsewhere = supervisor_api.patch(
        one(job),
        json={"source": {"location": "sftp:other.example.com/drop", "username": "ops", "login": "password"}},
    )
    assert elsewhere.status_code == 200, elsewhere.text
    assert_no_secret(elsewhere)
    changed = elsewhere.json()
    assert changed["source"]["host_key"] is None
    assert changed["source"]["has_password"] is True
    assert changed["list_source"] == "ops@other.example.com/drop"
    assert changed["version"] == 4
    assert (changed["description"], changed["schedule"]) == ("nightly", job["schedule"])

    # A login that needs a secret the job does not have is refused, naming it.
    keyed = supervisor_api.patch(
        one(job),
        json={
            "source": {"location": "sftp:other.example.com/drop", "username": "ops", "login": "private_key"}
        },
    )
    h.assert_problem(keyed, 422, "source.private_key")
    assert h.get(supervisor_api, one(job)).json() == changed
    assert_never_stored_in_clear(app.runtime, PASSWORD)


def test_a_rename_to_a_taken_name_is_a_conflict(supervisor_api: httpx.Client) -> None:
    first, second = new_job(supervisor_api), new_job(supervisor_api)
    h.assert_problem(supervisor_api.post(JOBS, json=job_body(name=first["name"].upper())), 409, "name")
    h.assert_problem(supervisor_api.patch(one(second), json={"name": f" {first['name']} "}), 409, "name")


# 5. Disable, enable, run now, activity, delete --------------------------------------------


def test_disable_run_now_activity_enable_and_delete(
    supervisor_api: httpx.Client, viewer_api: httpx.Client
) -> None:
    job = new_job(supervisor_api)

    disabled = supervisor_api.post(f"{one(job)}/disable")
    assert disabled.status_code == 200, disabled.text
    assert (disabled.json()["status"], disabled.json()["enabled"]) == ("disabled", False)
    assert disabled.headers["ETag"] == '"2"'
    again = supervisor_api.post(f"{one(job)}/disable")  # already disabled: nothing new
    assert again.status_code == 200 and again.json()["version"] == 2, again.text
    assert next_runs(viewer_api, job, "2026-01-01T00:00:00Z", count=1)["enabled"] is False

    # Run now works on a disabled job: the run is asked for, not started (no worker here).
    ran = supervisor_api.post(f"{one(job)}/run")
    assert ran.status_code == 202, ran.text
    run_id = ran.json()["run_id"]
    assert ran.json() == {"run_id": str(UUID(run_id)), "job_id": job["id"]}
    activity = h.get(viewer_api, f"{one(job)}/activity").json()
    assert [run["run_id"] for run in activity] == [run_id]
    (run,) = activity
    assert run["requested_at"] is not None
    assert (run["due"], run["started_at"], run["ended_at"], run["result"]) == (None, None, None, None)
    assert (run["worker"], run["message"], run["files"], run["trace"]) == ("", "", [], [])
    assert h.get(viewer_api, one(job)).json()["status"] == "disabled"

    second = supervisor_api.post(f"{one(job)}/run")
    assert second.status_code == 202, second.text
    latest_first = [each["run_id"] for each in h.get(viewer_api, f"{one(job)}/activity").json()]
    assert latest_first == [second.json()["run_id"], run_id]
    assert [each["run_id"] for each in h.get(viewer_api, f"{one(job)}/activity?limit=1").json()] == [
        second.json()["run_id"]
    ]

    enabled = supervisor_api.post(f"{one(job)}/enable")
    assert enabled.status_code == 200, enabled.text
    assert (enabled.json()["status"], enabled.json()["enabled"]) == ("scheduled", True)

    tag = enabled.headers["ETag"]
    h.assert_problem(supervisor_api.delete(one(job), headers={"If-Match": '"1"'}), 412, "If-Match")
    deleted = supervisor_api.delete(one(job), headers={"If-Match": tag})
    assert deleted.status_code == 204, deleted.text
    h.assert_problem(viewer_api.get(one(job)), 404)
    h.assert_problem(viewer_api.get(f"{one(job)}/activity"), 404)
    h.assert_problem(supervisor_api.post(f"{one(job)}/run"), 404)
    h.assert_problem(supervisor_api.post(f"{one(job)}/enable"), 404)
    h.assert_problem(supervisor_api.delete(one(job)), 404)
    assert job["id"] not in h.ids(viewer_api, JOBS)

    reused = new_job(supervisor_api, name=job["name"])
    assert reused["id"] != job["id"] and reused["name"] == job["name"]


def test_an_unknown_job_is_not_found(supervisor_api: httpx.Client) -> None:
    missing = f"{JOBS}/00000000-0000-4000-8000-000000000000"
    for response in (
        supervisor_api.get(missing),
        supervisor_api.get(f"{missing}/next-runs"),
        supervisor_api.get(f"{missing}/activity"),
        supervisor_api.post(f"{missing}/run"),
        supervisor_api.post(f"{missing}/trust-host-key", json={}),
    ):
        h.assert_problem(response, 404)


# 6. Trusting the server's host key -----------------------------------------------------------


@pytest.mark.integration
def test_trust_pins_the_key_a_real_sshd_shows_or_the_one_given(supervisor_api: httpx.Client) -> None:
    with sshd.running() as server:
        job = new_job(
            supervisor_api,
            source={
                "location": f"{server.url}/inbox",
                "username": server.user("password"),
                "login": "password",
                "password": server.password,
            },
        )
        assert job["source"]["host_key"] is None
        shown = supervisor_api.post(f"{one(job)}/trust-host-key", json={})
        assert shown.status_code == 200, shown.text
        assert shown.json()["source"]["host_key"] == server.host_key_fingerprint()
        assert server.password not in shown.text
    assert shown.json()["version"] == 2

    given = supervisor_api.post(f"{one(job)}/trust-host-key", json={"fingerprint": OTHER_PIN})
    assert given.status_code == 200, given.text
    assert given.json()["source"]["host_key"] == OTHER_PIN
    assert given.json()["version"] == 3
    h.assert_problem(
        supervisor_api.post(f"{one(job)}/trust-host-key", json={"fingerprint": "SHA256:short"}),
        422,
        "fingerprint",
    )
    assert h.get(supervisor_api, one(job)).json()["source"]["host_key"] == OTHER_PIN


def test_trust_with_no_server_listening_is_a_502(app: Server, supervisor_api: httpx.Client) -> None:
    with refusing_port() as port:
        job = new_job(supervisor_api, source=source(f"sftp://127.0.0.1:{port}/inbox"))
        before = app.runtime.store.position()
        problem = h.assert_problem(supervisor_api.post(f"{one(job)}/trust-host-key", json={}), 502)
    assert "host key" in problem["detail"], problem
    assert app.runtime.store.position() == before
    assert h.get(supervisor_api, one(job)).json()["source"]["host_key"] is None


# 7. The command line twin --------------------------------------------------------------------


def dialstream(app: Server, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DIALSTREAM_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dialstream.cli",
            "automation",
            *args,
            "--url",
            app.base_url,
            "--api-key",
            key,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def printed(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stdout + result.stderr
    assert PASSWORD not in result.stdout and "sealed" not in result.stdout, result.stdout
    return msgspec.json.decode(result.stdout)


@pytest.mark.integration
def test_the_cli_lists_shows_next_runs_disables_runs_and_enables(
    app: Server, supervisor_api: httpx.Client, supervisor_key: str
) -> None:
    job = new_job(supervisor_api, schedule=cron("0 0 1 1 *"))

    listed = printed(dialstream(app, supervisor_key, "list"))
    assert [each for each in listed if each["id"] == job["id"]] == [job]
    assert printed(dialstream(app, supervisor_key, "show", job["id"])) == job

    year = datetime.now(UTC).year
    runs = printed(dialstream(app, supervisor_key, "next-runs", job["id"], "--count", "3"))
    assert runs == {
        "time_zone": "America/New_York",
        "enabled": True,
        "runs": [
            {"local": f"{y}-01-01T00:00:00-05:00", "utc": f"{y}-01-01T05:00:00+00:00"}
            for y in range(year + 1, year + 4)
        ],
    }

    disabled = printed(dialstream(app, supervisor_key, "disable", job["id"]))
    assert (disabled["id"], disabled["status"], disabled["enabled"]) == (job["id"], "disabled", False)

    ran = printed(dialstream(app, supervisor_key, "run", job["id"]))
    assert ran["job_id"] == job["id"]
    activity = printed(dialstream(app, supervisor_key, "activity", job["id"]))
    assert [(run["run_id"], run["started_at"]) for run in activity] == [(ran["run_id"], None)]

    enabled = printed(dialstream(app, supervisor_key, "enable", job["id"]))
    assert (enabled["status"], enabled["enabled"]) == ("scheduled", True)
    assert h.get(supervisor_api, one(job)).json() == enabled


@pytest.mark.integration
def test_the_cli_says_a_refusal_in_one_line_and_exits_2(app: Server, supervisor_key: str) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    result = dialstream(app, supervisor_key, "show", missing)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "404" in lines[0] and missing in lines[0], result.stderr
