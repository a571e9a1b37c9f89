"""The list automation job: its checks, its life (disable, enable, delete), and its runs: each
scheduled run started once, a run asked for started once, counts as the product's table shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from msgspec import structs

from domain import list_automation as job
from domain.errors import InvalidTransition, NotFound, RuleViolation
from domain.list_automation import ChangeListAutomation, CreateListAutomation, ListAutomation, SourceInput
from schemas.automation import (
    CronSchedule,
    ExportAnalyticsAction,
    ExportContactListAction,
    FileRule,
    ImportFileAction,
    ImportSettings,
    ScheduleOptions,
    SendCampaignGroupAction,
    SftpSource,
    SuppressFileAction,
)
from schemas.base import Event

ACCOUNT = UUID("00000000-0000-4000-8000-000000000001")
JOB = UUID("00000000-0000-4000-8000-0000000000a1")
T0 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # a Monday, 06:00 in New York (EDT)
EVERY_15 = ScheduleOptions(every_minutes=15, starts_at="06:00", ends_at="20:00", time_zone="America/New_York")
FILES = FileRule(operator="contains", value="Collections")
IMPORT = ImportFileAction(import_=ImportSettings(files=FILES))
SOURCE = SftpSource(
    location="sftp://127.0.0.1:2222/inbox", username="crm", login="password", sealed_password="sealed:x"
)


def command(**changes: object) -> CreateListAutomation:
    base = CreateListAutomation(
        name="Collections",
        schedule=EVERY_15,
        source=SourceInput(location=SOURCE.location, username="crm", login="password", password="pw"),
        action=IMPORT,
    )
    return structs.replace(base, **changes)


def created(source: SftpSource = SOURCE, **changes: object) -> tuple[ListAutomation, list[Event]]:
    events = job.create(command(**changes), source, job_id=JOB, account_id=ACCOUNT, claim=None, now=T0)
    state = job.project(None, events)
    assert state is not None
    return state, events


def after(state: ListAutomation, events: list[Event]) -> ListAutomation:
    new = job.project(state, events)
    assert new is not None
    return new


# Checks ----------------------------------------------------------------------------------


def test_a_job_is_created_with_its_schedule_source_and_action() -> None:
    state, events = created()
    assert [type(e).__name__ for e in events] == ["NameClaimed", "ListAutomationCreated"]
    assert (state.name, state.enabled, state.successes, state.failures) == ("Collections", True, 0, 0)
    assert state.source.sealed_password == "sealed:x"


@pytest.mark.parametrize(
    ("source", "field"),
    [
        (structs.replace(SOURCE, location="ftp://host/dir"), "source.location"),
        (structs.replace(SOURCE, sealed_password=None), "source.password"),
        (structs.replace(SOURCE, login="system_key_and_password", sealed_password=None), "source.password"),
        (structs.replace(SOURCE, login="private_key", sealed_password=None), "source.private_key"),
    ],
)
def test_a_source_without_a_location_or_the_secret_its_login_needs_is_refused(
    source: SftpSource, field: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        created(source)
    assert refused.value.field == field


def test_the_system_key_login_needs_no_secret() -> None:
    state, _ = created(structs.replace(SOURCE, login="system_key", sealed_password=None))
    assert state.source.login == "system_key"


@pytest.mark.parametrize(
    ("action", "field"),
    [
        (
            ImportFileAction(import_=ImportSettings(files=FILES, append_type="append_only")),
            "action.import.contact_list_id",
        ),
        (
            ImportFileAction(
                import_=ImportSettings(files=FILES, upload_rule_id=uuid4(), data_mapping_id=uuid4())
            ),
            "action.upload_rule_id",
        ),
        (
            ImportFileAction(import_=ImportSettings(files=FileRule(operator="equals", value="in/x.csv"))),
            "file_rule.value",
        ),
        (SendCampaignGroupAction(import_=ImportSettings(files=FILES)), "action.campaign_template_id"),
        (SuppressFileAction(files=FILES, append_type="append_only"), "action.suppression_list_id"),
        (SuppressFileAction(files=FILES, retention_days=33), "action.retention_days"),
        (ExportContactListAction(campaign_groups="selected"), "action.campaign_group_ids"),
        (ExportContactListAction(name_operator="contains"), "action.name_value"),
        (ExportAnalyticsAction(export_type="dashboard", output_format="pdf"), "action.output_file_format"),
    ],
)
def test_each_actions_rules_are_checked_naming_the_field(action: object, field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        created(action=action)
    assert refused.value.field.endswith(field), refused.value.field


def test_each_analytics_export_type_takes_its_own_formats() -> None:
    for export_type, output_format in (("raw_data", "pdf"), ("dashboard", "csv")):
        with pytest.raises(RuleViolation) as refused:
            created(action=ExportAnalyticsAction(export_type=export_type, output_format=output_format))
        assert refused.value.field == "action.output_format"
    with pytest.raises(RuleViolation, match=r"ends in \.pdf"):
        created(
            action=ExportAnalyticsAction(export_type="panel", output_format="pdf")
        )  # the default name: .csv
    for export_type, output_format, name in (
        ("panel", "csv", "panel_YYYYMMDD.csv"),
        ("panel", "pdf", "panel_YYYYMMDD.pdf"),
        ("dashboard", "pdf", "dashboard_YYYYMMDD.pdf"),
    ):
        created(
            action=ExportAnalyticsAction(
                export_type=export_type, output_format=output_format, output_file_format=name
            )
        )


def test_a_cron_string_that_breaks_a_rule_is_refused_naming_the_field() -> None:
    with pytest.raises(RuleViolation) as refused:
        created(schedule=CronSchedule(cron="15, 30 * * * *", time_zone="Europe/London"))
    assert refused.value.field == "schedule.cron"


def test_a_change_keeps_what_it_leaves_out() -> None:
    state, _ = created()
    events = job.change(
        state, ChangeListAutomation(description="nightly"), None, new_claim=None, old_claim=None, now=T0
    )
    changed = after(state, events)
    assert (changed.description, changed.schedule, changed.source) == ("nightly", EVERY_15, SOURCE)
    assert (
        job.change(
            changed, ChangeListAutomation(description="nightly"), None, new_claim=None, old_claim=None, now=T0
        )
        == []
    )


# Life --------------------------------------------------------------------------------------


def test_disable_stops_the_scheduled_runs_and_enable_counts_from_then() -> None:
    state, _ = created()
    assert state.next_due(T0 + timedelta(minutes=16)) == T0 + timedelta(minutes=15)
    disabled = after(state, job.disable(state, now=T0))
    assert disabled.next_due(T0 + timedelta(hours=3)) is None
    assert job.disable(disabled, now=T0) == []
    back = T0 + timedelta(hours=3, minutes=1)
    enabled = after(disabled, job.enable(disabled, now=back))
    assert enabled.next_due(back) is None  # what was missed while disabled is not made up
    assert enabled.next_due(back + timedelta(minutes=14)) == T0 + timedelta(hours=3, minutes=15)


def test_a_deleted_job_takes_no_more_commands() -> None:
    state, _ = created()
    gone = after(state, job.delete(state, claim=None, now=T0))
    assert gone.next_due(T0 + timedelta(days=1)) is None
    with pytest.raises(NotFound):
        job.request_run(gone, uuid4(), now=T0)


# Runs --------------------------------------------------------------------------------------


def test_a_scheduled_run_is_started_once() -> None:
    state, _ = created()
    now = T0 + timedelta(minutes=20)
    due = state.next_due(now)
    assert due == T0 + timedelta(minutes=15)
    started = after(state, job.start_run(state, uuid4(), due=due, worker="w1", now=now))
    with pytest.raises(InvalidTransition):  # a second worker, later, for the same due instant
        job.start_run(started, uuid4(), due=due, worker="w2", now=now)
    assert started.next_due(now) is None


def test_runs_missed_while_no_worker_ran_make_one_run_the_latest() -> None:
    state, _ = created()
    now = T0 + timedelta(hours=2, minutes=5)
    assert state.next_due(now) == T0 + timedelta(hours=2)


def test_run_now_is_started_once_by_its_id_and_works_on_a_disabled_job() -> None:
    state, _ = created()
    disabled = after(state, job.disable(state, now=T0))
    run_id = uuid4()
    asked = after(disabled, job.request_run(disabled, run_id, now=T0))
    started = after(asked, job.start_run(asked, run_id, due=None, worker="w1", now=T0))
    assert started.running == run_id and started.requested == ()
    with pytest.raises(InvalidTransition):
        job.start_run(started, run_id, due=None, worker="w2", now=T0)


def test_counts_a_success_and_a_failure_but_not_a_run_that_found_nothing() -> None:
    state, _ = created()
    for result in ("success", "nothing_found", "failure"):
        run_id = uuid4()
        state = after(state, job.request_run(state, run_id, now=T0))
        state = after(state, job.start_run(state, run_id, due=None, worker="w", now=T0))
        if result == "success":
            state = after(state, job.take_file(state, run_id, "Collections_1.csv", 10, None, now=T0))
        state = after(state, job.finish_run(state, run_id, result, "why", files=[], trace=[], now=T0))  # type: ignore[arg-type]
    assert (state.successes, state.failures, state.last_result, state.last_message) == (
        1,
        1,
        "failure",
        "why",
    )
    assert state.processed == {"Collections_1.csv"}
    assert state.modified_on == T0  # runs are not edits: "last modified" stays


def test_a_run_left_open_by_a_dead_worker_is_failed_by_the_next_start() -> None:
    state, _ = created()
    first, second = uuid4(), uuid4()
    state = after(state, job.request_run(state, first, now=T0))
    state = after(state, job.request_run(state, second, now=T0))
    state = after(state, job.start_run(state, first, due=None, worker="dead", now=T0))
    events = job.start_run(state, second, due=None, worker="w", now=T0)
    state = after(state, events)
    assert (state.running, state.failures, state.last_result) == (second, 1, "failure")
    with pytest.raises(InvalidTransition):
        job.finish_run(state, first, "success", "", files=[], trace=[], now=T0)
