"""Contact list: name, channel, time-zone options and retention (records come later)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from msgspec import UNSET, Struct, UnsetType

from domain import name_claim, selection
from domain.aggregate import Aggregate, Changes, existing, pick, projector, touched
from domain.errors import InUse, RuleViolation
from domain.name_claim import NameClaim
from domain.zones import ensure_zone
from schemas.base import Event
from schemas.lists import (
    RETENTION_DAYS,
    ContactListArchived,
    ContactListAssigned,
    ContactListChanged,
    ContactListCreated,
    ContactListSettings,
    ContactListUnassigned,
)
from schemas.profiles import Description
from schemas.settings import NonEmpty

KIND = "contact-list"
LABEL = "contact list"


class ContactList(Aggregate, frozen=True, kw_only=True):
    name: str
    description: str
    settings: ContactListSettings
    campaign_group_ids: frozenset[UUID] = frozenset()
    archived: bool = False

    @property
    def deleted(self) -> bool:
        return self.archived


class CreateContactList(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty
    description: Description = ""
    settings: ContactListSettings = ContactListSettings()


class ChangeContactList(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    settings: ContactListSettings | UnsetType = UNSET


def validate_settings(settings: ContactListSettings) -> None:
    for index, entry in enumerate(settings.time_zones.custom_time_zones):
        ensure_zone(entry.time_zone, f"settings.time_zones.custom_time_zones[{index}].time_zone")
    retention = settings.retention
    if retention.days is not None and retention.days not in RETENTION_DAYS:
        raise RuleViolation(
            "retention is permanent (null), today (0), 1-31, 45, 60, 90, 180 or 360 days",
            field="settings.retention.days",
        )
    selection.parse(retention.selection_rule, field="settings.retention.selection_rule")
    if retention.scope == "selection" and not retention.selection_rule.strip():
        raise RuleViolation(
            "retention by selection needs a selection rule",
            field="settings.retention.selection_rule",
        )


def create(
    command: CreateContactList,
    *,
    list_id: UUID,
    account_id: UUID,
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    name = name_claim.clean(command.name)
    validate_settings(command.settings)
    events = name_claim.claim(
        claim,
        account_id=account_id,
        kind=KIND,
        name=name,
        owner_id=list_id,
        now=now,
        label=LABEL,
    )
    changes = Changes(list_id, account_id, 0, now)
    changes.record(ContactListCreated, name=name, description=command.description, settings=command.settings)
    return events + changes.events


def change(
    state: ContactList | None,
    command: ChangeContactList,
    *,
    new_claim: NameClaim | None,
    old_claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    contact_list = existing(state, LABEL, "id")
    name = contact_list.name if command.name is UNSET else name_claim.clean(command.name)
    settings = pick(command.settings, contact_list.settings)
    validate_settings(settings)
    if settings.channel != contact_list.settings.channel and contact_list.campaign_group_ids:
        raise InUse(
            f"contact list {contact_list.name!r} belongs to a {contact_list.settings.channel} "
            "campaign group; remove it from the group before changing its channel",
            field="settings.channel",
        )
    events: list[Event] = []
    events += name_claim.rename(
        contact_list, name, new_claim=new_claim, old_claim=old_claim, kind=KIND, label=LABEL, now=now
    )
    description = pick(command.description, contact_list.description)
    if (name, description, settings) == (
        contact_list.name,
        contact_list.description,
        contact_list.settings,
    ):
        return events
    changes = Changes.of(contact_list, now)
    changes.record(ContactListChanged, name=name, description=description, settings=settings)
    return events + changes.events


def archive(state: ContactList | None, *, claim: NameClaim | None, now: datetime) -> list[Event]:
    contact_list = existing(state, LABEL, "id")
    if contact_list.campaign_group_ids:
        raise InUse(
            f"contact list {contact_list.name!r} belongs to "
            f"{len(contact_list.campaign_group_ids)} campaign group(s); remove it from them first",
            field="id",
        )
    changes = Changes.of(contact_list, now)
    changes.record(ContactListArchived)
    return (name_claim.release(claim, now=now) if claim else []) + changes.events


def assign(state: ContactList | None, group_id: UUID, *, field: str, now: datetime) -> list[Event]:
    contact_list = existing(state, LABEL, field)
    if group_id in contact_list.campaign_group_ids:
        return []
    changes = Changes.of(contact_list, now)
    changes.record(ContactListAssigned, campaign_group_id=group_id)
    return changes.events


def unassign(state: ContactList, group_id: UUID, *, now: datetime) -> list[Event]:
    if group_id not in state.campaign_group_ids:
        return []
    changes = Changes.of(state, now)
    changes.record(ContactListUnassigned, campaign_group_id=group_id)
    return changes.events


def evolve(state: ContactList | None, event: Event) -> ContactList | None:
    if isinstance(event, ContactListCreated):
        return ContactList(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            name=event.name,
            description=event.description,
            settings=event.settings,
        )
    if state is None:
        return None
    match event:
        case ContactListChanged():
            return touched(
                state,
                event,
                name=event.name,
                description=event.description,
                settings=event.settings,
            )
        case ContactListArchived():
            return touched(state, event, archived=True)
        case ContactListAssigned(campaign_group_id=group_id):
            return touched(state, event, campaign_group_ids=state.campaign_group_ids | {group_id})
        case ContactListUnassigned(campaign_group_id=group_id):
            return touched(state, event, campaign_group_ids=state.campaign_group_ids - {group_id})
    return touched(state, event)


project = projector(evolve)
