"""Suppression list: the numbers, client ids and e-mail addresses a campaign must not contact.

A list has a channel (voice, SMS or e-mail, fixed at creation), is required (applies to
every campaign of its channel) or optional (applies where a campaign group selects it), and
a retention: how long an entry stays once added (``None`` permanent, ``0`` "today", else
1-31, 45, 60, 90, 180 or 360 days).

The aggregate holds the list's settings only. Its entries are batches of events on the same
stream (:mod:`schemas.suppression`); the suppression index and the ``suppression_lists``
read model are their projections. So the decisions on entries are pure functions of the
list's settings, the raw entries and the account's region:

- phone numbers are put in E.164 (:func:`domain.phones.normalise`, read in the account's
  country), e-mail addresses lower-cased, client ids kept as given (trimmed, 1-64 chars);
- an entry's kind must fit the channel: phones on voice and SMS lists, e-mail addresses on
  e-mail lists, client ids on any list;
- bad entries are reported one by one (:class:`RejectedEntry`) and the good ones kept;
  a batch with nothing good is refused (:class:`NoValidEntries`);
- an entry's id is ``uuid5(list id, "<kind>:<value>")``, so adding it again replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Annotated, NamedTuple
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from msgspec import UNSET, Meta, Struct, UnsetType

from domain import name_claim, phones
from domain.aggregate import Aggregate, Changes, existing, pick, projector, touched
from domain.campaign_group import CampaignGroup
from domain.errors import NotFound, RuleViolation
from domain.name_claim import NameClaim
from schemas.base import Event
from schemas.imports import AppendType
from schemas.lists import RETENTION_DAYS
from schemas.profiles import Channel, Description
from schemas.settings import NonEmpty
from schemas.suppression import (
    MAX_ENTRIES_PER_EVENT,
    CampaignGroupSuppressionListsSelected,
    EntryKind,
    EntrySource,
    RemovalReason,
    SuppressionEntriesAdded,
    SuppressionEntriesExpired,
    SuppressionEntriesRemoved,
    SuppressionEntry,
    SuppressionEntryKey,
    SuppressionListArchived,
    SuppressionListChanged,
    SuppressionListCreated,
)

KIND = "suppression-list"
LABEL = "suppression list"

KINDS: tuple[EntryKind, ...] = ("phone", "client_id", "email")
# The kinds of entry each channel's lists hold.
KINDS_OF: dict[str, frozenset[str]] = {
    "voice": frozenset({"phone", "client_id"}),
    "sms": frozenset({"phone", "client_id"}),
    "email": frozenset({"email", "client_id"}),
}
KIND_WORDS: dict[str, str] = {
    "phone": "phone numbers",
    "client_id": "client ids",
    "email": "e-mail addresses",
}
MAX_CLIENT_ID = 64
MAX_EMAIL = 254
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# Entries one request may carry; larger sets arrive as files.
MAX_ENTRIES_PER_REQUEST = 50_000
RETENTION_RULE = "retention is permanent (null), today (0), 1-31, 45, 60, 90, 180 or 360 days"
QUOTE_MAX = 40


class SuppressionList(Aggregate, frozen=True, kw_only=True):
    name: str
    description: str
    channel: Channel
    required: bool
    retention_days: int | None
    archived: bool = False

    @property
    def deleted(self) -> bool:
        return self.archived


# Commands -----------------------------------------------------------------------------


class CreateSuppressionList(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty
    description: Description = ""
    channel: Channel = "voice"
    # Required lists apply to every campaign of their channel; optional ones where selected.
    required: bool = False
    # None is permanent; 0 is "today" (until the account's next local midnight).
    retention_days: int | None = None


class ChangeSuppressionList(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    # Accepted only unchanged: a list's channel is fixed when it is created.
    channel: Channel | UnsetType = UNSET
    required: bool | UnsetType = UNSET
    retention_days: int | UnsetType | None = UNSET


class EntryInput(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One entry as a client sends it; checked by :func:`validate_entries`."""

    kind: str  # phone, client_id or email (anything else is reported, not refused whole)
    value: str | int


