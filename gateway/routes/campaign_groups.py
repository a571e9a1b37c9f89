"""/api/v1/campaign-groups: groups made from templates, and their start/pause/resume/stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

import msgspec
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from dialstream.bootstrap import Runtime
from domain.aggregate import apply_overrides
from domain.campaign_group import CampaignGroup, ChangeCampaignGroup, CreateCampaignGroup
from gateway.deps import HandlersDep, RuntimeDep, Supervisor
from gateway.io import doc, read_body
from gateway.routes.campaign_templates import effective as template_effective
from gateway.routes.resource import Resource
from gateway.views import settled
from projections.catalogue import CAMPAIGN_GROUP, CAMPAIGN_TEMPLATE
from schemas.profiles import DialingMode


def effective(runtime: Runtime, group: CampaignGroup) -> dict[str, Any]:
    template = runtime.catalogue.get(group.account_id, CAMPAIGN_TEMPLATE, group.template_id)
    if template is None:
        return {"dialing": None, "session": None}
    inherited = template_effective(runtime, template)
    dialing, session = inherited["dialing"], inherited["session"]
    return {
        "dialing": apply_overrides(dialing, group.dialing_overrides) if dialing else None,
        # The group's own agent group is the one it uses, whatever the profile says.
        "session": msgspec.structs.replace(
            apply_overrides(session, group.session_overrides), agent_group=group.agent_group
        )
        if session
        else None,
    }


def describe(runtime: Runtime, account_id: UUID) -> Callable[[Any], dict[str, Any]]:
    return lambda group: {"effective": effective(runtime, group)}


resource = Resource(
    prefix="/api/v1/campaign-groups",
    tag="campaign groups",
    kind=CAMPAIGN_GROUP,
    label="campaign group",
    state_type=CampaignGroup,
    create=CreateCampaignGroup,
    change=ChangeCampaignGroup,
    writer=Supervisor,
    id_name="group_id",
    create_with=lambda handlers, account_id, command: handlers.campaigns.create_group(account_id, command),
    change_with=lambda handlers, account_id, group_id, command, expected: handlers.campaigns.change_group(
        account_id, group_id, command, expected_version=expected
    ),
    delete_with=lambda handlers, account_id, group_id, expected: handlers.campaigns.delete_group(
        account_id, group_id, expected_version=expected
    ),
    describe=describe,
)
router = resource.router


class SwitchDialingMode(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    dialing_mode: DialingMode


# Declared before "/{group_id}/{action}", which would otherwise take "dialing-mode" as an action.
@router.post(
    "/{group_id}/dialing-mode",
    summary="Switch the group's dialing mode (predictive ⇄ progressive take effect at once while it runs)",
    **doc(body=SwitchDialingMode, response=CampaignGroup),
)
async def switch_dialing_mode(
    group_id: UUID, request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command: SwitchDialingMode = await read_body(request, SwitchDialingMode)

    def switch() -> Response:
        settled(runtime, handlers.campaigns.switch_dialing_mode(caller.account_id, group_id, command.dialing_mode))
        return resource.respond_one(runtime, caller.account_id, group_id)

    return await run_in_threadpool(switch)


@router.post("/{group_id}/{action}", **doc(response=CampaignGroup))
def transition(
    group_id: UUID,
    action: Literal["start", "pause", "resume", "stop"],
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
) -> Response:
    settled(runtime, handlers.campaigns.transition_group(caller.account_id, group_id, action))
    return resource.respond_one(runtime, caller.account_id, group_id)
