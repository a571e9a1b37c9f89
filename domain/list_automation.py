"""List automation job: a run schedule, an SFTP directory and an action with its rules, and the
runs that follow from them (the job's activity). Pure: secrets arrive sealed, ids and times are
passed in.

- **Create, change, disable, enable, delete.** A disabled job keeps everything and runs only
  when asked ("run now"); enabling it again counts its schedule from then, so the runs missed
  while it was disabled are not made up.
- **Runs.** A scheduled run is started for its due instant at most once: a worker that starts
  the run due at 06:00 when another already has (or a later one) is refused, and the store's
  version check makes the two starts conflict, so two workers never make the same run. A run
  asked for ("run now") is started once by its id. One run of a job at a time; a run left
  unfinished by a worker that died is finished as failed by the next start.
- **Counts**, as the product's job table shows them: a run that found and handled files is a
  success, a run that failed a failure; a run that found no file is neither.
- **Files processed**: the names a run took, for "ignore duplicate files".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, structs

from domain import file_rules, name_claim, run_schedule
from domain.aggregate import Aggregate, Changes, existing, pick, projector, touched
from domain.errors import InvalidTransition, NotFound, RuleViolation
from domain.name_claim import NameClaim
from domain.sftp_location import parse_location
from schemas.automation import (
    Action,
    ExportAnalyticsAction,
    ExportContactListAction,
    Fingerprint,
    ImportFileAction,
    ImportSettings,
    ListAutomationChanged,
    ListAutomationCreated,
    ListAutomationDeleted,
    ListAutomationDisabled,
    ListAutomationEnabled,
    ListAutomationFileTaken,
    ListAutomationHostKeyTrusted,
    ListAutomationRunFinished,
    ListAutomationRunRequested,
    ListAutomationRunStarted,
    Location,
    RunResult,
    RunSchedule,
    SendCampaignGroupAction,
    SftpLogin,
    SftpSource,
    SuppressFileAction,
    UserName,
)
from schemas.base import Event
from schemas.lists import RETENTION_DAYS
from schemas.profiles import Description
from schemas.settings import NonEmpty

KIND = "list-automation"
LABEL = "list automation job"
MAX_TRACE_LINES = 200
MAX_MESSAGE = 2000


class ListAutomation(Aggregate, frozen=True, kw_only=True):
    name: str
    description: str
    schedule: RunSchedule
    source: SftpSource
    action: Action
    enabled: bool = True
    deleted: bool = False
    counts_from: datetime  # scheduled runs are those after this instant (created, or enabled again)
    last_due: datetime | None = None  # the due instant of the last scheduled run started
    requested: tuple[UUID, ...] = ()  # "run now" runs not started yet
    running: UUID | None = None
    running_since: datetime | None = None
    last_run_at: datetime | None = None  # when the last finished run ended
    last_result: RunResult | None = None
    last_message: str = ""
    successes: int = 0
    failures: int = 0
    processed: frozenset[str] = frozenset()  # file names taken, for "ignore duplicate files"

    def next_due(self, now: datetime) -> datetime | None:
        """The due instant of the scheduled run to start at ``now``, if one is due: the latest
        one not after ``now`` past the last started (missed ones while no worker ran make one
        run, not a burst). None when disabled, deleted or nothing is due."""
        if not self.enabled or self.deleted:
            return None
        after = max(self.counts_from, self.last_due) if self.last_due is not None else self.counts_from
        first = run_schedule.next_run(self.schedule, after)
        if first > now:
            return None
        due = first
        while True:
            batch = run_schedule.runs(self.schedule, due, 500)
            passed = [run for run in batch if run <= now]
            if not passed:
                return due
            due = passed[-1]
            if len(passed) < len(batch):
                return due


# What the API sends: the secrets in clear, sealed by the handler before they reach an event.


Secret = Annotated[str, Meta(min_length=1, max_length=1000)]


class SourceInput(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The SFTP directory and login as the API takes them. ``password``: for the ``password``
    and ``system_key_and_password`` logins; ``private_key`` (OpenSSH or PEM text) and its
    ``passphrase``: for ``private_key``. Secrets are never returned; left out on a change,
    the stored ones stay."""

    location: Location
    username: UserName
    login: SftpLogin
    host_key: Fingerprint | None = None
    trace: bool = False
    password: Secret | None = None
    private_key: Annotated[str, Meta(min_length=1, max_length=20_000)] | None = None
    passphrase: Secret | None = None