class SuppressionEntries(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    entries: Annotated[list[EntryInput], Meta(max_length=MAX_ENTRIES_PER_REQUEST)]


class SelectSuppressionLists(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    suppression_list_ids: list[UUID]


class RejectedEntry(Struct, frozen=True, kw_only=True):
    index: int  # the entry's position in the request (from 0)
    kind: str
    value: str
    field: str  # entries[<index>].kind or entries[<index>].value
    reason: str


class Outcome(NamedTuple):
    """A decision on entries: its events, how many distinct entries it took, what it refused."""

    events: list[Event]
    accepted: int
    rejected: list[RejectedEntry]


class NoValidEntries(RuleViolation):
    """Not one entry of the batch is valid; ``rejected`` says why for each."""

    def __init__(self, rejected: list[RejectedEntry]):
        first = rejected[0]
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        super().__init__(
            f"none of the {len(rejected)} entries is valid: {first.field}: {first.reason}{more}",
            field=first.field,
        )
        self.rejected = rejected


# Pure rules ---------------------------------------------------------------------------


def validate_retention(days: int | None, field: str = "retention_days") -> None:
    if days is not None and days not in RETENTION_DAYS:
        raise RuleViolation(RETENTION_RULE, field=field)


def entry_id(list_id: UUID, kind: str, value: str) -> UUID:
    """The id of an entry in its list: the same (kind, value) always gets the same id."""
    return uuid5(list_id, f"{kind}:{value}")


def expires_at(retention_days: int | None, *, now: datetime, zone: ZoneInfo) -> int | None:
    """When an entry added at ``now`` leaves its list, as UTC epoch seconds (None: never).

    "Today" (0) ends at the next local midnight in ``zone`` (the account's time zone); N
    days is N × 24 h of elapsed time after ``now``, whatever the clocks do meanwhile.
    """
    if retention_days is None:
        return None
    if retention_days == 0:
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        # A midnight that a clock change skips (fold 0) resolves to the first instant of the day.
        return int(datetime.combine(tomorrow, time(0), tzinfo=zone).timestamp())
    return int(now.timestamp()) + retention_days * 86_400


def _quote(value: str) -> str:
    return repr(value if len(value) <= QUOTE_MAX else value[:QUOTE_MAX] + "…")


def normalise_entry(kind: str, raw: str | int, *, channel: str, region: str) -> str:
    """The value as a list stores it; :class:`RuleViolation` naming ``kind`` or ``value``."""
    if kind not in KINDS:
        raise RuleViolation(
            f"{_quote(kind)} is not a kind of entry (phone, client_id or email)", field="kind"
        )
    if kind not in KINDS_OF[channel]:
        holds = " and ".join(KIND_WORDS[k] for k in KINDS if k in KINDS_OF[channel])
        raise RuleViolation(
            f"a {channel} suppression list holds {holds}, not {KIND_WORDS[kind]}", field="kind"
        )
    text = str(raw).strip()
    if not text:
        raise RuleViolation(f"the {kind} is empty", field="value")
    if kind == "phone":
        device = phones.normalise(text, region)
        if isinstance(device, phones.PhoneProblem):
            raise RuleViolation(device.reason, field="value")
        return device.e164
    if kind == "email":
        lowered = text.lower()
        if len(lowered) > MAX_EMAIL or not EMAIL.match(lowered):
            raise RuleViolation(f"{_quote(text)} is not an e-mail address", field="value")
        return lowered
    if len(text) > MAX_CLIENT_ID:
        raise RuleViolation(f"a client id is at most {MAX_CLIENT_ID} characters", field="value")
    if "\x00" in text:
        raise RuleViolation("a client id cannot contain a NUL character", field="value")
    return text


def validate_entries(
    entries: Sequence[EntryInput], *, channel: str, region: str
) -> tuple[list[tuple[EntryKind, str]], list[RejectedEntry]]:
    """The distinct valid (kind, value) pairs, in first-seen order, and the rejected entries."""
    valid: dict[tuple[EntryKind, str], None] = {}
    rejected: list[RejectedEntry] = []
    for index, entry in enumerate(entries):
        try:
            value = normalise_entry(entry.kind, entry.value, channel=channel, region=region)
        except RuleViolation as error:
            rejected.append(
                RejectedEntry(
                    index=index,
                    kind=entry.kind,
                    value=str(entry.value),
                    field=f"entries[{index}].{error.field}",
                    reason=error.detail,
                )
            )
            continue
        kind: EntryKind = entry.kind  # type: ignore[assignment]  # checked by normalise_entry
        valid[(kind, value)] = None
    return list(valid), rejected


def _batches(items: Sequence[Struct]) -> Iterable[list[Struct]]:
    for start in range(0, len(items), MAX_ENTRIES_PER_EVENT):
        yield list(items[start : start + MAX_ENTRIES_PER_EVENT])


def _added(
    suppression_list: SuppressionList,
    added: Sequence[SuppressionEntry],
    source: EntrySource,
    job_id: UUID | None,
    now: datetime,
) -> list[Event]:
    """The events adding these entries, up to 5,000 an event."""
    changes = Changes.of(suppression_list, now)
    for batch in _batches(added):
        changes.record(
            SuppressionEntriesAdded, channel=suppression_list.channel, entries=batch, source=source, job_id=job_id
        )
    return changes.events


def _checked(
    state: SuppressionList | None, entries: Sequence[EntryInput], region: str
) -> tuple[SuppressionList, list[tuple[EntryKind, str]], list[RejectedEntry]]:
    suppression_list = existing(state, LABEL, "id")
    if not entries:
        raise RuleViolation("no entries given", field="entries")
    valid, rejected = validate_entries(entries, channel=suppression_list.channel, region=region)
    if not valid:
        raise NoValidEntries(rejected)
    return suppression_list, valid, rejected


# Decisions ----------------------------------------------------------------------------


def create(
    command: CreateSuppressionList,
    *,
    list_id: UUID,
    account_id: UUID,
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    name = name_claim.clean(command.name)
    validate_retention(command.retention_days)
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
    changes.record(
        SuppressionListCreated,
        name=name,
        description=command.description,
        channel=command.channel,
        required=command.required,
        retention_days=command.retention_days,
    )
    return events + changes.events


def change(
    state: SuppressionList | None,
    command: ChangeSuppressionList,
    *,
    new_claim: NameClaim | None,
    old_claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    suppression_list = existing(state, LABEL, "id")
    if command.channel is not UNSET and command.channel != suppression_list.channel:
        raise RuleViolation(
            f"the channel of a suppression list cannot change (this one is {suppression_list.channel}); "
            "create another list",
            field="channel",
        )
    name = suppression_list.name if command.name is UNSET else name_claim.clean(command.name)
    retention_days = pick(command.retention_days, suppression_list.retention_days)
    validate_retention(retention_days)
    events: list[Event] = []
    events += name_claim.rename(
        suppression_list, name, new_claim=new_claim, old_claim=old_claim, kind=KIND, label=LABEL, now=now
    )
    fields = dict(
        name=name,
        description=pick(command.description, suppression_list.description),
        required=pick(command.required, suppression_list.required),
        retention_days=retention_days,
    )
    if all(getattr(suppression_list, key) == value for key, value in fields.items()):
        return events
    changes = Changes.of(suppression_list, now)
    changes.record(SuppressionListChanged, **fields)
    return events + changes.events


def archive(state: SuppressionList | None, *, claim: NameClaim | None, now: datetime) -> list[Event]:
    """The list stops applying anywhere (campaign groups that selected it ignore it) and
    its entries leave the index; its name is free again."""
    suppression_list = existing(state, LABEL, "id")
    changes = Changes.of(suppression_list, now)
    changes.record(SuppressionListArchived)
    return (name_claim.release(claim, now=now) if claim else []) + changes.events


def add_entries(
    state: SuppressionList | None,
    entries: Sequence[EntryInput],
    *,
    source: EntrySource,
    job_id: UUID | None = None,
    region: str,
    zone: ZoneInfo,
    now: datetime,
) -> Outcome:
    """Add the valid entries (in events of up to 5,000), their expiry fixed by the list's
    retention at ``now``; ``region`` is the account's country, ``zone`` its time zone."""
    suppression_list, valid, rejected = _checked(state, entries, region)
    expiry = expires_at(suppression_list.retention_days, now=now, zone=zone)
    added = [
        SuppressionEntry(
            kind=kind, value=value, entry_id=entry_id(suppression_list.id, kind, value), expires_at=expiry
        )
        for kind, value in valid
    ]
    return Outcome(_added(suppression_list, added, source, job_id, now), len(added), rejected)


class FileEntry(NamedTuple):
    """One cell of an entry file: the line it is on, its column, the kind that column holds."""

    line: int
    column: str
    kind: str
    raw: str


class CheckedEntry(NamedTuple):
    """A cell of an entry file that is a valid entry: its value as stored and its id."""

    cell: FileEntry
    kind: EntryKind
    value: str
    entry_id: UUID


class FileEntriesOutcome(NamedTuple):
    """A decision on a batch of an entry file."""

    events: list[Event]
    imported: int  # entries new to the list
    updated: int  # entries already there, added again (their retention restarts)
    ignored: list[tuple[FileEntry, str]]  # duplicates left as they were, with the reason


def check_file_entries(
    state: SuppressionList | None, cells: Sequence[FileEntry], *, region: str
) -> tuple[list[CheckedEntry], list[tuple[FileEntry, str]]]:
    """The cells that are valid entries of the list, and the others with the reason."""
    suppression_list = existing(state, LABEL, "list_id")
    checked: list[CheckedEntry] = []
    rejected: list[tuple[FileEntry, str]] = []
    for cell in cells:
        try:
            value = normalise_entry(cell.kind, cell.raw, channel=suppression_list.channel, region=region)
        except RuleViolation as error:
            rejected.append((cell, f"line {cell.line}: {cell.column}: {error.detail}"))
            continue
        kind: EntryKind = cell.kind  # type: ignore[assignment]  # checked by normalise_entry
        checked.append(CheckedEntry(cell, kind, value, entry_id(suppression_list.id, kind, value)))
    return checked, rejected


def add_file_entries(
    state: SuppressionList | None,
    entries: Sequence[CheckedEntry],
    *,
    present: Collection[UUID],
    append_type: AppendType,
    job_id: UUID,
    zone: ZoneInfo,
    now: datetime,
) -> FileEntriesOutcome:
    """Add a batch of an entry file (checked by :func:`check_file_entries`) under its
    import's append type.

    ``present`` holds the ids of the batch's entries that the list holds already (from
    earlier files, or earlier batches of this one). "Append and update" adds them again,
    which restarts their retention; every other append type leaves them as they are. An
    entry named twice in the batch is taken once.
    """
    suppression_list = existing(state, LABEL, "list_id")
    expiry = expires_at(suppression_list.retention_days, now=now, zone=zone)
    added: list[SuppressionEntry] = []
    taken: set[UUID] = set()
    imported = updated = 0
    ignored: list[tuple[FileEntry, str]] = []
    for cell, kind, value, key in entries:
        if key in taken:
            ignored.append((cell, f"line {cell.line}: {kind} {_quote(value)} is named earlier in the file"))
            continue
        if key in present and append_type != "append_and_update":
            ignored.append(
                (
                    cell,
                    f"line {cell.line}: {kind} {_quote(value)} is already in the list; "
                    f"{append_type.replace('_', ' ')} leaves it as it is",
                )
            )
            continue
        taken.add(key)
        updated += key in present
        imported += key not in present
        added.append(SuppressionEntry(kind=kind, value=value, entry_id=key, expires_at=expiry))
    return FileEntriesOutcome(_added(suppression_list, added, "file", job_id, now), imported, updated, ignored)


def flush_entries(
    state: SuppressionList | None, keys: Sequence[SuppressionEntryKey], *, now: datetime
) -> list[Event]:
    """Remove entries a "flush and append" import found in the list before its file's."""
    suppression_list = existing(state, LABEL, "list_id")
    changes = Changes.of(suppression_list, now)
    for batch in _batches(list(dict.fromkeys(keys))):
        changes.record(
            SuppressionEntriesRemoved, channel=suppression_list.channel, entries=batch, reason="flush"
        )
    return changes.events


def remove_entries(
    state: SuppressionList | None,
    entries: Sequence[EntryInput],
    *,
    region: str,
    now: datetime,
    reason: RemovalReason = "removed",
) -> Outcome:
    """Remove entries by kind and value (normalised as when added); an entry that is not
    in the list is no error, it stays absent."""
    suppression_list, valid, rejected = _checked(state, entries, region)
    keys = [SuppressionEntryKey(kind=kind, value=value) for kind, value in valid]
    changes = Changes.of(suppression_list, now)
    for batch in _batches(keys):
        changes.record(
            SuppressionEntriesRemoved, channel=suppression_list.channel, entries=batch, reason=reason
        )
    return Outcome(changes.events, len(keys), rejected)


def expire_entries(
    state: SuppressionList | None, keys: Sequence[SuppressionEntryKey], *, now: datetime
) -> list[Event]:
    """Entries whose retention ran out (found by the caller, e.g. an expiry sweep), removed
    by event. Keys are as stored (already normalised); an archived list has none left."""
    if state is None:
        raise NotFound(f"{LABEL} not found", field="id")
    if state.archived:
        return []
    distinct = list(dict.fromkeys(keys))
    changes = Changes.of(state, now)
    for batch in _batches(distinct):
        changes.record(SuppressionEntriesExpired, channel=state.channel, entries=batch)
    return changes.events


def select_suppression_lists(
    group_state: CampaignGroup | None,
    list_ids: Sequence[UUID],
    *,
    lists: Mapping[UUID, SuppressionList],
    channel: Channel,
    now: datetime,
) -> list[Event]:
    """The optional suppression lists a campaign group applies besides the required ones.

    ``lists`` holds the named lists by id (missing ones are absent); ``channel`` is the
    group's, from its template's session settings with its own overrides.
    """
    group = existing(group_state, "campaign group", "id")
    if len(set(list_ids)) != len(list_ids):
        raise RuleViolation("a suppression list is named twice", field="suppression_list_ids")
    for index, list_id in enumerate(list_ids):
        field = f"suppression_list_ids[{index}]"
        found = lists.get(list_id)
        if found is None or found.account_id != group.account_id:
            raise NotFound(f"{LABEL} not found", field=field)
        found = existing(found, LABEL, field)
        if found.required:
            raise RuleViolation(
                f"suppression list {found.name!r} is required: it applies to every {found.channel} "
                "campaign already; select only optional lists",
                field=field,
            )
        if found.channel != channel:
            raise RuleViolation(
                f"suppression list {found.name!r} is for {found.channel}, "
                f"but the campaign group dials {channel}",
                field=field,
            )
    if tuple(list_ids) == group.suppression_list_ids:
        return []
    changes = Changes.of(group, now)
    changes.record(CampaignGroupSuppressionListsSelected, suppression_list_ids=list(list_ids))
    return changes.events


# Folding ------------------------------------------------------------------------------


def evolve(state: SuppressionList | None, event: Event) -> SuppressionList | None:
    if isinstance(event, SuppressionListCreated):
        return SuppressionList(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            name=event.name,
            description=event.description,
            channel=event.channel,
            required=event.required,
            retention_days=event.retention_days,
        )
    if state is None:
        return None
    match event:
        case SuppressionListChanged():
            return touched(
                state,
                event,
                name=event.name,
                description=event.description,
                required=event.required,
                retention_days=event.retention_days,
            )
        case SuppressionListArchived():
            return touched(state, event, archived=True)
    # Entries added, removed or expired: the list's settings stay as they are.
    return touched(state, event)


project = projector(evolve)
