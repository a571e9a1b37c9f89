"""The live dashboard's server side: /api/v1/dashboard/stream (server-sent events) and a
campaign group's chart series, on the real server; the dialer is played through the handlers.

The stream sends the current figures at once and a new message promptly after an attempt is
stored (the benchmark measures how promptly); any key may read it (its role is in each message), no key is 401, a revoked
key's stream ends; a server with a stream open stops promptly. The series equals the figures counted, in the test, from the
events the test appended under a stopped clock, quarter hour by quarter hour. The feed the
streams share computes one view per account and position however many clients wait for it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest

from dialstream.bootstrap import Runtime
from domain import agent, record_chain
from domain.agent import Agent
from domain.codes import CallResult
from gateway.streaming import POLL_S, Feed
from schemas.agents import AgentEvent
from schemas.attempts import CallAttemptAbandoned, CallAttemptAnswered, CallAttemptConnected, CallAttemptMade
from schemas.base import Event
from tests.gateway import helpers as h
from tests.gateway.conftest import Account, serving
from tests.gateway.test_campaign_status import a_running_group

STREAM = "/api/v1/dashboard/stream"
TIMEOUT = httpx.Timeout(10.0, read=5.0)  # a silent stream fails the test instead of hanging it
QUARTER = 900
# The issue asks for a second; `make bench ONLY=dashboard` measures it (p99 about 200 ms). The
# suite runs beside Kafka and browser tests on two cores, so here a stall of the machine must
# not fail a check of behaviour: three seconds still catch a stream that sends a change only
# with its next keep-alive (15 s).
PROMPT_S = 3.0


class Messages:
    """An event stream read message by message (a comment is a message: ``{"": text}``)."""

    def __init__(self, response: httpx.Response):
        self._lines = response.iter_lines()

    def next(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        for line in self._lines:
            if line == "":
                if fields:
                    return fields
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        raise EOFError("the stream ended")

    def rest(self) -> list[str]:
        return list(self._lines)


def board_of(message: dict[str, str]) -> dict[str, Any]:
    assert message["event"] == "dashboard", message
    board: dict[str, Any] = json.loads(message["data"])
    assert board["position"] == int(message["id"]), "the message's id is the position of its figures"
    return board


def line_of(board: dict[str, Any], group_id: UUID, list_id: UUID) -> dict[str, Any]:
    [group] = [g for g in board["campaign_groups"] if g["campaign_group_id"] == str(group_id)]
    [line] = [row for row in group["contact_lists"] if row["contact_list_id"] == str(list_id)]
    return line


def place(
    runtime: Runtime, account_id: UUID, group_id: UUID, list_id: UUID, client_id: str
) -> tuple[UUID, UUID, int]:
    """An attempt to the client's first record, as the dialer records it: (record, attempt, position)."""
    chain = runtime.store.load(record_chain.chain_id(list_id, client_id), record_chain.project)
    assert chain is not None and chain.account_id == account_id
    done, attempt_id, made = runtime.handlers.attempts.make_attempt(
        chain, 1, attempt_id=uuid.uuid4(), channel="voice", campaign_group_id=group_id, mode="predictive"
    )
    assert made is not None
    return record_chain.record_id(chain.id, 1), attempt_id, done.position


