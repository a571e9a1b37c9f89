"""Topic ``campaigns``: campaign templates and campaign groups.

A template names a dialing and a session profile and may override any of their
settings; a group is made from a template and may override again. Overrides are
partial: a field left out inherits.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from msgspec import UNSET, Struct, UnsetType

from schemas import topics
from schemas.base import Event
from schemas.profiles import (
    Channel,
    DialingMode,
    Filtering,
    MessageSettings,
    OptionSections,
    Pacing,
    Treatment,
)
from schemas.settings import NonEmpty, Text

GroupStatus = Literal["loaded", "running", "paused", "stopped"]


class DialingOverrides(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    dialing_mode: DialingMode | UnsetType = UNSET
    caller_id: Text | UnsetType = UNSET
    pacing: Pacing | UnsetType = UNSET
    filtering: Filtering | UnsetType = UNSET
    treatments: list[Treatment] | UnsetType = UNSET


class SessionOverrides(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    channel: Channel | UnsetType = UNSET
    message: MessageSettings | UnsetType | None = UNSET
    agent_group: Text | UnsetType = UNSET
    trunk_group: Text | UnsetType = UNSET
    destination_dn: Text | UnsetType = UNSET
    stat_server: Text | UnsetType = UNSET
    other_servers: list[NonEmpty] | UnsetType = UNSET
    ivr_profile: Text | UnsetType = UNSET
    interaction_queue: Text | UnsetType = UNSET
    options: OptionSections | UnsetType = UNSET


class CampaignEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.CAMPAIGNS


class CampaignTemplateCreated(CampaignEvent, frozen=True, kw_only=True, tag="campaign_template.created"):
    name: str
    description: str
    dialing_profile_id: UUID
    session_profile_id: UUID
    dialing_overrides: DialingOverrides
    session_overrides: SessionOverrides


class CampaignTemplateChanged(CampaignEvent, frozen=True, kw_only=True, tag="campaign_template.changed"):
    name: str
    description: str
    dialing_profile_id: UUID
    session_profile_id: UUID
    dialing_overrides: DialingOverrides
    session_overrides: SessionOverrides


class CampaignTemplateDeleted(CampaignEvent, frozen=True, kw_only=True, tag="campaign_template.deleted"):
    pass


class CampaignTemplateReferenced(
    CampaignEvent, frozen=True, kw_only=True, tag="campaign_template.referenced"
):
    """A campaign group was made from this template."""

    by_id: UUID


class CampaignTemplateReleased(CampaignEvent, frozen=True, kw_only=True, tag="campaign_template.released"):
    """A campaign group made from this template was deleted."""

    by_id: UUID


class CampaignGroupCreated(CampaignEvent, frozen=True, kw_only=True, tag="campaign_group.created"):
    name: str
    description: str
    template_id: UUID
    agent_group: str
    contact_list_ids: list[UUID]
    dialing_overrides: DialingOverrides
    session_overrides: SessionOverrides


class CampaignGroupChanged(CampaignEvent, frozen=True, kw_only=True, tag="campaign_group.changed"):
    name: str
    description: str
    agent_group: str
    contact_list_ids: list[UUID]
    dialing_overrides: DialingOverrides
    session_overrides: SessionOverrides


class CampaignGroupStarted(CampaignEvent, frozen=True, kw_only=True, tag="campaign_group.started"):
    pass


class CampaignGroupPaused(CampaignEvent, frozen=True, kw_only=True, tag="campaign_group.paused"):
    pass


class CampaignGroupResumed(CampaignEvent, frozen=True, kw_only=True, tag="campaign_group.resumed"):
    pass


class CampaignGroupStopped(CampaignEvent, frozen=True, kw_only=True, tag="campaign_group.stopped"):
    pass


class CampaignGroupPaced(CampaignEvent, frozen=True, kw_only=True, tag="campaign_group.paced"):
    """The dialer's pacing of a running group changed: the mode it dials in now (predictive
    degrades to progressive near the abandon target) and its ratio of calls to agents.

    Recorded when the mode changes or the ratio moves by 10 % or more, at most every 10 s (the
    cadence of the product's campaign-group status feed), so the status API can show it.
    """

    mode: str
    ratio: float
    reason: str = ""


class CampaignGroupDeleted(CampaignEvent, frozen=True, kw_only=True, tag="campaign_group.deleted"):
    pass


EVENTS: tuple[type[Event], ...] = (
    CampaignTemplateCreated,
    CampaignTemplateChanged,
    CampaignTemplateDeleted,
    CampaignTemplateReferenced,
    CampaignTemplateReleased,
    CampaignGroupCreated,
    CampaignGroupChanged,
    CampaignGroupStarted,
    CampaignGroupPaused,
    CampaignGroupResumed,
    CampaignGroupStopped,
    CampaignGroupPaced,
    CampaignGroupDeleted,
)
