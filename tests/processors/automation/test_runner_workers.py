"""Two list automation workers on Kafka (the jobs reach them through the catalogue's consumer
group), sharing the scheduler's lease and the store: every scheduled run is started once,
by whichever holds the lease, and the standby takes over when the holder dies without
letting go. Time runs sixty times faster than life (a virtual minute a second), for the
schedulers, the leases and the store alike."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from dialstream.bootstrap import Runtime, all_projections, build, list_automation_runner
from dialstream.store import stored_topic_of
from domain.list_automation import CreateListAutomation, SourceInput
from processors.automation.runner import scheduled
from processors.host.schedule import Scheduler
from schemas.automation import (
    CronSchedule,
    FileRule,
    ImportFileAction,
    ImportSettings,
    ListAutomationRunStarted,
)
from tests.kafka import Broker
from tests.kafka_support import kafka_settings
from tests.processors.channels.unused_port import refusing_port

pytestmark = pytest.mark.integration

SPEED = 60.0
START = datetime(2026, 3, 10, 13, 59, 30, tzinfo=UTC)


class FastClock:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        return START + timedelta(seconds=(time.monotonic() - self.started) * SPEED)


def worker(runtime: Runtime, clock: FastClock, name: str) -> Scheduler:
    runtime.handlers.clock = clock
    runner = list_automation_runner(runtime, worker=name, timeout_s=2.0)
    # Looks every 5 virtual seconds; a 30-virtual-second lease (half a second of life).
    return Scheduler(scheduled(runner, every_s=5.0), runtime.views, lease_s=30.0, clock=clock, holder=name)


def started_runs(runtime: Runtime, job_id: UUID) -> list[ListAutomationRunStarted]:
    found = runtime.store.read_topics((stored_topic_of(ListAutomationRunStarted),), 0, 10_000)
    return [
        event
        for _, event in found
        if isinstance(event, ListAutomationRunStarted) and event.originator_id == job_id
    ]


@pytest.mark.timeout(300)
def test_two_workers_on_kafka_start_each_scheduled_run_once(tmp_path: Path, kafka_broker: Broker) -> None:
    settings = kafka_settings(tmp_path / "data", kafka_broker.bootstrap)
    clock = FastClock()
    main = build(settings, workers=[projection.name for projection in all_projections()])
    main.handlers.clock = clock
    main.start()
    first, second = build(settings, workers=[]), build(settings, workers=[])
    schedulers: list[Scheduler] = []
    try:
        account = main.handlers.accounts.open_account("Workers").id
        with refusing_port() as port:  # every run fails fast, at its connection: runs are what is counted
            done = main.handlers.automation.create(
                account,
                CreateListAutomation(
                    name="every minute",
                    schedule=CronSchedule(cron="* * * * *", time_zone="UTC"),
                    source=SourceInput(
                        location=f"sftp://127.0.0.1:{port}/inbox",
                        username="crm",
                        login="password",
                        password="pw",
                        host_key="SHA256:" + "A" * 43,
                    ),
                    action=ImportFileAction(
                        import_=ImportSettings(files=FileRule(operator="contains", value="x"))
                    ),
                ),
            )
            assert main.wait(done.position, 30)
            for runtime in (first, second):
                assert runtime.wait(done.position, 30)
            holder, standby = worker(first, clock, "first"), worker(second, clock, "second")
            schedulers = [holder, standby]
            holder.start()
            standby.start()
            deadline = time.monotonic() + 60
            while len(started_runs(main, done.id)) < 4:
                assert time.monotonic() < deadline, "four runs within four virtual minutes"
                time.sleep(0.1)
            # The holder dies: its lease is not given back, the standby takes over when it runs out.
            dead = holder if holder.holding else standby
            dead.lease.release = lambda: None  # type: ignore[method-assign]
            dead.stop(timeout=10)
            survivor = standby if dead is holder else holder
            count = len(started_runs(main, done.id))
            while len(started_runs(main, done.id)) < count + 4:
                assert time.monotonic() < deadline + 60, "four more runs after the take-over"
                time.sleep(0.1)
            survivor.stop(timeout=10)
            runs = started_runs(main, done.id)
    finally:
        for scheduler in schedulers:
            scheduler.stop(timeout=10)
        for runtime in (first, second, main):
            runtime.stop()
    dues = Counter(event.due for event in runs)
    assert all(count == 1 for count in dues.values()), f"a scheduled run started twice: {dues}"
    assert {event.worker for event in runs} == {"first", "second"}, "both workers ran some"
    assert all(due is not None and due.second == 0 for due in dues), "each run is a minute's"