def test_the_first_message_comes_at_once_and_an_attempt_shows_promptly(
    runtime: Runtime, new_account: Callable[[], Account]
) -> None:
    account = new_account()
    made = a_running_group(account, h.unique("Team"))
    group_id, list_id = made["group"], made["list"]
    assert runtime.wait_for_head()
    with account.admin.stream("GET", STREAM, timeout=TIMEOUT) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        messages = Messages(response)
        asked = time.monotonic()
        first = board_of(messages.next())
        assert time.monotonic() - asked < PROMPT_S, "the first message waits for nothing"
        assert first["caller"] == {"role": "admin"}
        now = account.admin.get("/api/v1/dashboard").json()
        assert now["position"] >= first["position"]
        assert line_of(first, group_id, list_id) == line_of(now, group_id, list_id)
        assert line_of(first, group_id, list_id)["today"]["attempts"] == 0
        assert line_of(first, group_id, list_id)["records"]["total"] == 4

        _, _, position = place(runtime, account.id, group_id, list_id, "C1")
        stored = time.monotonic()
        while True:
            message = messages.next()
            assert "" not in message, "a keep-alive: no message for the attempt"
            board = board_of(message)
            if line_of(board, group_id, list_id)["today"]["attempts"] == 1:
                break
        assert time.monotonic() - stored < PROMPT_S, f"the attempt reached the stream after {PROMPT_S} s"
        assert board["position"] >= position
        assert board["account"]["attempts"] == 1
        [status] = [g for g in board["campaign_groups"] if g["campaign_group_id"] == str(group_id)]
        assert status["calls"]["ringing"] == 1 and status["dial_rate_per_minute"] == 1


def test_a_viewer_reads_the_stream_and_its_role_no_key_is_401(
    viewer: httpx.Client, client_for: Callable[[str | None], httpx.Client]
) -> None:
    with viewer.stream("GET", STREAM, timeout=TIMEOUT) as response:
        assert response.status_code == 200
        board = board_of(Messages(response).next())
    assert board["caller"] == {"role": "viewer"}
    assert viewer.get("/api/v1/dashboard").json()["caller"] == {"role": "viewer"}
    nobody = client_for(None)
    h.assert_problem(nobody.get(STREAM), 401, "Authorization")
    h.assert_problem(
        nobody.get(f"/api/v1/dashboard/campaign-groups/{uuid.uuid4()}/series"), 401, "Authorization"
    )
    h.assert_problem(client_for("dsk_not_a_key").get(STREAM), 401, "Authorization")


def test_a_stream_ends_once_its_key_is_revoked(
    admin: httpx.Client, client_for: Callable[[str | None], httpx.Client]
) -> None:
    issued = admin.post("/api/v1/api-keys", json={"name": h.unique("Wallboard"), "role": "viewer"})
    assert issued.status_code == 201, issued.text
    wallboard = client_for(issued.json()["secret"])
    with wallboard.stream("GET", STREAM, timeout=TIMEOUT) as response:
        messages = Messages(response)
        board_of(messages.next())
        assert admin.delete(f"/api/v1/api-keys/{issued.json()['id']}").status_code == 204
        assert messages.rest() == [], "the revocation is a change: the stream ends instead of sending it"
    h.assert_problem(wallboard.get(STREAM), 401, "Authorization")


