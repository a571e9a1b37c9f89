"""Data mapping: a file's header names mapped to record fields; and how any mapping finds
its columns in a real file (:func:`resolve`) or is guessed from a header (:func:`default_mapping`).

The mapping rules (:func:`validate_fields`) are shared with specification files: exactly
one ``client_id``, at least one ``contact_info``, no other target twice, no column twice,
no export label twice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, NamedTuple, Protocol
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, structs

from domain import name_claim, usage
from domain.aggregate import Aggregate, Changes, existing, pick, projector, touched
from domain.codes import ContactInfoType
from domain.errors import RuleViolation
from domain.name_claim import NameClaim
from domain.record_chain import MAX_CHAIN_LENGTH
from domain.record_fields import CLIENT_ID, CONTACT_INFO, CUSTOM_PREFIX, TARGETS, custom_name, is_custom
from domain.record_fields import target_problem as _target_problem
from schemas.base import Event
from schemas.imports import FieldMap
from schemas.list_rules import (
    MAX_FIELDS,
    DataMappingArchived,
    DataMappingChanged,
    DataMappingCreated,
    DataMappingReferenced,
    DataMappingReleased,
    MappedField,
)
from schemas.profiles import Description
from schemas.settings import NonEmpty

KIND = "data-mapping"
LABEL = "data mapping"


class DataMapping(Aggregate, frozen=True, kw_only=True):
    name: str
    description: str
    fields: list[MappedField]
    used_by: frozenset[UUID] = frozenset()  # upload rules using it
    archived: bool = False

    @property
    def deleted(self) -> bool:
        return self.archived


MappedFields = Annotated[list[MappedField], Meta(max_length=MAX_FIELDS)]


class CreateDataMapping(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty
    description: Description = ""
    fields: MappedFields


class ChangeDataMapping(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    fields: MappedFields | UnsetType = UNSET


# The mapping rules ---------------------------------------------------------------------


class FieldLike(Protocol):
    """What :func:`resolve` reads of a mapped field: a stored ``MappedField`` or a job's ``FieldMap``."""

    @property
    def column(self) -> str: ...
    @property
    def field(self) -> str: ...
    @property
    def contact_info_type(self) -> int | None: ...
    @property
    def label(self) -> str: ...


_MAIL = re.compile(r"e[-_ ]?mail|courriel", re.IGNORECASE)


def default_contact_info_type(column: str) -> int:
    """The contact info type of a ``contact_info`` column that does not say: e-mail when its
    name says so (``Email``, ``e-mail 2``), else home phone — the product's list builder default."""
    return int(ContactInfoType.EMAIL if _MAIL.search(column) else ContactInfoType.HOME_PHONE)


def validate_fields(
    fields: Sequence[MappedField], path: str = "fields", *, distinct_labels: bool = True
) -> list[MappedField]:
    """The fields as stored (contact info types and labels filled in), or RuleViolation
    naming the entry at fault (``fields[2].field``)."""
    if len(fields) > MAX_FIELDS:
        raise RuleViolation(f"a mapping has at most {MAX_FIELDS} fields", field=path)
    cleaned: list[MappedField] = []
    columns: dict[str, int] = {}
    targets: dict[str, int] = {}
    labels: dict[str, int] = {}
    for index, entry in enumerate(fields):
        at = f"{path}[{index}]"
        problem = _target_problem(entry.field)
        if problem is not None:
            raise RuleViolation(problem, field=f"{at}.field")
        if entry.column in columns:
            raise RuleViolation(
                f"column {entry.column!r} is mapped twice ({path}[{columns[entry.column]}] and {at}); "
                "map a column once",
                field=f"{at}.column",
            )
        columns[entry.column] = index
        if entry.field != CONTACT_INFO and entry.field in targets:
            first = fields[targets[entry.field]].column
            raise RuleViolation(
                f"{entry.field} is mapped from two columns ({first!r} and {entry.column!r}); "
                "only contact_info may be mapped from several",
                field=f"{at}.field",
            )
        targets.setdefault(entry.field, index)
        if entry.field == CONTACT_INFO:
            kind = (
                entry.contact_info_type
                if entry.contact_info_type is not None
                else default_contact_info_type(entry.column)
            )
        elif entry.contact_info_type is not None:
            raise RuleViolation(
                f"contact_info_type is for contact_info columns only, not {entry.field}",
                field=f"{at}.contact_info_type",
            )
        else:
            kind = None
        label = entry.label.strip() or entry.column
        folded = label.casefold()
        if distinct_labels and folded in labels:
            raise RuleViolation(
                f"label {label!r} is used twice ({path}[{labels[folded]}] and {at}); exports need distinct labels",
                field=f"{at}.label",
            )
        labels[folded] = index
        cleaned.append(
            MappedField(column=entry.column, field=entry.field, contact_info_type=kind, label=label)
        )
    if CLIENT_ID not in targets:
        raise RuleViolation("a mapping needs one column mapped to client_id", field=path)
    if CONTACT_INFO not in targets:
        raise RuleViolation(
            "a mapping needs at least one column mapped to contact_info (a phone number or e-mail)",
            field=path,
        )
    contacts = sum(entry.field == CONTACT_INFO for entry in cleaned)
    if contacts > MAX_CHAIN_LENGTH:
        raise RuleViolation(
            f"{contacts} columns are mapped to contact_info; a chain holds at most {MAX_CHAIN_LENGTH} records",
            field=path,
        )
    return cleaned


