"""/api/v1/campaign-templates: a dialing and a session profile with overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from dialstream.bootstrap import Runtime
from domain.campaign_template import (
    CampaignTemplate,
    ChangeCampaignTemplate,
    CreateCampaignTemplate,
    effective_dialing,
    effective_session,
)
from gateway.deps import Supervisor
from gateway.routes.resource import Resource
from projections.catalogue import CAMPAIGN_TEMPLATE, DIALING_PROFILE, SESSION_PROFILE


def effective(runtime: Runtime, template: CampaignTemplate) -> dict[str, Any]:
    """The settings the template dials with: its profiles' settings under its overrides."""
    dialing = runtime.catalogue.get(template.account_id, DIALING_PROFILE, template.dialing_profile_id)
    session = runtime.catalogue.get(template.account_id, SESSION_PROFILE, template.session_profile_id)
    return {
        "dialing": effective_dialing(template, dialing) if dialing else None,
        "session": effective_session(template, session) if session else None,
    }


def describe(runtime: Runtime, account_id: UUID) -> Callable[[Any], dict[str, Any]]:
    return lambda template: {"effective": effective(runtime, template)}


resource = Resource(
    prefix="/api/v1/campaign-templates",
    tag="campaign templates",
    kind=CAMPAIGN_TEMPLATE,
    label="campaign template",
    state_type=CampaignTemplate,
    create=CreateCampaignTemplate,
    change=ChangeCampaignTemplate,
    writer=Supervisor,
    id_name="template_id",
    create_with=lambda handlers, account_id, command: handlers.campaigns.create_template(account_id, command),
    change_with=lambda handlers, account_id, template_id, command, expected: handlers.campaigns.change_template(
        account_id, template_id, command, expected_version=expected
    ),
    delete_with=lambda handlers, account_id, template_id, expected: handlers.campaigns.delete_template(
        account_id, template_id, expected_version=expected
    ),
    describe=describe,
)
router = resource.router
