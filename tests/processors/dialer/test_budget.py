"""The account's attempts-per-minute budget on both databases of the SQL port (one SQLite file,
a real PostgreSQL), two dialers each on a connection of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from processors.dialer.budget import AttemptBudget
from projections.sql import Database, connect

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC).timestamp()
ACCOUNT = uuid4()


@pytest.fixture(params=["sqlite", "postgresql"])
def connections(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Database]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.sqlite'}"
    else:
        url = str(request.getfixturevalue("fresh_postgres_database"))
    opened: list[Database] = [connect(url), connect(url)]
    yield opened
    for db in opened:
        db.close()


def test_two_dialers_share_the_cap_and_a_minute_later_it_is_whole_again(connections: list[Database]) -> None:
    a, b = AttemptBudget(connections[0], ahead=0), AttemptBudget(connections[1], ahead=0)
    assert a.claim(ACCOUNT, "voice", 6, cap=10, at=T0) == 6
    assert b.claim(ACCOUNT, "voice", 6, cap=10, at=T0 + 20) == 4
    assert a.claim(ACCOUNT, "voice", 1, cap=10, at=T0 + 59) == 0
    assert b.claim(ACCOUNT, "sms", 3, cap=10, at=T0) == 3, "each channel has its own cap"
    assert a.claim(uuid4(), "voice", 3, cap=10, at=T0) == 3, "each account has its own"
    # The second T0 held 6: they leave the window once a whole minute separates them.
    assert a.claim(ACCOUNT, "voice", 10, cap=10, at=T0 + 60) == 0
    assert a.claim(ACCOUNT, "voice", 10, cap=10, at=T0 + 61) == 6
    assert a.used(ACCOUNT, "voice", at=T0 + 61) == 10


def test_what_was_not_placed_is_given_back(connections: list[Database]) -> None:
    a, b = AttemptBudget(connections[0], ahead=0), AttemptBudget(connections[1], ahead=0)
    assert a.claim(ACCOUNT, "email", 8, cap=8, at=T0) == 8
    a.give_back(ACCOUNT, "email", 5, at=T0)  # three placed, five denied by the gate
    assert b.claim(ACCOUNT, "email", 8, cap=8, at=T0 + 1) == 5
    a.give_back(ACCOUNT, "email", 100, at=T0)  # never below nothing
    assert a.used(ACCOUNT, "email", at=T0 + 1) == 5


@pytest.mark.parametrize("ahead", [0, 10])
def test_no_minute_ever_holds_more_than_the_cap(connections: list[Database], ahead: int) -> None:
    a, b = AttemptBudget(connections[0], ahead=ahead), AttemptBudget(connections[1], ahead=ahead)
    granted: list[tuple[float, int]] = []
    at = T0
    for step in range(600):  # every 0.3 s for three minutes, each dialer asking for 2
        at = T0 + 0.3 * step
        for budget in (a, b):
            granted.append((at, budget.claim(ACCOUNT, "voice", 2, cap=25, at=at)))
    assert sum(n for _, n in granted) >= 3 * 25 - 25 // 2, "the cap is used, not only kept"
    for start, _ in granted:
        window = sum(n for t, n in granted if start <= t < start + 60)
        assert window <= 25, (start, window)


def test_a_claim_takes_some_ahead_for_the_same_second_and_gives_back_what_it_did_not_use(
    connections: list[Database],
) -> None:
    a, b = AttemptBudget(connections[0], ahead=10), AttemptBudget(connections[1], ahead=10)
    assert a.claim(ACCOUNT, "voice", 2, cap=100, at=T0) == 2
    assert a.used(ACCOUNT, "voice", at=T0) == 12, "ten more, held for this second's later steps"
    assert a.claim(ACCOUNT, "voice", 3, cap=100, at=T0 + 0.5) == 3
    assert a.used(ACCOUNT, "voice", at=T0) == 12, "taken from what was held: no new claim"
    a.give_back_past(T0 + 1.9)
    assert a.used(ACCOUNT, "voice", at=T0) == 12, "kept until a claim of a later second, or the one after"
    a.give_back_past(T0 + 2)
    assert a.used(ACCOUNT, "voice", at=T0 + 2) == 5, "the seven not used are given back"
    assert a.claim(ACCOUNT, "voice", 1, cap=100, at=T0 + 2) == 1
    assert a.claim(ACCOUNT, "voice", 1, cap=100, at=T0 + 3) == 1
    assert a.used(ACCOUNT, "voice", at=T0 + 3) == 5 + 1 + 1 + 10, "the next claim gave back the last one's rest"
    a.flush()
    # Never more than half of what the cap has left: another dialer is not starved by it.
    assert b.claim(ACCOUNT, "voice", 1, cap=14, at=T0 + 4) == 1
    assert b.used(ACCOUNT, "voice", at=T0 + 4) == 11  # 7 + 1 + (14 - 7 - 1) // 2
    assert a.claim(ACCOUNT, "voice", 5, cap=14, at=T0 + 4) == 3
    b.flush()
    assert b.used(ACCOUNT, "voice", at=T0 + 4) == 11, "b's three held ahead went back, a's three taken"
