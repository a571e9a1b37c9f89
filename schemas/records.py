"""Topic ``records``: chains of records, one aggregate per (contact list, client id).

A chain is the set of records of one customer in one list (home, business, mobile…):
a file row with several phone columns becomes one chain. The chain's id is derived
from (list, client id), so a list never holds one client id twice; each record's id is
derived from (chain, position). Codes are the Genesys calling-list numbers
(:mod:`domain.codes`), so exports to OCS / CX Contact tooling are lossless.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from msgspec import Struct, field

from schemas import topics
from schemas.base import Event

# Which rule gave a record its time zone (see domain.time_zones).
TimeZoneRule = Literal["custom", "device", "contact_zone", "postal_code", "default", "default_on_error"]
DeletionReason = Literal["flush", "retention"]


class TreatmentStep(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One treatment applied to the record after a call result (the product's ``treatments``).

    The last step is where the record stands in its treatment plan: which key (the call
    result, or the disposition code when one keyed it), which sequence number and how many
    times that number has been applied, so the next result continues or restarts it.
    """

    call_result: int
    action: str
    at: int  # UTC epoch seconds: when it was applied
    sequence: int = 0  # the plan step's sequence number (0: written before sequences were kept)
    applied: int = 0  # how many times in a row this sequence number has now been applied
    disposition_code: str | None = None  # set when the agent's disposition keyed the step
    dial_sched_time: int | None = None  # UTC epoch seconds the step scheduled a dial for


