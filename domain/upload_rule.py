"""Upload rule: how files are imported — with which specification file or data mapping,
which append type, which phone region and record type, and what invalid numbers do.

A rule uses exactly one specification file or one data mapping of its own account. The
object it uses records the reference (``*.referenced`` / ``*.released``), so it cannot be
archived while a rule uses it; an import that names the rule finds it as it is then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import phonenumbers
from msgspec import UNSET, Meta, Struct, UnsetType

from domain import data_mapping, name_claim, specification_file
from domain.aggregate import Aggregate, Changes, existing, pick, projector, touched
from domain.codes import RecordType
from domain.data_mapping import DataMapping
from domain.errors import RuleViolation
from domain.name_claim import NameClaim
from domain.specification_file import SpecificationFile
from schemas.base import Event
from schemas.imports import AppendType
from schemas.list_rules import RecordTypeCode, UploadRuleArchived, UploadRuleChanged, UploadRuleCreated
from schemas.profiles import Description
from schemas.settings import NonEmpty

KIND = "upload-rule"
LABEL = "upload rule"

Region = Annotated[str, Meta(pattern="^[A-Z]{2}$")]


class UploadRule(Aggregate, frozen=True, kw_only=True):
    """An upload rule as stored.

    ``reject_invalid_numbers`` decides what a phone number that is not valid for the
    region does (a row with no valid contact info at all is always rejected, since a
    chain needs something to dial):

    - true (the default): the number is rejected — left out of its customer's chain and
      counted in the job's ``dropped``; the rest of the row is imported.
    - false: the number is kept in the chain as written (not in E.164, its record placed
      in time by the list's default-on-error zone), so that it stays visible and exportable.
    """

    name: str
    description: str
    append_type: AppendType
    specification_file_id: UUID | None
    data_mapping_id: UUID | None
    phone_region: str | None  # None: the account's country code
    default_record_type: int
    reject_invalid_numbers: bool
    archived: bool = False

    @property
    def deleted(self) -> bool:
        return self.archived


class CreateUploadRule(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Exactly one of ``specification_file_id`` and ``data_mapping_id``."""

    name: NonEmpty
    description: Description = ""
    append_type: AppendType = "append_only"
    specification_file_id: UUID | None = None
    data_mapping_id: UUID | None = None
    phone_region: Region | None = None
    default_record_type: RecordTypeCode = int(RecordType.GENERAL)
    reject_invalid_numbers: bool = True


class ChangeUploadRule(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Giving one of ``specification_file_id`` / ``data_mapping_id`` (and not the other)
    moves the rule to it: the other is cleared."""

    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    append_type: AppendType | UnsetType = UNSET
    specification_file_id: UUID | UnsetType | None = UNSET
    data_mapping_id: UUID | UnsetType | None = UNSET
    phone_region: Region | UnsetType | None = UNSET
    default_record_type: RecordTypeCode | UnsetType = UNSET
    reject_invalid_numbers: bool | UnsetType = UNSET


RULE_FIELDS = (
    "append_type",
    "specification_file_id",
    "data_mapping_id",
    "phone_region",
    "default_record_type",
    "reject_invalid_numbers",
)


@dataclass(frozen=True)
class Uses:
    """The specification files and data mappings a decision may touch, by id (current and
    requested); a missing or another account's one is simply absent."""

    specification_files: dict[UUID, SpecificationFile]
    data_mappings: dict[UUID, DataMapping]


def validate(values: dict[str, Any]) -> None:
    spec_id, mapping_id = values["specification_file_id"], values["data_mapping_id"]
    if spec_id is None and mapping_id is None:
        raise RuleViolation(
            "an upload rule uses a specification file or a data mapping: give specification_file_id "
            "or data_mapping_id",
            field="specification_file_id",
        )
    if spec_id is not None and mapping_id is not None:
        raise RuleViolation(
            "an upload rule uses a specification file or a data mapping, not both", field="data_mapping_id"
        )
    region = values["phone_region"]
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise RuleViolation(
            f"{region!r} is not a country whose phone numbers are known", field="phone_region"
        )
    try:
        RecordType(values["default_record_type"])
    except ValueError:
        raise RuleViolation(
            "the default record type is a record type code (2 general, ...)", field="default_record_type"
        ) from None


def _references(
    rule_id: UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    uses: Uses,
    now: datetime,
) -> list[Event]:
    """Reference what the rule starts to use and release what it stops using."""
    events: list[Event] = []
    old_spec = before["specification_file_id"] if before else None
    new_spec = after["specification_file_id"]
    if old_spec != new_spec:
        if new_spec is not None:
            spec = uses.specification_files.get(new_spec)
            events += specification_file.reference(spec, rule_id, field="specification_file_id", now=now)
        if old_spec is not None and (old := uses.specification_files.get(old_spec)) is not None:
            events += specification_file.release(old, rule_id, now=now)
    old_mapping = before["data_mapping_id"] if before else None
    new_mapping = after["data_mapping_id"]
    if old_mapping != new_mapping:
        if new_mapping is not None:
            mapping = uses.data_mappings.get(new_mapping)
            events += data_mapping.reference(mapping, rule_id, field="data_mapping_id", now=now)
        if old_mapping is not None and (used := uses.data_mappings.get(old_mapping)) is not None:
            events += data_mapping.release(used, rule_id, now=now)
    return events


def create(
    command: CreateUploadRule,
    *,
    rule_id: UUID,
    account_id: UUID,
    uses: Uses,
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    name = name_claim.clean(command.name)
    values = {key: getattr(command, key) for key in RULE_FIELDS}
    validate(values)
    events = name_claim.claim(
        claim, account_id=account_id, kind=KIND, name=name, owner_id=rule_id, now=now, label=LABEL
    )
    events += _references(rule_id, None, values, uses, now)
    changes = Changes(rule_id, account_id, 0, now)
    changes.record(UploadRuleCreated, name=name, description=command.description, **values)
    return events + changes.events


def requested(state: UploadRule, command: ChangeUploadRule) -> dict[str, Any]:
    """The rule's fields after ``command``, before validation."""
    values = {key: pick(getattr(command, key), getattr(state, key)) for key in RULE_FIELDS}
    spec_given = command.specification_file_id is not UNSET
    mapping_given = command.data_mapping_id is not UNSET
    if spec_given and not mapping_given and command.specification_file_id is not None:
        values["data_mapping_id"] = None
    if mapping_given and not spec_given and command.data_mapping_id is not None:
        values["specification_file_id"] = None
    return values


def change(
    state: UploadRule | None,
    command: ChangeUploadRule,
    *,
    uses: Uses,
    new_claim: NameClaim | None,
    old_claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    rule = existing(state, LABEL, "id")
    name = rule.name if command.name is UNSET else name_claim.clean(command.name)
    current = {key: getattr(rule, key) for key in RULE_FIELDS}
    values = requested(rule, command)
    validate(values)
    events = name_claim.rename(
        rule, name, new_claim=new_claim, old_claim=old_claim, kind=KIND, label=LABEL, now=now
    )
    events += _references(rule.id, current, values, uses, now)
    description = pick(command.description, rule.description)
    if (name, description, values) == (rule.name, rule.description, current):
        return events
    changes = Changes.of(rule, now)
    changes.record(UploadRuleChanged, name=name, description=description, **values)
    return events + changes.events


def archive(state: UploadRule | None, *, uses: Uses, claim: NameClaim | None, now: datetime) -> list[Event]:
    rule = existing(state, LABEL, "id")
    events = name_claim.release(claim, now=now) if claim else []
    current = {key: getattr(rule, key) for key in RULE_FIELDS}
    events += _references(
        rule.id, current, {**current, "specification_file_id": None, "data_mapping_id": None}, uses, now
    )
    changes = Changes.of(rule, now)
    changes.record(UploadRuleArchived)
    return events + changes.events


def evolve(state: UploadRule | None, event: Event) -> UploadRule | None:
    if isinstance(event, UploadRuleCreated):
        return UploadRule(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            name=event.name,
            description=event.description,
            **{key: getattr(event, key) for key in RULE_FIELDS},
        )
    if state is None:
        return None
    match event:
        case UploadRuleChanged():
            return touched(
                state,
                event,
                name=event.name,
                description=event.description,
                **{key: getattr(event, key) for key in RULE_FIELDS},
            )
        case UploadRuleArchived():
            return touched(state, event, archived=True)
    return touched(state, event)


project = projector(evolve)
