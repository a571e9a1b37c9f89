"""/api/v1/campaign-groups: groups made from templates, and their start/pause/resume/stop."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import msgspec
from fastapi import APIRouter, Request, Response

from dialstream.bootstrap import Runtime
from domain.aggregate import apply_overrides
from domain.campaign_group import CampaignGroup, ChangeCampaignGroup, CreateCampaignGroup
from gateway.deps import HandlersDep, IfMatch, Reader, RuntimeDep, Supervisor
from gateway.io import doc, read_body, respond
from gateway.routes.campaign_templates import effective as template_effective
from gateway.views import fetch, respond_state, settled, view
from projections.catalogue import CAMPAIGN_GROUP, CAMPAIGN_TEMPLATE

router = APIRouter(prefix="/api/v1/campaign-groups", tags=["campaign groups"])


def effective(runtime: Runtime, group: CampaignGroup) -> dict[str, Any]:
    template = runtime.catalogue.get(group.account_id, CAMPAIGN_TEMPLATE, group.template_id)
    if template is None:
        return {"dialing": None, "session": None}
    inherited = template_effective(runtime, template)
    return {
        "dialing": apply_overrides(inherited["dialing"], group.dialing_overrides)
        if inherited["dialing"]
        else None,
        "session": msgspec.structs.replace(
            apply_overrides(inherited["session"], group.session_overrides), agent_group=group.agent_group
        )
        if inherited["session"]
        else None,
    }


def _one(runtime: Runtime, account_id: UUID, group_id: UUID, status: int = 200) -> Response:
    group = fetch(runtime, account_id, CAMPAIGN_GROUP, group_id, "campaign group")
    return respond_state(group, status=status, effective=effective(runtime, group))


@router.get("", **doc(response=list[CampaignGroup]))
def list_groups(runtime: RuntimeDep, caller: Reader) -> Response:
    return respond([view(g) for g in runtime.catalogue.list_kind(caller.account_id, CAMPAIGN_GROUP)])


@router.post("", **doc(body=CreateCampaignGroup, response=CampaignGroup, status=201))
async def create_group(
    request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command = await read_body(request, CreateCampaignGroup)
    done = handlers.create_group(caller.account_id, command)
    settled(runtime, done)
    return _one(runtime, caller.account_id, done.id, status=201)


@router.get("/{group_id}", **doc(response=CampaignGroup))
def get_group(group_id: UUID, runtime: RuntimeDep, caller: Reader) -> Response:
    return _one(runtime, caller.account_id, group_id)


@router.patch("/{group_id}", **doc(body=ChangeCampaignGroup, response=CampaignGroup))
async def change_group(
    group_id: UUID,
    request: Request,
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
    expected: IfMatch,
) -> Response:
    command = await read_body(request, ChangeCampaignGroup)
    settled(
        runtime,
        handlers.change_group(caller.account_id, group_id, command, expected_version=expected),
    )
    return _one(runtime, caller.account_id, group_id)


@router.delete("/{group_id}", status_code=204)
def delete_group(
    group_id: UUID,
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
    expected: IfMatch,
) -> Response:
    settled(runtime, handlers.delete_group(caller.account_id, group_id, expected_version=expected))
    return Response(status_code=204)


@router.post("/{group_id}/{action}", **doc(response=CampaignGroup))
def transition(
    group_id: UUID,
    action: Literal["start", "pause", "resume", "stop"],
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
) -> Response:
    settled(runtime, handlers.transition_group(caller.account_id, group_id, action))
    return _one(runtime, caller.account_id, group_id)
