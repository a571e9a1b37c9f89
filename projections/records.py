"""records: the records of every contact list, one row per record (device) of a chain.

What exports, selection rules, retention and the list counts read. A chain's rows are
replaced as a whole when its chain event arrives, so the table equals a replay.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

import msgspec

from dialstream.store import stored_topic_of
from domain.codes import RecordType
from projections.base import StoredApply
from projections.sql import Cursor, Database
from schemas import imports, topics
from schemas.base import Event
from schemas.records import (
    Contact,
    Record,
    RecordChainDeleted,
    RecordChainImported,
    RecordChainReplaced,
    RecordChainRestored,
    RecordChainSuppressed,
)

TABLES = ("records", "list_fields")
# Column order of the records table; exports and selection rules read these names.
COLUMNS = (
    "list_id",
    "client_id",
    "chain_n",
    "chain_id",
    "record_id",
    "account_id",
    "contact_info",
    "contact_info_type",
    "record_type",
    "record_status",
    "call_result",
    "attempt",
    "dial_sched_time",
    "call_time",
    "daily_from",
    "daily_till",
    "time_zone",
    "time_zone_rule",
    "second_time_zone",
    "postal_code",
    "country",
    "state",
    "contact_time_zone",
    "custom",
    "imported_at",
    "job_id",
    "line",
)
_INSERT = f"INSERT INTO records ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_custom = msgspec.json.Encoder()
_decode_custom = msgspec.json.Decoder(dict[str, str])


class Records:
    name = "records"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.RECORDS, topics.LISTS)

    def __init__(self) -> None:
        # An import's chains, straight from their JSON: decoding each into its event was the
        # largest part of the bus thread's work during an import.
        self.stored: dict[str, StoredApply] = {
            stored_topic_of(RecordChainImported): _insert_stored_chain,
            stored_topic_of(RecordChainReplaced): _insert_stored_chain,
        }

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS records ("
            "list_id TEXT NOT NULL, client_id TEXT NOT NULL, chain_n INTEGER NOT NULL, "
            "chain_id TEXT NOT NULL, record_id TEXT NOT NULL, account_id TEXT NOT NULL, "
            "contact_info TEXT NOT NULL, contact_info_type INTEGER NOT NULL, "
            "record_type INTEGER NOT NULL, record_status INTEGER NOT NULL, "
            "call_result INTEGER NOT NULL, attempt INTEGER NOT NULL, dial_sched_time BIGINT, "
            "call_time BIGINT, daily_from INTEGER, daily_till INTEGER, time_zone TEXT NOT NULL, "
            "time_zone_rule TEXT NOT NULL, second_time_zone TEXT, postal_code TEXT NOT NULL, "
            "country TEXT NOT NULL, state TEXT NOT NULL, contact_time_zone TEXT NOT NULL, "
            "custom TEXT NOT NULL, imported_at TEXT NOT NULL, job_id TEXT, line INTEGER NOT NULL, "
            "PRIMARY KEY (list_id, client_id, chain_n))"
        )
        # A custom field's user-defined label (from the import's mapping), for exports.
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS list_fields (list_id TEXT NOT NULL, name TEXT NOT NULL, "
            "label TEXT NOT NULL, PRIMARY KEY (list_id, name))"
        )

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        match event:
            case RecordChainImported() | RecordChainReplaced():
                if event.originator_version > 1:
                    _delete_chain(cursor, event.list_id, event.client_id)
                cursor.executemany(_INSERT, _rows(event))
            case RecordChainDeleted():
                _delete_chain(cursor, event.list_id, event.client_id)
            case RecordChainSuppressed():
                _set_types(
                    cursor,
                    event.list_id,
                    event.client_id,
                    dict.fromkeys(event.previous_types, RecordType.NO_CALL),
                )
            case RecordChainRestored():
                _set_types(cursor, event.list_id, event.client_id, event.record_types)
            case imports.ImportStarted():
                cursor.executemany(
                    "INSERT INTO list_fields VALUES (?, ?, ?) ON CONFLICT (list_id, name) "
                    "DO UPDATE SET label = excluded.label",
                    [
                        (str(event.list_id), f.field.removeprefix("custom:"), f.label or f.column)
                        for f in event.fields
                        if f.field.startswith("custom:")
                    ],
                )


def _lean(name: str, schema: type[msgspec.Struct], names: Collection[str], **extra: tuple[Any, ...]) -> Any:
    """A struct of the schema's fields ``names`` as JSON has them (ids and times left as text,
    nothing validated twice), with the schema's defaults for what the JSON omits."""
    fields: list[Any] = []
    for info in msgspec.structs.fields(schema):
        if info.name not in names:
            continue
        if info.required:
            fields.append((info.name, Any))
        elif info.default_factory is not msgspec.NODEFAULT:
            fields.append((info.name, Any, msgspec.field(default_factory=info.default_factory)))
        else:
            fields.append((info.name, Any, info.default))
    fields.extend((field, *spec) for field, spec in extra.items())
    return msgspec.defstruct(name, fields, frozen=True, kw_only=True, gc=False)


