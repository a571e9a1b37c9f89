"""One processor, two hosts: the compliance scenario gives the same events embedded (following
the store's log) and on a real Kafka broker, where two compliance workers share the partitions
and each effect is stored exactly once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dialstream.bootstrap import (
    COMPLIANCE,
    DEFAULT_ACCOUNT_ID,
    SUPPRESSION_INDEX,
    Runtime,
    build,
    ensure_bootstrap_key,
)
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.compliance.processor import ComplianceProcessor
from processors.host.kafka import KafkaHost
from processors.suppression.projection import SuppressionIndexFollower
from schemas import topics
from schemas.records import RecordChainRestored, RecordChainSuppressed
from schemas.topics import BY_NAME
from tests import redis
from tests.imports.support import new_list, run_import, running
from tests.kafka import Broker
from tests.kafka_support import kafka_settings

CHAINS = 60
MATCHED = "(212) 555-0143"  # every third row has it


def rows() -> str:
    lines = ["client_id,phone"]
    for n in range(CHAINS):
        lines.append(f"C{n:02d},{MATCHED if n % 3 == 0 else f'(312) 555-{1000 + n}'}")
    return "\n".join(lines) + "\n"


Outcome = Counter[tuple[Any, ...]]


def outcome(runtime: Runtime) -> Outcome:
    """The compliance processor's events, without their random ids (lists differ per run)."""
    found: Outcome = Counter()
    after = 0
    while batch := runtime.store.read(after=after, limit=5000):
        after = batch[-1][0]
        for _, event in batch:
            if isinstance(event, RecordChainSuppressed):
                reasons = tuple(sorted((s.chain_n, s.kind, s.value) for s in event.suppressions))
                found[("suppressed", event.client_id, reasons)] += 1
            elif isinstance(event, RecordChainRestored):
                found[("restored", event.client_id, tuple(sorted(event.record_types.items())))] += 1
    return found


def scenario(runtime: Runtime, tmp_path: Path, settled: Callable[[int], None]) -> None:
    """Entries before an import, an entry added after it, an entry removed: each step settles."""
    made = runtime.handlers.suppression.create_list(
        DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="internal dnc", required=True)
    )
    runtime.handlers.suppression.add_entries(
        DEFAULT_ACCOUNT_ID,
        made.id,
        [EntryInput(kind="phone", value=MATCHED), EntryInput(kind="client_id", value="C04")],
    )
    settled(0)
    source = tmp_path / "contacts.csv"
    source.write_text(rows())
    list_id = new_list(runtime)
    assert run_import(runtime, list_id, source).counts.imported == CHAINS
    settled(1)
    runtime.handlers.suppression.add_entries(
        DEFAULT_ACCOUNT_ID, made.id, [EntryInput(kind="phone", value="(312) 555-1001")]
    )
    settled(2)
    runtime.handlers.suppression.remove_entries(
        DEFAULT_ACCOUNT_ID, made.id, [EntryInput(kind="phone", value=MATCHED)]
    )
    settled(3)


def embedded_steps(tmp_path: Path) -> list[Outcome]:
    steps: list[Outcome] = []
    with running(tmp_path / "embedded") as runtime:

        def settled(step: int) -> None:
            follower = runtime.services[SUPPRESSION_INDEX]
            processor = runtime.services[COMPLIANCE]
            assert isinstance(follower, SuppressionIndexFollower) and isinstance(
                processor, ComplianceProcessor
            )
            head = -1
            while head != runtime.store.position():  # the processor's own events move the head on
                head = runtime.store.position()
                assert (
                    follower.wait_until(head, 10)
                    and processor.wait_until(head, 10)
                    and runtime.wait(head, 10)
                )
            steps.append(outcome(runtime))

        scenario(runtime, tmp_path, settled)
    return steps


def test_the_expected_outcome_embedded(tmp_path: Path) -> None:
    """What the parity test compares against is itself right: one event per decision."""
    steps = embedded_steps(tmp_path)
    matched = [f"C{n:02d}" for n in range(0, CHAINS, 3)]
    by_type = Counter(kind for kind, _, _ in steps[-1].elements())
    assert by_type == {"suppressed": len(matched) + 2, "restored": len(matched)}
    assert all(count == 1 for count in steps[-1].values())


