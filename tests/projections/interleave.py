"""Applying a log as a Kafka consumer may see it: each stream in its order, the streams in
any interleaving (here: the last stream first)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from projections.base import Projection
from projections.sql import Database
from schemas.base import Event


def apply_streams_last_first(db: Database, projection: Projection, log: Sequence[tuple[int, Event]]) -> None:
    streams: dict[UUID, list[tuple[int, Event]]] = {}
    for position, event in log:
        streams.setdefault(event.originator_id, []).append((position, event))
    with db.transaction() as cursor:
        projection.create_tables(cursor)
        for stream in reversed(list(streams.values())):
            for position, event in stream:
                projection.apply(cursor, event, position)
