"""Why a followed suppression index gives no answer: the index's own problem (Redis
unreachable) when it has one, a rebuild only when one is really running, and no answers
from an index that is being rebuilt from scratch after it lost its data."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

from processors.suppression.embedded_index import EmbeddedSuppressionIndex
from processors.suppression.index import IndexUnavailable, SuppressionQuery
from processors.suppression.projection import FollowedIndex, SuppressionIndexFollower
from processors.suppression.redis_index import RedisSuppressionIndex
from tests.imports.support import running

QUERY = [SuppressionQuery("voice", "phone", "+13125550143")]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


def test_an_unreachable_redis_is_the_reason_not_a_rebuild(tmp_path: Path) -> None:
    port = _closed_port()
    index = RedisSuppressionIndex(f"redis://127.0.0.1:{port}/0")
    try:
        with running(tmp_path) as runtime:
            follower = SuppressionIndexFollower(runtime.store, index)
            with pytest.raises(IndexUnavailable) as raised:
                follower.catch_up()  # what the follower's thread meets at start
            follower.error = raised.value
            with pytest.raises(IndexUnavailable) as denied:
                FollowedIndex(index, follower).lookup(QUERY, [uuid.uuid4()])
    finally:
        index.close()
    reason = denied.value.reason
    assert reason == f"the suppression index in Redis at 127.0.0.1:{port} is unreachable: connection refused"


def test_a_follower_that_fails_for_another_cause_says_so(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        follower = SuppressionIndexFollower(runtime.store, runtime.suppression_index)
        follower.error = OSError("disk I/O error")
        with pytest.raises(IndexUnavailable, match="cannot be rebuilt from the event log: OSError: disk I/O error"):
            FollowedIndex(runtime.suppression_index, follower).lookup(QUERY, [uuid.uuid4()])


class WatchedIndex(EmbeddedSuppressionIndex):
    """Records what a lookup through the followed index answers while the index is cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.followed: FollowedIndex | None = None
        self.during_clear: list[str] = []

    def clear(self) -> None:
        assert self.followed is not None
        try:
            self.followed.lookup(QUERY, [uuid.uuid4()])
        except IndexUnavailable as error:
            self.during_clear.append(error.reason)
        else:
            self.during_clear.append("answered")
        super().clear()


def test_an_index_that_lost_its_data_answers_nothing_until_rebuilt(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        index = WatchedIndex()
        follower = SuppressionIndexFollower(runtime.store, index)
        index.followed = FollowedIndex(index, follower)
        follower.ready.set()  # it had caught up before; now the index has no data (never built)
        assert index.position() is None

        position = follower.catch_up()

        assert index.during_clear == ["the suppression index is being rebuilt from the event log"]
        assert follower.ready.is_set()
        assert position == runtime.store.position()
        assert index.followed.lookup(QUERY, [uuid.uuid4()]) == [[]]
