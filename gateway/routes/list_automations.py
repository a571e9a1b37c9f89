"""/api/v1/list-automations: scheduled SFTP imports and exports (the product's List Automation
page): the jobs, their next runs, "run now", enable / disable, trusting a server's host key, and
each job's activity. A job's secrets are never returned: the view says which are set."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from dialstream.bootstrap import Runtime
from domain import run_schedule
from domain.list_automation import LABEL, ChangeListAutomation, CreateListAutomation, ListAutomation
from domain.sftp_location import parse_location
from gateway.deps import HandlersDep, IfMatch, Reader, RuntimeDep, Supervisor
from gateway.io import doc, read_body, respond
from gateway.problems import Problem
from gateway.views import fetch, settled
from processors.files import sftp
from projections.catalogue import LIST_AUTOMATION
from schemas.automation import CronSchedule, Fingerprint

router = APIRouter(prefix="/api/v1/list-automations", tags=["list automation"])


class TrustHostKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Pin ``fingerprint`` (the customer's own), or, left out, the one the server shows now."""

    fingerprint: Fingerprint | None = None


class NextRun(msgspec.Struct, frozen=True, kw_only=True):
    local: str  # ISO 8601 in the schedule's zone, with its offset
    utc: str


def job_view(job: ListAutomation) -> dict[str, Any]:
    """The job as the API shows it: its secrets replaced by whether each is set, and the
    columns of the product's job table (list source, status, schedule, counts)."""
    body: dict[str, Any] = msgspec.to_builtins(job)
    source = body["source"]
    for secret in ("password", "private_key", "passphrase"):
        source[f"has_{secret}"] = source.pop(f"sealed_{secret}") is not None
    for hidden in ("deleted", "processed", "requested", "counts_from", "last_due"):
        body.pop(hidden, None)
    try:
        where = parse_location(job.source.location)
        body["list_source"] = f"{job.source.username}@{where.host}/{where.directory}"
    except ValueError:
        body["list_source"] = f"{job.source.username}@{job.source.location}"
    body["status"] = _status(job)
    schedule = job.schedule
    body["schedule_text"] = (
        schedule.cron
        if isinstance(schedule, CronSchedule)
        else f"every {schedule.every_minutes} minutes, {schedule.starts_at}-{schedule.ends_at} "
        f"on {','.join(schedule.days)} ({schedule.time_zone})"
    )
    return body


def _status(job: ListAutomation) -> str:
    if job.running is not None:
        return "running"
    if not job.enabled:
        return "disabled"
    return job.last_result or "scheduled"


def _job(runtime: Runtime, account_id: UUID, job_id: UUID) -> ListAutomation:
    job: ListAutomation = fetch(runtime, account_id, LIST_AUTOMATION, job_id, LABEL)
    return job


def _one(runtime: Runtime, account_id: UUID, job_id: UUID, status: int = 200) -> Response:
    job = _job(runtime, account_id, job_id)
    return respond(job_view(job), status=status, version=job.version)


@router.get("", summary="List the list automation jobs")
def list_jobs(runtime: RuntimeDep, caller: Reader) -> Response:
    return respond([job_view(job) for job in runtime.catalogue.list_kind(caller.account_id, LIST_AUTOMATION)])


