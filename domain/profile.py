"""Rules shared by dialing and session profiles: names, one default, no deletion in use.

The two profile kinds differ only in their settings and event types; each module
(:mod:`domain.dialing_profile`, :mod:`domain.session_profile`) binds a :class:`ProfileKind`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain import name_claim
from domain.account import Account
from domain.aggregate import Aggregate, Changes, projector, touched
from domain.errors import InUse, NotFound, RuleViolation
from domain.name_claim import NameClaim
from schemas.base import Event
from schemas.profiles import ProfileReferenced, ProfileReleased

T = TypeVar("T")


class Profile(Aggregate, Generic[T], frozen=True, kw_only=True):
    name: str
    description: str
    settings: T
    used_by: frozenset[UUID] = frozenset()
    deleted: bool = False


@dataclass(frozen=True)
class ProfileKind(Generic[T]):
    kind: str  # the name-claim kind, e.g. "dialing-profile"
    label: str  # for messages, e.g. "dialing profile"
    created: type[Event]
    changed: type[Event]
    deleted: type[Event]
    default_of: Callable[[Account], UUID | None]
    choose_default: Callable[..., list[Event]]
    # Names the setting (if any) that must not change while templates use the profile.
    frozen_in_use: Callable[[T, T], str | None] = lambda old, new: None
    # Checks of the settings beyond their types (a dialing profile's filter must parse).
    validate: Callable[[T], None] = lambda settings: None

    def create(
        self,
        *,
        profile_id: UUID,
        name: str,
        description: str,
        settings: T,
        account: Account,
        claim: NameClaim | None,
        now: datetime,
    ) -> list[Event]:
        self.validate(settings)
        name = name_claim.clean(name)
        events = name_claim.claim(
            claim,
            account_id=account.id,
            kind=self.kind,
            name=name,
            owner_id=profile_id,
            now=now,
            label=self.label,
        )
        changes = Changes(profile_id, account.id, 0, now)
        changes.record(self.created, name=name, description=description, settings=settings)
        events += changes.events
        if self.default_of(account) is None:
            events += self.choose_default(account, profile_id, now=now)
        return events

    def change(
        self,
        state: Profile[T],
        *,
        name: str,
        description: str,
        settings: T,
        new_claim: NameClaim | None,
        old_claim: NameClaim | None,
        now: datetime,
    ) -> list[Event]:
        self.ensure_exists(state)
        self.validate(settings)
        name = name_claim.clean(name)
        events: list[Event] = []
        events += name_claim.rename(
            state, name, new_claim=new_claim, old_claim=old_claim, kind=self.kind, label=self.label, now=now
        )
        if (name, description, settings) == (state.name, state.description, state.settings):
            return events
        if state.used_by and (field := self.frozen_in_use(state.settings, settings)):
            raise InUse(
                f"{field} of {self.label} {state.name!r} cannot change while "
                f"{len(state.used_by)} campaign template(s) use it",
                field=field,
            )
        changes = Changes.of(state, now)
        changes.record(self.changed, name=name, description=description, settings=settings)
        return events + changes.events

    def delete(
        self, state: Profile[T], *, account: Account, claim: NameClaim | None, now: datetime
    ) -> list[Event]:
        self.ensure_exists(state)
        if state.used_by:
            raise InUse(
                f"{self.label} {state.name!r} is used by {len(state.used_by)} campaign "
                "template(s); change or delete them first",
                field="id",
            )
        if self.default_of(account) == state.id:
            raise RuleViolation(
                f"{self.label} {state.name!r} is the account's default; "
                "make another profile the default first",
                field="id",
            )
        changes = Changes.of(state, now)
        changes.record(self.deleted)
        return (name_claim.release(claim, now=now) if claim else []) + changes.events

    def make_default(self, state: Profile[T], *, account: Account, now: datetime) -> list[Event]:
        self.ensure_exists(state)
        return self.choose_default(account, state.id, now=now)

    def ensure_exists(self, state: Profile[T] | None) -> Profile[T]:
        if state is None or state.deleted:
            raise NotFound(f"{self.label} not found", field="id")
        return state

    def evolve(self, state: Profile[T] | None, event: Event) -> Profile[T] | None:
        if isinstance(event, self.created):
            payload: Any = event
            return Profile(
                id=event.originator_id,
                version=event.originator_version,
                account_id=event.account_id,
                created_on=event.timestamp,
                modified_on=event.timestamp,
                name=payload.name,
                description=payload.description,
                settings=payload.settings,
            )
        if state is None:
            return None
        if isinstance(event, self.changed):
            payload = event
            return touched(
                state,
                event,
                name=payload.name,
                description=payload.description,
                settings=payload.settings,
            )
        if isinstance(event, self.deleted):
            return touched(state, event, deleted=True)
        if isinstance(event, ProfileReferenced):
            return touched(state, event, used_by=state.used_by | {event.by_id})
        if isinstance(event, ProfileReleased):
            return touched(state, event, used_by=state.used_by - {event.by_id})
        return touched(state, event)

    def projector(self) -> Callable[..., Profile[T] | None]:
        """The kind's projector, the same function at every call: the event store keeps a
        loaded state for the projector that built it, and a new one each load read the
        profile's whole stream every time."""
        made: Callable[..., Profile[T] | None] | None = self.__dict__.get("_projector")
        if made is None:
            made = projector(self.evolve)
            object.__setattr__(self, "_projector", made)  # frozen: a cache, not a field
        return made


def reference(state: Profile[Any], by_id: UUID, *, label: str, now: datetime) -> list[Event]:
    """Record that ``by_id`` (a campaign template) now uses this profile."""
    if state is None or state.deleted:
        raise NotFound(f"{label} not found", field=label.replace(" ", "_") + "_id")
    if by_id in state.used_by:
        return []
    changes = Changes.of(state, now)
    changes.record(ProfileReferenced, by_id=by_id)
    return changes.events


def release(state: Profile[Any], by_id: UUID, *, now: datetime) -> list[Event]:
    if by_id not in state.used_by:
        return []
    changes = Changes.of(state, now)
    changes.record(ProfileReleased, by_id=by_id)
    return changes.events
