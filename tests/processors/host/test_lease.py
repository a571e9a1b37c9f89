"""The lease on both databases of the SQL port (one SQLite file, a real PostgreSQL), each
holder on a connection of its own, time from a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from processors.host.lease import Lease, LeaseLost
from projections.sql import Database

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_one_holder_at_a_time_and_a_new_token_for_each_tenure(connections: list[Database]) -> None:
    clock = Clock()
    a = Lease(connections[0], "sweep", duration_s=30, holder="a", clock=clock)
    b = Lease(connections[1], "sweep", duration_s=30, holder="b", clock=clock)

    assert a.acquire() == 1
    assert b.acquire() is None, "held and not run out"
    assert a.acquire() == 1, "acquiring again is renewing: same tenure"
    clock.advance(29)
    assert a.renew() and b.acquire() is None, "renewed: 30 s from now again"
    clock.advance(29)
    assert b.acquire() is None
    clock.advance(1)  # a's lease ran out (a died, or paused): b takes over
    assert b.acquire() == 2
    assert not a.renew() and a.token is None
    assert a.acquire() is None, "b holds it now"


def test_a_holder_taken_over_is_fenced_out(connections: list[Database]) -> None:
    clock = Clock()
    a = Lease(connections[0], "sweep", duration_s=5, holder="a", clock=clock)
    b = Lease(connections[1], "sweep", duration_s=5, holder="b", clock=clock)
    assert a.acquire() == 1
    assert a.check() == 1
    clock.advance(6)
    assert b.acquire() == 2
    with pytest.raises(LeaseLost):
        a.check()
    assert b.check() == 2
    a.release()  # gives nothing back: it holds nothing
    assert b.renew()


def test_a_lease_run_out_is_over_even_if_nobody_took_it(connections: list[Database]) -> None:
    clock = Clock()
    a = Lease(connections[0], "sweep", duration_s=5, holder="a", clock=clock)
    assert a.acquire() == 1
    clock.advance(5)
    with pytest.raises(LeaseLost):
        a.check()
    assert a.acquire() == 2, "a new tenure: what the old one had in flight is fenced out"


def test_release_lets_another_take_over_at_once(connections: list[Database]) -> None:
    clock = Clock()
    a = Lease(connections[0], "sweep", duration_s=30, holder="a", clock=clock)
    b = Lease(connections[1], "sweep", duration_s=30, holder="b", clock=clock)
    assert a.acquire() == 1
    a.release()
    assert a.token is None
    assert b.acquire() == 2
    b.release()
    assert a.acquire() == 3, "tokens keep growing across releases"


def test_leases_of_different_names_are_independent(connections: list[Database]) -> None:
    clock = Clock()
    assert Lease(connections[0], "retention", holder="a", clock=clock).acquire() == 1
    assert Lease(connections[1], "suppression-expiry", holder="b", clock=clock).acquire() == 1
    assert Lease(connections[1], "retention", holder="b", clock=clock).acquire() is None


def test_a_lease_lost_while_its_keeper_renews_too_is_reported_with_its_token(
    connections: list[Database], caplog: pytest.LogCaptureFixture
) -> None:
    """A scheduler's job checks the lease while a keeper thread renews it: the keeper may find
    it lost, and drop the token, between this renewal's query and its report."""
    clock = Clock()
    real = connections[0]
    a = Lease(real, "sweep", duration_s=5, holder="a", clock=clock)
    assert a.acquire() == 1
    clock.advance(6)

    class KeeperMeanwhile:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        @contextmanager
        def transaction(self) -> Iterator[Any]:
            with real.transaction() as cursor:
                yield cursor
            a.token = None  # the keeper's renewal, on its thread, found it lost first

    a.db = cast(Database, KeeperMeanwhile())
    with pytest.raises(LeaseLost):
        a.check()
    assert "lease sweep: lost by a (token 1)" in caplog.text
