"""A scripted campaign structure, built through the command handlers.

Used wherever two ways of reading the log must agree (replay vs live here; embedded
vs Kafka when the Kafka backbone lands).
"""

from __future__ import annotations

from uuid import UUID

from msgspec import structs

from dialstream.handlers import Handlers
from domain import (
    campaign_group,
    campaign_template,
    contact_list,
    dialing_profile,
    session_profile,
    suppression_list,
)
from schemas.campaigns import SessionOverrides
from schemas.profiles import DialingSettings, Pacing, SessionSettings
from schemas.suppression import SuppressionEntryKey


def build_campaign_structure(
    handlers: Handlers, account_id: UUID, *, suppression_lists: bool = False
) -> dict[str, UUID]:
    ids: dict[str, UUID] = {}
    ids["predictive"] = handlers.profiles.create(
        dialing_profile.KIND,
        account_id,
        dialing_profile.CreateDialingProfile(
            name="Predictive 3%",
            settings=DialingSettings(dialing_mode="predictive", pacing=Pacing(optimization_goal=3)),
        ),
    ).id
    ids["preview"] = handlers.profiles.create(
        dialing_profile.KIND,
        account_id,
        dialing_profile.CreateDialingProfile(
            name="Preview", settings=DialingSettings(dialing_mode="preview")
        ),
    ).id
    ids["voice"] = handlers.profiles.create(
        session_profile.KIND,
        account_id,
        session_profile.CreateSessionProfile(name="Voice", settings=SessionSettings(agent_group="Sales")),
    ).id
    ids["sms"] = handlers.profiles.create(
        session_profile.KIND,
        account_id,
        session_profile.CreateSessionProfile(
            name="SMS", settings=SessionSettings(channel="sms", agent_group="Texting")
        ),
    ).id
    ids["renewals"] = handlers.campaigns.create_template(
        account_id, campaign_template.CreateCampaignTemplate(name="Renewals")
    ).id
    ids["reminders"] = handlers.campaigns.create_template(
        account_id,
        campaign_template.CreateCampaignTemplate(
            name="Reminders", dialing_profile_id=ids["preview"], session_profile_id=ids["sms"]
        ),
    ).id
    for name in ("November", "December", "VIP"):
        ids[name] = handlers.lists.create(account_id, contact_list.CreateContactList(name=name)).id
    ids["texts"] = handlers.lists.create(
        account_id,
        contact_list.CreateContactList(
            name="Texts", settings=structs.replace(contact_list.ContactListSettings(), channel="sms")
        ),
    ).id
    ids["renewals-nov"] = handlers.campaigns.create_group(
        account_id,
        campaign_group.CreateCampaignGroup(
            name="Renewals Nov", template_id=ids["renewals"], contact_list_ids=[ids["November"], ids["VIP"]]
        ),
    ).id
    ids["renewals-dec"] = handlers.campaigns.create_group(
        account_id,
        campaign_group.CreateCampaignGroup(
            name="Renewals Dec",
            template_id=ids["renewals"],
            contact_list_ids=[ids["December"]],
            agent_group="Retention",
            session_overrides=SessionOverrides(trunk_group="TG2"),
        ),
    ).id
    ids["reminders-1"] = handlers.campaigns.create_group(
        account_id,
        campaign_group.CreateCampaignGroup(
            name="Reminder wave 1", template_id=ids["reminders"], contact_list_ids=[ids["texts"]]
        ),
    ).id
    for action in ("start", "pause", "resume"):
        handlers.campaigns.transition_group(account_id, ids["renewals-nov"], action)
    for action in ("start", "stop"):
        handlers.campaigns.transition_group(account_id, ids["reminders-1"], action)
    handlers.campaigns.change_group(
        account_id,
        ids["renewals-dec"],
        campaign_group.ChangeCampaignGroup(
            name="Renewals December", contact_list_ids=[ids["December"], ids["VIP"]]
        ),
    )
    handlers.campaigns.change_template(
        account_id, ids["renewals"], campaign_template.ChangeCampaignTemplate(name="Renewals 2026")
    )
    spare = handlers.lists.create(account_id, contact_list.CreateContactList(name="Spare")).id
    handlers.lists.archive(account_id, spare)
    handlers.campaigns.delete_group(account_id, ids["reminders-1"])
    if suppression_lists:
        _suppression_lists(handlers, account_id, ids)
    return ids


def _suppression_lists(handlers: Handlers, account_id: UUID, ids: dict[str, UUID]) -> None:
    """A required and an optional list, entries added, removed and expired, one archived."""
    create = suppression_list.CreateSuppressionList
    ids["dnc"] = handlers.suppression.create_list(account_id, create(name="Internal DNC", required=True)).id
    ids["partner-dnc"] = handlers.suppression.create_list(account_id, create(name="Partner DNC")).id
    entry = suppression_list.EntryInput
    handlers.suppression.add_entries(
        account_id,
        ids["dnc"],
        [
            entry(kind="phone", value="(312) 555-0143"),
            entry(kind="client_id", value="C7"),
            entry(kind="phone", value="x"),
        ],
    )
    handlers.suppression.add_entries(
        account_id, ids["partner-dnc"], [entry(kind="phone", value="+13125550150")]
    )
    handlers.suppression.remove_entries(account_id, ids["dnc"], [entry(kind="client_id", value="C7")])
    handlers.suppression.expire_entries(
        account_id, ids["partner-dnc"], [SuppressionEntryKey(kind="phone", value="+13125550150")]
    )
    handlers.suppression.add_entries(
        account_id, ids["partner-dnc"], [entry(kind="phone", value="+13125550151")]
    )
    handlers.suppression.select_lists(account_id, ids["renewals-nov"], [ids["partner-dnc"]])
    spare = handlers.suppression.create_list(account_id, create(name="Spare DNC")).id
    handlers.suppression.archive_list(account_id, spare)
