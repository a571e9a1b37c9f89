"""Bad input on every write endpoint: a 4xx problem document naming the field, and nothing
half-written (the event log does not move and the object is as it was)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h


@pytest.fixture(scope="module")
def world(admin: httpx.Client) -> dict[str, str]:
    return {kind: item["id"] for kind, item in h.chain(admin).items()}


CREATES = [h.DIALING, h.SESSION, h.TEMPLATES, h.GROUPS, h.LISTS, h.API_KEYS, h.PUBLIC_KEYS]
CHANGES = [
    h.SETTINGS,
    f"{h.DIALING}/{{dialing}}",
    f"{h.SESSION}/{{session}}",
    f"{h.TEMPLATES}/{{template}}",
    f"{h.GROUPS}/{{group}}",
    f"{h.LISTS}/{{list}}",
]
WRITES = [("POST", path) for path in CREATES] + [("PATCH", path) for path in CHANGES]


def everything(admin: httpx.Client, world: dict[str, str]) -> dict[str, Any]:
    paths = [h.SETTINGS, h.DIALING, h.SESSION, h.TEMPLATES, h.GROUPS, h.LISTS, h.API_KEYS, h.HIERARCHY]
    paths += [path.format(**world) for path in CHANGES]
    return {path: h.get(admin, path).json() for path in paths}


@pytest.fixture
def unchanged(admin: httpx.Client, world: dict[str, str], runtime: Runtime) -> Iterator[None]:
    """Asserts, after the test, that nothing was written."""
    state = everything(admin, world)
    before = runtime.store.position()
    yield
    assert runtime.store.position() == before, "a refused request wrote events"
    assert everything(admin, world) == state


def send(
    client: httpx.Client, method: str, path: str, world: dict[str, str], **kwargs: Any
) -> httpx.Response:
    return client.request(method, path.format(**world), **kwargs)


JSON = {"Content-Type": "application/json"}


# Each breaks the JSON syntax before any value could be checked against the schema.
# (Decoding and validation are one pass, so a syntax error after a value the schema
# refuses is reported as that 422 instead.)
MALFORMED = {
    "truncated": b'{"',
    "unquoted-key": b"{name: 'x'}",
    "single-quotes": b"{'name': 'x'}",
    "leading-comma": b"{,}",
    "empty": b"",
    "bare-word": b"nope",
    "not-utf8": b"\xff\xfe",
}


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("raw", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_json_is_400(
    admin: httpx.Client, world: dict[str, str], unchanged: None, method: str, path: str, raw: bytes
) -> None:
    body = h.assert_problem(send(admin, method, path, world, content=raw, headers=JSON), 400)
    assert body["title"] == "Malformed JSON"


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_non_json_content_type_is_415(
    admin: httpx.Client,
    world: dict[str, str],
    unchanged: None,
    method: str,
    path: str,
    content_type: str | None,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = send(admin, method, path, world, content=b'{"name": "x"}', headers=headers)
    h.assert_problem(response, 415, "Content-Type")


NESTED_UNKNOWN: dict[str, tuple[dict[str, Any], str]] = {
    h.SETTINGS: ({"pacing": {"colour": "blue"}}, "pacing.colour"),
    h.DIALING: ({"settings": {"pacing": {"colour": "blue"}}}, "settings.pacing.colour"),
    h.SESSION: ({"settings": {"colour": "blue"}}, "settings.colour"),
    h.TEMPLATES: ({"dialing_overrides": {"colour": "blue"}}, "dialing_overrides.colour"),
    h.GROUPS: ({"session_overrides": {"colour": "blue"}}, "session_overrides.colour"),
    h.LISTS: ({"settings": {"retention": {"colour": "blue"}}}, "settings.retention.colour"),
}


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_unknown_field_is_422_naming_it(
    admin: httpx.Client, world: dict[str, str], unchanged: None, method: str, path: str
) -> None:
    h.assert_problem(send(admin, method, path, world, json={"colour": "blue"}), 422, "colour")
    resource = path.split("/{")[0]
    if resource in NESTED_UNKNOWN:
        body, field = NESTED_UNKNOWN[resource]
        h.assert_problem(send(admin, method, path, world, json=body), 422, field)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", h.DIALING, {"name": 5}, "name"),
        ("POST", h.DIALING, {"name": None}, "name"),
        ("POST", h.DIALING, {"name": "x" * 201}, "name"),
        ("POST", h.DIALING, {"name": "x", "settings": []}, "settings"),
        (
            "POST",
            h.DIALING,
            {"name": "x", "settings": {"pacing": {"lines_per_agent": "two"}}},
            "settings.pacing.lines_per_agent",
        ),
        (
            "POST",
            h.DIALING,
            {"name": "x", "settings": {"filtering": {"max_attempts": True}}},
            "settings.filtering.max_attempts",
        ),
        (
            "POST",
            h.DIALING,
            {"name": "x", "settings": {"filtering": {"max_attempts": 2.5}}},
            "settings.filtering.max_attempts",
        ),
        (
            "POST",
            h.DIALING,
            {"name": "x", "settings": {"filtering": {"sort": [{"descending": True}]}}},
            "settings.filtering.sort[0].field",
        ),
        (
            "POST",
            h.DIALING,
            {"name": "x", "settings": {"pacing": {"ring_timeout_seconds": 10}}},
            "settings.pacing.ring_timeout_seconds",
        ),
        ("POST", h.DIALING, {"name": "x", "settings": {"pacing": {"colour": 1}}}, "settings.pacing.colour"),
        ("POST", h.SESSION, {"name": "x", "settings": {"other_servers": "urs"}}, "settings.other_servers"),
        ("POST", h.SESSION, {"name": "x", "description": "d" * 2001}, "description"),
        ("POST", h.TEMPLATES, {"name": "x", "dialing_profile_id": "not-a-uuid"}, "dialing_profile_id"),
        ("POST", h.TEMPLATES, {"name": "x", "dialing_overrides": {"pacing": 3}}, "dialing_overrides.pacing"),
        (
            "POST",
            h.GROUPS,
            {"name": "x", "template_id": "{template}", "contact_list_ids": "{list}"},
            "contact_list_ids",
        ),
        (
            "POST",
            h.GROUPS,
            {"name": "x", "template_id": "{template}", "contact_list_ids": ["nope"]},
            "contact_list_ids[0]",
        ),
        ("POST", h.GROUPS, {"name": "x", "contact_list_ids": ["{list}"]}, "template_id"),
        ("POST", h.LISTS, {"name": "x", "settings": {"channel": "fax"}}, "settings.channel"),
        (
            "POST",
            h.LISTS,
            {"name": "x", "settings": {"retention": {"days": "33"}}},
            "settings.retention.days",
        ),
        ("POST", h.LISTS, {"name": "x", "settings": {"retention": {"days": 33}}}, "settings.retention.days"),
        ("POST", h.API_KEYS, {"name": "x", "role": 1}, "role"),
        ("POST", h.PUBLIC_KEYS, {"user_id": "t@example.com", "armored": 42}, "armored"),
        ("POST", h.PUBLIC_KEYS, {"user_id": "t@example.com", "armored": "not a key"}, "armored"),
        ("PATCH", h.SETTINGS, {"region": {"time_zone": "Mars/Olympus_Mons"}}, "region.time_zone"),
        ("PATCH", h.SETTINGS, {"pacing": {"target_abandon_rate": 0}}, "pacing.target_abandon_rate"),
        ("PATCH", h.SETTINGS, {"pacing": {"target_abandon_rate": 101}}, "pacing.target_abandon_rate"),
        (
            "PATCH",
            h.SETTINGS,
            {"pacing": {"abandon_call_definition_seconds": 0}},
            "pacing.abandon_call_definition_seconds",
        ),
        ("PATCH", h.SETTINGS, {"pacing": "fast"}, "pacing"),
        ("PATCH", h.SETTINGS, {"security": {"strict_sign_out": "yes"}}, "security.strict_sign_out"),
        ("PATCH", f"{h.DIALING}/{{dialing}}", {"name": ""}, "name"),
        (
            "PATCH",
            f"{h.DIALING}/{{dialing}}",
            {"settings": {"pacing": {"ring_timeout_seconds": 10}}},
            "settings.pacing.ring_timeout_seconds",
        ),
        ("PATCH", f"{h.SESSION}/{{session}}", {"settings": {"channel": 1}}, "settings.channel"),
        (
            "PATCH",
            f"{h.TEMPLATES}/{{template}}",
            {"session_overrides": {"agent_group": ["a"]}},
            "session_overrides.agent_group",
        ),
        ("PATCH", f"{h.GROUPS}/{{group}}", {"contact_list_ids": [1]}, "contact_list_ids[0]"),
        ("PATCH", f"{h.GROUPS}/{{group}}", {"agent_group": None}, "agent_group"),
        (
            "PATCH",
            f"{h.LISTS}/{{list}}",
            {"settings": {"retention": {"days": 33}}},
            "settings.retention.days",
        ),
        (
            "PATCH",
            f"{h.LISTS}/{{list}}",
            {"settings": {"time_zones": {"custom_time_zones": [{}]}}},
            "settings.time_zones.custom_time_zones[0].country_code",
        ),
    ],
)
def test_invalid_values_are_422_naming_the_field(
    admin: httpx.Client,
    world: dict[str, str],
    unchanged: None,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    def fill(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in world:
            return world[value[1:-1]]
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    body = {key: fill(value) for key, value in body.items()}
    h.assert_problem(send(admin, method, path, world, json=body), 422, field)


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_json_value_that_is_not_an_object_is_422(
    admin: httpx.Client, world: dict[str, str], unchanged: None, method: str, path: str
) -> None:
    for raw in (b"[]", b'"text"', b"3", b"null", b"true"):
        h.assert_problem(send(admin, method, path, world, content=raw, headers=JSON), 422)


@pytest.mark.parametrize(
    "path",
    [
        f"{h.DIALING}/not-a-uuid",
        f"{h.SESSION}/not-a-uuid",
        f"{h.TEMPLATES}/not-a-uuid",
        f"{h.GROUPS}/not-a-uuid",
        f"{h.LISTS}/not-a-uuid",
    ],
)
def test_an_id_that_is_not_a_uuid_is_422_naming_it(admin: httpx.Client, unchanged: None, path: str) -> None:
    parameter = {
        h.DIALING: "profile_id",
        h.SESSION: "profile_id",
        h.TEMPLATES: "template_id",
        h.GROUPS: "group_id",
        h.LISTS: "list_id",
    }[path.rsplit("/", 1)[0]]
    h.assert_problem(admin.get(path), 422, parameter)
    h.assert_problem(admin.patch(path, json={"description": "x"}), 422, parameter)
    h.assert_problem(admin.delete(path), 422, parameter)


@pytest.mark.parametrize("value", ["abc", '"x"', 'W/"abc"', '"-1"', '"1.5"'])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        (h.SETTINGS, {"pacing": {"target_abandon_rate": 2}}),
        (f"{h.DIALING}/{{dialing}}", {"description": "x"}),
        (f"{h.LISTS}/{{list}}", {"description": "x"}),
    ],
)
def test_an_if_match_that_is_not_an_etag_is_400(
    admin: httpx.Client, world: dict[str, str], unchanged: None, value: str, path: str, body: dict[str, Any]
) -> None:
    response = send(admin, "PATCH", path, world, json=body, headers={"If-Match": value})
    h.assert_problem(response, 400, "If-Match")


@pytest.mark.parametrize(
    ("path", "make"),
    [
        (h.DIALING, lambda c, n: c.post(h.DIALING, json={"name": n})),
        (h.SESSION, lambda c, n: c.post(h.SESSION, json={"name": n})),
        (h.LISTS, lambda c, n: c.post(h.LISTS, json={"name": n})),
    ],
)
def test_duplicate_names_are_409_ignoring_case_and_spaces(
    admin: httpx.Client, runtime: Runtime, path: str, make: Any
) -> None:
    name = h.unique("Twice Over")
    assert make(admin, name).status_code == 201
    before = runtime.store.position()
    for variant in (name, name.upper(), name.lower(), f"  {name}  ", name.replace(" ", "   ")):
        h.assert_problem(make(admin, variant), 409, "name")
    assert runtime.store.position() == before
    assert [n for n in h.names(admin, path) if n.casefold() == name.casefold()] == [name]
