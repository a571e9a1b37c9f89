"""Record retention: a periodic sweep that deletes the chains a list no longer keeps.

For every live contact list of every account whose retention is not permanent, the
sweeper reads the list's records from the ``records`` read model, groups them by chain,
and decides with :mod:`domain.retention` (due in the account's time zone, in the list's
scope). Each chain it deletes gets a ``record_chain.deleted`` event (reason
``retention``), appended in batches of at most 1,000.

The read model may lag behind the event store, so a decision made on its rows is checked
against the store before the chain is deleted:

- ``EventStore.heads`` gives each chain's last version and whether it is deleted; a chain
  already deleted (by an earlier sweep, a flush, another sweeper) is skipped;
- a chain still at version 1 has had one event only, so the rows decided on are that
  event's: it is deleted at once;
- any other chain is loaded from the store and decided again on that state, so a chain
  replaced or changed after the row was read is deleted only if it still qualifies;
- the deletion names the version decided on (``version + 1``), so a change stored between
  the decision and the append is a ``ConcurrencyConflict``: the batch is decided again
  once on fresh heads, and if it conflicts again it waits for the next sweep.

Deleting a chain twice, or one that changed after the decision, is therefore impossible,
and two sweepers (two processes) only duplicate work. A list whose rule no longer parses
is skipped with a warning; one failing list does not stop the others.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialstream.clock import utc_now
from dialstream.store import ConcurrencyConflict, EventStore
from domain import record_chain, retention
from domain.contact_list import ContactList
from domain.record_chain import Head
from domain.selection import Rule, SelectionError, parse
from projections.catalogue import CONTACT_LIST, CatalogueQueries
from projections.records import RecordQueries
from schemas.base import Event
from schemas.lists import Retention

log = logging.getLogger(__name__)

BATCH = 1000
INTERVAL_S = 900.0



@dataclass(frozen=True)
class SweepReport:
    lists: int  # lists with a retention other than permanent, swept
    deleted: int  # chains deleted


class _Candidate(NamedTuple):
    chain_id: UUID
    client_id: str


@dataclass(frozen=True)
class _Policy:
    """One list's retention, ready to decide with."""

    contact_list: ContactList
    retention: Retention
    rule: Rule | None
    zone: ZoneInfo
    detail: str

    def expired(self, records: Sequence[dict[str, Any]], imported_at: datetime, now: datetime) -> bool:
        return retention.expired(
            self.retention, self.rule, records=records, imported_at=imported_at, now=now, zone=self.zone
        )


