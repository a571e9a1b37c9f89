"""The export analytics data action of a list automation run: one file about the
``interval_minutes`` before the run, sent to the job's SFTP directory (encrypted to the
account's user public keys when the job is secured):

- ``raw_data`` (CSV): the call result detail records (:mod:`projections.call_details`) of the
  attempts that ended in the interval;
- ``panel`` (CSV or PDF): the call results summary by contact list and local hour, the reports'
  own (:mod:`dialstream.queries.reports`), in the account's reports time zone;
- ``dashboard`` (PDF): each campaign group's interval — attempts, live answers, connects,
  abandoned calls and their rate, the 24-hour and 30-day rates against the target — its call
  results, and the pre-dial gate's denials by reason.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

from dialstream.queries import reports
from domain.abandon import rate
from domain.list_automation import ListAutomation
from processors.automation.export_lists import EXPORTS_DIR, encrypted_for, user_keys
from processors.automation.file_in import RunFailed, dated
from processors.files.pdf import Table, write_pdf
from processors.files.sftp import SftpDirectory, SftpError
from projections.call_details import COLUMNS, CallDetailQueries
from projections.call_results import CallResultQueries, quarter_hours
from projections.catalogue import ACCOUNT, CAMPAIGN_GROUP, CONTACT_LIST, CatalogueQueries
from projections.group_activity import GroupActivityQueries
from schemas.automation import ExportAnalyticsAction
from schemas.settings import PacingSettings


@dataclass
class ExportAnalytics:
    catalogue: CatalogueQueries
    details: CallDetailQueries
    results: CallResultQueries
    activity: GroupActivityQueries
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
            if action.export_type == "raw_data":
                self._raw_data(local, job.account_id, start, now)
            elif action.export_type == "panel":
                self._panel(local, action, job.account_id, start, now)
            else:
                self._dashboard(local, job.account_id, start, now)
            if recipients:
                local, name = encrypted_for(local, recipients)
            try:
                directory.send(local, name)
            except SftpError as error:
                raise RunFailed(f"{name}: the transfer failed ({error})") from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return [name]

    def _raw_data(self, local: Path, account_id: UUID, start: datetime, now: datetime) -> None:
        with local.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, lineterminator="\r\n")
            writer.writerow(COLUMNS)
            for row in self.details.finished_between(account_id, start, now):
                writer.writerow(["" if value is None else value for value in row])

    def _panel(
        self, local: Path, action: ExportAnalyticsAction, account_id: UUID, start: datetime, now: datetime
    ) -> None:
        zone, names = self._zone(account_id), self._names(account_id)
        by = ["list", "hour"]
        rows, total = reports.call_results_summary(
            self.results.counts(account_id, start, now), by, zone, names
        )
        columns = reports.columns(by)
        if action.output_format == "csv":
            with local.open("w", newline="", encoding="utf-8") as file:
                writer = csv.DictWriter(file, fieldnames=columns, lineterminator="\r\n")
                writer.writeheader()
                writer.writerows(rows)
            return
        table = Table(
            "Call results by contact list and hour",
            ["list", "hour", *reports.MEASURES],
            [
                [row["list_name"] or row["list_id"], row["hour"], *(row[m] for m in reports.MEASURES)]
                for row in rows
            ]
            + [["total", "", *(total[m] for m in reports.MEASURES)]],
        )
        write_pdf(local, "Call results panel", _covers(start, now, zone), [table])

    def _dashboard(self, local: Path, account_id: UUID, start: datetime, now: datetime) -> None:
        zone, names = self._zone(account_id), self._names(account_id)
        account = self.catalogue.get(account_id, ACCOUNT, account_id)
        target = (account.settings.pacing if account is not None else PacingSettings()).target_abandon_rate
        groups = self.catalogue.list_kind(account_id, CAMPAIGN_GROUP)
        lines = []
        for group in groups:
            counts = self.activity.counts(group.id, start, now)
            windows = self.activity.abandon_windows(group.id, now)
            lines.append(
                [group.name, group.status, counts.attempts, counts.live, counts.connects, counts.abandons,
                 round(rate(counts.abandons, counts.live), 2), round(windows.day.rate, 2),
                 round(windows.month.rate, 2), target]
            )  # fmt: skip
        first, last = quarter_hours(start, now)
        results, _ = reports.call_results_summary(
            self.results.counts(account_id, start, now), ["group", "call_result"], zone, names
        )
        denials, _ = reports.denials_summary(
            self.activity.gate_denials_between(account_id, first, last), ["group", "reason"], zone, names
        )
        write_pdf(
            local,
            "Campaigns dashboard",
            _covers(start, now, zone),
            [
                Table(
                    "Campaign groups",
                    [
                        "group",
                        "status",
                        "attempts",
                        "live answers",
                        "connects",
                        "abandoned",
                        "abandon %",
                        "24 h %",
                        "30 days %",
                        "target %",
                    ],
                    lines,
                ),
                Table(
                    "Call results",
                    ["group", "call result", "attempts", "talk seconds"],
                    [
                        [
                            r["group_name"],
                            f"{r['call_result']} {r['call_result_name']}",
                            r["attempts"],
                            r["talk_seconds"],
                        ]
                        for r in results
                    ],
                ),
                Table(
                    "Pre-dial denials",
                    ["group", "reason", "denials"],
                    [[r["group_name"], r["reason"], r["denials"]] for r in denials],
                ),
            ],
        )

    def _zone(self, account_id: UUID) -> ZoneInfo:
        account = self.catalogue.get(account_id, ACCOUNT, account_id)
        return ZoneInfo(account.settings.region.reports_time_zone if account is not None else "UTC")

    def _names(self, account_id: UUID) -> dict[str, str]:
        return {
            str(found.id): found.name
            for kind in (CAMPAIGN_GROUP, CONTACT_LIST)
            for found in self.catalogue.list_kind(account_id, kind)
        }


def _covers(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    def local(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return f"{local(start)} to {local(end)} ({zone.key})"
