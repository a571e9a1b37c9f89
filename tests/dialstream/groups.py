"""A running campaign group made through the handlers, for tests and benchmarks that need one:
a dialing profile, a session profile, a template and a group dialling one new contact list."""

from __future__ import annotations

from uuid import UUID

from dialstream.handlers import Handlers
from domain import campaign_group, campaign_template, contact_list, dialing_profile, session_profile
from schemas.profiles import DialingSettings, SessionSettings


def running_group(
    handlers: Handlers,
    account_id: UUID,
    *,
    dialing: DialingSettings | None = None,
    agent_group: str = "Sales",
    list_name: str = "List",
    start: bool = True,
) -> tuple[UUID, UUID]:
    """(contact list id, campaign group id) of a new group dialling a new list; started."""
    profile = handlers.profiles.create(
        dialing_profile.KIND,
        account_id,
        dialing_profile.CreateDialingProfile(name=f"{list_name} dialing", settings=dialing or DialingSettings()),
    ).id
    session = handlers.profiles.create(
        session_profile.KIND,
        account_id,
        session_profile.CreateSessionProfile(name=f"{list_name} session", settings=SessionSettings(agent_group=agent_group)),
    ).id
    template = handlers.campaigns.create_template(
        account_id,
        campaign_template.CreateCampaignTemplate(
            name=f"{list_name} template", dialing_profile_id=profile, session_profile_id=session
        ),
    ).id
    list_id = handlers.lists.create(account_id, contact_list.CreateContactList(name=list_name)).id
    group = handlers.campaigns.create_group(
        account_id,
        campaign_group.CreateCampaignGroup(name=f"{list_name} group", template_id=template, contact_list_ids=[list_id]),
    ).id
    if start:
        handlers.campaigns.transition_group(account_id, group, "start")
    return list_id, group
