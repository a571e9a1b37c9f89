"""The pre-dial gate under the real dialer, for ``make bench ONLY=pacing``:
``pacing_calls_to_suppressed`` and ``pacing_calls_outside_window`` (both must be 0).

The real dialer (embedded runtime, SQLite store, the gate with the embedded suppression index)
runs a predictive group of 8 simulated agents for six virtual hours from 23:00 UTC on a spring
evening: its list has numbers in New York, Chicago, Los Angeles and Honolulu, so the calling
window (08:00–21:00 in the contact's zone, the default) closes during the run in three of the
four zones; 5 % of the numbers are on the account's do-not-call list. The counts are taken from
the stored attempts and checked independently of the gate: each attempt's device against the
list's entries, its time against 08:00–21:00 in the record's zone (zoneinfo).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialstream.store import stored_topic_of
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.telephony.simulator import Rates, Timings
from schemas.attempts import CallAttemptMade
from tests.bench.figures import Figure, Options
from tests.processors.dialer.support import campaign, lab, us_records

EVENING = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # 19:00 New York, 16:00 Los Angeles
ZONES = (("America/New_York", "212"), ("America/Chicago", "312"), ("America/Los_Angeles", "213"), ("Pacific/Honolulu", "808"))
PER_ZONE = 1500
HOURS = 6


def run(options: Options) -> Iterator[Figure]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory, lab(
        Path(directory),
        seed=11,
        rates=Rates(answer_person=0.3),
        timings=Timings(talk_mean_s=90.0),
        epoch=EVENING,
    ) as L:
        rows = [row for n, (zone, area) in enumerate(ZONES) for row in us_records(PER_ZONE, zone=zone, area=area, prefix=f"Z{n}")]
        zone_of = {phone: zone for _, phone, zone in rows}
        suppressed = {phone for _, phone, _ in rows[::20]}
        dnc = L.handlers.suppression.create_list(
            L.account_id, CreateSuppressionList(name="DNC", channel="voice", required=True)
        ).id
        L.handlers.suppression.add_entries(L.account_id, dnc, [EntryInput(kind="phone", value=p) for p in sorted(suppressed)])
        L.settle()
        campaign(L, rows, mode="predictive", agents=8)
        L.run(HOURS * 3600.0)
        made = _events(L.runtime.store, CallAttemptMade)
    to_suppressed = sum(1 for e in made if e.device in suppressed)
    outside = sum(1 for e in made if not _inside(e.timestamp, zone_of[e.device]))
    print(
        f"pacing gate: {len(made)} calls placed in {HOURS} virtual hours ({time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )
    yield Figure("pacing_calls_to_suppressed", to_suppressed, "calls")
    yield Figure("pacing_calls_outside_window", outside, "calls")
    yield Figure("pacing_gate_calls_placed", len(made), "calls")


def _inside(at: datetime, zone: str) -> bool:
    local = at.astimezone(ZoneInfo(zone))
    return 8 <= local.hour < 21


def _events(store: Any, event_class: type) -> list[Any]:
    topics, after, found = (stored_topic_of(event_class),), 0, []
    while batch := store.read_topics(topics, after, 10_000):
        found += [event for _, event in batch]
        after = batch[-1][0]
    return found
