"""The list automation worker: starts each job's runs when they are due (or asked for) and runs
them against the job's SFTP directory.

Input: the jobs (the ``catalogue`` read model finds them; each is then loaded from the store)
and the clock. Output: ``list_automation.run_started`` / ``file_taken`` / ``run_finished`` on
the job (topic ``automation``), and what the action does (lists, import jobs, campaign
groups, suppression lists) through the service layer.
State: none of its own. Delivery: hosted by the one scheduler of the processor host
(:mod:`processors.host.schedule`), so one process of a deployment at a time looks for due
runs; and each run is started through the job aggregate, which starts a scheduled run (its
due instant) or an asked-for run (its id) once: a second worker's start conflicts and is
dropped. A run whose worker died is finished as failed by the job's next start; the files it
had not yet deleted are found again and, already requested, not imported twice
(:mod:`processors.automation.file_in`).
Run: ``dialstream up`` or ``dialstream worker list-automation``.

The export analytics data action exports the raw data (call result detail records as CSV);
its dashboard and panel types need the reports, and the API refuses them.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from uuid import UUID

from dialstream.handlers import Handlers
from dialstream.store import EventStore
from dialstream.store.events import ConcurrencyConflict
from domain import list_automation
from domain.errors import DomainError
from domain.list_automation import ListAutomation
from domain.sftp_location import parse_location
from processors.automation.export_analytics import ExportAnalytics
from processors.automation.export_lists import ExportLists
from processors.automation.file_in import FileIn, RunFailed
from processors.files import openpgp, sftp
from processors.host.lease import LeaseLost
from processors.host.schedule import Every, Schedule, Tick
from projections.call_details import CallDetailQueries
from projections.call_results import CallResultQueries
from projections.catalogue import LIST_AUTOMATION, CatalogueQueries
from projections.group_activity import GroupActivityQueries
from projections.records import RecordQueries
from schemas.automation import ExportAnalyticsAction, ExportContactListAction, RunResult

log = logging.getLogger(__name__)

NAME = "list-automation"
EVERY_S = 20.0  # how often due runs are looked for: a run starts within this of its time

SshKey = Callable[[UUID], str]  # the account's system SSH private key (OpenSSH text)
PgpKey = Callable[[UUID], openpgp.KeyPair]


def scheduled(runner: ListAutomationRunner, every_s: float = EVERY_S) -> Schedule:
    return Schedule(NAME, Every(every_s), runner)


class ListAutomationRunner:
    def __init__(
        self,
        store: EventStore,
        catalogue: CatalogueQueries,
        handlers: Handlers,
        data_dir: Path,
        *,
        ssh_key: SshKey,
        pgp_key: PgpKey,
        records: RecordQueries,
        details: CallDetailQueries,
        results: CallResultQueries,
        activity: GroupActivityQueries,
        wait_for_head: Callable[[float], bool],
        worker: str | None = None,
        timeout_s: float = sftp.TIMEOUT_S,
    ):
        self.store = store
        self.catalogue = catalogue
        self.handlers = handlers
        self.data_dir = data_dir
        self.ssh_key = ssh_key
        self.pgp_key = pgp_key
        self.records = records
        self.details = details
        self.results = results
        self.activity = activity
        self.wait_for_head = wait_for_head
        self.worker = worker or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.timeout_s = timeout_s

    def __call__(self, tick: Tick) -> int:
        """The scheduled job: every run due at the tick, and every one asked for; how many ran."""
        ran = 0
        for listed in self.catalogue.of_kind(LIST_AUTOMATION):
            if tick.stopping():
                break
            job = self.store.load(listed.id, list_automation.project)
            if job is None or job.deleted:
                continue
            for run_id in job.requested:
                ran += self.run(job.id, run_id, None, tick)
            due = job.next_due(tick.now)  # a run asked for does not move the schedule
            if due is not None:
                ran += self.run(listed.id, uuid.uuid5(listed.id, due.isoformat()), due, tick)
        return ran

    def run(self, job_id: UUID, run_id: UUID, due: datetime | None, tick: Tick) -> int:
        """One run, started through the job (0 when another worker has it)."""
        tick.check()
        try:
            self.handlers.automation.start_run(job_id, run_id, due=due, worker=self.worker)
        except (DomainError, ConcurrencyConflict):  # another worker started it, or the job changed or went
            return 0
        job = self.store.load(job_id, list_automation.project)
        assert job is not None
        trace: list[str] = []
        files: list[str] = []
        result: RunResult
        try:
            result, message, files = self._perform(job, run_id, trace, tick)
        except LeaseLost:
            raise  # another worker holds the schedule now; the job's next start closes this run
        except (RunFailed, sftp.SftpError) as error:
            result, message = "failure", str(error)
        except Exception as error:  # a run fails, the worker goes on with the other jobs
            log.exception("list automation %s: run %s failed", job.name, run_id)
            result, message = "failure", f"unexpected error: {type(error).__name__}: {error}"
        self.handlers.automation.finish_run(
            job_id, run_id, result, message, files=files, trace=trace if job.source.trace else []
        )
        log.info("list automation %r: run %s: %s: %s", job.name, run_id, result, message)
        return 1

    def _perform(
        self, job: ListAutomation, run_id: UUID, trace: list[str], tick: Tick
    ) -> tuple[RunResult, str, list[str]]:
        if job.source.host_key is None:
            raise RunFailed(
                "the SFTP server's host key is not trusted yet: trust it (POST .../trust-host-key) or give its fingerprint"
            )
        location = parse_location(job.source.location)
        credentials = self._credentials(job)
        with sftp.connect(
            location, credentials, pinned=job.source.host_key, trace=trace.append, timeout_s=self.timeout_s
        ) as directory:
            return self._act(job, run_id, directory, tick)

    def _act(
        self, job: ListAutomation, run_id: UUID, directory: sftp.SftpDirectory, tick: Tick
    ) -> tuple[RunResult, str, list[str]]:
        """The job's action in its connected directory: the run's result, message and files."""
        where = directory.location
        action = job.action
        if isinstance(action, ExportAnalyticsAction):
            analytics = ExportAnalytics(
                self.catalogue, self.details, self.results, self.activity, self.data_dir, self.wait_for_head
            )
            sent = analytics.run(job, run_id, directory, tick.now)
            return "success", f"{sent[0]} sent to {where}", sent
        if isinstance(action, ExportContactListAction):
            lists = ExportLists(self.catalogue, self.records, self.data_dir, self.wait_for_head, tick.check)
            sent = lists.run(job, run_id, directory, tick.now)
            if not sent:
                return "nothing_found", "no contact list matches the job's selection", []
            return "success", f"{len(sent)} file(s) sent to {where}: {', '.join(sent)}", sent
        file_in = FileIn(self.store, self.handlers, self.catalogue, self.data_dir, self.pgp_key, tick.check)
        taken = file_in.run(job, run_id, directory, tick.now)
        if not taken.files:
            return "nothing_found", f"no file in {where} matches the job's rule", []
        return "success", f"{len(taken.files)} file(s) taken: {', '.join(taken.files)}", taken.files

    def _credentials(self, job: ListAutomation) -> sftp.SftpCredentials:
        source = job.source
        secrets = self.handlers.automation.open_secrets(source)
        if source.login == "password":
            return sftp.SftpCredentials(source.username, password=secrets.password)
        if source.login == "private_key":
            return sftp.SftpCredentials(
                source.username, private_key=secrets.private_key, passphrase=secrets.passphrase
            )
        key = self.ssh_key(job.account_id)
        password = secrets.password if source.login == "system_key_and_password" else None
        return sftp.SftpCredentials(source.username, password=password, private_key=key)
