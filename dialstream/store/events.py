"""The event store: the eventsourcing library's application and recorders, msgspec inside.

Events are stored with the topic ``"<tag>/v<schema_version>"`` and a msgspec JSON body,
so a stored event is readable by anyone with the published schemas and is decoded
without reflection. The notification log (the store's total order) is what the bus,
the projections and, in production, the Kafka relay follow.

The recorders are the library's *process* recorders (a tracking table beside the events):
a processor handles a batch inside :meth:`EventStore.unit_of_work`, where the appends of the
command handlers it calls are collected and stored with its tracking position in one insert,
so a batch is either done with its position recorded or not done at all (exactly-once effect).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    IntegrityError,
    Mapper,
    Notification,
    OperationalError,
    ProcessRecorder,
    StoredEvent,
    Tracking,
    Transcoder,
)
from eventsourcing.sqlite import SQLiteConnection, SQLiteCursor, SQLiteFactory, SQLiteProcessRecorder

from dialstream.store import sqlite_wal
from dialstream.store.sqlite_wal import sqlite_path
from dialstream.store.synced import SyncedStates
from schemas import registry
from schemas.base import Event

S = TypeVar("S")
# Aggregates whose loaded state the store keeps (the oldest quarter goes when it is full):
# every agent, group and record a busy dialer or processor works on at once, a few MB.
STATES_KEPT = 20_000
FOLLOW_GAP_S = 0.02  # see FollowPace
FEW_IDS = 50  # see BatchSQLiteProcessRecorder._select_by_ids


class ConcurrencyConflict(Exception):
    """Another command changed one of the same aggregates first."""


@dataclass(frozen=True)
class TrackedBatch(Tracking):
    """A processor's batch: the position it brings the processor to (``notification_id``) and
    the one it started after. Recorded only if the stored position is not past ``after``: a
    batch that overlaps one another worker recorded meanwhile (a rebalance, a zombie) fails
    instead of storing the overlap's effects twice."""

    after: int = 0


class MsgspecTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        return registry.encode(obj)

    def decode(self, data: bytes) -> Any:
        return registry.decode_any(data)


_TOPICS: dict[type[Event], str] = {}


def stored_topic(event: Event) -> str:
    cls = type(event)
    topic = _TOPICS.get(cls)
    if topic is None:
        topic = _TOPICS[cls] = f"{cls.tag()}/v{cls.SCHEMA_VERSION}"
    return topic


def stored_topic_of(cls: type[Event]) -> str:
    """The stored topic of an event class (``"<tag>/v<schema version>"``)."""
    return f"{cls.tag()}/v{cls.SCHEMA_VERSION}"


def split_topic(topic: str) -> tuple[str, int]:
    tag, _, version = topic.rpartition("/v")
    return tag, int(version)


def decode_stored(topic: str, state: bytes) -> Event:
    """The event of a stored topic and its plain JSON."""
    tag, version = split_topic(topic)
    return registry.decode(tag, version, state)


class MsgspecMapper(Mapper[UUID]):
    """Stores whole msgspec structs; the library's default mapper expects ``__dict__``."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = registry.encode(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=stored_topic(domain_event),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.decode(stored_event.topic, stored_event.state)

    def decode(self, topic: str, state: bytes) -> Any:
        return decode_stored(topic, self.plain(state))

    def plain(self, state: bytes) -> bytes:
        """The event's JSON, decrypted and decompressed as the store is configured."""
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state


class LogEntry:
    """One event of the log as stored (its topic and JSON), decoded only when asked.

    What the embedded bus hands its subscribers: a projection that reads an event's JSON
    directly (the records of an import) or skips its type never pays for decoding
    it, and the subscribers that do want the event share one decoding.
    """

    __slots__ = ("_event", "position", "state", "topic")

    def __init__(self, position: int, topic: str, state: bytes | None, event: Event | None = None):
        self.position = position
        self.topic = topic
        self.state = state  # the event's JSON; None when the entry was made from an event
        self._event = event

    @classmethod
    def of(cls, position: int, event: Event) -> LogEntry:
        return cls(position, stored_topic(event), None, event)

    @property
    def event(self) -> Event:
        if self._event is None:
            assert self.state is not None
            self._event = decode_stored(self.topic, self.state)
        return self._event

    @property
    def event_type(self) -> type[Event] | None:
        """The class of the event, from its stored topic (None for a type this build lacks)."""
        if self._event is not None:
            return type(self._event)
        return registry.BY_TAG.get(split_topic(self.topic)[0])


