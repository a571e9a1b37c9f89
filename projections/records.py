"""records: the records of every contact list, one row per record (device) of a chain.

What exports, selection rules, retention and the list counts read, and the dialable-records
index of the dialing queue (:meth:`RecordQueries.dialable`). A chain's rows are replaced as a
whole when its chain event arrives; a record drawn, returned or updated by a dialer changes
its row (and ``campaign_group_id``, ``attempt_id``, ``retrieved_at`` say who holds it while it
is drawn), so the table equals a replay.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from dialstream.store import stored_topic_of
from domain import dialing_queue
from domain.codes import RecordStatus, RecordType
from domain.dialing_queue import Candidate
from domain.selection import FIELDS, Rule
from projections.base import StoredApply
from projections.sql import Cursor, Database, dump_tables, id_text, in_chunks
from schemas import imports, topics
from schemas.base import Event
from schemas.profiles import SortField
from schemas.records import (
    Contact,
    Record,
    RecordChainDeleted,
    RecordChainImported,
    RecordChainReplaced,
    RecordChainRestored,
    RecordChainSuppressed,
    RecordRetrieved,
    RecordReturned,
    RecordTreated,
    RecordUpdated,
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
# Who holds a drawn record (NULL while it is not drawn): not in COLUMNS, so exports and
# selection rules keep the calling-list fields only.
DRAWN_COLUMNS = ("campaign_group_id", "attempt_id", "retrieved_at")
# A personal callback's agent, and the agent group an assign_to_group step gave a record to
# (NULL for any other record): not in COLUMNS either.
CALLBACK_COLUMNS = ("callback_agent_id", "callback_agent_group")
_INSERTED = (*COLUMNS, *CALLBACK_COLUMNS)
_INSERT = f"INSERT INTO records ({', '.join(_INSERTED)}) VALUES ({', '.join('?' * len(_INSERTED))})"
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
            "campaign_group_id TEXT, attempt_id TEXT, retrieved_at TEXT, callback_agent_id TEXT, "
            "callback_agent_group TEXT, PRIMARY KEY (list_id, client_id, chain_n))"
        )
        _add_drawn_columns(cursor)
        _add_callback_columns(cursor)
        # The dialable-records index: the ready records of a list in chain order. Partial, so
        # it shrinks as a list is dialled and a page of candidates never walks finished chains;
        # and the few records held now (drawn, stale), which hold their chains. (Named anew
        # when updated records stopped holding: an index of the old condition is dropped.)
        # With each record's scheduled time: the records tried and rescheduled for later stay
        # ready at the front of the list, and a draw passes them on the index alone instead
        # of reading each one's row (twice as fast past 8,000 of them; named anew for it).
        cursor.execute("DROP INDEX IF EXISTS records_ready")
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS records_ready_due ON records (list_id, client_id, chain_n, dial_sched_time) "
            f"WHERE {_READY_ROW}"
        )
        cursor.execute("DROP INDEX IF EXISTS records_held")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS records_holding ON records (list_id, client_id) WHERE {_HELD_ROW}"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS records_drawn ON records (campaign_group_id) "
            "WHERE campaign_group_id IS NOT NULL"
        )
        # The personal callbacks waiting (few): what a dialer asks about its ready agents.
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS records_personal ON records (list_id, dial_sched_time) WHERE {_PERSONAL_ROW}"
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
            case RecordRetrieved():
                cursor.execute(
                    "UPDATE records SET record_status = ?, campaign_group_id = ?, attempt_id = ?, "
                    "retrieved_at = ? WHERE list_id = ? AND client_id = ? AND chain_n = ?",
                    (
                        int(RecordStatus.RETRIEVED),
                        id_text(event.campaign_group_id),
                        id_text(event.attempt_id),
                        event.timestamp.isoformat(),
                        id_text(event.list_id),
                        event.client_id,
                        event.chain_n,
                    ),
                )
            case RecordReturned():
                cursor.execute(
                    "UPDATE records SET record_status = ?, dial_sched_time = COALESCE(?, dial_sched_time), "
                    "campaign_group_id = NULL, attempt_id = NULL, retrieved_at = NULL "
                    "WHERE list_id = ? AND client_id = ? AND chain_n = ?",
                    (
                        int(RecordStatus.READY),
                        event.dial_sched_time,
                        id_text(event.list_id),
                        event.client_id,
                        event.chain_n,
                    ),
                )
            case RecordUpdated():
                cursor.execute(
                    "UPDATE records SET record_status = ?, call_result = ?, call_time = ?, attempt = ?, "
                    "campaign_group_id = NULL, attempt_id = NULL, retrieved_at = NULL "
                    "WHERE list_id = ? AND client_id = ? AND chain_n = ?",
                    (
                        event.record_status,
                        event.call_result,
                        event.call_time,
                        event.attempt,
                        id_text(event.list_id),
                        event.client_id,
                        event.chain_n,
                    ),
                )
            case RecordTreated():
                cursor.executemany(
                    "UPDATE records SET record_type = ?, record_status = ?, dial_sched_time = ?, call_result = ?, "
                    "callback_agent_id = ?, callback_agent_group = ? WHERE list_id = ? AND client_id = ? AND chain_n = ?",
                    [
                        (
                            change.record_type,
                            change.record_status,
                            change.dial_sched_time,
                            change.call_result,
                            _text_or_none(change.callback_agent_id),
                            change.callback_agent_group or None,
                            id_text(event.list_id),
                            event.client_id,
                            change.chain_n,
                        )
                        for change in (event.record, *event.others)
                    ],
                )
            case imports.ImportStarted():
                cursor.executemany(
                    "INSERT INTO list_fields VALUES (?, ?, ?) ON CONFLICT (list_id, name) "
                    "DO UPDATE SET label = excluded.label",
                    [
                        (id_text(event.list_id), f.field.removeprefix("custom:"), f.label or f.column)
                        for f in event.fields
                        if f.field.startswith("custom:")
                    ],
                )


def _add_drawn_columns(cursor: Cursor) -> None:
    """Add the drawn-record columns to a records table made before they existed.

    Probed with a query that fails without them: harmless in either database's schema
    cursor (SQLite's transaction goes on after a statement fails to prepare; PostgreSQL's
    schema cursor commits each statement on its own, see ``projections.sql``).
    """
    try:
        cursor.execute(f"SELECT {', '.join(DRAWN_COLUMNS)} FROM records WHERE 1 = 0")
    except Exception:  # the database's own "no such column" error
        for column in DRAWN_COLUMNS:
            cursor.execute(f"ALTER TABLE records ADD COLUMN {column} TEXT")


def _add_callback_columns(cursor: Cursor) -> None:
    """Add each callback column to a records table made before it (as
    :func:`_add_drawn_columns` does, one column at a time: they came one at a time)."""
    for column in CALLBACK_COLUMNS:
        try:
            cursor.execute(f"SELECT {column} FROM records WHERE 1 = 0")
        except Exception:  # the database's own "no such column" error
            cursor.execute(f"ALTER TABLE records ADD COLUMN {column} TEXT")


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


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


_RECORD_COLUMNS = [c for c in _INSERTED if c in {f.name for f in msgspec.structs.fields(Record)}]
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
        id_text(event.originator_id),
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
    """The rows of a chain's records, in ``COLUMNS`` order then ``CALLBACK_COLUMNS`` (from a
    decoded event or its JSON)."""
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
            _text_or_none(r.callback_agent_id),
            r.callback_agent_group or None,
        )
        for r in records
    ]


class RecordQueries:
    def __init__(self, db: Database):
        self.db = db

    def counts(self, list_id: UUID) -> tuple[int, int]:
        """(chains, records) the list holds."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT COUNT(DISTINCT client_id), COUNT(*) FROM records WHERE list_id = ?", (str(list_id),)
            )
            row = cursor.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def live_chains(self, list_id: UUID, after: str = "", limit: int = 2000) -> list[tuple[str, str]]:
        """(client id, chain id) of the list's chains, in client id order, after ``after``."""
        with self.db.reading() as cursor:
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
        with self.db.reading() as cursor:
            for column, values in (("contact_info", contacts), ("client_id", client_ids)):
                for marks, chunk in in_chunks(values):
                    cursor.execute(
                        f"SELECT DISTINCT chain_id FROM records WHERE account_id = ? AND {column} IN ({marks})",
                        (str(account_id), *chunk),
                    )
                    found.update(UUID(row[0]) for row in cursor.fetchall())
        return found

    def custom_names(self, list_id: UUID, page: int = 5000) -> set[str]:
        """The custom field names the list's chains hold (read from each chain's first record)."""
        names: set[str] = set()
        after = ""
        while True:
            with self.db.reading() as cursor:
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
        with self.db.reading() as cursor:
            cursor.execute("SELECT name, label FROM list_fields WHERE list_id = ?", (str(list_id),))
            return {str(n): str(label) for n, label in cursor.fetchall()}

    def contacts(self, list_id: UUID, page: int = 5000) -> Iterator[list[tuple[UUID, str, str, int]]]:
        """The list's records as pages of (chain id, client id, contact info, contact info
        type): what a sweep for suppressed contacts asks the index about."""
        after: tuple[str, int] = ("", 0)
        while True:
            with self.db.reading() as cursor:
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

    def iterate(
        self, list_id: UUID, page: int = 5000, after: tuple[str, int] = ("", 0)
    ) -> Iterator[dict[str, Any]]:
        """Every record of the list as a mapping (``custom`` decoded), in client id then chain
        order; those after the key ``after`` (client id, chain position) when given.

        Reads in pages by key, each in its own short transaction, so a long export
        never holds the database.
        """
        while True:
            with self.db.reading() as cursor:
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

    # The dialing queue ---------------------------------------------------------------------

    def dialable(
        self,
        list_ids: Sequence[UUID],
        *,
        now: datetime,
        max_attempts: int,
        rule: Rule | None = None,
        sort: Sequence[SortField] = (),
        limit: int = 500,
        exclude_chains: Collection[UUID] = (),
        callback_grace_s: int = 0,
        for_agents: Collection[UUID] | None = None,
        agent_group: str = "",
    ) -> list[Candidate]:
        """The records a campaign group may draw now from its lists (``list_ids``, in the
        group's order), at most ``limit``, one per chain: its next record as
        :func:`domain.dialing_queue.next_record` finds it (in SQL), kept when it is due, inside
        its daily window in its zone(s) (checked here, per zone), not of a chain in
        ``exclude_chains`` (those the caller holds already) and selected by ``rule``.

        Ordered by the ``sort`` fields (a record field, or a custom field: ``custom.<name>``
        or a name that is not a record field; empty values last), then list order, client
        id and chain position. Record fields sort in SQL; a custom field sorts here, after
        reading every candidate of the lists. The rule runs in SQL when it translates
        (:meth:`domain.selection.Rule.to_sql`), else here on each row.

        Personal callbacks (:func:`domain.dialing_queue.may_take`): an ordinary draw takes one
        once ``callback_grace_s`` seconds have passed since it fell due; with ``for_agents``,
        only the due personal callbacks of those agents are listed (a draw for each of them),
        the longest due first, whatever the sort fields.

        A record an assign_to_group step gave to an agent group is listed only for a draw of
        that ``agent_group`` (the drawing group's), and holds its chain for the others.
        """
        lists = list(dict.fromkeys(str(list_id) for list_id in list_ids))
        if not lists or limit <= 0 or (for_agents is not None and not for_agents):
            return []
        agents = None if for_agents is None else sorted({str(agent) for agent in for_agents})
        query = _Dialable(
            now,
            max_attempts,
            rule,
            sort,
            {chain.int for chain in exclude_chains},
            grace_s=callback_grace_s,
            for_agents=agents,
            agent_group=agent_group,
        )
        with self.db.reading() as cursor:
            if agents is not None:
                return query.own_callbacks(cursor, lists, limit)
            if query.custom_sort:
                return query.sorted_here(cursor, lists, limit)
            if query.order:
                return query.sorted_in_sql(cursor, lists, limit)
            return query.in_chain_order(cursor, lists, limit)

    def personal_callbacks_due_at(self, list_ids: Sequence[UUID], *, max_attempts: int | None = None) -> int | None:
        """When the first personal callback of the lists waiting for its agent (attempts left)
        falls due (UTC epoch seconds; None: none waits): a dialer looks for its agents'
        callbacks only from then on (a read of the few rows of the partial index
        records_personal)."""
        lists = list(dict.fromkeys(str(list_id) for list_id in list_ids))
        if not lists:
            return None
        with self.db.reading() as cursor:
            cursor.execute(
                f"SELECT MIN(COALESCE(r.dial_sched_time, 0)) FROM records r WHERE r.list_id IN ({', '.join('?' * len(lists))}) "
                f"AND {_PERSONAL_R} AND r.callback_agent_id IS NOT NULL AND r.attempt < ?",
                [*lists, _NO_CAP if max_attempts is None else max_attempts],
            )
            row = cursor.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def retrieved(self, group_id: UUID) -> list[Retrieved]:
        """The records the group's dialer holds drawn now, the longest held first."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT record_id, chain_id, chain_n, list_id, client_id, attempt_id, retrieved_at "
                "FROM records WHERE campaign_group_id = ? ORDER BY retrieved_at, list_id, client_id, chain_n",
                (str(group_id),),
            )
            rows = cursor.fetchall()
        return [
            Retrieved(
                UUID(record), UUID(chain), int(n), UUID(list_id), str(client), UUID(attempt), _instant(at)
            )
            for record, chain, n, list_id, client, attempt, at in rows
        ]

    def groups_holding(self) -> set[UUID]:
        """The campaign groups whose dialers hold records drawn now (a stopped group's dead
        dialer's too: someone must give them back)."""
        with self.db.reading() as cursor:
            cursor.execute("SELECT DISTINCT campaign_group_id FROM records WHERE campaign_group_id IS NOT NULL")
            rows = cursor.fetchall()
        return {UUID(str(group)) for (group,) in rows}

    def queue_counts(
        self, list_ids: Sequence[UUID], *, now: datetime | None = None, max_attempts: int | None = None
    ) -> dict[str, int]:
        """Records of the lists: ``total``, by status (``ready``, ``retrieved``, ``updated``,
        ``stale``), ``no_call`` (record type 7), and ``dialable_now``: chains whose next record
        may be drawn at ``now`` (the clock's when not given) with ``max_attempts`` (None: no
        cap), as :meth:`dialable` finds them without a selection rule."""
        lists = list(dict.fromkeys(str(list_id) for list_id in list_ids))
        counts = dict.fromkeys(("total", "ready", "dialable_now", "retrieved", "updated", "stale", "no_call"), 0)
        if not lists:
            return counts
        moment = now if now is not None else datetime.now(UTC)
        cap = max_attempts if max_attempts is not None else _NO_CAP
        marks = ", ".join("?" * len(lists))
        windows: list[tuple[Any, ...]] = []
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT COUNT(*), "
                + ", ".join(f"COALESCE(SUM(CASE WHEN record_status = {int(s)} THEN 1 ELSE 0 END), 0)" for s in _COUNTED)
                + f", COALESCE(SUM(CASE WHEN record_type = {int(RecordType.NO_CALL)} THEN 1 ELSE 0 END), 0) "
                f"FROM records WHERE list_id IN ({marks})",
                lists,
            )
            row = cursor.fetchone()
            for list_id in lists:  # a chain is in one list: counted list by list
                condition, params = _next_records([list_id], moment, cap, scan=True)
                cursor.execute(
                    "SELECT r.time_zone, r.second_time_zone, r.daily_from, r.daily_till, COUNT(*) FROM records r "
                    f"WHERE {condition} GROUP BY r.time_zone, r.second_time_zone, r.daily_from, r.daily_till",
                    params,
                )
                windows += cursor.fetchall()
        if row is not None:
            for name, value in zip(("total", *_COUNTED.values(), "no_call"), row, strict=True):
                counts[name] = int(value)
        clock = _LocalClock(moment)
        counts["dialable_now"] = sum(
            int(n) for zone, second, start, end, n in windows if clock.allows(zone, second, start, end)
        )
        return counts


