"""The service layer's composition root: every concern shares one store, clock and id
generator, and a decision that loses a race is decided again (``retry_on_conflict``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from dialstream.handlers import Handlers
from dialstream.store import ConcurrencyConflict, EventStore
from domain.contact_list import CreateContactList
from domain.suppression_list import CreateSuppressionList, EntryInput
from schemas.base import Event

NOON = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_a_clock_set_on_the_handlers_is_the_clock_of_every_concern(store: EventStore) -> None:
    handlers = Handlers(store)
    handlers.clock = lambda: NOON

    account_id = handlers.accounts.open_account("Acme").id
    list_id = handlers.lists.create(account_id, CreateContactList(name="November")).id
    dnc = handlers.suppression.create_list(account_id, CreateSuppressionList(name="DNC")).id

    assert handlers.context.account(account_id).created_on == NOON
    assert handlers.lists.contact_list(account_id, list_id).created_on == NOON
    assert handlers.suppression.suppression_list(account_id, dnc).created_on == NOON
    assert handlers.compliance.clock() == NOON


def test_entries_that_lose_a_race_are_decided_again_on_the_list_as_it_is_then(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    handlers = Handlers(store)
    account_id = handlers.accounts.open_account("Acme").id
    dnc = handlers.suppression.create_list(account_id, CreateSuppressionList(name="DNC")).id
    before = handlers.suppression.suppression_list(account_id, dnc).version
    append = store.append
    tries: list[Sequence[Event]] = []

    def race(events: Sequence[Event]) -> int:
        tries.append(events)
        if len(tries) == 1:  # another batch on the same list is stored first
            monkeypatch.setattr(store, "append", append)
            handlers.suppression.add_entries(account_id, dnc, [EntryInput(kind="client_id", value="C0")])
            monkeypatch.setattr(store, "append", race)
        return append(events)

    monkeypatch.setattr(store, "append", race)
    added = handlers.suppression.add_entries(account_id, dnc, [EntryInput(kind="client_id", value="C1")])

    assert len(tries) == 2  # the first decision met a conflict; the second was on the new version
    assert [e.originator_version for e in tries[1]] == [before + 2]
    assert added.accepted == 1 and not added.rejected
    assert handlers.suppression.suppression_list(account_id, dnc).version == before + 2


def test_a_decision_that_keeps_losing_raises_the_last_conflict(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    handlers = Handlers(store)
    account_id = handlers.accounts.open_account("Acme").id
    dnc = handlers.suppression.create_list(account_id, CreateSuppressionList(name="DNC")).id
    tries: list[int] = []

    def always(events: Sequence[Event]) -> int:
        tries.append(len(events))
        raise ConcurrencyConflict("another batch got there first")

    monkeypatch.setattr(store, "append", always)
    with pytest.raises(ConcurrencyConflict):
        handlers.suppression.add_entries(account_id, dnc, [EntryInput(kind="client_id", value="C1")])
    assert len(tries) == 3
