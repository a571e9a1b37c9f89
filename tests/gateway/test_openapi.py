"""/healthz, /openapi.json, the documentation and the web page at /."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime


@pytest.fixture(scope="module")
def spec(base_url: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def test_healthz(base_url: str, runtime: Runtime, admin: httpx.Client) -> None:
    response = httpx.get(f"{base_url}/healthz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["bus"] == "embedded"
    assert isinstance(body["log_position"], int) and body["log_position"] >= 1
    assert body["read_models_position"] <= body["log_position"]
    assert runtime.wait(body["log_position"])


# (path, methods) of every resource under /api/v1
PATHS = {
    "/api/v1/settings": {"get", "patch"},
    "/api/v1/settings/public-keys": {"get", "post"},
    "/api/v1/settings/public-keys/{fingerprint}": {"delete"},
    "/api/v1/dialing-profiles": {"get", "post"},
    "/api/v1/dialing-profiles/{profile_id}": {"get", "patch", "delete"},
    "/api/v1/dialing-profiles/{profile_id}/make-default": {"post"},
    "/api/v1/session-profiles": {"get", "post"},
    "/api/v1/session-profiles/{profile_id}": {"get", "patch", "delete"},
    "/api/v1/session-profiles/{profile_id}/make-default": {"post"},
    "/api/v1/campaign-templates": {"get", "post"},
    "/api/v1/campaign-templates/{template_id}": {"get", "patch", "delete"},
    "/api/v1/campaign-groups": {"get", "post"},
    "/api/v1/campaign-groups/{group_id}": {"get", "patch", "delete"},
    "/api/v1/campaign-groups/{group_id}/{action}": {"post"},
    "/api/v1/contact-lists": {"get", "post"},
    "/api/v1/contact-lists/{list_id}": {"get", "patch", "delete"},
    "/api/v1/contact-lists/{list_id}/records": {"get"},
    "/api/v1/records/{record_id}": {"get"},
    "/api/v1/api-keys": {"get", "post"},
    "/api/v1/api-keys/{key_id}": {"delete"},
    "/api/v1/hierarchy": {"get"},
    "/api/v1/channels/sms/status": {"post"},
    "/api/v1/channels/sms/inbound": {"post"},
    "/api/v1/channels/email/unsubscribe": {"get", "post"},
}


def test_every_resource_is_documented(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Dialstream"
    for path, methods in PATHS.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, set(spec["paths"][path]))
    undocumented = {p for p in spec["paths"] if p.startswith("/api/") and not p.startswith("/api/v1/")}
    assert not undocumented


@pytest.mark.parametrize(
    "name",
    [
        "Account",
        "AccountSettings",
        "UpdateSettings",
        "PacingSettings",
        "PublicKey",
        "ImportPublicKeyRequest",
        "CreateDialingProfile",
        "ChangeDialingProfile",
        "DialingSettings",
        "CreateSessionProfile",
        "ChangeSessionProfile",
        "SessionSettings",
        "CampaignTemplate",
        "CreateCampaignTemplate",
        "ChangeCampaignTemplate",
        "DialingOverrides",
        "SessionOverrides",
        "CampaignGroup",
        "CreateCampaignGroup",
        "ChangeCampaignGroup",
        "ContactList",
        "CreateContactList",
        "ChangeContactList",
        "ContactListSettings",
        "IssueApiKeyRequest",
        "IssuedApiKey",
        "ApiKeyView",
        "Hierarchy",
    ],
)
def test_msgspec_component_schemas(spec: dict[str, Any], name: str) -> None:
    schemas = spec["components"]["schemas"]
    assert name in schemas, sorted(schemas)
    assert schemas[name].get("type") == "object" or "properties" in schemas[name], schemas[name]


def test_component_schemas_carry_the_limits(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    rate = schemas["PacingSettings"]["properties"]["target_abandon_rate"]
    assert (rate.get("exclusiveMinimum"), rate.get("maximum")) == (0, 100)
    ring = schemas["Pacing"]["properties"]["ring_timeout_seconds"]
    assert (ring.get("minimum"), ring.get("maximum")) == (15, 120)
    assert set(schemas["CreateCampaignGroup"]["required"]) == {"name", "template_id", "contact_list_ids"}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    refs = _refs(spec)
    assert refs
    prefix = "#/components/schemas/"
    dangling = sorted({r for r in refs if not r.startswith(prefix) or r[len(prefix) :] not in schemas})
    assert not dangling


def test_request_and_response_bodies_use_the_components(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/api/v1/contact-lists"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CreateContactList"}
    created = create["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/ContactList"}
    patch = spec["paths"]["/api/v1/settings"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UpdateSettings"
    }


def test_bearer_security(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearer": []}]


def test_the_web_page(base_url: str) -> None:
    response = httpx.get(f"{base_url}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
    for asset, kind in (("/static/dashboard.css", "text/css"), ("/static/dashboard.js", "javascript")):
        served = httpx.get(f"{base_url}{asset}")
        assert served.status_code == 200, asset
        assert kind in served.headers["content-type"], served.headers


def test_the_documentation_page(base_url: str) -> None:
    response = httpx.get(f"{base_url}/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


def test_unknown_path_is_a_404_problem(base_url: str) -> None:
    response = httpx.get(f"{base_url}/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_wrong_method_is_a_405_problem(admin: httpx.Client) -> None:
    response = admin.put("/api/v1/contact-lists", json={})
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 405
