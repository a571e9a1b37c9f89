"""List automation runs against a real OpenSSH sshd and real GnuPG: files found by the job's rule
are fetched, decrypted, imported and deleted; a group is sent; every fault is a failed run with
its message, nothing imported twice, and a run that found nothing counted neither way."""

from __future__ import annotations

import csv
import io
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from pypdf import PdfReader

from dialstream.bootstrap import IMPORTS, Runtime, build, list_automation_runner
from dialstream.settings import Settings
from dialstream.store import stored_topic_of
from domain import (
    campaign_group,
    campaign_template,
    dialing_profile,
    import_job,
    list_automation,
    session_profile,
)
from domain.list_automation import CreateListAutomation, ListAutomation, SourceInput
from processors.automation.runner import ListAutomationRunner
from processors.files import openpgp
from processors.host.schedule import Tick
from schemas.attempts import CallAttemptFinished, CallAttemptMade
from schemas.automation import (
    CronSchedule,
    ExportAnalyticsAction,
    ExportContactListAction,
    FileRule,
    ImportFileAction,
    ImportSettings,
    ListAutomationFileTaken,
    SendCampaignGroupAction,
    SuppressFileAction,
)
from schemas.lists import CustomTimeZone, TimeZoneOptions
from schemas.profiles import DialingSettings, SessionSettings
from schemas.records import RecordReturned
from tests import sshd
from tests.processors.channels.unused_port import refusing_port
from tests.scenario import build_campaign_structure

pytestmark = pytest.mark.integration

EVERY_HOUR = CronSchedule(cron="0 * * * *", time_zone="America/New_York")
CSV = "client_id,phone\nC1,+12125550101\nC2,+12125550102\nC3,+12125550103\n"


@pytest.fixture(scope="module")
def server() -> Iterator[sshd.Server]:
    with sshd.running() as running:
        yield running


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    built = build(Settings(data_dir=tmp_path_factory.mktemp("automation")), workers=[IMPORTS])
    built.start()
    try:
        yield built
    finally:
        built.stop()


@pytest.fixture(scope="module")
def account(runtime: Runtime) -> UUID:
    return runtime.handlers.accounts.open_account("Automation").id


@pytest.fixture(scope="module")
def runner(runtime: Runtime) -> ListAutomationRunner:
    return list_automation_runner(runtime, timeout_s=5.0)


def new_job(
    runtime: Runtime, account: UUID, server: sshd.Server, name: str, action: Any, **source: Any
) -> ListAutomation:
    given: dict[str, Any] = {
        "location": f"{server.url}/inbox",
        "username": server.user("password"),
        "login": "password",
        "password": server.password,
        "host_key": server.host_key_fingerprint(),
        "trace": True,
    }
    given.update(source)
    done = runtime.handlers.automation.create(
        account,
        CreateListAutomation(name=name, schedule=EVERY_HOUR, source=SourceInput(**given), action=action),
    )
    assert runtime.wait(done.position)
    return runtime.handlers.automation.job(account, done.id)


def run_now(runtime: Runtime, runner: ListAutomationRunner, job: ListAutomation) -> ListAutomation:
    """Ask for a run and let the worker's tick run it: the job after."""
    runtime.handlers.automation.run_now(job.account_id, job.id)
    tick = Tick(now=runtime.handlers.clock(), token=1, check=lambda: None, stopping=lambda: False)
    assert runner(tick) >= 1
    return runtime.handlers.automation.job(job.account_id, job.id)


def import_action(value: str, **settings: Any) -> ImportFileAction:
    files = FileRule(operator="starts_with", value=value, **settings.pop("files", {}))
    return ImportFileAction(import_=ImportSettings(files=files, **settings))


def imports_done(runtime: Runtime, job: ListAutomation, timeout: float = 30) -> list[Any]:
    """The import jobs of the files the job took, once each has finished."""
    ids = [e.job_id for e in _taken(runtime) if e.originator_id == job.id]
    deadline = time.monotonic() + timeout
    while True:
        jobs = [runtime.store.load(i, import_job.project) for i in dict.fromkeys(ids)]
        if all(j is not None and j.finished for j in jobs):
            return jobs
        assert time.monotonic() < deadline, "imports did not finish"
        time.sleep(0.1)


