"""Handlers of dialing and session profiles: one set of handlers for both kinds, each call
naming its :class:`~domain.profile.ProfileKind` (``dialing_profile.KIND``, ``session_profile.KIND``)."""

from __future__ import annotations

from typing import Protocol, TypeVar
from uuid import UUID

from msgspec import UnsetType

from dialstream.handlers.context import Context, expect, owned
from dialstream.results import Done
from domain.aggregate import pick
from domain.profile import Profile, ProfileKind

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class CreateProfile(Protocol[T_co]):
    """A kind's create command (``CreateDialingProfile``, ``CreateSessionProfile``)."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def settings(self) -> T_co: ...


class ChangeProfile(Protocol[T_co]):
    """A kind's change command: the fields it leaves UNSET keep their value."""

    @property
    def name(self) -> str | UnsetType: ...
    @property
    def description(self) -> str | UnsetType: ...
    @property
    def settings(self) -> T_co | UnsetType: ...


class ProfileHandlers:
    def __init__(self, context: Context):
        self.context = context

    def profile(self, kind: ProfileKind[T], account_id: UUID, profile_id: UUID, field: str = "id") -> Profile[T]:
        """The profile as stored (deleted included), or NotFound when missing or another account's."""
        state = self.context.store.load(profile_id, kind.projector())
        return owned(state, account_id, kind.label, field)

    def create(self, kind: ProfileKind[T], account_id: UUID, command: CreateProfile[T]) -> Done:
        profile_id = self.context.new_id()
        events = kind.create(
            profile_id=profile_id,
            name=command.name,
            description=command.description,
            settings=command.settings,
            account=self.context.account(account_id),
            claim=self.context.claim(account_id, kind.kind, command.name),
            now=self.context.now(),
        )
        return self.context.commit(profile_id, events)

    def change(
        self,
        kind: ProfileKind[T],
        account_id: UUID,
        profile_id: UUID,
        command: ChangeProfile[T],
        expected_version: int | None = None,
    ) -> Done:
        state = self.profile(kind, account_id, profile_id)
        expect(state, expected_version)
        name = pick(command.name, state.name)
        events = kind.change(
            state,
            name=name,
            description=pick(command.description, state.description),
            settings=pick(command.settings, state.settings),
            new_claim=self.context.claim(account_id, kind.kind, name),
            old_claim=self.context.claim(account_id, kind.kind, state.name),
            now=self.context.now(),
        )
        return self.context.commit(profile_id, events)

    def delete(
        self,
        kind: ProfileKind[T],
        account_id: UUID,
        profile_id: UUID,
        expected_version: int | None = None,
    ) -> Done:
        state = self.profile(kind, account_id, profile_id)
        expect(state, expected_version)
        events = kind.delete(
            state,
            account=self.context.account(account_id),
            claim=self.context.claim(account_id, kind.kind, state.name),
            now=self.context.now(),
        )
        return self.context.commit(profile_id, events)

    def make_default(self, kind: ProfileKind[T], account_id: UUID, profile_id: UUID) -> Done:
        state = self.profile(kind, account_id, profile_id)
        events = kind.make_default(state, account=self.context.account(account_id), now=self.context.now())
        return self.context.commit(profile_id, events)
