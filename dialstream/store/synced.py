"""Aggregate states that a unit of work (the dialer's step, :meth:`EventStore.batch`; a
processor's batch, :meth:`EventStore.unit_of_work`) loads without asking the database for each.

A kept state (:meth:`EventStore.load`) is read again from the database at every load: one
query for the events after its version, five times per dial decision. Here a state is loaded
from memory unless something changed it since:
- a unit's own appends advance the states kept of their aggregates once they are stored (the
  dialer draws a chain, the call results processor reads it as the dialer left it);
- every other append of this process marks the states it makes older as stale, as it is
  stored (:meth:`SyncedStates.changed`);
- other processes' appends (a CLI command on the same SQLite file) show in the log's tail,
  which a unit reads at most every ``TAIL_EVERY_S`` (ids and versions only);
- a decision that conflicted reads its aggregates from the database when it is decided again.

Why this is safe: what the tail shows is complete up to the position read, since SQLite gives
positions in commit order; a state loaded after that read is at least that new; and an
append decided on a state that another writer changed since fails on the stream's version
(:class:`ConcurrencyConflict`), so the dialer's step is decided again, on the state as it is
then. A state another process changed is at worst ``TAIL_EVERY_S`` old when a batch reads it,
as the read models the dialer also reads are a few tens of milliseconds behind the log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol
from uuid import UUID

TAIL_LIMIT = 5_000  # a longer tail (an import ran) reads every state again instead
TAIL_EVERY_S = 0.05  # other processes' appends are read from the log's tail at most this often


class TailRecorder(Protocol):
    def max_notification_id(self) -> int | None: ...
    def select_versions_after(self, after: int, limit: int) -> list[tuple[int, str, int]]: ...


class SyncedStates:
    """The store's kept states. Outside a unit of work, and on PostgreSQL (``recorder`` None:
    its positions are not given in commit order), a load always reads the events after the
    kept version (``verify``): one small query, never a stale state."""

    def __init__(self, recorder: TailRecorder | None, kept: int):
        self.recorder = recorder
        self.kept = kept
        self._lock = threading.Lock()
        # By the id as stored (hex), as the tail names them: (projector, version, state); an
        # aggregate not stored yet is kept too, at version 0 (a new call attempt is loaded to
        # be decided on before its first event).
        self._states: dict[str, tuple[Any, int, Any]] = {}
        self._stale: set[str] = set()
        self._tail: int | None = None  # the log position the tail was read up to
        self._tail_read_at = -1e18

    def sync(self) -> None:
        """Read the log's tail (at most every ``TAIL_EVERY_S``): a state kept at a version
        older than the tail's is read again at its next load."""
        now = time.monotonic()
        if now - self._tail_read_at < TAIL_EVERY_S:
            return
        assert self.recorder is not None, "the tail is read only where positions come in commit order"
        with self._lock:
            self._tail_read_at = now
            if self._tail is None:
                self._tail = self.recorder.max_notification_id() or 0
                return
            rows = self.recorder.select_versions_after(self._tail, TAIL_LIMIT)
            if len(rows) == TAIL_LIMIT:
                self._stale.update(self._states)
                self._tail = self.recorder.max_notification_id() or 0
                return
            states, stale = self._states, self._stale
            for _, originator, version in rows:
                kept = states.get(originator)
                if kept is not None and kept[1] < version:
                    stale.add(originator)
            if rows:
                self._tail = rows[-1][0]

    def load(
        self,
        aggregate_id: UUID,
        project: Callable[[Any, Sequence[Any]], Any],
        events_after: Callable[[UUID, int | None], list[Any]],
        *,
        verify: bool = False,
    ) -> Any:
        key = aggregate_id.hex
        with self._lock:
            kept = self._states.get(key)
            fresh = key not in self._stale and not verify
            tail = self._tail
        if kept is not None and kept[0] is project:
            if fresh:
                return kept[2]
            version, state = kept[1], kept[2]
        else:
            version, state = 0, None
        newer = events_after(aggregate_id, version or None)
        if newer:
            state, version = project(state, newer), newer[-1].originator_version
        with self._lock:
            self._keep(key, (project, version, state))
            if self._tail == tail:
                self._stale.discard(key)
            else:  # another batch read the tail meanwhile: what it saw may be newer
                self._stale.add(key)
        return state

    def kept_fresh(self, aggregate_ids: Iterable[UUID], project: Any) -> tuple[dict[UUID, Any], int | None]:
        """Of these aggregates, the states kept and fresh (None: known not to exist yet), and
        the tail position to pass to :meth:`keep_loaded` for the others."""
        found: dict[UUID, Any] = {}
        with self._lock:
            for aggregate_id in aggregate_ids:
                key = aggregate_id.hex
                kept = self._states.get(key)
                if kept is not None and kept[0] is project and key not in self._stale:
                    found[aggregate_id] = kept[2]
            return found, self._tail

    def keep_loaded(self, loaded: dict[UUID, tuple[int, Any]], project: Any, tail: int | None) -> None:
        """States loaded from the database (version 0: not stored yet) after the tail was at
        ``tail``."""
        with self._lock:
            for aggregate_id, (version, state) in loaded.items():
                key = aggregate_id.hex
                self._keep(key, (project, version, state))
                if self._tail == tail:
                    self._stale.discard(key)
                else:
                    self._stale.add(key)

    def forget(self, aggregate_ids: Iterable[UUID]) -> None:
        """A decision on these conflicted: read them from the database at their next load."""
        with self._lock:
            for aggregate_id in aggregate_ids:
                self._states.pop(aggregate_id.hex, None)
                self._stale.discard(aggregate_id.hex)

    def stored(self, pending: dict[UUID, list[Any]]) -> None:
        """A batch's appends are stored: the states it holds of their aggregates advance."""
        with self._lock:
            for aggregate_id, events in pending.items():
                key = aggregate_id.hex
                kept = self._states.get(key)
                if kept is None:
                    continue
                project, version, state = kept
                if version != events[0].originator_version - 1:
                    del self._states[key]
                    continue
                self._states[key] = (project, events[-1].originator_version, project(state, events))
                self._stale.discard(key)  # stored right after it: nothing came between

    def changed(self, stored: Iterable[tuple[str, int]]) -> None:
        """Appends of this process stored outside a batch, as (id as stored, version): the
        states they make older are read again at their next load."""
        if not self._states:
            return
        with self._lock:
            states, stale = self._states, self._stale
            for key, version in stored:
                kept = states.get(key)
                if kept is not None and kept[1] < version:
                    stale.add(key)

    def _keep(self, key: str, entry: tuple[Any, int, Any]) -> None:
        self._states[key] = entry
        if len(self._states) > self.kept:
            for oldest in list(self._states)[: self.kept // 4]:
                del self._states[oldest]
                self._stale.discard(oldest)
