"""What the handlers of every concern share, held by composition (never inherited): the store,
the clock, the id generator and the secret box, storing a decision, name claims and loading
the account; and
the two checks every handler of an owned object makes (:func:`owned`, :func:`expect`).

The composition root (:class:`dialstream.handlers.Handlers`) builds one :class:`Context` and
hands it to each concern, so a test that stops the clock stops it for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from dialstream.results import Done
from dialstream.secrets import SecretBox
from dialstream.store import EventStore
from domain import account, name_claim
from domain.account import Account
from domain.aggregate import Aggregate
from domain.errors import NotFound, StaleVersion
from domain.name_claim import NameClaim
from schemas.base import Event

A = TypeVar("A", bound=Aggregate)


class Context:
    """The store, clock, id generator and secret box of one process's handlers, and the steps
    they share."""

    def __init__(
        self,
        store: EventStore,
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[], UUID],
        secrets: SecretBox | None = None,
    ):
        self.store = store
        self.clock = clock
        self.new_id = new_id
        self._secrets = secrets

    @property
    def secrets(self) -> SecretBox:
        """The box that seals what events keep of a secret (and opens it again)."""
        if self._secrets is None:
            # A box of its own would seal with a key no other process has: refuse instead.
            raise RuntimeError("these handlers were built without the deployment's secret box")
        return self._secrets

    def now(self) -> datetime:
        """The time by the clock in force now (a test may replace :attr:`clock`)."""
        return self.clock()

    def commit(self, aggregate_id: UUID, events: Sequence[Event]) -> Done:
        """Store the events of one decision atomically (at consecutive positions)."""
        last = self.store.append(events)
        # Inside a unit of work the events get their positions when it ends: not known here.
        return Done(aggregate_id, last, first=last - len(events) + 1 if last and events else None)

    def claim(self, account_id: UUID, kind: str, name: str) -> NameClaim | None:
        """The claim on ``name`` among the account's objects of ``kind`` (None: unclaimed)."""
        return self.store.load(name_claim.claim_id(account_id, kind, name), name_claim.project)

    def account(self, account_id: UUID) -> Account:
        state = self.store.load(account_id, account.project)
        if state is None:
            raise NotFound("account not found", field="account_id")
        return state


def owned(state: A | None, account_id: UUID, label: str, field: str = "id") -> A:
    """Another account's object is reported as missing, never shown."""
    if state is None or state.account_id != account_id:
        raise NotFound(f"{label} not found", field=field)
    return state


def expect(state: Aggregate, expected_version: int | None) -> None:
    """Honour the client's If-Match: refuse to change a version it has not seen."""
    if expected_version is not None and state.version != expected_version:
        raise StaleVersion(
            f"the object is at version {state.version}, not {expected_version}; fetch it again and retry",
            field="If-Match",
        )