_RECORD_COLUMNS = [c for c in COLUMNS if c in {f.name for f in msgspec.structs.fields(Record)}]
_StoredRecord = _lean("_StoredRecord", Record, _RECORD_COLUMNS)
_StoredContact = _lean("_StoredContact", Contact, ("postal_code", "country", "state", "time_zone"))
_StoredChain = _lean(
    "_StoredChain",
    RecordChainImported,
    ("originator_id", "originator_version", "timestamp", "account_id", "list_id", "client_id", "job_id", "line"),
    records=(list[_StoredRecord],),  # type: ignore[valid-type]
    # the custom fields' JSON as stored: what the decoded path writes after re-encoding them
    custom=(msgspec.Raw, msgspec.Raw(b"{}")),
    contact=(_StoredContact, _StoredContact()),
)
_decode_stored = msgspec.json.Decoder(_StoredChain)


def _insert_stored_chain(cursor: Cursor, state: bytes, position: int) -> None:
    """:meth:`Records.apply` of a chain imported or replaced, from the event's JSON.

    Decoded into a lean struct (ids and times stay text) instead of the event: a fifth of
    the cost of decoding the event, which the bus thread paid for every imported chain.
    """
    e = _decode_stored.decode(state)
    if e.originator_version > 1:  # a replacement or a revival: rows go first
        _delete_chain(cursor, e.list_id, e.client_id)
    custom = bytes(e.custom).decode()
    # msgspec writes UTC as "Z"; the decoded path stores datetime.isoformat's "+00:00".
    imported_at = e.timestamp.replace("Z", "+00:00")
    cursor.executemany(
        _INSERT,
        _chain_rows(
            e.list_id, e.client_id, e.originator_id, e.account_id, e.job_id, e.line,
            e.records, e.contact, custom, imported_at,
        ),
    )


def _set_types(cursor: Cursor, list_id: UUID, client_id: str, types: dict[int, int]) -> None:
    cursor.executemany(
        "UPDATE records SET record_type = ? WHERE list_id = ? AND client_id = ? AND chain_n = ?",
        [(record_type, str(list_id), client_id, n) for n, record_type in types.items()],
    )


def _delete_chain(cursor: Cursor, list_id: UUID | str, client_id: str) -> None:
    cursor.execute("DELETE FROM records WHERE list_id = ? AND client_id = ?", (str(list_id), client_id))


@lru_cache(maxsize=256)
def _text(shared_id: UUID) -> str:
    """The text of an id that thousands of chains share (list, account, import job)."""
    return str(shared_id)


def _rows(event: RecordChainImported | RecordChainReplaced) -> list[tuple[Any, ...]]:
    return _chain_rows(
        _text(event.list_id),
        event.client_id,
        str(event.originator_id),
        _text(event.account_id),
        _text(event.job_id),
        event.line,
        event.records,
        event.contact,
        _custom.encode(event.custom).decode(),
        event.timestamp.isoformat(),
    )


def _chain_rows(
    list_id: str,
    client_id: str,
    chain_id: str,
    account_id: str,
    job_id: str,
    line: int,
    records: Sequence[Any],
    contact: Any,
    custom: str,
    imported_at: str,
) -> list[tuple[Any, ...]]:
    """The rows of a chain's records, in ``COLUMNS`` order (from a decoded event or its JSON)."""
    return [
        (
            list_id,
            client_id,
            r.chain_n,
            chain_id,
            str(r.record_id),
            account_id,
            r.contact_info,
            r.contact_info_type,
            r.record_type,
            r.record_status,
            r.call_result,
            r.attempt,
            r.dial_sched_time,
            r.call_time,
            r.daily_from,
            r.daily_till,
            r.time_zone,
            r.time_zone_rule,
            r.second_time_zone,
            contact.postal_code,
            contact.country,
            contact.state,
            contact.time_zone,
            custom,
            imported_at,
            job_id,
            line,
        )
        for r in records
    ]


