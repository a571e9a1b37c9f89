"""/api/v1/contact-lists over HTTP: CRUD, archive, time-zone options and retention."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h

SETTINGS = {
    "channel": "email",
    "time_zones": {
        "source": "contact_then_device",
        "use_custom_time_zones": True,
        "custom_time_zones": [{"country_code": "US", "area_code": "312", "time_zone": "America/Chicago"}],
    },
    "retention": {"days": 90, "scope": "selection", "selection_rule": "record_status = updated"},
}


def url(contact_list: dict[str, Any]) -> str:
    return f"{h.LISTS}/{contact_list['id']}"


def test_create_get_list(supervisor: httpx.Client, viewer: httpx.Client) -> None:
    made = h.create(
        supervisor,
        h.LISTS,
        {"name": h.unique("Spring leads"), "description": "from the fair", "settings": SETTINGS},
    )
    assert made["version"] == 1
    assert made["settings"] == SETTINGS
    assert made["description"] == "from the fair"
    assert made["campaign_group_ids"] == []
    assert "archived" not in made
    got = h.get(viewer, url(made))
    assert got.json() == made
    assert got.headers["ETag"] == '"1"'
    assert made["id"] in h.ids(viewer, h.LISTS)


def test_defaults(supervisor: httpx.Client) -> None:
    made = h.create(supervisor, h.LISTS, {"name": h.unique("Plain")})
    assert made["settings"]["channel"] == "voice"
    assert made["settings"]["retention"]["days"] is None
    assert made["settings"]["time_zones"]["source"] == "device"


def test_patch_with_if_match_and_stale(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = h.contact_list(supervisor)
    tag = h.etag(supervisor, url(made))
    name = h.unique("Renamed list")
    response = supervisor.patch(
        url(made), json={"name": name, "settings": SETTINGS}, headers={"If-Match": tag}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["settings"], body["version"]) == (name, SETTINGS, 2)
    assert response.headers["ETag"] == '"2"'
    before = runtime.store.position()
    stale = supervisor.patch(url(made), json={"description": "lost"}, headers={"If-Match": tag})
    h.assert_problem(stale, 412, "If-Match")
    assert runtime.store.position() == before
    assert h.get(supervisor, url(made)).json() == body


def test_archive_then_404(supervisor: httpx.Client) -> None:
    made = h.contact_list(supervisor)
    h.assert_problem(supervisor.delete(url(made), headers={"If-Match": '"2"'}), 412, "If-Match")
    response = supervisor.delete(url(made), headers={"If-Match": '"1"'})
    assert response.status_code == 204, response.text
    h.assert_problem(supervisor.get(url(made)), 404, "id")
    assert made["id"] not in h.ids(supervisor, h.LISTS)
    h.assert_problem(supervisor.delete(url(made)), 404)
    h.assert_problem(supervisor.patch(url(made), json={"description": "x"}), 404)
    again = h.create(supervisor, h.LISTS, {"name": made["name"]})
    assert again["id"] != made["id"]


def test_list_in_a_group_cannot_be_archived(
    admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime
) -> None:
    made = h.chain(admin, supervisor)
    contacts, group = made["list"], made["group"]
    before = runtime.store.position()
    h.assert_problem(supervisor.delete(url(contacts)), 409, "id")
    assert runtime.store.position() == before
    h.get(supervisor, url(contacts))
    replacement = h.contact_list(supervisor)
    response = supervisor.patch(f"{h.GROUPS}/{group['id']}", json={"contact_list_ids": [replacement["id"]]})
    assert response.status_code == 200, response.text
    assert supervisor.delete(url(contacts)).status_code == 204


@pytest.mark.parametrize("days", [None, 0, 1, 31, 45, 60, 90, 180, 360])
def test_accepted_retention_days(supervisor: httpx.Client, days: int | None) -> None:
    made = h.contact_list(supervisor, settings={"retention": {"days": days}})
    assert made["settings"]["retention"]["days"] == days


@pytest.mark.parametrize("days", [-1, 32, 33, 44, 100, 361, 365])
def test_refused_retention_days(supervisor: httpx.Client, runtime: Runtime, days: int) -> None:
    before = runtime.store.position()
    name = h.unique("Retained")
    body = {"name": name, "settings": {"retention": {"days": days}}}
    h.assert_problem(supervisor.post(h.LISTS, json=body), 422, "settings.retention.days")
    assert runtime.store.position() == before
    assert name not in h.names(supervisor, h.LISTS)


def test_refused_retention_days_on_patch(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = h.contact_list(supervisor)
    before = runtime.store.position()
    response = supervisor.patch(
        url(made), json={"name": h.unique("New"), "settings": {"retention": {"days": 33}}}
    )
    h.assert_problem(response, 422, "settings.retention.days")
    assert runtime.store.position() == before
    assert h.get(supervisor, url(made)).json() == made


def test_selection_retention_needs_a_rule(supervisor: httpx.Client) -> None:
    body = {"name": h.unique("Rule"), "settings": {"retention": {"days": 7, "scope": "selection"}}}
    h.assert_problem(supervisor.post(h.LISTS, json=body), 422, "settings.retention.selection_rule")


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (
            {"country_code": "US", "area_code": "312", "time_zone": "America/Gotham"},
            "settings.time_zones.custom_time_zones[0].time_zone",
        ),
        (
            {"country_code": "usa", "area_code": "312", "time_zone": "America/Chicago"},
            "settings.time_zones.custom_time_zones[0].country_code",
        ),
        (
            {"country_code": "US", "area_code": "31a", "time_zone": "America/Chicago"},
            "settings.time_zones.custom_time_zones[0].area_code",
        ),
    ],
)
def test_invalid_custom_time_zone_is_422(
    supervisor: httpx.Client, runtime: Runtime, entry: dict[str, str], field: str
) -> None:
    before = runtime.store.position()
    body = {"name": h.unique("Zoned"), "settings": {"time_zones": {"custom_time_zones": [entry]}}}
    h.assert_problem(supervisor.post(h.LISTS, json=body), 422, field)
    assert runtime.store.position() == before


def test_duplicate_name_is_409(supervisor: httpx.Client, runtime: Runtime) -> None:
    first = h.contact_list(supervisor)
    second = h.contact_list(supervisor)
    before = runtime.store.position()
    h.assert_problem(supervisor.post(h.LISTS, json={"name": "  " + first["name"].upper()}), 409, "name")
    h.assert_problem(supervisor.patch(url(second), json={"name": first["name"].lower()}), 409, "name")
    assert runtime.store.position() == before
    assert h.names(supervisor, h.LISTS).count(first["name"]) == 1
