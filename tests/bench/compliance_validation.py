"""The compliance benchmark's server side: ``dialstream up`` on Redis, with two required lists."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from processors.compliance.predial import PreDialRequest, PreDialValidator
from processors.suppression.index import SuppressionIndex
from schemas.settings import ComplianceSettings
from tests.bench import bench_import

# A Tuesday, 15:00 UTC: inside the default calling hours of every mainland US zone.
NOON_IN_THE_US = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


def request(record: dict[str, Any], account: UUID, n: int) -> PreDialRequest:
    return PreDialRequest(
        account_id=account,
        client_id=record["client_id"],
        contact_info=record["contact_info"],
        time_zone=ZONES[n % len(ZONES)],
    )


def validator(index: SuppressionIndex, lists: list[UUID]) -> PreDialValidator:
    """In process, as the dialer would hold it: the clock fixed inside calling hours."""
    return PreDialValidator(
        index,
        lambda account, channel, group: lists,
        lambda account: ComplianceSettings(),
        clock=lambda: NOON_IN_THE_US,
    )


@contextmanager
def server(data_dir: Path, redis_url: str) -> Iterator[tuple[httpx.Client, list[UUID]]]:
    """``dialstream up`` on this Redis, with a required phone list and a required client-id list."""
    process, base, _ = bench_import._start(data_dir, {"DIALSTREAM_SUPPRESSION_INDEX": redis_url})
    try:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {bench_import.SECRET}"}, timeout=60
        ) as client:
            lists = []
            for name in ("bench do-not-call numbers", "bench do-not-call clients"):
                made = client.post(
                    "/api/v1/suppression-lists", json={"name": name, "channel": "voice", "required": True}
                )
                made.raise_for_status()
                lists.append(UUID(made.json()["id"]))
            yield client, lists
    finally:
        bench_import._stop(process)


def over_http(client: httpx.Client, work: list[dict[str, Any]], batch: int) -> tuple[float, float]:
    """(validations per second, batches of ``batch`` from two threads; p99 of one-record calls)."""
    bodies = [
        {
            "requests": [
                {"client_id": r["client_id"], "contact_info": r["contact_info"], "time_zone": ZONES[n % 4]}
                for n, r in enumerate(work[i : i + batch])
            ]
        }
        for i in range(0, len(work), batch)
    ]
    failures: list[str] = []

    def send(part: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=client.base_url, headers=client.headers, timeout=60) as own:
            for body in part:
                answer = own.post("/api/v1/compliance/validate", json=body)
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")
                    return

    threads = [threading.Thread(target=send, args=(bodies[k::2],)) for k in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"validate refused: {failures[0]}")
    single = []
    for n, record in enumerate(work[:3000]):
        body = {"client_id": record["client_id"], "contact_info": record["contact_info"], "time_zone": ZONES[n % 4]}
        begun = time.perf_counter()
        answer = client.post("/api/v1/compliance/validate", json=body)
        single.append(time.perf_counter() - begun)
        answer.raise_for_status()
    single.sort()
    return len(work) / elapsed, single[int(0.99 * len(single))] if single else statistics.fmean(single)