class Retrieved(NamedTuple):
    """A record a campaign group's dialer holds drawn."""

    record_id: UUID
    chain_id: UUID
    chain_n: int
    list_id: UUID
    client_id: str
    attempt_id: UUID
    retrieved_at: datetime


# The dialable-records query ----------------------------------------------------------------------

_COUNTED = {
    RecordStatus.READY: "ready",
    RecordStatus.RETRIEVED: "retrieved",
    RecordStatus.UPDATED: "updated",
    RecordStatus.STALE: "stale",
}
_NO_CAP = 2**31 - 1
_TYPES = ", ".join(str(int(t)) for t in sorted(dialing_queue.DIALABLE_TYPES))
_HOLDING = ", ".join(str(int(s)) for s in sorted(dialing_queue.HOLDING_STATUSES))
_PERSONAL = int(RecordType.PERSONAL_CALLBACK)
# A chain's next record, as domain.dialing_queue.next_record finds it: its first candidate in
# chain order (a dialable type or a personal callback with its agent, ready, attempts left) in
# a chain holding no record retrieved, updated or stale, kept only when it is due and the draw
# may take it (domain.dialing_queue.may_take). The codes are literals, written as the partial
# indexes' conditions are, so the planner uses them: records_ready_due for the rows and for an
# earlier candidate of the chain (never looked for at position 1), records_holding (the rows
# held now) for a held record, records_personal for the personal callbacks of some agents.
_READY_ROW = f"record_status = {int(RecordStatus.READY)}"
_HELD_ROW = f"record_status IN ({_HOLDING})"
_PERSONAL_ROW = f"record_type = {_PERSONAL} AND {_READY_ROW}"
_PERSONAL_R = f"r.record_type = {_PERSONAL} AND r.{_READY_ROW}"
_DUE = "(r.dial_sched_time IS NULL OR r.dial_sched_time <= ?)"
# An ordinary draw, for whichever agent is free. Parameters: now less the personal callbacks'
# grace period, max attempts, now (epoch seconds).
_CANDIDATE_ROW = (
    f"r.{_READY_ROW} AND (r.record_type IN ({_TYPES}) OR (r.record_type = {_PERSONAL} "
    "AND r.callback_agent_id IS NOT NULL AND COALESCE(r.dial_sched_time, 0) <= ?)) "
    f"AND r.attempt < ? AND {_DUE}"
)
# A held record of the chain, looked up row by row: best when a page stops early.
_NOT_HELD = (
    "NOT EXISTS (SELECT 1 FROM records h WHERE h.list_id = r.list_id AND h.client_id = r.client_id "
    f"AND h.{_HELD_ROW})"
)
# The list's held chains, read once (parameter: the list): best for a scan of a whole list
# (a sort, a count), twice as fast there, and several times slower for a short page.
_NOT_HELD_IN_LIST = f"r.client_id NOT IN (SELECT h.client_id FROM records h WHERE h.list_id = ? AND h.{_HELD_ROW})"
# Parameter: max attempts.
_NO_EARLIER = (
    "(r.chain_n = 1 OR NOT EXISTS (SELECT 1 FROM records o WHERE o.list_id = r.list_id "
    f"AND o.client_id = r.client_id AND o.chain_n < r.chain_n AND o.{_READY_ROW} "
    f"AND (o.record_type IN ({_TYPES}) OR (o.record_type = {_PERSONAL} AND o.callback_agent_id IS NOT NULL)) "
    "AND o.attempt < ?))"
)


