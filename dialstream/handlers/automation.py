"""List automation jobs: what the API asks (create, change, disable, enable, delete, run now,
trust a host key) and what a worker running them stores (a run started, a file taken, a run
finished). Secrets from the API are sealed here, before any event holds them; the worker opens
them with :meth:`AutomationHandlers.open_secrets`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from msgspec import UNSET

from dialstream.handlers.context import Context, expect, owned
from dialstream.results import Done
from dialstream.store.retry import retry_on_conflict
from domain import list_automation as job
from domain.aggregate import pick
from domain.list_automation import ChangeListAutomation, CreateListAutomation, ListAutomation, SourceInput
from domain.sftp_location import parse_location
from schemas.automation import RunResult, SftpSource


@dataclass(frozen=True)
class OpenSecrets:
    """A job's secrets in clear, for the worker's connection only (never stored or logged)."""

    password: str | None
    private_key: str | None
    passphrase: str | None


class AutomationHandlers:
    def __init__(self, context: Context):
        self.context = context

    # What the API asks -----------------------------------------------------------------

    def create(self, account_id: UUID, command: CreateListAutomation) -> Done:
        self.context.account(account_id)
        job_id = self.context.new_id()
        events = job.create(
            command,
            self._sealed(command.source, None),
            job_id=job_id,
            account_id=account_id,
            claim=self.context.claim(account_id, job.KIND, command.name),
            now=self.context.now(),
        )
        return self.context.commit(job_id, events)

    def change(
        self,
        account_id: UUID,
        job_id: UUID,
        command: ChangeListAutomation,
        expected_version: int | None = None,
    ) -> Done:
        state = self.job(account_id, job_id)
        expect(state, expected_version)
        name = pick(command.name, state.name)
        source = None if command.source is UNSET else self._sealed(command.source, state.source)
        events = job.change(
            state,
            command,
            source,
            new_claim=self.context.claim(account_id, job.KIND, name),
            old_claim=self.context.claim(account_id, job.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(job_id, events)

    def trust_host_key(self, account_id: UUID, job_id: UUID, fingerprint: str) -> Done:
        state = self.job(account_id, job_id)
        return self.context.commit(job_id, job.trust_host_key(state, fingerprint, now=self.context.now()))

    def disable(self, account_id: UUID, job_id: UUID, expected_version: int | None = None) -> Done:
        state = self.job(account_id, job_id)
        expect(state, expected_version)
        return self.context.commit(job_id, job.disable(state, now=self.context.now()))

    def enable(self, account_id: UUID, job_id: UUID, expected_version: int | None = None) -> Done:
        state = self.job(account_id, job_id)
        expect(state, expected_version)
        return self.context.commit(job_id, job.enable(state, now=self.context.now()))

    def delete(self, account_id: UUID, job_id: UUID, expected_version: int | None = None) -> Done:
        state = self.job(account_id, job_id)
        expect(state, expected_version)
        claim = self.context.claim(account_id, job.KIND, state.name)
        return self.context.commit(job_id, job.delete(state, claim=claim, now=self.context.now()))

    def run_now(self, account_id: UUID, job_id: UUID) -> tuple[Done, UUID]:
        state = self.job(account_id, job_id)
        run_id = self.context.new_id()
        return self.context.commit(job_id, job.request_run(state, run_id, now=self.context.now())), run_id

    # What a worker stores --------------------------------------------------------------

    def start_run(self, job_id: UUID, run_id: UUID, *, due: datetime | None, worker: str) -> Done:
        """Refused (InvalidTransition, or the store's conflict when another worker started it
        first) unless this run is the job's to start now."""
        state = self.context.store.load(job_id, job.project)
        return self.context.commit(
            job_id, job.start_run(state, run_id, due=due, worker=worker, now=self.context.now())
        )

    def take_file(
        self, job_id: UUID, run_id: UUID, file_name: str, size: int, import_job_id: UUID | None
    ) -> Done:
        def attempt() -> Done:
            state = self.context.store.load(job_id, job.project)
            events = job.take_file(state, run_id, file_name, size, import_job_id, now=self.context.now())
            return self.context.commit(job_id, events)

        return self._retried(attempt, f"file {file_name} of run {run_id}")

    def finish_run(
        self,
        job_id: UUID,
        run_id: UUID,
        result: RunResult,
        message: str,
        *,
        files: list[str],
        trace: list[str],
    ) -> Done:
        """Stored even when the job was edited while it ran (decided again on its new version)."""

        def attempt() -> Done:
            state = self.context.store.load(job_id, job.project)
            events = job.finish_run(
                state, run_id, result, message, files=files, trace=trace, now=self.context.now()
            )
            return self.context.commit(job_id, events)

        return self._retried(attempt, f"end of run {run_id}")

    @staticmethod
    def _retried(attempt: Callable[[], Done], what: str) -> Done:
        done = retry_on_conflict(attempt, what=what)
        assert done is not None  # no settled check: an attempt either stores or raises
        return done

    def open_secrets(self, source: SftpSource) -> OpenSecrets:
        def opened(sealed: str | None) -> str | None:
            return None if sealed is None else self.context.secrets.open(sealed)

        return OpenSecrets(
            opened(source.sealed_password),
            opened(source.sealed_private_key),
            opened(source.sealed_passphrase),
        )

    # Reading ---------------------------------------------------------------------------

    def job(self, account_id: UUID, job_id: UUID) -> ListAutomation:
        return owned(self.context.store.load(job_id, job.project), account_id, job.LABEL)

    def _sealed(self, given: SourceInput, stored: SftpSource | None) -> SftpSource:
        """The API's source with its secrets sealed; a secret left out keeps the stored one
        while the login still uses it."""

        def sealed(clear: str | None, kept: str | None) -> str | None:
            return self.context.secrets.seal(clear) if clear is not None else kept

        same_server = stored is not None and _server(stored.location) == _server(given.location)
        pinned = stored.host_key if stored is not None and same_server else None
        return SftpSource(
            location=given.location,
            username=given.username,
            login=given.login,
            host_key=given.host_key if given.host_key is not None else pinned,
            trace=given.trace,
            sealed_password=sealed(given.password, stored.sealed_password if stored else None),
            sealed_private_key=sealed(given.private_key, stored.sealed_private_key if stored else None),
            sealed_passphrase=sealed(given.passphrase, stored.sealed_passphrase if stored else None),
        )


def _server(location: str) -> tuple[str, int] | None:
    """The host and port a location names (a key pinned for one server is not another's)."""
    try:
        parsed = parse_location(location)
    except ValueError:
        return None
    return parsed.host, parsed.port
