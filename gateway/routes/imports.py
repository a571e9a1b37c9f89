"""/api/v1/contact-lists/{id}/imports, /api/v1/suppression-lists/{id}/imports and /api/v1/imports:
upload files, follow jobs, get error reports."""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dialstream.bootstrap import Runtime
from dialstream.handlers.imports import ImportOptions
from domain.errors import DomainError
from domain.import_job import ImportJob
from gateway import uploads
from gateway.deps import HandlersDep, Reader, RuntimeDep, Supervisor
from gateway.io import respond
from gateway.problems import Problem
from gateway.views import settled
from processors.imports.uploads import UPLOADS_DIR
from projections.catalogue import CONTACT_LIST

router = APIRouter(tags=["imports"])
ListId = Annotated[UUID, Path(alias="list_id")]
SuppressionListId = Annotated[UUID, Path(alias="suppression_list_id")]
JobId = Annotated[UUID, Path(alias="job_id")]
MAX_UPLOAD_BYTES = 50 * 1024**3


def job_view(job: ImportJob) -> dict[str, Any]:
    body: dict[str, Any] = msgspec.to_builtins(job)
    rules = body.pop("rules")
    body.pop("stored_as", None)
    body["append_type"] = rules["append_type"]
    body["rules"] = rules
    body["progress"] = (
        1.0 if job.status == "completed" else round(job.offset / job.size, 4) if job.size else 0.0
    )
    body["complete"] = job.status == "completed"
    body["errors_url"] = f"/api/v1/imports/{job.id}/errors"
    return body


def _job(runtime: Runtime, account_id: UUID, job_id: UUID) -> ImportJob:
    job = runtime.import_jobs.get(account_id, job_id)
    if job is None:
        raise Problem(404, "Not found", f"import job {job_id} not found", field="job_id")
    return job


def _options(fields: dict[str, str]) -> ImportOptions:
    known = {name for name in ImportOptions.__struct_fields__}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise Problem(
            422,
            "Invalid upload",
            f"unknown form field {unknown[0]!r}; known: file, {', '.join(sorted(known))}",
            field=unknown[0],
        )
    try:
        return msgspec.convert({k: v for k, v in fields.items() if v != ""}, ImportOptions, strict=False)
    except msgspec.ValidationError as error:
        raise Problem(422, "Invalid upload", str(error)) from None


@router.post(
    "/api/v1/contact-lists/{list_id}/imports",
    status_code=202,
    summary="Upload a file into a contact list",
    description="multipart/form-data: a part `file`, and optional `append_type` (new_list_only, "
    "append_only, append_and_update, flush_and_append), `upload_rule_id`, `specification_file_id` "
    "or `data_mapping_id`. The file streams to disk; the job runs in the background: follow it at "
    "the `Location` returned.",
)
async def upload(
    list_id: ListId, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    if runtime.catalogue.get(caller.account_id, CONTACT_LIST, list_id) is None:
        raise Problem(404, "Not found", f"contact list {list_id} not found", field="list_id")
    return await _upload(list_id, request, runtime, caller.account_id, handlers.imports.request_import)


@router.post(
    "/api/v1/suppression-lists/{suppression_list_id}/imports",
    status_code=202,
    summary="Upload a file of entries into a suppression list",
    description="multipart/form-data: a part `file` whose `phone`, `client_id` and `email` columns "
    "(by header name, or as a data mapping or specification file maps `contact_info` and "
    "`client_id`) hold the entries, and optional `append_type` (new_list_only, append_only "
    "(default: entries already in the list are left as they are), append_and_update (they are "
    "added again, which restarts their retention), flush_and_append (the list's entries are "
    "removed first)), `upload_rule_id`, `specification_file_id` or `data_mapping_id`. Follow the "
    "job at the `Location` returned; bad cells are rejected rows of its error report.",
)
async def upload_entries(
    list_id: SuppressionListId, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    if runtime.suppression_lists.get(caller.account_id, list_id) is None:
        raise Problem(404, "Not found", f"suppression list {list_id} not found", field="suppression_list_id")
    return await _upload(list_id, request, runtime, caller.account_id, handlers.imports.request_suppression_import)


async def _upload(
    list_id: UUID,
    request: Request,
    runtime: Runtime,
    account_id: UUID,
    request_job: Callable[..., Any],
) -> Response:
    """Stream the upload to disk, then request its job (``request_job``) and answer with it.

    The import runner deletes the file once the job is over (see processors.imports.uploads).
    """
    job_id = uuid.uuid4()
    folder = runtime.settings.data_dir / UPLOADS_DIR / str(job_id)
    try:
        received = await uploads.receive(
            request.headers.get("content-type"),
            request.stream(),
            folder / "upload",
            max_bytes=MAX_UPLOAD_BYTES,
        )
        options = _options(received.fields)

        def request_and_settle() -> Response:
            done = request_job(
                account_id,
                list_id,
                job_id=job_id,
                file_name=received.file_name,
                stored_as=f"{UPLOADS_DIR}/{job_id}/upload",
                size=received.size,
                options=options,
            )
            settled(runtime, done)
            job = _job(runtime, account_id, job_id)
            response = respond(job_view(job), status=202, version=job.version)
            response.headers["Location"] = f"/api/v1/imports/{job_id}"
            return response

        return await run_in_threadpool(request_and_settle)
    except (Problem, DomainError, msgspec.ValidationError):
        shutil.rmtree(folder, ignore_errors=True)
        raise


@router.get("/api/v1/imports/{job_id}", summary="An import job: status, progress and counts")
def get_job(job_id: JobId, runtime: RuntimeDep, caller: Reader) -> Response:
    job = _job(runtime, caller.account_id, job_id)
    return respond(job_view(job), version=job.version)


@router.get("/api/v1/contact-lists/{list_id}/imports", summary="The import jobs of a contact list")
def list_jobs(list_id: ListId, runtime: RuntimeDep, caller: Reader) -> Response:
    if runtime.catalogue.get(caller.account_id, CONTACT_LIST, list_id) is None:
        raise Problem(404, "Not found", f"contact list {list_id} not found", field="list_id")
    return respond([job_view(job) for job in runtime.import_jobs.of_list(caller.account_id, list_id)])


@router.get(
    "/api/v1/suppression-lists/{suppression_list_id}/imports", summary="The entry files of a suppression list"
)
def list_entry_jobs(list_id: SuppressionListId, runtime: RuntimeDep, caller: Reader) -> Response:
    if runtime.suppression_lists.get(caller.account_id, list_id) is None:
        raise Problem(404, "Not found", f"suppression list {list_id} not found", field="suppression_list_id")
    return respond([job_view(job) for job in runtime.import_jobs.of_list(caller.account_id, list_id)])


@router.get(
    "/api/v1/imports/{job_id}/errors",
    summary="The job's error report: every rejected row, as CSV",
    response_class=StreamingResponse,
)
def error_report(job_id: JobId, runtime: RuntimeDep, caller: Reader) -> StreamingResponse:
    job = _job(runtime, caller.account_id, job_id)
    runtime.wait_for_head(10.0)
    name = job.file_name.rsplit(".", 1)[0] or "import"
    return StreamingResponse(
        _csv_rows(runtime, job.id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-errors.csv"'},
    )


def _csv_rows(runtime: Runtime, job_id: UUID) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "field", "reason", "raw"])
    for row in runtime.import_jobs.rejections(job_id):
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