CACHE_KIB = -65536  # negative: KiB, i.e. up to 64 MiB of page cache per connection


class BatchSQLiteProcessRecorder(SQLiteProcessRecorder):
    """Inserts a batch with one ``executemany`` instead of one statement per event, and a
    processor's tracking record (``tracking=``) in the same transaction.

    Notification ids are the table's rowids; inside the write transaction nobody else
    can insert, so the batch takes consecutive ids that end at the last one inserted.
    """

    # Reads on a connection of the asking thread's own (``_follower_connection``) once the
    # tables exist: before that, a plain connection would create the file with SQLite's
    # default page size rather than the pool's.
    _tables_created = False

    def create_table(self) -> None:
        super().create_table()
        self._tables_created = True

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Every write of this process goes through one connection of its own, under a lock.

        The library's pool hands a writer its connection through reader-writer interlocking,
        and the connection then needs its page cache set again: on the dialer's thread that
        was a fifth of a step's commit (70 µs to get the connection, another SQLite call for
        the cache). Other processes' writers wait on SQLite's lock as before."""
        if self.datastore.pool.is_sqlite_memory_mode or not self._tables_created:
            return super().insert_events(stored_events, **kwargs)
        with self.__dict__.setdefault("_writer_lock", threading.Lock()):
            connection = self._writer()
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN")
                positions = self._insert_events(SQLiteCursor(cursor), stored_events, **kwargs)
                connection.commit()
                return positions
            except sqlite3.IntegrityError as error:
                raise IntegrityError(error) from error
            except sqlite3.OperationalError as error:
                raise OperationalError(error) from error
            finally:
                if connection.in_transaction:
                    connection.rollback()
                cursor.close()

    def _writer(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = self.__dict__.get("_writer_connection")
        if connection is None:
            connection = sqlite3.connect(
                self.datastore.pool.db_name, isolation_level=None, check_same_thread=False, timeout=30
            )
            sqlite_wal.configure(connection)
            # The (originator id, version) index takes random inserts; SQLite's default 2 MB
            # page cache would thrash on it once a store holds millions of events.
            connection.execute(f"PRAGMA cache_size = {CACHE_KIB}")
            self.__dict__["_writer_connection"] = connection
        return connection

    def close_writer(self) -> None:
        connection = self.__dict__.pop("_writer_connection", None)
        if connection is not None:
            connection.close()

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is not None:
            # First: a position recorded already fails the transaction before any event is written.
            self._insert_tracking(c, tracking)
        if not stored_events:
            return []
        # The insert comes before any read: a deferred transaction that read first cannot take
        # the write lock once another connection has committed since ("database is locked" at
        # once, without waiting), which a processor's frequent small commits made likely.
        c.executemany(
            self.insert_events_statement,
            [
                (
                    s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                    s.originator_version,
                    s.topic,
                    s.state,
                )
                for s in stored_events
            ],
        )
        c.execute("SELECT last_insert_rowid()")
        last = int(c.fetchone()[0])
        return list(range(last - len(stored_events) + 1, last + 1))

    def select_log(
        self, after: int, limit: int, upto: int | None = None, topics: Sequence[str] = ()
    ) -> list[tuple[int, str, bytes]]:
        """(position, topic, state) of the events after ``after``, in log order.

        What a reader of the log decodes, without the library's notification objects
        (each with its originator id parsed into a UUID): a third of the bus's cost of
        reading an event. ``topics`` keeps only events of those stored topics.
        """
        statement = f"SELECT rowid, topic, state FROM {self.events_table_name} WHERE rowid > ? "
        params: list[int | str] = [after]
        if upto is not None:
            statement += "AND rowid <= ? "
            params.append(upto)
        if topics:
            statement += f"AND topic IN ({','.join('?' * len(topics))}) "
            params.extend(topics)
        statement += "ORDER BY rowid LIMIT ?"
        params.append(limit)
        if not self.datastore.pool.is_sqlite_memory_mode:
            # A reader of the log (the bus, a follower) reads every page once: on a connection
            # of its own (SQLite's default 2 MiB cache), not a pooled one that an import's
            # writes grew to 64 MiB, which its reads would fill and keep (the bus filled
            # three of them at the end of a 1M-row import: 200 MB).
            rows = self._follower_connection().execute(statement, params).fetchall()
            return [(row[0], row[1], row[2]) for row in rows]
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [(row[0], row[1], row[2]) for row in c.fetchall()]

    def max_notification_id(self) -> int:
        """The head of the log. Followers ask on every append they are woken by; the library's
        pooled transaction for it contends with the writers, a plain read of the rowid index
        on the asking thread's own connection does not."""
        if self.datastore.pool.is_sqlite_memory_mode or not self._tables_created:
            return super().max_notification_id()
        row = self._follower_connection().execute(f"SELECT max(rowid) FROM {self.events_table_name}").fetchone()
        return row[0]  # None for an empty log, as the library's

    def select_versions_after(self, after: int, limit: int) -> list[tuple[int, str, int]]:
        """(position, originator id as stored, version) of the events after ``after``: which
        aggregates the log's tail changed (:mod:`dialstream.store.synced`)."""
        statement = (
            f"SELECT rowid, originator_id, originator_version FROM {self.events_table_name} "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?"
        )
        return self._own_read(statement, (after, limit))

    def max_tracking_id(self, application_name: str) -> int | None:
        """A processor's recorded position, asked on every wake: read like the head (above)."""
        if self.datastore.pool.is_sqlite_memory_mode or not self._tables_created:
            return super().max_tracking_id(application_name)
        statement = self.select_max_tracking_id_statement
        row = self._follower_connection().execute(statement, (application_name,)).fetchone()
        return row[0]

    def select_stream_after(self, originator_id: UUID, version: int | None) -> list[tuple[int, str, bytes]]:
        """(version, topic, state) of an aggregate's events after ``version`` (all: None).

        What a load reads when it keeps the state it built (``EventStore._stored_state``):
        usually nothing or a few events, asked at every step of a dialer, on the asking
        thread's own connection rather than through the library's pooled transaction."""
        statement = (
            f"SELECT originator_version, topic, state FROM {self.events_table_name} "
            "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version"
        )
        return self._own_read(statement, (originator_id.hex, -1 if version is None else version))

    def _own_read(self, statement: str, params: Sequence[Any]) -> list[Any]:
        """The rows of a small read, on the asking thread's own connection once the tables
        exist (before that, through the pool: see ``_tables_created``)."""
        if self.datastore.pool.is_sqlite_memory_mode or not self._tables_created:
            with self.datastore.transaction(commit=False) as c:
                c.execute(statement, params)
                return [tuple(row) for row in c.fetchall()]
        return self._follower_connection().execute(statement, params).fetchall()

    def select_outbox(self, after: int, limit: int) -> list[tuple[int, str, int, str, bytes]]:
        """(position, originator id as stored, originator version, topic, state) after
        ``after``, in log order.

        What the Kafka relay publishes, as plain tuples: the library's notification objects
        (a frozen dataclass per event, its originator id parsed into a UUID) cost it nine
        tenths of its reading. The id comes as stored (32 hex digits); the relay spells the
        record's key from it (``processors.bus.wire.kafka_key``).
        """
        statement = (
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?"
        )
        if self.datastore.pool.is_sqlite_memory_mode:
            with self.datastore.transaction(commit=False) as c:
                c.execute(statement, (after, limit))
                return [tuple(row) for row in c.fetchall()]
        return self._follower_connection().execute(statement, (after, limit)).fetchall()

    def _follower_connection(self) -> sqlite3.Connection:
        """This thread's own connection to the store (``sqlite_wal.ThreadConnections``: closed
        once the thread has ended; a server polled by health probes through an import held
        870 of them before)."""
        connections: sqlite_wal.ThreadConnections | None = self.__dict__.get("_followers")
        if connections is None:
            connections = self.__dict__.setdefault("_followers", sqlite_wal.ThreadConnections(self.datastore.pool.db_name))
        return connections.get()

    def _insert_tracking(self, c: SQLiteCursor, tracking: Tracking) -> None:
        if not isinstance(tracking, TrackedBatch):
            super()._insert_tracking(c, tracking)
            return
        c.execute(
            "INSERT INTO tracking VALUES (:name, :position) ON CONFLICT (application_name) DO UPDATE "
            "SET notification_id = :position "
            "WHERE tracking.notification_id < :position AND tracking.notification_id <= :after "
            "RETURNING notification_id",
            {"name": tracking.application_name, "position": tracking.notification_id, "after": tracking.after},
        )
        if c.fetchone() is None:
            raise IntegrityError(f"{tracking.application_name} is past {tracking.after} already")

    def select_tracking(self, prefix: str) -> dict[str, int]:
        """Every tracking position recorded under a name that starts with ``prefix``."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT application_name, notification_id FROM tracking WHERE substr(application_name, 1, ?) = ?",
                (len(prefix), prefix),
            )
            return {row[0]: row[1] for row in c.fetchall()}

    def select_heads(self, originator_ids: Sequence[UUID]) -> dict[UUID, tuple[int, str]]:
        # SQLite returns the bare column (topic) from the row that holds the MAX.
        rows = self._select_by_ids(
            f"SELECT originator_id, MAX(originator_version) AS version, topic FROM {self.events_table_name} "
            "WHERE originator_id IN ({ids}) GROUP BY originator_id",
            originator_ids,
        )
        return {UUID(row[0]): (row[1], row[2]) for row in rows}


    def select_streams(self, originator_ids: Sequence[UUID]) -> list[tuple[UUID, str, bytes]]:
        """(originator id, topic, state) of every event of these aggregates, each aggregate's
        in version order: many small aggregates read in one statement per 500."""
        rows = self._select_by_ids(
            f"SELECT originator_id, topic, state FROM {self.events_table_name} WHERE originator_id IN ({{ids}}) "
            "ORDER BY originator_id, originator_version",
            originator_ids,
        )
        return [(UUID(row[0]), row[1], row[2]) for row in rows]

    def _select_by_ids(self, statement: str, originator_ids: Sequence[UUID]) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` for these ids, one statement per 500 (``{ids}``: their
        placeholders). A few ids (a dialer's step) are read on the thread's own connection,
        like the log; many (an import's batch) through the pool, whose page cache an import
        grew to fit its index."""
        found: list[tuple[Any, ...]] = []
        if len(originator_ids) <= FEW_IDS and self._tables_created and not self.datastore.pool.is_sqlite_memory_mode:
            connection = self._follower_connection()
            for chunk in _chunks(originator_ids, 500):
                sql = statement.format(ids=",".join("?" * len(chunk)))
                found += connection.execute(sql, [i.hex for i in chunk]).fetchall()
            return found
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(originator_ids, 500):
                c.execute(statement.format(ids=",".join("?" * len(chunk))), [i.hex for i in chunk])
                found += [tuple(row) for row in c.fetchall()]
        return found

    def select_positioned(self, originator_ids: Sequence[UUID]) -> list[tuple[int, str, bytes]]:
        """(log position, topic, state) of every event of these aggregates, in log order."""
        found: list[tuple[int, str, bytes]] = []
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(originator_ids, 500):
                c.execute(
                    f"SELECT rowid, topic, state FROM {self.events_table_name} WHERE originator_id IN "
                    f"({','.join('?' * len(chunk))})",
                    [i.hex for i in chunk],
                )
                found += [(int(row[0]), row[1], row[2]) for row in c.fetchall()]
        return sorted(found)


