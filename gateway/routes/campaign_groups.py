"""/api/v1/campaign-groups: groups made from templates, and their start/pause/resume/stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

import msgspec
from fastapi import Response

from dialstream.bootstrap import Runtime
from domain.aggregate import apply_overrides
from domain.campaign_group import CampaignGroup, ChangeCampaignGroup, CreateCampaignGroup
from gateway.deps import HandlersDep, RuntimeDep, Supervisor
from gateway.io import doc
from gateway.routes.campaign_templates import effective as template_effective
from gateway.routes.resource import Resource
from gateway.views import settled
from projections.catalogue import CAMPAIGN_GROUP, CAMPAIGN_TEMPLATE


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
