"""Contact list: retention choices, custom time zones, no archiving while in a campaign group."""

from __future__ import annotations

import pytest

from domain import contact_list
from domain.contact_list import ChangeContactList, CreateContactList
from domain.errors import DomainError, InUse, NameTaken, NotFound, RuleViolation
from schemas.lists import (
    ContactListArchived,
    ContactListAssigned,
    ContactListChanged,
    ContactListCreated,
    ContactListSettings,
    ContactListUnassigned,
    CustomTimeZone,
    Retention,
    TimeZoneOptions,
)
from tests.domain.builders import (
    ACCOUNT_ID,
    EARLIER,
    GROUP_ID,
    LIST_2_ID,
    LIST_ID,
    NOW,
    OTHER_GROUP_ID,
    a_claim,
    a_list,
    assert_events,
    claim_event,
    ev,
    expected,
    given,
    refused,
    release_event,
    stream,
)

KIND = contact_list.KIND
NAME = "March arrears"
CUSTOM_ZONES = TimeZoneOptions(
    source="contact_then_device",
    use_custom_time_zones=True,
    custom_time_zones=[
        CustomTimeZone(country_code="US", area_code="312", time_zone="America/Chicago"),
        CustomTimeZone(country_code="CA", area_code="604", time_zone="America/Vancouver"),
    ],
)
SETTINGS = ContactListSettings(
    channel="voice", time_zones=CUSTOM_ZONES, retention=Retention(days=90, scope="not_in_progress")
)


def create(settings=SETTINGS, *, name=NAME, claim=None):
    return contact_list.create(
        CreateContactList(name=name, description="Accounts 30+ days overdue", settings=settings),
        list_id=LIST_ID, account_id=ACCOUNT_ID, claim=claim, now=NOW,
    )


def change(command, *, state=None, new_claim=None, old_claim=None):
    return contact_list.change(
        a_list() if state is None else state, command, new_claim=new_claim, old_claim=old_claim, now=NOW
    )


def with_retention(**fields):
    return ContactListSettings(retention=Retention(**fields))


def with_zone(time_zone, index=1):
    zones = [CustomTimeZone(country_code="US", area_code="212", time_zone="America/New_York")] * index
    zones.append(CustomTimeZone(country_code="US", area_code="808", time_zone=time_zone))
    return ContactListSettings(time_zones=TimeZoneOptions(use_custom_time_zones=True, custom_time_zones=zones))


# Creating -----------------------------------------------------------------------------


def test_creating_a_list_claims_its_name():
    assert_events(
        create(name=" March  arrears "),
        [
            claim_event(KIND, NAME, LIST_ID),
            expected(
                LIST_ID, 1, ContactListCreated, name=NAME,
                description="Accounts 30+ days overdue", settings=SETTINGS,
            ),
        ],
    )


def test_a_list_name_is_unique():
    with refused(NameTaken, "name"):
        create(claim=a_claim(KIND, "march ARREARS", LIST_2_ID))


@pytest.mark.parametrize("name", ["   ", "x" * 201])
def test_a_list_needs_a_valid_name(name):
    with refused(RuleViolation, "name"):
        create(name=name)


@pytest.mark.parametrize("days", [None, 0, 1, 7, 31, 45, 60, 90, 180, 360])
def test_every_retention_choice_of_the_product_is_accepted(days):
    settings = with_retention(days=days)

    assert create(settings)[-1].settings == settings


@pytest.mark.parametrize("days", [-1, 32, 44, 46, 100, 365, 3600])
def test_other_retention_periods_are_refused(days):
    with refused(RuleViolation, "settings.retention.days"):
        create(with_retention(days=days))


@pytest.mark.parametrize("rule", ["", "   "])
def test_retention_by_selection_needs_a_rule(rule):
    with refused(RuleViolation, "settings.retention.selection_rule"):
        create(with_retention(days=30, scope="selection", selection_rule=rule))


def test_retention_by_selection_with_a_rule_is_accepted():
    settings = with_retention(days=30, scope="selection", selection_rule="record_status = 'stale'")

    assert create(settings)[-1].settings == settings


@pytest.mark.parametrize("scope", ["completed", "not_in_progress", "all"])
def test_other_retention_scopes_need_no_rule(scope):
    assert create(with_retention(days=1, scope=scope))[-1].settings.retention.scope == scope


