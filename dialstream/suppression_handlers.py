"""Handlers of suppression lists: create, change, archive, add / remove / expire entries, and
a campaign group's choice of optional lists.

Mixed into :class:`dialstream.handlers.Handlers`, whose attributes and helpers it uses:
``store``, ``clock``, ``new_id``, ``account``, ``_claim``, ``_owned``, ``_expect``, ``_commit``,
``_group``, ``_template`` and ``effective_session``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from dialstream.results import Done
from dialstream.store import ConcurrencyConflict
from domain import suppression_list
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

    def suppression_list(self: Any, account_id: UUID, list_id: UUID, field: str = "id") -> SuppressionList:
        """The list as stored (archived included), or NotFound when missing or another account's."""
        state = self.store.load(list_id, suppression_list.project)
        found: SuppressionList = self._owned(state, account_id, suppression_list.LABEL, field)
        return found

    def create_suppression_list(self: Any, account_id: UUID, command: CreateSuppressionList) -> Done:
        self.account(account_id)
        list_id = self.new_id()
        events = suppression_list.create(
            command,
            list_id=list_id,
            account_id=account_id,
            claim=self._claim(account_id, suppression_list.KIND, command.name),
            now=self.clock(),
        )
        return self._commit(list_id, events)

    def change_suppression_list(
        self: Any,
        account_id: UUID,
        list_id: UUID,
        command: ChangeSuppressionList,
        expected_version: int | None = None,
    ) -> Done:
        state = self.suppression_list(account_id, list_id)
        self._expect(state, expected_version)
        name = pick(command.name, state.name)
        events = suppression_list.change(
            state,
            command,
            new_claim=self._claim(account_id, suppression_list.KIND, name),
            old_claim=self._claim(account_id, suppression_list.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(list_id, events)

    def archive_suppression_list(
        self: Any, account_id: UUID, list_id: UUID, expected_version: int | None = None
    ) -> Done:
        state = self.suppression_list(account_id, list_id)
        self._expect(state, expected_version)
        events = suppression_list.archive(
            state, claim=self._claim(account_id, suppression_list.KIND, state.name), now=self.clock()
        )
        return self._commit(list_id, events)

    # Entries ---------------------------------------------------------------------------

    def _region(self: Any, account_id: UUID) -> tuple[str, ZoneInfo]:
        region = self.account(account_id).settings.region
        return region.country_code, ZoneInfo(region.time_zone)

    def _decide_entries(
        self: Any,
        account_id: UUID,
        list_id: UUID,
        decide: Callable[[SuppressionList, str, ZoneInfo], Outcome],
    ) -> EntriesDone:
        country, zone = self._region(account_id)
        for attempt in range(ENTRY_ATTEMPTS):
            state = self.suppression_list(account_id, list_id)
            outcome = decide(state, country, zone)
            try:
                done = self._commit(list_id, outcome.events)
            except ConcurrencyConflict:
                if attempt == ENTRY_ATTEMPTS - 1:
                    raise
                continue
            return EntriesDone(done, outcome.accepted, outcome.rejected)
        raise AssertionError("unreachable")

    def add_suppression_entries(
        self: Any,
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
                state, entries, source=source, job_id=job_id, region=country, zone=zone, now=self.clock()
            )

        return self._decide_entries(account_id, list_id, decide)

    def remove_suppression_entries(
        self: Any, account_id: UUID, list_id: UUID, entries: Sequence[EntryInput]
    ) -> EntriesDone:
        def decide(state: SuppressionList, country: str, zone: ZoneInfo) -> Outcome:
            return suppression_list.remove_entries(state, entries, region=country, now=self.clock())

        return self._decide_entries(account_id, list_id, decide)

    def expire_suppression_entries(
        self: Any, account_id: UUID, list_id: UUID, keys: Sequence[SuppressionEntryKey]
    ) -> Done:
        state = self.suppression_list(account_id, list_id)
        events = suppression_list.expire_entries(state, keys, now=self.clock())
        return self._commit(list_id, events)

    # Campaign groups -------------------------------------------------------------------

    def select_suppression_lists(
        self: Any,
        account_id: UUID,
        group_id: UUID,
        list_ids: Sequence[UUID],
        expected_version: int | None = None,
    ) -> Done:
        group = existing(self._group(account_id, group_id), "campaign group", "id")
        self._expect(group, expected_version)
        template = self._template(account_id, group.template_id, "template_id")
        session = self.effective_session(account_id, template, group.session_overrides)
        lists = {
            list_id: found
            for list_id in list_ids
            if (found := self.store.load(list_id, suppression_list.project)) is not None
        }
        events = suppression_list.select_suppression_lists(
            group, list_ids, lists=lists, channel=session.channel, now=self.clock()
        )
        return self._commit(group_id, events)
