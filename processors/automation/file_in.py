"""The file-in actions of a list automation run: import file, send campaign group and suppress
file. Each file the job's rule takes is fetched whole, decrypted when it is OpenPGP encrypted
(a secured job takes nothing else), handed to an import job, and deleted from the server (the
default) or left there.

**Exactly once.** A file's import job id is derived from the automation job, the file's name,
size and modification time: fetched again after a crash (the run died between requesting the
import and deleting the file), the same file finds its import already requested and is not
imported twice; the import itself resumes from its last batch (:mod:`processors.imports`).
A transfer cut in the middle leaves the file on the server for the next run.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import UUID

from dialstream.handlers import Handlers
from dialstream.handlers.imports import ImportOptions
from dialstream.store import EventStore
from domain import contact_list, file_rules, import_job
from domain.campaign_group import CreateCampaignGroup
from domain.contact_list import CreateContactList
from domain.errors import DomainError, NameTaken
from domain.list_automation import ListAutomation
from domain.suppression_list import CreateSuppressionList
from processors.files import openpgp
from processors.files.sftp import RemoteFile, SftpDirectory, SftpError
from processors.imports.uploads import UPLOADS_DIR
from projections.catalogue import CAMPAIGN_GROUP, CAMPAIGN_TEMPLATE, CatalogueQueries
from schemas.automation import ImportFileAction, ImportSettings, SendCampaignGroupAction, SuppressFileAction
from schemas.lists import ContactListSettings

log = logging.getLogger(__name__)

RUNNING = "running"


class RunFailed(Exception):
    """The run fails with this message (the job's activity shows it)."""


FileInAction = ImportFileAction | SendCampaignGroupAction | SuppressFileAction


def file_in_action(job: ListAutomation) -> FileInAction:
    """The job's action, which must be one that takes files in."""
    action = job.action
    if not isinstance(action, ImportFileAction | SendCampaignGroupAction | SuppressFileAction):
        raise RunFailed(f"the {type(action).__name__} action takes no files in")
    return action


@dataclass
class Taken:
    """What a run did with the files it found."""

    files: list[str] = field(default_factory=list)
    list_ids: list[UUID] = field(default_factory=list)
    import_jobs: list[UUID] = field(default_factory=list)


@dataclass
class FileIn:
    store: EventStore
    handlers: Handlers
    catalogue: CatalogueQueries
    data_dir: Path
    pgp_private_key: Callable[[UUID], openpgp.KeyPair]  # the account's system OpenPGP key pair
    check: Callable[[], object]  # before each file's effects: raises once this worker lost the schedule

    def run(self, job: ListAutomation, run_id: UUID, directory: SftpDirectory, now: datetime) -> Taken:
        action = file_in_action(job)
        rule = action.files if isinstance(action, SuppressFileAction) else action.import_.files
        found = {remote.name: remote for remote in directory.files()}
        names = file_rules.to_take(rule, found, job.processed)
        taken = Taken()
        if isinstance(action, SendCampaignGroupAction):
            self._template(job, action)  # no group without its template: fail before importing
        for name in names:
            self.check()
            self._take(job, run_id, directory, found[name], taken, now)
            if rule.after_import == "delete":
                try:
                    directory.delete(name)
                except SftpError as error:
                    raise RunFailed(
                        f"{name} was imported but could not be deleted from the server: {error}"
                    ) from None
        if isinstance(action, SendCampaignGroupAction) and taken.list_ids:
            self._send_group(job, action, taken, now)
        return taken

    # One file ----------------------------------------------------------------------------

    def _take(
        self,
        job: ListAutomation,
        run_id: UUID,
        directory: SftpDirectory,
        remote: RemoteFile,
        taken: Taken,
        now: datetime,
    ) -> None:
        import_id = uuid.uuid5(job.id, f"{remote.name}\0{remote.size}\0{remote.modified}")
        folder = self.data_dir / UPLOADS_DIR / str(import_id)
        if self.store.load(import_id, import_job.project) is None:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fetched = folder / "fetched"
            try:
                directory.fetch(remote.name, fetched)
            except SftpError as error:
                shutil.rmtree(folder, ignore_errors=True)
                raise RunFailed(
                    f"{remote.name}: the transfer failed ({error}); the file stays for the next run"
                ) from None
            try:
                size = self._plain(job, remote.name, fetched, folder / "upload")
                list_id = self._request(job, remote.name, import_id, size, now)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)  # a list's data: nothing left behind a refused file
                raise
        else:  # requested by a run that died before it deleted the file: not imported twice
            shutil.rmtree(folder / "fetched", ignore_errors=True)
            existing = self.store.load(import_id, import_job.project)
            assert existing is not None
            list_id, size = existing.list_id, existing.size
        self.handlers.automation.take_file(job.id, run_id, remote.name, size, import_id)
        taken.files.append(remote.name)
        taken.import_jobs.append(import_id)
        if list_id not in taken.list_ids:
            taken.list_ids.append(list_id)

    def _plain(self, job: ListAutomation, name: str, fetched: Path, upload: Path) -> int:
        """The file as the import reads it: decrypted when encrypted; a secured job refuses a
        clear file."""
        action = file_in_action(job)
        secure = action.secure if isinstance(action, SuppressFileAction) else action.import_.secure
        try:
            if openpgp.is_encrypted(fetched):
                size = openpgp.decrypt_file(fetched, upload, self.pgp_private_key(job.account_id))
                fetched.unlink()
                return size
        except openpgp.PgpError as error:
            raise RunFailed(f"{name}: {error}") from None
        if secure:
            raise RunFailed(
                f"{name} is not OpenPGP encrypted: this job is secured with encryption and takes only encrypted files"
            )
        fetched.rename(upload)
        return upload.stat().st_size

    def _request(self, job: ListAutomation, name: str, import_id: UUID, size: int, now: datetime) -> UUID:
        """Request the file's import job into the action's list (made first for a new list)."""
        action = file_in_action(job)
        rules = action if isinstance(action, SuppressFileAction) else action.import_
        options = ImportOptions(
            append_type=None if rules.append_type == "new_list_only" else rules.append_type,
            upload_rule_id=rules.upload_rule_id,
            specification_file_id=rules.specification_file_id,
            data_mapping_id=getattr(rules, "data_mapping_id", None),
        )
        try:
            if isinstance(rules, SuppressFileAction):
                list_id = rules.suppression_list_id or self._new_suppression_list(job, rules, name, now)
                request = self.handlers.imports.request_suppression_import
            else:
                list_id = rules.contact_list_id or self._new_contact_list(job, rules, name, now)
                request = self.handlers.imports.request_import
            request(
                job.account_id,
                list_id,
                job_id=import_id,
                file_name=name,
                stored_as=f"{UPLOADS_DIR}/{import_id}/upload",
                size=size,
                options=options,
            )
        except DomainError as error:
            raise RunFailed(f"{name}: {error}") from None
        return list_id

    def _new_contact_list(
        self, job: ListAutomation, settings: ImportSettings, name: str, now: datetime
    ) -> UUID:
        list_settings = ContactListSettings(
            channel=settings.channel,
            time_zones=settings.time_zones,
            retention=settings.record_retention,
        )
        return _first_free(
            _list_name(settings.list_name_format, name, now),
            now,
            lambda free: (
                self.handlers.lists.create(
                    job.account_id, CreateContactList(name=free, settings=list_settings)
                ).id
            ),
        )

    def _new_suppression_list(
        self, job: ListAutomation, action: SuppressFileAction, name: str, now: datetime
    ) -> UUID:
        return _first_free(
            _list_name(action.list_name_format, name, now),
            now,
            lambda free: (
                self.handlers.suppression.create_list(
                    job.account_id,
                    CreateSuppressionList(
                        name=free,
                        channel=action.channel,
                        required=action.required,
                        retention_days=action.retention_days,
                    ),
                ).id
            ),
        )

    # Send campaign group --------------------------------------------------------------------

    def _template(self, job: ListAutomation, action: SendCampaignGroupAction) -> str:
        template = (
            self.catalogue.get(job.account_id, CAMPAIGN_TEMPLATE, action.campaign_template_id)
            if action.campaign_template_id
            else None
        )
        if template is None:
            raise RunFailed("campaign template is required (the job's template does not exist any more)")
        return str(template.name)

    def _send_group(
        self, job: ListAutomation, action: SendCampaignGroupAction, taken: Taken, now: datetime
    ) -> None:
        """One group for every list the run imported into. It starts when a list it appends to
        is in a running group (it inherits that group's state); a new list's group waits."""
        assert action.campaign_template_id is not None
        template_name = self._template(job, action)
        first = self.store.load(
            taken.list_ids[0], contact_list.project
        )  # made a moment ago: the store knows it
        account = self.handlers.context.account(job.account_id)
        name = _group_name(
            action.group_name_format,
            template=template_name,
            first_list=str(getattr(first, "name", "")),
            account=account.settings.general.account_name,
            now=now,
        )
        running = action.import_.append_type != "new_list_only" and any(
            group.status == RUNNING and set(group.contact_list_ids) & set(taken.list_ids)
            for group in self.catalogue.list_kind(job.account_id, CAMPAIGN_GROUP)
        )
        template_id = action.campaign_template_id
        try:
            group_id = _first_free(
                name,
                now,
                lambda free: (
                    self.handlers.campaigns.create_group(
                        job.account_id,
                        CreateCampaignGroup(
                            name=free, template_id=template_id, contact_list_ids=taken.list_ids
                        ),
                    ).id
                ),
            )
            if running:
                self.handlers.campaigns.transition_group(job.account_id, group_id, "start")
        except DomainError as error:
            raise RunFailed(f"the campaign group {name!r}: {error}") from None
        log.info(
            "list automation %r: campaign group %r sent%s", job.name, name, " and started" if running else ""
        )