@pytest.mark.parametrize("time_zone", ["Mars/Olympus_Mons", "EST5", "america/chicago", "Chicago", "+05:00"])
def test_a_custom_time_zone_must_be_an_iana_zone(time_zone):
    with refused(RuleViolation, "settings.time_zones.custom_time_zones[1].time_zone") as info:
        create(with_zone(time_zone))

    assert time_zone in info.value.detail


def test_the_first_bad_custom_time_zone_is_named():
    with refused(RuleViolation, "settings.time_zones.custom_time_zones[3].time_zone"):
        create(with_zone("Nowhere/Else", index=3))


@pytest.mark.parametrize("time_zone", ["UTC", "Europe/London", "Asia/Kolkata", "America/Argentina/Buenos_Aires"])
def test_iana_custom_time_zones_are_accepted(time_zone):
    settings = with_zone(time_zone)

    assert create(settings)[-1].settings == settings


def test_custom_time_zones_are_checked_even_when_not_in_use():
    settings = ContactListSettings(
        time_zones=TimeZoneOptions(
            use_custom_time_zones=False,
            custom_time_zones=[CustomTimeZone(country_code="US", area_code="1", time_zone="Bad/Zone")],
        )
    )

    with refused(RuleViolation, "settings.time_zones.custom_time_zones[0].time_zone"):
        create(settings)


# Changing -----------------------------------------------------------------------------


def test_changing_settings_and_description():
    events = change(ChangeContactList(description="Refreshed daily", settings=SETTINGS))

    assert_events(
        events,
        [expected(LIST_ID, 2, ContactListChanged, name=NAME, description="Refreshed daily", settings=SETTINGS)],
    )


def test_renaming_a_list_moves_its_name_claim():
    events = change(ChangeContactList(name="April arrears"), old_claim=a_claim(KIND, NAME, LIST_ID))

    assert_events(
        events,
        [
            claim_event(KIND, "April arrears", LIST_ID),
            release_event(KIND, NAME, LIST_ID),
            expected(
                LIST_ID, 2, ContactListChanged, name="April arrears", description="",
                settings=ContactListSettings(),
            ),
        ],
    )


def test_renaming_to_a_taken_name_is_refused():
    with refused(NameTaken, "name"):
        change(ChangeContactList(name="April arrears"), new_claim=a_claim(KIND, "April arrears", LIST_2_ID))


def test_changed_settings_are_validated_like_new_ones():
    with refused(RuleViolation, "settings.retention.days"):
        change(ChangeContactList(settings=with_retention(days=400)))
    with refused(RuleViolation, "settings.time_zones.custom_time_zones[1].time_zone"):
        change(ChangeContactList(settings=with_zone("Atlantis/Capital")))


def test_a_change_that_changes_nothing_records_nothing():
    assert change(ChangeContactList()) == []
    assert change(ChangeContactList(name=NAME, description="", settings=ContactListSettings())) == []


def test_a_list_in_a_campaign_group_can_change_retention():
    in_group = a_list(groups=[GROUP_ID])

    events = change(ChangeContactList(settings=with_retention(days=30)), state=in_group)

    assert [type(event) for event in events] == [ContactListChanged]


def test_the_channel_of_a_list_in_a_campaign_group_cannot_change():
    # A campaign group dials one channel and every one of its lists must be for that channel;
    # switching a member list to SMS would leave a voice group with an SMS list.
    in_group = a_list(groups=[GROUP_ID])

    with pytest.raises(DomainError) as info:
        change(ChangeContactList(settings=ContactListSettings(channel="sms")), state=in_group)

    assert info.value.field == "settings.channel"


def test_the_channel_of_a_list_outside_any_group_can_change():
    events = change(ChangeContactList(settings=ContactListSettings(channel="email")))

    assert events[-1].settings.channel == "email"


@pytest.mark.parametrize("state", [None, "archived"])
def test_a_missing_or_archived_list_cannot_be_changed(state):
    with refused(NotFound, "id"):
        contact_list.change(
            a_list(archived=True) if state else None, ChangeContactList(description="x"),
            new_claim=None, old_claim=None, now=NOW,
        )


# Archiving ----------------------------------------------------------------------------


def test_archiving_a_list_releases_its_name():
    events = contact_list.archive(a_list(), claim=a_claim(KIND, NAME, LIST_ID), now=NOW)

    assert_events(events, [release_event(KIND, NAME, LIST_ID), expected(LIST_ID, 2, ContactListArchived)])


