"""The agent_states read model: each agent's state by group, counts by state, one account's
agents never another's, a replay equal to the live rows, and nothing applied twice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from dialstream.bootstrap import Runtime, build
from dialstream.cli.log import replay
from dialstream.settings import Settings
from domain.agent import agent_id
from projections.agents import TABLES, AgentQueries, AgentStates, quarters
from projections.base import ProjectionStore
from projections.sql import Database, connect, dump_tables

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
TEAM = "Collections Team A"
GROUP = UUID("06000000-0000-4000-8000-000000000001")
RECORD = UUID("0e000000-0000-4000-8000-000000000001")
ATTEMPT = UUID("0f000000-0000-4000-8000-000000000001")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)  # every command a second after the one before
        return self.now


@contextmanager
def running(settings: Settings) -> Iterator[Runtime]:
    runtime = build(settings, workers=[])  # the read models only, no processors
    runtime.handlers.clock = Clock()
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    with running(Settings(data_dir=tmp_path)) as runtime:
        yield runtime


def rows(db: Database) -> dict[str, list[tuple[object, ...]]]:
    return dump_tables(db, TABLES)


def a_shift(runtime: Runtime) -> tuple[UUID, UUID]:
    """Two accounts' agents in every kind of state; returns (account A, account B)."""
    agents = runtime.handlers.agents
    a = runtime.handlers.accounts.open_account("Acme").id
    b = runtime.handlers.accounts.open_account("Other").id
    for login in ("amy", "bob", "carl", "erin"):
        agents.log_in(a, login, agent_group=TEAM, name=login.title())
    agents.log_in(a, "dana", agent_group="Sales")
    agents.ready(a, "amy")
    agents.not_ready(a, "bob", "lunch")
    agents.ready(a, "carl")
    carl = agent_id(a, "carl")  # the dialer names agents by id
    agents.reserve(a, carl, group_id=GROUP, record_id=RECORD, attempt_id=ATTEMPT, purpose="engage")
    agents.connect_call(a, carl, group_id=GROUP, record_id=RECORD, attempt_id=ATTEMPT)
    agents.end_call(a, carl, ATTEMPT)
    agents.connect_call(a, carl, group_id=GROUP, record_id=RECORD, attempt_id=ATTEMPT)  # a repeat: nothing
    agents.log_out(a, "erin")
    agents.log_out(a, "dana")
    agents.log_in(b, "amy", agent_group=TEAM)
    agents.ready(b, "amy")
    assert runtime.wait(runtime.store.position())
    return a, b


def test_agents_by_group_and_state(runtime: Runtime) -> None:
    a, b = a_shift(runtime)
    queries = runtime.agents

    assert [row.login for row in queries.by_group(a, TEAM)] == ["amy", "bob", "carl"]
    assert [row.login for row in queries.by_group(a, TEAM, logged_out=True)] == ["amy", "bob", "carl", "erin"]
    assert queries.counts(a, TEAM) == {
        "logged_out": 1,
        "logged_in": 0,
        "ready": 1,
        "not_ready": 1,
        "reserved": 0,
        "on_call": 0,
        "wrap_up": 1,
    }
    assert [(row.login, row.state) for row in queries.list(a)] == [
        ("amy", "ready"),
        ("bob", "not_ready"),
        ("carl", "wrap_up"),
        ("dana", "logged_out"),
        ("erin", "logged_out"),
    ]
    assert [row.login for row in queries.list(a, "Sales")] == ["dana"]
    assert [(row.login, row.state) for row in queries.list(b)] == [("amy", "ready")]
    assert queries.counts(b, TEAM)["ready"] == 1


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def either_runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    database = {} if request.param == "sqlite" else {"database_url": request.getfixturevalue("fresh_postgres_database")}
    with running(Settings(data_dir=tmp_path, **database)) as runtime:
        yield runtime


def test_a_follower_of_a_group_reads_only_the_agents_changed_since_it_looked(either_runtime: Runtime) -> None:
    """The dialer's read: every agent of the group once, then the account's agents changed since,
    whichever group they are in now and logged out too, so that one leaving the group shows."""
    runtime = either_runtime
    a, b = a_shift(runtime)
    queries, agents = runtime.agents, runtime.handlers.agents
    everyone, seen = queries.changes(a, TEAM, None)
    assert [row.login for row in everyone] == ["amy", "bob", "carl"]
    assert queries.changes(a, TEAM, seen) == ([], seen), "nothing changed since"

    agents.ready(a, "bob")
    agents.log_out(a, "amy")
    agents.log_in(a, "erin", agent_group="Sales")
    agents.ready(b, "amy")  # another account's agent: not the follower's
    assert runtime.wait(runtime.store.position())

    changed, newer = queries.changes(a, TEAM, seen)
    assert [(row.login, row.agent_group, row.state) for row in changed] == [
        ("amy", TEAM, "logged_out"),
        ("bob", TEAM, "ready"),
        ("erin", "Sales", "logged_in"),
    ]
    assert newer > seen
    assert queries.changes(a, TEAM, newer) == ([], newer)
    assert [row.login for row in queries.changes(a, TEAM, None)[0]] == ["bob", "carl"]