class CreateListAutomation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty
    description: Description = ""
    schedule: RunSchedule
    source: SourceInput
    action: Action


class ChangeListAutomation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    schedule: RunSchedule | UnsetType = UNSET
    source: SourceInput | UnsetType = UNSET
    action: Action | UnsetType = UNSET


# Checks ----------------------------------------------------------------------------------


def check_source(source: SftpSource) -> None:
    """A location in one of the two forms and the secrets its login needs."""
    try:
        parse_location(source.location)
    except ValueError as error:
        raise RuleViolation(str(error), field="source.location") from None
    needs = {
        "password": ("sealed_password",),
        "system_key": (),
        "system_key_and_password": ("sealed_password",),
        "private_key": ("sealed_private_key",),
    }[source.login]
    for attribute in needs:
        if getattr(source, attribute) is None:
            secret = attribute.removeprefix("sealed_")
            raise RuleViolation(
                f"a {source.login} login needs a {secret.replace('_', ' ')}", field=f"source.{secret}"
            )


def check_action(action: Action) -> None:
    """The rules of each action that its types do not say (naming the field at fault)."""
    match action:
        case ImportFileAction(import_=settings):
            _check_import(settings)
        case SendCampaignGroupAction(import_=settings):
            _check_import(settings)
            if action.campaign_template_id is None:
                raise RuleViolation("campaign template is required", field="action.campaign_template_id")
        case SuppressFileAction():
            file_rules.check(action.files)
            _one_rule(action.upload_rule_id, action.specification_file_id, None)
            if action.append_type != "new_list_only" and action.suppression_list_id is None:
                raise RuleViolation(
                    f"append type {action.append_type} adds to a suppression list: name it",
                    field="action.suppression_list_id",
                )
            if action.retention_days is not None and action.retention_days not in RETENTION_DAYS:
                raise RuleViolation(
                    "retention is permanent (null), 0 (today), 1-31, 45, 60, 90, 180 or 360 days",
                    field="action.retention_days",
                )
        case ExportContactListAction():
            if (
                action.campaign_groups == "selected"
                and not action.campaign_group_ids
                and not action.contact_list_ids
            ):
                raise RuleViolation(
                    "selected campaign groups: name at least one", field="action.campaign_group_ids"
                )
            if action.name_operator is not None and not action.name_value:
                raise RuleViolation("a list name operator needs a value", field="action.name_value")
            if action.selection_rule and not action.output_file_format:
                raise RuleViolation(
                    "a selection rule needs an output file name format", field="action.output_file_format"
                )
        case ExportAnalyticsAction():
            if action.export_type == "raw_data" and action.output_format != "csv":
                raise RuleViolation("raw_data exports as CSV", field="action.output_format")
            if action.export_type == "dashboard" and action.output_format != "pdf":
                raise RuleViolation("a dashboard exports as PDF", field="action.output_format")
            ending = action.output_file_format.strip().lower()
            if ending.endswith((".csv", ".pdf")) and not ending.endswith(f".{action.output_format}"):
                raise RuleViolation(
                    f"a {action.output_format.upper()} export's file name ends in .{action.output_format}",
                    field="action.output_file_format",
                )


def _check_import(settings: ImportSettings) -> None:
    file_rules.check(settings.files)
    _one_rule(settings.upload_rule_id, settings.specification_file_id, settings.data_mapping_id)
    if settings.append_type != "new_list_only" and settings.contact_list_id is None:
        raise RuleViolation(
            f"append type {settings.append_type} adds to a contact list: name it",
            field="action.import.contact_list_id",
        )
    if settings.append_type == "new_list_only" and settings.contact_list_id is not None:
        raise RuleViolation(
            "new_list_only makes a list per file: leave contact_list_id out",
            field="action.import.contact_list_id",
        )
    days = settings.record_retention.days
    if days is not None and days not in RETENTION_DAYS:
        raise RuleViolation(
            "retention is permanent (null), 0 (today), 1-31, 45, 60, 90, 180 or 360 days",
            field="action.import.record_retention.days",
        )


