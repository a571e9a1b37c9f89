"""/api/v1/campaign-groups over HTTP: CRUD, the lifecycle actions, lists, agent group, channel."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def url(group: dict[str, Any]) -> str:
    return f"{h.GROUPS}/{group['id']}"


def act(client: httpx.Client, group: dict[str, Any], action: str) -> httpx.Response:
    return client.post(f"{url(group)}/{action}")


@pytest.fixture
def base(admin: httpx.Client, supervisor: httpx.Client) -> dict[str, dict[str, Any]]:
    """A template (voice, agent group "Sales") and a voice list, without a group."""
    dialing = h.dialing_profile(supervisor)
    session = h.session_profile(admin, agent_group="Sales")
    return {
        "template": h.template(supervisor, dialing["id"], session["id"]),
        "list": h.contact_list(supervisor),
    }


def test_create_get_list(base: dict[str, Any], supervisor: httpx.Client, viewer: httpx.Client) -> None:
    made = h.group(
        supervisor,
        base["template"]["id"],
        [base["list"]["id"]],
        description="spring campaign",
        dialing_overrides={"caller_id": "+1777"},
    )
    assert made["status"] == "loaded"
    assert made["version"] == 1
    assert made["agent_group"] == "Sales"  # inherited from the session profile
    assert made["contact_list_ids"] == [base["list"]["id"]]
    assert made["template_id"] == base["template"]["id"]
    assert made["effective"]["dialing"]["caller_id"] == "+1777"
    assert made["effective"]["session"]["agent_group"] == "Sales"
    got = h.get(viewer, url(made))
    assert got.json() == made
    assert got.headers["ETag"] == '"1"'
    assert made["id"] in h.ids(viewer, h.GROUPS)
    contact_list = h.get(viewer, f"{h.LISTS}/{base['list']['id']}").json()
    assert contact_list["campaign_group_ids"] == [made["id"]]
    template = h.get(viewer, f"{h.TEMPLATES}/{base['template']['id']}").json()
    assert template["used_by"] == [made["id"]]


def test_own_agent_group_wins(base: dict[str, Any], supervisor: httpx.Client) -> None:
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]], agent_group="  Night   shift ")
    assert made["agent_group"] == "Night shift"


def test_patch_with_if_match_and_stale(
    base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime
) -> None:
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    other = h.contact_list(supervisor)
    tag = h.etag(supervisor, url(made))
    name = h.unique("Renamed group")
    response = supervisor.patch(
        url(made),
        json={
            "name": name,
            "agent_group": "Weekend",
            "contact_list_ids": [other["id"]],
            "session_overrides": {"trunk_group": "TG-2"},
        },
        headers={"If-Match": tag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["agent_group"], body["version"]) == (name, "Weekend", 2)
    assert body["contact_list_ids"] == [other["id"]]
    assert body["effective"]["session"]["trunk_group"] == "TG-2"
    assert response.headers["ETag"] == '"2"'
    assert h.get(supervisor, f"{h.LISTS}/{base['list']['id']}").json()["campaign_group_ids"] == []
    assert h.get(supervisor, f"{h.LISTS}/{other['id']}").json()["campaign_group_ids"] == [made["id"]]

    before = runtime.store.position()
    stale = supervisor.patch(url(made), json={"description": "lost"}, headers={"If-Match": tag})
    h.assert_problem(stale, 412, "If-Match")
    assert runtime.store.position() == before
    assert h.get(supervisor, url(made)).json() == body


def test_lifecycle_actions(base: dict[str, Any], supervisor: httpx.Client, viewer: httpx.Client) -> None:
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    expected = [("start", "running"), ("pause", "paused"), ("resume", "running"), ("pause", "paused")]
    expected += [("stop", "stopped"), ("start", "running"), ("stop", "stopped")]
    version = made["version"]
    for action, status in expected:
        response = act(supervisor, made, action)
        assert response.status_code == 200, (action, response.text)
        version += 1
        assert response.json()["status"] == status
        assert response.json()["version"] == version
        assert response.headers["ETag"] == f'"{version}"'
        assert h.get(viewer, url(made)).json()["status"] == status


@pytest.mark.parametrize(
    ("setup", "action"),
    [
        ([], "pause"),
        ([], "resume"),
        ([], "stop"),
        (["start"], "start"),
        (["start"], "resume"),
        (["start", "pause"], "pause"),
        (["start", "pause"], "start"),
        (["start", "stop"], "pause"),
        (["start", "stop"], "resume"),
        (["start", "stop"], "stop"),
    ],
)
def test_refused_transitions_are_409(
    base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime, setup: list[str], action: str
) -> None:
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    for step in setup:
        assert act(supervisor, made, step).status_code == 200
    state = h.get(supervisor, url(made)).json()
    before = runtime.store.position()
    h.assert_problem(act(supervisor, made, action), 409, "status")
    assert runtime.store.position() == before
    assert h.get(supervisor, url(made)).json() == state


def test_unknown_action_is_422(base: dict[str, Any], supervisor: httpx.Client) -> None:
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    h.assert_problem(act(supervisor, made, "explode"), 422, "action")


def test_actions_on_unknown_group_are_404(supervisor: httpx.Client) -> None:
    for action in ("start", "pause", "resume", "stop"):
        h.assert_problem(supervisor.post(f"{h.GROUPS}/{UNKNOWN}/{action}"), 404)


def test_running_group_keeps_its_lists(
    base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime
) -> None:
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    other = h.contact_list(supervisor)
    assert act(supervisor, made, "start").status_code == 200
    before = runtime.store.position()
    response = supervisor.patch(url(made), json={"contact_list_ids": [other["id"]]})
    h.assert_problem(response, 409, "contact_list_ids")
    assert runtime.store.position() == before
    assert act(supervisor, made, "pause").status_code == 200
    response = supervisor.patch(url(made), json={"contact_list_ids": [base["list"]["id"], other["id"]]})
    assert response.status_code == 200, response.text


def test_delete_then_404(base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime) -> None:
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    assert act(supervisor, made, "start").status_code == 200
    before = runtime.store.position()
    h.assert_problem(supervisor.delete(url(made)), 409, "status")
    assert act(supervisor, made, "pause").status_code == 200
    h.assert_problem(supervisor.delete(url(made)), 409, "status")
    assert runtime.store.position() > before
    assert act(supervisor, made, "stop").status_code == 200
    h.assert_problem(supervisor.delete(url(made), headers={"If-Match": '"1"'}), 412, "If-Match")
    tag = h.etag(supervisor, url(made))
    response = supervisor.delete(url(made), headers={"If-Match": tag})
    assert response.status_code == 204, response.text
    h.assert_problem(supervisor.get(url(made)), 404, "id")
    assert made["id"] not in h.ids(supervisor, h.GROUPS)
    h.assert_problem(supervisor.delete(url(made)), 404)
    h.assert_problem(supervisor.patch(url(made), json={"description": "x"}), 404)
    h.assert_problem(act(supervisor, made, "start"), 404)
    # The list and the template are free again, and so is the name.
    assert h.get(supervisor, f"{h.LISTS}/{base['list']['id']}").json()["campaign_group_ids"] == []
    assert h.get(supervisor, f"{h.TEMPLATES}/{base['template']['id']}").json()["used_by"] == []
    again = h.group(supervisor, base["template"]["id"], [base["list"]["id"]], name=made["name"])
    assert again["id"] != made["id"]


def test_needs_at_least_one_contact_list(
    base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime
) -> None:
    before = runtime.store.position()
    body = {"name": h.unique("Empty"), "template_id": base["template"]["id"], "contact_list_ids": []}
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 422, "contact_list_ids")
    body["contact_list_ids"] = [base["list"]["id"], base["list"]["id"]]
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 422, "contact_list_ids")
    del body["contact_list_ids"]
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 422, "contact_list_ids")
    assert runtime.store.position() == before
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    response = supervisor.patch(url(made), json={"contact_list_ids": []})
    h.assert_problem(response, 422, "contact_list_ids")


def test_needs_an_agent_group(admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime) -> None:
    session = h.session_profile(admin, agent_group="")
    template = h.template(supervisor, h.dialing_profile(supervisor)["id"], session["id"])
    contacts = h.contact_list(supervisor)
    before = runtime.store.position()
    body = {
        "name": h.unique("No agents"),
        "template_id": template["id"],
        "contact_list_ids": [contacts["id"]],
    }
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 422, "agent_group")
    h.assert_problem(supervisor.post(h.GROUPS, json={**body, "agent_group": "   "}), 422, "agent_group")
    assert runtime.store.position() == before
    assert h.get(supervisor, f"{h.LISTS}/{contacts['id']}").json()["campaign_group_ids"] == []
    made = h.create(supervisor, h.GROUPS, {**body, "agent_group": "Outbound"})
    assert made["agent_group"] == "Outbound"
    h.assert_problem(supervisor.patch(url(made), json={"agent_group": ""}), 422, "agent_group")
    # A session override may bring the agent group instead.
    body = {**body, "name": h.unique("Overridden"), "session_overrides": {"agent_group": "Via override"}}
    body["contact_list_ids"] = [h.contact_list(supervisor)["id"]]
    assert h.create(supervisor, h.GROUPS, body)["agent_group"] == "Via override"


def test_channel_of_lists_must_match(
    base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime
) -> None:
    sms = h.contact_list(supervisor, channel="sms")
    before = runtime.store.position()
    body = {
        "name": h.unique("Mismatch"),
        "template_id": base["template"]["id"],
        "contact_list_ids": [base["list"]["id"], sms["id"]],
    }
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 422, "contact_list_ids[1]")
    assert runtime.store.position() == before
    assert h.get(supervisor, f"{h.LISTS}/{base['list']['id']}").json()["campaign_group_ids"] == []
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    response = supervisor.patch(url(made), json={"contact_list_ids": [sms["id"]]})
    h.assert_problem(response, 422, "contact_list_ids[0]")
    # Overriding the channel makes an SMS group.
    sms_group = h.group(supervisor, base["template"]["id"], [sms["id"]], session_overrides={"channel": "sms"})
    assert sms_group["effective"]["session"]["channel"] == "sms"


def test_unknown_template_or_list_is_404_naming_the_field(
    base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime
) -> None:
    archived = h.contact_list(supervisor)
    assert supervisor.delete(f"{h.LISTS}/{archived['id']}").status_code == 204
    before = runtime.store.position()
    body = {"name": h.unique("Dangling"), "template_id": UNKNOWN, "contact_list_ids": [base["list"]["id"]]}
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 404, "template_id")
    body["template_id"] = base["template"]["id"]
    body["contact_list_ids"] = [base["list"]["id"], UNKNOWN]
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 404, "contact_list_ids[1]")
    body["contact_list_ids"] = [archived["id"]]
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 404, "contact_list_ids[0]")
    assert runtime.store.position() == before


def test_duplicate_name_is_409(base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime) -> None:
    first = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    other_list = h.contact_list(supervisor)
    before = runtime.store.position()
    body = {
        "name": first["name"].swapcase(),
        "template_id": base["template"]["id"],
        "contact_list_ids": [other_list["id"]],
    }
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 409, "name")
    assert runtime.store.position() == before
    assert h.get(supervisor, f"{h.LISTS}/{other_list['id']}").json()["campaign_group_ids"] == []


def test_effective_settings_stack_template_and_group_overrides(
    admin: httpx.Client, supervisor: httpx.Client
) -> None:
    dialing = h.dialing_profile(supervisor, settings={"caller_id": "+1000", "dialing_mode": "progressive"})
    session = h.session_profile(admin, agent_group="Sales")
    template = h.template(
        supervisor, dialing["id"], session["id"], dialing_overrides={"dialing_mode": "predictive"}
    )
    made = h.group(
        supervisor,
        template["id"],
        [h.contact_list(supervisor)["id"]],
        dialing_overrides={"caller_id": "+1999"},
    )
    assert made["effective"]["dialing"]["dialing_mode"] == "predictive"
    assert made["effective"]["dialing"]["caller_id"] == "+1999"
    response = supervisor.patch(
        f"{h.DIALING}/{dialing['id']}",
        json={
            "settings": {"caller_id": "+2000", "dialing_mode": "preview", "pacing": {"lines_per_agent": 3}}
        },
    )
    assert response.status_code == 200, response.text
    effective = h.get(supervisor, url(made)).json()["effective"]["dialing"]
    assert effective["pacing"]["lines_per_agent"] == 3  # from the profile
    assert effective["dialing_mode"] == "predictive"  # the template's override
    assert effective["caller_id"] == "+1999"  # the group's override


def test_a_group_override_cannot_switch_the_channel_under_its_lists(
    base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime
) -> None:
    made = h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    before = runtime.store.position()
    response = supervisor.patch(url(made), json={"session_overrides": {"channel": "sms"}})
    h.assert_problem(response, 422, "contact_list_ids[0]")
    assert runtime.store.position() == before
    assert h.get(supervisor, url(made)).json()["effective"]["session"]["channel"] == "voice"


def test_a_list_in_a_group_cannot_change_its_channel(
    base: dict[str, Any], supervisor: httpx.Client, runtime: Runtime
) -> None:
    h.group(supervisor, base["template"]["id"], [base["list"]["id"]])
    list_url = f"{h.LISTS}/{base['list']['id']}"
    before = runtime.store.position()
    response = supervisor.patch(list_url, json={"settings": {"channel": "sms"}})
    h.assert_problem(response, 409, "settings.channel")
    assert runtime.store.position() == before
    assert h.get(supervisor, list_url).json()["settings"]["channel"] == "voice"


def _channels_agree(client: httpx.Client, group: dict[str, Any]) -> tuple[str, list[str]]:
    state = h.get(client, url(group)).json()
    lists = [h.get(client, f"{h.LISTS}/{i}").json()["settings"]["channel"] for i in state["contact_list_ids"]]
    return state["effective"]["session"]["channel"], lists


@pytest.mark.parametrize("change", ["session profile channel", "template override", "template profile"])
def test_no_change_upstream_leaves_a_group_dialing_another_channel_than_its_lists(
    admin: httpx.Client, supervisor: httpx.Client, change: str
) -> None:
    """A group's lists match its channel (422 when a group is made or changed otherwise),
    so a change to its template or session profile must not switch the channel under
    them: it is refused (409 or 422), or the group still dials its lists' channel."""
    made = h.chain(admin, supervisor)
    sms = h.session_profile(admin, channel="sms")
    request = {
        "session profile channel": (
            f"{h.SESSION}/{made['session']['id']}",
            {"settings": {"channel": "sms", "agent_group": "Sales"}},
        ),
        "template override": (
            f"{h.TEMPLATES}/{made['template']['id']}",
            {"session_overrides": {"channel": "email"}},
        ),
        "template profile": (f"{h.TEMPLATES}/{made['template']['id']}", {"session_profile_id": sms["id"]}),
    }[change]
    response = admin.patch(request[0], json=request[1])
    if response.status_code >= 400:
        assert response.status_code in (409, 422), response.text
        h.assert_problem(response, response.status_code)
    channel, lists = _channels_agree(admin, made["group"])
    assert lists == [channel], (
        f"PATCH {request[0]} answered {response.status_code}; the group now dials {channel} "
        f"but its contact lists are {lists}"
    )


