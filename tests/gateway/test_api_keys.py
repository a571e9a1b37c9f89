"""/api/v1/api-keys over HTTP: admin-only, even for reads; the secret is shown once."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_issue_list_and_use_a_key(
    admin: httpx.Client, client_for: Callable[[str | None], httpx.Client]
) -> None:
    name = h.unique("Reporting")
    response = admin.post(h.API_KEYS, json={"name": name, "role": "viewer"})
    assert response.status_code == 201, response.text
    issued = response.json()
    assert set(issued) == {"id", "name", "role", "secret"}
    assert (issued["name"], issued["role"]) == (name, "viewer")
    assert issued["secret"].startswith("dsk_") and len(issued["secret"]) >= 20

    listed = {k["id"]: k for k in h.get(admin, h.API_KEYS).json()}
    assert listed[issued["id"]] == {
        "id": issued["id"],
        "name": name,
        "role": "viewer",
        "prefix": issued["secret"][:8],
        "revoked": False,
    }
    # The secret is never shown again.
    assert issued["secret"] not in h.get(admin, h.API_KEYS).text
    assert issued["secret"] not in h.get(admin, h.SETTINGS).text

    key = client_for(issued["secret"])
    h.get(key, h.LISTS)
    h.assert_problem(key.post(h.LISTS, json={"name": h.unique("Nope")}), 403)


def test_each_role_gets_its_rights(
    admin: httpx.Client, client_for: Callable[[str | None], httpx.Client]
) -> None:
    clients = {}
    for role in ("admin", "supervisor", "viewer"):
        response = admin.post(h.API_KEYS, json={"name": h.unique(role), "role": role})
        assert response.status_code == 201, response.text
        clients[role] = client_for(response.json()["secret"])
    assert clients["admin"].get(h.API_KEYS).status_code == 200
    h.assert_problem(clients["supervisor"].get(h.API_KEYS), 403)
    assert clients["supervisor"].post(h.LISTS, json={"name": h.unique("Ok")}).status_code == 201
    h.assert_problem(clients["viewer"].post(h.LISTS, json={"name": h.unique("Nope")}), 403)


def test_revoked_key_is_refused(
    admin: httpx.Client, client_for: Callable[[str | None], httpx.Client]
) -> None:
    response = admin.post(h.API_KEYS, json={"name": h.unique("Temp"), "role": "supervisor"})
    issued = response.json()
    key = client_for(issued["secret"])
    h.get(key, h.LISTS)
    response = admin.delete(f"{h.API_KEYS}/{issued['id']}")
    assert response.status_code == 204, response.text
    refused = key.get(h.LISTS)
    h.assert_problem(refused, 401, "Authorization")
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    listed = {k["id"]: k for k in h.get(admin, h.API_KEYS).json()}
    assert listed[issued["id"]]["revoked"] is True
    # Revoking again changes nothing.
    assert admin.delete(f"{h.API_KEYS}/{issued['id']}").status_code == 204


def test_revoking_an_unknown_key_is_404(admin: httpx.Client, runtime: Runtime) -> None:
    before = runtime.store.position()
    h.assert_problem(admin.delete(f"{h.API_KEYS}/{UNKNOWN}"), 404, "key_id")
    assert runtime.store.position() == before


def test_the_last_admin_key_cannot_be_revoked(new_account: Callable[[], Account], runtime: Runtime) -> None:
    account = new_account()
    (only,) = h.get(account.admin, h.API_KEYS).json()
    before = runtime.store.position()
    h.assert_problem(account.admin.delete(f"{h.API_KEYS}/{only['id']}"), 422, "key_id")
    assert runtime.store.position() == before
    h.get(account.admin, h.API_KEYS)
    # With a second admin key, the first can go.
    second = account.admin.post(h.API_KEYS, json={"name": "second admin", "role": "admin"})
    assert second.status_code == 201, second.text
    assert account.admin.delete(f"{h.API_KEYS}/{only['id']}").status_code == 204
    h.assert_problem(account.admin.get(h.API_KEYS), 401)


def test_supervisor_and_viewer_cannot_read_or_manage_keys(
    supervisor: httpx.Client, viewer: httpx.Client, admin: httpx.Client, runtime: Runtime
) -> None:
    some_key = h.get(admin, h.API_KEYS).json()[0]["id"]
    before = runtime.store.position()
    for client in (supervisor, viewer):
        h.assert_problem(client.get(h.API_KEYS), 403)
        h.assert_problem(client.post(h.API_KEYS, json={"name": h.unique("Escalate"), "role": "admin"}), 403)
        h.assert_problem(client.delete(f"{h.API_KEYS}/{some_key}"), 403)
    assert runtime.store.position() == before


def test_settings_do_not_reveal_api_keys_to_non_admins(
    supervisor: httpx.Client, viewer: httpx.Client, admin: httpx.Client
) -> None:
    """API keys are admin-only even for reads, so the settings page must not list them."""
    keys = h.get(admin, h.API_KEYS).json()
    for client in (supervisor, viewer):
        text = h.get(client, h.SETTINGS).text
        leaked = [k["name"] for k in keys if k["id"] in text or k["prefix"] in text]
        assert leaked == [], f"GET /api/v1/settings shows a non-admin the API keys {leaked}"


def test_invalid_requests_are_422(admin: httpx.Client, runtime: Runtime) -> None:
    before = runtime.store.position()
    h.assert_problem(admin.post(h.API_KEYS, json={"name": "x", "role": "root"}), 422, "role")
    h.assert_problem(admin.post(h.API_KEYS, json={"name": "", "role": "viewer"}), 422, "name")
    h.assert_problem(admin.post(h.API_KEYS, json={"name": "   ", "role": "viewer"}), 422, "name")
    h.assert_problem(admin.post(h.API_KEYS, json={"role": "viewer"}), 422, "name")
    h.assert_problem(
        admin.post(h.API_KEYS, json={"name": "x", "role": "viewer", "secret": "mine"}), 422, "secret"
    )
    h.assert_problem(admin.delete(f"{h.API_KEYS}/not-a-uuid"), 422, "key_id")
    assert runtime.store.position() == before


def test_keys_are_scoped_to_their_account(
    admin: httpx.Client, other_admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime
) -> None:
    mine = {k["id"] for k in h.get(admin, h.API_KEYS).json()}
    theirs = {k["id"] for k in h.get(other_admin, h.API_KEYS).json()}
    assert mine and theirs and not mine & theirs
    supervisor_key = next(k for k in h.get(admin, h.API_KEYS).json() if k["name"] == "test supervisor")
    before = runtime.store.position()
    h.assert_problem(other_admin.delete(f"{h.API_KEYS}/{supervisor_key['id']}"), 404)
    assert runtime.store.position() == before
    h.get(supervisor, h.LISTS)
