"""call_results: finished attempts counted per group, list, quarter hour and call result (and
per agent); the counts equal those of the log, and a replay or any interleaving of the streams
gives the live rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dialstream.store import EventStore, store_env
from domain.codes import CallResult
from projections.base import ProjectionStore
from projections.call_results import CallResultCounts, CallResultQueries, dump_rows
from projections.group_activity import GroupActivity
from projections.sql import SQLiteDatabase, connect
from schemas.attempts import CallAttemptFinished
from tests.projections.interleave import apply_streams_last_first
from tests.projections.test_group_activity import ACCOUNT, AGENT, GROUP, L2, T0, Calls, a_minute_of_calls

NAME = "call_results"


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteDatabase]:
    db = connect(f"sqlite:///{tmp_path / 'views.sqlite'}")
    assert isinstance(db, SQLiteDatabase)
    yield db
    db.close()


@pytest.fixture
def calls(tmp_path: Path, views: SQLiteDatabase) -> Iterator[Calls]:
    """Attempts reported through the handlers (group_activity's scenario helper)."""
    store = EventStore(store_env(f"sqlite:///{tmp_path / 'events.sqlite'}"))
    yield Calls(
        store, ProjectionStore(connect(f"sqlite:///{tmp_path / 'activity.sqlite'}"), [GroupActivity()])
    )
    store.close()


def test_counts_equal_the_log_and_a_replay_or_interleaving_gives_the_live_rows(
    calls: Calls, views: SQLiteDatabase, tmp_path: Path
) -> None:
    a_minute_of_calls(calls)
    late = calls.place(1000, L2, 5)  # another quarter hour
    calls.answer(1010, late)
    calls.connect(1011, late)
    calls.finish(1100, late, CallResult.ANSWER, ring_ms=9_000, talk_ms=89_000)
    log = calls.store.read(0, 10_000)
    live = ProjectionStore(views, [CallResultCounts()])
    live.apply(NAME, log)
    rows = dump_rows(views)
    assert all(rows.values()), "the scenario fills both tables"

    ended = [e for _, e in log if isinstance(e, CallAttemptFinished)]
    counts = CallResultQueries(views).counts(ACCOUNT, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    summed: Counter[tuple[str, str, int]] = Counter()
    for count in counts:
        summed[(count.group_id, count.list_id, count.call_result)] += count.attempts
    assert summed == Counter(
        ("" if e.campaign_group_id is None else str(e.campaign_group_id), str(e.list_id), e.call_result)
        for e in ended
    )
    assert {c.start for c in counts if c.list_id == str(L2) and c.call_result == CallResult.ANSWER} == {
        int((T0 + timedelta(seconds=900)).timestamp())
    }
    by_agent = CallResultQueries(views).counts(
        ACCOUNT, T0, T0 + timedelta(hours=1), agent_ids=[AGENT], group_ids=[GROUP]
    )
    talked = [e for e in ended if e.agent_id == AGENT and e.campaign_group_id == GROUP]
    assert sum(c.attempts for c in by_agent) == len(talked) > 0
    assert sum(c.talk_ms for c in by_agent) == sum(e.talk_ms for e in talked)

    replica = connect(f"sqlite:///{tmp_path / 'replica.sqlite'}")
    rebuilt = ProjectionStore(replica, [CallResultCounts()])
    rebuilt.apply(NAME, log)
    assert dump_rows(replica) == rows
    assert rebuilt.apply(NAME, log) == log[-1][0] and dump_rows(replica) == rows, "nothing applied twice"

    # Kafka: each stream stays in order, the streams interleave any way.
    shuffled = connect(f"sqlite:///{tmp_path / 'shuffled.sqlite'}")
    apply_streams_last_first(shuffled, CallResultCounts(), log)
    assert dump_rows(shuffled) == rows
