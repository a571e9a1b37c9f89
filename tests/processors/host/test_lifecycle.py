"""The one lifecycle: a round that fails is retried after a back-off that grows, a round that
succeeds clears the error, a failing start is retried, and stop ends the loop promptly."""

from __future__ import annotations

import threading
import time

import pytest

from processors.host.lifecycle import Backoff, Hosted


class Flaky(Hosted):
    name = "flaky"
    interval_s = 0.01

    def __init__(self, failures: int, *, start_failures: int = 0):
        super().__init__(backoff=Backoff(first_s=0.01, max_s=0.04))
        self.left = failures
        self.start_left = start_failures
        self.rounds = 0
        self.started = self.stopped = 0
        self.errors_seen: list[int] = []
        self.done = threading.Event()

    def on_start(self) -> None:
        if self.start_left:
            self.start_left -= 1
            raise ConnectionError("database down at start")
        self.started += 1

    def on_stop(self) -> None:
        self.stopped += 1

    def run_once(self) -> None:
        self.rounds += 1
        self.errors_seen.append(self.failures)
        if self.left:
            self.left -= 1
            raise RuntimeError(f"failure {self.left}")
        self.done.set()


def test_backoff_doubles_up_to_its_ceiling() -> None:
    backoff = Backoff(first_s=1.0, max_s=5.0)
    assert [backoff.delay(n) for n in range(0, 6)] == [0.0, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_failed_rounds_are_retried_and_a_success_clears_the_error() -> None:
    hosted = Flaky(failures=3)
    hosted.start()
    try:
        assert hosted.done.wait(5)
        assert hosted.errors_seen[:4] == [0, 1, 2, 3], "each retry follows one more consecutive failure"
        deadline = time.monotonic() + 5
        while hosted.error is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        health = hosted.health()
        assert health.healthy and health.failures == 0 and health.last_success is not None
    finally:
        hosted.stop(5)
    assert not hosted.running and hosted.stopped == 1 and hosted.started == 1


def test_a_failing_round_is_reported_in_health() -> None:
    hosted = Flaky(failures=10**6)
    hosted.start()
    try:
        deadline = time.monotonic() + 5
        while hosted.failures < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        health = hosted.health()
        assert health.running and not health.healthy
        assert health.error is not None and health.error.startswith("RuntimeError: failure")
    finally:
        hosted.stop(5)


def test_a_failing_start_is_retried_before_any_round() -> None:
    hosted = Flaky(failures=0, start_failures=2)
    hosted.start()
    try:
        assert hosted.done.wait(5)
        assert hosted.started == 1 and hosted.rounds >= 1
    finally:
        hosted.stop(5)


def test_stop_interrupts_a_long_back_off() -> None:
    hosted = Flaky(failures=10**6)
    hosted.backoff = Backoff(first_s=60.0, max_s=60.0)
    hosted.start()
    deadline = time.monotonic() + 5
    while hosted.failures < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    began = time.monotonic()
    hosted.stop(5)
    assert time.monotonic() - began < 2 and not hosted.running


def test_run_once_must_be_provided() -> None:
    with pytest.raises(NotImplementedError):
        Hosted().run_once()
