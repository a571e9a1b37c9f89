"""Topic ``lists``: contact lists (records and imports arrive on ``records`` later)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct

from schemas import topics
from schemas.base import Event
from schemas.profiles import Channel
from schemas.settings import ZoneName

TimeZoneSource = Literal["device", "contact", "contact_then_device", "contact_and_device"]
# The product's retention choices: today, 1-31, 45, 60, 90, 180 or 360 days, or permanent.
RETENTION_DAYS: frozenset[int] = frozenset([*range(0, 32), 45, 60, 90, 180, 360])
RetentionScope = Literal["completed", "not_in_progress", "all", "selection"]


class CustomTimeZone(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    country_code: Annotated[str, Meta(pattern="^[A-Z]{2}$")]
    area_code: Annotated[str, Meta(pattern="^[0-9]{1,6}$")]
    time_zone: ZoneName


class TimeZoneOptions(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source: TimeZoneSource = "device"
    use_custom_time_zones: bool = False
    custom_time_zones: list[CustomTimeZone] = []


class Retention(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # None keeps records permanently; 0 means "today" (deleted at the next local midnight).
    days: int | None = None
    scope: RetentionScope = "completed"
    selection_rule: Annotated[str, Meta(max_length=4000)] = ""


class ContactListSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    channel: Channel = "voice"
    time_zones: TimeZoneOptions = TimeZoneOptions()
    retention: Retention = Retention()


class ListEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.LISTS


class ContactListCreated(ListEvent, frozen=True, kw_only=True, tag="contact_list.created"):
    name: str
    description: str
    settings: ContactListSettings


class ContactListChanged(ListEvent, frozen=True, kw_only=True, tag="contact_list.changed"):
    name: str
    description: str
    settings: ContactListSettings


class ContactListArchived(ListEvent, frozen=True, kw_only=True, tag="contact_list.archived"):
    pass


class ContactListAssigned(ListEvent, frozen=True, kw_only=True, tag="contact_list.assigned"):
    """The list joined a campaign group."""

    campaign_group_id: UUID


class ContactListUnassigned(ListEvent, frozen=True, kw_only=True, tag="contact_list.unassigned"):
    """The list left a campaign group."""

    campaign_group_id: UUID


EVENTS: tuple[type[Event], ...] = (
    ContactListCreated,
    ContactListChanged,
    ContactListArchived,
    ContactListAssigned,
    ContactListUnassigned,
)