def _first_free(name: str, now: datetime, create: Callable[[str], UUID]) -> UUID:
    """A new list or group under ``name``; when one has it already (a file of the same name, a
    day later), under the name and the run's time, then numbered."""
    stamped = f"{name} {now:%Y-%m-%d %H:%M:%S}"
    for candidate in [name, stamped, *(f"{stamped} #{n}" for n in range(2, 10))]:
        try:
            return create(candidate[:200])
        except NameTaken:
            continue
    raise RunFailed(f"no free name like {name!r}: rename or archive what has that name")


def _list_name(form: str, file_name: str, now: datetime) -> str:
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    return dated(form.replace("%F", stem), now)[:200] or stem


def _group_name(form: str, *, template: str, first_list: str, account: str, now: datetime) -> str:
    name = form.replace("%T", template).replace("%L", first_list).replace("ACCOUNT", account)
    return dated(name, now)[:200]


_TOKENS = re.compile("YYYY|MM|DD|hh|mm")


def dated(text: str, now: datetime) -> str:
    """``text`` with the date tokens (``YYYY``, ``MM``, ``DD``, ``hh``, ``mm``) of ``now``."""
    values = {"YYYY": f"{now:%Y}", "MM": f"{now:%m}", "DD": f"{now:%d}", "hh": f"{now:%H}", "mm": f"{now:%M}"}
    return _TOKENS.sub(lambda match: values[match.group(0)], text)
