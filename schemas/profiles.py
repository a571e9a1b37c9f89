"""Topic ``profiles``: dialing profiles and session profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from schemas import topics
from schemas.base import Event
from schemas.settings import NonEmpty, Text

# "preview" is pull preview (the agent asks for the next record); *_engage: engage-agent-first
# (the product's "with seizing": the agent is reserved before the call is placed).
DialingMode = Literal[
    "preview",
    "push_preview",
    "progressive",
    "progressive_engage",
    "predictive",
    "predictive_engage",
    "power",
]
PREVIEW_MODES: frozenset[str] = frozenset({"preview", "push_preview"})
Channel = Literal["voice", "sms", "email"]
OptimizationMethod = Literal["busy_factor", "overdial_rate", "wait_time", "answer_rate"]
TreatmentAction = Literal[
    "no_treatment",
    "redial",
    "retry_in",
    "retry_at",
    "next_in_chain",
    "next_in_chain_after",
    "next_in_chain_at",
    "mark_agent_error",
    "assign_to_group",
    "cancel_record",
    "update_all_records_in_chain",
]
CallResultCode = Annotated[int, Meta(ge=0, le=53)]
# An agent's wrap-up code from the account's disposition catalogue (issue 16).
DispositionCode = Annotated[str, Meta(min_length=1, max_length=64)]
# A wall-clock date and time with no zone: read in the contact's own time zone.
LocalDateTime = Annotated[datetime, Meta(tz=False)]
Description = Annotated[str, Meta(max_length=2000)]


class Pacing(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # Progressive: calls placed per ready agent. Predictive: the starting ratio.
    lines_per_agent: Annotated[float, Meta(ge=1, le=10)] = 1.0
    optimization_method: OptimizationMethod = "overdial_rate"
    # The goal of the optimization method: a percent for rates, seconds for wait time.
    optimization_goal: Annotated[float, Meta(gt=0, le=100)] = 3.0
    # Regulators want at least 15 s (or four rings) before a call is given up.
    ring_timeout_seconds: Annotated[int, Meta(ge=15, le=120)] = 25
    answering_machine_detection: bool = True
    max_attempts_per_minute: Annotated[int, Meta(ge=1, le=100_000)] | None = None
    # Power mode (agentless: voice messages, SMS, e-mail): attempts per minute.
    calls_per_minute: Annotated[int, Meta(ge=1, le=100_000)] | None = None
    # Calls in flight at most (the group's trunk lines); None: no cap besides the agents'.
    max_lines: Annotated[int, Meta(ge=1, le=10_000)] | None = None


class SortField(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    field: NonEmpty
    descending: bool = False


class Filtering(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # The selection-rule language arrives with the contact-lists work; stored verbatim here.
    selection_rule: Annotated[str, Meta(max_length=4000)] = ""
    sort: list[SortField] = []
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 10


class Treatment(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One step of a treatment plan, keyed on a call result or on a disposition code (exactly
    one of them: see domain.treatments.plan_problem). Steps of one key are numbered from 1.

    The fields added for issue 16 default to UNSET, which msgspec leaves out of the JSON: a
    plan that does not use them is written exactly as before (stored events, API answers).
    """

    call_result: CallResultCode | UnsetType = UNSET
    sequence: Annotated[int, Meta(ge=1, le=20)] = 1
    action: TreatmentAction
    retry_count: Annotated[int, Meta(ge=0, le=100)] = 1
    interval_minutes: Annotated[int, Meta(ge=0, le=60 * 24 * 90)] = 0
    increment_minutes: Annotated[int, Meta(ge=0, le=60 * 24)] = 0
    disposition_code: DispositionCode | UnsetType = UNSET
    # For retry_at and next_in_chain_at: local to the record dialled (its time zone).
    date_time: LocalDateTime | UnsetType = UNSET
    # For assign_to_group: the agent group the record is given to.
    agent_group: Text | UnsetType = UNSET


class DialingSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    dialing_mode: DialingMode = "progressive"
    caller_id: Text = ""
    pacing: Pacing = Pacing()
    filtering: Filtering = Filtering()
    treatments: list[Treatment] = []
    # A personal callback is dialled only for the agent who agreed it until this long after it
    # fell due; then it is offered to any agent of the group (0: as soon as it is due and its
    # agent is not ready). At most a day.
    personal_callback_grace_minutes: Annotated[int, Meta(ge=0, le=1440)] = 15


OptionSection = dict[str, dict[str, str]]


class OptionSections(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """OCS-style option sections, each a named map of option name to value."""

    campaign_group: OptionSection = {}
    contact_list: OptionSection = {}
    campaign: OptionSection = {}


class MessageSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What an SMS or e-mail campaign sends each record: from ``sender`` (the SMS number, short
    code or alphanumeric id; the e-mail From, ``"Acme Billing <billing@acme.example>"``), the
    ``body`` (and the e-mail's ``subject``) with ``{field}`` placeholders filled from the record
    (:mod:`domain.message_template`)."""

    sender: NonEmpty
    body: NonEmpty
    subject: Text = ""


class SessionSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    channel: Channel = "voice"
    # The message of an SMS or e-mail campaign (channel sms or email; unused on voice).
    message: MessageSettings | None = None
    agent_group: Text = ""
    trunk_group: Text = ""
    destination_dn: Text = ""
    stat_server: Text = ""
    other_servers: list[NonEmpty] = []
    ivr_profile: Text = ""
    interaction_queue: Text = ""
    options: OptionSections = OptionSections()


class ProfileEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.PROFILES


class DialingProfileCreated(ProfileEvent, frozen=True, kw_only=True, tag="dialing_profile.created"):
    name: str
    description: str
    settings: DialingSettings


class DialingProfileChanged(ProfileEvent, frozen=True, kw_only=True, tag="dialing_profile.changed"):
    name: str
    description: str
    settings: DialingSettings


class DialingProfileDeleted(ProfileEvent, frozen=True, kw_only=True, tag="dialing_profile.deleted"):
    pass


class SessionProfileCreated(ProfileEvent, frozen=True, kw_only=True, tag="session_profile.created"):
    name: str
    description: str
    settings: SessionSettings


class SessionProfileChanged(ProfileEvent, frozen=True, kw_only=True, tag="session_profile.changed"):
    name: str
    description: str
    settings: SessionSettings


class SessionProfileDeleted(ProfileEvent, frozen=True, kw_only=True, tag="session_profile.deleted"):
    pass


class ProfileReferenced(ProfileEvent, frozen=True, kw_only=True, tag="profile.referenced"):
    """A campaign template started to use this (dialing or session) profile."""

    by_id: UUID


class ProfileReleased(ProfileEvent, frozen=True, kw_only=True, tag="profile.released"):
    """A campaign template stopped using this profile."""

    by_id: UUID


EVENTS: tuple[type[Event], ...] = (
    DialingProfileCreated,
    DialingProfileChanged,
    DialingProfileDeleted,
    SessionProfileCreated,
    SessionProfileChanged,
    SessionProfileDeleted,
    ProfileReferenced,
    ProfileReleased,
)
