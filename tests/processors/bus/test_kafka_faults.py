"""Faults on the Kafka backbone, against a real broker: a relay killed with SIGKILL in the
middle of 50,000 events and restarted, a projection worker killed mid-stream while its twin
takes over, a worker frozen (SIGSTOP) past its session timeout that comes back as a zombie,
and the broker restarted while events flow.

Afterwards every event is on its topic, in per-aggregate order, and every projection equals
a replay from the event store: nothing lost, nothing applied twice. "Applied twice" is not
left to the rows alone (folding the same ``ContactListChanged`` twice gives the same row):
each projection's ``apply`` is wrapped so that it also writes the event's log position to an
audit table in the same transaction, and every position must be there exactly once.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from dialstream.bootstrap import all_projections, build
from dialstream.settings import Settings
from dialstream.store import EventStore, store_env
from dialstream.store.sqlite_wal import sqlite_path
from processors.bus.kafka_cluster import EVENT_TOPICS, KafkaConfig, create_topics
from processors.bus.relay import Relay, RelayProgress
from processors.bus.wire import outgoing
from projections.base import ProjectionStore
from projections.catalogue import Catalogue
from projections.sql import Cursor, Database, connect
from schemas.base import Event
from schemas.topics import CATALOGUE
from tests import kafka
from tests.kafka import Broker
from tests.kafka_support import (
    append_events,
    check_topics_hold_the_log,
    kafka_env,
    kafka_settings,
    list_events,
    projection_rows,
    read_event_topics,
    replayed_rows,
)

ROOT = Path(__file__).resolve().parents[3]
EVENTS = 50_000  # 10,000 contact lists, each created and renamed four times

T = TypeVar("T")


# The audit of applications -----------------------------------------------------------------

AUDIT_TABLE = "fault_test_applied"
PROJECTION_CLASSES = tuple({type(p) for p in all_projections()})


def audited(
    apply: Callable[[Any, Cursor, Event, int], None], pause: float = 0.0
) -> Callable[[Any, Cursor, Event, int], None]:
    def apply_and_record(self: Any, cursor: Cursor, event: Event, position: int) -> None:
        cursor.execute(f"INSERT INTO {AUDIT_TABLE} (projection, position) VALUES (?, ?)", (self.name, position))
        apply(self, cursor, event, position)
        if pause and position % 20 == 0:
            time.sleep(pause)  # inside the transaction, so that a kill often lands in one

    return apply_and_record


def install_audit(pause: float = 0.0) -> None:
    """In a worker subprocess, before the CLI runs: record every application, and slow
    the worker down by ``pause`` seconds every 20 events so that a kill lands mid-stream."""
    for cls in PROJECTION_CLASSES:
        setattr(cls, "apply", audited(cls.apply, pause))  # noqa: B010 (mypy rejects assigning to a method)


@pytest.fixture
def audit() -> Iterator[Callable[[], None]]:
    """In this process: record every application until the returned function is called."""
    with pytest.MonkeyPatch.context() as patch:
        for cls in PROJECTION_CLASSES:
            patch.setattr(cls, "apply", audited(cls.apply))
        yield patch.undo


def create_audit_table(db: Database) -> None:
    with db.transaction() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (projection TEXT NOT NULL, position BIGINT NOT NULL)"
        )


def check_applied_once(views: Database, store: EventStore, names: list[str]) -> None:
    """Each named projection applied every event of the topics it reads exactly once."""
    topic_of: dict[int, str] = {}
    position = 0
    while batch := store.read_stored(position, 5000):
        topic_of.update((n.id, outgoing(n).topic) for n in batch)
        position = batch[-1].id
    with views.transaction() as cursor:
        cursor.execute(f"SELECT projection, position FROM {AUDIT_TABLE}")
        applied = Counter((str(name), int(pos)) for name, pos in cursor.fetchall())
    projections = {p.name: p for p in all_projections()}
    for name in names:
        twice = sorted(pos for (n, pos), count in applied.items() if n == name and count > 1)
        assert not twice, f"{name}: {len(twice)} events applied more than once, first {twice[:5]}"
        expected = {pos for pos, topic in topic_of.items() if topic in projections[name].topics}
        got = {pos for (n, pos) in applied if n == name}
        missing = sorted(expected - got)
        assert not missing, f"{name}: {len(missing)} events never applied, first {missing[:5]}"
        assert got == expected, f"{name}: applied events it does not read"


def check_partitions_applied(views: Database, names: list[str], relayed: dict[tuple[str, int], int]) -> None:
    """Each named projection passed, per partition, the last position the relay published there."""
    projections = ProjectionStore(views, all_projections())
    for name in names:
        topics = projections.projections[name].topics
        wanted = {where: pos for where, pos in relayed.items() if where[0] in topics and pos > 0}
        _, applied = projections.applied_positions(name)
        assert {where: pos for where, pos in applied.items() if pos > 0} == wanted, name


class Peek:
    """Reads progress from an SQLite database without its write lock, which the transactions
    of ``Database`` take: WAL readers never wait, while a poller that needs the lock can starve
    behind workers that hold it nearly all the time (and fail with "database is locked")."""

    def __init__(self, url: str):
        self.conn = sqlite3.connect(sqlite_path(url), isolation_level=None, timeout=30)

    def relay_position(self) -> int:
        row = self.conn.execute("SELECT position FROM relay_progress WHERE name = 'relay'").fetchone()
        return int(row[0]) if row else 0

    def consumed(self, name: str) -> int:
        """Records read so far, over every partition."""
        row = self.conn.execute("SELECT SUM(next_offset) FROM projection_partitions WHERE name = ?", (name,))
        return int(row.fetchone()[0] or 0)

    def applied(self, name: str) -> dict[tuple[str, int], int]:
        """The last log position applied on each partition."""
        rows = self.conn.execute(
            "SELECT topic, partition, position FROM projection_partitions WHERE name = ?", (name,)
        ).fetchall()
        return {(str(t), int(p)): int(pos) for t, p, pos in rows}

    def close(self) -> None:
        self.conn.close()


# Processes ---------------------------------------------------------------------------------


FREEZE_AFTER = "FAULT_TEST_FREEZE_AFTER"
FREEZE_INSIDE = "FAULT_TEST_FREEZE_INSIDE"
FROZEN = re.compile(r"FROZEN \w+ (\S+) (\d+)\.\.(\d+)")
RESUMED = re.compile(r"RESUMED (\S+) (\d+) took effect")


def freeze() -> None:
    """Stop this process (SIGSTOP) until SIGCONT. Directed at this thread, so that it is this
    thread that stops at once: sent to the process, the stop is taken by the main thread and
    reaches this one only a moment later, when it may have gone on into a transaction."""
    signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)
    time.sleep(0.2)  # and stay put until the stop has surely landed


def install_freeze(after: int, inside: bool) -> None:
    """In a worker subprocess: once it has been handed ``after`` records, freeze with the next
    batch in hand, before its transaction or ``inside`` it (holding the partition's lock);
    on SIGCONT apply it, and say how many of its events took effect."""
    original = ProjectionStore.apply_partition
    handed = 0

    def apply_partition(self: ProjectionStore, name: str, topic: str, partition: int, items: Any) -> int:
        nonlocal handed
        handed += len(items)
        if handed < after or handed - len(items) >= after:
            return original(self, name, topic, partition, items)
        where = f"{topic}[{partition}]"
        print(f"FROZEN {'inside' if inside else 'before'} {where} {items[0][0]}..{items[-1][0]}", flush=True)
        if inside:
            db: Any = self.db
            plain = db.transaction

            @contextmanager
            def frozen_at_begin() -> Iterator[Cursor]:
                with plain() as cursor:
                    freeze()
                    yield cursor

            db.transaction = frozen_at_begin
            try:
                effective = original(self, name, topic, partition, items)
            finally:
                del db.transaction
        else:
            freeze()
            effective = original(self, name, topic, partition, items)
        print(f"RESUMED {where} {effective} took effect", flush=True)
        return effective

    ProjectionStore.apply_partition = apply_partition  # type: ignore[method-assign]


WORKER_WITH_AUDIT = (
    "import os, sys\n"
    "from tests.processors.bus.test_kafka_faults import FREEZE_AFTER, FREEZE_INSIDE, install_audit, install_freeze\n"
    "install_audit(pause=0.002)\n"
    "if os.environ.get(FREEZE_AFTER):\n"
    "    install_freeze(int(os.environ[FREEZE_AFTER]), inside=bool(os.environ.get(FREEZE_INSIDE)))\n"
    "from dialstream.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


class Process:
    """A ``dialstream`` subprocess with its output in a file."""

    def __init__(self, argv: list[str], settings: Settings, log: Path, env: dict[str, str] | None = None):
        self.name = " ".join(argv[-2:])
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **kafka_env(settings), "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @classmethod
    def relay(cls, settings: Settings, log: Path) -> Process:
        return cls([sys.executable, "-m", "dialstream.cli", "relay"], settings, log)

    @classmethod
    def worker(cls, settings: Settings, name: str, log: Path, env: dict[str, str] | None = None) -> Process:
        return cls([sys.executable, "-c", WORKER_WITH_AUDIT, "worker", name], settings, log, env)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(30)
        self._out.close()

    def terminate(self) -> int:
        """SIGTERM; the exit code."""
        os.kill(self.pid, signal.SIGTERM)
        try:
            return self.popen.wait(60)
        finally:
            self._out.close()

    def cleanup(self) -> None:
        if self.alive():
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(30)
        self._out.close()


@contextmanager
def processes() -> Iterator[list[Process]]:
    """Every process appended to the list is killed (by its pid) when the block ends."""
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in started:
            process.cleanup()


def wait_for(
    what: str, probe: Callable[[], T | None], timeout: float, pause: float = 0.05, alive: Sequence[Process] = ()
) -> T:
    """Poll until ``probe`` returns something; fail after ``timeout`` or if a process dies."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        for process in alive:
            assert process.alive(), f"{process.name} exited while waiting for {what}:\n{process.output()}"
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(pause)


ASSIGNED = re.compile(r"catalogue: assigned \[(.*)\]")
PARTITION = re.compile(r"topic='([^']+)', partition=(\d+)")


def assignments(output: str, config: KafkaConfig) -> list[set[tuple[str, int]]]:
    """Every assignment a worker logged, in order."""
    return [
        {(config.unprefixed(topic), int(p)) for topic, p in PARTITION.findall(line.group(1))}
        for line in ASSIGNED.finditer(output)
    ]


# Shared steps ------------------------------------------------------------------------------


def kafka_config(settings: Settings) -> KafkaConfig:
    return KafkaConfig.from_bus(settings.bus, settings.topic_prefix)


def fill_store(settings: Settings) -> tuple[EventStore, int]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = EventStore(store_env(settings.database_url))
    head = append_events(store, list_events(uuid.uuid4(), EVENTS // 5, 4))
    assert head == EVENTS
    return store, head


def replay_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/replay.sqlite"


# 1. The relay, killed mid-stream ----------------------------------------------------------


async def kill_when_ahead(relay: Process, config: KafkaConfig, progress: Peek, low: int, high: int) -> None:
    """SIGKILL the relay once it has recorded ``low`` and Kafka holds more than it recorded."""
    partitions = [TopicPartition(config.topic(spec.name), p) for spec in EVENT_TOPICS for p in range(spec.partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=config.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            assert relay.alive(), f"the relay exited:\n{relay.output()}"
            assert time.monotonic() < deadline, "the relay made no progress"
            on_kafka = sum((await consumer.end_offsets(partitions)).values())
            recorded = progress.relay_position()
            assert recorded < high, f"the relay got to {recorded} before a kill could land inside a batch"
            if recorded >= low and on_kafka > recorded:
                relay.kill()
                return
            await asyncio.sleep(0.002)
    finally:
        await consumer.stop()


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_relay_killed_with_sigkill_mid_stream_resumes_without_loss_or_duplicates(
    tmp_path: Path, kafka_broker: Broker, audit: Callable[[], None]
) -> None:
    settings = kafka_settings(tmp_path, kafka_broker.bootstrap)
    config = kafka_config(settings)
    asyncio.run(create_topics(config))
    store, head = fill_store(settings)
    views = connect(settings.views_url)
    progress = RelayProgress(views)
    peek = Peek(settings.views_url)

    low, high = head // 5, head * 4 // 5
    kills: list[tuple[int, int]] = []  # (recorded position, events on Kafka past it) at each kill
    with processes() as started:
        # A kill only tests the restart if it lands after Kafka acknowledged part of a batch and
        # before the relay recorded it; a kill that misses that window is retried (restarting
        # the relay, which is a crash recovery too).
        while not kills or kills[-1][1] == 0:
            assert len(kills) < 5, f"no kill landed inside a batch: {kills}"
            relay = Process.relay(settings, tmp_path / f"relay-{len(kills) + 1}.log")
            started.append(relay)
            asyncio.run(kill_when_ahead(relay, config, peek, low, high))
            killed_at = peek.relay_position()
            assert low <= killed_at < high, f"the kill landed at {killed_at}, not mid-stream ({low}..{high})"
            kills.append((killed_at, sum(1 for r in read_event_topics(config) if r.position > killed_at)))

        last = Process.relay(settings, tmp_path / "relay-last.log")
        started.append(last)
        wait_for("the restarted relay to reach the head", lambda: peek.relay_position() >= head,
                 timeout=120, alive=[last])
        assert last.terminate() == 0, last.output()
        assert f"publishing from log position {kills[-1][0]} " in last.output()
    peek.close()

    records = read_event_topics(config)
    duplicates = check_topics_hold_the_log(store, records)
    assert duplicates == 0, (
        f"{duplicates} events published twice; kills at (recorded position, events on Kafka past it): {kills}"
    )
    assert len(records) == head

    create_audit_table(views)
    runtime = build(settings, relay=False)
    runtime.start()
    try:
        assert runtime.catch_up(120), f"projections did not catch up: {runtime.bus}"
    finally:
        runtime.stop()
    names = [p.name for p in all_projections()]
    check_partitions_applied(views, names, progress.partitions())
    check_applied_once(views, store, names)
    audit()
    assert projection_rows(views) == replayed_rows(store, replay_url(tmp_path))
    views.close()
    store.close()


# 2. A worker, killed mid-stream; its twin takes over --------------------------------------

Partitions = set[tuple[str, int]]
CATALOGUE_READS = frozenset(Catalogue.topics)
CATALOGUE_PARTITIONS = frozenset(
    (spec.name, p) for spec in CATALOGUE if spec.name in CATALOGUE_READS for p in range(spec.partitions)
)


class Twins:
    """Two ``catalogue`` workers (slowed down, audited) sharing a stream of 50,000 events."""

    def __init__(self, tmp_path: Path, broker: Broker, started: list[Process], victim_env: dict[str, str]):
        self.tmp_path = tmp_path
        self.settings = kafka_settings(tmp_path, broker.bootstrap)
        self.config = kafka_config(self.settings)
        asyncio.run(create_topics(self.config))
        self.store, self.head = fill_store(self.settings)
        self.views = connect(self.settings.views_url)
        ProjectionStore(self.views, all_projections())  # the tables, before the workers start
        create_audit_table(self.views)
        self.peek = Peek(self.settings.views_url)
        # The relay records its progress in a database of its own here: the workers, slowed
        # down, hold the read models' database in long transactions and would slow it too.
        self.progress = RelayProgress(connect(f"sqlite:///{tmp_path}/relay.sqlite"))

        self.victim = Process.worker(self.settings, "catalogue", tmp_path / "worker-victim.log", victim_env)
        started.append(self.victim)
        wait_for("the first worker's assignment", lambda: assignments(self.victim.output(), self.config),
                 timeout=60, alive=[self.victim])
        self.twin = Process.worker(self.settings, "catalogue", tmp_path / "worker-twin.log")
        started.append(self.twin)
        self.victims, self.twins = wait_for("both workers to hold partitions", self._shared, timeout=60,
                                            alive=[self.victim, self.twin])
        assert "lists" in {t for t, _ in self.victims} and "lists" in {t for t, _ in self.twins}
        # Only now the events reach Kafka, so both workers share the stream from its start.
        self.relayed = self.relay()
        assert any(self.relayed.get(where, 0) for where in self.victims), "the victim has no events"

    def _shared(self) -> tuple[Partitions, Partitions] | None:
        mine, theirs = assignments(self.victim.output(), self.config), assignments(self.twin.output(), self.config)
        if mine and theirs and mine[-1] and theirs[-1] and not mine[-1] & theirs[-1] \
                and mine[-1] | theirs[-1] == CATALOGUE_PARTITIONS:
            return mine[-1], theirs[-1]
        return None

    def relay(self) -> dict[tuple[str, int], int]:
        asyncio.run(Relay(self.store, self.progress, self.config).run_until(self.store.position()))
        return self.progress.partitions()

    def consumed(self) -> int:
        return self.peek.consumed("catalogue")

    def victims_behind(self) -> Partitions:
        applied = self.peek.applied("catalogue")
        return {where for where in self.victims if applied.get(where, 0) < self.relayed.get(where, 0)}

    def mid_stream(self) -> bool:
        return self.head // 5 <= self.consumed() < self.head * 4 // 5 and bool(self.victims_behind())

    def caught_up(self) -> bool:
        applied = self.peek.applied("catalogue")
        return all(applied.get(where, 0) >= pos for where, pos in self.relayed.items() if where[0] in CATALOGUE_READS)

    def twin_took_everything(self) -> bool:
        return CATALOGUE_PARTITIONS in assignments(self.twin.output(), self.config)

    def check(self) -> None:
        self.peek.close()
        check_partitions_applied(self.views, ["catalogue"], self.relayed)
        check_applied_once(self.views, self.store, ["catalogue"])
        replayed = replayed_rows(self.store, replay_url(self.tmp_path))["catalogue"]
        assert projection_rows(self.views)["catalogue"] == replayed
        self.views.close()
        self.store.close()


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_worker_killed_mid_stream_its_twin_takes_over(tmp_path: Path, kafka_broker: Broker) -> None:
    with processes() as started:
        twins = Twins(tmp_path, kafka_broker, started, {})
        wait_for("the workers to be a fifth through the stream", twins.mid_stream, timeout=60, pause=0.005,
                 alive=[twins.victim, twins.twin])
        twins.victim.kill()
        consumed = twins.consumed()
        assert twins.head // 5 <= consumed < twins.head * 4 // 5, f"the kill landed after {consumed} records"
        assert twins.victims_behind(), "the victim had applied all its partitions when killed"

        wait_for("the twin to apply the victim's partitions", twins.caught_up, timeout=60, alive=[twins.twin])
        assert twins.twin_took_everything(), twins.twin.output()[-3000:]
        assert twins.twin.terminate() == 0, twins.twin.output()[-3000:]
    twins.check()


# 2b. A worker frozen past its session timeout comes back as a zombie ----------------------


def process_state(pid: int) -> str:
    """R, S, T (stopped)...: the third field of /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


@pytest.mark.integration
@pytest.mark.timeout(300)
@pytest.mark.parametrize("inside", [False, True], ids=["before-its-transaction", "inside-its-transaction"])
def test_worker_frozen_past_its_session_comes_back_without_applying_twice(
    tmp_path: Path, kafka_broker: Broker, inside: bool
) -> None:
    # The victim stops itself (SIGSTOP) with a batch in hand, past its session timeout: a zombie.
    # Frozen before its transaction, it leaves its partitions to the twin, which applies them;
    # on SIGCONT it applies the batch it fetched before the freeze, which must change nothing.
    # Frozen inside its transaction, it holds the partition's lock (on SQLite, the database's):
    # nobody can apply anything until it resumes and commits, and then the twin must skip
    # what it committed.
    env = {FREEZE_AFTER: str(EVENTS // 10), **({FREEZE_INSIDE: "1"} if inside else {})}
    with processes() as started:
        twins = Twins(tmp_path, kafka_broker, started, env)
        wait_for("the victim to freeze", lambda: process_state(twins.victim.pid) == "T", timeout=60,
                 pause=0.01, alive=[twins.victim, twins.twin])
        frozen = FROZEN.search(twins.victim.output())
        assert frozen, twins.victim.output()[-3000:]
        assert twins.consumed() < twins.head * 4 // 5, "the freeze came too late"

        if inside:
            time.sleep(12)  # past the session timeout (10 s)
            assert twins.victims_behind() and not twins.caught_up()
        else:
            wait_for("the twin to apply every partition", twins.caught_up, timeout=90, alive=[twins.twin])
            assert twins.twin_took_everything(), twins.twin.output()[-3000:]
        os.kill(twins.victim.pid, signal.SIGCONT)
        resumed = wait_for("the zombie to apply its stale batch", lambda: RESUMED.search(twins.victim.output()),
                           timeout=60, alive=[twins.victim])
        assert resumed.group(1) == frozen.group(1), resumed.group(0)
        batch = int(frozen.group(3)) - int(frozen.group(2)) + 1
        assert int(resumed.group(2)) == (batch if inside else 0), (resumed.group(0), frozen.group(0))

        # The zombie rejoins the group; the stream goes on, shared again.
        wait_for("the zombie to rejoin", lambda: len(assignments(twins.victim.output(), twins.config)) >= 3,
                 timeout=60, alive=[twins.victim, twins.twin])
        append_events(twins.store, list_events(uuid.uuid4(), 1000, 4))
        twins.relayed = twins.relay()
        wait_for("both workers to apply every event", twins.caught_up, timeout=90,
                 alive=[twins.victim, twins.twin])
        assert twins.victim.terminate() == 0, twins.victim.output()[-3000:]
        assert twins.twin.terminate() == 0, twins.twin.output()[-3000:]
    twins.check()


# 3. The broker, restarted while events flow -----------------------------------------------


class Appender(threading.Thread):
    """Appends 100 events every 50 ms until stopped."""

    def __init__(self, store: EventStore):
        super().__init__(name="appender", daemon=True)
        self.store = store
        self.account_id = uuid.uuid4()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                append_events(self.store, list_events(self.account_id, 20, 4))
                self.stopping.wait(0.05)
        except BaseException as error:
            self.error = error

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_broker_restarted_while_events_flow(tmp_path: Path, audit: Callable[[], None]) -> None:
    with kafka.running() as broker:
        settings = kafka_settings(tmp_path, broker.bootstrap)
        config = kafka_config(settings)
        runtime = build(settings)
        create_audit_table(runtime.views)
        runtime.start()
        appender = Appender(runtime.store)
        try:
            appender.start()
            # A fresh broker elects the leaders of nine topics' partitions and the consumer
            # groups' coordinator first: 20-60 s on this shared machine before events flow.
            wait_for("events to flow", lambda: runtime.bus.caught_up_to() > 2000, timeout=150)
            broker.stop()
            down_from = runtime.store.position()
            time.sleep(4)
            assert runtime.store.position() > down_from + 1000, "appends stalled while the broker was down"
            broker.start()
            back_from = runtime.store.position()
            # The relay publishes again while appends go on. (The projections are not asked to
            # pass the flow here: on a loaded machine they may apply less than the 2,000 events a
            # second appended; they catch up once it stops.)
            wait_for("the relay to publish again", lambda: runtime.bus.progress.snapshot()[0] > back_from, timeout=90)
            time.sleep(1)
            appender.stop()
            assert runtime.catch_up(120), f"did not catch up after the broker restart: {getattr(runtime.bus, 'error', None)}"
            head = runtime.store.position()
        finally:
            appender.stopping.set()
            runtime.stop()

        records = read_event_topics(config)

    store = EventStore(store_env(settings.database_url))
    views = connect(settings.views_url)
    duplicates = check_topics_hold_the_log(store, records)
    assert duplicates == 0, f"{duplicates} of {head} events published twice"
    names = [p.name for p in all_projections()]
    check_partitions_applied(views, names, RelayProgress(views).partitions())
    check_applied_once(views, store, names)
    audit()
    assert projection_rows(views) == replayed_rows(store, replay_url(tmp_path))
    views.close()
    store.close()
