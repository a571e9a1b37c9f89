"""The README's example subscriber ("Analytics: the event contract and a subscriber"), run as
it is printed there, against a real Kafka broker: real call attempts are stored through the
command handlers and published by the relay as ``dialstream relay`` runs it, and the counts
the program prints equal those of the same events in the event store.

The block is found by its first line, ``# example: attempts subscriber``; the program stops
by itself once nothing new came for ``STOP_AFTER_IDLE_SECONDS``, and the test kills it after
a deadline, so it cannot hang. The broker is the session's (``kafka_broker``): if Kafka cannot
start, the test errors with the reason; it never skips.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dialstream.bootstrap import (
    DEFAULT_ACCOUNT_ID,
    DIALER,
    LIST_AUTOMATION,
    RESULTS,
    build,
    ensure_bootstrap_key,
)
from dialstream.settings import Settings
from dialstream.store import EventStore, split_topic, store_env
from domain import record_chain
from domain.codes import CallResult
from processors.bus.kafka import KafkaBus
from schemas import registry
from schemas.attempts import CallAttemptFinished
from schemas.topics import CALL_ATTEMPTS
from tests.imports.support import new_list, run_import, write
from tests.kafka import ROOT, Broker
from tests.kafka_support import kafka_env, kafka_settings

README = ROOT / "README.md"
MARKER = "# example: attempts subscriber"
FENCE = re.compile(r"^\s*(```+|~~~+)")
IDLE_SECONDS = "10"  # the program's own stop: long enough for a loaded machine's first fetch
DEADLINE = 120.0  # the test's: the program is killed after this long

CONTACTS = "client_id,phone\n" + "".join(f"C{n},312-555-01{n:02d}\n" for n in range(1, 7))


def readme_subscriber() -> str:
    """The fenced block of README.md whose first line is the marker, exactly as printed."""
    lines = README.read_text().splitlines()
    found = []
    for number, line in enumerate(lines[:-1]):
        fence = FENCE.match(line)
        if fence and lines[number + 1].strip() == MARKER:
            end = next(
                (n for n in range(number + 2, len(lines)) if lines[n].lstrip().startswith(fence.group(1))),
                None,
            )
            assert end is not None, f"README.md line {number + 1}: the subscriber's fence is never closed"
            found.append("\n".join(lines[number + 1 : end]) + "\n")
    assert len(found) == 1, f"README.md has {len(found)} blocks starting with {MARKER!r}, not one"
    return found[0]


def store_attempts(data_dir: Path, tmp_path: Path) -> None:
    """Attempts to six imported records as a dialer reports them, through the handlers of an
    embedded runtime: busy (twice to one record), no answer, talked, answering machine,
    dropped with the message, and one still in flight."""
    runtime = build(Settings(data_dir=data_dir))
    # Only this test's attempts: no dialer of its own, no list automation; the call results
    # processor would add record events only (on the records topic), so it is left out too.
    for name in (DIALER, LIST_AUTOMATION, RESULTS):
        runtime.services.pop(name, None)
    ensure_bootstrap_key(runtime)
    runtime.start()
    try:
        list_id = new_list(runtime)
        job = run_import(runtime, list_id, write(tmp_path / "contacts.csv", CONTACTS))
        assert job.status == "completed", job.reason
        attempts = runtime.handlers.attempts

        def attempt(client: str) -> tuple[UUID, UUID]:
            chain = runtime.store.load(record_chain.chain_id(list_id, client), record_chain.project)
            assert chain is not None, client
            _, attempt_id, made = attempts.make_attempt(
                chain, 1, attempt_id=uuid.uuid4(), channel="voice", campaign_group_id=None
            )
            assert made is not None
            return record_chain.record_id(chain.id, 1), attempt_id

        def finish(record: UUID, attempt_id: UUID, result: CallResult, talk_ms: int = 0) -> None:
            attempts.finished(
                DEFAULT_ACCOUNT_ID, record, attempt_id, call_result=int(result), ring_ms=8000, talk_ms=talk_ms
            )

        for _ in range(2):
            finish(*attempt("C1"), CallResult.BUSY)
        finish(*attempt("C2"), CallResult.NO_ANSWER)
        record, attempt_id = attempt("C3")
        attempts.answered(DEFAULT_ACCOUNT_ID, record, attempt_id, answered_by="person", ring_ms=6000)
        finish(record, attempt_id, CallResult.ANSWER, talk_ms=60_000)
        record, attempt_id = attempt("C4")
        attempts.answered(DEFAULT_ACCOUNT_ID, record, attempt_id, answered_by="machine", ring_ms=7000)
        finish(record, attempt_id, CallResult.ANSWERING_MACHINE)
        record, attempt_id = attempt("C5")
        attempts.answered(DEFAULT_ACCOUNT_ID, record, attempt_id, answered_by="person", ring_ms=5000)
        attempts.abandoned(DEFAULT_ACCOUNT_ID, record, attempt_id, wait_ms=2000, message_played=True)
        finish(record, attempt_id, CallResult.DROPPED)
        attempt("C6")  # placed, not finished yet
    finally:
        runtime.stop()


def relay_everything(settings: Settings) -> int:
    """Publish the whole log as the ``dialstream relay`` process does; return the relayed position."""
    relayer = build(settings, relay=True, workers=[])
    bus = relayer.bus
    assert isinstance(bus, KafkaBus) and bus.relay is not None
    head = relayer.store.position()
    relayer.start()
    try:
        deadline = time.monotonic() + 120
        while bus.progress.position() < head:
            assert bus.error is None, f"the relay failed: {bus.error!r}"
            assert time.monotonic() < deadline, f"the relay reached {bus.progress.position()} of {head}"
            time.sleep(0.05)
        return bus.progress.position()
    finally:
        relayer.stop()


def counted_in_store(store: EventStore) -> tuple[dict[str, Any], int]:
    """The subscriber's counts, made from the event store: the call-attempts topic's events by
    type and the finished attempts by call result; and the last position among them."""
    by_type: Counter[str] = Counter()
    by_result: Counter[str] = Counter()
    last = position = 0
    while batch := store.read_stored(position, 1000):
        for notification in batch:
            tag, version = split_topic(notification.topic)
            if registry.BY_TAG[tag].TOPIC != CALL_ATTEMPTS:
                continue
            by_type[tag] += 1
            last = notification.id
            event = registry.decode(tag, version, notification.state)
            if isinstance(event, CallAttemptFinished):
                by_result[str(event.call_result)] += 1
        position = batch[-1].id
    return {"by_type": dict(by_type), "by_call_result": dict(by_result)}, last


def run_subscriber(script: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run the program until it stops by itself; return the counts of its last line."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIALSTREAM_", "KAFKA_", "ATTEMPTS_"))}
    try:
        run = subprocess.run(
            [sys.executable, str(script)],
            cwd=script.parent,
            env={**clean, "STOP_AFTER_IDLE_SECONDS": IDLE_SECONDS, **env},
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
    except subprocess.TimeoutExpired as error:  # subprocess.run has killed it
        raise AssertionError(
            f"the README's subscriber did not stop within {DEADLINE} s: {error.stderr!r}"
        ) from error
    assert run.returncode == 0, f"the README's subscriber failed (exit {run.returncode}):\n{run.stderr}"
    lines = run.stdout.strip().splitlines()
    assert lines, f"the README's subscriber printed nothing; stderr:\n{run.stderr}"
    counts: dict[str, Any] = json.loads(lines[-1])
    return counts


@pytest.mark.integration
@pytest.mark.timeout(420)
def test_the_readme_subscriber_counts_the_attempts_the_store_holds(
    tmp_path: Path, kafka_broker: Broker
) -> None:
    data_dir = tmp_path / "data"
    store_attempts(data_dir, tmp_path)
    settings = kafka_settings(data_dir, kafka_broker.bootstrap)
    relayed = relay_everything(settings)

    store = EventStore(store_env(settings.database_url))
    try:
        expected, last = counted_in_store(store)
    finally:
        store.close()
    assert last <= relayed, "every attempt event is on Kafka"
    assert expected == {
        "by_type": {
            "call_attempt.made": 7,
            "call_attempt.answered": 3,
            "call_attempt.abandoned": 1,
            "call_attempt.finished": 6,
        },
        "by_call_result": {
            str(int(CallResult.BUSY)): 2,
            str(int(CallResult.NO_ANSWER)): 1,
            str(int(CallResult.ANSWER)): 1,
            str(int(CallResult.ANSWERING_MACHINE)): 1,
            str(int(CallResult.DROPPED)): 1,
        },
    }, "the scenario stores what it says"

    script = tmp_path / "attempts_subscriber.py"
    script.write_text(readme_subscriber())
    # Told the broker and the topic explicitly ...
    explicit = {
        "KAFKA_BOOTSTRAP": kafka_broker.bootstrap,
        "ATTEMPTS_TOPIC": settings.topic_prefix + CALL_ATTEMPTS,
    }
    assert run_subscriber(script, explicit) == expected
    # ... and from Dialstream's own settings, as after the README's `make kafka-up`.
    dialstream_style = {k: v for k, v in kafka_env(settings).items() if k.endswith(("_BUS", "_PREFIX"))}
    assert run_subscriber(script, dialstream_style) == expected
