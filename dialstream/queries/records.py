"""One record, found from its id alone, from the event store.

The record is found through its chain (:func:`domain.record_chain.chain_candidates`): a
record id leads back to the one chain of the event store it can belong to, loaded from the
store itself (not a read model), so a record imported a moment ago is found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from dialstream.store import EventStore
from domain import record_chain
from domain.errors import NotFound
from domain.record_chain import Head, RecordChain, chain_candidates
from schemas.records import Record, RecordChainDeleted


class ChainDeleted(NotFound):
    """The record's chain existed in the caller's account and was deleted."""

    def __init__(self, chain: RecordChain, chain_n: int, deletion: RecordChainDeleted | None):
        super().__init__(f"chain {chain.id} was deleted", field="record_id")
        self.chain = chain
        self.chain_n = chain_n
        self.deletion = deletion


class Stored(Protocol):
    """Where records are read from (the process's runtime has it)."""

    @property
    def store(self) -> EventStore: ...


@dataclass(frozen=True)
class Located:
    chain: RecordChain
    record: Record


def locate(sources: Stored, account_id: UUID, record_id: UUID) -> Located:
    """The caller's record with this id.

    :class:`~domain.errors.NotFound` when there is none (or it is another account's: the
    same answer, so ids of other accounts are not confirmed); :class:`ChainDeleted` when its
    chain was deleted, with the deletion when it can be read.
    """
    store = sources.store
    candidates = chain_candidates(record_id)
    heads = store.heads(list(candidates))
    for chain_id in sorted(heads, key=lambda found: candidates[found]):
        version, topic = heads[chain_id]
        chain = store.load(chain_id, record_chain.project)
        if not isinstance(chain, RecordChain) or chain.account_id != account_id:
            continue
        chain_n = candidates[chain_id]
        if chain.deleted or not Head.of(version, topic).live:
            raise ChainDeleted(chain, chain_n, _deletion(store, chain_id))
        record = next((r for r in chain.records if r.chain_n == chain_n), None)
        if record is None or record.record_id != record_id:
            raise NotFound(
                f"record {record_id} not found: its chain (client id {chain.client_id!r} of contact "
                f"list {chain.list_id}) holds {len(chain.records)} record(s) now, not this one",
                field="record_id",
            )
        return Located(chain, record)
    raise NotFound(f"record {record_id} not found", field="record_id")


def _deletion(store: EventStore, chain_id: UUID) -> RecordChainDeleted | None:
    try:
        last = next(iter(store.events.get(chain_id, desc=True, limit=1)), None)
    except Exception:  # the 404 stands without its details
        return None
    return last if isinstance(last, RecordChainDeleted) else None
