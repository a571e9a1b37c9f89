"""Campaign group: made from a template, with its own agent group and contact lists.

Lifecycle: loaded -> running <-> paused -> stopped, and a stopped group may run again.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from msgspec import UNSET, Struct, UnsetType, structs

from domain import campaign_template, contact_list, name_claim
from domain.aggregate import Aggregate, Changes, existing, pick, projector, touched
from domain.campaign_template import CampaignTemplate
from domain.contact_list import ContactList
from domain.errors import InvalidTransition, RuleViolation
from domain.name_claim import NameClaim
from schemas.base import Event
from schemas.campaigns import (
    CampaignGroupChanged,
    CampaignGroupCreated,
    CampaignGroupDeleted,
    CampaignGroupPaced,
    CampaignGroupPaused,
    CampaignGroupResumed,
    CampaignGroupStarted,
    CampaignGroupStopped,
    DialingOverrides,
    GroupStatus,
    SessionOverrides,
)
from schemas.profiles import PREVIEW_MODES, Channel, Description, DialingMode
from schemas.settings import NonEmpty, Text
from schemas.suppression import CampaignGroupSuppressionListsSelected

KIND = "campaign-group"
LABEL = "campaign group"

# action -> (states it may start from, event, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], type[Event], GroupStatus]] = {
    "start": (frozenset({"loaded", "stopped"}), CampaignGroupStarted, "running"),
    "pause": (frozenset({"running"}), CampaignGroupPaused, "paused"),
    "resume": (frozenset({"paused"}), CampaignGroupResumed, "running"),
    "stop": (frozenset({"running", "paused"}), CampaignGroupStopped, "stopped"),
}
STATUS_AFTER: dict[type[Event], GroupStatus] = {event: status for _, event, status in TRANSITIONS.values()}


class CampaignGroup(Aggregate, frozen=True, kw_only=True):
    name: str
    description: str
    template_id: UUID
    agent_group: str
    contact_list_ids: tuple[UUID, ...]
    dialing_overrides: DialingOverrides
    session_overrides: SessionOverrides
    status: GroupStatus = "loaded"
    deleted: bool = False
    # The optional suppression lists it applies besides the required ones (domain/suppression_list.py).
    suppression_list_ids: tuple[UUID, ...] = ()


class CreateCampaignGroup(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty
    template_id: UUID
    contact_list_ids: list[UUID]
    description: Description = ""
    # Left empty: the agent group of the template's session settings.
    agent_group: Text = ""
    dialing_overrides: DialingOverrides = DialingOverrides()
    session_overrides: SessionOverrides = SessionOverrides()


class ChangeCampaignGroup(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    agent_group: Text | UnsetType = UNSET
    contact_list_ids: list[UUID] | UnsetType = UNSET
    dialing_overrides: DialingOverrides | UnsetType = UNSET
    session_overrides: SessionOverrides | UnsetType = UNSET


def _check_lists(
    list_ids: list[UUID] | tuple[UUID, ...],
    lists: dict[UUID, ContactList],
    channel: Channel,
) -> None:
    if not list_ids:
        raise RuleViolation("a campaign group needs at least one contact list", field="contact_list_ids")
    if len(set(list_ids)) != len(list_ids):
        raise RuleViolation("a contact list is named twice", field="contact_list_ids")
    for index, list_id in enumerate(list_ids):
        found = existing(lists.get(list_id), "contact list", f"contact_list_ids[{index}]")
        if found.settings.channel != channel:
            raise RuleViolation(
                f"contact list {found.name!r} is for {found.settings.channel}, "
                f"but the campaign group dials {channel}",
                field=f"contact_list_ids[{index}]",
            )


def _agent_group(own: str, inherited: str) -> str:
    agent_group = " ".join(own.split()) or inherited
    if not agent_group:
        raise RuleViolation(
            "a campaign group needs an agent group (its own or its session profile's)",
            field="agent_group",
        )
    return agent_group


def create(
    command: CreateCampaignGroup,
    *,
    group_id: UUID,
    account_id: UUID,
    template: CampaignTemplate | None,
    inherited_agent_group: str,
    channel: Channel,
    lists: dict[UUID, ContactList],
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    """``inherited_agent_group`` and ``channel`` are the template's effective session settings
    with this command's session overrides applied."""
    name = name_claim.clean(command.name)
    existing(template, "campaign template", "template_id")
    agent_group = _agent_group(command.agent_group, inherited_agent_group)
    _check_lists(command.contact_list_ids, lists, channel)
    events = name_claim.claim(
        claim,
        account_id=account_id,
        kind=KIND,
        name=name,
        owner_id=group_id,
        now=now,
        label=LABEL,
    )
    events += campaign_template.reference(template, group_id, now=now)
    for index, list_id in enumerate(command.contact_list_ids):
        events += contact_list.assign(lists[list_id], group_id, field=f"contact_list_ids[{index}]", now=now)
    changes = Changes(group_id, account_id, 0, now)
    changes.record(
        CampaignGroupCreated,
        name=name,
        description=command.description,
        template_id=command.template_id,
        agent_group=agent_group,
        contact_list_ids=list(command.contact_list_ids),
        dialing_overrides=command.dialing_overrides,
        session_overrides=command.session_overrides,
    )
    return events + changes.events


