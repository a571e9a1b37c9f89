"""Topic ``automation``: list automation jobs — a run schedule, an SFTP directory and an action
with its rules — and their runs (the job's activity).

A job's run schedule comes in the product's two forms (see :mod:`domain.run_schedule` for what
each means and how its runs are found):

- :class:`ScheduleOptions` ("Schedule every"): every 15 to 60 minutes from a start time up to an
  end time, on chosen weekdays, in a named time zone.
- :class:`CronSchedule` ("Crontab string"): five cron fields in a named time zone, with the
  syntax rules of the product's document (checked by :func:`domain.run_schedule.check`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct, field

from schemas import topics
from schemas.base import Event
from schemas.imports import AppendType
from schemas.lists import Retention, TimeZoneOptions
from schemas.profiles import Channel

Weekday = Literal["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
WEEKDAYS: tuple[Weekday, ...] = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MIN_EVERY_MINUTES = 15
MAX_EVERY_MINUTES = 60

LocalTime = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{2}:[0-9]{2}$", description="Local wall-clock time HH:MM", examples=["06:00", "20:00"]
    ),
]
ZoneName = Annotated[str, Meta(min_length=1, max_length=64, examples=["America/New_York"])]


class ScheduleOptions(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="options", tag_field="kind"
):
    """Runs every ``every_minutes`` from ``starts_at`` (included) up to ``ends_at`` (excluded) on
    each of ``days``, local time in ``time_zone``: 13:00 to 14:00 every 15 minutes is four runs."""

    every_minutes: Annotated[int, Meta(ge=MIN_EVERY_MINUTES, le=MAX_EVERY_MINUTES)]
    days: list[Weekday] = field(default_factory=lambda: list(WEEKDAYS))
    starts_at: LocalTime
    ends_at: LocalTime
    time_zone: ZoneName


class CronSchedule(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="cron", tag_field="kind"
):
    """Runs at the local times ``cron`` (minute hour day-of-month month day-of-week) names in
    ``time_zone``."""

    cron: Annotated[str, Meta(max_length=200, examples=["0 3 8 9 2,3"])]
    time_zone: ZoneName


RunSchedule = ScheduleOptions | CronSchedule


NameOperator = Literal["equals", "contains", "starts_with", "ends_with", "glob"]
AfterImport = Literal["delete", "leave"]


class FileRule(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which files of the directory a run takes (the document's "file format operation" and
    "file name format"), whether a name already processed is taken again ("ignore duplicate
    files"), and what becomes of a file once imported ("delete files after import", the
    default; "leave" finds it again next run unless duplicates are ignored)."""

    operator: NameOperator
    value: Annotated[str, Meta(min_length=1, max_length=255)]
    ignore_duplicates: bool = False
    after_import: AfterImport = "delete"


# The SFTP directory ----------------------------------------------------------------------

# password: the user's password; system_key: the account's system SSH key (its public key is in
# the customer's authorized_keys); system_key_and_password: both, as a server that asks for a
# key and then a password does; private_key: a key the customer gives (with its passphrase, if any).
SftpLogin = Literal["password", "system_key", "system_key_and_password", "private_key"]
Fingerprint = Annotated[str, Meta(pattern=r"^SHA256:[A-Za-z0-9+/]{43}$", examples=["SHA256:" + "A" * 43])]
Location = Annotated[
    str, Meta(min_length=7, max_length=500, examples=["sftp://files.example.com:2222/outbound"])
]
UserName = Annotated[str, Meta(min_length=1, max_length=100)]


