"""Sample events of topic ``automation`` (list automation jobs and their runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from schemas import automation
from schemas.base import Event
from schemas.lists import Retention

AUTOMATION_JOB = UUID("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
RUN = UUID("1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e")
IMPORT_JOB = UUID("2c3d4e5f-6a7b-5c8d-8e9f-1a2b3c4d5e6f")
FINGERPRINT = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
JOB_FIELDS: dict[str, Any] = dict(
    name="Collections",
    description="The CRM's morning file",
    schedule=automation.ScheduleOptions(
        every_minutes=15,
        days=["mon", "tue", "wed", "thu", "fri"],
        starts_at="06:00",
        ends_at="20:00",
        time_zone="America/New_York",
    ),
    source=automation.SftpSource(
        location="sftp://files.example.com:2222/outbound",
        username="crm",
        login="system_key_and_password",
        host_key=FINGERPRINT,
        trace=True,
        sealed_password="sealed:v1:gAAAAABexample",
    ),
    action=automation.SendCampaignGroupAction(
        import_=automation.ImportSettings(
            files=automation.FileRule(operator="contains", value="Collections", ignore_duplicates=True),
            append_type="new_list_only",
            record_retention=Retention(days=30),
            secure=True,
        ),
        campaign_template_id=UUID("c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"),
        group_name_format="%T %L YYYY-MM-DD",
    ),
)
AUTOMATION_SPECS: dict[type[Event], tuple[UUID, int, dict[str, Any]]] = {
    automation.ListAutomationCreated: (AUTOMATION_JOB, 1, JOB_FIELDS),
    automation.ListAutomationChanged: (
        AUTOMATION_JOB,
        2,
        dict(JOB_FIELDS, schedule=automation.CronSchedule(cron="0 3 8 9 2,3", time_zone="Europe/London")),
    ),
    automation.ListAutomationHostKeyTrusted: (AUTOMATION_JOB, 3, dict(host_key=FINGERPRINT)),
    automation.ListAutomationDisabled: (AUTOMATION_JOB, 4, {}),
    automation.ListAutomationEnabled: (AUTOMATION_JOB, 5, {}),
    automation.ListAutomationRunRequested: (AUTOMATION_JOB, 6, dict(run_id=RUN)),
    automation.ListAutomationRunStarted: (
        AUTOMATION_JOB,
        7,
        dict(run_id=RUN, due=datetime(2025, 3, 14, 10, 15, tzinfo=UTC), worker="host-1:9f8e7d6c"),
    ),
    automation.ListAutomationFileTaken: (
        AUTOMATION_JOB,
        8,
        dict(run_id=RUN, file_name="Collections_0314.csv.pgp", size=48_213, job_id=IMPORT_JOB),
    ),
    automation.ListAutomationRunFinished: (
        AUTOMATION_JOB,
        9,
        dict(
            run_id=RUN,
            result="success",
            message="1 file(s) taken: Collections_0314.csv.pgp",
            files=["Collections_0314.csv.pgp"],
            trace=[
                "connecting to files.example.com:2222",
                "host key of files.example.com:2222 is ssh-ed25519 " + FINGERPRINT,
            ],
        ),
    ),
    automation.ListAutomationDeleted: (AUTOMATION_JOB, 10, {}),
}