class RecordQueries:
    def __init__(self, db: Database):
        self.db = db

    def counts(self, list_id: UUID) -> tuple[int, int]:
        """(chains, records) the list holds."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "SELECT COUNT(DISTINCT client_id), COUNT(*) FROM records WHERE list_id = ?", (str(list_id),)
            )
            row = cursor.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def live_chains(self, list_id: UUID, after: str = "", limit: int = 2000) -> list[tuple[str, str]]:
        """(client id, chain id) of the list's chains, in client id order, after ``after``."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "SELECT client_id, chain_id FROM records WHERE list_id = ? AND chain_n = 1 "
                "AND client_id > ? ORDER BY client_id LIMIT ?",
                (str(list_id), after, limit),
            )
            return [(str(a), str(b)) for a, b in cursor.fetchall()]

    def chains_with(self, account_id: UUID, contacts: Sequence[str], client_ids: Sequence[str]) -> set[UUID]:
        """The chains of the account with a record of one of these contact infos or client ids.

        A scan of the account's records (there is no index by contact: it would cost every
        import more than suppression entries added after the fact ever do).
        """
        found: set[UUID] = set()
        with self.db.transaction() as cursor:
            for column, values in (("contact_info", contacts), ("client_id", client_ids)):
                for start in range(0, len(values), 500):
                    chunk = list(values[start : start + 500])
                    cursor.execute(
                        f"SELECT DISTINCT chain_id FROM records WHERE account_id = ? "
                        f"AND {column} IN ({','.join('?' * len(chunk))})",
                        (str(account_id), *chunk),
                    )
                    found.update(UUID(row[0]) for row in cursor.fetchall())
        return found

    def custom_names(self, list_id: UUID, page: int = 5000) -> set[str]:
        """The custom field names the list's chains hold (read from each chain's first record)."""
        names: set[str] = set()
        after = ""
        while True:
            with self.db.transaction() as cursor:
                cursor.execute(
                    "SELECT client_id, custom FROM records WHERE list_id = ? AND chain_n = 1 "
                    "AND client_id > ? ORDER BY client_id LIMIT ?",
                    (str(list_id), after, page),
                )
                rows = cursor.fetchall()
            for _, custom in rows:
                if custom != "{}":
                    names.update(_decode_custom.decode(custom))
            if len(rows) < page:
                return names
            after = str(rows[-1][0])

    def labels(self, list_id: UUID) -> dict[str, str]:
        with self.db.transaction() as cursor:
            cursor.execute("SELECT name, label FROM list_fields WHERE list_id = ?", (str(list_id),))
            return {str(n): str(label) for n, label in cursor.fetchall()}

    def contacts(self, list_id: UUID, page: int = 5000) -> Iterator[list[tuple[UUID, str, str, int]]]:
        """The list's records as pages of (chain id, client id, contact info, contact info
        type): what a sweep for suppressed contacts asks the index about."""
        after: tuple[str, int] = ("", 0)
        while True:
            with self.db.transaction() as cursor:
                cursor.execute(
                    "SELECT chain_id, client_id, contact_info, contact_info_type, chain_n FROM records "
                    "WHERE list_id = ? AND (client_id > ? OR (client_id = ? AND chain_n > ?)) "
                    "ORDER BY client_id, chain_n LIMIT ?",
                    (str(list_id), after[0], after[0], after[1], page),
                )
                rows = cursor.fetchall()
            if rows:
                yield [(UUID(chain), str(client), str(contact), int(kind)) for chain, client, contact, kind, _ in rows]
            if len(rows) < page:
                return
            after = (str(rows[-1][1]), int(rows[-1][4]))

    def iterate(self, list_id: UUID, page: int = 5000) -> Iterator[dict[str, Any]]:
        """Every record of the list as a mapping (``custom`` decoded), in client id order.

        Reads in pages by key, each in its own short transaction, so a long export
        never holds the database.
        """
        after: tuple[str, int] = ("", 0)
        while True:
            with self.db.transaction() as cursor:
                cursor.execute(
                    f"SELECT {', '.join(COLUMNS)} FROM records WHERE list_id = ? AND "
                    "(client_id > ? OR (client_id = ? AND chain_n > ?)) "
                    "ORDER BY client_id, chain_n LIMIT ?",
                    (str(list_id), after[0], after[0], after[1], page),
                )
                rows = cursor.fetchall()
            for row in rows:
                record = dict(zip(COLUMNS, row, strict=True))
                record["custom"] = _decode_custom.decode(record["custom"])
                yield record
            if len(rows) < page:
                return
            last = rows[-1]
            after = (str(last[1]), int(last[2]))


def dump_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    rows = {}
    with db.transaction() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table}")
            rows[table] = sorted(tuple(r) for r in cursor.fetchall())
    return rows
