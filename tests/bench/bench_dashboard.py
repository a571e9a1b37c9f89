"""``make bench ONLY=dashboard``: the read side's figures (issue 18).

``report_30d_5m_attempts_seconds``: the call results summary (by call result) of an account's
last 30 days in its reports time zone, over 5,000,000 finished attempts (``--events`` for
another count): two campaign groups, four lists, 200 agents, results in the shares of an
outbound voice day, spread evenly over the 30 days. The attempts are real
``call_attempt.finished`` events applied by the ``call_results`` read model to a SQLite
database before the clock starts (how long that took is printed on stderr, not a figure).
The clock runs over what the report route does: read the buckets, sum them into the report's
rows. ``report_30d_5m_attempts_by_hour_seconds``: the same by list and local hour (720 hours).

``dashboard_event_to_sse_p50_ms`` and ``dashboard_event_to_sse_p99_ms``: how long a change
takes to reach the live dashboard. ``dialstream up`` runs as a subprocess on a 127.0.0.1 port
(embedded bus, SQLite); ``dialstream demo`` builds a campaign over its API (a predictive
group, 20,000 records, 200 simulated agents) that the server's dialer dials on the telephony
simulator in wall-clock time, five times faster than life (``simulator:7:x5``: the 60 s of
dialling hold five minutes of calls, the 200 agents' first wave of dials, its ends and the
redials, at five times their real rate); one client reads ``/api/v1/dashboard/stream``.

Each message names (``id``) the read models' position its figures include; its latency is the
time the client received it minus the timestamp of the stored event at that position. That
timestamp is the clock reading the handler stamped the event with when it decided it, just
before the commit, on the machine's clock that the client reads too: a little earlier than
the event was stored, so the figure errs long, never short. The first message (sent on
connecting, not for an event) is left out; the timestamps are read from the store's file
after the server stopped, so reading them costs the measured client nothing. The server is
then stopped (SIGTERM) with the stream still open; how long that took is printed on stderr.
The latency part runs once, whatever ``--rounds`` says.

``DIALSTREAM_BENCH_DASHBOARD=latency`` (or ``report``) runs only that part: the report's
5,000,000 attempts take minutes to load.
"""

from __future__ import annotations

import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import httpx

from dialstream.queries.reports import call_results_summary
from dialstream.store import EventStore, store_env
from projections.base import ProjectionStore
from projections.call_results import CallResultCounts, CallResultQueries
from projections.sql import connect
from schemas.attempts import CallAttemptFinished
from tests.bench.figures import Figure, Options
from tests.up import free_port, wait_until_healthy

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
    part = os.environ.get("DIALSTREAM_BENCH_DASHBOARD", "")
    if part not in ("", "latency", "report"):
        raise SystemExit(f"DIALSTREAM_BENCH_DASHBOARD={part!r}: use latency or report (unset: both)")
    if part != "latency":
        yield from _report(options)
    if part != "report":
        yield from _latency()


def _report(options: Options) -> Iterator[Figure]:
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


# The live dashboard's latency ----------------------------------------------------------------

DIAL_S = 60.0
DEMO_RECORDS = 20_000
DEMO_AGENTS = 200
SPEED = 5.0  # the simulator runs this many times faster than life: 60 s hold 5 minutes of calls
KEY = "dsk_bench_dashboard_latency_0123456789"
DIALSTREAM = [sys.executable, "-m", "dialstream.cli"]


def _latency() -> Iterator[Figure]:
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {name: value for name, value in os.environ.items() if not name.startswith("DIALSTREAM_")}
        env |= {
            "DIALSTREAM_DATA_DIR": str(data / "data"),
            "DIALSTREAM_PORT": str(port),
            "DIALSTREAM_BOOTSTRAP_KEY": KEY,
            "DIALSTREAM_TELEPHONY": f"simulator:7:x{SPEED:g}",
        }
        log = data / "server.log"
        with log.open("wb") as sink:  # a file: a pipe nobody reads would fill and stall the server
            server = subprocess.Popen([*DIALSTREAM, "up"], env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(base, server, log, 120)
            key = _demo(base, env)
            received, stopped_in = _read_stream(base, key, server)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        store = EventStore(store_env(f"sqlite:///{data / 'data' / 'events.sqlite'}"))
        try:
            latencies = [(at - _stored_at(store, position)) * 1000 for at, position in received]
        finally:
            store.close()
    latencies.sort()
    print(
        f"dashboard stream: {len(latencies)} messages in {DIAL_S:.0f} s of dialling "
        f"({received[-1][1] - received[0][1]} events stored between the first and the last), "
        f"latency min {latencies[0]:.0f} ms, max {latencies[-1]:.0f} ms; "
        f"the server stopped {stopped_in:.1f} s after SIGTERM with the stream open",
        file=sys.stderr,
    )
    yield Figure("dashboard_event_to_sse_p50_ms", _rank(latencies, 0.50), "ms")
    yield Figure("dashboard_event_to_sse_p99_ms", _rank(latencies, 0.99), "ms")


def _demo(base: str, env: dict[str, str]) -> str:
    """Build the demo campaign (``dialstream demo``); the demo account's admin key."""
    started = time.perf_counter()
    made = subprocess.run(
        [*DIALSTREAM, "demo", "--url", base, "--records", str(DEMO_RECORDS), "--agents", str(DEMO_AGENTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if made.returncode != 0:
        raise RuntimeError(f"dialstream demo failed:\n{made.stdout}\n{made.stderr}")
    found = re.search(r"^\s+(dsk_\S+)$", made.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"dialstream demo printed no key:\n{made.stdout}")
    print(f"dashboard stream: demo campaign built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return found.group(1)


def _read_stream(
    base: str, key: str, server: subprocess.Popen[bytes]
) -> tuple[list[tuple[float, int]], float]:
    """(time received, position) of each message after the first over DIAL_S seconds, and how
    long the server took to stop on SIGTERM with the stream still open."""
    received: list[tuple[float, int]] = []
    headers = {"Authorization": f"Bearer {key}"}
    timeout = httpx.Timeout(10.0, read=30.0)
    with (
        httpx.Client(base_url=base, headers=headers, timeout=timeout) as client,
        client.stream("GET", "/api/v1/dashboard/stream") as response,
    ):
        response.raise_for_status()
        position, messages, until = 0, 0, time.monotonic() + DIAL_S
        for line in response.iter_lines():
            if line.startswith("id: "):
                position = int(line[4:])
            elif line.startswith("data: "):  # the message's last field: it is all here
                messages += 1
                if messages > 1:
                    received.append((time.time(), position))
            if time.monotonic() >= until:
                break
        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        stopped_in = time.monotonic() - stopping
    if not received:
        raise RuntimeError("the stream sent no message while the campaign dialled")
    return received, stopped_in


def _stored_at(store: EventStore, position: int) -> float:
    [(found, event)] = store.read(position - 1, 1)
    assert found == position, f"no event at position {position}"
    return event.timestamp.timestamp()


def _rank(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]
