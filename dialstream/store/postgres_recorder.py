"""A PostgreSQL process recorder (events plus a tracking table) that inserts a batch from
four typed arrays.

The library's recorder sends the batch as one array of a composite type, which psycopg
must render as text, escaping every JSON body; four binary-bound arrays (ids, versions,
topics, bodies) skip that and keep the library's table lock and NOTIFY, so the commit
order still equals the notification order. A tracking record passed as ``tracking=`` is
inserted in the same transaction (the library's process recorder).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from dialstream.store.events import TrackedBatch


class ArraysPostgresProcessRecorder(PostgresProcessRecorder):
    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ):
        super().__init__(datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name)
        self.insert_arrays_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type),
        )

    def _insert_tracking(self, curs: Cursor[DictRow], tracking: Tracking) -> None:
        if not isinstance(tracking, TrackedBatch):
            super()._insert_tracking(curs, tracking)
            return
        statement = SQL(
            "INSERT INTO {schema}.{table} VALUES (%(name)s, %(position)s) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = %(position)s "
            "WHERE {schema}.{table}.notification_id < %(position)s "
            "AND {schema}.{table}.notification_id <= %(after)s "
            "RETURNING notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.tracking_table_name))
        curs.execute(
            statement,
            {"name": tracking.application_name, "position": tracking.notification_id, "after": tracking.after},
            prepare=True,
        )
        if curs.fetchone() is None:
            raise IntegrityError(f"{tracking.application_name} is past {tracking.after} already")

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_arrays_statement,
            (
                [s.originator_id for s in stored_events],
                [s.originator_version for s in stored_events],
                [s.topic for s in stored_events],
                [s.state for s in stored_events],
            ),
            prepare=True,
        )

    def select_tracking(self, prefix: str) -> dict[str, int]:
        """Every tracking position recorded under a name that starts with ``prefix``."""
        statement = SQL(
            "SELECT application_name, notification_id FROM {schema}.{table} WHERE left(application_name, %s) = %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.tracking_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (len(prefix), prefix))
            return {row["application_name"]: row["notification_id"] for row in curs.fetchall()}

    def select_streams(self, originator_ids: Sequence[Any]) -> list[tuple[Any, str, bytes]]:
        """(originator id, topic, state) of every event of these aggregates, each aggregate's
        in version order."""
        statement = SQL(
            "SELECT originator_id, topic, state FROM {schema}.{table} WHERE originator_id = ANY(%s) "
            "ORDER BY originator_id, originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids),))
            return [(row["originator_id"], row["topic"], bytes(row["state"])) for row in curs.fetchall()]

    def select_positioned(self, originator_ids: Sequence[Any]) -> list[tuple[int, str, bytes]]:
        """(log position, topic, state) of every event of these aggregates, in log order."""
        statement = SQL(
            "SELECT notification_id, topic, state FROM {schema}.{table} WHERE originator_id = ANY(%s) "
            "ORDER BY notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids),))
            return [(int(row["notification_id"]), row["topic"], bytes(row["state"])) for row in curs.fetchall()]

    def select_heads(self, originator_ids: Sequence[Any]) -> dict[Any, tuple[int, str]]:
        statement = SQL(
            "SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic "
            "FROM {schema}.{table} WHERE originator_id = ANY(%s) "
            "ORDER BY originator_id, originator_version DESC"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids),))
            return {
                row["originator_id"]: (row["originator_version"], row["topic"]) for row in curs.fetchall()
            }
