"""Topic ``lists``: import jobs, one aggregate per file imported into a contact list (or into
a suppression list: ``target``, with ``list_id`` the suppression list's id).

A job carries everything its rows are decided with (layout, mapping, append type,
time-zone options, the account's defaults) from the moment it is requested, so a job
resumed after a crash decides every remaining row exactly as the first run would have.
Progress is recorded in the same transaction as the records of each batch.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct

from schemas import topics
from schemas.base import Event
from schemas.lists import CustomTimeZone, TimeZoneSource

AppendType = Literal["new_list_only", "append_only", "append_and_update", "flush_and_append"]
APPEND_TYPES: tuple[str, ...] = ("new_list_only", "append_only", "append_and_update", "flush_and_append")
ImportTarget = Literal["contact_list", "suppression_list"]


class LayoutColumn(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    start: int = 0  # 1-based, fixed width only
    length: int = 0


class FileLayout(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to read the file: detected unless a specification file says otherwise."""

    format: Literal["delimited", "fixed_width"] = "delimited"
    encoding: Literal["auto", "utf-8", "latin-1", "cp1252"] = "auto"
    delimiter: str | None = None
    quote_char: str = '"'
    header: bool = True
    skip_lines: int = 0
    columns: list[LayoutColumn] = []


class FieldMap(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One file column mapped to a record field (see domain.record_fields)."""

    column: str
    field: str
    contact_info_type: int | None = None
    label: str = ""


class RowRules(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the rows are decided with, fixed when the job is requested."""

    append_type: AppendType
    channel: Literal["voice", "sms", "email"] = "voice"
    phone_region: str  # ISO country the numbers are read in when they have no +prefix
    time_zone_source: TimeZoneSource = "device"
    custom_time_zones: list[CustomTimeZone] = []  # empty unless "use custom time zones" is on
    default_time_zone: str
    default_time_zone_on_error: str
    default_record_type: int = 2
    # False keeps an invalid number in its chain as written, zoned by the default on error.
    reject_invalid_numbers: bool = True


class Counts(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    rows: int = 0  # data rows read (blank lines are not rows)
    imported: int = 0  # new chains
    updated: int = 0  # chains replaced (append and update)
    ignored: int = 0  # duplicate client ids left as they were
    rejected: int = 0  # rows that could not be accepted
    flushed: int = 0  # chains deleted before appending (flush and append)
    records: int = 0  # records (devices) in the chains imported or updated
    dropped: int = 0  # invalid numbers left out of a chain whose other numbers were imported


class ImportEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.LISTS

    list_id: UUID


class ImportRequested(ImportEvent, frozen=True, kw_only=True, tag="import_job.requested"):
    file_name: str
    stored_as: str  # path of the uploaded copy, relative to the data directory
    size: int
    layout: FileLayout
    fields: list[FieldMap]  # empty: mapped from the header by name
    rules: RowRules
    upload_rule_id: UUID | None = None
    specification_file_id: UUID | None = None
    data_mapping_id: UUID | None = None
    target: ImportTarget = "contact_list"


class ImportStarted(ImportEvent, frozen=True, kw_only=True, tag="import_job.started"):
    """A runner opened the file and took the job (again, after a crash: ``resumed``)."""

    runner: str
    columns: list[str]
    dialect: str
    encoding: str
    data_offset: int
    data_line: int
    fields: list[FieldMap]  # the mapping actually applied, labels included
    resumed: bool = False


class ImportFlushed(ImportEvent, frozen=True, kw_only=True, tag="import_job.flushed"):
    """Flush and append: every chain the list held is deleted; appending starts."""

    chains: int


class ImportProgressed(ImportEvent, frozen=True, kw_only=True, tag="import_job.progressed"):
    """A batch is stored: committed with its records, so it is where a resumed job starts."""

    line: Annotated[int, Meta(ge=0)]  # last line read
    offset: Annotated[int, Meta(ge=0)]  # byte offset after it
    counts: Counts


class ImportRowRejected(ImportEvent, frozen=True, kw_only=True, tag="import_job.row_rejected"):
    line: int
    reason: str
    field: str = ""
    raw: str = ""


class ImportCompleted(ImportEvent, frozen=True, kw_only=True, tag="import_job.completed"):
    counts: Counts
    seconds: float


class ImportFailed(ImportEvent, frozen=True, kw_only=True, tag="import_job.failed"):
    """The job stopped; what was stored before stays, and the job says it is not complete."""

    reason: str
    line: int | None = None
    counts: Counts = Counts()


EVENTS: tuple[type[Event], ...] = (
    ImportRequested,
    ImportStarted,
    ImportFlushed,
    ImportProgressed,
    ImportRowRejected,
    ImportCompleted,
    ImportFailed,
)
