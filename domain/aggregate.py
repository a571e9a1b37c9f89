"""What every aggregate shares: identity, version, tenant, and a buffer of new events.

Aggregates are immutable msgspec structs. ``decide`` functions are pure: given state,
a command and the time, they return events; ``evolve`` folds one event into state.
The eventsourcing library's repository rebuilds state with :func:`projector`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from schemas.base import Event

E = TypeVar("E", bound=Event)
S = TypeVar("S", bound="Aggregate")


class Aggregate(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    version: int
    account_id: UUID
    created_on: datetime
    modified_on: datetime


class Changes:
    """Collects the events of one decision on one aggregate, numbering their versions."""

    def __init__(self, aggregate_id: UUID, account_id: UUID, version: int, now: datetime):
        self.aggregate_id = aggregate_id
        self.account_id = account_id
        self.version = version
        self.now = now
        self.events: list[Event] = []

    @classmethod
    def of(cls, state: Aggregate, now: datetime) -> Changes:
        return cls(state.id, state.account_id, state.version, now)

    def record(self, event_class: type[E], **fields: Any) -> E:
        self.version += 1
        event = event_class(
            originator_id=self.aggregate_id,
            originator_version=self.version,
            timestamp=self.now,
            account_id=self.account_id,
            **fields,
        )
        self.events.append(event)
        return event


def projector(
    evolve: Callable[[S | None, Any], S | None],
) -> Callable[[S | None, Iterable[Any]], S | None]:
    """Turn a one-event ``evolve`` into the repository's many-event projector."""

    def project(state: S | None, events: Iterable[Any]) -> S | None:
        for event in events:
            state = evolve(state, event)
        return state

    # The store may keep a state it loaded and fold only newer events into it later: an
    # aggregate is an immutable struct that ``evolve`` replaces, never changes.
    project.immutable_states = True  # type: ignore[attr-defined]
    return project


def touched(state: S, event: Event, **changes: Any) -> S:
    """State after ``event``: the given changes plus the new version and time."""
    return msgspec.structs.replace(
        state, version=event.originator_version, modified_on=event.timestamp, **changes
    )


def apply_overrides(base: Any, overrides: Any) -> Any:
    """``base`` with every field that ``overrides`` sets (leaving UNSET ones inherited)."""
    changes = {
        name: value
        for name in overrides.__struct_fields__
        if (value := getattr(overrides, name)) is not msgspec.UNSET
    }
    return msgspec.structs.replace(base, **changes) if changes else base


V = TypeVar("V")


def pick(value: V | msgspec.UnsetType, current: V) -> V:
    """A command's value for a field, or the current one when the command leaves it out."""
    return current if isinstance(value, msgspec.UnsetType) else value


def existing(state: S | None, label: str, field: str) -> S:
    """The aggregate, unless it was never created or has been deleted or archived."""
    from domain.errors import NotFound

    if state is None or getattr(state, "deleted", False):
        raise NotFound(f"{label} not found", field=field)
    return state