def test_a_deleted_template_cannot_make_groups(
    admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime
) -> None:
    template = h.template(supervisor, h.dialing_profile(supervisor)["id"], h.session_profile(admin)["id"])
    assert supervisor.delete(f"{h.TEMPLATES}/{template['id']}").status_code == 204
    contacts = h.contact_list(supervisor)
    before = runtime.store.position()
    body = {"name": h.unique("Orphan"), "template_id": template["id"], "contact_list_ids": [contacts["id"]]}
    h.assert_problem(supervisor.post(h.GROUPS, json=body), 404, "template_id")
    assert runtime.store.position() == before


@pytest.mark.parametrize("own", ["Night shift", ""])
def test_the_effective_agent_group_is_the_groups_agent_group(
    admin: httpx.Client, supervisor: httpx.Client, own: str
) -> None:
    """``effective`` is what the group dials with, so its session agent group is the group's
    agent group: its own, or the one it took from the session profile (even after the
    profile changes)."""
    session = h.session_profile(admin, agent_group="Sales")
    template = h.template(supervisor, h.dialing_profile(supervisor)["id"], session["id"])
    made = h.group(supervisor, template["id"], [h.contact_list(supervisor)["id"]], agent_group=own)
    assert made["agent_group"] == (own or "Sales")
    assert made["effective"]["session"]["agent_group"] == made["agent_group"]
    response = admin.patch(f"{h.SESSION}/{session['id']}", json={"settings": {"agent_group": "Retention"}})
    assert response.status_code == 200, response.text
    state = h.get(supervisor, url(made)).json()
    assert state["effective"]["session"]["agent_group"] == state["agent_group"], (
        f"the group's agent_group is {state['agent_group']!r} but its effective session "
        f"settings say {state['effective']['session']['agent_group']!r}"
    )