def _taken(runtime: Runtime) -> list[ListAutomationFileTaken]:
    topics, after, found = (stored_topic_of(ListAutomationFileTaken),), 0, []
    while batch := runtime.store.read_topics(topics, after, 10_000):
        found += [event for _, event in batch]
        after = batch[-1][0]
    return found


# Imports -----------------------------------------------------------------------------------


def test_a_file_found_is_fetched_imported_and_deleted(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    inbox = server.inbox("password")
    (inbox / "Collections_0601.csv").write_text(CSV)
    (inbox / "other.csv").write_text(CSV)
    job = new_job(runtime, account, server, "collections", import_action("collections"))
    after = run_now(runtime, runner, job)
    assert (after.last_result, after.successes, after.failures) == ("success", 1, 0), after.last_message
    assert not (inbox / "Collections_0601.csv").exists() and (inbox / "other.csv").exists()
    (imported,) = imports_done(runtime, job)
    assert imported.status == "completed" and imported.counts.imported == 3
    assert runtime.catalogue.get(account, "contact-list", imported.list_id).name == "Collections_0601"
    (other := inbox / "other.csv").unlink()
    # Nothing left to take: neither a success nor a failure.
    again = run_now(runtime, runner, after)
    assert (again.last_result, again.successes, again.failures) == ("nothing_found", 1, 0)
    assert runtime.wait_for_head()
    trace = runtime.automation_runs.runs(account, job.id)[0].trace
    assert any("host key" in line for line in trace) and not any(server.password in line for line in trace)
    assert not other.exists()


def test_a_left_file_is_not_imported_twice_and_ignored_duplicates_are_not_taken(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    inbox = server.inbox("password")
    (inbox / "leave_1.csv").write_text(CSV)
    job = new_job(runtime, account, server, "leave", import_action("leave_", files={"after_import": "leave"}))
    first = run_now(runtime, runner, job)
    second = run_now(runtime, runner, first)
    assert (second.successes, second.last_result) == (2, "success")
    assert len(imports_done(runtime, job)) == 1  # the same file, seen again: one import
    ignoring = new_job(
        runtime,
        account,
        server,
        "leave, ignoring duplicates",
        import_action("leave_", files={"after_import": "leave", "ignore_duplicates": True}),
    )
    once = run_now(runtime, runner, ignoring)
    twice = run_now(runtime, runner, once)
    assert (once.last_result, twice.last_result) == ("success", "nothing_found")
    (inbox / "leave_1.csv").unlink()


# Encryption ----------------------------------------------------------------------------------


def test_a_secured_job_takes_a_file_encrypted_to_the_account_and_refuses_a_clear_one(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner, tmp_path: Path
) -> None:
    inbox = server.inbox("password")
    public = runtime.handlers.accounts.pgp_key(account).public_key
    (tmp_path / "plain.csv").write_text(CSV)
    openpgp.encrypt_file(tmp_path / "plain.csv", inbox / "secure_1.csv.pgp", [public])
    job = new_job(runtime, account, server, "secured", import_action("secure_", secure=True))
    after = run_now(runtime, runner, job)
    assert after.last_result == "success", after.last_message
    (imported,) = imports_done(runtime, job)
    assert imported.counts.imported == 3
    (inbox / "secure_2.csv").write_text(CSV)
    refused = run_now(runtime, runner, after)
    assert (refused.last_result, refused.failures) == ("failure", 1)
    assert "not OpenPGP encrypted" in refused.last_message
    assert (inbox / "secure_2.csv").exists()  # refused, so left where it was
    (inbox / "secure_2.csv").write_bytes(
        b"-----BEGIN PGP MESSAGE-----\n\nnot really\n-----END PGP MESSAGE-----\n"
    )
    corrupt = run_now(runtime, runner, refused)
    assert corrupt.last_result == "failure" and "secure_2.csv" in corrupt.last_message
    assert not list((runtime.settings.data_dir / "imports").glob("*/fetched*")), "a refused file is not kept"
    (inbox / "secure_2.csv").unlink()


# Faults ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ({"password": "wrong"}, "refused"),
        ({"host_key": "SHA256:" + "A" * 43}, "SHA256:" + "A" * 43),
    ],
)
def test_a_login_or_host_key_fault_fails_the_run_with_its_reason(
    runtime: Runtime,
    account: UUID,
    server: sshd.Server,
    runner: ListAutomationRunner,
    source: dict[str, str],
    words: str,
) -> None:
    (server.inbox("password") / "fault_1.csv").write_text(CSV)
    job = new_job(runtime, account, server, f"fault {words[:12]}", import_action("fault_"), **source)
    after = run_now(runtime, runner, job)
    assert (after.last_result, after.failures, after.successes) == ("failure", 1, 0)
    assert words in after.last_message
    if "host_key" in source:
        assert server.host_key_fingerprint() in after.last_message  # both fingerprints said
    assert (server.inbox("password") / "fault_1.csv").exists()
    (server.inbox("password") / "fault_1.csv").unlink()


