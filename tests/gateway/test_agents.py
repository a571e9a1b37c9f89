"""/api/v1/agents: the agent desktop over HTTP — log in, ready, a call the dialer connects and
ends, wrap-up, not ready, log out; pull preview (ask, skip, accept); 409 naming the state for a
command the state refuses, 404 for an agent that never logged in, 403 for a viewer writing.

The dialer's side (offer, connect, end) is called on the handlers by agent id, as the dialer
does. Each test uses its own agent group, so no dialer of a running group elsewhere in the
session takes its agents.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime
from dialstream.results import Done
from domain.agent import agent_id
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

AGENTS = "/api/v1/agents"


def a_login() -> str:
    return f"agent-{uuid.uuid4().hex[:10]}"


def a_team() -> str:
    return h.unique("Desk team")


def post(client: httpx.Client, login: str, action: str, body: dict[str, Any] | None = None) -> httpx.Response:
    path = f"{AGENTS}/{login}/{action}"
    return client.post(path) if body is None else client.post(path, json=body)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["ETag"] == f'"{body["version"]}"'
    return body


def as_dialer(runtime: Runtime, done: Done) -> None:
    assert runtime.wait(done.position), "the read models did not catch up"


def logged_in(client: httpx.Client, team: str, *, ready: bool = True) -> str:
    login = a_login()
    ok(post(client, login, "login", {"agent_group": team}))
    if ready:
        ok(post(client, login, "ready"))
    return login


def test_the_desktop_cycle(
    supervisor: httpx.Client, viewer: httpx.Client, runtime: Runtime, account_a: Account
) -> None:
    team, login = a_team(), a_login()
    account = account_a.id
    agent = agent_id(account, login)
    calls = runtime.handlers.agents

    body = ok(post(supervisor, login, "login", {"agent_group": team, "name": "Amy  Chen"}))
    assert (body["login"], body["name"], body["agent_group"], body["state"]) == (
        login,
        "Amy Chen",
        team,
        "logged_in",
    )
    assert body["agent_id"] == str(agent) and body["simulated"] is False
    assert ok(viewer.get(f"{AGENTS}/{login}")) == body

    assert ok(post(supervisor, login, "ready"))["state"] == "ready"
    group, record, attempt = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    as_dialer(
        runtime, calls.connect_call(account, agent, group_id=group, record_id=record, attempt_id=attempt)
    )
    on_call = ok(viewer.get(f"{AGENTS}/{login}"))
    assert (on_call["state"], on_call["campaign_group_id"], on_call["record_id"], on_call["attempt_id"]) == (
        "on_call",
        str(group),
        str(record),
        str(attempt),
    )
    as_dialer(runtime, calls.end_call(account, agent, attempt))
    assert ok(viewer.get(f"{AGENTS}/{login}"))["state"] == "wrap_up"

    after = ok(post(supervisor, login, "wrap-up/finish", {"then": "not_ready", "reason": "notes"}))
    assert (after["state"], after["reason"], after["attempt_id"]) == ("not_ready", "notes", None)
    assert ok(post(supervisor, login, "ready"))["state"] == "ready"

    second = uuid.uuid4()
    as_dialer(
        runtime, calls.connect_call(account, agent, group_id=group, record_id=record, attempt_id=second)
    )
    as_dialer(runtime, calls.end_call(account, agent, second))
    assert ok(post(supervisor, login, "wrap-up/finish"))["state"] == "ready", "no body: ready after"

    paused = ok(post(supervisor, login, "not-ready", {"reason": "lunch"}))
    assert (paused["state"], paused["reason"]) == ("not_ready", "lunch")
    out = ok(post(supervisor, login, "logout"))
    assert out["state"] == "logged_out"

    listed = viewer.get(AGENTS, params={"agent_group": team})
    assert listed.status_code == 200, listed.text
    assert [(row["login"], row["state"]) for row in listed.json()] == [(login, "logged_out")]
    assert login in [row["login"] for row in viewer.get(AGENTS).json()]


def test_pull_preview(
    admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime, account_a: Account
) -> None:
    team = a_team()
    made = h.chain(admin)
    group = h.group(admin, made["template"]["id"], [made["list"]["id"]], agent_group=team)
    login = logged_in(supervisor, team)
    account, agent = account_a.id, agent_id(account_a.id, login)
    calls = runtime.handlers.agents

    asked = ok(post(supervisor, login, "preview/next", {"campaign_group_id": group["id"]}))
    assert (asked["state"], asked["preview"], asked["campaign_group_id"]) == (
        "ready",
        "requested",
        group["id"],
    )

    record, attempt = uuid.uuid4(), uuid.uuid4()
    as_dialer(runtime, calls.offer_preview(account, agent, uuid.UUID(group["id"]), record, attempt))
    offered = ok(supervisor.get(f"{AGENTS}/{login}"))
    assert (offered["state"], offered["preview"], offered["record_id"]) == (
        "reserved",
        "offered",
        str(record),
    )
    skipped = ok(post(supervisor, login, "preview/skip"))
    assert (skipped["state"], skipped["record_id"], skipped["preview"]) == ("ready", None, "")

    record, attempt = uuid.uuid4(), uuid.uuid4()
    as_dialer(runtime, calls.offer_preview(account, agent, uuid.UUID(group["id"]), record, attempt))
    accepted = ok(post(supervisor, login, "preview/accept"))
    assert (accepted["state"], accepted["preview"], accepted["attempt_id"]) == (
        "reserved",
        "accepted",
        str(attempt),
    )
    as_dialer(
        runtime,
        calls.connect_call(
            account, agent, group_id=uuid.UUID(group["id"]), record_id=record, attempt_id=attempt
        ),
    )
    as_dialer(runtime, calls.end_call(account, agent, attempt))
    assert ok(post(supervisor, login, "wrap-up/finish", {"then": "ready"}))["state"] == "ready"

    other_team = h.group(admin, made["template"]["id"], [made["list"]["id"]], agent_group=a_team())
    h.assert_problem(
        post(supervisor, login, "preview/next", {"campaign_group_id": other_team["id"]}),
        422,
        "campaign_group_id",
    )
    h.assert_problem(
        post(supervisor, login, "preview/next", {"campaign_group_id": str(uuid.uuid4())}),
        404,
        "campaign_group_id",
    )


@pytest.mark.parametrize(
    ("setup", "action", "body", "words"),
    [
        ("on_call", "ready", None, "is on a call"),
        ("on_call", "logout", None, "is on a call"),
        ("on_call", "not-ready", {"reason": "lunch"}, "is on a call"),
        ("ready", "preview/accept", None, "has no preview record to accept"),
        ("ready", "preview/skip", None, "has no preview record to skip"),
        ("ready", "wrap-up/finish", None, "only an agent in wrap-up"),
        ("logged_out", "ready", None, "is logged out; log in first"),
    ],
)
def test_a_command_the_state_refuses_is_409_naming_it(
    supervisor: httpx.Client,
    runtime: Runtime,
    account_a: Account,
    setup: str,
    action: str,
    body: dict[str, Any] | None,
    words: str,
) -> None:
    login = logged_in(supervisor, a_team())
    if setup == "on_call":
        agent, attempt = agent_id(account_a.id, login), uuid.uuid4()
        as_dialer(
            runtime,
            runtime.handlers.agents.connect_call(
                account_a.id, agent, group_id=uuid.uuid4(), record_id=uuid.uuid4(), attempt_id=attempt
            ),
        )
    if setup == "logged_out":
        ok(post(supervisor, login, "logout"))
    before = ok(supervisor.get(f"{AGENTS}/{login}"))

    problem = h.assert_problem(post(supervisor, login, action, body), 409, "state")

    assert problem["detail"].startswith(f"agent {login!r} "), problem
    assert words in problem["detail"], problem
    assert ok(supervisor.get(f"{AGENTS}/{login}")) == before, "nothing changed"


def test_logging_in_to_another_group_while_logged_in_is_409(supervisor: httpx.Client) -> None:
    team = a_team()
    login = logged_in(supervisor, team)
    again = ok(post(supervisor, login, "login", {"agent_group": team}))
    assert again["state"] == "ready", "logging in again to the same group changes nothing"

    problem = h.assert_problem(
        post(supervisor, login, "login", {"agent_group": a_team()}), 409, "agent_group"
    )
    assert "log out first" in problem["detail"]


def test_an_agent_that_never_logged_in_is_404(supervisor: httpx.Client, viewer: httpx.Client) -> None:
    nobody = a_login()
    h.assert_problem(viewer.get(f"{AGENTS}/{nobody}"), 404, "login")
    for action in ("ready", "logout", "preview/accept", "wrap-up/finish"):
        h.assert_problem(post(supervisor, nobody, action), 404, "login")


def test_another_accounts_agent_is_not_found(supervisor: httpx.Client, other_admin: httpx.Client) -> None:
    login = logged_in(supervisor, a_team())
    h.assert_problem(other_admin.get(f"{AGENTS}/{login}"), 404, "login")
    assert login not in [row["login"] for row in other_admin.get(AGENTS).json()]
    h.assert_problem(post(other_admin, login, "logout"), 404, "login")


def test_a_viewer_reads_but_does_not_write(supervisor: httpx.Client, viewer: httpx.Client) -> None:
    team = a_team()
    login = logged_in(supervisor, team, ready=False)
    h.assert_problem(post(viewer, a_login(), "login", {"agent_group": team}), 403)
    for action, body in (("ready", None), ("not-ready", {"reason": "x"}), ("logout", None)):
        h.assert_problem(post(viewer, login, action, body), 403)
    assert ok(viewer.get(f"{AGENTS}/{login}"))["state"] == "logged_in"
    assert [row["login"] for row in viewer.get(AGENTS, params={"agent_group": team}).json()] == [login]


def test_bad_requests_name_the_field(supervisor: httpx.Client) -> None:
    h.assert_problem(post(supervisor, "amy%20chen", "login", {"agent_group": a_team()}), 422, "login")
    h.assert_problem(post(supervisor, a_login(), "login", {}), 422, "agent_group")
    login = logged_in(supervisor, a_team())
    h.assert_problem(post(supervisor, login, "not-ready", {"reason": "x", "extra": 1}), 422)
    h.assert_problem(
        post(supervisor, login, "preview/next", {"campaign_group_id": "nope"}), 422, "campaign_group_id"
    )


def test_the_routes_are_documented(base_url: str) -> None:
    spec = httpx.get(f"{base_url}/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/api/v1/agents": "get",
        "/api/v1/agents/{login}": "get",
        "/api/v1/agents/{login}/login": "post",
        "/api/v1/agents/{login}/logout": "post",
        "/api/v1/agents/{login}/ready": "post",
        "/api/v1/agents/{login}/not-ready": "post",
        "/api/v1/agents/{login}/preview/next": "post",
        "/api/v1/agents/{login}/preview/accept": "post",
        "/api/v1/agents/{login}/preview/skip": "post",
        "/api/v1/agents/{login}/wrap-up/finish": "post",
    }
    row = {"$ref": "#/components/schemas/AgentRow"}
    for path, method in expected.items():
        operation = paths[path][method]
        assert operation["summary"] and operation["tags"] == ["agents"], path
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == (row if path != "/api/v1/agents" else {"type": "array", "items": row}), path
    login = paths["/api/v1/agents/{login}/login"]["post"]["requestBody"]
    assert login["required"] is True
    assert login["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LogIn"}
    assert paths["/api/v1/agents/{login}/wrap-up/finish"]["post"]["requestBody"]["required"] is False
    schemas = spec["components"]["schemas"]
    assert {"AgentRow", "LogIn", "NotReady", "NextPreview", "FinishWrapUp"} <= set(schemas)
    assert set(schemas["LogIn"]["required"]) == {"agent_group"}


def test_wrap_up_accepts_a_personal_callback(supervisor: httpx.Client, runtime: Runtime, account_a: Account) -> None:
    """``"personal": true`` makes the callback the agent's own (what it does to the record:
    tests/processors/results/test_callbacks.py); a value that is not a boolean is 422 naming it,
    and a callback for an attempt that is not stored is refused, not dropped."""
    login = logged_in(supervisor, a_team())
    agent, calls = agent_id(account_a.id, login), runtime.handlers.agents
    record, attempt = uuid.uuid4(), uuid.uuid4()
    as_dialer(runtime, calls.connect_call(account_a.id, agent, group_id=uuid.uuid4(), record_id=record, attempt_id=attempt))
    as_dialer(runtime, calls.end_call(account_a.id, agent, attempt))
    h.assert_problem(
        post(supervisor, login, "wrap-up/finish", {"callback": {"at": "2026-03-11T10:00:00", "personal": "yes"}}),
        422,
        "callback.personal",
    )
    # This call's attempt was never stored (the dialer here is the test): the callback would
    # have nowhere to go, so the wrap-up is refused rather than the callback dropped.
    body = {"callback": {"at": "2026-03-11T10:00:00", "personal": True}}
    h.assert_problem(post(supervisor, login, "wrap-up/finish", body), 404, "attempt_id")
    assert ok(post(supervisor, login, "wrap-up/finish", {}))["state"] == "ready", "nothing to lose: it ends"
    spec = supervisor.get("/openapi.json").json()
    request = spec["components"]["schemas"]["CallbackRequest"]["properties"]
    assert request["personal"] == {"type": "boolean", "default": False}
