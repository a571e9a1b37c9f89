"""The dialer: runs the campaign groups that are running, one owner per group at a time.

Input: the campaign groups of the catalogue read model (running or paused), their agents,
queues and calls (see :mod:`processors.dialer.group`), and the telephony's progress events.
Output: through the service layer only — records drawn and returned, call-attempt
events (their results are the call results processor's to apply), agents' reservations and calls, each group's pacing.
State: a :class:`~processors.host.lease.Lease` per group (``dialer:<group id>`` in the shared
database), the accounts' attempts-per-minute claims (:mod:`processors.dialer.budget`, in the
same database) and, per owned group, its calls in flight and records drawn; everything else is
read again from events. Of N dialer processes each group has one owner; another takes it over
once the owner's lease runs out (``LEASE_S``), settling what the dead one held
(:meth:`GroupRun.take_over`): records drawn and dialled become stale, records drawn and not
dialled go back to the queue, so no record is dialled twice for one schedule or lost.
Delivery: effects are stored before they are done on the telephony (an attempt is stored,
then placed); a dialer killed in between leaves a stale record, never a second call.
Run: hosted on :class:`processors.host.lifecycle.Hosted` — ``dialstream up`` (embedded, with
the telephony simulator in wall-clock time) or ``dialstream worker dialer`` (N processes on
Kafka and PostgreSQL share the groups). Tests and benchmarks call :meth:`Dialer.run_once` in
virtual time (:func:`run_virtual`).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from uuid import UUID

from domain.campaign_group import CampaignGroup
from domain.errors import DomainError
from processors.dialer.budget import AttemptBudget
from processors.dialer.group import GroupRun
from processors.dialer.ports import DialerPorts
from processors.host.lease import Lease, new_holder
from processors.host.lifecycle import Hosted
from processors.telephony.port import Progress
from projections.catalogue import CAMPAIGN_GROUP
from projections.sql import Database

log = logging.getLogger(__name__)

LEASE_S = 10.0  # a dead owner's groups are taken over within this (plus one discovery round)
DISCOVER_EVERY_S = 1.0  # wall-clock seconds between looks for groups to own and lease renewals
ACTIVE = ("running", "paused")
TAKE_OVER_WAIT_S = 5.0


class Dialer(Hosted):
    name = "dialer"
    interval_s = 0.05

    def __init__(
        self,
        ports: DialerPorts,
        leases: Database,
        *,
        holder: str | None = None,
        lease_s: float = LEASE_S,
        wall_clock: Callable[[], float] | None = None,
    ):
        super().__init__()
        self.ports = ports
        self.leases_db = leases
        self.budget = AttemptBudget(leases)  # the accounts' attempts-per-minute caps, shared
        self.holder = holder or new_holder()
        self.lease_s = lease_s
        self.wall = wall_clock or time.monotonic
        self.runs: dict[UUID, GroupRun] = {}
        self.leases: dict[UUID, Lease] = {}
        self.discovered_at = -1e18
        self.orphans: list[Progress] = []

    # -- ownership -------------------------------------------------------------------------

    def _discover(self) -> None:
        """Renew the leases held, let go of the groups that ended, and take the free ones."""
        for group_id, lease in list(self.leases.items()):
            if not lease.renew():
                log.warning("dialer %s: lost campaign group %s to another dialer", self.holder, group_id)
                self._drop(group_id)
        active = self._active_groups()
        for group_id, run in list(self.runs.items()):
            if group_id not in active and run.idle():
                self.leases[group_id].release()
                self._drop(group_id)
        for group_id, group in active.items():
            if group_id in self.runs:
                continue
            lease = Lease(self.leases_db, f"dialer:{group_id}", duration_s=self.lease_s, holder=self.holder)
            if lease.acquire() is None:
                continue
            owner = f"{self.holder}#{lease.token}"
            run = GroupRun(self.ports, group.account_id, group_id, owner=owner, budget=self.budget)
            # A group that had an owner before (a token past the first) is taken over only once
            # the read models hold everything stored, so what the last owner left shows. A group
            # never owned has nothing to settle: no wait (on Kafka the wait polls the database).
            wait = self.ports.wait_for_head if (lease.token or 0) > 1 else None
            if wait is not None and not wait(TAKE_OVER_WAIT_S):
                lease.release()  # the read models lag: what the last owner left may not show yet
                log.warning("dialer %s: read models behind the log; campaign group %s waits", self.holder, group_id)
                continue
            try:
                run.take_over(self.ports.telephony.now())
            except Exception:
                lease.release()
                raise
            log.info("dialer %s: runs campaign group %r (%s)", self.holder, group.name, group_id)
            self.runs[group_id], self.leases[group_id] = run, lease

    def _active_groups(self) -> dict[UUID, CampaignGroup]:
        """The groups to run: running or paused ones, and any other whose records a dialer
        holds drawn (stopped while its owner was dead: its owner-to-be gives them back)."""
        holding = self.ports.records.groups_holding()
        return {
            group.id: group
            for group in self.ports.catalogue.of_kind(CAMPAIGN_GROUP)
            if (group.status in ACTIVE and not group.deleted) or group.id in holding
        }

    def _drop(self, group_id: UUID) -> None:
        self.runs.pop(group_id, None)
        self.leases.pop(group_id, None)

    # -- the loop --------------------------------------------------------------------------

    def discover(self) -> None:
        """Look for groups to own and renew the leases now (a virtual-time driver's first step)."""
        self._discover()
        self.discovered_at = self.wall()

    def run_once(self) -> None:
        if self.wall() - self.discovered_at >= DISCOVER_EVERY_S:
            self.discover()
        telephony = self.ports.telephony
        now = telephony.now()
        by_group: dict[UUID, list[Progress]] = defaultdict(list)
        # A poll brings a few events and a group holds many calls: ask each group for each event
        # rather than index every call of every group each round.
        for event in telephony.poll():
            group_id = next((g for g, run in self.runs.items() if event.call_id in run.calls), None)
            if group_id is not None:
                by_group[group_id].append(event)
        for group_id, run in list(self.runs.items()):
            try:
                run.run_step(now, by_group.get(group_id, []))
            except DomainError as error:  # the group was deleted or changed under it
                log.warning("dialer %s: campaign group %s: %s", self.holder, group_id, error)
        if self.budget.kept:
            self.budget.give_back_past(self.ports.cap_now())

    def next_due(self) -> float | None:
        """When the earliest timer of any owned group or call is due (virtual time jumps there)."""
        due = [t for run in self.runs.values() if (t := run.next_due()) is not None]
        telephony_due = self.ports.telephony.next_due()
        if telephony_due is not None:
            due.append(telephony_due)
        return min(due, default=None)

    def on_stop(self) -> None:
        self.budget.flush()
        for lease in self.leases.values():
            lease.release()
        self.runs.clear()
        self.leases.clear()
