"""A small simulated campaign day (see :mod:`tests.processors.results.campaign_day`): 160 chains
of one to three devices, four virtual hours from 19:00 New York time; ``make bench ONLY=day``
runs the same day over 10,000 chains. At its end the campaigns dashboard (every read model it
reads rebuilt from the log as `dialstream replay all` does) equals the live one. A shorter day
run on both hosts ends the same."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from dialstream.cli.log import replay
from gateway.routes.dashboard import dashboard_view
from processors.dialer.virtual import run_virtual
from processors.telephony.simulator import Rates, Timings
from schemas.attempts import CallAttemptMade
from tests.kafka import Broker
from tests.processors.dialer.support import lab
from tests.processors.results.campaign_day import EVENING, check, events_of, lockstep_day, plan_day


@pytest.mark.timeout(600)  # about 30 s alone; several times that beside the other slow tests
def test_a_campaign_day_ends_with_every_record_explained_by_its_treatments(tmp_path: Path) -> None:
    with lab(
        tmp_path, seed=5, rates=Rates(answer_person=0.3), timings=Timings(talk_mean_s=60.0), epoch=EVENING
    ) as L:
        day = plan_day(L, 160, agents=4)
        run_virtual(L.dialer, L.clock, until=L.clock.now() + 4 * 3600.0)
        L.settle()
        counts = check(L, day, tmp_path)
        live = dashboard_view(L.runtime, L.account_id, L.handlers.clock())
        # Every read model the dashboard reads, rebuilt as `dialstream replay all` does.
        for name in L.runtime.projections.projections:
            replay(L.runtime, name, progress=False)
        assert dashboard_view(L.runtime, L.account_id, L.handlers.clock()) == live, "replay differs from live"
    # The day did what it is meant to exercise (each rule above had cases to hold for).
    assert counts["calls"] > 160 and counts["retried"] > 0 and counts["moved_on"] > 0, counts
    today = live["account"]
    since = datetime.fromisoformat(live["today_from"])
    calls_today = sum(1 for e in events_of(L.runtime.store, CallAttemptMade) if e.timestamp >= since)
    assert (today["attempts"], today["records_total"]) == (calls_today, len(day.zone_of)), today
    assert today["connects"] > 0 and today["abandons"] >= 0, today


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_the_same_day_on_kafka_makes_the_same_calls_and_ends_the_same(
    tmp_path: Path, kafka_broker: Broker
) -> None:
    """Embedded equals Kafka: a shorter day (40 chains, two agents, an hour) on the embedded
    host, and again with the bus, the read
    models, the compliance and the call results processors on a real broker (relay and consumer
    groups), call for call and record for record. In lockstep, because the dialer draws from
    read models, which trail the log by however long each host takes: run freely, two days
    diverge from the first draw that sees a different queue (the rules still hold on each, as
    the test above checks on the embedded host)."""
    embedded, counts = lockstep_day(tmp_path / "embedded", 40, agents=2, hours=1)
    on_kafka, kafka_counts = lockstep_day(
        tmp_path / "kafka", 40, agents=2, hours=1, kafka=kafka_broker.bootstrap
    )
    assert counts["calls"] > 40 and counts["retried"] > 0 and counts["moved_on"] > 0, counts
    assert on_kafka["calls"] == embedded["calls"], first_difference(embedded["calls"], on_kafka["calls"])
    assert kafka_counts == counts
    assert on_kafka["records"] == embedded["records"]


def first_difference(embedded: list[object], on_kafka: list[object]) -> str:
    """Where two days part: the first call that differs, with the ones before it."""
    at = next(
        (n for n, (a, b) in enumerate(zip(embedded, on_kafka, strict=False)) if a != b),
        min(len(embedded), len(on_kafka)),
    )
    before = "\n".join(map(repr, embedded[max(0, at - 3) : at]))
    mine = embedded[at] if at < len(embedded) else None
    theirs = on_kafka[at] if at < len(on_kafka) else None
    return f"call {at} of {len(embedded)}/{len(on_kafka)}:\nbefore:\n{before}\nembedded: {mine!r}\nkafka:    {theirs!r}"
