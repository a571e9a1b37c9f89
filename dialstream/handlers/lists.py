"""Handlers of contact lists: create, change, archive; and their loader, which campaign groups
and imports call."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from dialstream.handlers.context import Context, expect, owned
from dialstream.results import Done
from domain import contact_list
from domain.aggregate import pick
from domain.contact_list import ChangeContactList, ContactList, CreateContactList


class ContactListHandlers:
    def __init__(self, context: Context):
        self.context = context

    def contact_list(self, account_id: UUID, list_id: UUID, field: str = "id") -> ContactList:
        """The list as stored (archived included), or NotFound when missing or another account's."""
        state = self.context.store.load(list_id, contact_list.project)
        return owned(state, account_id, contact_list.LABEL, field)

    def contact_lists(self, account_id: UUID, list_ids: Iterable[UUID]) -> dict[UUID, ContactList]:
        """The lists of a campaign group's ``contact_list_ids``, each checked as :meth:`contact_list`."""
        found = {}
        for index, list_id in enumerate(list_ids):
            found[list_id] = self.contact_list(account_id, list_id, f"contact_list_ids[{index}]")
        return found

    def create(self, account_id: UUID, command: CreateContactList) -> Done:
        self.context.account(account_id)
        list_id = self.context.new_id()
        events = contact_list.create(
            command,
            list_id=list_id,
            account_id=account_id,
            claim=self.context.claim(account_id, contact_list.KIND, command.name),
            now=self.context.now(),
        )
        return self.context.commit(list_id, events)

    def change(
        self,
        account_id: UUID,
        list_id: UUID,
        command: ChangeContactList,
        expected_version: int | None = None,
    ) -> Done:
        state = self.contact_list(account_id, list_id)
        expect(state, expected_version)
        name = pick(command.name, state.name)
        events = contact_list.change(
            state,
            command,
            new_claim=self.context.claim(account_id, contact_list.KIND, name),
            old_claim=self.context.claim(account_id, contact_list.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(list_id, events)

    def archive(self, account_id: UUID, list_id: UUID, expected_version: int | None = None) -> Done:
        state = self.contact_list(account_id, list_id)
        expect(state, expected_version)
        events = contact_list.archive(
            state, claim=self.context.claim(account_id, contact_list.KIND, state.name), now=self.context.now()
        )
        return self.context.commit(list_id, events)
