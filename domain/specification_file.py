"""Specification file: how a file is laid out (delimited or fixed width, encoding, header,
columns) and how its columns map to record fields.

When the specification lists ``columns``, they are the file's columns in file order and
name its fields by position (a header line, when ``header`` is true, is skipped). When it
lists none, the file's header line names them. So a file without a header, and every
fixed-width file, needs its columns listed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from domain import data_mapping, name_claim, usage
from domain.aggregate import Aggregate, Changes, existing, pick, projector, touched
from domain.data_mapping import MappedFields, Resolved
from domain.errors import RuleViolation
from domain.name_claim import NameClaim
from schemas.base import Event
from schemas.list_rules import (
    MAX_COLUMNS,
    FileEncoding,
    FileFormat,
    MappedField,
    SpecColumn,
    SpecificationFileArchived,
    SpecificationFileChanged,
    SpecificationFileCreated,
    SpecificationFileReferenced,
    SpecificationFileReleased,
)
from schemas.profiles import Description
from schemas.settings import NonEmpty

KIND = "specification-file"
LABEL = "specification file"

# One character; "tab" (or a typed "\t") is accepted for a tab and stored as "\t".
Delimiter = Annotated[str, Meta(min_length=1, max_length=3)]
QuoteChar = Annotated[str, Meta(min_length=1, max_length=1)]
SkipLines = Annotated[int, Meta(ge=0, le=100)]
Columns = Annotated[list[SpecColumn], Meta(max_length=MAX_COLUMNS)]
TAB_NAMES = frozenset({"tab", "\\t"})
LINE_BREAKS = frozenset("\r\n")


class SpecificationFile(Aggregate, frozen=True, kw_only=True):
    name: str
    description: str
    format: FileFormat
    encoding: FileEncoding
    delimiter: str | None  # None: detected from the file
    quote_char: str
    header: bool
    skip_lines: int
    columns: list[SpecColumn]
    fields: list[MappedField]
    used_by: frozenset[UUID] = frozenset()  # upload rules using it
    archived: bool = False

    @property
    def deleted(self) -> bool:
        return self.archived


class CreateSpecificationFile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty
    description: Description = ""
    format: FileFormat = "delimited"
    encoding: FileEncoding = "auto"
    delimiter: Delimiter | None = None
    quote_char: QuoteChar = '"'
    header: bool = True
    skip_lines: SkipLines = 0
    columns: Columns = []
    fields: MappedFields


class ChangeSpecificationFile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    format: FileFormat | UnsetType = UNSET
    encoding: FileEncoding | UnsetType = UNSET
    delimiter: Delimiter | UnsetType | None = UNSET
    quote_char: QuoteChar | UnsetType = UNSET
    header: bool | UnsetType = UNSET
    skip_lines: SkipLines | UnsetType = UNSET
    columns: Columns | UnsetType = UNSET
    fields: MappedFields | UnsetType = UNSET


LAYOUT_FIELDS = (
    "format",
    "encoding",
    "delimiter",
    "quote_char",
    "header",
    "skip_lines",
    "columns",
    "fields",
)


def validated(values: dict[str, Any]) -> dict[str, Any]:
    """The layout and mapping as stored (delimiter and fields normalised), or RuleViolation
    naming the field at fault (``columns[2].start``, ``fields[0].column``)."""
    fixed = values["format"] == "fixed_width"
    columns: list[SpecColumn] = values["columns"]
    quote = values["quote_char"]
    if quote in LINE_BREAKS:
        raise RuleViolation("the quote character cannot be a line break", field="quote_char")
    delimiter = values["delimiter"]
    if delimiter is not None:
        if fixed:
            raise RuleViolation("a fixed-width file has no delimiter; leave it null", field="delimiter")
        if delimiter.casefold() in TAB_NAMES:
            delimiter = "\t"
        if len(delimiter) != 1:
            raise RuleViolation(
                "the delimiter is one character (',', ';', '|', a tab as \"\\t\" or \"tab\", ...) "
                "or null to detect it",
                field="delimiter",
            )
        if delimiter in LINE_BREAKS:
            raise RuleViolation("the delimiter cannot be a line break", field="delimiter")
        if delimiter == quote:
            raise RuleViolation(f"the delimiter cannot be the quote character {quote!r}", field="delimiter")
    names: dict[str, int] = {}
    for index, column in enumerate(columns):
        folded = column.name.strip().casefold()
        if folded in names:
            raise RuleViolation(
                f"column {column.name!r} is listed twice (columns[{names[folded]}] and columns[{index}])",
                field=f"columns[{index}].name",
            )
        names[folded] = index
        if fixed:
            if column.start < 1:
                raise RuleViolation(
                    f"column {column.name!r} needs its start, the 1-based position of its first character",
                    field=f"columns[{index}].start",
                )
            if column.length < 1:
                raise RuleViolation(
                    f"column {column.name!r} needs its length in characters, at least 1",
                    field=f"columns[{index}].length",
                )
        elif column.start or column.length:
            field = "start" if column.start else "length"
            raise RuleViolation(
                "start and length are for fixed-width files; a delimited file's columns are in file order",
                field=f"columns[{index}].{field}",
            )
    if fixed:
        if not columns:
            raise RuleViolation(
                "a fixed-width file needs its columns, each with a start and a length", field="columns"
            )
        _no_overlaps(columns)
    elif not values["header"] and not columns:
        raise RuleViolation(
            "a file without a header line needs its columns listed, in file order", field="columns"
        )
    fields = data_mapping.validate_fields(values["fields"])
    if columns:
        listed = {column.name for column in columns}
        for index, entry in enumerate(fields):
            if entry.column not in listed:
                raise RuleViolation(
                    f"column {entry.column!r} is not among the specification's columns: "
                    + ", ".join(repr(column.name) for column in columns),
                    field=f"fields[{index}].column",
                )
    return {**values, "delimiter": delimiter, "fields": fields}


def _no_overlaps(columns: list[SpecColumn]) -> None:
    ordered = sorted(enumerate(columns), key=lambda pair: (pair[1].start, pair[0]))
    for (_, before), (index, after) in itertools.pairwise(ordered):
        end = before.start + before.length - 1
        if after.start <= end:
            raise RuleViolation(
                f"column {after.name!r} (characters {after.start}-{after.start + after.length - 1}) "
                f"overlaps column {before.name!r} (characters {before.start}-{end})",
                field=f"columns[{index}].start",
            )


def column_names(spec: SpecificationFile, header: Sequence[str] | None = None) -> list[str]:
    """The names of the file's columns: the specification's own, else the file's header line."""
    if spec.columns:
        return [column.name for column in spec.columns]
    if header is None:
        raise RuleViolation(
            f"specification file {spec.name!r} lists no columns, so the file needs a header line",
            field="columns",
        )
    return list(header)


