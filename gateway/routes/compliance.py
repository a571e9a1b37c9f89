"""/api/v1/compliance: pre-dial validation over HTTP, for dialers outside the process.

``POST /api/v1/compliance/validate`` takes one request (the record's fields; see
:class:`processors.compliance.predial.PreDialRequest`) and answers its verdict
``{"allowed", "reasons", "next_allowed"}``, or takes ``{"requests": [...]}`` (up to
:data:`MAX_BATCH`) and answers ``{"verdicts": [...]}`` in the same order, with one
suppression-index lookup for the whole batch. A denial is a 200 answer like an allowance; a
malformed request is a 422 naming the field (``requests[3].contact_info`` in a batch), and
no verdict is given for any request of that body. Without a validator in this process the
answer is 503: no verdict, so no call.

``account_id`` may be left out: it is the API key's account; another account's is 403.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Request, Response
from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.concurrency import run_in_threadpool

from domain.errors import RuleViolation
from domain.predial import Verdict
from gateway.deps import RuntimeDep, Supervisor
from gateway.io import respond, schema_ref
from gateway.problems import Problem
from gateway.views import predial
from processors.compliance.predial import PreDialRequest
from schemas.registry import field_path

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])

MAX_BATCH = 1000


class ValidateBatch(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    requests: Annotated[list[PreDialRequest], Meta(min_length=1, max_length=MAX_BATCH)]


class VerdictBatch(Struct, frozen=True, kw_only=True):
    verdicts: list[Verdict]


class _Shape(Struct):
    """Only to tell a batch from a single request without decoding either."""

    requests: msgspec.Raw | UnsetType = UNSET


def _decode(raw: bytes, struct: type[Struct]) -> Struct:
    try:
        value: Struct = msgspec.json.decode(raw, type=struct)
    except msgspec.ValidationError as error:
        raise Problem(422, "Invalid request", str(error), field=field_path(error)) from error
    except msgspec.DecodeError as error:
        raise Problem(400, "Malformed JSON", f"the body is not valid JSON: {error}") from error
    return value


def _checked(request: PreDialRequest, caller_account: UUID, prefix: str) -> PreDialRequest:
    if request.account_id is None:
        request = msgspec.structs.replace(request, account_id=caller_account)
    elif request.account_id != caller_account:
        raise Problem(
            403,
            "Forbidden",
            "an API key validates records of its own account only",
            field=f"{prefix}account_id",
        )
    try:
        request.check()
    except RuleViolation as error:
        raise Problem(422, "Invalid request", error.detail, field=f"{prefix}{error.field}") from error
    return request


def _either(first: type[Struct], second: type[Struct]) -> dict[str, Any]:
    return {"application/json": {"schema": {"anyOf": [schema_ref(first), schema_ref(second)]}}}


@router.post(
    "/validate",
    status_code=200,
    openapi_extra={"requestBody": {"required": True, "content": _either(PreDialRequest, ValidateBatch)}},
    responses={200: {"description": "A verdict, or one per request in order", "content": _either(Verdict, VerdictBatch)}},
)
async def validate(request: Request, runtime: RuntimeDep, caller: Supervisor) -> Response:
    """May the dialer make these attempts now? Fails closed: a missing answer is a denial."""
    if "json" not in request.headers.get("content-type", ""):
        raise Problem(415, "Unsupported media type", "send the body as application/json", field="Content-Type")
    raw = await request.body()
    shape = _decode(raw, _Shape)
    assert isinstance(shape, _Shape)
    if shape.requests is UNSET:
        single = _decode(raw, PreDialRequest)
        assert isinstance(single, PreDialRequest)
        requests = [_checked(single, caller.account_id, "")]
    else:
        batch = _decode(raw, ValidateBatch)
        assert isinstance(batch, ValidateBatch)
        requests = [
            _checked(item, caller.account_id, f"requests[{index}].") for index, item in enumerate(batch.requests)
        ]
    validator = predial(runtime)
    verdicts = await run_in_threadpool(validator.validate_many, requests)
    if shape.requests is UNSET:
        return respond(verdicts[0])
    return respond(VerdictBatch(verdicts=verdicts))