# Resolving a mapping against a file's columns ------------------------------------------


class ContactIndex(NamedTuple):
    """A contact_info column: its position in the row (0-based) and its ContactInfoType code."""

    position: int
    contact_info_type: int


class CustomIndex(NamedTuple):
    """A custom field: its column's position (0-based), its name (after ``custom:``) and its label."""

    position: int
    name: str
    label: str


@dataclass(frozen=True)
class Resolved:
    """A mapping placed on one file: where each record field is in a row (0-based indexes).

    - ``columns``: the file's columns, as :func:`resolve` was given them.
    - ``client_id``: the index of the client id column.
    - ``contact_info``: one :class:`ContactIndex` (position, contact_info_type) per contact
      column, in mapping order — the order of the records in the customer's chain.
    - ``targets``: the other standard targets (``record_type``, ``postal_code``, ...) -> index,
      in mapping order.
    - ``custom``: one :class:`CustomIndex` (position, name, label) per ``custom:<name>`` field,
      in mapping order.
    - ``labels``: target (``custom:<name>`` for custom ones) -> export label, for every mapped
      field except contact_info (whose labels are in ``contact_labels``, by chain position).
    """

    columns: tuple[str, ...]
    client_id: int
    contact_info: tuple[ContactIndex, ...]
    targets: Mapping[str, int] = field(default_factory=dict)
    custom: tuple[CustomIndex, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    contact_labels: tuple[str, ...] = ()

    def column_of(self, index: int) -> str:
        return self.columns[index]


def _positions(columns: Sequence[str]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    exact: dict[str, list[int]] = {}
    loose: dict[str, list[int]] = {}
    for index, name in enumerate(columns):
        exact.setdefault(name, []).append(index)
        loose.setdefault(name.strip().casefold(), []).append(index)
    return exact, loose


def resolve(fields: Sequence[FieldLike], columns: Sequence[str]) -> Resolved:
    """Place ``fields`` (a data mapping's, a specification file's or a job's) on a file whose
    columns are ``columns`` (its header, or its specification file's column names).

    A mapped column is found by its exact name, else by its name ignoring case and
    surrounding spaces when that is unambiguous. Raises RuleViolation when the mapping
    breaks a mapping rule, or names every mapped column the file lacks or holds twice::

        the file has no column 'Mobile' mapped to contact_info; its columns are: 'Customer', 'Home'
    """
    listing = ", ".join(repr(c) for c in columns) if columns else "(none)"
    given = [
        MappedField(
            column=f.column, field=f.field, contact_info_type=f.contact_info_type, label=f.label or ""
        )
        for f in fields
    ]
    try:
        checked = validate_fields(given, distinct_labels=False)
    except RuleViolation as error:
        if error.field != "fields":
            raise
        raise RuleViolation(f"{error.detail}; the file's columns are: {listing}", field=error.field) from None
    exact, loose = _positions(columns)
    missing: list[tuple[int, MappedField]] = []
    doubled: list[tuple[int, MappedField, int]] = []
    index_of: list[int] = []
    for position, entry in enumerate(checked):
        found = exact.get(entry.column) or loose.get(entry.column.strip().casefold()) or []
        if len(found) == 1:
            index_of.append(found[0])
            continue
        index_of.append(-1)
        if not found:
            missing.append((position, entry))
        else:
            doubled.append((position, entry, len(found)))
    if missing:
        what = "; ".join(f"no column {e.column!r} mapped to {e.field}" for _, e in missing)
        raise RuleViolation(
            f"the file has {what}; its columns are: {listing}", field=f"fields[{missing[0][0]}].column"
        )
    if doubled:
        what = "; ".join(f"{n} columns named {e.column!r} (mapped to {e.field})" for _, e, n in doubled)
        raise RuleViolation(
            f"the file has {what}; rename them so that each mapped column is found once",
            field=f"fields[{doubled[0][0]}].column",
        )
    taken: dict[int, MappedField] = {}
    for position, (index, entry) in enumerate(zip(index_of, checked, strict=True)):
        if index in taken:
            raise RuleViolation(
                f"mapped columns {taken[index].column!r} and {entry.column!r} are both the file's "
                f"column {columns[index]!r}; map it once",
                field=f"fields[{position}].column",
            )
        taken[index] = entry
    client = next(i for i, e in zip(index_of, checked, strict=True) if e.field == CLIENT_ID)
    contacts = tuple(
        ContactIndex(i, e.contact_info_type or 0)
        for i, e in zip(index_of, checked, strict=True)
        if e.field == CONTACT_INFO
    )
    pairs = list(zip(index_of, checked, strict=True))
    return Resolved(
        columns=tuple(columns),
        client_id=client,
        contact_info=contacts,
        targets={
            e.field: i
            for i, e in pairs
            if e.field not in (CLIENT_ID, CONTACT_INFO) and not is_custom(e.field)
        },
        custom=tuple(CustomIndex(i, custom_name(e.field), e.label) for i, e in pairs if is_custom(e.field)),
        labels={e.field: e.label for _, e in pairs if e.field != CONTACT_INFO},
        contact_labels=tuple(e.label for _, e in pairs if e.field == CONTACT_INFO),
    )


# Guessing a mapping from a header ------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-./]+")
_NOT_NAME = re.compile(r"[^a-z0-9_]+")
_NUMBERED = re.compile(r"_?[0-9]+$")
_NUMBER_WORD = re.compile(r"_(number|num|no|nr)$")
# Header words (lower case, "_" for spaces and dashes, trailing digits and "_number" taken
# off) that name a phone or e-mail column, and the contact info type each one means.
CONTACT_WORDS: dict[str, ContactInfoType] = {
    **dict.fromkeys(
        (
            "contact_info",
            "phone",
            "telephone",
            "tel",
            "home",
            "home_phone",
            "homephone",
            "home_tel",
            "landline",
            "land_line",
            "phone_home",
        ),
        ContactInfoType.HOME_PHONE,
    ),
    **dict.fromkeys(
        (
            "mobile",
            "mobile_phone",
            "mobilephone",
            "cell",
            "cell_phone",
            "cellphone",
            "cellular",
            "phone_mobile",
        ),
        ContactInfoType.MOBILE,
    ),
    **dict.fromkeys(
        (
            "work",
            "work_phone",
            "workphone",
            "business_phone",
            "office_phone",
            "direct_business_phone",
            "phone_work",
        ),
        ContactInfoType.DIRECT_BUSINESS_PHONE,
    ),
    **dict.fromkeys(("business_with_extension",), ContactInfoType.BUSINESS_WITH_EXTENSION),
    **dict.fromkeys(("vacation", "vacation_phone"), ContactInfoType.VACATION_PHONE),
    **dict.fromkeys(("pager",), ContactInfoType.PAGER),
    **dict.fromkeys(("voice_mail", "voicemail"), ContactInfoType.VOICE_MAIL),
    **dict.fromkeys(("email", "e_mail", "email_address", "e_mail_address"), ContactInfoType.EMAIL),
}
# Other common spellings of the standard targets.
TARGET_WORDS: dict[str, str] = {
    "clientid": CLIENT_ID,
    "customer_id": CLIENT_ID,
    "zip": "postal_code",
    "zip_code": "postal_code",
    "zipcode": "postal_code",
    "postcode": "postal_code",
    "post_code": "postal_code",
    "postal": "postal_code",
    "timezone": "time_zone",
    "tz": "time_zone",
    "province": "state",
}


def header_key(column: str) -> str:
    """A header as :func:`default_mapping` compares it: lower case, spaces and dashes as ``_``."""
    return _SEPARATORS.sub("_", column.strip().casefold()).strip("_")


def custom_field_name(column: str) -> str:
    """A column's name as a custom field name: lower case letters, digits and ``_``, at most
    63, not starting with a digit; ``""`` when nothing of it is usable."""
    ascii_only = unicodedata.normalize("NFKD", header_key(column)).encode("ascii", "ignore").decode()
    name = _NOT_NAME.sub("_", ascii_only)
    name = re.sub("_+", "_", name).strip("_")
    if name and name[0].isdigit():
        name = f"_{name}"
    return name[:63].rstrip("_") if len(name) > 63 else name


def _contact_type(key: str) -> ContactInfoType | None:
    for candidate in (key, _NUMBERED.sub("", key)):
        for word in (candidate, _NUMBER_WORD.sub("", candidate)):
            if word in CONTACT_WORDS:
                return CONTACT_WORDS[word]
    return None


def default_mapping(columns: Sequence[str]) -> list[FieldMap]:
    """The mapping an import uses when it is given none, guessed from the file's header.

    Compared in lower case with spaces and dashes as ``_``: a header named like a target
    (``Client ID``, ``record-type``, ``Postal Code``; also ``zip``, ``timezone``) maps to it,
    its first column only; a phone or e-mail header (``phone``, ``phone1``, ``phone_2``,
    ``home_phone``, ``mobile``, ``cell``, ``work_phone``, ``email``, ``phone_number``, ...)
    maps to contact_info with the type its name says (see :data:`CONTACT_WORDS`); any other
    column to ``custom:<its sanitised name>`` (made unique with ``_2``, ``_3``). Blank header
    cells are left unmapped. Labels are the columns' names. :func:`resolve` then says what
    is missing (a file without a client id column, say).
    """
    mapped: list[FieldMap] = []
    used_targets: set[str] = set()
    used_custom: set[str] = set()
    seen: set[str] = set()
    for position, column in enumerate(columns):
        key = header_key(column)
        if not key or column in seen:
            continue  # blank, or a repeated name that resolve() reports as ambiguous
        seen.add(column)
        target = TARGET_WORDS.get(key, key)
        if target in TARGETS and target != CONTACT_INFO and target not in used_targets:
            used_targets.add(target)
            mapped.append(FieldMap(column=column, field=target, label=column))
            continue
        kind = _contact_type(key)
        if kind is not None:
            mapped.append(
                FieldMap(column=column, field=CONTACT_INFO, contact_info_type=int(kind), label=column)
            )
            continue
        unique = _unique_custom(custom_field_name(column) or f"column_{position + 1}", used_custom)
        mapped.append(FieldMap(column=column, field=f"{CUSTOM_PREFIX}{unique}", label=column))
    return mapped


def _unique_custom(name: str, used: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``... when ``used`` (case-folded) holds it; then used."""
    unique, n = name, 1
    while unique.casefold() in used:
        n += 1
        suffix = f"_{n}"
        unique = name[: 63 - len(suffix)] + suffix
    used.add(unique.casefold())
    return unique


# A list's channel and its devices ------------------------------------------------------

CHANNEL_DEVICES = {"voice": "phone numbers", "sms": "mobile numbers", "email": "e-mail addresses"}


def is_device_of(channel: str, contact_info_type: int) -> bool:
    """Whether a contact column of this type holds the devices a ``channel`` list contacts:
    e-mail addresses on an e-mail list, phone numbers on a voice or SMS list."""
    return (contact_info_type == ContactInfoType.EMAIL) == (channel == "email")


def for_channel(fields: Sequence[FieldMap], channel: str) -> list[FieldMap]:
    """``fields`` as a list of ``channel`` reads them. A contact column of the other kind of
    device (an ``email`` column on a voice list, a ``phone`` column on an e-mail list) is a
    custom field, named after its column, rather than a record the list cannot contact. An
    untyped contact column is an e-mail address on an e-mail list and, on the others, what its
    name says (:func:`default_contact_info_type`).

    Raises RuleViolation when the mapping has contact columns but none of the channel's."""
    used = {custom_name(f.field).casefold() for f in fields if is_custom(f.field)}
    kept: list[FieldMap] = []
    others: list[str] = []
    for entry in fields:
        if entry.field != CONTACT_INFO:
            kept.append(entry)
            continue
        kind = entry.contact_info_type
        if kind is None:
            kind = (
                int(ContactInfoType.EMAIL) if channel == "email" else default_contact_info_type(entry.column)
            )
        if is_device_of(channel, kind):
            kept.append(structs.replace(entry, contact_info_type=kind))
            continue
        others.append(entry.column)
        name = _unique_custom(custom_field_name(entry.column) or "contact", used)
        kept.append(
            FieldMap(column=entry.column, field=f"{CUSTOM_PREFIX}{name}", label=entry.label or entry.column)
        )
    if others and not any(entry.field == CONTACT_INFO for entry in kept):
        listed = ", ".join(repr(column) for column in others)
        raise RuleViolation(
            f"a {channel} list's records are {CHANNEL_DEVICES[channel]}, and the mapping's contact "
            f"columns ({listed}) hold {CHANNEL_DEVICES['voice' if channel == 'email' else 'email']}; "
            f"map a column of {CHANNEL_DEVICES[channel]} to contact_info",
            field="fields",
        )
    return kept


# Decisions -----------------------------------------------------------------------------


def create(
    command: CreateDataMapping,
    *,
    mapping_id: UUID,
    account_id: UUID,
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    name = name_claim.clean(command.name)
    fields = validate_fields(command.fields)
    events = name_claim.claim(
        claim, account_id=account_id, kind=KIND, name=name, owner_id=mapping_id, now=now, label=LABEL
    )
    changes = Changes(mapping_id, account_id, 0, now)
    changes.record(DataMappingCreated, name=name, description=command.description, fields=fields)
    return events + changes.events


def change(
    state: DataMapping | None,
    command: ChangeDataMapping,
    *,
    new_claim: NameClaim | None,
    old_claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    mapping = existing(state, LABEL, "id")
    name = mapping.name if command.name is UNSET else name_claim.clean(command.name)
    fields = mapping.fields if isinstance(command.fields, UnsetType) else validate_fields(command.fields)
    events = name_claim.rename(
        mapping, name, new_claim=new_claim, old_claim=old_claim, kind=KIND, label=LABEL, now=now
    )
    description = pick(command.description, mapping.description)
    if (name, description, fields) == (mapping.name, mapping.description, mapping.fields):
        return events
    changes = Changes.of(mapping, now)
    changes.record(DataMappingChanged, name=name, description=description, fields=fields)
    return events + changes.events


def archive(state: DataMapping | None, *, claim: NameClaim | None, now: datetime) -> list[Event]:
    return usage.archive(state, DataMappingArchived, label=LABEL, claim=claim, now=now)


def reference(state: DataMapping | None, rule_id: UUID, *, field: str, now: datetime) -> list[Event]:
    return usage.reference(state, DataMappingReferenced, rule_id, label=LABEL, field=field, now=now)


def release(state: DataMapping, rule_id: UUID, *, now: datetime) -> list[Event]:
    return usage.release(state, DataMappingReleased, rule_id, now=now)


def evolve(state: DataMapping | None, event: Event) -> DataMapping | None:
    if isinstance(event, DataMappingCreated):
        return DataMapping(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            name=event.name,
            description=event.description,
            fields=event.fields,
        )
    if state is None:
        return None
    match event:
        case DataMappingChanged():
            return touched(state, event, name=event.name, description=event.description, fields=event.fields)
        case DataMappingArchived():
            return touched(state, event, archived=True)
        case DataMappingReferenced(by_id=by_id):
            return touched(state, event, used_by=state.used_by | {by_id})
        case DataMappingReleased(by_id=by_id):
            return touched(state, event, used_by=state.used_by - {by_id})
    return touched(state, event)


project = projector(evolve)
