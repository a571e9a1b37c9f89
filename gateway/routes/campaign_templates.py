"""/api/v1/campaign-templates: a dialing and a session profile with overrides."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from dialstream.bootstrap import Runtime
from domain.aggregate import apply_overrides
from domain.campaign_template import (
    CampaignTemplate,
    ChangeCampaignTemplate,
    CreateCampaignTemplate,
)
from gateway.deps import HandlersDep, IfMatch, Reader, RuntimeDep, Supervisor
from gateway.io import doc, read_body, respond
from gateway.views import fetch, respond_state, settled, view
from projections.catalogue import CAMPAIGN_TEMPLATE, DIALING_PROFILE, SESSION_PROFILE

router = APIRouter(prefix="/api/v1/campaign-templates", tags=["campaign templates"])


def effective(runtime: Runtime, template: CampaignTemplate) -> dict[str, Any]:
    """The settings the template dials with: its profiles' settings under its overrides."""
    dialing = runtime.catalogue.get(template.account_id, DIALING_PROFILE, template.dialing_profile_id)
    session = runtime.catalogue.get(template.account_id, SESSION_PROFILE, template.session_profile_id)
    return {
        "dialing": apply_overrides(dialing.settings, template.dialing_overrides) if dialing else None,
        "session": apply_overrides(session.settings, template.session_overrides) if session else None,
    }


def _one(runtime: Runtime, account_id: UUID, template_id: UUID, status: int = 200) -> Response:
    template = fetch(runtime, account_id, CAMPAIGN_TEMPLATE, template_id, "campaign template")
    return respond_state(template, status=status, effective=effective(runtime, template))


@router.get("", **doc(response=list[CampaignTemplate]))
def list_templates(runtime: RuntimeDep, caller: Reader) -> Response:
    return respond([view(t) for t in runtime.catalogue.list_kind(caller.account_id, CAMPAIGN_TEMPLATE)])


@router.post("", **doc(body=CreateCampaignTemplate, response=CampaignTemplate, status=201))
async def create_template(
    request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Supervisor
) -> Response:
    command = await read_body(request, CreateCampaignTemplate)
    done = handlers.create_template(caller.account_id, command)
    settled(runtime, done)
    return _one(runtime, caller.account_id, done.id, status=201)


@router.get("/{template_id}", **doc(response=CampaignTemplate))
def get_template(template_id: UUID, runtime: RuntimeDep, caller: Reader) -> Response:
    return _one(runtime, caller.account_id, template_id)


@router.patch("/{template_id}", **doc(body=ChangeCampaignTemplate, response=CampaignTemplate))
async def change_template(
    template_id: UUID,
    request: Request,
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
    expected: IfMatch,
) -> Response:
    command = await read_body(request, ChangeCampaignTemplate)
    settled(
        runtime,
        handlers.change_template(caller.account_id, template_id, command, expected_version=expected),
    )
    return _one(runtime, caller.account_id, template_id)


@router.delete("/{template_id}", status_code=204)
def delete_template(
    template_id: UUID,
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Supervisor,
    expected: IfMatch,
) -> Response:
    settled(runtime, handlers.delete_template(caller.account_id, template_id, expected_version=expected))
    return Response(status_code=204)