def test_archiving_a_list_without_a_claim():
    assert_events(contact_list.archive(a_list(), claim=None, now=NOW), [expected(LIST_ID, 2, ContactListArchived)])


def test_a_list_in_a_campaign_group_cannot_be_archived():
    with refused(InUse, "id") as info:
        contact_list.archive(a_list(groups=[GROUP_ID, OTHER_GROUP_ID]), claim=None, now=NOW)

    assert "2 campaign group(s)" in info.value.detail


def test_a_list_that_left_its_groups_can_be_archived():
    history = stream(
        LIST_ID,
        ev(ContactListCreated, name=NAME, description="", settings=ContactListSettings()),
        ev(ContactListAssigned, campaign_group_id=GROUP_ID),
        ev(ContactListUnassigned, campaign_group_id=GROUP_ID),
    )

    events = contact_list.archive(given(contact_list.project, history), claim=None, now=NOW)

    assert_events(events, [expected(LIST_ID, 4, ContactListArchived)])


@pytest.mark.parametrize("state", [None, "archived"])
def test_a_missing_or_archived_list_cannot_be_archived(state):
    with refused(NotFound, "id"):
        contact_list.archive(a_list(archived=True) if state else None, claim=None, now=NOW)


# Membership of campaign groups --------------------------------------------------------


def test_assigning_a_list_to_a_group():
    assert_events(
        contact_list.assign(a_list(), GROUP_ID, field="contact_list_ids[0]", now=NOW),
        [expected(LIST_ID, 2, ContactListAssigned, campaign_group_id=GROUP_ID)],
    )


def test_assigning_a_list_to_its_own_group_again_records_nothing():
    assert contact_list.assign(a_list(groups=[GROUP_ID]), GROUP_ID, field="contact_list_ids[0]", now=NOW) == []


@pytest.mark.parametrize("state", [None, "archived"])
def test_a_missing_or_archived_list_cannot_be_assigned(state):
    with refused(NotFound, "contact_list_ids[4]"):
        contact_list.assign(a_list(archived=True) if state else None, GROUP_ID, field="contact_list_ids[4]", now=NOW)


def test_unassigning_a_list_from_a_group():
    assert_events(
        contact_list.unassign(a_list(groups=[GROUP_ID]), GROUP_ID, now=NOW),
        [expected(LIST_ID, 3, ContactListUnassigned, campaign_group_id=GROUP_ID)],
    )


def test_unassigning_from_a_group_it_is_not_in_records_nothing():
    assert contact_list.unassign(a_list(groups=[OTHER_GROUP_ID]), GROUP_ID, now=NOW) == []


# Folding ------------------------------------------------------------------------------


def test_folding_a_created_list():
    assert a_list(settings=SETTINGS) == contact_list.ContactList(
        id=LIST_ID, version=1, account_id=ACCOUNT_ID, created_on=EARLIER, modified_on=EARLIER,
        name=NAME, description="", settings=SETTINGS,
    )


def test_folding_changes_membership_and_archiving():
    history = stream(
        LIST_ID,
        ev(ContactListCreated, name=NAME, description="", settings=ContactListSettings()),
        ev(ContactListAssigned, campaign_group_id=GROUP_ID),
        ev(ContactListAssigned, campaign_group_id=OTHER_GROUP_ID),
        ev(ContactListUnassigned, campaign_group_id=GROUP_ID),
        ev(ContactListChanged, name="April arrears", description="New", settings=SETTINGS),
    )
    history += stream(
        LIST_ID, ev(ContactListUnassigned, campaign_group_id=OTHER_GROUP_ID), ev(ContactListArchived),
        start=6, when=NOW,
    )

    states = [given(contact_list.project, history[:n]) for n in range(1, len(history) + 1)]

    assert [state.campaign_group_ids for state in states] == [
        frozenset(), {GROUP_ID}, {GROUP_ID, OTHER_GROUP_ID}, {OTHER_GROUP_ID}, {OTHER_GROUP_ID},
        frozenset(), frozenset(),
    ]
    assert [state.archived for state in states] == [False] * 6 + [True]
    last = states[-1]
    assert (last.name, last.description, last.settings) == ("April arrears", "New", SETTINGS)
    assert (last.version, last.modified_on, last.deleted) == (7, NOW, True)


def test_events_before_creation_fold_to_nothing():
    assert given(contact_list.project, stream(LIST_ID, ev(ContactListArchived))) is None
