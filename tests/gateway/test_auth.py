"""Authentication (401 with WWW-Authenticate) and the role of every write endpoint (403).

Roles: admin does everything; a supervisor writes dialing profiles, campaign templates,
campaign groups and contact lists, but not settings, session profiles or API keys; a
viewer only reads, and API keys are admin-only even for reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h

FINGERPRINT = "ABCDEF0123456789ABCDEF0123456789ABCDEF01"
NO_RECORD = "0c0ffee0-0000-4000-8000-000000000001"  # attempts to it: 404 once the role allows

# (method, path, body, the least role that may call it)
SPECS = "/api/v1/specification-files"
MAPPINGS = "/api/v1/data-mappings"
RULES = "/api/v1/upload-rules"
SUPPRESSION = "/api/v1/suppression-lists"
ENTRIES = {"entries": [{"kind": "phone", "value": "(312) 555-0143"}]}
MAPPED = [{"column": "id", "field": "client_id"}, {"column": "phone", "field": "contact_info"}]
AGENT_LOGIN = "auth-desk-agent"
AGENT = f"/api/v1/agents/{AGENT_LOGIN}"
AUTOMATIONS = "/api/v1/list-automations"
AUTOMATION_JOB: dict[str, Any] = {
    "schedule": {"kind": "cron", "cron": "0 6 * * 1-5", "time_zone": "America/New_York"},
    "source": {
        "location": "sftp://127.0.0.1:1/inbox",
        "username": "crm",
        "login": "password",
        "password": "pw",
    },
    "action": {"type": "import_file", "import": {"files": {"operator": "contains", "value": "leads"}}},
}
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("PATCH", h.SETTINGS, {"pacing": {"target_abandon_rate": 2}}, "admin"),
    ("POST", h.PUBLIC_KEYS, {"user_id": "t@example.com", "armored": "not a key"}, "admin"),
    ("DELETE", f"{h.PUBLIC_KEYS}/{FINGERPRINT}", None, "admin"),
    ("POST", h.DIALING, {"name": "{unique}"}, "supervisor"),
    ("PATCH", f"{h.DIALING}/{{dialing}}", {"description": "changed"}, "supervisor"),
    ("DELETE", f"{h.DIALING}/{{dialing}}", None, "supervisor"),
    ("POST", f"{h.DIALING}/{{dialing}}/make-default", None, "supervisor"),
    ("POST", h.SESSION, {"name": "{unique}"}, "admin"),
    ("PATCH", f"{h.SESSION}/{{session}}", {"description": "changed"}, "admin"),
    ("DELETE", f"{h.SESSION}/{{session}}", None, "admin"),
    ("POST", f"{h.SESSION}/{{session}}/make-default", None, "admin"),
    ("POST", h.TEMPLATES, {"name": "{unique}"}, "supervisor"),
    ("PATCH", f"{h.TEMPLATES}/{{template}}", {"description": "changed"}, "supervisor"),
    ("DELETE", f"{h.TEMPLATES}/{{template}}", None, "supervisor"),
    (
        "POST",
        h.GROUPS,
        {"name": "{unique}", "template_id": "{template}", "contact_list_ids": ["{list}"]},
        "supervisor",
    ),
    ("PATCH", f"{h.GROUPS}/{{group}}", {"description": "changed"}, "supervisor"),
    ("DELETE", f"{h.GROUPS}/{{group}}", None, "supervisor"),
    ("POST", f"{h.GROUPS}/{{group}}/start", None, "supervisor"),
    ("POST", f"{h.GROUPS}/{{group}}/pause", None, "supervisor"),
    ("POST", f"{h.GROUPS}/{{group}}/resume", None, "supervisor"),
    ("POST", f"{h.GROUPS}/{{group}}/stop", None, "supervisor"),
    ("POST", h.LISTS, {"name": "{unique}"}, "supervisor"),
    ("PATCH", f"{h.LISTS}/{{list}}", {"description": "changed"}, "supervisor"),
    ("DELETE", f"{h.LISTS}/{{list}}", None, "supervisor"),
    ("POST", f"{h.LISTS}/{{list}}/imports", None, "supervisor"),
    ("POST", SPECS, {"name": "{unique}", "fields": MAPPED}, "supervisor"),
    ("PATCH", f"{SPECS}/{{spec}}", {"description": "changed"}, "supervisor"),
    ("DELETE", f"{SPECS}/{{spec}}", None, "supervisor"),
    ("POST", MAPPINGS, {"name": "{unique}", "fields": MAPPED}, "supervisor"),
    ("PATCH", f"{MAPPINGS}/{{mapping}}", {"description": "changed"}, "supervisor"),
    ("DELETE", f"{MAPPINGS}/{{mapping}}", None, "supervisor"),
    ("POST", RULES, {"name": "{unique}", "data_mapping_id": "{mapping}"}, "supervisor"),
    ("PATCH", f"{RULES}/{{rule}}", {"description": "changed"}, "supervisor"),
    ("DELETE", f"{RULES}/{{rule}}", None, "supervisor"),
    ("POST", SUPPRESSION, {"name": "{unique}"}, "supervisor"),
    ("PATCH", f"{SUPPRESSION}/{{suppression}}", {"description": "changed"}, "supervisor"),
    ("DELETE", f"{SUPPRESSION}/{{suppression}}", None, "supervisor"),
    ("POST", f"{SUPPRESSION}/{{suppression}}/entries", ENTRIES, "supervisor"),
    ("DELETE", f"{SUPPRESSION}/{{suppression}}/entries", ENTRIES, "supervisor"),
    ("POST", f"{SUPPRESSION}/{{suppression}}/imports", None, "supervisor"),
    ("POST", f"/api/v1/records/{NO_RECORD}/attempts", {}, "supervisor"),
    (
        "PUT",
        f"{h.GROUPS}/{{group}}/suppression-lists",
        {"suppression_list_ids": ["{suppression}"]},
        "supervisor",
    ),
    ("PUT", f"{h.SETTINGS}/compliance", {}, "admin"),
    ("PUT", f"{h.SETTINGS}/dispositions", {}, "admin"),
    (
        "POST",
        "/api/v1/compliance/validate",
        {"contact_info": "+12125550100", "time_zone": "America/New_York"},
        "supervisor",
    ),
    ("POST", f"{h.GROUPS}/{{group}}/dialing-mode", {"dialing_mode": "progressive"}, "supervisor"),
    ("POST", f"{AGENT}/login", {"agent_group": "Auth desk"}, "supervisor"),
    ("POST", f"{AGENT}/ready", None, "supervisor"),
    ("POST", f"{AGENT}/not-ready", {"reason": "break"}, "supervisor"),
    ("POST", f"{AGENT}/preview/next", {"campaign_group_id": "{group}"}, "supervisor"),
    ("POST", f"{AGENT}/preview/accept", None, "supervisor"),
    ("POST", f"{AGENT}/preview/skip", None, "supervisor"),
    ("POST", f"{AGENT}/wrap-up/finish", None, "supervisor"),
    ("POST", f"{AGENT}/logout", None, "supervisor"),
    ("POST", AUTOMATIONS, {**AUTOMATION_JOB, "name": "{unique}"}, "supervisor"),
    ("PATCH", f"{AUTOMATIONS}/{{automation}}", {"description": "changed"}, "supervisor"),
    ("DELETE", f"{AUTOMATIONS}/{{automation}}", None, "supervisor"),
    ("POST", f"{AUTOMATIONS}/{{automation}}/disable", None, "supervisor"),
    ("POST", f"{AUTOMATIONS}/{{automation}}/enable", None, "supervisor"),
    ("POST", f"{AUTOMATIONS}/{{automation}}/run", None, "supervisor"),
    (
        "POST",
        f"{AUTOMATIONS}/{{automation}}/trust-host-key",
        {"fingerprint": "SHA256:" + "A" * 43},
        "supervisor",
    ),
    ("GET", h.API_KEYS, None, "admin"),
    ("POST", h.API_KEYS, {"name": "{unique}", "role": "admin"}, "admin"),
    ("DELETE", f"{h.API_KEYS}/{{key}}", None, "admin"),
]
READS = [
    h.SETTINGS,
    h.PUBLIC_KEYS,
    h.DIALING,
    f"{h.DIALING}/{{dialing}}",
    h.SESSION,
    f"{h.SESSION}/{{session}}",
    h.TEMPLATES,
    f"{h.TEMPLATES}/{{template}}",
    h.GROUPS,
    f"{h.GROUPS}/{{group}}",
    h.LISTS,
    f"{h.LISTS}/{{list}}",
    h.HIERARCHY,
    SUPPRESSION,
    f"{SUPPRESSION}/{{suppression}}",
    "/api/v1/records/00000000-0000-4000-8000-000000000001/dialability",
    "/api/v1/agents",
    f"{h.GROUPS}/{{group}}/status",
    AUTOMATIONS,
    f"{AUTOMATIONS}/{{automation}}",
    f"{AUTOMATIONS}/{{automation}}/next-runs",
    f"{AUTOMATIONS}/{{automation}}/activity",
]
EVERY_ENDPOINT = [(m, p, b) for m, p, b, _ in ENDPOINTS] + [("GET", p, None) for p in READS]


@pytest.fixture(scope="module")
def world(admin: httpx.Client) -> dict[str, str]:
    """Ids of one object of each kind in account A, made by its admin."""
    made = h.chain(admin)
    key = admin.post(h.API_KEYS, json={"name": h.unique("Target"), "role": "viewer"})
    assert key.status_code == 201, key.text
    ids = {kind: item["id"] for kind, item in made.items()}
    ids["key"] = key.json()["id"]
    return ids | _list_rules(admin)


def _list_rules(admin: httpx.Client) -> dict[str, str]:
    """A specification file, a data mapping and an upload rule using neither of them."""
    spec = h.create(admin, SPECS, {"name": h.unique("Spec"), "fields": MAPPED})
    mapping = h.create(admin, MAPPINGS, {"name": h.unique("Mapping"), "fields": MAPPED})
    other = h.create(admin, MAPPINGS, {"name": h.unique("Mapping"), "fields": MAPPED})
    rule = h.create(admin, RULES, {"name": h.unique("Rule"), "data_mapping_id": other["id"]})
    suppression = h.create(admin, SUPPRESSION, {"name": h.unique("Suppression")})
    automation = h.create(admin, AUTOMATIONS, {**AUTOMATION_JOB, "name": h.unique("Automation")})
    return {
        "spec": spec["id"],
        "mapping": mapping["id"],
        "rule": rule["id"],
        "suppression": suppression["id"],
        "automation": automation["id"],
    }


def fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.replace("{unique}", h.unique("Role test")).format(**world)
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    return value


def call(client: httpx.Client, method: str, path: str, body: Any, world: dict[str, str]) -> httpx.Response:
    if body is None:
        return client.request(method, fill(path, world))
    return client.request(method, fill(path, world), json=fill(body, world))


def snapshot(admin: httpx.Client) -> dict[str, Any]:
    """What a refused request must leave untouched."""
    paths = [
        h.SETTINGS,
        h.DIALING,
        h.SESSION,
        h.TEMPLATES,
        h.GROUPS,
        h.LISTS,
        h.API_KEYS,
        h.HIERARCHY,
        SUPPRESSION,
    ]
    return {path: h.get(admin, path).json() for path in paths}


# 401 -----------------------------------------------------------------------------------------


def _assert_unauthorised(response: httpx.Response) -> None:
    h.assert_problem(response, 401, "Authorization")
    challenge = response.headers.get("WWW-Authenticate")
    assert challenge is not None and challenge.startswith("Bearer"), response.headers


@pytest.mark.parametrize(("method", "path", "body"), EVERY_ENDPOINT)
def test_missing_key_is_401(
    client_for: Callable[[str | None], httpx.Client],
    world: dict[str, str],
    runtime: Runtime,
    method: str,
    path: str,
    body: Any,
) -> None:
    before = runtime.store.position()
    _assert_unauthorised(call(client_for(None), method, path, body, world))
    assert runtime.store.position() == before


@pytest.mark.parametrize(("method", "path", "body"), EVERY_ENDPOINT)
def test_unknown_key_is_401(
    client_for: Callable[[str | None], httpx.Client],
    world: dict[str, str],
    runtime: Runtime,
    method: str,
    path: str,
    body: Any,
) -> None:
    before = runtime.store.position()
    _assert_unauthorised(call(client_for("dsk_" + "x" * 43), method, path, body, world))
    assert runtime.store.position() == before


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Basic dXNlcjpwYXNz", "Token dsk_abcdefghijklmnopqrstuvwxyz", "dsk_abc"],
)
def test_malformed_authorization_is_401(base_url: str, authorization: str) -> None:
    with httpx.Client(base_url=base_url, headers={"Authorization": authorization}) as client:
        _assert_unauthorised(client.get(h.LISTS))


def test_admin_secret_in_another_scheme_is_401(base_url: str, server: Any) -> None:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Basic {server.admin_secret}"}) as client:
        _assert_unauthorised(client.get(h.LISTS))


def test_bearer_scheme_is_case_insensitive(base_url: str, server: Any) -> None:
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"bearer {server.admin_secret}"}
    ) as client:
        h.get(client, h.LISTS)


def test_revoked_key_is_401_everywhere(
    admin: httpx.Client,
    client_for: Callable[[str | None], httpx.Client],
    world: dict[str, str],
    runtime: Runtime,
) -> None:
    issued = admin.post(h.API_KEYS, json={"name": h.unique("Revoked"), "role": "admin"}).json()
    assert admin.delete(f"{h.API_KEYS}/{issued['id']}").status_code == 204
    client = client_for(issued["secret"])
    before = runtime.store.position()
    for method, path, body in EVERY_ENDPOINT:
        _assert_unauthorised(call(client, method, path, body, world))
    assert runtime.store.position() == before


def test_health_and_docs_need_no_key(client_for: Callable[[str | None], httpx.Client]) -> None:
    anonymous = client_for(None)
    for path in ("/healthz", "/openapi.json", "/"):
        assert anonymous.get(path).status_code == 200, path


# 403 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body", "least"), ENDPOINTS)
def test_viewer_is_refused_every_write(
    viewer: httpx.Client,
    admin: httpx.Client,
    world: dict[str, str],
    runtime: Runtime,
    method: str,
    path: str,
    body: Any,
    least: str,
) -> None:
    state = snapshot(admin)
    before = runtime.store.position()
    h.assert_problem(call(viewer, method, path, body, world), 403)
    assert runtime.store.position() == before
    assert snapshot(admin) == state


ADMIN_ONLY = [e for e in ENDPOINTS if e[3] == "admin"]


@pytest.mark.parametrize(("method", "path", "body", "least"), ADMIN_ONLY)
def test_supervisor_is_refused_admin_endpoints(
    supervisor: httpx.Client,
    admin: httpx.Client,
    world: dict[str, str],
    runtime: Runtime,
    method: str,
    path: str,
    body: Any,
    least: str,
) -> None:
    state = snapshot(admin)
    before = runtime.store.position()
    h.assert_problem(call(supervisor, method, path, body, world), 403)
    assert runtime.store.position() == before
    assert snapshot(admin) == state


def test_every_write_endpoint_is_in_the_role_table(base_url: str) -> None:
    """A new write route must be added to ENDPOINTS, so its role is tested."""
    spec = httpx.get(f"{base_url}/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if path.startswith("/api/v1/")
    }
    writes = {(m, p) for m, p in routes if m != "GET"} | {("GET", h.API_KEYS)}

    placeholders = {
        "{dialing}": "{profile_id}",
        "{session}": "{profile_id}",
        "{template}": "{template_id}",
        "{group}": "{group_id}",
        "{list}": "{list_id}",
        "{key}": "{key_id}",
        "{spec}": "{specification_file_id}",
        "{mapping}": "{data_mapping_id}",
        "{rule}": "{upload_rule_id}",
        "{suppression}": "{suppression_list_id}",
        "{automation}": "{job_id}",
        FINGERPRINT: "{fingerprint}",
        NO_RECORD: "{record_id}",
        AGENT_LOGIN: "{login}",
    }
    for action in ("start", "pause", "resume", "stop"):
        placeholders[f"{{group_id}}/{action}"] = "{group_id}/{action}"

    def route(path: str) -> str:
        for filled, parameter in placeholders.items():
            path = path.replace(filled, parameter)
        return path

    tabled = {(method, route(path)) for method, path, _, _ in ENDPOINTS}
    assert writes - SIGNED <= tabled, writes - SIGNED - tabled


# Written to by an SMS provider or a mail reader, who have no API key: each request is checked
# by its own signature or token instead (tests/processors/dialer/test_message_campaigns.py).
SIGNED = {
    ("POST", "/api/v1/channels/sms/status"),
    ("POST", "/api/v1/channels/sms/inbound"),
    ("POST", "/api/v1/channels/email/unsubscribe"),
}


@pytest.mark.parametrize(("method", "path"), sorted(SIGNED))
def test_the_signed_routes_store_nothing_without_their_configuration(
    method: str, path: str, base_url: str, runtime: Runtime
) -> None:
    """This server has no public URL and no SMS provider: nothing a caller sends is taken."""
    before = runtime.store.position()
    answer = httpx.request(
        method, f"{base_url}{path}?account=00000000-0000-4000-8000-000000000001", data={"Body": "STOP"}
    )
    assert answer.status_code == 404, answer.text
    assert runtime.store.position() == before


def test_supervisor_writes_what_it_may(supervisor: httpx.Client, runtime: Runtime) -> None:
    """The supervisor's own resources: one of each write succeeds (details in each module)."""
    dialing = h.dialing_profile(supervisor)
    contacts = h.contact_list(supervisor)
    assert supervisor.patch(f"{h.DIALING}/{dialing['id']}", json={"description": "ok"}).status_code == 200
    assert supervisor.patch(f"{h.LISTS}/{contacts['id']}", json={"description": "ok"}).status_code == 200
    assert supervisor.delete(f"{h.DIALING}/{dialing['id']}").status_code == 204
    assert supervisor.delete(f"{h.LISTS}/{contacts['id']}").status_code == 204


