"""The suppression index as a projection of the log: entries added, removed, expired, archived.

It follows the event store's log on a thread of its own rather than riding the bus with
the read models: when Redis is down, the read models must keep moving while the index
waits (and pre-dial validation, unable to ask it, denies every call). The index keeps its
own log position (written after the entries, and every write is an overwrite, so a batch
applied twice changes nothing). An index with no position was never built, or lost its
data (a Redis restart without persistence): it is cleared and rebuilt from the start.

Only suppression events are read back, filtered by stored topic in the store, so
following a log of millions of imported records costs nothing here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from typing import Any
from uuid import UUID

from dialstream.store import EventStore, stored_topic_of
from processors.host.log_follower import LogFollower
from processors.suppression.index import (
    IndexUnavailable,
    Matches,
    SuppressionEntry,
    SuppressionIndex,
    SuppressionKey,
    SuppressionQuery,
)
from schemas.base import Event
from schemas.suppression import (
    SuppressionEntriesAdded,
    SuppressionEntriesExpired,
    SuppressionEntriesRemoved,
    SuppressionListArchived,
)

NAME = "suppression-index"
APPLIED = (
    SuppressionEntriesAdded,
    SuppressionEntriesRemoved,
    SuppressionEntriesExpired,
    SuppressionListArchived,
)
STORED_TOPICS: tuple[str, ...] = tuple(stored_topic_of(cls) for cls in APPLIED)
READ_BATCH = 200  # events of up to 5,000 entries each


def apply(index: SuppressionIndex, events: Sequence[Event]) -> None:
    """Apply suppression events to the index, in order."""
    for event in events:
        match event:
            case SuppressionEntriesAdded():
                index.add(
                    SuppressionEntry(
                        list_id=event.originator_id,
                        channel=event.channel,
                        kind=entry.kind,
                        value=entry.value,
                        entry_id=entry.entry_id,
                        expires_at=entry.expires_at,
                    )
                    for entry in event.entries
                )
            case SuppressionEntriesRemoved() | SuppressionEntriesExpired():
                index.remove(
                    SuppressionKey(event.originator_id, event.channel, key.kind, key.value)
                    for key in event.entries
                )
            case SuppressionListArchived():
                index.remove_list(event.originator_id)


def catch_up(
    store: EventStore,
    index: SuppressionIndex,
    *,
    rebuild: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    on_rebuild: Callable[[], None] | None = None,
) -> int:
    """Bring the index to the head of the log (from scratch with ``rebuild``); return its position.

    ``on_rebuild`` is called before an index is cleared to be rebuilt from the start.
    Raises :class:`IndexUnavailable` when the index cannot be written.
    """
    start = None if rebuild else index.position()
    if start is None:
        if on_rebuild is not None:
            on_rebuild()
        index.clear()
        start = 0
    position, head = start, store.position()
    for events, position in store.follow_topics(STORED_TOPICS, after=start, upto=head, batch=READ_BATCH):
        apply(index, events)
        index.set_position(position)
        if on_progress is not None:
            on_progress(position, head)
    return position


class SuppressionIndexFollower(LogFollower):
    """Keeps the index at the head of the log; a hosted service of ``dialstream up``."""

    name = NAME
    # Every append followed at once: the index's lag is how long a new suppression entry can
    # be missed at dial time (FollowedIndex), so it takes no pause between rounds.
    follow_gap_s = 0.0
    wake_topics = frozenset(STORED_TOPICS)  # asleep while the dialer commits its steps

    def __init__(self, store: EventStore, index: SuppressionIndex, *, retry_seconds: float = 1.0):
        super().__init__(store, retry_seconds=retry_seconds)
        self.index = index
        self.ready = threading.Event()  # set once the index has caught up with the log

    def catch_up(self) -> int:
        # An index that lost its data (a Redis restarted without it) is rebuilt from the
        # start: until it is whole again, lookups must not answer from a part of it.
        position = catch_up(self.store, self.index, on_rebuild=self.ready.clear)
        self.ready.set()
        return position

    def expected(self, error: Exception) -> bool:
        return isinstance(error, IndexUnavailable)


class FollowedIndex:
    """The index as pre-dial validation sees it: no answers until it has caught up with the log.

    An embedded index starts empty and is rebuilt at start-up; until the follower reached
    the head of the log once, a lookup would miss entries not yet replayed, so it fails
    closed instead. Afterwards the index trails the log by the follower's lag (normally
    milliseconds): an entry is honoured from the moment the index holds it.
    """

    def __init__(self, index: SuppressionIndex, follower: SuppressionIndexFollower):
        self.index = index
        self.follower = follower

    def lookup(self, queries: Sequence[SuppressionQuery], list_ids: Collection[UUID]) -> Matches:
        if not self.follower.ready.is_set():
            raise self._not_ready()
        return self.index.lookup(queries, list_ids)

    def _not_ready(self) -> IndexUnavailable:
        """Why there is no answer yet: what keeps the follower from catching up (Redis
        unreachable, asked afresh rather than taken from its last try), else the rebuild."""
        error = self.follower.error
        if error is not None and not isinstance(error, IndexUnavailable):
            return IndexUnavailable(
                f"the suppression index cannot be rebuilt from the event log: {type(error).__name__}: {error}"
            )
        try:
            position = self.index.position()
        except IndexUnavailable as unavailable:
            return unavailable
        where = "" if position is None else f" (at log position {position})"
        return IndexUnavailable(f"the suppression index is being rebuilt from the event log{where}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.index, name)