def _chunks(items: Sequence[UUID], size: int) -> Iterable[Sequence[UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class WalSQLiteFactory(SQLiteFactory):
    """The library's SQLite factory, with Dialstream's WAL settings on every connection.

    ``synchronous=NORMAL`` (a commit survives the process being killed, which the import
    kill test relies on; FULL costs a bulk import a third of its time) and checkpoints
    left to :class:`projections.sqlite_wal.WalCheckpointer`; a new file gets Dialstream's page
    size. Production runs on PostgreSQL.
    """

    def __init__(self, env: Any):
        super().__init__(env)
        pool = self.datastore.pool
        create = pool._create_connection

        def create_normal() -> SQLiteConnection:
            sqlite_wal.create(pool.db_name)
            connection = create()
            sqlite_wal.configure(connection._sqlite_conn)
            return connection

        pool._create_connection = create_normal  # type: ignore[method-assign]


@dataclass
class UnitOfWork:
    """What one processor's batch appends, stored with its tracking position at the end (or
    without one: :meth:`EventStore.batch`)."""

    tracking: Tracking | None
    stored: list[StoredEvent] = field(default_factory=list)
    pending: dict[UUID, list[Event]] = field(default_factory=dict)  # loads inside see these
    position: int = 0  # the last log position once committed
    synced: bool = False  # a batch read the log's tail (dialstream.store.synced)

    @property
    def events(self) -> int:
        return len(self.stored)


# Context-local: only the appends of the thread (or task) handling the batch join it; the
# gateway's appends on other threads go straight to the store meanwhile.
_UNIT: ContextVar[UnitOfWork | None] = ContextVar("dialstream_unit_of_work", default=None)


class EventStore(Application[UUID]):
    """Dialstream's one event-sourced application: every aggregate lives here."""

    name = "dialstream"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._appended = threading.Lock()
        self._waiters: list[tuple[Collection[str] | None, threading.Event]] = []
        self._appends = 0
        self._woken = 0  # the append count at the last wake-up not naming its topics
        self._last_append_of: dict[str, int] = {}  # stored topic: the append count of its last append
        # Loaded aggregates (dialstream.store.synced); units of work trust them without a query
        # only on SQLite, whose positions come in commit order.
        tail = self.recorder if isinstance(self.recorder, BatchSQLiteProcessRecorder) else None
        self._kept = SyncedStates(tail, STATES_KEPT)
        self._trusted = tail is not None

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=MsgspecTranscoder(), mapper_class=MsgspecMapper)

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def close(self) -> None:
        super().close()
        if isinstance(self.recorder, BatchSQLiteProcessRecorder):
            self.recorder.close_writer()

    # Processing with exactly-once effect -----------------------------------------------

    @contextmanager
    def unit_of_work(
        self, application_name: str, position: int, *, after: int | None = None
    ) -> Iterator[UnitOfWork]:
        """Handle what a processor read up to ``position`` (after ``after``, when given): every
        append made inside (by the command handlers it calls, on this thread) is collected, and
        stored at the end with the tracking record ``(application_name, position)`` in one
        transaction.

        Raises :class:`ConcurrencyConflict` at the end, storing nothing, when an aggregate
        changed meanwhile, or ``position`` is not past the recorded one, or the recorded one is
        past ``after`` (all or part of the batch was handled already);
        :func:`dialstream.store.retry_on_conflict` tells these apart. An exception inside
        stores nothing either.
        """
        if _UNIT.get() is not None:
            raise RuntimeError("units of work do not nest")
        tracking = (
            Tracking(application_name=application_name, notification_id=position)
            if after is None
            else TrackedBatch(application_name=application_name, notification_id=position, after=after)
        )
        unit = UnitOfWork(tracking)
        token = _UNIT.set(unit)
        try:
            yield unit
        finally:
            _UNIT.reset(token)
        try:
            positions = self.recorder.insert_events(unit.stored, tracking=unit.tracking)
        except IntegrityError as error:
            self._conflicted(unit)
            raise ConcurrencyConflict(str(error)) from error
        self._kept.stored(unit.pending)
        if unit.stored:
            self.wake({stored.topic for stored in unit.stored})
            unit.position = max(positions) if positions else self.position()

    @contextmanager
    def batch(self) -> Iterator[UnitOfWork]:
        """Every append made inside (on this thread) stored in one transaction at the end: a
        worker that makes many small decisions at once (the dialer's step) pays for one write.

        Loads inside see the batch's own appends. Raises :class:`ConcurrencyConflict` at the end,
        storing nothing, when an aggregate changed meanwhile; an exception inside stores nothing.
        """
        if _UNIT.get() is not None:
            raise RuntimeError("units of work do not nest")
        unit = UnitOfWork(None)
        token = _UNIT.set(unit)
        try:
            yield unit
        finally:
            _UNIT.reset(token)
        if not unit.stored:
            return
        try:
            positions = self.recorder.insert_events(unit.stored)
        except IntegrityError as error:
            self._conflicted(unit)
            raise ConcurrencyConflict(str(error)) from error
        self._kept.stored(unit.pending)
        self.wake({stored.topic for stored in unit.stored})
        unit.position = max(positions) if positions else self.position()

    def _conflicted(self, unit: UnitOfWork) -> None:
        self._kept.forget(unit.pending)

    def _changed(self, stored: Sequence[StoredEvent]) -> None:
        """What this process stored outside a unit of work: the kept states it makes older."""
        self._kept.changed(
            (s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id, s.originator_version)
            for s in stored
        )

    def tracked(self, application_name: str) -> int | None:
        """The last position recorded for ``application_name`` (None if none yet)."""
        return cast(ProcessRecorder, self.recorder).max_tracking_id(application_name)

    def tracked_under(self, prefix: str) -> dict[str, int]:
        """The positions of every tracking name starting with ``prefix`` (a processor's
        partitions on Kafka: ``"<processor>@<topic>/<partition>"``)."""
        found: dict[str, int] = cast(Any, self.recorder).select_tracking(prefix)
        return found

    # Writing -------------------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> int:
        """Store the events of one decision atomically; return the last log position.

        Goes to the recorder directly: the library's ``save`` checks every object against
        a runtime protocol (slow on 3.11) to serve aggregate caching and snapshots, and
        this application uses neither.
        """
        return self.append_stored([], events)

    def append_stored(self, encoded: Sequence[StoredEvent], events: Sequence[Event] = ()) -> int:
        """Like :meth:`append`, with some events already in their stored form.

        A bulk writer (an import drafting rows in worker processes) encodes events where
        the CPU is free; they are stored byte for byte, in one transaction with ``events``.
        """
        unit = _UNIT.get()
        if not encoded and not events:
            return 0 if unit is not None else self.position()
        if encoded and (self.mapper.compressor or self.mapper.cipher):
            raise ValueError("pre-encoded events cannot be stored with compression or encryption on")
        stored = [*encoded, *(self.mapper.to_stored_event(event) for event in events)]
        if unit is not None:
            if encoded:
                raise ValueError("pre-encoded events are not collected in a unit of work")
            unit.stored += stored
            for event in events:
                unit.pending.setdefault(event.originator_id, []).append(event)
            return 0  # stored (and given positions) when the unit of work ends
        try:
            positions = self.recorder.insert_events(stored)
        except IntegrityError as error:
            raise ConcurrencyConflict(str(error)) from error
        self._changed(stored)
        self.wake({each.topic for each in stored})
        return max(positions) if positions else self.position()

    # Reading -------------------------------------------------------------------------

    def heads(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, tuple[int, str]]:
        """The last version and stored topic of each of these aggregates that exists.

        What a bulk decision (an import batch of thousands of chains) needs to know
        without loading each aggregate: whether it exists, is deleted, and its version.
        """
        if not aggregate_ids:
            return {}
        heads: dict[UUID, tuple[int, str]] = cast(Any, self.recorder).select_heads(aggregate_ids)
        unit = _UNIT.get()
        if unit is not None:
            for aggregate_id in aggregate_ids:
                if pending := unit.pending.get(aggregate_id):
                    heads[aggregate_id] = (pending[-1].originator_version, stored_topic(pending[-1]))
        return heads

    def load(self, aggregate_id: UUID, project: Callable[[S | None, Iterable[Any]], S | None]) -> S | None:
        unit = _UNIT.get()
        if unit is not None and self._trusted and _immutable(project):
            # In a unit of work: the log's tail read, not each aggregate's (dialstream.store.synced).
            self._sync(unit)
            state = cast(S | None, self._kept.load(aggregate_id, project, self._events_after))
        else:
            state = self._stored_state(aggregate_id, project)
        if unit is not None and (pending := unit.pending.get(aggregate_id)):
            # Inside a unit of work a handler sees what it decided earlier in the same batch.
            return project(state, pending)
        return state

    def _stored_state(self, aggregate_id: UUID, project: Callable[[S | None, Iterable[Any]], S | None]) -> S | None:
        """The aggregate as stored. A projector of immutable states (``domain.aggregate.projector``)
        keeps the state it built, and the next load reads only the events stored after it: an
        agent's stream grows by a few events a call, and the dialer loads it at every step of
        every call. Stored events never change, so the state plus the newer events is the state."""
        if not _immutable(project):
            try:
                return cast(S | None, self.repository.get(aggregate_id, projector_func=cast(Any, project)))
            except AggregateNotFoundError:
                return None
        return cast(S | None, self._kept.load(aggregate_id, project, self._events_after, verify=True))

    def _events_after(self, aggregate_id: UUID, version: int | None) -> list[Any]:
        if isinstance(self.recorder, BatchSQLiteProcessRecorder):
            decode = cast(MsgspecMapper, self.mapper).decode
            return [decode(topic, state) for _, topic, state in self.recorder.select_stream_after(aggregate_id, version)]
        return list(self.events.get(aggregate_id, gt=version))

    def load_many(
        self, aggregate_ids: Sequence[UUID], project: Callable[[S | None, Iterable[Any]], S | None]
    ) -> dict[UUID, S]:
        """:meth:`load` of many aggregates of one kind, read in one statement per 500 (a
        processor's batch: one round trip instead of one per aggregate); those that do not
        exist are left out."""
        unit = _UNIT.get()
        ids = list(set(aggregate_ids))
        kept: dict[UUID, Any] = {}
        synced = self._kept if unit is not None and self._trusted and len(ids) <= FEW_IDS and _immutable(project) else None
        if synced is not None:  # a unit's few aggregates (a dialer's draw): kept ones from memory
            assert unit is not None
            self._sync(unit)
            kept, tail = synced.kept_fresh(ids, project)
            ids = [aggregate_id for aggregate_id in ids if aggregate_id not in kept]
        streams: dict[UUID, list[Any]] = {}
        mapper = cast(MsgspecMapper, self.mapper)
        for originator_id, topic, state in cast(Any, self.recorder).select_streams(ids) if ids else ():
            streams.setdefault(originator_id, []).append(mapper.decode(topic, state))
        if synced is not None:
            read = {i: (events[-1].originator_version, project(None, events)) for i, events in streams.items()}
            synced.keep_loaded({i: read.get(i, (0, None)) for i in ids}, project, tail)
            kept.update((i, state) for i, (_, state) in read.items())
        loaded: dict[UUID, S] = {}
        for aggregate_id in aggregate_ids:
            if aggregate_id in loaded:
                continue
            pending = unit.pending.get(aggregate_id) if unit is not None else None
            if synced is not None:
                state = kept.get(aggregate_id)
                if pending:
                    state = project(state, pending)
            else:
                events = streams.get(aggregate_id, [])
                if pending:
                    events = [*events, *pending]
                state = project(None, events) if events else None
            if state is not None:
                loaded[aggregate_id] = state
        return loaded

    def _sync(self, unit: UnitOfWork) -> None:
        """A unit of work reads the log's tail once (dialstream.store.synced)."""
        if self._trusted and not unit.synced:
            self._kept.sync()
            unit.synced = True

    def read_streams(self, aggregate_ids: Sequence[UUID]) -> list[tuple[int, Event]]:
        """Every event of these aggregates with its log position, in log order (an audit
        trail that names where each event is in the log)."""
        mapper = cast(MsgspecMapper, self.mapper)
        rows = cast(Any, self.recorder).select_positioned(list(set(aggregate_ids)))
        return [(position, mapper.decode(topic, state)) for position, topic, state in rows]

    def position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def read(self, after: int, limit: int = 500, upto: int | None = None) -> list[tuple[int, Event]]:
        return self.read_topics((), after, limit, upto)

    def read_log(self, after: int, limit: int = 500, upto: int | None = None) -> list[LogEntry]:
        """The log after ``after`` (up to ``upto``) as stored, each event decoded when asked."""
        mapper = cast(MsgspecMapper, self.mapper)
        plain = mapper.plain if mapper.cipher or mapper.compressor else None
        if isinstance(self.recorder, BatchSQLiteProcessRecorder):
            rows = self.recorder.select_log(after, limit, upto)
        else:
            notifications = self.recorder.select_notifications(
                start=after, limit=limit, stop=upto, inclusive_of_start=False
            )
            rows = [(n.id, n.topic, n.state) for n in notifications]
        if plain is None:
            return [LogEntry(position, topic, state) for position, topic, state in rows]
        return [LogEntry(position, topic, plain(state)) for position, topic, state in rows]

    def read_topics(
        self, topics: Sequence[str], after: int, limit: int = 500, upto: int | None = None
    ) -> list[tuple[int, Event]]:
        """The events after ``after`` (up to ``upto``), in log order; with ``topics``, only
        events of those stored topics, filtered in the store before anything is decoded."""
        mapper = cast(MsgspecMapper, self.mapper)
        if isinstance(self.recorder, BatchSQLiteProcessRecorder):
            log = self.recorder.select_log(after, limit, upto, topics)
            return [(position, cast(Event, mapper.decode(topic, state))) for position, topic, state in log]
        notifications: Sequence[Notification] = self.recorder.select_notifications(
            start=after, limit=limit, stop=upto, topics=topics, inclusive_of_start=False
        )
        return [(n.id, cast(Event, mapper.decode(n.topic, n.state))) for n in notifications]

    def follow_topics(
        self, topics: Sequence[str], after: int, upto: int, batch: int = 500
    ) -> Iterator[tuple[list[Event], int]]:
        """Batches of these stored topics' events after ``after`` up to ``upto``, each with the
        position it brings a follower to (``upto`` once nothing more is there)."""
        position = after
        while position < upto:
            found = self.read_topics(topics, after=position, limit=batch, upto=upto)
            position = found[-1][0] if len(found) == batch else upto
            yield [event for _, event in found], position

    def read_stored(self, after: int, limit: int = 500) -> Sequence[Notification]:
        """The stored form of the events after ``after``: what the relay publishes as is."""
        return self.recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False)

    def read_outbox(self, after: int, limit: int = 500) -> list[tuple[int, str, int, str, bytes]]:
        """What :meth:`read_stored` reads, as plain tuples: (position, originator id as the
        store holds it — hex digits in SQLite, ``str(UUID)`` otherwise; ``wire.kafka_key``
        spells either as the key —, originator version, topic, state)."""
        if isinstance(self.recorder, BatchSQLiteProcessRecorder):
            return self.recorder.select_outbox(after, limit)
        return [
            (n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in self.read_stored(after, limit)
        ]

    def appends(self) -> int:
        """How many appends this process has made; pass it to :meth:`wait_for_append`."""
        return self._appends

    def wait_for_append(self, seen: int, timeout: float, topics: Collection[str] | None = None) -> None:
        """Block until an append after ``seen`` (of one of ``topics``, when given) or until
        ``timeout`` (other processes poll). A follower of a few topics (the suppression index)
        then sleeps through the dialer's commits: it is not even woken to look."""
        with self._appended:
            if self._appended_since(seen, topics):
                return
            waiter = (topics, threading.Event())
            self._waiters.append(waiter)
        try:
            waiter[1].wait(timeout)
        finally:
            with self._appended:
                self._waiters.remove(waiter)

    def appended_since(self, seen: int, topics: Collection[str] | None = None) -> bool:
        """Whether this process appended (of ``topics``, when given) after ``seen``."""
        with self._appended:
            return self._appended_since(seen, topics)

    def _appended_since(self, seen: int, topics: Collection[str] | None) -> bool:
        if topics is None or self._woken > seen:
            return self._appends != seen
        last = self._last_append_of
        return any(last.get(topic, 0) > seen for topic in topics)

    def wake(self, topics: Collection[str] | None = None) -> None:
        """Tell the waiting followers of an append (of these stored topics; None: of anything,
        or a wake-up that is not an append: a follower stopping)."""
        with self._appended:
            self._appends += 1
            if topics is None:
                self._woken = self._appends
            else:
                for topic in topics:
                    self._last_append_of[topic] = self._appends
            for wanted, event in self._waiters:
                if wanted is None or topics is None or not set(wanted).isdisjoint(topics):
                    event.set()


class FollowPace:
    """When a follower of the log (a read model's bus, a processor) starts its next round.

    A dialer commits each of its steps, a few events each; a follower that ran a round per
    commit paid its fixed cost (the head, its position, a transaction) for every few events.
    So a follower starts a round no sooner than ``FOLLOW_GAP_S`` after the last one began,
    and takes many commits at once; appends that come seldom are still followed at once.
    Someone waiting for the follower's progress (a command's read-your-writes, a test) cuts
    the pause short: the gap is for throughput, never a caller's latency.
    """

    def __init__(self, gap_s: float = FOLLOW_GAP_S) -> None:
        self.gap_s = gap_s
        self._round_started = -1e18
        self._hurry = threading.Event()

    def round_starts(self) -> None:
        self._hurry.clear()
        self._round_started = time.monotonic()

    def hurry(self) -> None:
        """A caller waits for this follower's progress: start the next round now."""
        self._hurry.set()

    def pause(self) -> None:
        """Before the next round: the rest of the gap, unless someone is waiting."""
        gap = self._round_started + self.gap_s - time.monotonic()
        if gap > 0:
            self._hurry.wait(gap)


def store_env(database_url: str) -> dict[str, str]:
    """The eventsourcing environment for a ``sqlite:///path`` or ``postgresql://`` URL."""
    from urllib.parse import unquote, urlparse

    url = urlparse(database_url)
    if url.scheme == "sqlite":
        return {
            "PERSISTENCE_MODULE": "dialstream.store.events:WalSQLiteFactory",
            "SQLITE_DBNAME": sqlite_path(database_url),
            "SQLITE_LOCK_TIMEOUT": "30",
            "PROCESS_RECORDER_TOPIC": "dialstream.store.events:BatchSQLiteProcessRecorder",
        }
    if url.scheme in ("postgresql", "postgres"):
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": "5",
            "PROCESS_RECORDER_TOPIC": "dialstream.store.postgres_recorder:ArraysPostgresProcessRecorder",
        }
    raise ValueError(f"unsupported database URL {database_url!r}: use sqlite:/// or postgresql://")


def _immutable(project: Callable[..., Any]) -> bool:
    """A projector of immutable states (``domain.aggregate.projector``): its states may be kept."""
    return bool(getattr(project, "immutable_states", False))
