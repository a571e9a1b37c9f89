"""Campaign template: a dialing and a session profile, any of whose settings it overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from msgspec import UNSET, Struct, UnsetType

from domain import name_claim, profile
from domain.aggregate import (
    Aggregate,
    Changes,
    apply_overrides,
    existing,
    pick,
    projector,
    touched,
)
from domain.errors import InUse
from domain.name_claim import NameClaim
from domain.profile import Profile
from schemas.base import Event
from schemas.campaigns import (
    CampaignTemplateChanged,
    CampaignTemplateCreated,
    CampaignTemplateDeleted,
    CampaignTemplateReferenced,
    CampaignTemplateReleased,
    DialingOverrides,
    SessionOverrides,
)
from schemas.profiles import Description, DialingSettings, SessionSettings
from schemas.settings import NonEmpty

KIND = "campaign-template"
LABEL = "campaign template"


class CampaignTemplate(Aggregate, frozen=True, kw_only=True):
    name: str
    description: str
    dialing_profile_id: UUID
    session_profile_id: UUID
    dialing_overrides: DialingOverrides
    session_overrides: SessionOverrides
    used_by: frozenset[UUID] = frozenset()
    deleted: bool = False


class CreateCampaignTemplate(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty
    description: Description = ""
    # Left out: the account's default profile.
    dialing_profile_id: UUID | None = None
    session_profile_id: UUID | None = None
    dialing_overrides: DialingOverrides = DialingOverrides()
    session_overrides: SessionOverrides = SessionOverrides()


class ChangeCampaignTemplate(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    dialing_profile_id: UUID | UnsetType = UNSET
    session_profile_id: UUID | UnsetType = UNSET
    dialing_overrides: DialingOverrides | UnsetType = UNSET
    session_overrides: SessionOverrides | UnsetType = UNSET


def effective_dialing(template: CampaignTemplate, dialing: Profile[DialingSettings]) -> DialingSettings:
    result: DialingSettings = apply_overrides(dialing.settings, template.dialing_overrides)
    return result


def effective_session(template: CampaignTemplate, session: Profile[SessionSettings]) -> SessionSettings:
    result: SessionSettings = apply_overrides(session.settings, template.session_overrides)
    return result


def create(
    command: CreateCampaignTemplate,
    *,
    template_id: UUID,
    account_id: UUID,
    dialing_profile: Profile[DialingSettings] | None,
    session_profile: Profile[SessionSettings] | None,
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    name = name_claim.clean(command.name)
    dialing = existing(dialing_profile, "dialing profile", "dialing_profile_id")
    session = existing(session_profile, "session profile", "session_profile_id")
    events = name_claim.claim(
        claim,
        account_id=account_id,
        kind=KIND,
        name=name,
        owner_id=template_id,
        now=now,
        label=LABEL,
    )
    events += profile.reference(dialing, template_id, label="dialing profile", now=now)
    events += profile.reference(session, template_id, label="session profile", now=now)
    changes = Changes(template_id, account_id, 0, now)
    changes.record(
        CampaignTemplateCreated,
        name=name,
        description=command.description,
        dialing_profile_id=dialing.id,
        session_profile_id=session.id,
        dialing_overrides=command.dialing_overrides,
        session_overrides=command.session_overrides,
    )
    return events + changes.events


def change(
    state: CampaignTemplate | None,
    command: ChangeCampaignTemplate,
    *,
    profiles: dict[UUID, Profile[DialingSettings] | Profile[SessionSettings]],
    new_claim: NameClaim | None,
    old_claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    """``profiles`` holds the current and the requested profiles, by id."""
    template = ensure_exists(state)
    name = template.name if command.name is UNSET else name_claim.clean(command.name)
    events: list[Event] = []
    events += name_claim.rename(
        template, name, new_claim=new_claim, old_claim=old_claim, kind=KIND, label=LABEL, now=now
    )
    dialing_id = pick(command.dialing_profile_id, template.dialing_profile_id)
    session_id = pick(command.session_profile_id, template.session_profile_id)
    for old_id, new_id, label, field in (
        (template.dialing_profile_id, dialing_id, "dialing profile", "dialing_profile_id"),
        (template.session_profile_id, session_id, "session profile", "session_profile_id"),
    ):
        if old_id != new_id:
            new_profile: Profile[Any] = existing(profiles.get(new_id), label, field)
            events += profile.reference(new_profile, template.id, label=label, now=now)
            old_profile = profiles.get(old_id)
            if old_profile is not None:
                events += profile.release(old_profile, template.id, now=now)
    _keep_channel_under_groups(
        template, profiles, session_id, pick(command.session_overrides, template.session_overrides)
    )
    fields = dict(
        name=name,
        description=pick(command.description, template.description),
        dialing_profile_id=dialing_id,
        session_profile_id=session_id,
        dialing_overrides=pick(command.dialing_overrides, template.dialing_overrides),
        session_overrides=pick(command.session_overrides, template.session_overrides),
    )
    if all(getattr(template, key) == value for key, value in fields.items()):
        return events
    changes = Changes.of(template, now)
    changes.record(CampaignTemplateChanged, **fields)
    return events + changes.events


def _keep_channel_under_groups(
    template: CampaignTemplate,
    profiles: dict[UUID, Profile[DialingSettings] | Profile[SessionSettings]],
    session_id: UUID,
    overrides: SessionOverrides,
) -> None:
    """Campaign groups' lists are of the template's channel: it cannot move under them."""
    if not template.used_by:
        return
    before, after = profiles.get(template.session_profile_id), profiles.get(session_id)
    if before is None or after is None:
        return
    old: SessionSettings = apply_overrides(before.settings, template.session_overrides)
    new: SessionSettings = apply_overrides(after.settings, overrides)
    if old.channel != new.channel:
        field = (
            "session_profile_id" if session_id != template.session_profile_id else "session_overrides.channel"
        )
        raise InUse(
            f"campaign template {template.name!r} has {len(template.used_by)} campaign group(s) "
            f"dialing {old.channel}; its channel cannot become {new.channel}",
            field=field,
        )


def delete(
    state: CampaignTemplate | None,
    *,
    profiles: dict[UUID, Profile[DialingSettings] | Profile[SessionSettings]],
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    template = ensure_exists(state)
    if template.used_by:
        raise InUse(
            f"campaign template {template.name!r} has {len(template.used_by)} campaign "
            "group(s); delete them first",
            field="id",
        )
    events = name_claim.release(claim, now=now) if claim else []
    for profile_id in (template.dialing_profile_id, template.session_profile_id):
        if (used := profiles.get(profile_id)) is not None:
            events += profile.release(used, template.id, now=now)
    changes = Changes.of(template, now)
    changes.record(CampaignTemplateDeleted)
    return events + changes.events


def reference(state: CampaignTemplate | None, group_id: UUID, *, now: datetime) -> list[Event]:
    template = existing(state, LABEL, "template_id")
    changes = Changes.of(template, now)
    changes.record(CampaignTemplateReferenced, by_id=group_id)
    return changes.events


def release(state: CampaignTemplate, group_id: UUID, *, now: datetime) -> list[Event]:
    if group_id not in state.used_by:
        return []
    changes = Changes.of(state, now)
    changes.record(CampaignTemplateReleased, by_id=group_id)
    return changes.events


def ensure_exists(state: CampaignTemplate | None) -> CampaignTemplate:
    return existing(state, LABEL, "id")


def evolve(state: CampaignTemplate | None, event: Event) -> CampaignTemplate | None:
    if isinstance(event, CampaignTemplateCreated):
        return CampaignTemplate(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            name=event.name,
            description=event.description,
            dialing_profile_id=event.dialing_profile_id,
            session_profile_id=event.session_profile_id,
            dialing_overrides=event.dialing_overrides,
            session_overrides=event.session_overrides,
        )
    if state is None:
        return None
    match event:
        case CampaignTemplateChanged():
            return touched(
                state,
                event,
                name=event.name,
                description=event.description,
                dialing_profile_id=event.dialing_profile_id,
                session_profile_id=event.session_profile_id,
                dialing_overrides=event.dialing_overrides,
                session_overrides=event.session_overrides,
            )
        case CampaignTemplateDeleted():
            return touched(state, event, deleted=True)
        case CampaignTemplateReferenced(by_id=by_id):
            return touched(state, event, used_by=state.used_by | {by_id})
        case CampaignTemplateReleased(by_id=by_id):
            return touched(state, event, used_by=state.used_by - {by_id})
    return touched(state, event)


project = projector(evolve)
