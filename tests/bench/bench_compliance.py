"""Pre-dial validation against 10,000,000 suppression entries in Redis, beside raw redis-py.

Redis is a real server from ``compose/redis.sh``; ``dialstream up`` runs on it as its own
process, with two required voice suppression lists made through the API. The index holds
10,000,000 entries, loaded through the index adapter itself: 9,000,000 phone numbers in one
list and 1,000,000 client ids in the other. Requests are records of many area codes; about
one in ten is on a list (the run fails if the share of denials is not about that).

Figures:

- ``predial_per_s_inprocess``: validations per second through ``PreDialValidator``, the
  dialer asking for 100 records at a time (one index round trip per 100);
- ``predial_p50_ms_inprocess`` / ``predial_p99_ms_inprocess``: the latency of one
  validation asked alone (one round trip each);
- ``predial_per_s_http`` / ``predial_p99_ms_http``: ``POST /api/v1/compliance/validate``
  through a real uvicorn server, 100 records per request, from two client threads;
  p99 of one request of one record;
- ``predial_vs_raw_redis_ratio``: in-process validations per second over raw redis-py
  doing the same look-ups (one pipeline of the same HMGETs per 100 records, keys prepared
  before the clock starts): how much of Redis's own speed the validator keeps.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import redis as redis_py

from processors.suppression.index import SuppressionEntry, encode_term
from processors.suppression.redis_index import RedisSuppressionIndex
from tests import redis
from tests.bench import compliance_validation as validation
from tests.bench.figures import Figure, Options

ENTRIES = 10_000_000
CLIENT_ENTRIES = 1_000_000
BATCH = 100
LOAD_BATCH = 20_000
ACCOUNT = UUID("0b1f5a2e-7c44-4d0e-9a51-1d2f3a4b5c04")  # in process: lists come from a stub
AREAS = (212, 213, 305, 312, 415, 503, 602, 617, 702, 713, 808, 907, 206, 303, 404, 512)


def log(message: str) -> None:
    print(f"[bench compliance] {message}", file=sys.stderr, flush=True)


def phone(n: int) -> str:
    """The n-th suppressed number: spread over the area codes, exchanges 200-999."""
    area = AREAS[n % len(AREAS)]
    rest = n // len(AREAS)
    return f"+1{area}{200 + rest // 10_000 % 800}{rest % 10_000:04d}"


def client_id(n: int) -> str:
    return f"C{n:09d}"


def _entries(lists: Sequence[UUID], count: int, clients: int) -> Iterator[SuppressionEntry]:
    numbers, customers = lists
    for n in range(count - clients):
        value = phone(n)
        yield SuppressionEntry(numbers, "voice", "phone", value, uuid5(numbers, f"phone:{value}"))
    for n in range(clients):
        value = client_id(n)
        yield SuppressionEntry(customers, "voice", "client_id", value, uuid5(customers, f"client_id:{value}"))


def load(index: RedisSuppressionIndex, lists: Sequence[UUID], count: int, clients: int) -> float:
    """Add the entries through the adapter (its Lua scripts, 1,000 entries per script)."""
    started = time.perf_counter()
    batch: list[SuppressionEntry] = []
    loaded = 0
    for entry in _entries(lists, count, clients):
        batch.append(entry)
        if len(batch) == LOAD_BATCH:
            index.add(batch)
            loaded += len(batch)
            batch.clear()
            if loaded % 1_000_000 == 0:
                log(f"  {loaded:,} entries in {time.perf_counter() - started:.0f} s")
    index.add(batch)
    return time.perf_counter() - started


def requests(count: int, suppressed: int, clients: int, rng: random.Random) -> list[dict[str, Any]]:
    """Records to validate: one in ten on a list (by number or by client id)."""
    out = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.05:
            number, client = phone(rng.randrange(suppressed)), f"K{n:09d}"
        elif roll < 0.10:
            number, client = phone(suppressed + n), client_id(rng.randrange(clients))
        else:
            number, client = phone(suppressed + n), f"K{n:09d}"
        out.append({"client_id": client, "contact_info": number})
    return out


def raw_lookups(
    url: str, index: RedisSuppressionIndex, lists: Sequence[UUID], batches: Sequence[Sequence[dict[str, Any]]]
) -> float:
    """Raw redis-py: per batch, one pipeline of the HMGETs the index asks (keys made beforehand)."""
    suffixes = [list_id.bytes for list_id in sorted(lists)]
    prepared = []
    for batch in batches:
        commands = []
        for request in batch:
            for kind, value in (("phone", request["contact_info"]), ("client_id", request["client_id"])):
                term = encode_term("voice", kind, value)
                commands.append((index.bucket_key(term), [term + s for s in suffixes]))
        prepared.append(commands)
    client = redis_py.Redis.from_url(url)
    started = time.perf_counter()
    for commands in prepared:
        with client.pipeline(transaction=False) as pipe:
            for key, fields in commands:
                pipe.hmget(key, fields)
            pipe.execute()
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(options: Options) -> Iterator[Figure]:
    count = options.events or ENTRIES
    clients = min(CLIENT_ENTRIES, count // 10)
    suppressed = count - clients
    rng = random.Random(20261123)
    with (
        redis.running() as redis_server,
        tempfile.TemporaryDirectory(prefix="dialstream-bench-compliance-") as tmp,
        validation.server(Path(tmp) / "up", redis_server.url) as (client, lists),
    ):
        index = RedisSuppressionIndex(redis_server.url)
        _wait_built(index)
        seconds = load(index, lists, count, clients)
        info = redis_py.Redis.from_url(redis_server.url).info("memory")
        log(f"loaded {count:,} entries in {seconds:.0f} s; {info['used_memory'] / count:.0f} B of Redis memory each")
        work = requests(50_000, suppressed, clients, rng)
        batches = [work[i : i + BATCH] for i in range(0, len(work), BATCH)]
        raw = min(raw_lookups(redis_server.url, index, lists, batches) for _ in range(options.rounds))
        raw_per_s = len(work) / raw
        log(f"raw redis-py: {raw_per_s:,.0f} records' look-ups per second")

        validator = validation.validator(index, lists)
        made = [validation.request(r, ACCOUNT, n) for n, r in enumerate(work)]
        made_batches = [made[i : i + BATCH] for i in range(0, len(made), BATCH)]
        best, denied = float("inf"), 0
        for _ in range(options.rounds):
            started = time.perf_counter()
            denied = sum(not v.allowed for batch in made_batches for v in validator.validate_many(batch))
            best = min(best, time.perf_counter() - started)
        per_s = len(made) / best
        log(f"in process: {per_s:,.0f} validations/s in batches of {BATCH}; {denied:,} of {len(made):,} denied")
        if not 0.05 * len(made) < denied < 0.2 * len(made):
            raise RuntimeError(f"{denied} of {len(made)} denied: about one in ten should be")
        single = []
        for request in made[:20_000]:
            started = time.perf_counter()
            validator.validate(request)
            single.append(time.perf_counter() - started)
        yield Figure("predial_per_s_inprocess", per_s, "validations/s")
        yield Figure("predial_p50_ms_inprocess", statistics.median(single) * 1000, "ms")
        yield Figure("predial_p99_ms_inprocess", percentile(single, 0.99) * 1000, "ms")
        http_per_s, http_p99 = validation.over_http(client, work, BATCH)
        yield Figure("predial_per_s_http", http_per_s, "validations/s")
        yield Figure("predial_p99_ms_http", http_p99 * 1000, "ms")
        yield Figure("predial_vs_raw_redis_ratio", per_s / raw_per_s, "x")
        index.close()


def _wait_built(index: RedisSuppressionIndex) -> None:
    """The server's follower clears (builds) the index when it starts; load after that."""
    deadline = time.monotonic() + 60
    while index.position() is None:
        if time.monotonic() > deadline:
            raise RuntimeError("dialstream up did not build the suppression index in Redis")
        time.sleep(0.1)
