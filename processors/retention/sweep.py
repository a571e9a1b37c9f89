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

The check on the store and the append are the service layer's
(:meth:`dialstream.handlers.records.RecordHandlers.delete_expired_chains`); the sweep finds
the candidates and holds the lease.

Deleting a chain twice, or one that changed after the decision, is therefore impossible.
A list whose rule no longer parses is skipped with a warning; one failing list does not
stop the others.

Hosting: :func:`scheduled` declares the sweep for the one scheduler
(:mod:`processors.host.schedule`): every 15 minutes, run by the one process of the
deployment that holds the ``retention`` lease, which checks it before each batch and stops
writing once another process took it over. Input: the ``catalogue`` and ``records`` read
models and the event store; output: ``record_chain.deleted`` events; state: none of its own
(the lease and the last run are the scheduler's). Run: ``dialstream up`` hosts it;
``dialstream worker retention`` on Kafka, as many as you like (one sweeps at a time).
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialstream.clock import utc_now
from dialstream.handlers.context import Context
from dialstream.handlers.records import Candidate, RecordHandlers
from dialstream.store import ConcurrencyConflict, EventStore
from domain import retention
from domain.contact_list import ContactList
from domain.selection import Rule, SelectionError, parse
from processors.host.lease import LeaseLost
from processors.host.schedule import Every, Schedule, Tick
from projections.catalogue import CONTACT_LIST, CatalogueQueries
from projections.records import RecordQueries
from schemas.lists import Retention

log = logging.getLogger(__name__)

BATCH = 1000
INTERVAL_S = 900.0
NAME = "retention"


def scheduled(sweeper: RetentionSweeper, every_s: float = INTERVAL_S) -> Schedule:
    """The sweep's schedule: every 15 minutes, by one process of the deployment at a time."""
    return Schedule(NAME, Every(every_s), sweeper)


@dataclass(frozen=True)
class SweepReport:
    lists: int  # lists with a retention other than permanent, swept
    deleted: int  # chains deleted


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
    """Deletes expired chains: ``sweep()`` once; hosted periodically by :func:`scheduled`."""

    def __init__(
        self,
        store: EventStore,
        catalogue: CatalogueQueries,
        records: RecordQueries,
        clock: Callable[[], datetime] = utc_now,
        *,
        batch: int = BATCH,
        handlers: RecordHandlers | None = None,
    ):
        if not 0 < batch <= BATCH:
            raise ValueError(f"batch must be 1-{BATCH}")
        self.store = store
        # Deletions are stored through the service layer (given by the composition root; a
        # sweeper made on its own, as in tests, gets handlers over its store).
        self.handlers = handlers or RecordHandlers(Context(store, clock=clock, new_id=uuid.uuid4))
        self.catalogue = catalogue
        self.records = records
        self.clock = clock
        self.batch = batch
        self.error: BaseException | None = None  # the last list that failed, if any

    def __call__(self, tick: Tick) -> SweepReport:
        """The scheduled job: a sweep at the tick's time that stops writing once the lease is lost."""
        report = self.sweep(tick.now, stopping=tick.stopping, fence=tick.check)
        if report.deleted:
            log.info("retention: %d chains deleted from %d lists", report.deleted, report.lists)
        return report

    # Sweeping ------------------------------------------------------------------------------

    def sweep(
        self,
        now: datetime | None = None,
        *,
        stopping: Callable[[], bool] = lambda: False,
        fence: Callable[[], object] = lambda: None,
    ) -> SweepReport:
        """One pass over every list; ``now`` (default: the clock) is the time decided at.

        ``fence`` runs before each batch of deletions and raises to stop the sweep (a
        scheduler's lease taken over: :class:`processors.host.lease.LeaseLost`)."""
        now = now if now is not None else self.clock()
        lists = deleted = 0
        for policy in self._policies():
            if stopping():
                break
            lists += 1
            try:
                for batch in self._sweep_list(policy, now, stopping, fence):
                    deleted += batch
            except LeaseLost:
                raise
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

    def _sweep_list(
        self, policy: _Policy, now: datetime, stopping: Callable[[], bool], fence: Callable[[], object]
    ) -> Iterator[int]:
        """The number of chains each batch deleted."""
        candidates: list[Candidate] = []
        for records in _chains(self.records.iterate(policy.contact_list.id)):
            imported_at = datetime.fromisoformat(records[0]["imported_at"])
            if policy.expired(records, imported_at, now):
                candidates.append(Candidate(UUID(records[0]["chain_id"]), records[0]["client_id"]))
            if len(candidates) >= self.batch:
                yield self._delete(policy, candidates, now, fence)
                candidates = []
                if stopping():
                    return
        if candidates:
            yield self._delete(policy, candidates, now, fence)

    def _delete(
        self, policy: _Policy, candidates: list[Candidate], now: datetime, fence: Callable[[], object]
    ) -> int:
        try:
            return self.handlers.delete_expired_chains(
                policy.contact_list,
                candidates,
                expired=policy.expired,
                detail=policy.detail,
                now=now,
                before_storing=fence,
            )
        except ConcurrencyConflict:
            log.warning(
                "retention: list %s: chains changed while being deleted; left for the next sweep",
                policy.contact_list.id,
            )
            return 0


def _chains(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Consecutive rows of one chain (the read model yields them in client id order)."""
    for _, chain in itertools.groupby(rows, key=lambda row: row["chain_id"]):
        yield list(chain)