@pytest.fixture
def fresh_world(admin: httpx.Client) -> dict[str, str]:
    """Like ``world``, but new for each test, so the allowed writes may change it."""
    made = h.chain(admin)
    key = admin.post(h.API_KEYS, json={"name": h.unique("Target"), "role": "viewer"})
    assert key.status_code == 201, key.text
    ids = {kind: item["id"] for kind, item in made.items()}
    ids["key"] = key.json()["id"]
    return ids | _list_rules(admin)


@pytest.mark.parametrize(("method", "path", "body", "least"), ENDPOINTS)
def test_admin_is_allowed_every_endpoint(
    admin: httpx.Client, fresh_world: dict[str, str], method: str, path: str, body: Any, least: str
) -> None:
    response = call(admin, method, path, body, fresh_world)
    assert response.status_code not in (401, 403), response.text
    assert response.status_code < 500, response.text


SUPERVISED = [e for e in ENDPOINTS if e[3] == "supervisor"]


@pytest.mark.parametrize(("method", "path", "body", "least"), SUPERVISED)
def test_supervisor_is_allowed_its_endpoints(
    supervisor: httpx.Client, fresh_world: dict[str, str], method: str, path: str, body: Any, least: str
) -> None:
    response = call(supervisor, method, path, body, fresh_world)
    assert response.status_code not in (401, 403), response.text
    assert response.status_code < 500, response.text
