"""GET /api/v1/campaign-groups/{id}/status: a group's attempts, agents and pacing recorded
through the handlers, then read over HTTP; another account's group is not found."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx

from dialstream.bootstrap import Runtime
from domain import record_chain
from domain.codes import CallResult
from tests.gateway import helpers as h
from tests.gateway.conftest import Account
from tests.gateway.test_dialability import import_file

ROWS = "client_id,phone\nC1,(212) 555-0121\nC2,(212) 555-0122\nC3,(212) 555-0123\nC4,(212) 555-0124\n"


def a_running_group(account: Account, agent_group: str) -> dict[str, Any]:
    """A group on a progressive profile that the group overrides to predictive, with one list."""
    admin = account.admin
    dialing = h.dialing_profile(admin, settings={"dialing_mode": "progressive"})
    session = h.session_profile(admin, agent_group=agent_group)
    template = h.template(admin, dialing["id"], session["id"])
    contacts = h.contact_list(admin)
    import_file(admin, contacts["id"], ROWS)
    group = h.group(admin, template["id"], [contacts["id"]], dialing_overrides={"dialing_mode": "predictive"})
    started = admin.post(f"{h.GROUPS}/{group['id']}/start")
    assert started.status_code == 200, started.text
    return {"group": UUID(group["id"]), "list": UUID(contacts["id"])}


def status(client: httpx.Client, group_id: UUID) -> httpx.Response:
    return client.get(f"{h.GROUPS}/{group_id}/status")


def test_the_status_of_a_dialling_group(
    runtime: Runtime, new_account: Callable[[], Account], other_admin: httpx.Client
) -> None:
    account = new_account()
    patched = account.admin.patch(h.SETTINGS, json={"pacing": {"target_abandon_rate": 2.5}})
    assert patched.status_code == 200, patched.text
    team = h.unique("Team")
    made = a_running_group(account, team)
    group_id, list_id = made["group"], made["list"]

    before = status(account.admin, group_id)
    assert before.status_code == 200, before.text
    quiet = before.json()
    assert quiet["calls"]["lines"] == 0 and quiet["dial_rate_per_minute"] == 0 and quiet["pacing"] is None
    assert quiet["abandon"]["last_24h"] == {"abandoned": 0, "live_answered": 0, "rate": 0.0}

    handlers, account_id = runtime.handlers, account.id
    for login in ("ann", "bob", "cy"):
        handlers.agents.log_in(account_id, login, agent_group=team)
    handlers.agents.ready(account_id, "ann")
    handlers.agents.not_ready(account_id, "bob", "lunch")

    def place(client_id: str) -> tuple[UUID, UUID]:
        chain = runtime.store.load(record_chain.chain_id(list_id, client_id), record_chain.project)
        assert chain is not None
        _, attempt_id, made_event = handlers.attempts.make_attempt(
            chain, 1, attempt_id=uuid.uuid4(), channel="voice", campaign_group_id=group_id, mode="predictive"
        )
        assert made_event is not None
        return record_chain.record_id(chain.id, 1), attempt_id

    talked, abandoned, ringing, busy = (place(c) for c in ("C1", "C2", "C3", "C4"))
    agent = uuid.uuid4()
    handlers.attempts.answered(account_id, *talked, answered_by="person", ring_ms=9_000)
    handlers.attempts.connected(account_id, *talked, agent_id=agent, wait_ms=300)
    handlers.attempts.answered(account_id, *abandoned, answered_by="person", ring_ms=11_000)
    handlers.attempts.abandoned(account_id, *abandoned, wait_ms=2_000, message_played=True)
    handlers.attempts.finished(
        account_id, *abandoned, call_result=CallResult.ABANDONED, ring_ms=11_000, talk_ms=0
    )
    handlers.attempts.finished(account_id, *busy, call_result=CallResult.BUSY, ring_ms=4_000, talk_ms=0)
    paced = handlers.campaigns.record_pacing(
        account_id, group_id, mode="predictive", ratio=1.6, reason="warming up"
    )
    assert runtime.wait(paced.position)
    assert ringing  # placed only: still ringing

    answer = status(account.admin, group_id)
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["campaign_group_id"] == str(group_id)
    assert seen["status"] == "running" and seen["agent_group"] == team
    assert seen["dialing_mode"] == "predictive", "the group's override, not the profile's mode"
    agents = seen["agents"]
    assert (agents["logged_in"], agents["ready"], agents["not_ready"], agents["on_call"]) == (1, 1, 1, 0)
    assert seen["calls"] == {
        "ringing": 1,
        "waiting": 0,
        "connected": 1,
        "machine": 0,
        "abandoned": 0,
        "lines": 2,
    }
    assert seen["dial_rate_per_minute"] == 4
    abandon = seen["abandon"]
    assert abandon["target_rate"] == 2.5 and abandon["definition_seconds"] == 2
    assert abandon["last_24h"] == {"abandoned": 1, "live_answered": 2, "rate": 50.0}
    assert abandon["last_30d"] == abandon["last_24h"] and abandon["binding"] == "30d"
    assert seen["records"]["total"] == 4 and seen["records"]["ready"] == 4
    assert seen["pacing"]["mode"] == "predictive" and seen["pacing"]["ratio"] == 1.6
    assert seen["pacing"]["reason"] == "warming up"
    day = {
        key: seen["last_24h"][key] for key in ("attempts", "live", "busy", "connects", "abandons", "finished")
    }
    assert day == {"attempts": 4, "live": 2, "busy": 1, "connects": 1, "abandons": 1, "finished": 2}

    viewer = account.admin.post("/api/v1/api-keys", json={"name": "wallboard", "role": "viewer"})
    assert viewer.status_code == 201, viewer.text
    with httpx.Client(
        base_url=str(account.admin.base_url), headers={"Authorization": f"Bearer {viewer.json()['secret']}"}
    ) as wallboard:
        assert status(wallboard, group_id).json()["calls"] == seen["calls"]
    h.assert_problem(status(other_admin, group_id), 404, "id")
    h.assert_problem(status(account.admin, uuid.uuid4()), 404, "id")
