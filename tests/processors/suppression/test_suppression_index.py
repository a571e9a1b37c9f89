"""The suppression-index port: one contract, run against both adapters — the embedded one and
the Redis one on a real Redis from ``compose/redis.sh`` — and the Redis adapter's faults:
a server that stops and comes back on the same port (with its data, saved when it stopped),
a server too slow to answer, lost or foreign data.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from uuid import UUID

import pytest
import redis
from redis.connection import Connection

from processors.suppression.embedded_index import EmbeddedSuppressionIndex
from processors.suppression.index import (
    CHANNELS,
    KINDS,
    IndexUnavailable,
    SuppressionEntry,
    SuppressionIndex,
    SuppressionKey,
    SuppressionQuery,
    encode_term,
)
from processors.suppression.redis_index import RedisSuppressionIndex
from tests.redis import Server
from tests.redis import running as running_redis

LIST_A = UUID("00000000-0000-4000-8000-00000000000a")
LIST_B = UUID("00000000-0000-4000-8000-00000000000b")
LIST_C = UUID("00000000-0000-4000-8000-00000000000c")

# One value of each kind (and a second one, to tell them apart).
VALUES = {
    "phone": ("+4915112345678", "+14155550123"),
    "client_id": ("CUST-0042", "cust-0042"),
    "email": ("jane.doe@example.com", "john@example.org"),
}


def entry(
    list_id: UUID, channel: str, kind: str, value: str, expires_at: int | None = None,
) -> SuppressionEntry:
    return SuppressionEntry(list_id, channel, kind, value, uuid.uuid4(), expires_at)  # type: ignore[arg-type]


def query(channel: str, kind: str, value: str) -> SuppressionQuery:
    return SuppressionQuery(channel, kind, value)  # type: ignore[arg-type]


def redis_index(url: str, prefix: str, **options: object) -> RedisSuppressionIndex:
    # Few buckets, so that values share hashes; small batches, so that writes and sweeps
    # take several scripts; a lookup timeout that a busy test machine does not trip over.
    settings: dict[str, object] = {
        "buckets": 16, "write_batch": 7, "sweep_fields": 3, "lookup_timeout": 1.0, **options,
    }
    return RedisSuppressionIndex(url, prefix=prefix, **settings)  # type: ignore[arg-type]


def drop_prefix(url: str, prefix: str) -> None:
    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.unlink(*keys)


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.integration)])
def index(request: pytest.FixtureRequest, prefix: str) -> Iterator[SuppressionIndex]:
    """A built, empty index of each adapter."""
    built: SuppressionIndex
    if request.param == "embedded":
        built = EmbeddedSuppressionIndex()
        built.clear()
        yield built
        built.close()
        return
    server: Server = request.getfixturevalue("redis_server")
    built = redis_index(server.url, prefix)
    built.clear()
    try:
        yield built
    finally:
        built.close()
        drop_prefix(server.url, prefix)


# -- the contract ---------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["voice", "sms", "email"])
@pytest.mark.parametrize("kind", ["phone", "client_id", "email"])
def test_an_entry_matches_its_value_on_its_channel_only(index: SuppressionIndex, channel: str, kind: str) -> None:
    value, other_value = VALUES[kind]
    added = entry(LIST_A, channel, kind, value, expires_at=1_900_000_000)
    index.add([added])
    other_channels = [c for c in ("voice", "sms", "email") if c != channel]
    other_kinds = [k for k in ("phone", "client_id", "email") if k != kind]
    queries = [
        query(channel, kind, value),
        query(channel, kind, other_value),
        *(query(c, kind, value) for c in other_channels),
        # The same text as another kind: a client id "+4915112345678" is not that phone number.
        *(query(channel, k, VALUES[k][0]) for k in other_kinds),
    ]
    [hit, *misses] = index.lookup(queries, {LIST_A})
    assert hit == [added]
    assert misses == [[] for _ in misses]


def test_the_same_text_as_another_kind_does_not_match(index: SuppressionIndex) -> None:
    index.add([entry(LIST_A, "voice", "client_id", "+4915112345678")])
    assert index.lookup([query("voice", "phone", "+4915112345678")], {LIST_A}) == [[]]


def test_only_the_selected_lists_match(index: SuppressionIndex) -> None:
    in_a = entry(LIST_A, "voice", "phone", "+4915112345678")
    in_b = entry(LIST_B, "voice", "phone", "+4915112345678")
    index.add([in_b, in_a])
    q = [query("voice", "phone", "+4915112345678")]
    assert index.lookup(q, {LIST_A}) == [[in_a]]
    assert index.lookup(q, {LIST_B}) == [[in_b]]
    assert index.lookup(q, [LIST_B, LIST_A, LIST_C]) == [[in_a, in_b]]  # ordered by list id
    assert index.lookup(q, {LIST_C}) == [[]]
    assert index.lookup(q, set()) == [[]]


def test_expiry_is_carried_through_not_applied(index: SuppressionIndex) -> None:
    expired = entry(LIST_A, "voice", "phone", "+4915112345678", expires_at=1_000_000_000)
    later = entry(LIST_A, "sms", "phone", "+4915112345678", expires_at=4_000_000_000)
    permanent = entry(LIST_A, "email", "email", "jane.doe@example.com")
    index.add([expired, later, permanent])
    found = index.lookup([
        query("voice", "phone", "+4915112345678"),
        query("sms", "phone", "+4915112345678"),
        query("email", "email", "jane.doe@example.com"),
    ], {LIST_A})
    assert found == [[expired], [later], [permanent]]
    assert [match.expires_at for [match] in found] == [1_000_000_000, 4_000_000_000, None]
    now = 2_000_000_000
    assert [match.active_at(now) for [match] in found] == [False, True, True]


def test_adding_a_key_again_replaces_its_entry(index: SuppressionIndex) -> None:
    first = entry(LIST_A, "voice", "phone", "+4915112345678", expires_at=1_900_000_000)
    second = entry(LIST_A, "voice", "phone", "+4915112345678")
    index.add([first])
    index.add([second])
    assert index.lookup([query("voice", "phone", "+4915112345678")], {LIST_A}) == [[second]]
    # Within one batch, the last one wins.
    third = entry(LIST_A, "voice", "phone", "+4915112345678", expires_at=5)
    index.add([first, third])
    assert index.lookup([query("voice", "phone", "+4915112345678")], {LIST_A}) == [[third]]


def test_remove_takes_out_one_key(index: SuppressionIndex) -> None:
    in_a = entry(LIST_A, "voice", "phone", "+4915112345678")
    in_b = entry(LIST_B, "voice", "phone", "+4915112345678")
    sms = entry(LIST_A, "sms", "phone", "+4915112345678")
    index.add([in_a, in_b, sms])
    index.remove([
        in_a.key,
        SuppressionKey(LIST_C, "voice", "phone", "+4915112345678"),  # not there: ignored
        SuppressionKey(LIST_A, "email", "email", "nobody@example.com"),
    ])
    found = index.lookup(
        [query("voice", "phone", "+4915112345678"), query("sms", "phone", "+4915112345678")],
        {LIST_A, LIST_B},
    )
    assert found == [[in_b], [sms]]
    index.remove([in_b.key, sms.key, in_b.key])
    assert index.lookup([query("voice", "phone", "+4915112345678")], {LIST_A, LIST_B}) == [[]]


def test_remove_list_takes_out_every_entry_of_the_list(index: SuppressionIndex) -> None:
    doomed = [
        entry(LIST_A, channel, kind, VALUES[kind][n])
        for channel in ("voice", "sms", "email") for kind in VALUES for n in (0, 1)
    ]
    kept = [entry(LIST_B, e.channel, e.kind, e.value) for e in doomed]
    index.add(doomed + kept)
    index.remove_list(LIST_A)
    index.remove_list(LIST_C)  # never had entries
    queries = [query(e.channel, e.kind, e.value) for e in doomed]
    assert index.lookup(queries, {LIST_A}) == [[] for _ in queries]
    assert index.lookup(queries, {LIST_A, LIST_B}) == [[e] for e in kept]
    # The list can be filled again.
    again = entry(LIST_A, "voice", "phone", "+4915112345678")
    index.add([again])
    assert index.lookup([query("voice", "phone", "+4915112345678")], {LIST_A}) == [[again]]


def test_a_batch_lookup_answers_each_query_in_order(index: SuppressionIndex) -> None:
    numbers = [f"+4930{n:07d}" for n in range(300)]
    in_a = {number: entry(LIST_A, "voice", "phone", number) for number in numbers[::3]}
    in_b = {number: entry(LIST_B, "voice", "phone", number) for number in numbers[::5]}
    index.add([*in_a.values(), *in_b.values()])
    queries = [query("voice", "phone", number) for number in numbers]
    queries += queries[:10]  # the same query twice gets the same answer twice
    found = index.lookup(queries, {LIST_A, LIST_B})
    assert len(found) == len(queries)
    for q, matches in zip(queries, found, strict=True):
        expected = [e for e in (in_a.get(q.value), in_b.get(q.value)) if e is not None]
        assert matches == expected
    # The repeated queries 0..9 find 0 in both lists, 3, 5, 6 and 9 in one.
    assert sum(map(len, found)) == len(in_a) + len(in_b) + 6
    assert index.lookup([], {LIST_A}) == []


def test_emails_are_lower_cased_client_ids_are_not(index: SuppressionIndex) -> None:
    mail = entry(LIST_A, "email", "email", "Jane.Doe@Example.COM")
    client = entry(LIST_A, "voice", "client_id", "Cust-0042")
    assert mail.value == "jane.doe@example.com"
    index.add([mail, client])
    found = index.lookup([
        query("email", "email", "jane.doe@example.com"),
        query("email", "email", "JANE.DOE@EXAMPLE.COM"),
        query("voice", "client_id", "Cust-0042"),
        query("voice", "client_id", "cust-0042"),
    ], {LIST_A})
    assert found == [[mail], [mail], [client], []]
    index.remove([SuppressionKey(LIST_A, "email", "email", "JANE.doe@example.com")])
    assert index.lookup([query("email", "email", "jane.doe@example.com")], {LIST_A}) == [[]]


def test_long_values_match_exactly(index: SuppressionIndex) -> None:
    # Values over 40 bytes are stored as a digest; they still match only themselves.
    long_mail = "a.very.long.mailbox.name.for.testing.purposes@subdomain.example.com"
    long_client = "customer/" + "x" * 200 + "/é"
    added = [entry(LIST_A, "email", "email", long_mail), entry(LIST_A, "sms", "client_id", long_client)]
    index.add(added)
    found = index.lookup([
        query("email", "email", long_mail),
        query("sms", "client_id", long_client),
        query("email", "email", long_mail[:-1] + "n"),
        query("sms", "client_id", long_client[:-1]),
    ], {LIST_A})
    assert found == [[added[0]], [added[1]], [], []]
    assert found[1][0].value == long_client  # the value comes back as the query gave it


def test_clear_empties_the_index_and_resets_its_position(index: SuppressionIndex) -> None:
    index.add([entry(LIST_A, "voice", "phone", "+4915112345678")])
    index.set_position(17)
    index.clear()
    assert index.position() == 0
    assert index.lookup([query("voice", "phone", "+4915112345678")], {LIST_A}) == [[]]
    index.add([entry(LIST_A, "voice", "phone", "+4915112345678")])
    assert len(index.lookup([query("voice", "phone", "+4915112345678")], {LIST_A})[0]) == 1


def test_the_position_is_kept_in_the_index(index: SuppressionIndex) -> None:
    assert index.position() == 0
    index.set_position(42)
    assert index.position() == 42
    index.set_position(1_000_000_007)
    assert index.position() == 1_000_000_007
    for bad in (-1, "7", 2.0):
        with pytest.raises(ValueError, match="position"):
            index.set_position(bad)  # type: ignore[arg-type]
    assert index.position() == 1_000_000_007


def test_many_entries_in_several_batches(index: SuppressionIndex) -> None:
    entries = [entry(LIST_A, "voice", "phone", f"+4940{n:07d}") for n in range(1_000)]
    index.add(entries)
    found = index.lookup([query("voice", "phone", e.value) for e in entries], {LIST_A})
    assert found == [[e] for e in entries]
    index.remove(e.key for e in entries[::2])
    found = index.lookup([query("voice", "phone", e.value) for e in entries], {LIST_A})
    assert found == [[] if n % 2 == 0 else [e] for n, e in enumerate(entries)]


@pytest.mark.parametrize("adapter", ["embedded", pytest.param("redis", marks=pytest.mark.integration)])
def test_an_index_that_was_never_built_refuses_to_answer(
    request: pytest.FixtureRequest, adapter: str, prefix: str,
) -> None:
    fresh: SuppressionIndex
    if adapter == "embedded":
        fresh = EmbeddedSuppressionIndex()
    else:
        fresh = redis_index(request.getfixturevalue("redis_server").url, prefix)
    assert fresh.position() is None
    with pytest.raises(IndexUnavailable, match="not built"):
        fresh.lookup([query("voice", "phone", "+4915112345678")], {LIST_A})
    with pytest.raises(IndexUnavailable, match="not built"):
        fresh.add([entry(LIST_A, "voice", "phone", "+4915112345678")])
    with pytest.raises(IndexUnavailable, match="not built"):
        fresh.set_position(3)
    fresh.clear()
    assert fresh.position() == 0
    fresh.close()


# -- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value", "problem"), [
    ("phone", "4915112345678", "E.164"),
    ("phone", "+49 151 12345678", "E.164"),
    ("phone", "+0123", "E.164"),
    ("phone", "+1234567890123456", "E.164"),
    ("email", "not-an-address", "e-mail"),
    ("email", " jane@example.com", "e-mail"),
    ("client_id", "", "non-empty"),
    ("client_id", "a\x00b", "NUL"),
])
def test_bad_values_are_refused(kind: str, value: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        entry(LIST_A, "voice", kind, value)
    with pytest.raises(ValueError, match=problem):
        query("voice", kind, value)


def test_bad_channels_kinds_and_expiries_are_refused() -> None:
    with pytest.raises(ValueError, match="channel"):
        entry(LIST_A, "fax", "phone", "+4915112345678")
    with pytest.raises(ValueError, match="kind"):
        query("voice", "postal_code", "10115")
    for expires_at in (-1, 2**32, 1.5, True):
        with pytest.raises(ValueError, match="expires_at"):
            entry(LIST_A, "voice", "phone", "+4915112345678", expires_at=expires_at)  # type: ignore[arg-type]


# -- Redis: round trips, lost and foreign data, faults --------------------------------------

@pytest.fixture
def redis_url(redis_server: Server) -> str:
    return redis_server.url


@pytest.fixture
def built(redis_url: str, prefix: str) -> Iterator[RedisSuppressionIndex]:
    index = redis_index(redis_url, prefix)
    index.clear()
    try:
        yield index
    finally:
        index.close()
        drop_prefix(redis_url, prefix)


@pytest.mark.integration
def test_a_batch_lookup_is_one_round_trip(built: RedisSuppressionIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    built.add(entry(LIST_A, "voice", "phone", f"+4930{n:07d}") for n in range(0, 100, 2))
    queries = [query("voice", "phone", f"+4930{n:07d}") for n in range(100)]
    built.lookup(queries, {LIST_A, LIST_B})  # connected
    sent: list[int] = []
    original = Connection.send_packed_command

    def counting(self: Connection, command: object, check_health: bool = True) -> None:
        sent.append(1)
        original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    found = built.lookup(queries, {LIST_A, LIST_B, LIST_C})
    assert len(sent) == 1
    assert [len(matches) for matches in found] == [1 - n % 2 for n in range(100)]


@pytest.mark.integration
def test_another_process_sees_the_same_index(built: RedisSuppressionIndex, redis_url: str, prefix: str) -> None:
    added = entry(LIST_A, "sms", "phone", "+4915112345678", expires_at=1_900_000_000)
    built.add([added])
    built.set_position(99)
    other = redis_index(redis_url, prefix)
    try:
        assert other.position() == 99
        assert other.lookup([query("sms", "phone", "+4915112345678")], {LIST_A}) == [[added]]
    finally:
        other.close()


@pytest.mark.integration
def test_an_index_whose_data_was_lost_fails_closed(built: RedisSuppressionIndex, redis_url: str, prefix: str) -> None:
    built.add([entry(LIST_A, "voice", "phone", "+4915112345678")])
    built.set_position(5)
    with redis.Redis.from_url(redis_url) as client:
        client.delete(f"{prefix}meta")  # as after a restart without its data, or FLUSHDB
    assert built.position() is None
    with pytest.raises(IndexUnavailable, match="not built"):
        built.lookup([query("voice", "phone", "+4930000000")], {LIST_A})
    with pytest.raises(IndexUnavailable, match="not built"):
        built.set_position(6)
    with pytest.raises(IndexUnavailable, match="not built"):
        built.remove_list(LIST_A)


@pytest.mark.integration
def test_an_index_of_another_layout_is_refused(built: RedisSuppressionIndex, redis_url: str, prefix: str) -> None:
    other = redis_index(redis_url, prefix, buckets=32)
    try:
        with pytest.raises(IndexUnavailable, match="layout"):
            other.lookup([query("voice", "phone", "+4915112345678")], {LIST_A})
        with pytest.raises(IndexUnavailable, match="layout"):
            other.add([entry(LIST_A, "voice", "phone", "+4915112345678")])
        with pytest.raises(IndexUnavailable, match="layout"):
            other.position()
        # Rebuilding with the new layout removes the old buckets too.
        built.add([entry(LIST_A, "voice", "phone", f"+4930{n:07d}") for n in range(200)])
        other.clear()
        with redis.Redis.from_url(redis_url) as client:
            assert sorted(client.scan_iter(match=f"{prefix}*")) == [f"{prefix}meta".encode()]
        assert other.position() == 0
    finally:
        other.close()


@pytest.mark.integration
def test_garbage_in_redis_is_an_unavailable_index(built: RedisSuppressionIndex, redis_url: str) -> None:
    phone = query("voice", "phone", "+4915112345678")
    term = encode_term(phone.channel, phone.kind, phone.value)
    bucket = built.bucket_key(term)
    with redis.Redis.from_url(redis_url) as client:
        client.hset(bucket, term + LIST_A.bytes, b"not a record")
        with pytest.raises(IndexUnavailable, match="not a suppression index"):
            built.lookup([phone], {LIST_A})
        client.delete(bucket)
        client.set(bucket, b"a string where a hash belongs")
        with pytest.raises(IndexUnavailable, match="WRONGTYPE"):
            built.lookup([phone], {LIST_A})
        client.delete(bucket)
    assert built.lookup([phone], {LIST_A}) == [[]]


@pytest.mark.integration
def test_a_list_being_removed_no_longer_matches(built: RedisSuppressionIndex, redis_url: str, prefix: str) -> None:
    in_a = entry(LIST_A, "voice", "phone", "+4915112345678")
    in_b = entry(LIST_B, "voice", "phone", "+4915112345678")
    built.add([in_a, in_b])
    with redis.Redis.from_url(redis_url) as client:
        client.sadd(f"{prefix}removing", LIST_A.bytes)  # remove_list marked it, then crashed
    q = [query("voice", "phone", "+4915112345678")]
    assert built.lookup(q, {LIST_A, LIST_B}) == [[in_b]]
    built.remove_list(LIST_A)  # replayed: sweeps and unmarks
    built.add([in_a])
    assert built.lookup(q, {LIST_A, LIST_B}) == [[in_a, in_b]]


@pytest.mark.integration
def test_a_slow_redis_times_out_fast_and_recovers(redis_url: str, prefix: str) -> None:
    index = redis_index(redis_url, prefix, lookup_timeout=0.05)
    index.clear()
    added = entry(LIST_A, "voice", "phone", "+4915112345678")
    index.add([added])
    q = [query("voice", "phone", "+4915112345678")]
    try:
        assert index.lookup(q, {LIST_A}) == [[added]]
        with redis.Redis.from_url(redis_url) as client:
            client.client_pause(600)  # every client waits 600 ms for its next answer
        started = time.monotonic()
        with pytest.raises(IndexUnavailable, match="did not answer within 50 ms"):
            index.lookup(q, {LIST_A})
        assert time.monotonic() - started < 0.5
        time.sleep(0.7)
        assert index.lookup(q, {LIST_A}) == [[added]]
    finally:
        index.close()
        drop_prefix(redis_url, prefix)


@pytest.fixture
def own_redis() -> Iterator[Server]:
    """A server of this test's own, to stop and start."""
    with running_redis() as server:
        yield server


