"""GET /metrics: the figures a Prometheus scrape reads equal the same figures counted from
the event log in the test; an account sees its own campaigns only; no key, no metrics.

A real embedded runtime with the dialer on the telephony simulator in virtual time (the
dialer lab), served through the gateway's app.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from dialstream.bootstrap import all_projections
from dialstream.store import stored_topic_of
from domain.predial import denial_codes
from domain.suppression_list import CreateSuppressionList, EntryInput
from gateway.app import create_app
from processors.telephony.simulator import Rates, Timings
from schemas.attempts import CallAttemptAbandoned, CallAttemptAnswered, CallAttemptMade
from schemas.base import Event
from schemas.profiles import Pacing
from schemas.records import RecordReturned
from tests.kafka import Broker
from tests.processors.dialer.support import Lab, campaign, lab, us_records

# Three lines per agent with most calls answered: more live answers than agents, some abandoned.
OVERDIAL = Pacing(lines_per_agent=3.0)


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, UUID]]:
    """A group dialling New York (open; some numbers on the do-not-call list) and Los Angeles
    (07:00, before its window opens) for ten virtual minutes, overdialling: some calls are abandoned, and
    the gate denies draws."""
    timings = Timings(talk_mean_s=20.0, wrap_up_mean_s=3.0)
    with lab(tmp_path_factory.mktemp("metrics"), rates=Rates(answer_person=0.6), timings=timings) as L:
        ny = us_records(120)  # done within the ten minutes: then only Los Angeles is left to draw
        records = us_records(40, zone="America/Los_Angeles", area="213", prefix="L") + ny
        group = campaign(L, records, mode="progressive", agents=10, start=False, pacing=OVERDIAL)
        dnc = L.handlers.suppression.create_list(
            L.account_id, CreateSuppressionList(name="DNC", channel="voice", required=True)
        ).id
        blocked = [EntryInput(kind="phone", value=phone) for _, phone, _ in ny[:20]]
        L.handlers.suppression.add_entries(L.account_id, dnc, blocked)
        L.settle()
        L.handlers.campaigns.transition_group(L.account_id, group, "start")
        L.run(600.0)
        yield L, group


def scrape(L: Lab, secret: str | None) -> tuple[int, dict[str, list[Any]]]:
    headers = {} if secret is None else {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(L.runtime)) as client:
        response = client.get("/metrics", headers=headers)
    if response.status_code != 200:
        return response.status_code, {}
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            families.setdefault(sample.name, []).append(sample)
    return 200, families


def key(L: Lab, account_id: UUID, role: str = "viewer") -> str:
    issued = L.handlers.accounts.issue_api_key(account_id, f"scraper {role}", role)
    assert L.runtime.wait(issued.position)
    return str(issued.secret)


def logged(L: Lab, *kinds: type[Event]) -> list[Event]:
    store, found, after = L.runtime.store, [], 0
    topics = tuple(stored_topic_of(kind) for kind in kinds)
    while batch := store.read_topics(topics, after, 10_000):
        found += [event for _, event in batch]
        after = batch[-1][0]
    return found


def value(samples: list[Any], **labels: str) -> float:
    [sample] = [s for s in samples if all(s.labels.get(k) == v for k, v in labels.items())]
    return float(sample.value)


def test_the_scrape_equals_the_event_log(day: tuple[Lab, UUID]) -> None:
    L, group = day
    status, metrics = scrape(L, key(L, L.account_id))
    assert status == 200
    mine = {"campaign_group_id": str(group), "account_id": str(L.account_id)}

    placed = [e for e in logged(L, CallAttemptMade) if e.campaign_group_id == group]  # type: ignore[attr-defined]
    assert len(placed) > 60
    assert value(metrics["dialstream_call_attempts_total"], **mine) == len(placed)
    newest = L.handlers.clock()
    recent = [e for e in placed if e.timestamp > newest - timedelta(seconds=60)]
    assert value(metrics["dialstream_dial_rate_per_minute"], **mine) == len(recent)

    live = len([e for e in logged(L, CallAttemptAnswered) if e.answered_by == "person"])  # type: ignore[attr-defined]
    abandoned = len(logged(L, CallAttemptAbandoned))
    assert abandoned > 0
    rate = 100.0 * abandoned / live
    assert value(metrics["dialstream_abandon_rate_percent"], window="24h", **mine) == pytest.approx(rate)
    assert value(metrics["dialstream_abandon_rate_percent"], window="30d", **mine) == pytest.approx(rate)
    assert value(metrics["dialstream_abandon_target_percent"]) == 3.0

    reasons: Counter[str] = Counter()
    for event in logged(L, RecordReturned):
        if event.reason == "denied":  # type: ignore[attr-defined]
            reasons.update(denial_codes(event.detail))  # type: ignore[attr-defined]
    assert reasons
    denials = {s.labels["reason"]: s.value for s in metrics["dialstream_predial_denials_total"]}
    assert denials == dict(reasons)


def test_lags_are_per_read_model_and_processor_and_nothing_trails_a_settled_log(
    day: tuple[Lab, UUID],
) -> None:
    L, _ = day
    L.settle(every_processor=True)
    _, metrics = scrape(L, key(L, L.account_id))
    assert value(metrics["dialstream_log_position"]) == L.runtime.store.position()
    read_models = {s.labels["read_model"]: s.value for s in metrics["dialstream_read_model_lag_events"]}
    assert read_models.keys() == {projection.name for projection in all_projections()}
    assert set(read_models.values()) == {0.0}
    processors = {s.labels["processor"]: s.value for s in metrics["dialstream_processor_lag_events"]}
    assert {"compliance", "call-results", "suppression-index"} <= processors.keys()
    assert set(processors.values()) == {0.0}
    assert "dialstream_relay_lag_events" not in metrics  # embedded: no relay


def test_an_account_sees_its_own_campaigns_only_and_a_scrape_needs_a_key(day: tuple[Lab, UUID]) -> None:
    L, _ = day
    other = L.handlers.accounts.open_account("Other").id
    _, metrics = scrape(L, key(L, other))
    assert metrics.get("dialstream_call_attempts_total", []) == []
    assert metrics.get("dialstream_predial_denials_total", []) == []
    assert "dialstream_log_position" in metrics
    assert scrape(L, None)[0] == 401
    assert scrape(L, "ds_not-a-key-at-all-0000000000000000")[0] == 401


def test_on_kafka_the_relay_and_the_read_models_consumer_groups_report_their_lag(
    tmp_path: Path, kafka_broker: Broker
) -> None:
    with lab(tmp_path, kafka=kafka_broker.bootstrap) as L:
        group = campaign(L, us_records(30), mode="progressive", agents=3)
        L.run(120.0)
        L.settle(every_processor=True)
        _, metrics = scrape(L, key(L, L.account_id))
        placed = [e for e in logged(L, CallAttemptMade) if e.campaign_group_id == group]  # type: ignore[attr-defined]
        assert placed
        assert value(metrics["dialstream_call_attempts_total"], campaign_group_id=str(group)) == len(placed)
        assert value(metrics["dialstream_relay_lag_events"]) == 0
        read_models = {s.labels["read_model"]: s.value for s in metrics["dialstream_read_model_lag_events"]}
        assert read_models.keys() == {projection.name for projection in all_projections()}
        assert set(read_models.values()) == {0.0}
        processors = {s.labels["processor"]: s.value for s in metrics["dialstream_processor_lag_events"]}
        assert {"compliance", "call-results"} <= processors.keys()
        assert set(processors.values()) == {0.0}