def test_an_agent_row_holds_its_call_and_when_its_state_began(runtime: Runtime) -> None:
    a, b = a_shift(runtime)
    carl = runtime.handlers.agents.agent(a, "carl")

    row = runtime.agents.get(a, carl.id)

    assert row is not None
    assert (row.agent_id, row.login, row.name, row.agent_group) == (carl.id, "carl", "Carl", TEAM)
    assert (row.state, row.campaign_group_id, row.record_id, row.attempt_id) == (
        "wrap_up",
        GROUP,
        RECORD,
        ATTEMPT,
    )
    assert (row.since, row.version, row.simulated) == (carl.since, carl.version, False)
    assert row.since.tzinfo is not None and row.since.utcoffset() == timedelta(0)
    bob = runtime.agents.get(a, agent_id(a, "bob"))
    assert bob is not None and (bob.state, bob.reason, bob.campaign_group_id) == ("not_ready", "lunch", None)
    assert runtime.agents.get(b, carl.id) is None, "another account's agent is not shown"


def test_replay_yields_the_same_rows_as_the_live_projection(runtime: Runtime, tmp_path: Path) -> None:
    a_shift(runtime)
    live = rows(runtime.views)
    assert len(live["agent_states"]) == 6  # five agents of A, one of B
    assert live["agent_state_time"], "agents changed state: the time they spent is counted"

    replica = connect(f"sqlite:///{tmp_path / 'replica.sqlite'}")
    try:
        rebuilt = ProjectionStore(replica, [AgentStates()])
        rebuilt.apply("agent_states", runtime.store.read(after=0, limit=10_000))
        assert rows(replica) == live
    finally:
        replica.close()

    replay(runtime, "agent_states", progress=False)
    assert rows(runtime.views) == live
    assert runtime.projections.position("agent_states") == runtime.store.position()


def test_batches_of_any_size_leave_the_rows_one_event_at_a_time_leaves(runtime: Runtime, tmp_path: Path) -> None:
    """A batch reads each agent once, follows it in memory and sums the time of its states:
    the rows must be those that applying each event alone gives."""
    a, _ = a_shift(runtime)
    agents = runtime.handlers.agents
    for _ in range(2):  # amy ready twice in one quarter hour: her time there is a sum
        agents.not_ready(a, "amy", "coffee")
        agents.ready(a, "amy")
    log = runtime.store.read(after=0, limit=10_000)
    dumps = []
    for size in (1, 2, 5, len(log)):
        replica = connect(f"sqlite:///{tmp_path / f'batches-of-{size}.sqlite'}")
        try:
            rebuilt = ProjectionStore(replica, [AgentStates()])
            for first in range(0, len(log), size):
                rebuilt.apply("agent_states", log[first : first + size])
            dumps.append(rows(replica))
        finally:
            replica.close()
    assert dumps[0]["agent_state_time"], "time in states is counted"
    assert all(dump == dumps[0] for dump in dumps[1:])


def test_an_event_handed_over_again_changes_nothing(runtime: Runtime) -> None:
    a, _ = a_shift(runtime)
    before = rows(runtime.views)
    batch = runtime.store.read(after=0, limit=10_000)
    projection = AgentStates()

    # Each old event alone (newest first), as a Kafka partition redelivered after a rebalance
    # could hand it, straight to the projection: below the position guard, the rows' versions hold.
    with runtime.views.transaction() as cursor:
        for position, event in reversed(batch):
            projection.apply(cursor, event, position)

    assert rows(runtime.views) == before
    assert AgentQueries(runtime.views).counts(a, TEAM)["wrap_up"] == 1


def test_time_in_a_state_is_split_at_quarter_hours() -> None:
    start = 1_773_151_200.0  # 14:00:00 UTC on 10 March 2026
    assert quarters(start + 840.5, start + 960.0) == [(int(start), 59_500), (int(start) + 900, 60_000)]
    assert quarters(start, start + 1800) == [(int(start), 900_000), (int(start) + 900, 900_000)]
    assert quarters(start, start) == []