@router.post("", **doc(body=CreateListAutomation, status=201), summary="Create a list automation job")
async def create_job(
    request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command = await read_body(request, CreateListAutomation)

    def create() -> Response:
        done = handlers.automation.create(caller.account_id, command)
        settled(runtime, done)
        return _one(runtime, caller.account_id, done.id, status=201)

    return await run_in_threadpool(create)


@router.get("/{job_id}", summary="Get a list automation job")
def get_job(job_id: UUID, runtime: RuntimeDep, caller: Reader) -> Response:
    return _one(runtime, caller.account_id, job_id)


@router.patch(
    "/{job_id}", **doc(body=ChangeListAutomation), summary="Edit a job's schedule, SFTP options or rules"
)
async def change_job(
    job_id: UUID,
    request: Request,
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
    expected: IfMatch,
) -> Response:
    command = await read_body(request, ChangeListAutomation)

    def change() -> Response:
        settled(
            runtime, handlers.automation.change(caller.account_id, job_id, command, expected_version=expected)
        )
        return _one(runtime, caller.account_id, job_id)

    return await run_in_threadpool(change)


@router.delete("/{job_id}", status_code=204, summary="Delete a job (its activity stays in the log)")
def delete_job(
    job_id: UUID, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor, expected: IfMatch
) -> Response:
    settled(runtime, handlers.automation.delete(caller.account_id, job_id, expected_version=expected))
    return Response(status_code=204)


@router.post("/{job_id}/disable", summary="Stop the scheduled runs (the job stays; run now still works)")
def disable_job(job_id: UUID, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor) -> Response:
    settled(runtime, handlers.automation.disable(caller.account_id, job_id))
    return _one(runtime, caller.account_id, job_id)


@router.post("/{job_id}/enable", summary="Run on the schedule again, from now")
def enable_job(job_id: UUID, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor) -> Response:
    settled(runtime, handlers.automation.enable(caller.account_id, job_id))
    return _one(runtime, caller.account_id, job_id)


@router.post("/{job_id}/run", status_code=202, summary="Run now (the scheduled runs still happen)")
def run_now(job_id: UUID, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor) -> Response:
    done, run_id = handlers.automation.run_now(caller.account_id, job_id)
    settled(runtime, done)
    return respond({"run_id": str(run_id), "job_id": str(job_id)}, status=202)


@router.post(
    "/{job_id}/trust-host-key",
    **doc(body=TrustHostKey),
    summary="Pin the SFTP server's host key: the one given, or the one the server shows now",
)
async def trust_host_key(
    job_id: UUID, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command: TrustHostKey = await read_body(request, TrustHostKey)

    def trust() -> Response:
        job = _job(runtime, caller.account_id, job_id)
        fingerprint = command.fingerprint or _shown_key(job)
        settled(runtime, handlers.automation.trust_host_key(caller.account_id, job_id, fingerprint))
        return _one(runtime, caller.account_id, job_id)

    return await run_in_threadpool(trust)


def _shown_key(job: ListAutomation) -> str:
    try:
        _, shown = sftp.host_key(parse_location(job.source.location))
    except (ValueError, sftp.SftpError) as error:
        raise Problem(
            502, "SFTP server unavailable", f"could not read the server's host key: {error}"
        ) from None
    return shown


@router.get("/{job_id}/next-runs", summary="The job's next runs, in its schedule's zone and in UTC")
def next_runs(
    job_id: UUID,
    runtime: RuntimeDep,
    caller: Reader,
    count: Annotated[int, Query(ge=1, le=100)] = 5,
    after: datetime | None = None,
) -> Response:
    job = _job(runtime, caller.account_id, job_id)
    if after is not None and after.utcoffset() is None:
        # astimezone would read it in the server's own zone: the answer would depend on the host.
        raise Problem(
            422,
            "Invalid request",
            f"after {after.isoformat()} has no UTC offset: add one (Z, +01:00)",
            field="after",
        )
    start = (after or runtime.handlers.clock()).astimezone(UTC)
    zone = run_schedule.zone(job.schedule)
    runs = run_schedule.runs(job.schedule, start, count)
    return respond(
        {
            "time_zone": zone.key,
            "enabled": job.enabled,
            "runs": [NextRun(local=run.astimezone(zone).isoformat(), utc=run.isoformat()) for run in runs],
        }
    )


@router.get("/{job_id}/activity", summary="The job's runs, the latest first (start, end, result, message)")
def activity(
    job_id: UUID, runtime: RuntimeDep, caller: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> Response:
    _job(runtime, caller.account_id, job_id)
    return respond(runtime.automation_runs.runs(caller.account_id, job_id, limit=limit))
