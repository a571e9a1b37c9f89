"""/api/v1/campaign-templates over HTTP: CRUD, profile references, effective settings."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def url(template: dict) -> str:
    return f"{h.TEMPLATES}/{template['id']}"


def test_create_get_list(admin: httpx.Client, supervisor: httpx.Client, viewer: httpx.Client) -> None:
    dialing = h.dialing_profile(supervisor)
    session = h.session_profile(admin)
    made = h.template(
        supervisor,
        dialing["id"],
        session["id"],
        description="evening collections",
        dialing_overrides={"dialing_mode": "predictive"},
        session_overrides={"trunk_group": "TG-9"},
    )
    assert made["version"] == 1
    assert made["dialing_profile_id"] == dialing["id"]
    assert made["session_profile_id"] == session["id"]
    assert made["dialing_overrides"] == {"dialing_mode": "predictive"}
    assert made["session_overrides"] == {"trunk_group": "TG-9"}
    assert made["used_by"] == []
    got = h.get(viewer, url(made))
    assert got.json() == made
    assert got.headers["ETag"] == '"1"'
    listed = {t["id"]: t for t in h.get(viewer, h.TEMPLATES).json()}
    assert listed[made["id"]]["name"] == made["name"]
    assert h.get(viewer, f"{h.DIALING}/{dialing['id']}").json()["used_by"] == [made["id"]]
    assert h.get(viewer, f"{h.SESSION}/{session['id']}").json()["used_by"] == [made["id"]]


def test_left_out_profiles_are_the_account_defaults(new_account: Callable[[], Account]) -> None:
    client = new_account().admin
    h.assert_problem(
        client.post(h.TEMPLATES, json={"name": h.unique("No defaults")}), 422, "dialing_profile_id"
    )
    dialing = h.dialing_profile(client)
    h.assert_problem(
        client.post(h.TEMPLATES, json={"name": h.unique("No defaults")}), 422, "session_profile_id"
    )
    session = h.session_profile(client)
    made = h.create(client, h.TEMPLATES, {"name": h.unique("Defaults")})
    assert made["dialing_profile_id"] == dialing["id"]
    assert made["session_profile_id"] == session["id"]


def test_unknown_or_deleted_profile_is_404_naming_the_field(admin: httpx.Client, runtime: Runtime) -> None:
    session = h.session_profile(admin)
    gone = h.dialing_profile(admin)
    assert admin.delete(f"{h.DIALING}/{gone['id']}").status_code == 204
    before = runtime.store.position()
    for dialing_id in (UNKNOWN, gone["id"]):
        body = {
            "name": h.unique("Dangling"),
            "dialing_profile_id": dialing_id,
            "session_profile_id": session["id"],
        }
        h.assert_problem(admin.post(h.TEMPLATES, json=body), 404, "dialing_profile_id")
    body = {"name": h.unique("Dangling"), "session_profile_id": UNKNOWN}
    h.assert_problem(admin.post(h.TEMPLATES, json=body), 404, "session_profile_id")
    assert runtime.store.position() == before


def test_patch_with_if_match_and_stale(
    supervisor: httpx.Client, admin: httpx.Client, runtime: Runtime
) -> None:
    made = h.template(supervisor, h.dialing_profile(supervisor)["id"], h.session_profile(admin)["id"])
    tag = h.etag(supervisor, url(made))
    name = h.unique("Renamed template")
    response = supervisor.patch(
        url(made),
        json={"name": name, "description": "changed", "dialing_overrides": {"caller_id": "+1555"}},
        headers={"If-Match": tag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["description"], body["version"]) == (name, "changed", 2)
    assert body["dialing_overrides"] == {"caller_id": "+1555"}
    assert body["effective"]["dialing"]["caller_id"] == "+1555"
    assert response.headers["ETag"] == '"2"'
    before = runtime.store.position()
    stale = supervisor.patch(url(made), json={"description": "lost"}, headers={"If-Match": tag})
    h.assert_problem(stale, 412, "If-Match")
    assert runtime.store.position() == before
    assert h.get(supervisor, url(made)).json()["description"] == "changed"


def test_switching_profiles_moves_the_reference(admin: httpx.Client, supervisor: httpx.Client) -> None:
    old = h.dialing_profile(supervisor)
    new = h.dialing_profile(supervisor)
    made = h.template(supervisor, old["id"], h.session_profile(admin)["id"])
    response = supervisor.patch(url(made), json={"dialing_profile_id": new["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["dialing_profile_id"] == new["id"]
    assert h.get(supervisor, f"{h.DIALING}/{old['id']}").json()["used_by"] == []
    assert h.get(supervisor, f"{h.DIALING}/{new['id']}").json()["used_by"] == [made["id"]]
    assert supervisor.delete(f"{h.DIALING}/{old['id']}").status_code == 204
    h.assert_problem(supervisor.delete(f"{h.DIALING}/{new['id']}"), 409, "id")


def test_switching_to_an_unknown_profile_is_404(admin: httpx.Client, runtime: Runtime) -> None:
    made = h.template(admin, h.dialing_profile(admin)["id"], h.session_profile(admin)["id"])
    before = runtime.store.position()
    response = admin.patch(url(made), json={"session_profile_id": UNKNOWN})
    h.assert_problem(response, 404, "session_profile_id")
    assert runtime.store.position() == before
    assert h.get(admin, url(made)).json() == made


def test_effective_settings_follow_the_profiles_unless_overridden(
    admin: httpx.Client, supervisor: httpx.Client
) -> None:
    dialing = h.dialing_profile(supervisor, settings={"dialing_mode": "progressive", "caller_id": "+1000"})
    session = h.session_profile(admin, agent_group="Sales")
    made = h.template(
        supervisor,
        dialing["id"],
        session["id"],
        dialing_overrides={"dialing_mode": "predictive"},
        session_overrides={"trunk_group": "TG-7"},
    )
    effective = made["effective"]
    assert effective["dialing"]["dialing_mode"] == "predictive"
    assert effective["dialing"]["caller_id"] == "+1000"
    assert effective["session"]["agent_group"] == "Sales"
    assert effective["session"]["trunk_group"] == "TG-7"

    changed = supervisor.patch(
        f"{h.DIALING}/{dialing['id']}",
        json={"settings": {"dialing_mode": "preview", "caller_id": "+2000"}},
    )
    assert changed.status_code == 200, changed.text
    changed = admin.patch(
        f"{h.SESSION}/{session['id']}",
        json={"settings": {"agent_group": "Retention", "trunk_group": "TG-1"}},
    )
    assert changed.status_code == 200, changed.text

    effective = h.get(supervisor, url(made)).json()["effective"]
    assert effective["dialing"]["caller_id"] == "+2000"  # followed the profile
    assert effective["dialing"]["dialing_mode"] == "predictive"  # overridden
    assert effective["session"]["agent_group"] == "Retention"  # followed the profile
    assert effective["session"]["trunk_group"] == "TG-7"  # overridden

    # Dropping an override lets the profile's value through again.
    response = supervisor.patch(url(made), json={"dialing_overrides": {}})
    assert response.status_code == 200, response.text
    assert response.json()["effective"]["dialing"]["dialing_mode"] == "preview"


def test_delete_then_404(admin: httpx.Client, supervisor: httpx.Client) -> None:
    dialing = h.dialing_profile(supervisor)
    made = h.template(supervisor, dialing["id"], h.session_profile(admin)["id"])
    h.assert_problem(supervisor.delete(url(made), headers={"If-Match": '"7"'}), 412, "If-Match")
    response = supervisor.delete(url(made), headers={"If-Match": '"1"'})
    assert response.status_code == 204, response.text
    h.assert_problem(supervisor.get(url(made)), 404, "id")
    assert made["id"] not in h.ids(supervisor, h.TEMPLATES)
    h.assert_problem(supervisor.delete(url(made)), 404)
    h.assert_problem(supervisor.patch(url(made), json={"description": "x"}), 404)
    # The profiles it used are free again, and so is its name.
    assert h.get(supervisor, f"{h.DIALING}/{dialing['id']}").json()["used_by"] == []
    again = h.template(supervisor, dialing["id"], made["session_profile_id"], name=made["name"])
    assert again["id"] != made["id"]


def test_template_with_groups_cannot_be_deleted(
    admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime
) -> None:
    made = h.chain(admin, supervisor)
    template, group = made["template"], made["group"]
    assert h.get(supervisor, url(template)).json()["used_by"] == [group["id"]]
    before = runtime.store.position()
    h.assert_problem(supervisor.delete(url(template)), 409, "id")
    assert runtime.store.position() == before
    h.get(supervisor, url(template))
    assert supervisor.delete(f"{h.GROUPS}/{group['id']}").status_code == 204
    assert h.get(supervisor, url(template)).json()["used_by"] == []
    assert supervisor.delete(url(template)).status_code == 204


def test_duplicate_name_is_409(admin: httpx.Client, runtime: Runtime) -> None:
    dialing, session = h.dialing_profile(admin)["id"], h.session_profile(admin)["id"]
    first = h.template(admin, dialing, session)
    second = h.template(admin, dialing, session)
    before = runtime.store.position()
    body = {
        "name": f" {first['name'].upper()} ",
        "dialing_profile_id": dialing,
        "session_profile_id": session,
    }
    h.assert_problem(admin.post(h.TEMPLATES, json=body), 409, "name")
    h.assert_problem(admin.patch(url(second), json={"name": first["name"].lower()}), 409, "name")
    assert runtime.store.position() == before


def test_invalid_overrides_are_422(admin: httpx.Client, runtime: Runtime) -> None:
    dialing, session = h.dialing_profile(admin)["id"], h.session_profile(admin)["id"]
    before = runtime.store.position()
    for overrides, field in (
        (
            {"dialing_overrides": {"pacing": {"ring_timeout_seconds": 5}}},
            "dialing_overrides.pacing.ring_timeout_seconds",
        ),
        ({"dialing_overrides": {"volume": 11}}, "dialing_overrides.volume"),
        ({"session_overrides": {"channel": "pigeon"}}, "session_overrides.channel"),
    ):
        body = {
            "name": h.unique("Bad"),
            "dialing_profile_id": dialing,
            "session_profile_id": session,
            **overrides,
        }
        h.assert_problem(admin.post(h.TEMPLATES, json=body), 422, field)
    assert runtime.store.position() == before
