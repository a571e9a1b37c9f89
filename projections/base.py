"""Read models kept in SQL tables, each recording its log position in the same transaction.

A batch of events and the new position commit together, and events at or below the
stored position are skipped, so a redelivered batch changes nothing twice.

Two ways to be fed. The embedded bus delivers the whole log in order: one position per
projection (``projection_positions``). On Kafka, a projection reads several partitions,
each in log order but interleaved arbitrarily, so it keeps, per partition, the next
offset to read and the last log position applied (``projection_partitions``); the single
position then acts as a floor (set by ``dialstream replay``) below which everything is
already applied. A record is applied only if its position is above both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from dialstream.store import LogEntry
from projections.sql import Cursor, Database
from schemas import registry
from schemas.base import Event

POSITIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS projection_positions (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


PARTITIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS projection_partitions (name TEXT NOT NULL, topic TEXT NOT NULL, "
    "partition INTEGER NOT NULL, next_offset BIGINT NOT NULL, position BIGINT NOT NULL, "
    "passed BIGINT NOT NULL, PRIMARY KEY (name, topic, partition))"
)

# (Kafka offset, log position, event): event is None for a parked record, and so is the
# position when the record did not carry a readable one.
PartitionItem = tuple[int, int | None, Event | None]


class Projection(Protocol):
    name: str
    tables: tuple[str, ...]
    topics: tuple[str, ...]  # the catalogue topics whose events it reads

    def create_tables(self, cursor: Cursor) -> None: ...

    def apply(self, cursor: Cursor, event: Event, position: int) -> None: ...


# What a projection may add to the protocol above: ``events`` (the event classes it applies,
# when fewer than its topics carry: the others are skipped undecoded); ``stored``
# (stored topic -> a function applying an event of that topic straight from its stored JSON,
# without decoding the event; equal to ``apply``); or ``apply_many`` (the events a batch
# applies, with their positions, in one call: equal to ``apply`` on each in turn).
StoredApply = Callable[[Cursor, bytes, int], None]
ApplyMany = Callable[[Cursor, Sequence[tuple[Event, int]]], None]


class ProjectionStore:
    """Hosts projections in one database and applies batches of the log to them."""

    def __init__(self, db: Database, projections: Sequence[Projection]):
        self.db = db
        self.projections = {p.name: p for p in projections}
        for projection in projections:
            # A batch's direct applies would run before its events applied together: out of order.
            if getattr(projection, "stored", None) and hasattr(projection, "apply_many"):
                raise TypeError(f"{projection.name}: stored applies and apply_many do not mix")
        self._reads: dict[str, dict[str, bool]] = {}
        self._tag_reads: dict[tuple[str, str], bool] = {}
        self._batch_topics: tuple[Sequence[LogEntry], int, dict[str, None]] | None = None
        with db.schema() as cursor:
            cursor.execute(POSITIONS_TABLE)
            cursor.execute(PARTITIONS_TABLE)
            for projection in projections:
                projection.create_tables(cursor)

    def position(self, name: str) -> int:
        with self.db.transaction() as cursor:
            return self._position(cursor, name)

    def record_position(self, name: str, position: int) -> None:
        """Where a processor that keeps no tables here (see processors.compliance.processor) got to."""
        with self.db.transaction() as cursor:
            self._save_position(cursor, name, position)

    @staticmethod
    def _save_position(cursor: Cursor, name: str, position: int) -> None:
        cursor.execute(
            "INSERT INTO projection_positions (name, position) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            (name, position),
        )

    @staticmethod
    def _position(cursor: Cursor, name: str) -> int:
        cursor.execute("SELECT position FROM projection_positions WHERE name = ?", (name,))
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def apply(self, name: str, batch: Sequence[tuple[int, Event]]) -> int:
        """Apply the events after the stored position; return the new position."""
        return self.apply_log(name, [LogEntry.of(position, event) for position, event in batch])

    def apply_log(self, name: str, batch: Sequence[LogEntry]) -> int:
        """Apply the log entries after the stored position; return the new position."""
        projection = self.projections[name]
        stored: Mapping[str, StoredApply] = getattr(projection, "stored", {})
        many: ApplyMany | None = getattr(projection, "apply_many", None)
        with self.db.transaction() as cursor:
            position = self._position(cursor, name)
            if not batch or batch[-1].position <= position:
                return position
            fresh = batch if batch[0].position > position else [e for e in batch if e.position > position]
            reads = self._reads.setdefault(name, {})
            # The batch's topics are looked at once, not each entry: a dialer's round brings a
            # few topics in many events, and half the read models read none of them.
            wanted = self._wanted(name, fresh, stored, reads)
            together: list[tuple[Event, int]] = []
            for entry in fresh if wanted else ():
                if entry.topic not in wanted:
                    continue
                direct = stored.get(entry.topic)
                if direct is not None and entry.state is not None:
                    direct(cursor, entry.state, entry.position)
                    continue
                if not self._read(name, reads, entry):
                    continue
                if many is not None:
                    together.append((entry.event, entry.position))
                else:
                    projection.apply(cursor, entry.event, entry.position)
            if together and many is not None:
                many(cursor, together)
            position = fresh[-1].position
            self._save_position(cursor, name, position)
            return position

    def _wanted(
        self, name: str, fresh: Sequence[LogEntry], stored: Mapping[str, StoredApply], reads: dict[str, bool]
    ) -> set[str]:
        """The topics of ``fresh`` that projection ``name`` applies, directly or decoded."""
        kept = self._batch_topics
        if kept is not None and kept[0] is fresh and kept[1] == len(fresh):
            topics = kept[2]
        else:
            topics = dict.fromkeys(entry.topic for entry in fresh)
            self._batch_topics = (fresh, len(fresh), topics)  # the next read model is handed the same batch
        wanted: set[str] = set()
        for topic in topics:
            if topic in stored:
                wanted.add(topic)
                continue
            applies = reads.get(topic)
            if applies is None:
                applies = self._read(name, reads, next(entry for entry in fresh if entry.topic == topic))
            if applies:
                wanted.add(topic)
        return wanted

    def _read(self, name: str, reads: dict[str, bool], entry: LogEntry) -> bool:
        """Whether projection ``name`` applies ``entry``'s topic, asked once per topic: most of
        an import's million events are of one topic that most projections skip."""
        applies = reads.get(entry.topic)
        if applies is None:
            # The type from the stored topic, so skipped events are never decoded; a type this
            # build lacks is decoded, and that raises, as it always did.
            kind = entry.event_type or type(entry.event)
            applies = reads[entry.topic] = self.applies(name, kind)
        return applies

    def reads(self, name: str, tag: str) -> bool:
        """Whether projection ``name`` applies events of type ``tag`` (a type this build lacks:
        True, so that decoding it fails as it always did)."""
        known = self._tag_reads.get((name, tag))
        if known is None:
            kind = registry.BY_TAG.get(tag)
            known = self._tag_reads[(name, tag)] = kind is None or self.applies(name, kind)
        return known

    def applies(self, name: str, kind: type[Event]) -> bool:
        """Whether projection ``name`` applies events of class ``kind``."""
        projection = self.projections[name]
        events: tuple[type[Event], ...] | None = getattr(projection, "events", None)
        return kind.TOPIC in projection.topics and (not events or kind in events)

    def reset(self, name: str) -> None:
        """Empty a projection's tables and rewind it to the start of the log."""
        projection = self.projections[name]
        with self.db.transaction() as cursor:
            for table in projection.tables:
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute("DELETE FROM projection_positions WHERE name = ?", (name,))
            cursor.execute("DELETE FROM projection_partitions WHERE name = ?", (name,))

    # Kafka: per-partition progress -------------------------------------------------------

    def next_offsets(self, name: str) -> dict[tuple[str, int], int]:
        """Where to resume each partition this projection has read: (topic, partition) -> offset."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "SELECT topic, partition, next_offset FROM projection_partitions WHERE name = ?", (name,)
            )
            return {(str(t), int(p)): int(o) for t, p, o in cursor.fetchall()}

    def applied_positions(self, name: str) -> tuple[int, dict[tuple[str, int], int]]:
        """(floor, last log position passed per partition: applied, skipped or parked)."""
        with self.db.transaction() as cursor:
            floor = self._position(cursor, name)
            cursor.execute(
                "SELECT topic, partition, passed FROM projection_partitions WHERE name = ?", (name,)
            )
            return floor, {(str(t), int(p)): int(pos) for t, p, pos in cursor.fetchall()}

    def apply_partition(self, name: str, topic: str, partition: int, items: Sequence[PartitionItem]) -> int:
        """Apply records of one partition, in offset order; return how many events took effect.

        Records below the stored offset (redelivered after a rebalance) and events at or
        below the stored position (published twice by a relay that crashed) are skipped.
        """
        if not items:
            return 0
        projection = self.projections[name]
        many: ApplyMany | None = getattr(projection, "apply_many", None)
        together: list[tuple[Event, int]] = []
        key = (name, topic, partition)
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO projection_partitions VALUES (?, ?, ?, 0, 0, 0) ON CONFLICT DO NOTHING", key
            )
            # A no-op write takes the row lock on PostgreSQL (SQLite locked the file already),
            # so two workers handed the same partition in a rebalance apply it one at a time.
            cursor.execute(
                "UPDATE projection_partitions SET position = position "
                "WHERE name = ? AND topic = ? AND partition = ?",
                key,
            )
            cursor.execute(
                "SELECT next_offset, position, passed FROM projection_partitions "
                "WHERE name = ? AND topic = ? AND partition = ?",
                key,
            )
            row = cursor.fetchone()
            assert row is not None
            next_offset, applied, passed = int(row[0]), int(row[1]), int(row[2])
            applied = max(applied, self._position(cursor, name))
            start_offset, effective = next_offset, 0
            for offset, position, event in items:
                if offset < next_offset:
                    continue
                next_offset = offset + 1
                if position is not None:
                    # Parked records count for read-your-writes waits, never for deduplication:
                    # a foreign record's position header must not hide real events.
                    passed = max(passed, position)
                if event is None or position is None or position <= applied:
                    continue
                if many is not None:
                    together.append((event, position))
                else:
                    projection.apply(cursor, event, position)
                applied = position
                effective += 1
            if together and many is not None:
                many(cursor, together)
            if next_offset != start_offset:
                cursor.execute(
                    "UPDATE projection_partitions SET next_offset = ?, position = ?, passed = ? "
                    "WHERE name = ? AND topic = ? AND partition = ?",
                    (next_offset, applied, passed, *key),
                )
            return effective


class ProjectionSubscriber:
    """A projection as a bus subscriber."""

    def __init__(self, store: ProjectionStore, name: str):
        self.store = store
        self.name = name

    def position(self) -> int:
        return self.store.position(self.name)

    def handle(self, batch: Sequence[LogEntry]) -> int:
        return self.store.apply_log(self.name, batch)
