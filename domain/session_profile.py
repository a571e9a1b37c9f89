"""Session profile: channel, agent group, trunk group, DNs, servers and OCS option sections."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType

from domain import account
from domain.message_template import MessageTemplate
from domain.profile import Profile, ProfileKind
from schemas.profiles import (
    Description,
    SessionProfileChanged,
    SessionProfileCreated,
    SessionProfileDeleted,
    SessionSettings,
)
from schemas.settings import NonEmpty

SessionProfile = Profile[SessionSettings]


class CreateSessionProfile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty
    description: Description = ""
    settings: SessionSettings = SessionSettings()


class ChangeSessionProfile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    settings: SessionSettings | UnsetType = UNSET


def check_message(settings: SessionSettings) -> None:
    """A message's placeholders are plain field names (InvalidTemplate otherwise, naming it)."""
    if settings.message is not None:
        MessageTemplate(settings.message.body, settings.message.subject)


KIND: ProfileKind[SessionSettings] = ProfileKind(
    kind="session-profile",
    label="session profile",
    created=SessionProfileCreated,
    changed=SessionProfileChanged,
    deleted=SessionProfileDeleted,
    default_of=lambda state: state.default_session_profile_id,
    choose_default=account.choose_default_session_profile,
    # Campaign groups' contact lists are of the profile's channel.
    frozen_in_use=lambda old, new: "settings.channel" if old.channel != new.channel else None,
    validate=check_message,
)

project = KIND.projector()