def _next_records(
    lists: Sequence[str],
    now: datetime,
    max_attempts: int,
    *,
    scan: bool,
    grace_s: int = 0,
    for_agents: Sequence[str] | None = None,
) -> tuple[str, list[Any]]:
    """The condition (on ``records r``) selecting the lists' next records, and its parameters;
    ``scan``: the query reads every one of them (a sort, a count), not a page. ``grace_s``:
    the personal callbacks' grace period; ``for_agents``: only the personal callbacks of these
    agents (a draw for each of them), else the next records an ordinary draw may take."""
    epoch = int(now.timestamp() // 1)  # dial_sched_time is whole seconds: due within this second
    if for_agents is not None:
        return (
            f"r.list_id IN ({', '.join('?' * len(lists))}) AND {_PERSONAL_R} "
            f"AND r.callback_agent_id IN ({', '.join('?' * len(for_agents))}) AND r.attempt < ? AND {_DUE} "
            f"AND {_NOT_HELD} AND {_NO_EARLIER}",
            [*lists, *for_agents, max_attempts, epoch, max_attempts],
        )
    if scan and len(lists) == 1:
        return (
            f"r.list_id = ? AND {_CANDIDATE_ROW} AND {_NOT_HELD_IN_LIST} AND {_NO_EARLIER}",
            [lists[0], epoch - grace_s, max_attempts, epoch, lists[0], max_attempts],
        )
    return (
        f"r.list_id IN ({', '.join('?' * len(lists))}) AND {_CANDIDATE_ROW} AND {_NOT_HELD} AND {_NO_EARLIER}",
        [*lists, epoch - grace_s, max_attempts, epoch, max_attempts],
    )


_CANDIDATE_COLUMNS = (
    "record_id",
    "chain_id",
    "chain_n",
    "list_id",
    "client_id",
    "contact_info",
    "contact_info_type",
    "record_type",
    "attempt",
    "dial_sched_time",
    "time_zone",
    "second_time_zone",
    "daily_from",
    "daily_till",
    "callback_agent_id",
)
_RULE_COLUMNS = frozenset(FIELDS) & frozenset(COLUMNS)


def _rule_column(field: str) -> str | None:
    return f"r.{field}" if field in _RULE_COLUMNS else None


class _LocalClock:
    """Seconds since local midnight at one instant, per zone, each zone computed once."""

    def __init__(self, now: datetime):
        self.now = now
        self.seconds: dict[str, int | None] = {}

    def at(self, zone: str) -> int | None:
        if zone not in self.seconds:
            self.seconds[zone] = dialing_queue.local_seconds(zone, self.now)
        return self.seconds[zone]

    def allows(self, zone: str, second: str | None, daily_from: int | None, daily_till: int | None) -> bool:
        """As :func:`domain.dialing_queue.inside_daily_window`, from a row's columns."""
        if daily_from is None and daily_till is None:
            return True
        for each in (zone,) if second is None or second == zone else (zone, second):
            seconds = self.at(each)
            if seconds is None or not dialing_queue.daily_allows(daily_from, daily_till, seconds):
                return False
        return True


class _Dialable:
    """One dialable() call: the SQL it runs and the filters and sorting left to Python."""

    def __init__(
        self,
        now: datetime,
        max_attempts: int,
        rule: Rule | None,
        sort: Sequence[SortField],
        excluded: set[int],
        *,
        grace_s: int = 0,
        for_agents: Sequence[str] | None = None,
        agent_group: str = "",
    ):
        self.now = now
        self.max_attempts = max_attempts
        self.grace_s = grace_s
        self.agent_group = agent_group
        self.for_agents = for_agents
        self.clock = _LocalClock(now)
        # The chains left out, by their ids' integers: a row's id is parsed only when some are
        # (a UUID's own hash and text are Python calls; a dialer holds a hundred chains).
        self.excluded = excluded
        self.sql_rule: tuple[str, list[Any]] | None = None
        self.python_rule: Rule | None = None
        if rule is not None and not rule.selects_all:
            self.sql_rule = rule.to_sql(_rule_column)
            self.python_rule = rule if self.sql_rule is None else None
        self.order = [_sort_key(field) for field in sort]
        self.custom_sort = any(column is None for column, _, _ in self.order)
        # Whole rows when a rule reads them here; what a candidate needs, and what a sort
        # made here reads, otherwise.
        self.columns: tuple[str, ...]
        if self.python_rule is not None:
            self.columns = _INSERTED
        elif self.custom_sort:
            sorted_by = [column for column, _, _ in self.order if column is not None]
            self.columns = tuple(dict.fromkeys((*_CANDIDATE_COLUMNS, "custom", *sorted_by)))
        else:
            self.columns = _CANDIDATE_COLUMNS
        self.select = ", ".join(f"r.{c}" for c in self.columns)
        self.index = {c: i for i, c in enumerate(self.columns)}

    def where(self, lists: Sequence[str], *, scan: bool) -> tuple[str, list[Any]]:
        condition, params = _next_records(
            lists, self.now, self.max_attempts, scan=scan, grace_s=self.grace_s, for_agents=self.for_agents
        )
        condition += " AND COALESCE(r.callback_agent_group, '') IN ('', ?)"
        params.append(self.agent_group)
        if self.sql_rule is not None:
            condition += f" AND {self.sql_rule[0]}"
            params += self.sql_rule[1]
        return condition, params

    def keep(self, row: tuple[Any, ...]) -> bool:
        i = self.index
        if self.excluded and _id_int(row[i["chain_id"]]) in self.excluded:
            return False
        if not self.clock.allows(
            row[i["time_zone"]], row[i["second_time_zone"]], row[i["daily_from"]], row[i["daily_till"]]
        ):
            return False
        return self.python_rule is None or self.python_rule.matches(self.mapping(row))

    def mapping(self, row: tuple[Any, ...]) -> dict[str, Any]:
        record = dict(zip(self.columns, row, strict=True))
        record["custom"] = _decode_custom.decode(record["custom"])
        return record

    def candidate(self, row: tuple[Any, ...]) -> Candidate:
        i = self.index
        chain_id = UUID(row[i["chain_id"]])
        chain_n = int(row[i["chain_n"]])
        return Candidate(
            # Derived, not parsed: parsing ids was most of a page's cost.
            record_id=UUID(int=chain_id.int ^ chain_n),  # domain.record_chain.record_id
            chain_id=chain_id,
            chain_n=chain_n,
            list_id=_uuid(row[i["list_id"]]),
            client_id=str(row[i["client_id"]]),
            contact_info=str(row[i["contact_info"]]),
            contact_info_type=int(row[i["contact_info_type"]]),
            record_type=int(row[i["record_type"]]),
            attempt=int(row[i["attempt"]]),
            dial_sched_time=row[i["dial_sched_time"]],
            time_zone=str(row[i["time_zone"]]),
            second_time_zone=row[i["second_time_zone"]],
            callback_agent_id=None if (agent := row[i["callback_agent_id"]]) is None else _uuid_of(agent),
        )

    def page_size(self, limit: int) -> int:
        # Enough that one page usually fills the limit after the filters applied here.
        return limit + len(self.excluded) + 100

    def in_chain_order(self, cursor: Cursor, lists: Sequence[str], limit: int) -> list[Candidate]:
        """No sort fields: list by list, in client id and chain order, page by page (a row-value
        keyset: a range seek along the index of ready records, on SQLite and PostgreSQL)."""
        found: list[Candidate] = []
        page = self.page_size(limit)
        for list_id in lists:
            condition, params = self.where([list_id], scan=False)
            after: tuple[str, int] = ("", 0)
            while True:
                cursor.execute(
                    f"SELECT {self.select} FROM records r WHERE {condition} "
                    "AND (r.client_id, r.chain_n) > (?, ?) ORDER BY r.client_id, r.chain_n LIMIT ?",
                    (*params, after[0], after[1], page),
                )
                # Row by row: a page is sized for the rows the filters here may drop, and most
                # draws fill up on its first few rows (SQLite finds the rest only when asked).
                # A statement left unfinished holds SQLite's read snapshot until it is reset:
                # safe only because dialable's transaction closes this cursor as it ends.
                rows, last = 0, None
                while (row := cursor.fetchone()) is not None:
                    rows, last = rows + 1, row
                    if self.keep(row):
                        found.append(self.candidate(row))
                        if len(found) == limit:
                            return found
                if rows < page or last is None:
                    break
                after = (str(last[self.index["client_id"]]), int(last[self.index["chain_n"]]))
        return found

    def own_callbacks(self, cursor: Cursor, lists: Sequence[str], limit: int) -> list[Candidate]:
        """Personal callbacks of the agents asked for (few: the partial index of them), the
        longest due first."""
        condition, params = self.where(lists, scan=False)
        cursor.execute(
            f"SELECT {self.select} FROM records r WHERE {condition} "
            "ORDER BY r.dial_sched_time, r.list_id, r.client_id, r.chain_n",
            params,
        )
        found: list[Candidate] = []
        for row in cursor.fetchall():
            if self.keep(row):
                found.append(self.candidate(row))
                if len(found) == limit:
                    break
        return found

    def sorted_in_sql(self, cursor: Cursor, lists: Sequence[str], limit: int) -> list[Candidate]:
        """Record-field sort fields: sorted by the database, page by page."""
        condition, params = self.where(lists, scan=True)
        order = [
            f"(r.{column} IS NULL), r.{column}{' DESC' if descending else ''}"
            for column, _, descending in self.order
        ]
        list_order = "CASE r.list_id " + " ".join(f"WHEN ? THEN {n}" for n in range(len(lists))) + " END"
        found: list[Candidate] = []
        page = self.page_size(limit)
        offset = 0
        while True:
            cursor.execute(
                f"SELECT {self.select} FROM records r WHERE {condition} "
                f"ORDER BY {', '.join(order)}, {list_order}, r.client_id, r.chain_n LIMIT ? OFFSET ?",
                (*params, *lists, page, offset),
            )
            rows = cursor.fetchall()
            for row in rows:
                if self.keep(row):
                    found.append(self.candidate(row))
                    if len(found) == limit:
                        return found
            if len(rows) < page:
                return found
            offset += page

    def sorted_here(self, cursor: Cursor, lists: Sequence[str], limit: int) -> list[Candidate]:
        """A custom sort field: every candidate of the lists read, filtered here, and the
        first ``limit`` by the sort fields then the ties' order taken with one key each."""
        condition, params = self.where(lists, scan=True)
        cursor.execute(f"SELECT {self.select} FROM records r WHERE {condition}", params)
        i = self.index
        position = {list_id: n for n, list_id in enumerate(lists)}
        list_at, client_at, chain_n_at, custom_at = i["list_id"], i["client_id"], i["chain_n"], i["custom"]
        fields = [(None if column is None else i[column], custom, descending) for column, custom, descending in self.order]
        keyed = []
        for row in cursor.fetchall():
            if not self.keep(row):
                continue
            custom_fields = _decode_custom.decode(row[custom_at])
            key: list[Any] = []
            for at, custom, descending in fields:
                if at is None:
                    place = _sort_value(_custom_value(custom_fields, custom), custom=True)
                else:
                    place = _sort_value(row[at], custom=False)
                key.append(_directed(place, descending))
            key += (position[row[list_at]], row[client_at], row[chain_n_at])
            keyed.append((tuple(key), row))
        return [self.candidate(row) for _, row in heapq.nsmallest(limit, keyed, key=_first)]


def _sort_key(field: SortField) -> tuple[str | None, str, bool]:
    """(record column or None, custom field name, descending) of a sort field."""
    name = field.field.strip()
    lowered = name.lower()
    if lowered in _RULE_COLUMNS:
        return lowered, "", field.descending
    return None, name[len("custom.") :] if lowered.startswith("custom.") else name, field.descending


def _sort_value(value: Any, *, custom: bool) -> tuple[int, Any]:
    """A value's place: (0, number), (1, text) or (2, None) for an empty one. A custom field
    that reads as a decimal number sorts as one (as selection rules compare it)."""
    if value is None or value == "":
        return (2, None)
    if isinstance(value, int | float):
        return (0, value)
    number = _number(value) if custom else None
    return (0, number) if number is not None else (1, str(value))


def _directed(place: tuple[int, Any], descending: bool) -> tuple[int, Any]:
    """A sort value's key in its field's direction; empty values stay last either way."""
    rank, value = place
    if not descending or value is None:
        return place
    return (rank, -value) if rank == 0 else (rank, _Descending(value))


class _Descending:
    """A text that sorts in reverse."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __lt__(self, other: _Descending) -> bool:
        return other.text < self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _first(pair: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    return pair[0]


def _custom_value(custom: dict[str, str], name: str) -> str | None:
    if name in custom:
        return custom[name]
    folded = name.lower()
    return next((value for key, value in custom.items() if key.lower() == folded), None)


_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")


def _number(text: str) -> Decimal | None:
    return Decimal(text.strip()) if _DECIMAL.fullmatch(text) else None


def _id_int(stored: Any) -> int:
    """The integer of an id as a row holds it (text; a UUID should a driver convert it)."""
    return stored.int if isinstance(stored, UUID) else int(stored.replace("-", ""), 16)


@lru_cache(maxsize=256)
def _uuid(shared: str) -> UUID:
    """The id of a list, which every row of a page shares."""
    return UUID(shared)


def _uuid_of(stored: Any) -> UUID:
    return stored if isinstance(stored, UUID) else UUID(str(stored))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def dump_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    return dump_tables(db, TABLES)
