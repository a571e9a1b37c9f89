"""GET /api/v1/reports/call-results: the summary's figures equal the same figures counted from
the event log in the test, in the account's reports time zone, as JSON and as CSV.

A real embedded runtime with the dialer on the telephony simulator in virtual time (the dialer
lab), served through the gateway's app; the summary's roll-up across a daylight-saving change is
checked on its own.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from dialstream.queries.contact_trace import COLUMNS
from dialstream.queries.reports import call_results_summary
from domain import agent
from domain.account import UpdateSettings
from domain.agent import Agent
from domain.codes import CallResult
from domain.predial import denial_codes
from gateway.app import create_app
from processors.telephony.simulator import Rates, Timings
from projections.call_results import ResultCount
from schemas.agents import AgentEvent
from schemas.attempts import CallAttemptAbandoned, CallAttemptAnswered, CallAttemptFinished, CallAttemptMade
from schemas.profiles import Pacing
from schemas.records import RecordChainImported, RecordReturned
from schemas.registry import ALL_EVENTS
from schemas.settings import RegionSettings
from tests.gateway.test_metrics import key, logged
from tests.processors.dialer.support import Lab, campaign, lab, us_records

NEW_YORK = ZoneInfo("America/New_York")
AGENT_EVENTS = tuple(cls for cls in ALL_EVENTS if issubclass(cls, AgentEvent))
# 10:55 in New York: the ten minutes dialled run across two local hours.
EPOCH = datetime(2026, 3, 10, 14, 55, tzinfo=UTC)


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, UUID, TestClient, str]]:
    timings = Timings(talk_mean_s=20.0, wrap_up_mean_s=3.0)
    with lab(
        tmp_path_factory.mktemp("reports"), rates=Rates(answer_person=0.6), timings=timings, epoch=EPOCH
    ) as L:
        L.handlers.accounts.update_settings(
            L.account_id, UpdateSettings(region=RegionSettings(reports_time_zone="America/New_York"))
        )
        # Los Angeles opens at 08:00 (11:00 in New York): its records are denied until then
        la = us_records(10, zone="America/Los_Angeles", area="213", prefix="L")
        # three lines per agent: more live answers than agents, some abandoned
        group = campaign(
            L, la + us_records(40), mode="progressive", agents=8, pacing=Pacing(lines_per_agent=3.0)
        )
        L.run(600.0)
        with TestClient(create_app(L.runtime)) as client:
            yield L, group, client, key(L, L.account_id)


def report(client: TestClient, secret: str, **params: Any) -> Any:
    response = client.get(
        "/api/v1/reports/call-results", params=params, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200, response.text
    return response.json() if params.get("format") != "csv" else response


def finished(L: Lab) -> list[CallAttemptFinished]:
    return logged(L, CallAttemptFinished)  # type: ignore[return-value]


def test_by_call_result_over_the_day(day: tuple[Lab, UUID, TestClient, str]) -> None:
    L, _, client, secret = day
    ended = finished(L)
    assert len(ended) > 40
    body = report(client, secret, **{"from": "2026-03-10", "to": "2026-03-11"})
    assert (body["time_zone"], body["from"], body["to"]) == (
        "America/New_York",
        "2026-03-10T00:00:00-04:00",
        "2026-03-11T00:00:00-04:00",
    )
    expected = Counter(e.call_result for e in ended)
    assert {row["call_result"]: row["attempts"] for row in body["rows"]} == dict(expected)
    assert all(row["call_result_name"] == CallResult(row["call_result"]).name.lower() for row in body["rows"])
    assert body["total"]["attempts"] == len(ended)
    talk = sum(e.talk_ms for e in ended) / 1000
    assert body["total"]["talk_seconds"] == pytest.approx(talk, abs=0.01)


def test_by_local_hour_group_and_list(day: tuple[Lab, UUID, TestClient, str]) -> None:
    L, group, client, secret = day
    ended = finished(L)
    body = report(client, secret, by=["hour", "group", "list"], **{"from": "2026-03-10", "to": "2026-03-11"})
    hours = Counter(
        e.timestamp.astimezone(NEW_YORK).replace(minute=0, second=0, microsecond=0).isoformat() for e in ended
    )
    assert len(hours) == 2  # 10:00 and 11:00 in New York
    assert {row["hour"]: row["attempts"] for row in body["rows"]} == dict(hours)
    assert {row["group_id"] for row in body["rows"]} == {str(group)}
    assert all(row["group_name"] and row["list_name"] for row in body["rows"])


def test_an_interval_and_an_agent(day: tuple[Lab, UUID, TestClient, str]) -> None:
    L, _, client, secret = day
    ended = finished(L)
    # from 11:00 New York time on: whole quarter hours, so the count is exact
    later = [e for e in ended if e.timestamp >= datetime(2026, 3, 10, 11, 0, tzinfo=NEW_YORK)]
    body = report(client, secret, **{"from": "2026-03-10T11:00", "to": "2026-03-10T12:00"})
    assert body["total"]["attempts"] == len(later) > 0
    talked = Counter(str(e.agent_id) for e in ended if e.agent_id is not None)
    agent, calls = talked.most_common(1)[0]
    by_agent = report(client, secret, by=["agent"], **{"from": "2026-03-10", "to": "2026-03-11"})
    assert {row["agent_id"]: row["attempts"] for row in by_agent["rows"]} == dict(talked)
    assert {row["agent_name"] for row in by_agent["rows"]} <= {f"agent-{n:02d}" for n in range(8)}
    one = report(client, secret, agent_id=agent, **{"from": "2026-03-10", "to": "2026-03-11"})
    assert one["total"]["attempts"] == calls


def test_denials_by_reason_group_and_day(day: tuple[Lab, UUID, TestClient, str]) -> None:
    L, group, client, secret = day
    reasons: Counter[str] = Counter()
    for event in logged(L, RecordReturned):
        if event.reason == "denied":  # type: ignore[attr-defined]
            reasons.update(denial_codes(event.detail))  # type: ignore[attr-defined]
    assert reasons["outside_hours"] > 0
    headers = {"Authorization": f"Bearer {secret}"}
    window = {"from": "2026-03-10", "to": "2026-03-11"}
    body = client.get("/api/v1/reports/denials", params=window, headers=headers).json()
    assert {row["reason"]: row["denials"] for row in body["rows"]} == dict(reasons)
    assert body["total"] == {"denials": sum(reasons.values())}
    by_day = client.get(
        "/api/v1/reports/denials", params={**window, "by": ["day", "group"]}, headers=headers
    ).json()
    assert [(row["day"], row["group_id"], row["denials"]) for row in by_day["rows"]] == [
        ("2026-03-10", str(group), sum(reasons.values()))
    ]
    earlier = client.get(
        "/api/v1/reports/denials", params={"from": "2026-03-09", "to": "2026-03-10"}, headers=headers
    )
    assert earlier.json()["rows"] == [] and earlier.json()["total"] == {"denials": 0}


def test_abandon_rate_per_group_and_day_with_both_windows(day: tuple[Lab, UUID, TestClient, str]) -> None:
    L, group, client, secret = day
    live = len([e for e in logged(L, CallAttemptAnswered) if e.answered_by == "person"])  # type: ignore[attr-defined]
    abandoned = len(logged(L, CallAttemptAbandoned))
    assert abandoned > 0
    headers = {"Authorization": f"Bearer {secret}"}
    body = client.get(
        "/api/v1/reports/abandon-rate", params={"from": "2026-03-09", "to": "2026-03-11"}, headers=headers
    ).json()
    quiet, busy = body["rows"]
    assert (quiet["day"], quiet["live_answered"], quiet["abandoned"], quiet["over_target"]) == (
        "2026-03-09",
        0,
        0,
        False,
    )
    rate = round(100.0 * abandoned / live, 3)
    assert (busy["day"], busy["group_id"], busy["live_answered"], busy["abandoned"]) == (
        "2026-03-10",
        str(group),
        live,
        abandoned,
    )
    # the day's calls all lie within both windows at its end (now, for today)
    assert (busy["abandon_rate"], busy["rate_24h"], busy["rate_30d"]) == (rate, rate, rate)
    assert (busy["target_rate"], busy["over_target"]) == (3.0, rate > 3.0)
    assert body["total"] == {"live_answered": live, "abandoned": abandoned, "abandon_rate": rate}


def test_the_contact_trace_is_every_event_about_the_client_in_log_order(
    day: tuple[Lab, UUID, TestClient, str],
) -> None:
    L, _, client, secret = day
    headers = {"Authorization": f"Bearer {secret}"}
    store = L.runtime.store
    log, after = [], 0
    while batch := store.read(after, 10_000):
        log += batch
        after = batch[-1][0]
    for client_id in ("L00000", "C00000"):
        chains = {
            e.originator_id for _, e in log if isinstance(e, RecordChainImported) and e.client_id == client_id
        }
        records = {
            r.record_id for _, e in log if e.originator_id in chains for r in getattr(e, "records", [])
        }
        expected = [(p, type(e).__struct_config__.tag) for p, e in log if e.originator_id in chains | records]
        body = client.get(
            "/api/v1/reports/contact-trace", params={"client_id": client_id}, headers=headers
        ).json()
        assert [(row["position"], row["event"]) for row in body["rows"]] == expected
        assert {row["channel"] for row in body["rows"]} == {"voice"}
        tags = [tag for _, tag in expected]
        assert tags[0] == "record_chain.imported" and "call_attempt.made" in tags
    la = client.get("/api/v1/reports/contact-trace", params={"client_id": "L00000"}, headers=headers).json()
    assert any(row["denied_for"] == "outside_hours" for row in la["rows"])
    assert any(row["call_result_name"] for row in la["rows"] if row["event"] == "call_attempt.finished")
    csv_trace = client.get(
        "/api/v1/reports/contact-trace", params={"client_id": "L00000", "format": "csv"}, headers=headers
    )
    assert csv_trace.text.splitlines()[0] == ",".join(COLUMNS)
    assert len(csv_trace.text.splitlines()) == len(la["rows"]) + 1
    other = key(L, L.handlers.accounts.open_account("Auditor elsewhere").id)
    elsewhere = client.get(
        "/api/v1/reports/contact-trace",
        params={"client_id": "L00000"},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert elsewhere.json()["rows"] == []


def test_agent_occupancy_equals_the_agents_events(day: tuple[Lab, UUID, TestClient, str]) -> None:
    L, _, client, secret = day
    now = L.handlers.clock()
    states: dict[UUID, Agent] = {}
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    for event in logged(L, *AGENT_EVENTS):
        before = states.get(event.originator_id)
        after = agent.evolve(before, event)
        if after is None:
            continue
        if before is not None and after.since != before.since and before.state != "logged_out":
            seconds[(str(event.originator_id), before.state)] += (after.since - before.since).total_seconds()
        states[event.originator_id] = after
    for agent_id, state in states.items():
        if state.state != "logged_out":
            seconds[(str(agent_id), state.state)] += (now - state.since).total_seconds()
    talked = Counter(str(e.agent_id) for e in finished(L) if e.agent_id is not None)
    headers = {"Authorization": f"Bearer {secret}"}
    body = client.get(
        "/api/v1/reports/agents", params={"from": "2026-03-10", "to": "2026-03-11"}, headers=headers
    ).json()
    assert len(body["rows"]) == 8
    for row in body["rows"]:
        mine = {state: s for (who, state), s in seconds.items() if who == row["agent_id"]}
        logged_in = sum(mine.values())
        busy = mine.get("on_call", 0.0) + mine.get("wrap_up", 0.0)
        assert row["logged_in_seconds"] == pytest.approx(logged_in, abs=0.01)
        assert row["on_call_seconds"] + row["wrap_up_seconds"] == pytest.approx(busy, abs=0.01)
        assert row["occupancy"] == pytest.approx(busy / logged_in, abs=1e-4)
        assert row["calls"] == talked[row["agent_id"]]
        assert row["agent_name"].startswith("agent-")
    assert 0 < body["total"]["occupancy"] < 1


def test_the_dashboard_has_a_line_per_list_under_its_group(day: tuple[Lab, UUID, TestClient, str]) -> None:
    L, group, client, secret = day
    headers = {"Authorization": f"Bearer {secret}"}
    board = client.get("/api/v1/dashboard", headers=headers).json()
    assert board["time_zone"] == "America/New_York" and board["today_from"] == "2026-03-10T00:00:00-04:00"
    [line] = board["campaign_groups"]
    status = client.get(f"/api/v1/campaign-groups/{group}/status", headers=headers).json()
    assert {k: v for k, v in line.items() if k not in ("contact_lists", "occupancy_today")} == status
    [row] = line["contact_lists"]
    made = logged(L, CallAttemptMade)
    live = [e for e in logged(L, CallAttemptAnswered) if e.answered_by == "person"]  # type: ignore[attr-defined]
    assert row["records"]["total"] == 50
    assert row["today"]["attempts"] == len(made)
    assert row["today"]["live"] == len(live)
    assert row["today"]["abandons"] == len(logged(L, CallAttemptAbandoned))
    assert row["today"]["answer_rate"] == round(100.0 * len(live) / len(made), 3)
    assert row["today"]["abandon_rate"] == round(100.0 * row["today"]["abandons"] / len(live), 3)
    reasons: Counter[str] = Counter()
    for event in logged(L, RecordReturned):
        if event.reason == "denied":  # type: ignore[attr-defined]
            reasons.update(denial_codes(event.detail))  # type: ignore[attr-defined]
    assert row["denied_today"] == dict(reasons) == board["account"]["denied_today"]
    # One group: the account's windows are the group's.
    for window in ("last_24h", "last_30d"):
        assert board["account"]["abandon"][window] == line["abandon"][window]
    assert board["account"]["attempts"] == len(made) and board["account"]["records_total"] == 50


def test_csv_is_the_same_rows(day: tuple[Lab, UUID, TestClient, str]) -> None:
    _, _, client, secret = day
    params = {"from": "2026-03-10", "to": "2026-03-11", "by": ["call_result"]}
    body = report(client, secret, **params)
    response = report(client, secret, format="csv", **params)
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="call-results-2026-03-10.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "call_result", "call_result_name", "attempts", "talk_seconds", "mean_talk_seconds", "mean_ring_seconds"
    ]  # fmt: skip
    assert [(int(r["call_result"]), int(r["attempts"])) for r in rows] == [
        (row["call_result"], row["attempts"]) for row in body["rows"]
    ]


def test_bad_parameters_are_422_naming_them_and_another_account_sees_nothing(
    day: tuple[Lab, UUID, TestClient, str],
) -> None:
    L, _, client, secret = day
    headers = {"Authorization": f"Bearer {secret}"}
    for params, field in (
        ({"by": "colour"}, "by"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-03-11", "to": "2026-03-10"}, "to"),
    ):
        response = client.get("/api/v1/reports/call-results", params=params, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
    other = key(L, L.handlers.accounts.open_account("Other").id)
    assert report(client, other, **{"from": "2026-03-10", "to": "2026-03-11"})["rows"] == []
    assert client.get("/api/v1/reports/call-results").status_code == 401


def test_the_repeated_hour_of_a_daylight_saving_change_is_two_rows_of_one_day() -> None:
    # 1 November 2026: New York's clocks go back from 02:00 EDT to 01:00 EST.
    def at(utc: datetime, attempts: int) -> ResultCount:
        return ResultCount("", "", "", int(utc.timestamp()), 33, attempts, 0, 0)

    counts = [
        at(datetime(2026, 11, 1, 5, 15, tzinfo=UTC), 2),  # 01:15 EDT
        at(datetime(2026, 11, 1, 6, 15, tzinfo=UTC), 3),  # 01:15 EST
        at(datetime(2026, 11, 1, 7, 0, tzinfo=UTC), 4),  # 02:00 EST
    ]
    hours, _ = call_results_summary(counts, ["hour"], NEW_YORK, {})
    assert [(row["hour"], row["attempts"]) for row in hours] == [
        ("2026-11-01T01:00:00-04:00", 2),
        ("2026-11-01T01:00:00-05:00", 3),
        ("2026-11-01T02:00:00-05:00", 4),
    ]
    days, total = call_results_summary(counts, ["day"], NEW_YORK, {})
    assert [(row["day"], row["attempts"]) for row in days] == [("2026-11-01", 9)]
    assert total["attempts"] == 9