@pytest.mark.integration
def test_redis_down_fails_closed_fast_and_recovers_with_its_data(own_redis: Server) -> None:
    """Stopped, the server saves its data (compose/redis.sh: shutdown-on-sigterm save) and
    loads it when it starts again on the same port; the same adapter object answers again."""
    index = RedisSuppressionIndex(own_redis.url, buckets=64)  # production timeouts: 50 ms lookups
    index.clear()
    entries = [entry(LIST_A, "voice", "phone", f"+4930{n:07d}", expires_at=1_900_000_000 + n) for n in range(500)]
    index.add(entries)
    index.set_position(500)
    queries = [query("voice", "phone", e.value) for e in entries]
    assert index.lookup(queries, {LIST_A}) == [[e] for e in entries]

    try:
        own_redis.stop()
        for attempt in range(3):  # a pooled connection first, then fresh ones
            started = time.monotonic()
            with pytest.raises(IndexUnavailable, match="unreachable") as raised:
                index.lookup(queries, {LIST_A})
            elapsed = time.monotonic() - started
            assert elapsed < 1.0, f"attempt {attempt}: {elapsed:.3f} s"
        assert own_redis.url.removeprefix("redis://").removesuffix("/0") in raised.value.reason
        with pytest.raises(IndexUnavailable):
            index.add([entry(LIST_B, "voice", "phone", "+4915112345678")])
        with pytest.raises(IndexUnavailable):
            index.position()

        own_redis.start()
        assert index.lookup(queries, {LIST_A}) == [[e] for e in entries]
        assert index.position() == 500
        added = entry(LIST_B, "voice", "phone", "+4915112345678")
        index.add([added])
        assert index.lookup([query("voice", "phone", "+4915112345678")], {LIST_A, LIST_B}) == [[added]]

        # Restarted while the adapter was idle: its pooled connection is dead; the first
        # lookup still answers (one immediate retry on a fresh connection).
        own_redis.stop()
        own_redis.start()
        assert index.lookup(queries[:3], {LIST_A}) == [[e] for e in entries[:3]]
    finally:
        index.close()


@pytest.mark.integration
def test_lookups_keep_answering_while_a_list_is_swept(built: RedisSuppressionIndex) -> None:
    """remove_list works in short steps: lookups on other lists answer meanwhile."""
    kept = entry(LIST_B, "voice", "phone", "+4915112345678")
    built.add([kept])
    built.add(entry(LIST_A, "voice", "phone", f"+4930{n:07d}") for n in range(2_000))
    answers: list[object] = []
    done = threading.Event()

    def look() -> None:
        while not done.is_set():
            answers.append(built.lookup([query("voice", "phone", "+4915112345678")], {LIST_B}))

    looker = threading.Thread(target=look)
    looker.start()
    try:
        built.remove_list(LIST_A)
    finally:
        done.set()
        looker.join()
    assert answers and all(answer == [[kept]] for answer in answers)
    assert built.lookup([query("voice", "phone", f"+4930{n:07d}") for n in range(5)], {LIST_A}) == [[]] * 5


def test_every_channel_and_kind_has_its_own_tag() -> None:
    terms = {encode_term(c, k, "x") for c, k in itertools.product(CHANNELS, KINDS)}
    assert len(terms) == 9
