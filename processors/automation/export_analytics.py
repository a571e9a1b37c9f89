"""The export analytics data action of a list automation run: the call result detail records
(:mod:`projections.call_details`) of the attempts that ended in the ``interval_minutes`` before
the run, as one CSV file sent to the job's SFTP directory; encrypted to the account's user
public keys when the job is secured. Only the raw data type exists: the dashboard and panel
types (PDF) need the reports, and the API refuses them ("not yet")."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from domain.list_automation import ListAutomation
from processors.automation.export_lists import EXPORTS_DIR, encrypted_for, user_keys
from processors.automation.file_in import RunFailed, dated
from processors.files.sftp import SftpDirectory, SftpError
from projections.call_details import COLUMNS, CallDetailQueries
from projections.catalogue import CatalogueQueries
from schemas.automation import ExportAnalyticsAction


@dataclass
class ExportAnalytics:
    catalogue: CatalogueQueries
    details: CallDetailQueries
    data_dir: Path
    wait_for_head: Callable[[float], bool]

    def run(self, job: ListAutomation, run_id: UUID, directory: SftpDirectory, now: datetime) -> list[str]:
        action = job.action
        assert isinstance(action, ExportAnalyticsAction)
        if not self.wait_for_head(30.0):
            raise RunFailed("the read models are behind the event log; the export runs again at the next run")
        recipients = user_keys(self.catalogue, job) if action.secure else []
        folder = self.data_dir / EXPORTS_DIR / str(run_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = dated(action.output_file_format, now).replace("/", "_").strip()[:200] or "attempts.csv"
        try:
            local = folder / name
            start = now - timedelta(minutes=action.interval_minutes)
            with local.open("w", newline="", encoding="utf-8") as file:
                writer = csv.writer(file, lineterminator="\r\n")
                writer.writerow(COLUMNS)
                for row in self.details.finished_between(job.account_id, start, now):
                    writer.writerow(["" if value is None else value for value in row])
            if recipients:
                local, name = encrypted_for(local, recipients)
            try:
                directory.send(local, name)
            except SftpError as error:
                raise RunFailed(f"{name}: the transfer failed ({error})") from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return [name]