def resolve(spec: SpecificationFile, header: Sequence[str] | None = None) -> Resolved:
    """The specification's mapping placed on a file, as :func:`domain.data_mapping.resolve`
    does; ``header`` is the file's header line, used when the specification lists no columns."""
    return data_mapping.resolve(spec.fields, column_names(spec, header))


def create(
    command: CreateSpecificationFile,
    *,
    spec_id: UUID,
    account_id: UUID,
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    name = name_claim.clean(command.name)
    layout = validated({key: getattr(command, key) for key in LAYOUT_FIELDS})
    events = name_claim.claim(
        claim, account_id=account_id, kind=KIND, name=name, owner_id=spec_id, now=now, label=LABEL
    )
    changes = Changes(spec_id, account_id, 0, now)
    changes.record(SpecificationFileCreated, name=name, description=command.description, **layout)
    return events + changes.events


def change(
    state: SpecificationFile | None,
    command: ChangeSpecificationFile,
    *,
    new_claim: NameClaim | None,
    old_claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    spec = existing(state, LABEL, "id")
    name = spec.name if command.name is UNSET else name_claim.clean(command.name)
    current = {key: getattr(spec, key) for key in LAYOUT_FIELDS}
    layout = validated({key: pick(getattr(command, key), current[key]) for key in LAYOUT_FIELDS})
    events = name_claim.rename(
        spec, name, new_claim=new_claim, old_claim=old_claim, kind=KIND, label=LABEL, now=now
    )
    description = pick(command.description, spec.description)
    if (name, description, layout) == (spec.name, spec.description, current):
        return events
    changes = Changes.of(spec, now)
    changes.record(SpecificationFileChanged, name=name, description=description, **layout)
    return events + changes.events


def archive(state: SpecificationFile | None, *, claim: NameClaim | None, now: datetime) -> list[Event]:
    return usage.archive(state, SpecificationFileArchived, label=LABEL, claim=claim, now=now)


def reference(state: SpecificationFile | None, rule_id: UUID, *, field: str, now: datetime) -> list[Event]:
    return usage.reference(state, SpecificationFileReferenced, rule_id, label=LABEL, field=field, now=now)


def release(state: SpecificationFile, rule_id: UUID, *, now: datetime) -> list[Event]:
    return usage.release(state, SpecificationFileReleased, rule_id, now=now)


def evolve(state: SpecificationFile | None, event: Event) -> SpecificationFile | None:
    if isinstance(event, SpecificationFileCreated):
        return SpecificationFile(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            name=event.name,
            description=event.description,
            **{key: getattr(event, key) for key in LAYOUT_FIELDS},
        )
    if state is None:
        return None
    match event:
        case SpecificationFileChanged():
            return touched(
                state,
                event,
                name=event.name,
                description=event.description,
                **{key: getattr(event, key) for key in LAYOUT_FIELDS},
            )
        case SpecificationFileArchived():
            return touched(state, event, archived=True)
        case SpecificationFileReferenced(by_id=by_id):
            return touched(state, event, used_by=state.used_by | {by_id})
        case SpecificationFileReleased(by_id=by_id):
            return touched(state, event, used_by=state.used_by - {by_id})
    return touched(state, event)


project = projector(evolve)
