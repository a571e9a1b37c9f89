"""/api/v1/hierarchy over HTTP: templates, their groups and the groups' lists, with status."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.gateway import helpers as h
from tests.gateway.conftest import Account


def test_empty_account_has_an_empty_hierarchy(new_account: Callable[[], Account]) -> None:
    assert h.get(new_account().admin, h.HIERARCHY).json() == {
        "templates": [],
        "unassigned_contact_lists": [],
    }


def test_the_tree_follows_every_change(new_account: Callable[[], Account]) -> None:
    client = new_account().admin
    made = h.chain(client)
    template, group, contacts = made["template"], made["group"], made["list"]
    spare = h.contact_list(client, channel="sms")
    empty_template = h.template(client, made["dialing"]["id"], made["session"]["id"], name="ZZ empty")

    def node(item: dict, channel: str = "voice") -> dict:
        return {"id": item["id"], "name": item["name"], "channel": channel}

    tree = h.get(client, h.HIERARCHY).json()
    assert tree == {
        "templates": [
            {
                "id": template["id"],
                "name": template["name"],
                "campaign_groups": [
                    {
                        "id": group["id"],
                        "name": group["name"],
                        "status": "loaded",
                        "agent_group": "Sales",
                        "contact_lists": [node(contacts)],
                    }
                ],
            },
            {"id": empty_template["id"], "name": "ZZ empty", "campaign_groups": []},
        ],
        "unassigned_contact_lists": [node(spare, "sms")],
    }

    def the_group() -> dict:
        templates = h.get(client, h.HIERARCHY).json()["templates"]
        (found,) = [g for t in templates for g in t["campaign_groups"] if g["id"] == group["id"]]
        return found

    for action, status in (
        ("start", "running"),
        ("pause", "paused"),
        ("resume", "running"),
        ("stop", "stopped"),
    ):
        assert client.post(f"{h.GROUPS}/{group['id']}/{action}").status_code == 200
        assert the_group()["status"] == status

    renamed = h.unique("Renamed")
    response = client.patch(f"{h.GROUPS}/{group['id']}", json={"name": renamed, "agent_group": "Night"})
    assert response.status_code == 200, response.text
    assert (the_group()["name"], the_group()["agent_group"]) == (renamed, "Night")

    second = h.contact_list(client)
    response = client.patch(
        f"{h.GROUPS}/{group['id']}", json={"contact_list_ids": [second["id"], contacts["id"]]}
    )
    assert response.status_code == 200, response.text
    assert the_group()["contact_lists"] == [node(second), node(contacts)]

    response = client.patch(f"{h.LISTS}/{second['id']}", json={"name": "Renamed list"})
    assert response.status_code == 200, response.text
    assert the_group()["contact_lists"][0]["name"] == "Renamed list"

    response = client.patch(f"{h.TEMPLATES}/{template['id']}", json={"name": "AA renamed template"})
    assert response.status_code == 200, response.text
    assert h.get(client, h.HIERARCHY).json()["templates"][0]["name"] == "AA renamed template"

    assert client.post(f"{h.GROUPS}/{group['id']}/start").status_code == 200
    assert client.post(f"{h.GROUPS}/{group['id']}/stop").status_code == 200
    assert client.delete(f"{h.GROUPS}/{group['id']}").status_code == 204
    tree = h.get(client, h.HIERARCHY).json()
    assert tree["templates"][0]["campaign_groups"] == []
    unassigned = {item["id"] for item in tree["unassigned_contact_lists"]}
    assert unassigned == {spare["id"], second["id"], contacts["id"]}

    assert client.delete(f"{h.LISTS}/{spare['id']}").status_code == 204
    assert client.delete(f"{h.TEMPLATES}/{empty_template['id']}").status_code == 204
    tree = h.get(client, h.HIERARCHY).json()
    assert [t["id"] for t in tree["templates"]] == [template["id"]]
    assert spare["id"] not in {item["id"] for item in tree["unassigned_contact_lists"]}


def test_every_role_reads_the_hierarchy(
    admin: httpx.Client, supervisor: httpx.Client, viewer: httpx.Client
) -> None:
    made = h.chain(admin)
    for client in (admin, supervisor, viewer):
        tree = h.get(client, h.HIERARCHY).json()
        assert made["template"]["id"] in {t["id"] for t in tree["templates"]}
