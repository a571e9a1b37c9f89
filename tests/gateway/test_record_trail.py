"""GET /api/v1/records/{record_id} over HTTP: a record's fields, its treatments and every
attempt made on it, read from the event store.

The tests play the dialer with the handlers it calls (draw, make the attempt, report its
progress); the server's own call results processor updates and treats each record, with a
dialing profile that retries busy after 30 minutes and moves no answer to the next record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from dialstream.bootstrap import Runtime
from dialstream.handlers.queue import Drawn
from dialstream.store import stored_topic_of
from domain.codes import CallResult
from schemas.records import RecordTreated
from tests.gateway import helpers as h
from tests.gateway.conftest import Account, _open_account
from tests.gateway.test_dialability import import_file, rid

FILE = (
    "client_id,phone,mobile\n"
    "BUSY,(212) 555-0161,\n"
    "TALK,(212) 555-0162,(212) 555-0163\n"
    "DROP,(212) 555-0164,\n"
)
TREATMENTS = [
    {"call_result": int(CallResult.BUSY), "sequence": 1, "action": "retry_in", "interval_minutes": 30},
    {"call_result": int(CallResult.NO_ANSWER), "sequence": 1, "action": "next_in_chain"},
]
AGENT = uuid4()


def trail(client: httpx.Client, record: UUID | str) -> httpx.Response:
    return client.get(f"/api/v1/records/{record}")


def answer(client: httpx.Client, record: UUID | str) -> dict[str, Any]:
    response = trail(client, record)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def instant(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


@dataclass
class World:
    account: Account
    viewer: httpx.Client
    list_id: str
    list_name: str
    group_id: UUID
    started: datetime
    unused_attempt: UUID  # drawn from BUSY and given back undialled
    attempts: dict[str, UUID]  # client id -> the attempt that dialled its first record


def draw(runtime: Runtime, account: Account, group_id: UUID, list_id: str) -> dict[str, Drawn]:
    assert runtime.wait_for_head()
    candidates = runtime.records.dialable([UUID(list_id)], now=datetime.now(UTC), max_attempts=10)
    drawn = runtime.handlers.queue.draw(account.id, group_id, candidates, max_attempts=10)
    return {d.chain.client_id: d for d in drawn}


def wait_for_treatments(runtime: Runtime, after: int, chains: set[UUID], count: int) -> None:
    """Until the call results processor has treated ``count`` results of these chains."""
    deadline = time.monotonic() + 60
    while True:
        treated = runtime.store.read_topics((stored_topic_of(RecordTreated),), after=after, limit=500)
        if sum(1 for _, event in treated if event.originator_id in chains) >= count:
            return
        assert time.monotonic() < deadline, "the call results processor did not treat the results"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def world(runtime: Runtime, client_for: Callable[[str | None], httpx.Client]) -> World:
    account = _open_account(runtime, client_for, h.unique("Trail"))
    admin = account.admin
    dialing = h.dialing_profile(admin, settings={"dialing_mode": "progressive", "treatments": TREATMENTS})
    session = h.session_profile(admin)
    template = h.template(admin, dialing["id"], session["id"])
    contacts = h.contact_list(admin)
    group = h.group(admin, template["id"], [contacts["id"]])
    assert admin.post(f"{h.GROUPS}/{group['id']}/start").status_code == 200
    import_file(admin, contacts["id"], FILE)
    group_id, list_id = UUID(group["id"]), contacts["id"]
    handlers = runtime.handlers
    started = datetime.now(UTC).replace(microsecond=0)
    start = runtime.store.position()

    drawn = draw(runtime, account, group_id, list_id)
    assert sorted(drawn) == ["BUSY", "DROP", "TALK"]
    # BUSY is given back undialled (the agent skipped it), then drawn again and dialled.
    unused = drawn["BUSY"]
    returned = handlers.queue.return_records(
        account.id, group_id, [(unused.record.record_id, unused.attempt_id)], reason="skipped", detail="agent skipped"
    )
    assert returned == [unused.record.record_id]
    drawn |= draw(runtime, account, group_id, list_id)
    assert drawn["BUSY"].attempt_id != unused.attempt_id
    for d in drawn.values():
        handlers.attempts.make_attempt(
            d.chain,
            d.record.chain_n,
            attempt_id=d.attempt_id,
            channel="voice",
            campaign_group_id=group_id,
            caller_id="+18005550100",
            mode="progressive",
        )
    report = handlers.attempts
    busy, talk, drop = drawn["BUSY"], drawn["TALK"], drawn["DROP"]
    report.finished(
        account.id, busy.record.record_id, busy.attempt_id, call_result=CallResult.BUSY, ring_ms=3_000, talk_ms=0
    )
    report.answered(account.id, talk.record.record_id, talk.attempt_id, answered_by="person", ring_ms=4_000)
    report.connected(account.id, talk.record.record_id, talk.attempt_id, agent_id=AGENT, wait_ms=800)
    report.finished(
        account.id, talk.record.record_id, talk.attempt_id, call_result=CallResult.ANSWER, ring_ms=4_000, talk_ms=61_000
    )
    report.answered(account.id, drop.record.record_id, drop.attempt_id, answered_by="person", ring_ms=5_000)
    report.abandoned(account.id, drop.record.record_id, drop.attempt_id, wait_ms=2_000, message_played=True)
    report.finished(
        account.id, drop.record.record_id, drop.attempt_id, call_result=CallResult.ABANDONED, ring_ms=5_000, talk_ms=0
    )
    wait_for_treatments(runtime, start, {d.chain.id for d in drawn.values()}, 3)

    issued = runtime.handlers.accounts.issue_api_key(account.id, "trail viewer", "viewer")
    assert runtime.wait(issued.position)
    return World(
        account=account,
        viewer=client_for(issued.secret),
        list_id=list_id,
        list_name=contacts["name"],
        group_id=group_id,
        started=started,
        unused_attempt=unused.attempt_id,
        attempts={client_id: d.attempt_id for client_id, d in drawn.items()},
    )


# The record and its attempts ----------------------------------------------------------------


def test_a_busy_record_shows_its_fields_attempts_and_the_retry(world: World) -> None:
    record = rid(world.list_id, "BUSY")
    body = answer(world.viewer, record)

    assert (body["record_id"], body["list_id"], body["list_name"]) == (str(record), world.list_id, world.list_name)
    assert (body["client_id"], body["chain_n"], body["contact_info"]) == ("BUSY", 1, "+12125550161")
    assert (body["contact_info_type"], body["contact_info_type_name"]) == (1, "home_phone")
    assert body["time_zone"] == "America/New_York" and body["second_time_zone"] is None
    # Retried in 30 minutes: campaign rescheduled, ready, one attempt used, the result busy.
    assert (body["record_type"], body["record_type_name"]) == (3, "campaign_rescheduled")
    assert (body["record_status"], body["record_status_name"]) == (1, "ready")
    assert (body["call_result"], body["call_result_name"]) == (6, "busy")
    assert body["attempt"] == 1
    due = instant(body["dial_sched_time"])
    assert timedelta(minutes=29) <= due - world.started <= timedelta(minutes=31), (due, world.started)
    assert world.started <= instant(body["call_time"]) <= due

    (step,) = body["treatments"]
    assert step["action"] == "retry_in" and (step["call_result"], step["call_result_name"]) == (6, "busy")
    assert (step["sequence"], step["applied"]) == (1, 1)
    assert step["dial_sched_time"] == body["dial_sched_time"] and step["at"].endswith("Z")

    unused, dialled = body["attempts"]
    assert unused["attempt_id"] == str(world.unused_attempt)
    assert unused["made_at"] is None and unused["channel"] is None and unused["finished"] is None
    assert unused["campaign_group_id"] == str(world.group_id)
    assert [e["event"] for e in unused["record_events"]] == ["record.retrieved", "record.returned"]
    assert unused["record_events"][1]["reason"] == "skipped"
    assert unused["record_events"][1]["detail"] == "agent skipped"

    assert dialled["attempt_id"] == str(world.attempts["BUSY"])
    assert dialled["campaign_group_id"] == str(world.group_id)
    assert (dialled["channel"], dialled["device"]) == ("voice", "+12125550161")
    assert (dialled["caller_id"], dialled["mode"]) == ("+18005550100", "progressive")
    assert dialled["answered"] is None and dialled["connected"] is None and dialled["abandoned"] is None
    finished = dialled["finished"]
    assert (finished["call_result"], finished["call_result_name"]) == (6, "busy")
    assert (finished["ring_ms"], finished["talk_ms"], finished["agent_id"]) == (3_000, 0, None)
    assert instant(dialled["made_at"]) <= instant(finished["at"])

    drawn, updated, treated = dialled["record_events"]
    assert drawn["event"] == "record.retrieved"
    assert updated["event"] == "record.updated"
    assert (updated["call_result_name"], updated["attempt"], updated["record_status_name"]) == ("busy", 1, "updated")
    assert treated["event"] == "record.treated"
    assert (treated["action"], treated["call_result_name"]) == ("retry_in", "busy")
    assert "busy" in treated["reason"] and "30 min" in treated["reason"], treated["reason"]
    assert (treated["record_type_name"], treated["record_status_name"]) == ("campaign_rescheduled", "ready")
    assert treated["dial_sched_time"] == body["dial_sched_time"] and treated["next_chain_n"] == 1
    assert treated["step"] == step

    assert [e["event"] for e in body["history"]] == ["record_chain.imported"]
    assert body["history"][0]["line"] == 2


def test_an_answered_call_shows_the_agent_and_closes_the_chain(world: World) -> None:
    body = answer(world.viewer, rid(world.list_id, "TALK", 1))
    (attempt,) = body["attempts"]
    assert attempt["answered"]["answered_by"] == "person" and attempt["answered"]["ring_ms"] == 4_000
    assert attempt["connected"]["agent_id"] == str(AGENT) and attempt["connected"]["wait_ms"] == 800
    assert attempt["abandoned"] is None
    finished = attempt["finished"]
    assert (finished["call_result_name"], finished["talk_ms"]) == ("answer", 61_000)
    assert finished["agent_id"] == str(AGENT), "the agent it was connected to"
    treated = attempt["record_events"][-1]
    assert treated["action"] is None and treated["next_chain_n"] is None and "chain finished" in treated["reason"]
    assert body["treatments"] == [] and body["record_status_name"] == "updated"

    # The mobile was never dialled: the treatment of the home phone closed it with the chain.
    mobile = answer(world.viewer, rid(world.list_id, "TALK", 2))
    assert mobile["attempts"] == [] and mobile["record_status_name"] == "chain_updated"
    imported, closed = mobile["history"]
    assert imported["event"] == "record_chain.imported"
    assert closed["event"] == "record.treated" and closed["treated_chain_n"] == 1
    assert closed["attempt_id"] == str(world.attempts["TALK"])
    assert (closed["record_status"], closed["record_status_name"]) == (7, "chain_updated")
    assert closed["reason"] == treated["reason"]


def test_an_abandoned_call_shows_the_wait_and_the_message(world: World) -> None:
    (attempt,) = answer(world.viewer, rid(world.list_id, "DROP"))["attempts"]
    assert attempt["abandoned"]["wait_ms"] == 2_000 and attempt["abandoned"]["message_played"] is True
    assert attempt["connected"] is None
    assert (attempt["finished"]["call_result"], attempt["finished"]["call_result_name"]) == (21, "abandoned")


# Not found ------------------------------------------------------------------------------------


def test_unknown_records_are_404(world: World) -> None:
    h.assert_problem(trail(world.viewer, uuid4()), 404, "record_id")
    h.assert_problem(trail(world.viewer, "not-a-uuid"), 422, "record_id")
    # A position past the end of an existing chain is no record either.
    h.assert_problem(trail(world.viewer, rid(world.list_id, "BUSY", 2)), 404, "record_id")


def test_another_accounts_record_is_404(world: World, other_admin: httpx.Client) -> None:
    record = rid(world.list_id, "BUSY")
    body = h.assert_problem(trail(other_admin, record), 404, "record_id")
    assert body["detail"] == f"record {record} not found", "the same answer as a record that never was"


def test_a_deleted_chain_is_404_saying_so(world: World) -> None:
    admin = world.account.admin
    contacts = h.contact_list(admin)
    import_file(admin, contacts["id"], FILE)
    job = import_file(admin, contacts["id"], "client_id,phone\nKEPT,(212) 555-0150\n", append_type="flush_and_append")
    body = h.assert_problem(trail(world.viewer, rid(contacts["id"], "TALK", 2)), 404, "record_id")
    assert body["code"] == "chain_deleted" and body["deletion_reason"] == "flush" and body["job_id"] == job["id"]
    assert (body["list_id"], body["client_id"], body["chain_n"]) == (contacts["id"], "TALK", 2)
    assert answer(world.viewer, rid(contacts["id"], "KEPT"))["attempts"] == []


def test_the_route_is_published(base_url: str) -> None:
    spec = httpx.get(f"{base_url}/openapi.json").json()
    operation = spec["paths"]["/api/v1/records/{record_id}"]["get"]
    assert operation["summary"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/RecordTrail"}
    fields = spec["components"]["schemas"]["RecordTrail"]["properties"]
    assert {"record_id", "record_status_name", "treatments", "attempts", "history"} <= set(fields)
    attempt = spec["components"]["schemas"]["TrailAttempt"]["properties"]
    assert {"made_at", "answered", "connected", "abandoned", "finished", "record_events"} <= set(attempt)