def test_a_server_with_a_stream_open_stops_at_once(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    server = serving(tmp_path)
    running = server.__enter__()
    stopped = False
    try:
        headers = {"Authorization": f"Bearer {running.admin_secret}"}
        with (
            httpx.Client(base_url=running.base_url, headers=headers) as client,
            client.stream("GET", STREAM, timeout=TIMEOUT) as response,
        ):
            messages = Messages(response)
            board_of(messages.next())
            stopping = time.monotonic()
            server.__exit__(None, None, None)  # uvicorn (given 15 s to stop), then the runtime
            stopped = True
            took = time.monotonic() - stopping
            assert messages.rest() == [], "the stream ends cleanly, as the server stops"
    finally:
        if not stopped:
            server.__exit__(None, None, None)
    left = [t for t in set(threading.enumerate()) - before if t.name == "uvicorn" and t.is_alive()]
    assert not left, "uvicorn is still waiting for the stream to finish"
    assert took < 10.0, f"the server took {took:.1f} s to stop with a stream open"


def test_clients_of_an_account_share_one_computation_per_position() -> None:
    computed: list[int] = []
    reads: list[int] = []

    def compute(position: int) -> dict[str, int]:
        time.sleep(0.05)  # long enough that every client asks while it runs
        computed.append(position)
        return {"position": position}

    def read() -> int:
        reads.append(1)
        return 7

    async def clients() -> None:
        feed = Feed(shared_s=0.5)
        assert await asyncio.gather(*(feed.position(read) for _ in range(10))) == [7] * 10
        assert len(reads) == 1
        await asyncio.sleep(POLL_S)
        await feed.position(read)
        assert len(reads) == 2, "read again once the last read is a poll interval old"

        views = await asyncio.gather(*(feed.latest("account", 5, compute) for _ in range(10)))
        assert views == [(5, {"position": 5})] * 10 and computed == [5]
        assert await feed.latest("account", 5, compute) == (5, {"position": 5}) and computed == [5]
        newer = await asyncio.gather(feed.latest("account", 6, compute), feed.latest("account", 5, compute))
        assert newer == [(6, {"position": 6})] * 2, "an older position is served the newer figures"
        assert computed == [5, 6]
        await feed.latest("other", 6, compute)
        assert computed == [5, 6, 6], "each account its own"
        await asyncio.sleep(feed.shared_s)
        assert await feed.latest("account", 6, compute) == (6, {"position": 6})
        assert computed == [5, 6, 6, 6], "a client that comes later gets figures of its own time"

    asyncio.run(clients())


# The series -------------------------------------------------------------------------------


def account_events(runtime: Runtime, account_id: UUID, after: int) -> list[Event]:
    found, batch = [], runtime.store.read(after, 5_000)
    while batch:
        found += [event for _, event in batch if event.account_id == account_id]
        batch = runtime.store.read(batch[-1][0], 5_000)
    return found


def quarter_of(at: datetime) -> int:
    return int(at.timestamp()) // QUARTER * QUARTER


def seconds_by_quarter(since: datetime, until: datetime) -> Iterator[tuple[int, float]]:
    """[since, until) cut at quarter hours: (quarter's start, seconds in it)."""
    start = quarter_of(since)
    while start < until.timestamp():
        overlap = min(until.timestamp(), start + QUARTER) - max(since.timestamp(), start)
        if overlap > 0:
            yield start, overlap
        start += QUARTER


def test_the_series_equals_the_events_counted_per_quarter_hour(
    runtime: Runtime,
    new_account: Callable[[], Account],
    other_admin: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = new_account()
    zone = "Asia/Kolkata"  # +05:30: the intervals are quarter hours there too
    patched = account.admin.patch(
        h.SETTINGS, json={"pacing": {"target_abandon_rate": 2.5}, "region": {"reports_time_zone": zone}}
    )
    assert patched.status_code == 200, patched.text
    team = h.unique("Team")
    made = a_running_group(account, team)
    group_id, list_id = made["group"], made["list"]
    assert runtime.wait_for_head()
    head = runtime.store.position()

    base = datetime.fromtimestamp(quarter_of(datetime.now(UTC) - timedelta(hours=2)), UTC)
    moment = [base]
    monkeypatch.setattr(runtime.handlers, "clock", lambda: moment[0])

    def at(seconds: int) -> None:
        moment[0] = base + timedelta(seconds=seconds)

    handlers, account_id = runtime.handlers, account.id
    attempts = handlers.attempts
    at(60)
    handlers.agents.log_in(account_id, "ann", agent_group=team)
    at(120)
    talked = place(runtime, account_id, group_id, list_id, "C1")[:2]
    at(130)
    attempts.answered(account_id, *talked, answered_by="person", ring_ms=10_000)
    at(133)
    attempts.connected(account_id, *talked, agent_id=uuid.uuid4(), wait_ms=300)
    at(400)
    attempts.finished(account_id, *talked, call_result=CallResult.ANSWER, ring_ms=10_000, talk_ms=267_000)
    at(600)
    handlers.agents.ready(account_id, "ann")
    at(899)  # the last second of the first quarter hour; its answer and abandon fall in the next
    dropped = place(runtime, account_id, group_id, list_id, "C2")[:2]
    at(900)
    machine = place(runtime, account_id, group_id, list_id, "C3")[:2]
    at(905)
    attempts.answered(account_id, *dropped, answered_by="person", ring_ms=6_000)
    at(908)
    attempts.abandoned(account_id, *dropped, wait_ms=2_000, message_played=True)
    at(910)
    attempts.answered(account_id, *machine, answered_by="machine", ring_ms=10_000)
    at(915)
    attempts.finished(
        account_id, *machine, call_result=CallResult.ANSWERING_MACHINE, ring_ms=10_000, talk_ms=0
    )
    at(920)
    attempts.finished(account_id, *dropped, call_result=CallResult.ABANDONED, ring_ms=6_000, talk_ms=0)
    at(1000)
    handlers.agents.log_in(account_id, "bob", agent_group=team)
    at(1850)
    handlers.agents.not_ready(account_id, "bob", "lunch")
    at(2701)
    busy = place(runtime, account_id, group_id, list_id, "C4")[:2]
    at(2705)
    attempts.finished(account_id, *busy, call_result=CallResult.BUSY, ring_ms=4_000, talk_ms=0)
    at(2750)
    handlers.agents.log_out(account_id, "ann")
    at(3000)  # now: five minutes into the fourth quarter hour
    assert runtime.wait_for_head()

    events = account_events(runtime, account_id, head)
    mine = [e for e in events if getattr(e, "campaign_group_id", None) == group_id]
    counted: dict[str, Counter[int]] = {
        "attempts": Counter(quarter_of(e.timestamp) for e in mine if isinstance(e, CallAttemptMade)),
        "live": Counter(
            quarter_of(e.timestamp)
            for e in mine
            if isinstance(e, CallAttemptAnswered) and e.answered_by == "person"
        ),
        "connects": Counter(quarter_of(e.timestamp) for e in mine if isinstance(e, CallAttemptConnected)),
        "abandons": Counter(quarter_of(e.timestamp) for e in mine if isinstance(e, CallAttemptAbandoned)),
    }
    states: dict[UUID, Agent] = {}
    spent: defaultdict[tuple[int, str], float] = defaultdict(float)
    for event in events:
        if not isinstance(event, AgentEvent):
            continue
        before = states.get(event.originator_id)
        after = agent.evolve(before, event)
        if after is None:
            continue
        if before is not None and after.since != before.since and before.state != "logged_out":
            for start, seconds in seconds_by_quarter(before.since, after.since):
                spent[(start, before.state)] += seconds
        states[event.originator_id] = after
    for state in states.values():
        if state.state != "logged_out":
            for start, seconds in seconds_by_quarter(state.since, moment[0]):
                spent[(start, state.state)] += seconds

    path = f"/api/v1/dashboard/campaign-groups/{group_id}/series"
    answer = account.admin.get(path, params={"hours": 1})
    assert answer.status_code == 200, answer.text
    series = answer.json()
    assert series["interval_minutes"] == 15 and series["abandon_target_percent"] == 2.5
    starts = [int(base.timestamp()) + n * QUARTER for n in range(4)]
    local = [datetime.fromtimestamp(start, ZoneInfo(zone)).isoformat() for start in starts]
    expected = []
    for start, label in zip(starts, local, strict=True):
        figures = {name: counted[name][start] for name in ("attempts", "live", "connects", "abandons")}
        rate = round(100.0 * figures["abandons"] / figures["live"], 3) if figures["live"] else 0.0
        expected.append({"start": label, **figures, "abandon_rate": rate})
    assert series["points"] == expected
    # What the events above say, spelled out: the check above cannot pass on empty counts.
    assert [(p["attempts"], p["live"], p["connects"], p["abandons"]) for p in expected] == [
        (2, 1, 1, 0),
        (1, 1, 0, 1),
        (0, 0, 0, 0),
        (1, 0, 0, 0),
    ]
    assert [p["abandon_rate"] for p in expected] == [0.0, 100.0, 0.0, 0.0]

    assert [row["start"] for row in series["agent_states"]] == local
    for row, start in zip(series["agent_states"], starts, strict=True):
        seen = {state: seconds for state, seconds in row["seconds"].items() if seconds}
        assert seen == pytest.approx({state: s for (q, state), s in spent.items() if q == start}, abs=0.002)
        assert "logged_out" not in row["seconds"] and row["seconds"]["on_call"] == 0.0
    assert series["agent_states"][0]["seconds"] == pytest.approx(
        {
            "logged_in": 540.0,
            "ready": 300.0,
            "not_ready": 0.0,
            "reserved": 0.0,
            "on_call": 0.0,
            "wrap_up": 0.0,
        }
    )

    eight = account.admin.get(path).json()
    assert len(eight["points"]) == 32 and eight["points"][-4:] == series["points"]
    assert all(p["attempts"] == 0 for p in eight["points"][:-4])
    h.assert_problem(account.admin.get(path, params={"hours": 0}), 422)
    h.assert_problem(other_admin.get(path), 404, "id")
    h.assert_problem(account.admin.get(f"/api/v1/dashboard/campaign-groups/{uuid.uuid4()}/series"), 404, "id")


def test_a_groups_occupancy_today_is_call_and_wrap_up_time_over_logged_in_time(
    runtime: Runtime, new_account: Callable[[], Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    account = new_account()
    patched = account.admin.patch(h.SETTINGS, json={"region": {"reports_time_zone": "UTC"}})
    assert patched.status_code == 200, patched.text
    team, other_team = h.unique("Team"), h.unique("Team")
    group_id = a_running_group(account, team)["group"]
    other_group = a_running_group(account, other_team)["group"]
    midnight = datetime(2030, 6, 3, tzinfo=UTC)
    moment = [midnight]
    monkeypatch.setattr(runtime.handlers, "clock", lambda: moment[0])

    def at(seconds: int) -> None:
        moment[0] = midnight + timedelta(seconds=seconds)

    agents, account_id = runtime.handlers.agents, account.id

    def on_a_call(login: str, group: UUID) -> UUID:
        attempt_id = uuid.uuid4()
        agents.reserve(account_id, login, group_id=group, record_id=None, attempt_id=attempt_id, purpose="engage")
        agents.connect_call(account_id, login, group_id=group, record_id=uuid.uuid4(), attempt_id=attempt_id)
        return attempt_id

    at(-600)  # yesterday's ten minutes are not today's
    agents.log_in(account_id, "ann", agent_group=team)
    at(0)
    agents.log_in(account_id, "cat", agent_group=other_team)
    agents.ready(account_id, "cat")
    at(10)
    on_a_call("cat", other_group)  # another agent group's call: not this group's occupancy
    at(60)
    agents.ready(account_id, "ann")
    at(120)
    call = on_a_call("ann", group_id)  # on the call from 120 s
    at(300)
    agents.log_in(account_id, "bob", agent_group=team)
    at(310)
    agents.not_ready(account_id, "bob", "training")
    at(430)
    agents.end_call(account_id, "ann", call)  # wrap-up from 430 s until now
    at(600)
    assert runtime.wait_for_head()

    board = account.admin.get("/api/v1/dashboard").json()
    occupancy = {line["campaign_group_id"]: line["occupancy_today"] for line in board["campaign_groups"]}
    # Logged in today: ann 600 s, bob 300 s; on calls and in wrap-up: ann 310 + 170 s.
    assert occupancy[str(group_id)] == round((310 + 170) / (600 + 300), 4)
    assert occupancy[str(other_group)] == round(590 / 600, 4)
    # The account's: every agent group once, its agents' time summed before the division.
    account_line = board["account"]
    assert account_line["occupancy_today"] == round((480 + 590) / (900 + 600), 4)
    states = {state: n for state, n in account_line["agents"].items() if n}
    assert states == {"wrap_up": 1, "not_ready": 1, "on_call": 1}, account_line["agents"]
    assert account_line["agents"]["ready"] == 0
