"""The suppression index in this process's memory: the embedded default (``make run``).

It is backed by nothing: like every projection it is rebuilt from the event log when the
process starts (:meth:`clear`, then the suppression events from position 0), so it needs no
file of its own. Rebuilding is bound by reading the log, not by filling dictionaries, and a
file (SQLite) would make every lookup slower for a faster start only; so, plain memory.

To keep millions of entries affordable it stores the same compact encoding as the Redis
adapter (:mod:`processors.suppression.index`): one ``bytes`` key per term (channel, kind and
value) whose ``bytes`` value holds one 36-byte record per list (list id, entry id, expiry),
about 160 bytes of Python memory per entry (measured at 1,000,000). :meth:`remove_list` scans every term (well under
a second per million entries) unless the list has no entries left.

Thread-safe: one lock around every operation.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from uuid import UUID

from processors.suppression.index import (
    RECORD_SIZE,
    IndexUnavailable,
    Matches,
    SuppressionEntry,
    SuppressionKey,
    SuppressionQuery,
    check_position,
    decode_record,
    encode_record,
    encode_term,
)

_SLOT = 16 + RECORD_SIZE  # list id + record


def _find(records: bytes, list_id: bytes) -> int:
    """The offset of the slot of ``list_id`` in ``records``, or -1."""
    for offset in range(0, len(records), _SLOT):
        if records[offset:offset + 16] == list_id:
            return offset
    return -1


class EmbeddedSuppressionIndex:
    """The suppression index in a dictionary; not built until :meth:`clear`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._terms: dict[bytes, bytes] | None = None  # None: not built
        self._sizes: Counter[bytes] = Counter()  # entries per list id
        self._position = 0

    def _built(self) -> dict[bytes, bytes]:
        if self._terms is None:
            raise IndexUnavailable("the embedded suppression index is not built; rebuild it from the log")
        return self._terms

    def add(self, entries: Iterable[SuppressionEntry]) -> None:
        with self._lock:
            terms = self._built()
            for entry in entries:
                term = encode_term(entry.channel, entry.kind, entry.value)
                list_id = entry.list_id.bytes
                slot = list_id + encode_record(entry.entry_id, entry.expires_at)
                records = terms.get(term, b"")
                offset = _find(records, list_id)
                if offset < 0:
                    terms[term] = records + slot
                    self._sizes[list_id] += 1
                else:
                    terms[term] = records[:offset] + slot + records[offset + _SLOT:]

    def remove(self, keys: Iterable[SuppressionKey]) -> None:
        with self._lock:
            terms = self._built()
            for key in keys:
                term = encode_term(key.channel, key.kind, key.value)
                list_id = key.list_id.bytes
                records = terms.get(term)
                if records is None:
                    continue
                offset = _find(records, list_id)
                if offset < 0:
                    continue
                rest = records[:offset] + records[offset + _SLOT:]
                if rest:
                    terms[term] = rest
                else:
                    del terms[term]
                self._sizes[list_id] -= 1
                if not self._sizes[list_id]:
                    del self._sizes[list_id]

    def remove_list(self, list_id: UUID) -> None:
        with self._lock:
            terms = self._built()
            target = list_id.bytes
            left = self._sizes.pop(target, 0)
            if not left:
                return
            changed: dict[bytes, bytes] = {}
            for term, records in terms.items():
                offset = _find(records, target)
                if offset >= 0:
                    changed[term] = records[:offset] + records[offset + _SLOT:]
                    left -= 1
                    if not left:
                        break
            for term, rest in changed.items():
                if rest:
                    terms[term] = rest
                else:
                    del terms[term]

    def lookup(self, queries: Sequence[SuppressionQuery], list_ids: Collection[UUID]) -> Matches:
        if not queries or not list_ids:
            return [[] for _ in queries]
        lists = {list_id.bytes: list_id for list_id in list_ids}
        results: Matches = []
        with self._lock:
            terms = self._built()
            for query in queries:
                records = terms.get(encode_term(query.channel, query.kind, query.value), b"")
                matches: list[SuppressionEntry] = []
                for offset in range(0, len(records), _SLOT):
                    list_id = lists.get(records[offset:offset + 16])
                    if list_id is None:
                        continue
                    entry_id, expires_at = decode_record(records[offset + 16:offset + _SLOT])
                    matches.append(SuppressionEntry(
                        list_id, query.channel, query.kind, query.value, entry_id, expires_at,
                    ))
                matches.sort(key=lambda entry: entry.list_id)
                results.append(matches)
        return results

    def clear(self) -> None:
        with self._lock:
            self._terms = {}
            self._sizes.clear()
            self._position = 0

    def position(self) -> int | None:
        with self._lock:
            return None if self._terms is None else self._position

    def set_position(self, position: int) -> None:
        with self._lock:
            self._built()
            self._position = check_position(position)

    def close(self) -> None:
        pass

    def __len__(self) -> int:
        with self._lock:
            return sum(self._sizes.values())
