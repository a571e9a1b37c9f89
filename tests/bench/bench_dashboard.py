"""``make bench ONLY=dashboard``: the read side's figures (issue 18).

``report_30d_5m_attempts_seconds``: the call results summary (by call result) of an account's
last 30 days in its reports time zone, over 5,000,000 finished attempts (``--events`` for
another count): two campaign groups, four lists, 200 agents, results in the shares of an
outbound voice day, spread evenly over the 30 days. The attempts are real
``call_attempt.finished`` events applied by the ``call_results`` read model to a SQLite
database before the clock starts (how long that took is printed on stderr, not a figure).
The clock runs over what the report route does: read the buckets, sum them into the report's
rows. ``report_30d_5m_attempts_by_hour_seconds``: the same by list and local hour (720 hours).

The dashboard's event-to-screen latency (``dashboard_event_to_sse_p99_ms``) is measured once
the live page exists; it does not yet.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from dialstream.queries.reports import call_results_summary
from projections.base import ProjectionStore
from projections.call_results import CallResultCounts, CallResultQueries
from projections.sql import connect
from schemas.attempts import CallAttemptFinished
from tests.bench.figures import Figure, Options

ATTEMPTS = 5_000_000
DAYS = 30
BATCH = 20_000
ZONE = ZoneInfo("America/New_York")
ACCOUNT = UUID("0d000000-0000-4000-8000-000000000001")
# (call result, share, talks): answered and talked, no answer, busy, answering machine,
# fax, invalid number, dropped by the network.
RESULTS = [
    (33, 0.30, True),
    (7, 0.34, False),
    (6, 0.10, False),
    (9, 0.20, False),
    (17, 0.01, False),
    (26, 0.03, False),
    (3, 0.02, False),
]


def _events(count: int, end: datetime) -> Iterator[list[tuple[int, CallAttemptFinished]]]:
    rng = random.Random(18)
    groups = [uuid4() for _ in range(2)]
    lists = [uuid4() for _ in range(4)]
    agents = [uuid4() for _ in range(200)]
    codes = [code for code, _, _ in RESULTS]
    weights = [share for _, share, _ in RESULTS]
    talks = {code for code, _, talked in RESULTS if talked}
    start, span = end - timedelta(days=DAYS), DAYS * 86_400
    batch: list[tuple[int, CallAttemptFinished]] = []
    for n in range(count):
        code = rng.choices(codes, weights)[0]
        talked = code in talks
        at = start + timedelta(seconds=rng.random() * span)
        list_n = rng.randrange(4)
        batch.append(
            (
                n + 1,
                CallAttemptFinished(
                    originator_id=uuid4(),
                    originator_version=2,
                    timestamp=at,
                    account_id=ACCOUNT,
                    attempt_id=uuid4(),
                    campaign_group_id=groups[list_n // 2],
                    list_id=lists[list_n],
                    call_result=code,
                    ring_ms=rng.randint(3_000, 25_000),
                    talk_ms=rng.randint(20_000, 400_000) if talked else 0,
                    agent_id=rng.choice(agents) if talked else None,
                ),
            )
        )
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _timed(queries: CallResultQueries, end: datetime, by: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    counts = queries.counts(ACCOUNT, end - timedelta(days=DAYS), end)
    _, total = call_results_summary(counts, by, ZONE, {})
    return time.perf_counter() - started, int(total["attempts"])


def run(options: Options) -> Iterator[Figure]:
    count = options.events or ATTEMPTS
    end = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # midnight in New York: 30 whole local days
    with tempfile.TemporaryDirectory() as directory:
        views = connect(f"sqlite:///{Path(directory) / 'views.sqlite'}")
        projections = ProjectionStore(views, [CallResultCounts()])
        loading = time.perf_counter()
        for batch in _events(count, end):
            projections.apply("call_results", batch)
        print(
            f"dashboard: {count} finished attempts applied in {time.perf_counter() - loading:.0f} s",
            file=sys.stderr,
        )
        queries = CallResultQueries(views)
        best = best_by_hour = float("inf")
        for n in range(options.rounds):
            seconds, reported = _timed(queries, end, ["call_result"])
            by_hour, _ = _timed(queries, end, ["list", "hour"])
            assert reported == count, f"the report counted {reported} of {count} attempts"
            print(
                f"dashboard round {n + 1}: {seconds:.3f} s by result, {by_hour:.3f} s by list and hour",
                file=sys.stderr,
            )
            best, best_by_hour = min(best, seconds), min(best_by_hour, by_hour)
        views.close()
    yield Figure("report_30d_5m_attempts_seconds", best, "s")
    yield Figure("report_30d_5m_attempts_by_hour_seconds", best_by_hour, "s")
