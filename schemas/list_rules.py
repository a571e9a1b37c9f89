"""Topic ``lists``: the stored objects of list import — specification files, data mappings
and upload rules.

A *specification file* describes a file's layout (delimited or fixed width, encoding,
header, columns) and maps its columns to record fields. A *data mapping* maps the header
names of delimited files to record fields. An *upload rule* names one of the two and how a
file is imported with it (append type, phone region, default record type, invalid numbers).
An import job copies what it uses when it is requested, so changing one of these objects
never changes a job already requested.

Upload rules reference their specification file or data mapping: the referenced object
records ``*.referenced`` / ``*.released`` with the rule's id, and cannot be archived while
a rule uses it.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct

from schemas import topics
from schemas.base import Event
from schemas.imports import AppendType

FileFormat = Literal["delimited", "fixed_width"]
FileEncoding = Literal["auto", "utf-8", "latin-1", "cp1252"]
ColumnName = Annotated[str, Meta(min_length=1, max_length=200)]
# A record field (see domain.record_fields): one of its TARGETS or custom:<name>.
Target = Annotated[str, Meta(min_length=1, max_length=100)]
# domain.codes.ContactInfoType: 1 home phone, 2 direct business, 4 mobile, 10 e-mail, ...
ContactInfoTypeCode = Annotated[int, Meta(ge=0, le=10)]
# domain.codes.RecordType: 2 general (the import default), 7 no call, ...
RecordTypeCode = Annotated[int, Meta(ge=0, le=7)]
Label = Annotated[str, Meta(max_length=200)]
MAX_FIELDS = 500
MAX_COLUMNS = 1000


class MappedField(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One file column mapped to a record field.

    ``contact_info_type`` is for ``contact_info`` targets only; left out there, it is 10
    (e-mail) when the column's name says e-mail, else 1 (home phone). ``label`` names the
    field in exports; left out, it is the column's name. Stored with both filled in.
    """

    column: ColumnName
    field: Target
    contact_info_type: ContactInfoTypeCode | None = None
    label: Label = ""


class SpecColumn(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A column of the file, in file order; ``start`` (1-based) and ``length`` are in
    characters and only for fixed-width files (0 in delimited ones)."""

    name: ColumnName
    start: Annotated[int, Meta(ge=0, le=1_000_000)] = 0
    length: Annotated[int, Meta(ge=0, le=1_000_000)] = 0


class ListRuleEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.LISTS


# Specification files ------------------------------------------------------------------


class SpecificationFileEvent(ListRuleEvent, frozen=True, kw_only=True):
    """The whole description of a specification file, as created or changed."""

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


class SpecificationFileCreated(
    SpecificationFileEvent, frozen=True, kw_only=True, tag="specification_file.created"
):
    pass


class SpecificationFileChanged(
    SpecificationFileEvent, frozen=True, kw_only=True, tag="specification_file.changed"
):
    pass


class SpecificationFileArchived(ListRuleEvent, frozen=True, kw_only=True, tag="specification_file.archived"):
    pass


class SpecificationFileReferenced(
    ListRuleEvent, frozen=True, kw_only=True, tag="specification_file.referenced"
):
    """An upload rule started to use this specification file."""

    by_id: UUID


class SpecificationFileReleased(ListRuleEvent, frozen=True, kw_only=True, tag="specification_file.released"):
    """An upload rule stopped using this specification file."""

    by_id: UUID


# Data mappings -----------------------------------------------------------------------


class DataMappingCreated(ListRuleEvent, frozen=True, kw_only=True, tag="data_mapping.created"):
    name: str
    description: str
    fields: list[MappedField]


class DataMappingChanged(ListRuleEvent, frozen=True, kw_only=True, tag="data_mapping.changed"):
    name: str
    description: str
    fields: list[MappedField]


class DataMappingArchived(ListRuleEvent, frozen=True, kw_only=True, tag="data_mapping.archived"):
    pass


class DataMappingReferenced(ListRuleEvent, frozen=True, kw_only=True, tag="data_mapping.referenced"):
    """An upload rule started to use this data mapping."""

    by_id: UUID


class DataMappingReleased(ListRuleEvent, frozen=True, kw_only=True, tag="data_mapping.released"):
    """An upload rule stopped using this data mapping."""

    by_id: UUID


# Upload rules ------------------------------------------------------------------------


class UploadRuleEvent(ListRuleEvent, frozen=True, kw_only=True):
    """The whole upload rule, as created or changed: exactly one of the two ids is set."""

    name: str
    description: str
    append_type: AppendType
    specification_file_id: UUID | None
    data_mapping_id: UUID | None
    phone_region: str | None  # ISO 3166 alpha-2; None: the account's country code
    default_record_type: int
    reject_invalid_numbers: bool


class UploadRuleCreated(UploadRuleEvent, frozen=True, kw_only=True, tag="upload_rule.created"):
    pass


class UploadRuleChanged(UploadRuleEvent, frozen=True, kw_only=True, tag="upload_rule.changed"):
    pass


class UploadRuleArchived(ListRuleEvent, frozen=True, kw_only=True, tag="upload_rule.archived"):
    pass


EVENTS: tuple[type[Event], ...] = (
    SpecificationFileCreated,
    SpecificationFileChanged,
    SpecificationFileArchived,
    SpecificationFileReferenced,
    SpecificationFileReleased,
    DataMappingCreated,
    DataMappingChanged,
    DataMappingArchived,
    DataMappingReferenced,
    DataMappingReleased,
    UploadRuleCreated,
    UploadRuleChanged,
    UploadRuleArchived,
)
