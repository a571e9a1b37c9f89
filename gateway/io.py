"""msgspec in and out of HTTP: strict request bodies, fast responses, and their OpenAPI schemas.

Commands are msgspec structs in ``domain/``; the same structs document the API, so there
is one definition of every field and its limits.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import Request, Response

from gateway.problems import Problem
from schemas.registry import field_path

_components: dict[str, Any] = {}
_encoder = msgspec.json.Encoder()
_REF = "#/components/schemas/{name}"


def schema_ref(struct: Any) -> dict[str, Any]:
    (schema,), components = msgspec.json.schema_components([struct], ref_template=_REF)
    _components.update(components)
    return schema


def components() -> dict[str, Any]:
    return dict(_components)


def doc(body: Any = None, response: Any = None, status: int = 200) -> dict[str, Any]:
    """Route keyword arguments documenting a msgspec request body and response."""
    extra: dict[str, Any] = {}
    if body is not None:
        extra["openapi_extra"] = {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref(body)}},
            }
        }
    if response is not None:
        extra["responses"] = {
            status: {
                "description": "OK",
                "content": {"application/json": {"schema": schema_ref(response)}},
            }
        }
    extra["status_code"] = status
    return extra


async def read_body(request: Request, struct: type[Any]) -> Any:
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type:
        raise Problem(
            415, "Unsupported media type", "send the body as application/json", field="Content-Type"
        )
    raw = await request.body()
    try:
        return msgspec.json.decode(raw, type=struct)
    except msgspec.ValidationError as error:
        raise Problem(422, "Invalid request", str(error), field=field_path(error)) from error
    except msgspec.DecodeError as error:
        raise Problem(400, "Malformed JSON", f"the body is not valid JSON: {error}") from error


def respond(value: Any, *, status: int = 200, version: int | None = None) -> Response:
    headers = {"ETag": f'"{version}"'} if version is not None else None
    return Response(
        _encoder.encode(value), status_code=status, media_type="application/json", headers=headers
    )
