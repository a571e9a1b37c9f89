"""Small helpers the gateway tests share: unique names, builders over HTTP, problem checks."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx

PROBLEM = "application/problem+json"

DIALING = "/api/v1/dialing-profiles"
SESSION = "/api/v1/session-profiles"
TEMPLATES = "/api/v1/campaign-templates"
GROUPS = "/api/v1/campaign-groups"
LISTS = "/api/v1/contact-lists"
API_KEYS = "/api/v1/api-keys"
SETTINGS = "/api/v1/settings"
PUBLIC_KEYS = "/api/v1/settings/public-keys"
HIERARCHY = "/api/v1/hierarchy"


def unique(prefix: str) -> str:
    return f"{prefix} {uuid4().hex[:10]}"


def create(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    data: dict[str, Any] = response.json()
    assert response.headers["ETag"] == f'"{data["version"]}"'
    return data


def get(client: httpx.Client, path: str) -> httpx.Response:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response


def etag(client: httpx.Client, path: str) -> str:
    value = get(client, path).headers["ETag"]
    assert value.startswith('"') and value.endswith('"'), value
    return value


def names(client: httpx.Client, path: str) -> list[str]:
    response = get(client, path)
    return [item["name"] for item in response.json()]


def ids(client: httpx.Client, path: str) -> list[str]:
    response = get(client, path)
    return [item["id"] for item in response.json()]


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with this status (and field)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status, body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    if field is not None:
        assert body.get("field") == field, body
    return body


# Builders ------------------------------------------------------------------------------


def dialing_profile(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return create(client, DIALING, {"name": unique("Dialing"), **fields})


def session_profile(
    client: httpx.Client, agent_group: str = "Sales", channel: str = "voice", **fields: Any
) -> dict[str, Any]:
    body = {
        "name": unique("Session"),
        "settings": {"agent_group": agent_group, "channel": channel},
        **fields,
    }
    return create(client, SESSION, body)


def template(client: httpx.Client, dialing_id: str, session_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": unique("Template"),
        "dialing_profile_id": dialing_id,
        "session_profile_id": session_id,
        **fields,
    }
    return create(client, TEMPLATES, body)


def contact_list(client: httpx.Client, channel: str = "voice", **fields: Any) -> dict[str, Any]:
    return create(client, LISTS, {"name": unique("List"), "settings": {"channel": channel}, **fields})


def group(client: httpx.Client, template_id: str, list_ids: list[str], **fields: Any) -> dict[str, Any]:
    body = {
        "name": unique("Group"),
        "template_id": template_id,
        "contact_list_ids": list_ids,
        **fields,
    }
    return create(client, GROUPS, body)


def chain(admin: httpx.Client, writer: httpx.Client | None = None) -> dict[str, dict[str, Any]]:
    """A dialing and a session profile, a template, a voice list and a group using them.

    Session profiles need an admin; ``writer`` (a supervisor, say) makes the rest.
    """
    writer = writer or admin
    dialing = dialing_profile(writer)
    session = session_profile(admin)
    made = template(writer, dialing["id"], session["id"])
    contacts = contact_list(writer)
    grouped = group(writer, made["id"], [contacts["id"]])
    return {
        "dialing": dialing,
        "session": session,
        "template": made,
        "list": contacts,
        "group": grouped,
    }
