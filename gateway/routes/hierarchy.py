"""/api/v1/hierarchy: templates, their groups and the groups' lists, with status."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway.deps import Reader, RuntimeDep
from gateway.io import doc, respond
from projections.hierarchy import Hierarchy

router = APIRouter(prefix="/api/v1/hierarchy", tags=["dashboard"])


@router.get("", **doc(response=Hierarchy))
def get_hierarchy(runtime: RuntimeDep, caller: Reader) -> Response:
    return respond(runtime.hierarchy.tree(caller.account_id))