class Record(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One dialable device of a chain: the fields of an outbound calling-list row.

    Fields at their default (a fresh record: general, ready, never called) are left out
    of the JSON: a million-record import stores and ships a third less.
    """

    record_id: UUID
    chain_n: int  # position in the chain, from 1
    contact_info: str  # E.164 phone number or e-mail address
    contact_info_type: int
    record_type: int = 2
    record_status: int = 1
    call_result: int = 28
    attempt: int = 0
    dial_sched_time: int | None = None  # UTC epoch seconds
    call_time: int | None = None  # UTC epoch seconds
    daily_from: int | None = None  # seconds since local midnight
    daily_till: int | None = None
    time_zone: str
    time_zone_rule: TimeZoneRule
    # Set when two zones apply (contact and device disagree, or an area code spans two):
    # the record may be called only when both are inside its calling window.
    second_time_zone: str | None = None
    treatments: list[TreatmentStep] = []
    # A personal callback (record type 5): the agent who agreed it, whose own it is.
    callback_agent_id: UUID | None = None
    # A record an assign_to_group step gave to an agent group: only the campaign groups of that
    # agent group dial it (empty: any group of its list).
    callback_agent_group: str = ""


class Contact(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Contact-level fields (the product's ``c_*`` columns)."""

    postal_code: str = ""
    country: str = ""
    state: str = ""
    time_zone: str = ""


class RecordEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.RECORDS

    list_id: UUID


class RecordChainImported(RecordEvent, frozen=True, kw_only=True, tag="record_chain.imported"):
    """A file row became a chain of records (or revived a chain deleted earlier)."""

    client_id: str
    job_id: UUID
    line: int
    records: list[Record]
    contact: Contact = Contact()
    custom: dict[str, str] = field(default_factory=dict)


class RecordChainReplaced(RecordEvent, frozen=True, kw_only=True, tag="record_chain.replaced"):
    """An "append and update" import overwrote the chain with a later row of the same client id."""

    client_id: str
    job_id: UUID
    line: int
    records: list[Record]
    contact: Contact = Contact()
    custom: dict[str, str] = field(default_factory=dict)


class RecordChainDeleted(RecordEvent, frozen=True, kw_only=True, tag="record_chain.deleted"):
    """The chain left its list: flushed by a "flush and append" import, or by retention."""

    client_id: str
    reason: DeletionReason
    job_id: UUID | None = None
    detail: str = ""


class Suppression(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Why a record may not be contacted: which entry of which suppression list matched it."""

    chain_n: int
    suppression_list_id: UUID
    entry_id: UUID
    kind: Literal["phone", "client_id", "email"]
    value: str


class RecordChainSuppressed(RecordEvent, frozen=True, kw_only=True, tag="record_chain.suppressed"):
    """Records of the chain matched suppression entries: their record type became 7 (no call).

    ``suppressions`` is every match of the chain now (several per record when several entries
    match it), replacing the chain's earlier ones. ``previous_types`` (chain position -> record
    type) holds the records this event suppresses, for a later restoration to put back.
    """

    client_id: str
    suppressions: list[Suppression]  # every match now, for the whole chain
    previous_types: dict[int, int]  # of the records suppressed by this event


class RecordChainRestored(RecordEvent, frozen=True, kw_only=True, tag="record_chain.restored"):
    """No suppression entry matches these records any more (removed, expired, list archived):
    their record types are back to what they were (chain position -> record type)."""

    client_id: str
    record_types: dict[int, int]


# The dialing queue: a campaign group's dialer draws a record (retrieved), gives it back
# undialled (returned) or records the attempt's end (updated). Each names the chain position,
# the group and the attempt id the draw gave, so a repeated report is recognised and ignored.
ReturnReason = Literal["paused", "stopped", "stale", "denied", "skipped", "unused"]


class RecordQueueEvent(RecordEvent, frozen=True, kw_only=True):
    client_id: str
    chain_n: int
    record_id: UUID
    campaign_group_id: UUID
    attempt_id: UUID


# How a personal callback was drawn: for its own agent (reserved for the call before it is
# placed), or for any agent of the group once its grace period was over.
PersonalCallbackDraw = Literal["", "own_agent", "any_agent"]


class RecordRetrieved(RecordQueueEvent, frozen=True, kw_only=True, tag="record.retrieved"):
    """A campaign group's dialer drew the record to dial it: its status became 2 (retrieved),
    and no other record of its chain is drawn until this one is returned or updated.

    ``personal_callback`` (a personal callback's draw only): ``own_agent``, drawn for the agent
    who agreed it; ``any_agent``, offered to another agent, its grace period being over."""

    retrieved_by: str = ""  # the dialer (worker) that drew it
    personal_callback: PersonalCallbackDraw = ""


class RecordReturned(RecordQueueEvent, frozen=True, kw_only=True, tag="record.returned"):
    """A drawn record went back undialled: status 1 (ready) again, due at ``dial_sched_time``
    (UTC epoch seconds) when given, else when it was before.

    ``reason``: the group was paused or stopped, its dialer died before placing the call
    (stale), the pre-dial gate denied it, the agent skipped the preview, or it was not used.
    """

    reason: ReturnReason
    dial_sched_time: int | None = None
    detail: str = ""


class RecordUpdated(RecordQueueEvent, frozen=True, kw_only=True, tag="record.updated"):
    """The attempt on a drawn record ended: its call result, the time of the call and the
    attempt count, with status 3 (updated) or 4 (stale: placed by a dialer that died)."""

    call_result: int
    call_time: int | None  # UTC epoch seconds
    attempt: int
    record_status: int


class RecordChange(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A record's fields after a treatment (see :mod:`domain.treatments`)."""

    chain_n: int
    record_type: int
    record_status: int
    dial_sched_time: int | None  # UTC epoch seconds
    attempt: int
    call_result: int
    callback_agent_id: UUID | None = None  # a personal callback's agent (see Record)
    callback_agent_group: str = ""  # the agent group it was assigned to (see Record)


class RecordTreated(RecordQueueEvent, frozen=True, kw_only=True, tag="record.treated"):
    """The call results processor applied the group's treatment plan to the attempt's end
    (stored with the ``record.updated`` it follows): the treated record's new type, status and
    due time, the chain's other records that change with it (closed with the chain, or the
    next in chain made due later), which record the chain dials next (None: the chain is
    finished), the step appended to the record's treatment history, and why.

    ``action`` is None when no step applied (none configured, the sequence used up, the
    maximum attempts reached); ``agent_group`` names whose campaign callback an
    assign_to_group step made the record.
    """

    call_result: int
    disposition_code: str | None = None
    action: str | None
    record: RecordChange
    others: list[RecordChange] = field(default_factory=list)
    next_chain_n: int | None
    step: TreatmentStep | None = None
    agent_group: str = ""
    reason: str


EVENTS: tuple[type[Event], ...] = (
    RecordChainImported,
    RecordChainReplaced,
    RecordChainDeleted,
    RecordChainSuppressed,
    RecordChainRestored,
    RecordRetrieved,
    RecordReturned,
    RecordUpdated,
    RecordTreated,
)