def _one_rule(*chosen: UUID | None) -> None:
    if sum(1 for each in chosen if each is not None) > 1:
        raise RuleViolation(
            "an upload rule, a specification file or a data mapping: one of them at most",
            field="action.upload_rule_id",
        )


# Decisions -------------------------------------------------------------------------------


def create(
    command: CreateListAutomation,
    source: SftpSource,
    *,
    job_id: UUID,
    account_id: UUID,
    claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    """``source``: the command's, its secrets sealed."""
    name = name_claim.clean(command.name)
    run_schedule.check(command.schedule)
    check_source(source)
    check_action(command.action)
    events = name_claim.claim(
        claim, account_id=account_id, kind=KIND, name=name, owner_id=job_id, now=now, label=LABEL
    )
    changes = Changes(job_id, account_id, 0, now)
    changes.record(
        ListAutomationCreated,
        name=name,
        description=command.description,
        schedule=command.schedule,
        source=source,
        action=command.action,
    )
    return events + changes.events


def change(
    state: ListAutomation | None,
    command: ChangeListAutomation,
    source: SftpSource | None,
    *,
    new_claim: NameClaim | None,
    old_claim: NameClaim | None,
    now: datetime,
) -> list[Event]:
    """``source``: the command's, sealed, its secrets left out kept from the job (None: unchanged)."""
    job = _live(state)
    name = job.name if command.name is UNSET else name_claim.clean(command.name)
    schedule = pick(command.schedule, job.schedule)
    action = pick(command.action, job.action)
    source = source if source is not None else job.source
    run_schedule.check(schedule)
    check_source(source)
    check_action(action)
    events = name_claim.rename(
        job, name, new_claim=new_claim, old_claim=old_claim, kind=KIND, label=LABEL, now=now
    )
    description = pick(command.description, job.description)
    if (name, description, schedule, source, action) == (
        job.name,
        job.description,
        job.schedule,
        job.source,
        job.action,
    ):
        return events
    changes = Changes.of(job, now)
    changes.record(
        ListAutomationChanged,
        name=name,
        description=description,
        schedule=schedule,
        source=source,
        action=action,
    )
    return events + changes.events


def trust_host_key(state: ListAutomation | None, fingerprint: str, *, now: datetime) -> list[Event]:
    """Pin the fingerprint the server showed (a "trust" step, or the customer's own)."""
    job = _live(state)
    if job.source.host_key == fingerprint:
        return []
    changes = Changes.of(job, now)
    changes.record(ListAutomationHostKeyTrusted, host_key=fingerprint)
    return changes.events


def disable(state: ListAutomation | None, *, now: datetime) -> list[Event]:
    job = _live(state)
    if not job.enabled:
        return []
    changes = Changes.of(job, now)
    changes.record(ListAutomationDisabled)
    return changes.events


def enable(state: ListAutomation | None, *, now: datetime) -> list[Event]:
    job = _live(state)
    if job.enabled:
        return []
    changes = Changes.of(job, now)
    changes.record(ListAutomationEnabled)
    return changes.events


def delete(state: ListAutomation | None, *, claim: NameClaim | None, now: datetime) -> list[Event]:
    job = _live(state)
    changes = Changes.of(job, now)
    changes.record(ListAutomationDeleted)
    return (name_claim.release(claim, now=now) if claim else []) + changes.events


def request_run(state: ListAutomation | None, run_id: UUID, *, now: datetime) -> list[Event]:
    """ "Run now" (a disabled job too: disabling stops the scheduled runs, not the asked-for ones)."""
    job = _live(state)
    changes = Changes.of(job, now)
    changes.record(ListAutomationRunRequested, run_id=run_id)
    return changes.events


def start_run(
    state: ListAutomation | None, run_id: UUID, *, due: datetime | None, worker: str, now: datetime
) -> list[Event]:
    """Start the scheduled run due at ``due``, or (``due`` None) the asked-for run ``run_id``.
    Refused (:class:`InvalidTransition`) when that run is not the job's to start now. A run
    still open (its worker died) is finished first, as failed."""
    job = _live(state)
    if due is None and run_id not in job.requested:
        raise InvalidTransition(f"run {run_id} of {LABEL} {job.name!r} was not asked for, or has started")
    if due is not None and job.next_due(now) != due:
        raise InvalidTransition(
            f"the run of {LABEL} {job.name!r} due at {due.isoformat()} is not due now, or has started"
        )
    changes = Changes.of(job, now)
    if job.running is not None:
        changes.record(
            ListAutomationRunFinished,
            run_id=job.running,
            result="failure",
            message="the worker running it stopped before it ended; files it had not taken stay for the next run",
        )
    changes.record(ListAutomationRunStarted, run_id=run_id, due=due, worker=worker)
    return changes.events


def take_file(
    state: ListAutomation | None,
    run_id: UUID,
    file_name: str,
    size: int,
    job_id: UUID | None,
    *,
    now: datetime,
) -> list[Event]:
    job = _running(state, run_id)
    changes = Changes.of(job, now)
    changes.record(ListAutomationFileTaken, run_id=run_id, file_name=file_name, size=size, job_id=job_id)
    return changes.events


def finish_run(
    state: ListAutomation | None,
    run_id: UUID,
    result: RunResult,
    message: str,
    *,
    files: list[str],
    trace: list[str],
    now: datetime,
) -> list[Event]:
    job = _running(state, run_id)
    changes = Changes.of(job, now)
    changes.record(
        ListAutomationRunFinished,
        run_id=run_id,
        result=result,
        message=message[:MAX_MESSAGE],
        files=files,
        trace=trace[-MAX_TRACE_LINES:],
    )
    return changes.events


def _live(state: ListAutomation | None) -> ListAutomation:
    job = existing(state, LABEL, "id")
    if job.deleted:
        raise NotFound(f"{LABEL} {job.id} was deleted", field="id")
    return job


def _running(state: ListAutomation | None, run_id: UUID) -> ListAutomation:
    job = existing(state, LABEL, "id")
    if job.running != run_id:
        raise InvalidTransition(f"run {run_id} of {LABEL} {job.name!r} is not running")
    return job


# Folding ---------------------------------------------------------------------------------


def evolve(state: ListAutomation | None, event: Event) -> ListAutomation | None:
    if isinstance(event, ListAutomationCreated):
        return ListAutomation(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            name=event.name,
            description=event.description,
            schedule=event.schedule,
            source=event.source,
            action=event.action,
            counts_from=event.timestamp,
        )
    if state is None:
        return None
    match event:
        case ListAutomationChanged():
            return touched(
                state,
                event,
                name=event.name,
                description=event.description,
                schedule=event.schedule,
                source=event.source,
                action=event.action,
            )
        case ListAutomationHostKeyTrusted(host_key=fingerprint):
            return touched(state, event, source=structs.replace(state.source, host_key=fingerprint))
        case ListAutomationDisabled():
            return touched(state, event, enabled=False)
        case ListAutomationEnabled():
            return touched(state, event, enabled=True, counts_from=event.timestamp, last_due=None)
        case ListAutomationDeleted():
            return touched(state, event, deleted=True)
        case ListAutomationRunRequested(run_id=run_id):
            return touched(state, event, requested=(*state.requested, run_id))
        case ListAutomationRunStarted(run_id=run_id, due=due):
            return _evolved_run(state, event, run_id, due)
        case ListAutomationFileTaken(file_name=file_name):
            return _no_touch(state, event, processed=state.processed | {file_name})
        case ListAutomationRunFinished(result=result, message=message):
            return _no_touch(
                state,
                event,
                running=None,
                running_since=None,
                last_run_at=event.timestamp,
                last_result=result,
                last_message=message,
                successes=state.successes + (result == "success"),
                failures=state.failures + (result == "failure"),
            )
    return _no_touch(state, event)


def _evolved_run(state: ListAutomation, event: Event, run_id: UUID, due: datetime | None) -> ListAutomation:
    return _no_touch(
        state,
        event,
        requested=tuple(r for r in state.requested if r != run_id),
        last_due=due if due is not None else state.last_due,
        running=run_id,
        running_since=event.timestamp,
    )


def _no_touch(state: ListAutomation, event: Event, **changes: object) -> ListAutomation:
    """A run's events move the version, not the job's "last modified" (the product's column
    is when the job was created or edited)."""
    return structs.replace(state, version=event.originator_version, **changes)


project = projector(evolve)
