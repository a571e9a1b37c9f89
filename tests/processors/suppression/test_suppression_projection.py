"""The suppression index follows the log: entries added, removed, expired and archived lists,
rebuilt from scratch, and on Redis it waits out an outage without holding up the read models."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, SUPPRESSION_INDEX, Runtime
from dialstream.cli.log import replay_suppression_index
from domain.contact_list import KIND as CONTACT_LIST
from processors.suppression.index import IndexUnavailable, SuppressionQuery
from processors.suppression.projection import FollowedIndex, SuppressionIndexFollower, catch_up
from schemas.suppression import (
    EntryKind,
    SuppressionEntriesAdded,
    SuppressionEntriesExpired,
    SuppressionEntriesRemoved,
    SuppressionEntry,
    SuppressionEntryKey,
    SuppressionListArchived,
    SuppressionListCreated,
)
from tests import redis
from tests.imports.support import new_list, running

Value = tuple[EntryKind, str]
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class Log:
    """Appends suppression events for one list, as the suppression-list aggregate would."""

    def __init__(self, runtime: Runtime, channel: str = "voice"):
        self.runtime = runtime
        self.list_id = uuid.uuid4()
        self.channel = channel
        self.version = 0
        self._append(
            SuppressionListCreated,
            name=f"dnc {self.list_id.hex[:6]}",
            description="",
            channel=channel,
            required=True,
            retention_days=None,
        )

    def _append(self, cls: Any, **fields: Any) -> int:
        self.version += 1
        event = cls(
            originator_id=self.list_id,
            originator_version=self.version,
            timestamp=NOW,
            account_id=DEFAULT_ACCOUNT_ID,
            **fields,
        )
        return self.runtime.store.append([event])

    def add(self, *values: Value, expires_at: int | None = None) -> int:
        entries = [
            SuppressionEntry(
                kind=kind,
                value=value,
                entry_id=uuid.uuid5(self.list_id, f"{kind}:{value}"),
                expires_at=expires_at,
            )
            for kind, value in values
        ]
        return self._append(SuppressionEntriesAdded, channel=self.channel, entries=entries, source="api")

    def remove(self, *values: Value) -> int:
        keys = [SuppressionEntryKey(kind=kind, value=value) for kind, value in values]
        return self._append(SuppressionEntriesRemoved, channel=self.channel, entries=keys, reason="removed")

    def expire(self, *values: Value) -> int:
        keys = [SuppressionEntryKey(kind=kind, value=value) for kind, value in values]
        return self._append(SuppressionEntriesExpired, channel=self.channel, entries=keys)

    def archive(self) -> int:
        return self._append(SuppressionListArchived)


def follower(runtime: Runtime) -> SuppressionIndexFollower:
    service = runtime.services[SUPPRESSION_INDEX]
    assert isinstance(service, SuppressionIndexFollower)
    return service


def matches(runtime: Runtime, lists: list[UUID], *queries: Value, channel: str = "voice") -> list[set[str]]:
    found = runtime.suppression_index.lookup([SuppressionQuery(channel, k, v) for k, v in queries], lists)  # type: ignore[arg-type]
    return [{f"{e.list_id}:{e.value}" for e in entries} for entries in found]


def settle(runtime: Runtime, position: int) -> None:
    assert follower(runtime).wait_until(position, 10), "the index did not reach the log's head"


def test_the_index_follows_additions_removals_expiry_and_archiving(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        dnc, other = Log(runtime), Log(runtime)
        settle(runtime, dnc.add(("phone", "+13125550143"), ("client_id", "C7"), expires_at=1_900_000_000))
        settle(runtime, other.add(("phone", "+13125550143")))
        both = [dnc.list_id, other.list_id]
        assert matches(
            runtime, both, ("phone", "+13125550143"), ("client_id", "C7"), ("phone", "+13125550199")
        ) == [
            {f"{dnc.list_id}:+13125550143", f"{other.list_id}:+13125550143"},
            {f"{dnc.list_id}:C7"},
            set(),
        ]
        assert matches(runtime, [other.list_id], ("client_id", "C7")) == [set()], "only the lists asked about"
        entry = runtime.suppression_index.lookup([SuppressionQuery("voice", "client_id", "C7")], both)[0][0]
        assert entry.expires_at == 1_900_000_000
        assert entry.entry_id == uuid.uuid5(dnc.list_id, "client_id:C7")

        settle(runtime, dnc.remove(("phone", "+13125550143")))
        assert matches(runtime, both, ("phone", "+13125550143")) == [{f"{other.list_id}:+13125550143"}]
        settle(runtime, dnc.expire(("client_id", "C7")))
        assert matches(runtime, both, ("client_id", "C7")) == [set()]
        settle(runtime, other.archive())
        assert matches(runtime, both, ("phone", "+13125550143")) == [set()]


def test_an_embedded_index_is_rebuilt_from_the_log_at_every_start(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        dnc = Log(runtime)
        settle(runtime, dnc.add(("phone", "+442079460018"), ("email", "pat@example.com")))
        list_id = dnc.list_id
        new_list(runtime)  # other events after the suppression ones
    with running(tmp_path) as runtime:
        settle(runtime, runtime.store.position())
        assert follower(runtime).position == runtime.store.position()
        assert matches(runtime, [list_id], ("phone", "+442079460018"), ("email", "pat@example.com")) == [
            {f"{list_id}:+442079460018"},
            {f"{list_id}:pat@example.com"},
        ]


def test_lookups_fail_closed_until_the_index_has_caught_up(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        service = follower(runtime)
        waiting = SuppressionIndexFollower(runtime.store, runtime.suppression_index)  # never started
        with pytest.raises(IndexUnavailable, match="being rebuilt"):
            FollowedIndex(runtime.suppression_index, waiting).lookup(
                [SuppressionQuery("voice", "phone", "+13125550143")], [uuid.uuid4()]
            )
        settle(runtime, runtime.store.position())
        assert service.ready.is_set()
        assert FollowedIndex(runtime.suppression_index, service).lookup(
            [SuppressionQuery("voice", "phone", "+13125550143")], [uuid.uuid4()]
        ) == [[]]


@pytest.fixture
def private_redis() -> Iterator[redis.Server]:
    with redis.running() as server:
        yield server


def test_on_redis_an_outage_holds_up_the_index_not_the_read_models(
    tmp_path: Path, private_redis: redis.Server
) -> None:
    with running(tmp_path, suppression_index=private_redis.url) as runtime:
        dnc = Log(runtime)
        settle(runtime, dnc.add(("phone", "+13125550143")))
        private_redis.stop()
        try:
            added = dnc.add(("phone", "+13125550144"))
            list_id = new_list(runtime)  # the read models keep up while Redis is down
            assert runtime.catalogue.get(DEFAULT_ACCOUNT_ID, CONTACT_LIST, list_id) is not None
            deadline = time.monotonic() + 10
            while follower(runtime).error is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert follower(runtime).error is not None, "the follower must notice the outage"
            with pytest.raises(IndexUnavailable):
                runtime.suppression_index.lookup(
                    [SuppressionQuery("voice", "phone", "+13125550143")], [dnc.list_id]
                )
        finally:
            private_redis.start()
        settle(runtime, added)  # caught up again, without a restart
        assert follower(runtime).error is None
        assert matches(runtime, [dnc.list_id], ("phone", "+13125550143"), ("phone", "+13125550144")) == [
            {f"{dnc.list_id}:+13125550143"},
            {f"{dnc.list_id}:+13125550144"},
        ]


def test_replay_rebuilds_a_redis_index_that_lost_its_data(
    tmp_path: Path, private_redis: redis.Server
) -> None:
    with running(tmp_path, suppression_index=private_redis.url) as runtime:
        dnc = Log(runtime)
        settle(runtime, dnc.add(*[("phone", f"+1312555{n:04d}") for n in range(300)]))
        settle(runtime, dnc.remove(("phone", "+13125550000")))
    import redis as redis_py

    redis_py.Redis.from_url(private_redis.url).flushall()
    from dialstream.bootstrap import build
    from dialstream.settings import Settings

    runtime = build(Settings(data_dir=tmp_path, suppression_index=private_redis.url))
    try:
        assert runtime.suppression_index.position() is None  # lost
        position = replay_suppression_index(runtime, progress=False)
        assert position == runtime.store.position()
        assert catch_up(runtime.store, runtime.suppression_index) == position  # nothing left to do
        found = matches(runtime, [dnc.list_id], ("phone", "+13125550000"), ("phone", "+13125550299"))
        assert found == [set(), {f"{dnc.list_id}:+13125550299"}]
    finally:
        runtime.stop()
