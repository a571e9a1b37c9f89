"""/api/v1/contact-lists/{id}/export: a contact list as CSV, streamed (the columns and rows of
:mod:`dialstream.queries.list_export`). A selection rule is parsed before the first byte (a
bad one is a 422 naming ``selection_rule``).
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from dialstream.queries.list_export import list_csv
from domain.selection import parse
from gateway.deps import Reader, RuntimeDep
from gateway.problems import Problem
from projections.catalogue import CONTACT_LIST

router = APIRouter(tags=["contact lists"])
ListId = Annotated[UUID, Path(alias="list_id")]


@router.get(
    "/api/v1/contact-lists/{list_id}/export",
    summary="Export a contact list as CSV",
    description="Streams the list's records as `text/csv` (UTF-8): the Genesys calling-list "
    "columns (`client_id`, `contact_info`, …, `tz`, …, `state`; codes as numbers, times as "
    "epoch seconds) then the custom fields, sorted by name. `selection_rule` keeps the "
    "records it selects; `use_labels` heads the custom fields with their user-defined labels.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The list as CSV"}},
)
def export_list(
    list_id: ListId,
    runtime: RuntimeDep,
    caller: Reader,
    selection_rule: Annotated[str, Query(description="Only the records it selects")] = "",
    use_labels: Annotated[bool, Query(description="Custom fields headed by their labels")] = False,
) -> StreamingResponse:
    contact_list = runtime.catalogue.get(caller.account_id, CONTACT_LIST, list_id)
    if contact_list is None:
        raise Problem(404, "Not found", f"contact list {list_id} not found", field="list_id")
    rule = parse(selection_rule)  # SelectionError: 422 naming selection_rule, before any byte
    if not runtime.wait_for_head():
        raise Problem(
            503,
            "Read models behind",
            "the read models have not caught up with the latest changes yet; export again shortly",
        )
    return StreamingResponse(
        list_csv(runtime.records, list_id, None if rule.selects_all else rule, use_labels=use_labels),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(f"{contact_list.name}.csv")},
    )


_CONTROL_OR_PATH = re.compile(r"[\x00-\x1f\x7f/\\]")
_NOT_PLAIN_ASCII = re.compile(r'[^\x20-\x7e]|"')


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact name in ``filename*`` (RFC 6266);
    control characters and path separators become ``_`` in both."""
    file_name = _CONTROL_OR_PATH.sub("_", file_name)
    fallback = _NOT_PLAIN_ASCII.sub("_", file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"
