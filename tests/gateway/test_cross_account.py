"""Tenancy: account B's admin never sees, changes or references account A's objects.

Another account's object is reported as missing (404), never shown and never refused
with 403, so its existence does not leak either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

RESOURCES = {
    "dialing": h.DIALING,
    "session": h.SESSION,
    "template": h.TEMPLATES,
    "group": h.GROUPS,
    "list": h.LISTS,
}


@pytest.fixture(scope="module")
def a_objects(admin: httpx.Client) -> dict[str, dict[str, Any]]:
    return h.chain(admin)


@pytest.fixture(scope="module")
def b_objects(other_admin: httpx.Client) -> dict[str, dict[str, Any]]:
    return h.chain(other_admin)


def a_state(admin: httpx.Client, a_objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {kind: h.get(admin, f"{RESOURCES[kind]}/{obj['id']}").json() for kind, obj in a_objects.items()}


def assert_hidden(response: httpx.Response, obj: dict[str, Any]) -> None:
    h.assert_problem(response, 404)
    assert obj["name"] not in response.text


@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_get_patch_delete_of_another_accounts_object_is_404(
    admin: httpx.Client,
    other_admin: httpx.Client,
    a_objects: dict[str, dict[str, Any]],
    runtime: Runtime,
    kind: str,
) -> None:
    obj = a_objects[kind]
    url = f"{RESOURCES[kind]}/{obj['id']}"
    state = a_state(admin, a_objects)
    before = runtime.store.position()
    assert_hidden(other_admin.get(url), obj)
    assert_hidden(other_admin.patch(url, json={"description": "mine now"}), obj)
    assert_hidden(other_admin.patch(url, json={"description": "mine now"}, headers={"If-Match": '"1"'}), obj)
    assert_hidden(other_admin.delete(url), obj)
    assert_hidden(other_admin.delete(url, headers={"If-Match": f'"{obj["version"]}"'}), obj)
    assert runtime.store.position() == before
    assert a_state(admin, a_objects) == state


@pytest.mark.parametrize("action", ["start", "pause", "resume", "stop"])
def test_actions_on_another_accounts_group_are_404(
    admin: httpx.Client,
    other_admin: httpx.Client,
    a_objects: dict[str, dict[str, Any]],
    runtime: Runtime,
    action: str,
) -> None:
    group = a_objects["group"]
    before = runtime.store.position()
    assert_hidden(other_admin.post(f"{h.GROUPS}/{group['id']}/{action}"), group)
    assert runtime.store.position() == before
    assert h.get(admin, f"{h.GROUPS}/{group['id']}").json()["status"] == "loaded"


@pytest.mark.parametrize("kind", ["dialing", "session"])
def test_make_default_of_another_accounts_profile_is_404(
    other_admin: httpx.Client, a_objects: dict[str, dict[str, Any]], runtime: Runtime, kind: str
) -> None:
    profile = a_objects[kind]
    before = runtime.store.position()
    assert_hidden(other_admin.post(f"{RESOURCES[kind]}/{profile['id']}/make-default"), profile)
    assert runtime.store.position() == before


@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_lists_show_only_the_callers_objects(
    admin: httpx.Client,
    other_admin: httpx.Client,
    a_objects: dict[str, dict[str, Any]],
    b_objects: dict[str, dict[str, Any]],
    kind: str,
) -> None:
    theirs = h.ids(other_admin, RESOURCES[kind])
    mine = h.ids(admin, RESOURCES[kind])
    assert b_objects[kind]["id"] in theirs
    assert a_objects[kind]["id"] in mine
    assert not set(theirs) & set(mine)
    assert a_objects[kind]["name"] not in h.get(other_admin, RESOURCES[kind]).text


def test_hierarchy_and_settings_are_per_account(
    admin: httpx.Client,
    other_admin: httpx.Client,
    a_objects: dict[str, dict[str, Any]],
    b_objects: dict[str, dict[str, Any]],
) -> None:
    text = h.get(other_admin, h.HIERARCHY).text
    for obj in a_objects.values():
        assert obj["id"] not in text
    assert b_objects["group"]["id"] in text
    assert h.get(other_admin, h.SETTINGS).json()["id"] != h.get(admin, h.SETTINGS).json()["id"]


def test_referencing_another_accounts_objects_is_404_naming_the_field(
    admin: httpx.Client,
    other_admin: httpx.Client,
    a_objects: dict[str, dict[str, Any]],
    b_objects: dict[str, dict[str, Any]],
    runtime: Runtime,
) -> None:
    state = a_state(admin, a_objects)
    before = runtime.store.position()

    body: dict[str, Any] = {
        "name": h.unique("Stolen list"),
        "template_id": b_objects["template"]["id"],
        "contact_list_ids": [a_objects["list"]["id"]],
    }
    assert_hidden(other_admin.post(h.GROUPS, json=body), a_objects["list"])
    h.assert_problem(other_admin.post(h.GROUPS, json=body), 404, "contact_list_ids[0]")

    body["contact_list_ids"] = [b_objects["list"]["id"], a_objects["list"]["id"]]
    h.assert_problem(other_admin.post(h.GROUPS, json=body), 404, "contact_list_ids[1]")

    body = {
        "name": h.unique("Stolen template"),
        "template_id": a_objects["template"]["id"],
        "contact_list_ids": [b_objects["list"]["id"]],
    }
    h.assert_problem(other_admin.post(h.GROUPS, json=body), 404, "template_id")

    for kind, field in (("dialing", "dialing_profile_id"), ("session", "session_profile_id")):
        other = "session" if kind == "dialing" else "dialing"
        body = {
            "name": h.unique("Stolen profile"),
            field: a_objects[kind]["id"],
            f"{other}_profile_id": b_objects[other]["id"],
        }
        h.assert_problem(other_admin.post(h.TEMPLATES, json=body), 404, field)
        patch = {field: a_objects[kind]["id"]}
        url = f"{h.TEMPLATES}/{b_objects['template']['id']}"
        h.assert_problem(other_admin.patch(url, json=patch), 404, field)

    url = f"{h.GROUPS}/{b_objects['group']['id']}"
    h.assert_problem(
        other_admin.patch(url, json={"contact_list_ids": [a_objects["list"]["id"]]}),
        404,
        "contact_list_ids[0]",
    )

    assert runtime.store.position() == before
    assert a_state(admin, a_objects) == state


def test_names_are_unique_per_account_only(
    other_admin: httpx.Client, a_objects: dict[str, dict[str, Any]]
) -> None:
    """Account B may use a name account A already has."""
    made = h.create(other_admin, h.LISTS, {"name": a_objects["list"]["name"]})
    assert made["id"] != a_objects["list"]["id"]


def test_another_accounts_public_key_is_hidden(
    new_account: Callable[[], Account], other_admin: httpx.Client, rsa_key: str, runtime: Runtime
) -> None:
    owner = new_account().admin
    response = owner.post(h.PUBLIC_KEYS, json={"user_id": "t@example.com", "armored": rsa_key})
    assert response.status_code == 201, response.text
    fingerprint = response.json()["fingerprint"]
    assert fingerprint not in h.get(other_admin, h.PUBLIC_KEYS).text
    assert fingerprint not in h.get(other_admin, h.SETTINGS).text
    before = runtime.store.position()
    h.assert_problem(other_admin.delete(f"{h.PUBLIC_KEYS}/{fingerprint}"), 404, "fingerprint")
    assert runtime.store.position() == before
    assert [k["fingerprint"] for k in h.get(owner, h.PUBLIC_KEYS).json()] == [fingerprint]
