"""suppression_lists: each account's suppression lists, how many entries each holds, and the
optional lists each campaign group selected; which lists apply to a campaign.

Three tables:

- ``suppression_lists``: one row per list, its state folded with the aggregate's own
  ``evolve`` (as the catalogue does), its settings in columns for queries, and its number
  of entries;
- ``suppression_entries``: the key (entry id, i.e. list, kind and value) and expiry of every
  entry, so that the number of entries is exact — adding an entry that is already there,
  or removing one that is not, changes nothing — and entries past their expiry can be found
  (:meth:`SuppressionListQueries.expired`). Answering "is this contact suppressed" is the
  suppression index's job (:mod:`processors.suppression.index`), not this table's;
- ``suppression_selections``: (campaign group, list) pairs, from
  ``campaign_group.suppression_lists_selected``; a deleted group's go with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from domain import suppression_list
from domain.suppression_list import SuppressionList, entry_id
from projections.sql import Cursor, Database
from schemas import campaigns, topics
from schemas import suppression as s
from schemas.base import Event

# Words in a required list's name that mark it as the "do not contact" list of its channel.
_DO_NOT_CONTACT_NAMES = ("dnc", "not call", "not contact", "opt-out", "opt out", "unsubscribe")

TABLES = ("suppression_lists", "suppression_entries", "suppression_selections")
# Entry ids per "IN (...)" query: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 500
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(SuppressionList)


class SuppressionListRow(msgspec.Struct, frozen=True, kw_only=True):
    state: SuppressionList
    entry_count: int


class ExpiredEntry(msgspec.Struct, frozen=True, kw_only=True):
    account_id: UUID
    list_id: UUID
    kind: s.EntryKind
    value: str
    expires_at: int


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]


class SuppressionLists:
    name = "suppression_lists"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.SUPPRESSIONS, topics.CAMPAIGNS)

    def create_tables(self, cursor: Cursor) -> None:
        for statement in (
            "CREATE TABLE IF NOT EXISTS suppression_lists (id TEXT PRIMARY KEY, "
            "account_id TEXT NOT NULL, name TEXT NOT NULL, channel TEXT NOT NULL, "
            "required INTEGER NOT NULL, retention_days INTEGER, archived INTEGER NOT NULL, "
            "entry_count BIGINT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS suppression_lists_by_account "
            "ON suppression_lists (account_id, channel, name)",
            "CREATE TABLE IF NOT EXISTS suppression_entries (entry_id TEXT PRIMARY KEY, "
            "list_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, expires_at BIGINT)",
            "CREATE INDEX IF NOT EXISTS suppression_entries_by_list ON suppression_entries (list_id)",
            "CREATE INDEX IF NOT EXISTS suppression_entries_by_expiry ON suppression_entries (expires_at)",
            "CREATE TABLE IF NOT EXISTS suppression_selections (group_id TEXT NOT NULL, "
            "list_id TEXT NOT NULL, account_id TEXT NOT NULL, ordinal INTEGER NOT NULL, "
            "PRIMARY KEY (group_id, list_id))",
        ):
            cursor.execute(statement)

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        key = str(event.originator_id)
        match event:
            case s.CampaignGroupSuppressionListsSelected():
                cursor.execute("DELETE FROM suppression_selections WHERE group_id = ?", (key,))
                selections = [
                    (key, str(list_id), str(event.account_id), ordinal)
                    for ordinal, list_id in enumerate(event.suppression_list_ids)
                ]
                if selections:
                    cursor.executemany("INSERT INTO suppression_selections VALUES (?, ?, ?, ?)", selections)
                return
            case campaigns.CampaignGroupDeleted():
                cursor.execute("DELETE FROM suppression_selections WHERE group_id = ?", (key,))
                return
            case s.SuppressionEvent():
                pass
            case _:
                return
        state: SuppressionList | None = None
        entry_count = 0
        cursor.execute("SELECT body, entry_count FROM suppression_lists WHERE id = ?", (key,))
        row = cursor.fetchone()
        if row is not None:
            state, entry_count = _decoder.decode(row[0]), int(row[1])
            if event.originator_version <= state.version:
                return  # applied already (a list's events arrive in order, on one partition)
        elif not isinstance(event, s.SuppressionListCreated):
            return
        state = suppression_list.evolve(state, event)
        if state is None:
            return
        match event:
            case s.SuppressionEntriesAdded():
                entry_count += self._add(cursor, event)
            case s.SuppressionEntriesRemoved() | s.SuppressionEntriesExpired():
                entry_count -= self._remove(cursor, event.originator_id, event.entries)
            case s.SuppressionListArchived():
                # Its entries left the index with it; a list is never unarchived.
                cursor.execute("DELETE FROM suppression_entries WHERE list_id = ?", (key,))
                entry_count = 0
        cursor.execute(
            "INSERT INTO suppression_lists VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "name = excluded.name, required = excluded.required, "
            "retention_days = excluded.retention_days, archived = excluded.archived, "
            "entry_count = excluded.entry_count, version = excluded.version, body = excluded.body",
            (
                key,
                str(state.account_id),
                state.name,
                state.channel,
                int(state.required),
                state.retention_days,
                int(state.archived),
                entry_count,
                state.version,
                _encoder.encode(state).decode(),
            ),
        )

    @staticmethod
    def _present(cursor: Cursor, ids: Sequence[str]) -> set[str]:
        present: set[str] = set()
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            cursor.execute(f"SELECT entry_id FROM suppression_entries WHERE entry_id IN ({marks})", chunk)
            present.update(str(row[0]) for row in cursor.fetchall())
        return present

    def _add(self, cursor: Cursor, event: s.SuppressionEntriesAdded) -> int:
        """Upsert the entries; how many were not there before."""
        rows = {
            str(entry.entry_id): (
                str(entry.entry_id),
                str(event.originator_id),
                entry.kind,
                entry.value,
                entry.expires_at,
            )
            for entry in event.entries
        }
        present = self._present(cursor, list(rows))
        cursor.executemany(
            "INSERT INTO suppression_entries VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (entry_id) DO UPDATE SET expires_at = excluded.expires_at",
            list(rows.values()),
        )
        return len(rows) - len(present)

    def _remove(self, cursor: Cursor, list_id: UUID, keys: Sequence[s.SuppressionEntryKey]) -> int:
        """Delete the entries; how many were there."""
        ids = list(dict.fromkeys(str(entry_id(list_id, key.kind, key.value)) for key in keys))
        present = self._present(cursor, ids)
        if present:
            cursor.executemany("DELETE FROM suppression_entries WHERE entry_id = ?", [(i,) for i in present])
        return len(present)


class SuppressionListQueries:
    def __init__(self, db: Database):
        self.db = db

    def get(self, account_id: UUID, list_id: UUID) -> SuppressionListRow | None:
        """The list, or None when missing, archived, or another account's."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT body, entry_count FROM suppression_lists "
                "WHERE id = ? AND account_id = ? AND archived = 0",
                (str(list_id), str(account_id)),
            )
            row = cursor.fetchone()
        return (
            None
            if row is None
            else SuppressionListRow(state=_decoder.decode(row[0]), entry_count=int(row[1]))
        )

    def present(self, ids: Sequence[UUID]) -> set[UUID]:
        """Those of these entry ids that some list holds (an entry id names its list)."""
        with self.db.reading() as cursor:
            return {UUID(i) for i in SuppressionLists._present(cursor, [str(i) for i in ids])}

    def entries_page(self, list_id: UUID, limit: int = s.MAX_ENTRIES_PER_EVENT) -> list[s.SuppressionEntryKey]:
        """Up to ``limit`` of the list's entries (what a "flush and append" import removes)."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT kind, value FROM suppression_entries WHERE list_id = ? ORDER BY entry_id LIMIT ?",
                (str(list_id), limit),
            )
            rows = cursor.fetchall()
        return [s.SuppressionEntryKey(kind=kind, value=value) for kind, value in rows]

    def list_by_account(self, account_id: UUID) -> list[SuppressionListRow]:
        """The account's lists that are not archived, by name."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT body, entry_count FROM suppression_lists WHERE account_id = ? AND archived = 0 "
                "ORDER BY name, id",
                (str(account_id),),
            )
            rows = cursor.fetchall()
        return [
            SuppressionListRow(state=_decoder.decode(body), entry_count=int(count)) for body, count in rows
        ]

    def required_for(self, account_id: UUID, channel: str) -> UUID | None:
        """The account's required list of ``channel`` that a contact's "do not contact me" goes
        on: the one named as such when there are several ("DNC", "do not call", "opt-out"),
        else the first by name; None when the account has no required list of the channel."""
        required = [row.state for row in self.list_by_account(account_id) if row.state.required and row.state.channel == channel]
        named = [s for s in required if any(word in s.name.casefold() for word in _DO_NOT_CONTACT_NAMES)]
        chosen = (named or required)[:1]
        return chosen[0].id if chosen else None

    def any_active(self) -> bool:
        """Whether any account has a suppression list that is not archived."""
        with self.db.reading() as cursor:
            cursor.execute("SELECT 1 FROM suppression_lists WHERE archived = 0 LIMIT 1")
            return cursor.fetchone() is not None

    def applicable(self, account_id: UUID, channel: str, campaign_group_id: UUID | None) -> list[UUID]:
        """The lists a campaign on ``channel`` must respect, by id: the account's required
        lists of that channel and, for a campaign group, the optional ones it selected;
        archived lists never."""
        rows = self.db.select(
            "SELECT id FROM suppression_lists WHERE account_id = ? AND channel = ? AND archived = 0 "
            "AND (required = 1 OR id IN (SELECT list_id FROM suppression_selections "
            "WHERE group_id = ? AND account_id = ?)) ORDER BY id",
            # No group: no selection matches the empty id.
            (str(account_id), channel, str(campaign_group_id or ""), str(account_id)),
        )
        return [UUID(row[0]) for row in rows]

    def selected(self, account_id: UUID, campaign_group_id: UUID) -> list[UUID]:
        """The optional lists a campaign group selected, in its order (archived ones included)."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT list_id FROM suppression_selections WHERE group_id = ? AND account_id = ? "
                "ORDER BY ordinal",
                (str(campaign_group_id), str(account_id)),
            )
            rows = cursor.fetchall()
        return [UUID(row[0]) for row in rows]

    def expired(self, now: int, limit: int = s.MAX_ENTRIES_PER_EVENT) -> list[ExpiredEntry]:
        """Up to ``limit`` entries whose ``expires_at`` is at or before ``now`` (UTC epoch
        seconds), soonest first: what an expiry sweep removes with ``entries_expired``."""
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT l.account_id, e.list_id, e.kind, e.value, e.expires_at FROM suppression_entries e "
                "JOIN suppression_lists l ON l.id = e.list_id "
                "WHERE e.expires_at IS NOT NULL AND e.expires_at <= ? "
                "ORDER BY e.expires_at, e.entry_id LIMIT ?",
                (now, limit),
            )
            rows = cursor.fetchall()
        return [
            ExpiredEntry(
                account_id=UUID(account),
                list_id=UUID(list_id),
                kind=kind,
                value=value,
                expires_at=int(expires),
            )
            for account, list_id, kind, value, expires in rows
        ]