class RetentionSweeper:
    """Deletes expired chains; ``sweep()`` once, or ``run()`` / ``start()`` periodically."""

    def __init__(
        self,
        store: EventStore,
        catalogue: CatalogueQueries,
        records: RecordQueries,
        clock: Callable[[], datetime] = utc_now,
        *,
        batch: int = BATCH,
        interval_s: float = INTERVAL_S,
    ):
        if not 0 < batch <= BATCH:
            raise ValueError(f"batch must be 1-{BATCH}")
        self.store = store
        self.catalogue = catalogue
        self.records = records
        self.clock = clock
        self.batch = batch
        self.interval_s = interval_s
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # Hosting (the bootstrap's Service protocol) ------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stopping, self.interval_s), name="retention", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self, stopping: threading.Event, interval_s: float = INTERVAL_S) -> None:
        """Sweep, then wait ``interval_s``, until ``stopping`` is set."""
        while not stopping.is_set():
            try:
                report = self.sweep(stopping=stopping)
            except Exception as error:  # a failing sweep must not end the loop
                log.exception("retention: sweep failed")
                self.error = error
            else:
                if report.deleted:
                    log.info("retention: %d chains deleted from %d lists", report.deleted, report.lists)
            stopping.wait(interval_s)

    # Sweeping ------------------------------------------------------------------------------

    def sweep(self, now: datetime | None = None, *, stopping: threading.Event | None = None) -> SweepReport:
        """One pass over every list; ``now`` (default: the clock) is the time decided at."""
        now = now if now is not None else self.clock()
        lists = deleted = 0
        for policy in self._policies():
            if stopping is not None and stopping.is_set():
                break
            lists += 1
            try:
                for batch in self._sweep_list(policy, now, stopping):
                    deleted += batch
            except Exception as error:
                log.exception("retention: list %s failed", policy.contact_list.id)
                self.error = error
        return SweepReport(lists=lists, deleted=deleted)

    def _policies(self) -> Iterator[_Policy]:
        for account in self.catalogue.accounts():
            zone: ZoneInfo | None = None
            for contact_list in self.catalogue.list_kind(account.id, CONTACT_LIST):
                settings = contact_list.settings.retention
                if settings.days is None:
                    continue
                rule = None
                if settings.scope == "selection":
                    if not settings.selection_rule.strip():
                        log.warning(
                            "retention: list %s is by selection with no rule; skipped", contact_list.id
                        )
                        continue
                    try:
                        rule = parse(settings.selection_rule, field="settings.retention.selection_rule")
                    except SelectionError as error:
                        log.warning(
                            "retention: list %s has a rule that does not parse (%s); skipped",
                            contact_list.id,
                            error,
                        )
                        continue
                if zone is None:
                    try:
                        zone = ZoneInfo(account.settings.region.time_zone)
                    except (ZoneInfoNotFoundError, ValueError):
                        log.warning(
                            "retention: account %s has an unknown time zone %r; its lists are skipped",
                            account.id,
                            account.settings.region.time_zone,
                        )
                        break
                yield _Policy(contact_list, settings, rule, zone, retention.describe(settings))

    def _sweep_list(self, policy: _Policy, now: datetime, stopping: threading.Event | None) -> Iterator[int]:
        """The number of chains each batch deleted."""
        candidates: list[_Candidate] = []
        for records in _chains(self.records.iterate(policy.contact_list.id)):
            imported_at = datetime.fromisoformat(records[0]["imported_at"])
            if policy.expired(records, imported_at, now):
                candidates.append(_Candidate(UUID(records[0]["chain_id"]), records[0]["client_id"]))
            if len(candidates) >= self.batch:
                yield self._delete(policy, candidates, now)
                candidates = []
                if stopping is not None and stopping.is_set():
                    return
        if candidates:
            yield self._delete(policy, candidates, now)

    def _delete(self, policy: _Policy, candidates: list[_Candidate], now: datetime) -> int:
        for attempt in (1, 2):
            events = self._deletions(policy, candidates, now)
            if not events:
                return 0
            try:
                self.store.append(events)
            except ConcurrencyConflict:
                if attempt == 2:
                    log.warning(
                        "retention: list %s: %d chains changed while being deleted; left for the next sweep",
                        policy.contact_list.id,
                        len(events),
                    )
                    return 0
                continue
            return len(events)
        return 0

    def _deletions(self, policy: _Policy, candidates: list[_Candidate], now: datetime) -> list[Event]:
        """The deletion events of the candidates that still qualify on the event store."""
        heads = self.store.heads([c.chain_id for c in candidates])
        contact_list = policy.contact_list
        events: list[Event] = []
        for chain_id, client_id in candidates:
            head = heads.get(chain_id)
            if head is None or not Head.of(*head).live:
                continue  # never stored (a stale read model) or already deleted
            version = head[0]
            if version > 1:
                stored = self.store.load(chain_id, retention.project)
                if stored is None or stored.chain.deleted:
                    continue
                if not policy.expired(retention.records_of(stored), stored.imported_at, now):
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
                    detail=policy.detail,
                    now=now,
                )
            )
        return events


def _chains(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Consecutive rows of one chain (the read model yields them in client id order)."""
    for _, chain in itertools.groupby(rows, key=lambda row: row["chain_id"]):
        yield list(chain)