def change(
    state: CampaignGroup | None,
    command: ChangeCampaignGroup,
    *,
    inherited_agent_group: str,
    channel: Channel,
    lists: dict[UUID, ContactList],
    new_claim: NameClaim | None,
    old_claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    """``lists`` holds the current and the requested contact lists, by id."""
    group = existing(state, LABEL, "id")
    name = group.name if command.name is UNSET else name_claim.clean(command.name)
    list_ids = tuple(pick(command.contact_list_ids, list(group.contact_list_ids)))
    agent_group = _agent_group(pick(command.agent_group, group.agent_group), inherited_agent_group)
    if list_ids != group.contact_list_ids and group.status == "running":
        raise InvalidTransition(
            "contact lists of a running campaign group cannot change; pause it first",
            field="contact_list_ids",
        )
    # Checked on every change: a session override may switch the channel under the lists.
    _check_lists(list_ids, lists, channel)
    events: list[Event] = []
    events += name_claim.rename(
        group, name, new_claim=new_claim, old_claim=old_claim, kind=KIND, label=LABEL, now=now
    )
    for index, list_id in enumerate(list_ids):
        if list_id not in group.contact_list_ids:
            events += contact_list.assign(
                lists[list_id], group.id, field=f"contact_list_ids[{index}]", now=now
            )
    for list_id in group.contact_list_ids:
        if list_id not in list_ids and list_id in lists:
            events += contact_list.unassign(lists[list_id], group.id, now=now)
    fields = dict(
        name=name,
        description=pick(command.description, group.description),
        agent_group=agent_group,
        contact_list_ids=list_ids,
        dialing_overrides=pick(command.dialing_overrides, group.dialing_overrides),
        session_overrides=pick(command.session_overrides, group.session_overrides),
    )
    if all(getattr(group, key) == value for key, value in fields.items()):
        return events
    changes = Changes.of(group, now)
    changes.record(CampaignGroupChanged, **{**fields, "contact_list_ids": list(list_ids)})
    return events + changes.events


def transition(state: CampaignGroup | None, action: str, *, now: datetime) -> list[Event]:
    group = existing(state, LABEL, "id")
    allowed_from, event_class, _ = TRANSITIONS[action]
    if group.status not in allowed_from:
        raise InvalidTransition(
            f"cannot {action} campaign group {group.name!r}: it is {group.status} "
            f"({action} is allowed when {' or '.join(sorted(allowed_from))})",
            field="status",
        )
    changes = Changes.of(group, now)
    changes.record(event_class)
    return changes.events


def check_mode_change(group: CampaignGroup, before: DialingMode, after: DialingMode) -> None:
    """Predictive and progressive (with or without engage-agent-first) and power switch while a
    group runs, at once; a change to or from preview needs a stop and a start, as in the product
    (an agent holding a preview record cannot be switched under)."""
    if group.status not in ("running", "paused") or before == after:
        return
    if (before in PREVIEW_MODES) != (after in PREVIEW_MODES):
        raise InvalidTransition(
            f"campaign group {group.name!r} is {group.status}: a change from {before} to {after} "
            f"dialing needs the group stopped first (only non-preview modes switch while it runs)",
            field="dialing_mode",
        )


def switch_dialing_mode(
    state: CampaignGroup | None, mode: DialingMode, *, effective: DialingMode, now: datetime
) -> list[Event]:
    """Set the group's own dialing mode (its override), ``effective`` being the mode it dials in
    now (its override, else its template's, else the dialing profile's)."""
    group = existing(state, LABEL, "id")
    check_mode_change(group, effective, mode)
    if group.dialing_overrides.dialing_mode == mode:
        return []
    changes = Changes.of(group, now)
    changes.record(
        CampaignGroupChanged,
        name=group.name,
        description=group.description,
        agent_group=group.agent_group,
        contact_list_ids=list(group.contact_list_ids),
        dialing_overrides=structs.replace(group.dialing_overrides, dialing_mode=mode),
        session_overrides=group.session_overrides,
    )
    return changes.events


def paced(state: CampaignGroup | None, *, mode: str, ratio: float, reason: str, now: datetime) -> list[Event]:
    """The dialer's pacing of the group changed (see ``CampaignGroupPaced``)."""
    group = existing(state, LABEL, "id")
    changes = Changes.of(group, now)
    changes.record(CampaignGroupPaced, mode=mode, ratio=round(ratio, 3), reason=reason)
    return changes.events


def delete(
    state: CampaignGroup | None,
    *,
    template: CampaignTemplate | None,
    lists: dict[UUID, ContactList],
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    group = existing(state, LABEL, "id")
    if group.status in ("running", "paused"):
        raise InvalidTransition(
            f"campaign group {group.name!r} is {group.status}; stop it before deleting it",
            field="status",
        )
    events = name_claim.release(claim, now=now) if claim else []
    if template is not None:
        events += campaign_template.release(template, group.id, now=now)
    for list_id in group.contact_list_ids:
        if list_id in lists:
            events += contact_list.unassign(lists[list_id], group.id, now=now)
    changes = Changes.of(group, now)
    changes.record(CampaignGroupDeleted)
    return events + changes.events


def evolve(state: CampaignGroup | None, event: Event) -> CampaignGroup | None:
    if isinstance(event, CampaignGroupCreated):
        return CampaignGroup(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            name=event.name,
            description=event.description,
            template_id=event.template_id,
            agent_group=event.agent_group,
            contact_list_ids=tuple(event.contact_list_ids),
            dialing_overrides=event.dialing_overrides,
            session_overrides=event.session_overrides,
        )
    if state is None:
        return None
    if type(event) in STATUS_AFTER:
        return touched(state, event, status=STATUS_AFTER[type(event)])
    match event:
        case CampaignGroupChanged():
            return touched(
                state,
                event,
                name=event.name,
                description=event.description,
                agent_group=event.agent_group,
                contact_list_ids=tuple(event.contact_list_ids),
                dialing_overrides=event.dialing_overrides,
                session_overrides=event.session_overrides,
            )
        case CampaignGroupDeleted():
            return touched(state, event, deleted=True)
        case CampaignGroupSuppressionListsSelected():
            return touched(state, event, suppression_list_ids=tuple(event.suppression_list_ids))
    return touched(state, event)


project = projector(evolve)
