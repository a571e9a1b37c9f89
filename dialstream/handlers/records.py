"""Handlers of record chains as a whole: deleting the chains a list no longer keeps.

The retention sweep (:mod:`processors.retention.sweep`) finds candidates on the ``records``
read model, which may lag behind the store; the handler decides again on the store before
anything is deleted, so a chain deleted meanwhile is skipped and one changed meanwhile is
deleted only if it still qualifies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from dialstream.handlers.context import Context
from dialstream.store import retry_on_conflict
from domain import record_chain, retention
from domain.contact_list import ContactList
from domain.record_chain import Head
from schemas.base import Event

# Whether a chain's records, imported at a time, are past the list's retention at ``now``.
Expired = Callable[[Sequence[dict[str, Any]], datetime, datetime], bool]


class Candidate(NamedTuple):
    chain_id: UUID
    client_id: str


class RecordHandlers:
    def __init__(self, context: Context):
        self.context = context

    def delete_expired_chains(
        self,
        contact_list: ContactList,
        candidates: Sequence[Candidate],
        *,
        expired: Expired,
        detail: str,
        now: datetime,
        before_storing: Callable[[], object] = lambda: None,
    ) -> int:
        """Delete the candidates that are still live and still ``expired`` on the store, in one
        transaction; how many were deleted. ``before_storing`` runs just before the append (the
        sweep checks that it still holds its lease). A chain changed between the decision and
        the append makes the batch be decided again once; ConcurrencyConflict if it changes again.
        """

        def attempt() -> int:
            deletions = self._deletions(contact_list, candidates, expired, detail, now)
            if not deletions:
                return 0
            before_storing()
            self.context.store.append(deletions)
            return len(deletions)

        return retry_on_conflict(attempt, attempts=2, what=f"retention of list {contact_list.id}") or 0

    def _deletions(
        self,
        contact_list: ContactList,
        candidates: Sequence[Candidate],
        expired: Expired,
        detail: str,
        now: datetime,
    ) -> list[Event]:
        store = self.context.store
        heads = store.heads([c.chain_id for c in candidates])
        events: list[Event] = []
        for chain_id, client_id in candidates:
            head = heads.get(chain_id)
            if head is None or not Head.of(*head).live:
                continue  # never stored (a stale read model) or already deleted
            version = head[0]
            if version > 1:  # at version 1 the rows decided on are the chain's only event's
                stored = store.load(chain_id, retention.project)
                if stored is None or stored.chain.deleted:
                    continue
                if not expired(retention.records_of(stored), stored.imported_at, now):
                    continue  # changed since the row was read, and no longer qualifies
                version = stored.chain.version
            events.append(
                record_chain.deletion(
                    chain_id,
                    version=version,
                    list_id=contact_list.id,
                    client_id=client_id,
                    account_id=contact_list.account_id,
                    reason="retention",
                    job_id=None,
                    detail=detail,
                    now=now,
                )
            )
        return events