def test_a_server_that_is_down_fails_the_run(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    with refusing_port() as port:
        job = new_job(
            runtime, account, server, "down", import_action("x"), location=f"sftp://127.0.0.1:{port}/inbox"
        )
        after = run_now(runtime, runner, job)
    assert after.last_result == "failure" and after.last_message


def test_an_untrusted_server_is_not_connected_to(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    job = new_job(runtime, account, server, "untrusted", import_action("x"), host_key=None)
    after = run_now(runtime, runner, job)
    assert after.last_result == "failure" and "not trusted" in after.last_message


# The other file-in actions -------------------------------------------------------------------------


def test_send_campaign_group_makes_one_group_that_does_not_start_for_a_new_list(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    handlers = runtime.handlers
    dialing = handlers.profiles.create(
        dialing_profile.KIND,
        account,
        dialing_profile.CreateDialingProfile(
            name="auto dialing", settings=DialingSettings(caller_id="+12025550100")
        ),
    ).id
    session = handlers.profiles.create(
        session_profile.KIND,
        account,
        session_profile.CreateSessionProfile(
            name="auto session", settings=SessionSettings(agent_group="Nightly agents")
        ),
    ).id
    template = handlers.campaigns.create_template(
        account,
        campaign_template.CreateCampaignTemplate(
            name="Nightly", dialing_profile_id=dialing, session_profile_id=session
        ),
    ).id
    (server.inbox("password") / "send_1.csv").write_text(CSV)
    action = SendCampaignGroupAction(
        import_=ImportSettings(files=FileRule(operator="starts_with", value="send_")),
        campaign_template_id=template,
        group_name_format="%T for %L",
    )
    job = new_job(runtime, account, server, "send", action)
    after = run_now(runtime, runner, job)
    assert after.last_result == "success", after.last_message
    runtime.wait_for_head()
    groups = [
        g for g in runtime.catalogue.list_kind(account, "campaign-group") if g.name == "Nightly for send_1"
    ]
    assert len(groups) == 1 and groups[0].status != "running"

    # Appended to a list a running group dials: the new group inherits that group's running state.
    running = handlers.campaigns.create_group(
        account,
        campaign_group.CreateCampaignGroup(
            name="Dialling now", template_id=template, contact_list_ids=groups[0].contact_list_ids
        ),
    ).id
    handlers.campaigns.transition_group(account, running, "start")
    (server.inbox("password") / "more_1.csv").write_text("client_id,phone\nC9,+12125550109\n")
    appending = SendCampaignGroupAction(
        import_=ImportSettings(
            files=FileRule(operator="starts_with", value="more_"),
            append_type="append_only",
            contact_list_id=groups[0].contact_list_ids[0],
        ),
        campaign_template_id=template,
        group_name_format="%T appended",
    )
    appended = run_now(runtime, runner, new_job(runtime, account, server, "send more", appending))
    assert appended.last_result == "success", appended.last_message
    runtime.wait_for_head()
    (new_group,) = [
        g for g in runtime.catalogue.list_kind(account, "campaign-group") if g.name == "Nightly appended"
    ]
    assert new_group.status == "running"


def test_suppress_file_loads_a_new_suppression_list(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    (server.inbox("password") / "dnc_1.csv").write_text("phone\n+12125550199\n+12125550198\n")
    job = new_job(
        runtime,
        account,
        server,
        "dnc",
        SuppressFileAction(files=FileRule(operator="starts_with", value="dnc_"), required=True),
    )
    after = run_now(runtime, runner, job)
    assert after.last_result == "success", after.last_message
    (imported,) = imports_done(runtime, job)
    assert imported.status == "completed" and imported.counts.imported == 2


def test_a_scheduled_run_is_made_once_by_two_workers(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    job = new_job(runtime, account, server, "scheduled", import_action("nothing-matches-this"))
    due = list_automation.run_schedule.next_run(EVERY_HOUR, job.counts_from)
    tick = Tick(now=due + timedelta(minutes=1), token=1, check=lambda: None, stopping=lambda: False)
    other = list_automation_runner(runtime, worker="other")
    real_clock = runtime.handlers.clock
    runtime.handlers.clock = lambda: tick.now  # the store's clock at the tick, as a worker's is
    try:
        made = runner.run(job.id, runner_run_id(job.id, due), due, tick) + other.run(
            job.id, runner_run_id(job.id, due), due, tick
        )
    finally:
        runtime.handlers.clock = real_clock
    assert made == 1
    after = runtime.handlers.automation.job(account, job.id)
    assert after.last_due == due and after.last_result == "nothing_found"


def runner_run_id(job_id: UUID, due: datetime) -> UUID:
    import uuid

    return uuid.uuid5(job_id, due.isoformat())


# Exports ------------------------------------------------------------------------------------------


def imported_list(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner, name: str
) -> UUID:
    (server.inbox("password") / f"{name}.csv").write_text(CSV + "C4,+12125550104\n")
    job = new_job(runtime, account, server, f"import {name}", import_action(name))
    assert run_now(runtime, runner, job).last_result == "success"
    (imported,) = imports_done(runtime, job)
    return imported.list_id


def test_export_contact_list_sends_each_chosen_list_as_csv(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    list_id = imported_list(runtime, account, server, runner, "ExportMe")
    action = ExportContactListAction(
        contact_list_ids=[list_id], output_file_format="out_%L.csv", selection_rule=""
    )
    job = new_job(runtime, account, server, "export", action)
    after = run_now(runtime, runner, job)
    assert after.last_result == "success", after.last_message
    sent = server.inbox("password") / "out_ExportMe.csv"
    rows = list(csv.DictReader(io.StringIO(sent.read_text())))
    assert sorted(row["client_id"] for row in rows) == ["C1", "C2", "C3", "C4"]
    assert not list(server.inbox("password").glob("*.part"))
    sent.unlink()
    by_name = new_job(
        runtime,
        account,
        server,
        "export by name",
        ExportContactListAction(name_operator="equals", name_value="exportme", output_file_format="%L.csv"),
    )
    after_name = run_now(runtime, runner, by_name)
    assert after_name.last_result == "success" and (server.inbox("password") / "ExportMe.csv").exists()
    (server.inbox("password") / "ExportMe.csv").unlink()


def test_a_secured_export_arrives_encrypted_and_decrypts_with_the_users_key(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner, tmp_path: Path
) -> None:
    list_id = imported_list(runtime, account, server, runner, "Secret")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    user = openpgp.generate_key_pair("Customer", "ops@example.com", bits=3072)
    subprocess.run(
        ["gpg", "--batch", "--homedir", str(home), "--import"],
        input=user.private_armored.encode(),
        check=True,
        capture_output=True,
    )
    key = openpgp.read_public_key(
        user.public_armored, user_id="ops@example.com", now=runtime.handlers.clock()
    )
    runtime.wait(runtime.handlers.accounts.import_public_key(account, key).position)
    action = ExportContactListAction(contact_list_ids=[list_id], output_file_format="%L.csv", secure=True)
    job = new_job(runtime, account, server, "secured export", action)
    after = run_now(runtime, runner, job)
    assert after.last_result == "success", after.last_message
    sent = server.inbox("password") / "Secret.csv.asc"
    assert sent.read_text().startswith("-----BEGIN PGP MESSAGE-----")
    clear = subprocess.run(
        ["gpg", "--batch", "--homedir", str(home), "--decrypt", str(sent)], check=True, capture_output=True
    ).stdout.decode()
    assert sorted(row["client_id"] for row in csv.DictReader(io.StringIO(clear))) == ["C1", "C2", "C3", "C4"]
    sent.unlink()


def test_export_analytics_data_sends_the_call_detail_records_of_the_interval(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    list_id = uuid4()
    now = runtime.handlers.clock()

    def attempt(client: str, ended_minutes_ago: int, result: int) -> list[Any]:
        attempt_id, at = uuid4(), now - timedelta(minutes=ended_minutes_ago)
        common = dict(originator_id=attempt_id, account_id=account, attempt_id=attempt_id, list_id=list_id)
        return [
            CallAttemptMade(
                **common,
                originator_version=1,
                timestamp=at - timedelta(seconds=40),
                client_id=client,
                chain_n=1,
                device="+12125550101",
                channel="voice",
            ),
            CallAttemptFinished(
                **common,
                originator_version=2,
                timestamp=at,
                campaign_group_id=None,
                call_result=result,
                ring_ms=9000,
                talk_ms=31000,
            ),
        ]

    runtime.store.append([*attempt("A1", 5, 33), *attempt("A2", 30, 7), *attempt("OLD", 120, 6)])
    action = ExportAnalyticsAction(interval_minutes=60, output_file_format="attempts_YYYYMMDD.csv")
    job = new_job(runtime, account, server, "analytics", action)
    after = run_now(runtime, runner, job)
    assert after.last_result == "success", after.last_message
    (sent,) = server.inbox("password").glob("attempts_*.csv")
    rows = list(csv.DictReader(io.StringIO(sent.read_text())))
    assert [(row["client_id"], row["call_result"], row["talk_ms"]) for row in rows] == [
        ("A2", "7", "31000"),
        ("A1", "33", "31000"),
    ]
    sent.unlink()


def test_panel_and_dashboard_exports_carry_the_reports_figures(
    runtime: Runtime, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    account = runtime.handlers.accounts.open_account("Analytics exports").id
    ids = build_campaign_structure(runtime.handlers, account)
    group, list_id, now = ids["renewals-nov"], ids["November"], runtime.handlers.clock()
    events: list[Any] = []
    for minutes_ago, result, talk_ms in [(5, 33, 31_000), (20, 33, 29_000), (30, 7, 0), (300, 6, 0)]:
        attempt_id, at = uuid4(), now - timedelta(minutes=minutes_ago)
        events.append(
            CallAttemptFinished(
                originator_id=attempt_id, originator_version=2, timestamp=at, account_id=account,
                attempt_id=attempt_id, campaign_group_id=group, list_id=list_id, call_result=result,
                ring_ms=9000, talk_ms=talk_ms, agent_id=uuid4() if talk_ms else None,
            )
        )  # fmt: skip
    chain = uuid4()
    events.append(
        RecordReturned(
            originator_id=chain, originator_version=1, timestamp=now - timedelta(minutes=3),
            account_id=account, list_id=list_id, client_id="Q1", chain_n=1, record_id=uuid4(),
            campaign_group_id=group, attempt_id=uuid4(), reason="denied",
            detail="outside_hours: it is 07:00 there",
        )
    )  # fmt: skip
    runtime.store.append(events)
    inbox = server.inbox("password")

    def export(name: str, **options: Any) -> Path:
        action = ExportAnalyticsAction(
            interval_minutes=60, output_file_format=f"{name}_YYYYMMDD.{options['output_format']}", **options
        )
        after = run_now(runtime, runner, new_job(runtime, account, server, name, action))
        assert after.last_result == "success", after.last_message
        (sent,) = inbox.glob(f"{name}_*")
        return sent

    panel = export("panel", export_type="panel", output_format="csv")
    rows = list(csv.DictReader(io.StringIO(panel.read_text())))
    assert {row["list_name"] for row in rows} == {"November"}
    assert sum(int(row["attempts"]) for row in rows) == 3  # the one five hours ago is outside the hour
    panel.unlink()

    printed = export("panelpdf", export_type="panel", output_format="pdf")
    text = "".join(page.extract_text() for page in PdfReader(printed).pages)
    assert "Call results panel" in text and "November" in text and "total" in text
    printed.unlink()

    dashboard = export("dashboard", export_type="dashboard", output_format="pdf")
    text = "".join(page.extract_text() for page in PdfReader(dashboard).pages)
    for words in ("Campaigns dashboard", "Renewals Nov", "Pre-dial denials", "outside_hours", "33 answer"):
        assert words in text, (words, text)
    dashboard.unlink()


def test_a_transfer_cut_in_the_middle_fails_the_run_and_the_file_stays_for_the_next_run(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    user = server.user("password")
    big = server.inbox("password") / "cut_1.csv"
    with big.open("w") as file:  # three rows and a long tail the import reads as blank lines
        file.write(CSV)
        file.write("\n" * (16 * 1024 * 1024))
    job = new_job(runtime, account, server, "cut", import_action("cut_"))
    uploads = runtime.settings.data_dir / "imports"
    cut = threading.Event()

    def cut_when_it_flows() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            partial = [p for p in uploads.glob("*/fetched.part") if p.stat().st_size > 256 * 1024]
            if partial:
                subprocess.run(["pkill", "-KILL", "-u", user], check=False)  # the user's sshd session dies
                cut.set()
                return
            time.sleep(0.005)

    cutter = threading.Thread(target=cut_when_it_flows)
    cutter.start()
    after = run_now(runtime, runner, job)
    cutter.join()
    assert cut.is_set(), "the transfer ended before it could be cut"
    assert (after.last_result, after.failures) == ("failure", 1)
    assert "transfer failed" in after.last_message and "stays for the next run" in after.last_message
    assert big.exists() and after.processed == frozenset()
    assert not list(uploads.glob("*/fetched*")), "no partial file left behind"
    again = run_now(runtime, runner, after)
    assert again.last_result == "success", again.last_message
    (imported,) = imports_done(runtime, job, timeout=180)
    assert imported.status == "completed" and imported.counts.imported == 3
    assert not big.exists()


def test_a_new_list_takes_the_jobs_time_zone_options(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    (server.inbox("password") / "zones_1.csv").write_text(CSV)
    chicago = CustomTimeZone(country_code="US", area_code="212", time_zone="America/Chicago")
    zones = TimeZoneOptions(use_custom_time_zones=True, custom_time_zones=[chicago])
    job = new_job(runtime, account, server, "zones", import_action("zones_", time_zones=zones))
    assert run_now(runtime, runner, job).last_result == "success"
    (imported,) = imports_done(runtime, job)
    runtime.wait_for_head()
    made = runtime.catalogue.get(account, "contact-list", imported.list_id)
    assert made.settings.time_zones == zones
    assert {row["time_zone"] for row in runtime.records.iterate(imported.list_id)} == {"America/Chicago"}


def test_an_encrypted_file_dropped_is_taken_at_the_next_scheduled_run(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner, tmp_path: Path
) -> None:
    public = runtime.handlers.accounts.pgp_key(account).public_key
    job = new_job(runtime, account, server, "hourly secured", import_action("hourly_", secure=True))
    (tmp_path / "plain.csv").write_text(CSV)
    openpgp.encrypt_file(tmp_path / "plain.csv", server.inbox("password") / "hourly_1.csv.gpg", [public])
    due = list_automation.run_schedule.next_run(EVERY_HOUR, job.counts_from)
    at = due + timedelta(seconds=20)  # the worker's next look after the hour
    real_clock = runtime.handlers.clock
    runtime.handlers.clock = lambda: at
    try:
        assert runner(Tick(now=at, token=1, check=lambda: None, stopping=lambda: False)) >= 1
    finally:
        runtime.handlers.clock = real_clock
    after = runtime.handlers.automation.job(account, job.id)
    assert (after.last_due, after.last_result) == (due, "success"), after.last_message
    assert not (server.inbox("password") / "hourly_1.csv.gpg").exists()
    (imported,) = imports_done(runtime, job)
    assert imported.status == "completed" and imported.counts.imported == 3


def test_the_accounts_own_ssh_key_logs_in_alone_or_before_a_password(
    runtime: Runtime, account: UUID, server: sshd.Server, runner: ListAutomationRunner
) -> None:
    public = runtime.handlers.accounts.ssh_key(
        account
    ).public_key  # what the customer adds to authorized_keys
    for kind in ("key", "both"):
        with (server.directory / "authorized_keys" / server.user(kind)).open("a") as keys:
            keys.write(public.strip() + "\n")
    for kind, login in (("key", "system_key"), ("both", "system_key_and_password")):
        (server.inbox(kind) / f"own_{kind}.csv").write_text(CSV)
        job = new_job(
            runtime,
            account,
            server,
            f"own key {kind}",
            import_action("own_"),
            username=server.user(kind),
            login=login,
            password=server.password if kind == "both" else None,
        )
        after = run_now(runtime, runner, job)
        assert after.last_result == "success", after.last_message
        assert not (server.inbox(kind) / f"own_{kind}.csv").exists()
    refused = new_job(
        runtime,
        account,
        server,
        "own key without the password",
        import_action("own_"),
        username=server.user("both"),
        login="system_key",
        password=None,
    )
    assert run_now(runtime, runner, refused).last_result == "failure"