class SftpSource(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where a job's files are, and how it logs in. The secrets are sealed with the deployment's
    key (:mod:`dialstream.secrets`): an event never holds one in clear. ``host_key``: the
    server's pinned fingerprint (None until a "trust" stores the one the server shows);
    ``trace``: each connection attempt's steps go into the run's activity."""

    location: Location
    username: UserName
    login: SftpLogin
    host_key: Fingerprint | None = None
    trace: bool = False
    sealed_password: str | None = None
    sealed_private_key: str | None = None
    sealed_passphrase: str | None = None


# The actions ---------------------------------------------------------------------------

NameFormat = Annotated[str, Meta(max_length=200)]


class ImportSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a found file becomes records (import file and send campaign group). ``append_type``
    ``new_list_only`` makes a list named after the file (``list_name_format``: ``%F`` the file
    name without extension, and the date tokens of a campaign name), with ``channel``,
    ``time_zones`` (how records get their zone, and the custom zones by area code it uses when
    ``use_custom_time_zones`` is on) and ``record_retention``; the others add to
    ``contact_list_id``, whose own settings apply. At most one of an upload rule, a specification
    file and a data mapping; none maps the header by name."""

    files: FileRule
    append_type: AppendType = "new_list_only"
    contact_list_id: UUID | None = None
    list_name_format: NameFormat = "%F"
    channel: Channel = "voice"
    upload_rule_id: UUID | None = None
    specification_file_id: UUID | None = None
    data_mapping_id: UUID | None = None
    time_zones: TimeZoneOptions = TimeZoneOptions()
    record_retention: Retention = Retention()
    secure: bool = False


class ImportFileAction(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="import_file", tag_field="type"
):
    """Each file found is imported into a contact list."""

    import_: ImportSettings = field(name="import")


class SendCampaignGroupAction(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="send_campaign_group", tag_field="type"
):
    """The files found are imported, then one campaign group of ``campaign_template_id`` is
    made for all their lists, named by ``group_name_format`` (``%T`` template, ``%L`` first
    list, ``YYYY MM DD hh mm`` the run's local date and time, ``ACCOUNT`` the account's name).
    It starts when a list it appends to belongs to a running group; a new list's does not."""

    import_: ImportSettings = field(name="import")
    campaign_template_id: UUID | None = None  # required: a run without one fails, as the product's does
    group_name_format: NameFormat = "%T %L YYYY-MM-DD hh:mm"


class SuppressFileAction(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="suppress_file", tag_field="type"
):
    """Each file found is loaded into a suppression list: ``suppression_list_id`` for the
    append types, else a new one named by ``list_name_format`` with ``channel``, ``required``
    and ``retention_days`` (None: permanent)."""

    files: FileRule
    append_type: AppendType = "new_list_only"
    suppression_list_id: UUID | None = None
    list_name_format: NameFormat = "%F"
    channel: Channel = "voice"
    required: bool = False
    retention_days: int | None = None
    upload_rule_id: UUID | None = None
    specification_file_id: UUID | None = None
    secure: bool = False


ListOperator = Literal["equals", "contains", "starts_with", "ends_with"]


class ExportContactListAction(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="export_contact_list", tag_field="type"
):
    """The chosen lists' records, one CSV file per list, sent to the directory. The lists:
    ``contact_list_ids`` when given; else by ``campaign_groups`` (``all``: every list in a
    group, ``none``: the lists in no group, ``selected``: those of ``campaign_group_ids``);
    or, with ``name_operator``, the lists whose name matches ``name_value``.
    ``selection_rule``: only the records it selects; ``output_file_format``: the file's name
    (``%L`` list, date tokens; required with a selection rule); ``use_labels``: the list's
    field labels as column names; ``secure``: each file encrypted to the account's user keys."""

    contact_list_ids: list[UUID] = []
    campaign_groups: Literal["all", "none", "selected"] = "all"
    campaign_group_ids: list[UUID] = []
    name_operator: ListOperator | None = None
    name_value: Annotated[str, Meta(max_length=255)] = ""
    selection_rule: Annotated[str, Meta(max_length=4000)] = ""
    output_file_format: NameFormat = "%L_YYYYMMDDhhmm.csv"
    use_labels: bool = False
    secure: bool = False


AnalyticsExportType = Literal["raw_data", "dashboard", "panel"]


class ExportAnalyticsAction(
    Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag="export_analytics_data",
    tag_field="type",
):
    """Call result detail records of the interval before the run as CSV (``raw_data``); the
    dashboard and panel types need the reports (issue 18) and fail the run saying so.
    ``interval_minutes``: how far back from the run (the product's time interval, or a custom
    one in days, hours and minutes)."""

    export_type: AnalyticsExportType = "raw_data"
    output_format: Literal["csv", "pdf"] = "csv"
    interval_minutes: Annotated[int, Meta(ge=1, le=31 * 24 * 60)] = 24 * 60
    output_file_format: NameFormat = "attempts_YYYYMMDDhhmm.csv"
    use_labels: bool = False
    secure: bool = False


Action = (
    ImportFileAction
    | SendCampaignGroupAction
    | SuppressFileAction
    | ExportContactListAction
    | ExportAnalyticsAction
)


# The job's events ------------------------------------------------------------------------


class AutomationEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.AUTOMATION


class ListAutomationCreated(AutomationEvent, frozen=True, kw_only=True, tag="list_automation.created"):
    name: str
    description: str
    schedule: RunSchedule
    source: SftpSource
    action: Action


class ListAutomationChanged(AutomationEvent, frozen=True, kw_only=True, tag="list_automation.changed"):
    name: str
    description: str
    schedule: RunSchedule
    source: SftpSource
    action: Action


class ListAutomationHostKeyTrusted(
    AutomationEvent, frozen=True, kw_only=True, tag="list_automation.host_key_trusted"
):
    """The fingerprint the server showed on a "trust" is pinned from now on."""

    host_key: str


class ListAutomationDisabled(AutomationEvent, frozen=True, kw_only=True, tag="list_automation.disabled"):
    pass


class ListAutomationEnabled(AutomationEvent, frozen=True, kw_only=True, tag="list_automation.enabled"):
    pass


class ListAutomationDeleted(AutomationEvent, frozen=True, kw_only=True, tag="list_automation.deleted"):
    pass


class ListAutomationRunRequested(
    AutomationEvent, frozen=True, kw_only=True, tag="list_automation.run_requested"
):
    """ "Run now": one run as soon as a worker takes it; the scheduled runs still happen."""

    run_id: UUID


RunResult = Literal["success", "failure", "nothing_found"]


class ListAutomationRunStarted(AutomationEvent, frozen=True, kw_only=True, tag="list_automation.run_started"):
    """A worker began a run: the scheduled one due ``due`` (None: a run now)."""

    run_id: UUID
    due: datetime | None
    worker: str


class ListAutomationFileTaken(AutomationEvent, frozen=True, kw_only=True, tag="list_automation.file_taken"):
    """A run fetched a file (and decrypted it) and handed it on: to the import job ``job_id``,
    or sent it (an export). Its name counts as processed for "ignore duplicate files"."""

    run_id: UUID
    file_name: str
    size: int
    job_id: UUID | None = None


class ListAutomationRunFinished(
    AutomationEvent, frozen=True, kw_only=True, tag="list_automation.run_finished"
):
    """A run ended: ``success`` (it found and handled files), ``failure`` (with the reason),
    or ``nothing_found`` (counted neither way, as the product's document says). ``trace``: the
    connection's steps when the job traces them."""

    run_id: UUID
    result: RunResult
    message: str
    files: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)


EVENTS: tuple[type[Event], ...] = (
    ListAutomationCreated,
    ListAutomationChanged,
    ListAutomationHostKeyTrusted,
    ListAutomationDisabled,
    ListAutomationEnabled,
    ListAutomationDeleted,
    ListAutomationRunRequested,
    ListAutomationRunStarted,
    ListAutomationFileTaken,
    ListAutomationRunFinished,
)