@pytest.mark.integration
def test_two_kafka_workers_give_the_embedded_events_each_effect_once(
    tmp_path: Path, kafka_broker: Broker
) -> None:
    expected = embedded_steps(tmp_path)
    with redis.running() as server:
        settings = kafka_settings(
            tmp_path / "kafka", kafka_broker.bootstrap, suppression_index=server.url
        )
        main = build(settings)  # `dialstream up` on Kafka: relay, read models, index, one compliance worker
        second = build(settings, relay=False, workers=[COMPLIANCE])  # `dialstream worker compliance`
        hosts = [main.services[COMPLIANCE], second.services[COMPLIANCE]]
        assert all(isinstance(host, KafkaHost) for host in hosts)
        try:
            main.start()
            second.start()
            ensure_bootstrap_key(main)  # the default account the scenario works in
            records = {("records", n) for n in range(BY_NAME[topics.RECORDS].partitions)}
            deadline = time.monotonic() + 60
            while True:  # the group has settled: each worker holds half of the records partitions
                held = [host.worker.assignment() if isinstance(host, KafkaHost) and host.worker else set() for host in hosts]
                if all(records & h for h in held) and not held[0] & held[1] and records <= held[0] | held[1]:
                    break
                assert time.monotonic() < deadline, f"the group did not split the partitions: {held}"
                time.sleep(0.1)

            def settled(step: int) -> None:
                deadline = time.monotonic() + 90
                while (found := outcome(main)) != expected[step]:
                    assert time.monotonic() < deadline, (
                        f"step {step}: {found - expected[step]} / {expected[step] - found}"
                    )
                    time.sleep(0.1)
                assert main.wait(main.store.position(), 30)

            scenario(main, tmp_path, settled)
            time.sleep(3.0)  # long enough for a second effect of anything to show
            assert outcome(main) == expected[-1]
            workers = [host.worker for host in hosts if isinstance(host, KafkaHost)]
            assert all(worker is not None and worker.applied > 0 for worker in workers), (
                "both workers took part: the group split the partitions"
            )
            tracked = main.store.tracked_under("compliance@")
            assert {name.split("@")[1].split("/")[0] for name in tracked} >= {"records", "suppressions"}
        finally:
            second.stop()
            main.stop()


@pytest.mark.integration
def test_a_kafka_worker_fetches_nothing_until_a_suppression_list_exists(
    tmp_path: Path, kafka_broker: Broker
) -> None:
    """Before any suppression list, nothing imported can be suppressed: the worker pauses its
    partitions (a million-row import is not fetched twice in the importing process). Records
    imported then are matched once a list's entries arrive, and later ones as they come."""
    with redis.running() as server:
        runtime = build(kafka_settings(tmp_path / "kafka", kafka_broker.bootstrap, suppression_index=server.url))
        host = runtime.services[COMPLIANCE]
        assert isinstance(host, KafkaHost)
        try:
            runtime.start()
            ensure_bootstrap_key(runtime)
            source = tmp_path / "contacts.csv"
            source.write_text(rows())
            assert run_import(runtime, new_list(runtime), source).counts.imported == CHAINS
            deadline = time.monotonic() + 60
            while not (host.worker and host.worker.assignment() and host.worker.paused()):
                assert time.monotonic() < deadline, "the compliance worker did not pause"
                time.sleep(0.1)
            assert host.worker.applied == 0 and runtime.store.tracked_under("compliance@") == {}

            made = runtime.handlers.suppression.create_list(
                DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="internal dnc", required=True)
            )
            runtime.handlers.suppression.add_entries(DEFAULT_ACCOUNT_ID, made.id, [EntryInput(kind="phone", value=MATCHED)])
            later = tmp_path / "later.csv"
            later.write_text(rows().replace("\nC", "\nD"))  # other client ids: other chains
            assert run_import(runtime, new_list(runtime), later).counts.imported == CHAINS
            matched = 2 * len(range(0, CHAINS, 3))  # a third of the rows of each import
            deadline = time.monotonic() + 90
            while (found := outcome(runtime)) != Counter({key: 1 for key in found}) or sum(found.values()) < matched:
                assert time.monotonic() < deadline, f"suppressed {sum(found.values())} of {matched} chains"
                time.sleep(0.1)
            time.sleep(3.0)  # long enough for a second effect of anything to show
            final = outcome(runtime)
            assert sum(final.values()) == matched and set(final.values()) == {1}, final
            assert {kind for kind, _, _ in final} == {"suppressed"}
            assert not host.worker.paused()
        finally:
            runtime.stop()
