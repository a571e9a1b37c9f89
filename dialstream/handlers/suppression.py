"""Handlers of suppression lists: create, change, archive, add / remove / expire entries, and
a campaign group's choice of optional lists (which needs the group's effective session, from
the campaign handlers given to :class:`SuppressionHandlers`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID
from zoneinfo import ZoneInfo

from dialstream.handlers.campaigns import CampaignHandlers
from dialstream.handlers.context import Context, expect, owned
from dialstream.results import Done
from dialstream.store import retry_on_conflict
from domain import campaign_group, suppression_list
from domain.aggregate import existing, pick
from domain.suppression_list import (
    ChangeSuppressionList,
    CreateSuppressionList,
    EntryInput,
    Outcome,
    RejectedEntry,
    SuppressionList,
)
from schemas.suppression import EntrySource, SuppressionEntryKey

# Entries do not depend on one another: a batch that lost a race with another batch (or a
# settings change) on the same list is decided again on the new state, this many times.
ENTRY_ATTEMPTS = 3


@dataclass(frozen=True)
class EntriesDone:
    """What an add or remove of entries stored, and the entries it refused."""

    done: Done
    accepted: int  # distinct valid entries named (a removal counts absent ones too)
    rejected: list[RejectedEntry]


class SuppressionHandlers:
    """Suppression lists and their entries."""

    def __init__(self, context: Context, *, campaigns: CampaignHandlers):
        self.context = context
        self.campaigns = campaigns

    def suppression_list(self, account_id: UUID, list_id: UUID, field: str = "id") -> SuppressionList:
        """The list as stored (archived included), or NotFound when missing or another account's."""
        state = self.context.store.load(list_id, suppression_list.project)
        return owned(state, account_id, suppression_list.LABEL, field)

    def create_list(self, account_id: UUID, command: CreateSuppressionList) -> Done:
        self.context.account(account_id)
        list_id = self.context.new_id()
        events = suppression_list.create(
            command,
            list_id=list_id,
            account_id=account_id,
            claim=self.context.claim(account_id, suppression_list.KIND, command.name),
            now=self.context.now(),
        )
        return self.context.commit(list_id, events)

    def change_list(
        self,
        account_id: UUID,
        list_id: UUID,
        command: ChangeSuppressionList,
        expected_version: int | None = None,
    ) -> Done:
        state = self.suppression_list(account_id, list_id)
        expect(state, expected_version)
        name = pick(command.name, state.name)
        events = suppression_list.change(
            state,
            command,
            new_claim=self.context.claim(account_id, suppression_list.KIND, name),
            old_claim=self.context.claim(account_id, suppression_list.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(list_id, events)

    def archive_list(self, account_id: UUID, list_id: UUID, expected_version: int | None = None) -> Done:
        state = self.suppression_list(account_id, list_id)
        expect(state, expected_version)
        events = suppression_list.archive(
            state,
            claim=self.context.claim(account_id, suppression_list.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(list_id, events)

    # Entries ---------------------------------------------------------------------------

    def _region(self, account_id: UUID) -> tuple[str, ZoneInfo]:
        region = self.context.account(account_id).settings.region
        return region.country_code, ZoneInfo(region.time_zone)

    def _decide_entries(
        self,
        account_id: UUID,
        list_id: UUID,
        decide: Callable[[SuppressionList, str, ZoneInfo], Outcome],
    ) -> EntriesDone:
        country, zone = self._region(account_id)

        def attempt() -> EntriesDone:
            outcome = decide(self.suppression_list(account_id, list_id), country, zone)
            done = self.context.commit(list_id, outcome.events)
            return EntriesDone(done, outcome.accepted, outcome.rejected)

        stored = retry_on_conflict(attempt, attempts=ENTRY_ATTEMPTS, what=f"entries of suppression list {list_id}")
        if stored is None:  # only without a single attempt
            raise AssertionError("unreachable")
        return stored

    def add_entries(
        self,
        account_id: UUID,
        list_id: UUID,
        entries: Sequence[EntryInput],
        *,
        source: EntrySource = "api",
        job_id: UUID | None = None,
    ) -> EntriesDone:
        """Add entries; the valid ones are stored, the others come back in ``rejected``
        (:class:`domain.suppression_list.NoValidEntries` when none is valid)."""

        def decide(state: SuppressionList, country: str, zone: ZoneInfo) -> Outcome:
            return suppression_list.add_entries(
                state, entries, source=source, job_id=job_id, region=country, zone=zone, now=self.context.now()
            )

        return self._decide_entries(account_id, list_id, decide)

    def remove_entries(self, account_id: UUID, list_id: UUID, entries: Sequence[EntryInput]) -> EntriesDone:
        def decide(state: SuppressionList, country: str, zone: ZoneInfo) -> Outcome:
            return suppression_list.remove_entries(state, entries, region=country, now=self.context.now())

        return self._decide_entries(account_id, list_id, decide)

    def expire_entries(self, account_id: UUID, list_id: UUID, keys: Sequence[SuppressionEntryKey]) -> Done:
        state = self.suppression_list(account_id, list_id)
        events = suppression_list.expire_entries(state, keys, now=self.context.now())
        return self.context.commit(list_id, events)

    # Campaign groups -------------------------------------------------------------------

    def select_lists(
        self,
        account_id: UUID,
        group_id: UUID,
        list_ids: Sequence[UUID],
        expected_version: int | None = None,
    ) -> Done:
        """The optional suppression lists a campaign group applies besides the required ones."""
        group = existing(self.campaigns.group(account_id, group_id), campaign_group.LABEL, "id")
        expect(group, expected_version)
        template = self.campaigns.template(account_id, group.template_id, "template_id")
        session = self.campaigns.effective_session(account_id, template, group.session_overrides)
        lists = {
            list_id: found
            for list_id in list_ids
            if (found := self.context.store.load(list_id, suppression_list.project)) is not None
        }
        events = suppression_list.select_suppression_lists(
            group, list_ids, lists=lists, channel=session.channel, now=self.context.now()
        )
        return self.context.commit(group_id, events)
