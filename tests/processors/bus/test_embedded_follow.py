"""The embedded bus and the log followers under a stream of small commits (a dialer commits
each step): they take several commits a round, a round at most every ``FOLLOW_GAP_S``, and
still deliver every event once, in log order."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import uuid4

from dialstream.store import EventStore
from dialstream.store.events import FOLLOW_GAP_S
from domain import account
from domain.account import OpenAccount
from processors.bus.embedded import EmbeddedBus
from processors.bus.port import Batch
from processors.host.log_follower import LogFollower

COMMITS = 60


def _commit_one_by_one(store: EventStore) -> int:
    """COMMITS appends of one event each, about a millisecond apart; the last position."""
    position = 0
    for _ in range(COMMITS):
        position = store.append(
            account.open_account(uuid4(), OpenAccount(name="Acme"), now=datetime.now(UTC))
        )
        time.sleep(0.001)
    return position


class Counting:
    name = "counting"

    def __init__(self) -> None:
        self.rounds = 0
        self.positions: list[int] = []

    def position(self) -> int:
        return self.positions[-1] if self.positions else 0

    def handle(self, batch: Batch) -> int:
        self.rounds += 1
        self.positions += [entry.position for entry in batch]
        return batch[-1].position


def test_the_bus_takes_a_stream_of_commits_in_few_rounds(store: EventStore) -> None:
    subscriber = Counting()
    bus = EmbeddedBus(store)
    bus.subscribe(subscriber)
    bus.start()
    try:
        started = time.monotonic()
        head = _commit_one_by_one(store)
        assert bus.wait_until(head, timeout=10)
        elapsed = time.monotonic() - started
    finally:
        bus.stop()
    assert subscriber.positions == sorted(set(subscriber.positions)) and len(subscriber.positions) == COMMITS
    # A round per commit before; now one per gap, give or take the first and the last.
    assert subscriber.rounds <= elapsed / FOLLOW_GAP_S + 2 < COMMITS


class RoundCounter(LogFollower):
    name = "round-counter"

    def __init__(self, store: EventStore) -> None:
        super().__init__(store)
        self.rounds = 0

    def catch_up(self) -> int:
        self.rounds += 1
        return self.store.position()


def test_a_log_follower_takes_a_stream_of_commits_in_few_rounds(store: EventStore) -> None:
    follower = RoundCounter(store)
    follower.start()
    try:
        assert follower.wait_until(0)
        before, started = follower.rounds, time.monotonic()
        head = _commit_one_by_one(store)
        assert follower.wait_until(head, timeout=10)
        elapsed = time.monotonic() - started
    finally:
        follower.stop()
    assert follower.rounds - before <= elapsed / FOLLOW_GAP_S + 2 < COMMITS


def test_a_caller_waiting_for_the_bus_does_not_wait_out_the_gap(store: EventStore) -> None:
    """A command's read-your-writes: commands one after another, each waited for, are each
    followed at once rather than a gap after the round before."""
    bus = EmbeddedBus(store)
    bus.subscribe(Counting())
    bus.start()
    waits = []
    try:
        for _ in range(21):
            head = store.append(
                account.open_account(uuid4(), OpenAccount(name="Acme"), now=datetime.now(UTC))
            )
            started = time.monotonic()
            assert bus.wait_until(head, timeout=10)
            waits.append(time.monotonic() - started)
    finally:
        bus.stop()
    assert sorted(waits)[len(waits) // 2] < FOLLOW_GAP_S / 2