def test_a_supervisor_switches_a_running_group_between_predictive_and_progressive(
    admin: httpx.Client, supervisor: httpx.Client, viewer: httpx.Client
) -> None:
    dialing = h.dialing_profile(supervisor, settings={"caller_id": "+1000", "dialing_mode": "predictive"})
    session = h.session_profile(admin, agent_group=f"Switchers {uuid.uuid4().hex[:6]}")
    template = h.template(supervisor, dialing["id"], session["id"])
    made = h.group(supervisor, template["id"], [h.contact_list(supervisor)["id"]])
    assert supervisor.post(f"{url(made)}/start").status_code == 200
    switched = supervisor.post(f"{url(made)}/dialing-mode", json={"dialing_mode": "progressive"})
    assert switched.status_code == 200, switched.text
    assert switched.json()["effective"]["dialing"]["dialing_mode"] == "progressive"
    h.assert_problem(supervisor.post(f"{url(made)}/dialing-mode", json={"dialing_mode": "preview"}), 409, "dialing_mode")
    h.assert_problem(supervisor.post(f"{url(made)}/dialing-mode", json={"dialing_mode": "telepathic"}), 422, "dialing_mode")
    assert viewer.post(f"{url(made)}/dialing-mode", json={"dialing_mode": "predictive"}).status_code == 403
    assert supervisor.post(f"{url(made)}/stop").status_code == 200
