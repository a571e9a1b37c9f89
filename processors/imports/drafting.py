"""Drafting rows where the CPU is free: in this process, or in worker processes for big files.

A drafted row comes back as the stored form of the event it most often becomes (a new
chain, version 1), encoded by the worker; the storing thread only has to check that the
chain is indeed new, which keeps the per-row cost of the one writing thread small.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import get_context
from typing import Generic, NamedTuple, TypeVar
from uuid import UUID

from dialstream.gc_tuning import tune_for_throughput
from domain import record_chain
from domain.record_chain import ChainDraft, Rejection
from domain.record_import import Drafting, draft_rows
from schemas import registry
from schemas.records import RecordChainImported

B = TypeVar("B")
PARENT_CHECK_SECONDS = 0.5
Row = tuple[int, list[str]]


@dataclass(frozen=True)
class JobContext:
    drafting: Drafting
    account_id: UUID
    job_id: UUID


class Drafted(NamedTuple):
    """A row accepted as a chain: its new-chain event already encoded (version 1)."""

    line: int
    client_id: str
    chain_id: bytes
    body: bytes
    records: int
    dropped: list[tuple[str, str]]


def draft_encoded(ctx: JobContext, rows: list[Row], now: datetime) -> list[Drafted | Rejection]:
    out: list[Drafted | Rejection] = []
    list_id = ctx.drafting.list_id
    for draft in draft_rows(ctx.drafting, rows):
        if isinstance(draft, Rejection):
            out.append(draft)
            continue
        chain = draft.chain_id
        event = record_chain.chain_event(
            draft,
            result="imported",
            chain=chain,
            version=0,
            list_id=list_id,
            account_id=ctx.account_id,
            job_id=ctx.job_id,
            now=now,
        )
        out.append(
            Drafted(
                draft.line,
                draft.client_id,
                chain.bytes,
                registry.encode(event),
                len(draft.records),
                draft.dropped,
            )
        )
    return out


def as_draft(drafted: Drafted) -> ChainDraft:
    """The draft back from its encoded event, for the rarer outcomes (update, revival)."""
    event = registry.decode(RecordChainImported.tag(), RecordChainImported.SCHEMA_VERSION, drafted.body)
    assert isinstance(event, RecordChainImported)
    return ChainDraft(
        line=event.line,
        client_id=event.client_id,
        chain_id=event.originator_id,
        records=event.records,
        contact=event.contact,
        custom=event.custom,
        dropped=drafted.dropped,
    )


class Drafter(Generic[B]):
    """Drafts batches in order: in this thread, or in worker processes (``workers`` > 0)."""

    def __init__(self, ctx: JobContext, workers: int):
        self.ctx = ctx
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Drafter[B]:
        if self.workers:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=get_context("spawn"), initializer=_remember, initargs=(self.ctx,)
            )
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def drafted(
        self, batches: Iterable[tuple[B, list[Row]]], now: datetime
    ) -> Iterator[tuple[B, list[Drafted | Rejection]]]:
        if self._pool is None:
            for batch, rows in batches:
                yield batch, draft_encoded(self.ctx, rows, now)
            return
        window: deque[tuple[B, Future[list[Drafted | Rejection]]]] = deque()
        for batch, rows in batches:
            window.append((batch, self._pool.submit(_draft_remembered, rows, now)))
            if len(window) > 2 * self.workers:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()


_worker_ctx: JobContext | None = None


def _remember(ctx: JobContext) -> None:
    global _worker_ctx
    _worker_ctx = ctx
    tune_for_throughput()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    # A killed import process (SIGKILL, OOM) shuts no pool down, and its workers would
    # wait on their task queue forever: a worker leaves once its parent is gone.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _draft_remembered(rows: list[Row], now: datetime) -> list[Drafted | Rejection]:
    assert _worker_ctx is not None
    return draft_encoded(_worker_ctx, rows, now)
