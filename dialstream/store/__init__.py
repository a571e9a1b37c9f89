"""The event store, at the bottom of the service layer: it imports only ``schemas`` and the
eventsourcing library, never a read model, a processor or a handler.

``events`` is the store itself (the eventsourcing application, its recorders and the log
readers), ``sqlite_wal`` the SQLite set-up every database file shares, ``postgres_recorder``
the PostgreSQL recorder that appends from arrays, ``retry`` the one retry-on-conflict helper.
"""

from dialstream.store.events import (
    ConcurrencyConflict,
    EventStore,
    LogEntry,
    UnitOfWork,
    split_topic,
    store_env,
    stored_topic,
    stored_topic_of,
)
from dialstream.store.retry import retry_on_conflict

__all__ = [
    "ConcurrencyConflict",
    "EventStore",
    "LogEntry",
    "UnitOfWork",
    "retry_on_conflict",
    "split_topic",
    "store_env",
    "stored_topic",
    "stored_topic_of",
]
