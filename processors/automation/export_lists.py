"""The export contact list action of a list automation run: the chosen lists' records, one CSV
file per list (the columns of :mod:`dialstream.queries.list_export`), sent to the job's SFTP
directory; encrypted, ASCII-armoured, to every user public key of the account when the job is
secured (``.asc`` added to the name).

Which lists: ``contact_list_ids`` when given; else, with a name operator, the account's lists
whose name matches; else by campaign group (``all``: every list in a group, ``none``: the lists
in no group, ``selected``: those of the chosen groups). A file is sent whole (a ``.part`` name
renamed on the server once complete), so the customer's side never reads half a list.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from dialstream.queries.list_export import list_csv
from domain.errors import DomainError
from domain.list_automation import ListAutomation
from domain.selection import SelectionError, parse
from processors.automation.file_in import RunFailed, dated
from processors.files import openpgp
from processors.files.sftp import SftpDirectory, SftpError
from projections.catalogue import ACCOUNT, CAMPAIGN_GROUP, CONTACT_LIST, CatalogueQueries
from projections.records import RecordQueries
from schemas.automation import ExportContactListAction

EXPORTS_DIR = "automation-exports"


@dataclass
class ExportLists:
    catalogue: CatalogueQueries
    records: RecordQueries
    data_dir: Path
    wait_for_head: Callable[[float], bool]
    check: Callable[[], object]

    def run(self, job: ListAutomation, run_id: UUID, directory: SftpDirectory, now: datetime) -> list[str]:
        action = job.action
        assert isinstance(action, ExportContactListAction)
        try:
            rule = parse(action.selection_rule)
        except (SelectionError, DomainError) as error:
            raise RunFailed(f"the selection rule: {error}") from None
        if not self.wait_for_head(30.0):
            raise RunFailed("the read models are behind the event log; the export runs again at the next run")
        recipients = user_keys(self.catalogue, job) if action.secure else []
        folder = self.data_dir / EXPORTS_DIR / str(run_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        sent: list[str] = []
        try:
            for contact_list in self._lists(job.account_id, action):
                self.check()
                name = _file_name(action.output_file_format, str(contact_list.name), now)
                local = folder / name
                with local.open("wb") as file:
                    for chunk in list_csv(
                        self.records,
                        contact_list.id,
                        None if rule.selects_all else rule,
                        use_labels=action.use_labels,
                    ):
                        file.write(chunk)
                if recipients:
                    local, name = encrypted_for(local, recipients)
                try:
                    directory.send(local, name)
                except SftpError as error:
                    raise RunFailed(f"{name}: the transfer failed ({error})") from None
                sent.append(name)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return sent

    def _lists(self, account_id: UUID, action: ExportContactListAction) -> list[Any]:
        lists = self.catalogue.list_kind(account_id, CONTACT_LIST)
        if action.contact_list_ids:
            chosen = set(action.contact_list_ids)
            return [each for each in lists if each.id in chosen]
        if action.name_operator is not None:
            value = action.name_value.casefold()
            test = {
                "equals": lambda name: name == value,
                "contains": lambda name: value in name,
                "starts_with": lambda name: name.startswith(value),
                "ends_with": lambda name: name.endswith(value),
            }[action.name_operator]
            return [each for each in lists if test(str(each.name).casefold())]
        groups = self.catalogue.list_kind(account_id, CAMPAIGN_GROUP)
        if action.campaign_groups == "selected":
            groups = [group for group in groups if group.id in set(action.campaign_group_ids)]
        grouped = {list_id for group in groups for list_id in group.contact_list_ids}
        if action.campaign_groups == "none":
            all_grouped = {
                list_id
                for group in self.catalogue.list_kind(account_id, CAMPAIGN_GROUP)
                for list_id in group.contact_list_ids
            }
            return [each for each in lists if each.id not in all_grouped]
        return [each for each in lists if each.id in grouped]


def user_keys(catalogue: CatalogueQueries, job: ListAutomation) -> list[str]:
    """The account's user public keys (armoured) a secured export is encrypted to."""
    account = catalogue.get(job.account_id, ACCOUNT, job.account_id)
    keys = [key.armored for key in getattr(account, "public_keys", ())]
    if not keys:
        raise RunFailed(
            "this job is secured with encryption and the account has no user public key to encrypt to"
        )
    return keys


def encrypted_for(local: Path, recipients: list[str]) -> tuple[Path, str]:
    """``local`` encrypted, ASCII-armoured, to every key of ``recipients``: the file and its name (``.asc`` added)."""
    armoured = local.with_name(f"{local.name}.asc")
    try:
        openpgp.encrypt_file(local, armoured, recipients)
    except openpgp.PgpError as error:
        raise RunFailed(f"{local.name}: {error}") from None
    return armoured, armoured.name


def _file_name(form: str, list_name: str, now: datetime) -> str:
    name = dated(form.replace("%L", list_name), now).replace("/", "_").strip() or f"{list_name}.csv"
    return name[:200]
