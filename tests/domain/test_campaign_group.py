"""Campaign group: agent group, contact lists of its channel, and its lifecycle.

Lifecycle: loaded -> running <-> paused -> stopped, and a stopped group may start again.
"""

from __future__ import annotations

import itertools

import pytest

from domain import campaign_group
from domain.campaign_group import ChangeCampaignGroup, CreateCampaignGroup
from domain.errors import DomainError, InvalidTransition, NameTaken, NotFound, RuleViolation
from schemas.campaigns import (
    CampaignGroupChanged,
    CampaignGroupCreated,
    CampaignGroupDeleted,
    CampaignGroupPaused,
    CampaignGroupResumed,
    CampaignGroupStarted,
    CampaignGroupStopped,
    CampaignTemplateReferenced,
    CampaignTemplateReleased,
    DialingOverrides,
    SessionOverrides,
)
from schemas.lists import ContactListAssigned, ContactListSettings, ContactListUnassigned
from schemas.profiles import Pacing
from tests.domain.builders import (
    ACCOUNT_ID,
    EARLIER,
    GROUP_ID,
    LIST_2_ID,
    LIST_3_ID,
    LIST_ID,
    NOW,
    OTHER_GROUP_ID,
    STATUS_PATH,
    TEMPLATE_ID,
    a_claim,
    a_group,
    a_list,
    a_template,
    assert_events,
    claim_event,
    ev,
    expected,
    given,
    refused,
    release_event,
    stream,
)

KIND = campaign_group.KIND
NAME = "Collections Q2 - wave 1"
TEAM = "Collections Team A"
STATUSES = ("loaded", "running", "paused", "stopped")
ACTIONS = ("start", "pause", "resume", "stop")
SMS_LIST = ContactListSettings(channel="sms")
DIALING_OVERRIDES = DialingOverrides(pacing=Pacing(lines_per_agent=1.5))
SESSION_OVERRIDES = SessionOverrides(trunk_group="TG_Dallas")

# The lifecycle: (status, action) -> (event, status after). Every pair not listed is refused.
ALLOWED = {
    ("loaded", "start"): (CampaignGroupStarted, "running"),
    ("stopped", "start"): (CampaignGroupStarted, "running"),
    ("running", "pause"): (CampaignGroupPaused, "paused"),
    ("paused", "resume"): (CampaignGroupResumed, "running"),
    ("running", "stop"): (CampaignGroupStopped, "stopped"),
    ("paused", "stop"): (CampaignGroupStopped, "stopped"),
}
REFUSED = [pair for pair in itertools.product(STATUSES, ACTIONS) if pair not in ALLOWED]


def lists(*states):
    return {state.id: state for state in states}


def create(
    command=None, *, template="given", inherited=TEAM, channel="voice", known=None, claim=None
):
    return campaign_group.create(
        command or CreateCampaignGroup(name=NAME, template_id=TEMPLATE_ID, contact_list_ids=[LIST_ID]),
        group_id=GROUP_ID,
        account_id=ACCOUNT_ID,
        template=a_template() if template == "given" else template,
        inherited_agent_group=inherited,
        channel=channel,
        lists=lists(a_list()) if known is None else known,
        claim=claim,
        now=NOW,
    )


def command(**fields):
    return CreateCampaignGroup(**{"name": NAME, "template_id": TEMPLATE_ID, "contact_list_ids": [LIST_ID], **fields})


def change(
    change_command, *, state=None, inherited=TEAM, channel="voice", known=None, new_claim=None, old_claim=None
):
    return campaign_group.change(
        a_group() if state is None else state,
        change_command,
        inherited_agent_group=inherited,
        channel=channel,
        lists=lists(a_list(groups=[GROUP_ID])) if known is None else known,
        new_claim=new_claim,
        old_claim=old_claim,
        now=NOW,
    )


def group_changed(version=2, **fields):
    base = dict(
        name=NAME, description="", agent_group=TEAM, contact_list_ids=[LIST_ID],
        dialing_overrides=DialingOverrides(), session_overrides=SessionOverrides(),
    )
    return expected(GROUP_ID, version, CampaignGroupChanged, **{**base, **fields})


def a_group_history():
    return stream(
        GROUP_ID,
        ev(
            CampaignGroupCreated, name=NAME, description="", template_id=TEMPLATE_ID,
            agent_group=TEAM, contact_list_ids=[LIST_ID], dialing_overrides=DialingOverrides(),
            session_overrides=SessionOverrides(),
        ),
    )


# Creating -----------------------------------------------------------------------------


def test_creating_a_group_claims_its_name_and_takes_its_template_and_lists():
    known = lists(a_list(), a_list(LIST_2_ID, "April arrears"))
    create_command = command(
        name=" Collections  Q2 - wave 1", description="Early-stage arrears",
        contact_list_ids=[LIST_2_ID, LIST_ID], agent_group="  Collections   Team B ",
        dialing_overrides=DIALING_OVERRIDES, session_overrides=SESSION_OVERRIDES,
    )

    events = create(create_command, known=known)

    assert_events(
        events,
        [
            claim_event(KIND, NAME, GROUP_ID),
            expected(TEMPLATE_ID, 2, CampaignTemplateReferenced, by_id=GROUP_ID),
            expected(LIST_2_ID, 2, ContactListAssigned, campaign_group_id=GROUP_ID),
            expected(LIST_ID, 2, ContactListAssigned, campaign_group_id=GROUP_ID),
            expected(
                GROUP_ID, 1, CampaignGroupCreated, name=NAME, description="Early-stage arrears",
                template_id=TEMPLATE_ID, agent_group="Collections Team B",
                contact_list_ids=[LIST_2_ID, LIST_ID], dialing_overrides=DIALING_OVERRIDES,
                session_overrides=SESSION_OVERRIDES,
            ),
        ],
    )


def test_a_group_without_its_own_agent_group_takes_the_session_profiles():
    created = create(command(agent_group="   "), inherited="Collections Team A")[-1]

    assert created.agent_group == "Collections Team A"


def test_a_group_needs_an_agent_group():
    with refused(RuleViolation, "agent_group"):
        create(command(agent_group=""), inherited="")


def test_a_group_needs_a_contact_list():
    with refused(RuleViolation, "contact_list_ids"):
        create(command(contact_list_ids=[]), known={})


def test_a_group_names_each_contact_list_once():
    with refused(RuleViolation, "contact_list_ids"):
        create(command(contact_list_ids=[LIST_ID, LIST_ID]))


@pytest.mark.parametrize("archived", [False, True], ids=["missing", "archived"])
def test_a_group_needs_existing_contact_lists(archived):
    known = lists(a_list(), a_list(LIST_2_ID, "Old", archived=True)) if archived else lists(a_list())

    with refused(NotFound, "contact_list_ids[1]"):
        create(command(contact_list_ids=[LIST_ID, LIST_2_ID]), known=known)


@pytest.mark.parametrize(("channel", "wrong_index"), [("voice", 1), ("sms", 0)])
def test_every_contact_list_must_be_for_the_groups_channel(channel, wrong_index):
    known = lists(a_list(), a_list(LIST_2_ID, "Texts", settings=SMS_LIST))

    with refused(RuleViolation, f"contact_list_ids[{wrong_index}]") as info:
        create(command(contact_list_ids=[LIST_ID, LIST_2_ID]), channel=channel, known=known)

    assert channel in info.value.detail


def test_an_sms_group_takes_sms_lists():
    known = lists(a_list(LIST_2_ID, "Texts", settings=SMS_LIST))

    events = create(command(contact_list_ids=[LIST_2_ID]), channel="sms", known=known)

    assert events[-1].contact_list_ids == [LIST_2_ID]


@pytest.mark.parametrize("deleted", [False, True], ids=["missing", "deleted"])
def test_a_group_needs_an_existing_template(deleted):
    with refused(NotFound, "template_id"):
        create(template=a_template(deleted=True) if deleted else None)


@pytest.mark.parametrize("name", ["  ", "x" * 201])
def test_a_group_needs_a_valid_name(name):
    with refused(RuleViolation, "name"):
        create(command(name=name))


def test_a_group_name_is_unique():
    with refused(NameTaken, "name"):
        create(claim=a_claim(KIND, NAME.upper(), OTHER_GROUP_ID))


# Lifecycle ----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "action"), sorted(ALLOWED), ids="{0[0]}-{0[1]}".format)
def test_allowed_transitions(status, action):
    state = a_group(status=status)
    event_class, status_after = ALLOWED[(status, action)]

    events = campaign_group.transition(state, action, now=NOW)

    assert_events(events, [expected(GROUP_ID, state.version + 1, event_class)])
    after = campaign_group.evolve(state, events[0])
    assert (after.status, after.version, after.modified_on) == (status_after, state.version + 1, NOW)


@pytest.mark.parametrize(("status", "action"), REFUSED, ids="{0[0]}-{0[1]}".format)
def test_refused_transitions(status, action):
    with refused(InvalidTransition, "status") as info:
        campaign_group.transition(a_group(status=status), action, now=NOW)

    assert f"cannot {action}" in info.value.detail
    assert f"it is {status}" in info.value.detail


def test_the_lifecycle_table_covers_every_status_and_action():
    assert len(ALLOWED) + len(REFUSED) == len(STATUSES) * len(ACTIONS) == 16
    assert set(campaign_group.TRANSITIONS) == set(ACTIONS)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("deleted", [False, True], ids=["missing", "deleted"])
def test_a_missing_or_deleted_group_has_no_lifecycle(action, deleted):
    with refused(NotFound, "id"):
        campaign_group.transition(a_group(status="stopped", deleted=True) if deleted else None, action, now=NOW)


def test_a_group_runs_pauses_resumes_stops_and_runs_again():
    history = []
    state = a_group()
    seen = [state.status]
    for action in ("start", "pause", "resume", "pause", "stop", "start", "stop"):
        events = campaign_group.transition(state, action, now=NOW)
        history += events
        state = campaign_group.project(state, events)
        seen.append(state.status)

    assert seen == ["loaded", "running", "paused", "running", "paused", "stopped", "running", "stopped"]
    assert [event.originator_version for event in history] == list(range(2, 9))
    assert given(campaign_group.project, a_group_history() + history) == state


# Changing -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_name_description_agent_group_and_overrides_change_in_any_status(status):
    state = a_group(status=status)
    change_command = ChangeCampaignGroup(
        description="Tuned", agent_group="Collections Team B",
        dialing_overrides=DIALING_OVERRIDES, session_overrides=SESSION_OVERRIDES,
    )

    events = change(change_command, state=state)

    assert_events(
        events,
        [
            group_changed(
                state.version + 1, description="Tuned", agent_group="Collections Team B",
                dialing_overrides=DIALING_OVERRIDES, session_overrides=SESSION_OVERRIDES,
            )
        ],
    )


def test_renaming_a_group_moves_its_name_claim():
    events = change(ChangeCampaignGroup(name="Wave 2"), old_claim=a_claim(KIND, NAME, GROUP_ID))

    assert_events(
        events,
        [claim_event(KIND, "Wave 2", GROUP_ID), release_event(KIND, NAME, GROUP_ID), group_changed(name="Wave 2")],
    )


def test_renaming_to_a_taken_name_is_refused():
    with refused(NameTaken, "name"):
        change(ChangeCampaignGroup(name="Wave 2"), new_claim=a_claim(KIND, "Wave 2", OTHER_GROUP_ID))


def test_clearing_the_agent_group_falls_back_to_the_session_profiles():
    events = change(ChangeCampaignGroup(agent_group=""), inherited="Collections Team C")

    assert_events(events, [group_changed(agent_group="Collections Team C")])


def test_clearing_the_agent_group_without_one_to_inherit_is_refused():
    with refused(RuleViolation, "agent_group"):
        change(ChangeCampaignGroup(agent_group="  "), inherited="")


@pytest.mark.parametrize("status", ["loaded", "paused", "stopped"])
def test_contact_lists_change_unless_running(status):
    state = a_group(status=status, list_ids=[LIST_ID, LIST_2_ID])
    known = lists(
        a_list(groups=[GROUP_ID]), a_list(LIST_2_ID, "April arrears", groups=[GROUP_ID]), a_list(LIST_3_ID, "May arrears")
    )

    events = change(ChangeCampaignGroup(contact_list_ids=[LIST_ID, LIST_3_ID]), state=state, known=known)

    assert_events(
        events,
        [
            expected(LIST_3_ID, 2, ContactListAssigned, campaign_group_id=GROUP_ID),
            expected(LIST_2_ID, 3, ContactListUnassigned, campaign_group_id=GROUP_ID),
            group_changed(state.version + 1, contact_list_ids=[LIST_ID, LIST_3_ID]),
        ],
    )


def test_contact_lists_of_a_running_group_cannot_change():
    known = lists(a_list(groups=[GROUP_ID]), a_list(LIST_2_ID, "April arrears"))

    with refused(InvalidTransition, "contact_list_ids") as info:
        change(ChangeCampaignGroup(contact_list_ids=[LIST_ID, LIST_2_ID]), state=a_group(status="running"), known=known)

    assert "pause it first" in info.value.detail


def test_sending_the_same_contact_lists_to_a_running_group_is_no_change():
    assert change(ChangeCampaignGroup(contact_list_ids=[LIST_ID]), state=a_group(status="running")) == []


@pytest.mark.parametrize(
    ("list_ids", "known", "error", "field"),
    [
        ([], {}, RuleViolation, "contact_list_ids"),
        ([LIST_ID, LIST_ID], None, RuleViolation, "contact_list_ids"),
        ([LIST_ID, LIST_2_ID], None, NotFound, "contact_list_ids[1]"),
        ([LIST_2_ID], lists(a_list(LIST_2_ID, "Old", archived=True)), NotFound, "contact_list_ids[0]"),
        ([LIST_ID, LIST_2_ID], lists(a_list(groups=[GROUP_ID]), a_list(LIST_2_ID, "Texts", settings=SMS_LIST)), RuleViolation, "contact_list_ids[1]"),
    ],
    ids=["none", "twice", "missing", "archived", "other-channel"],
)
def test_new_contact_lists_are_checked_like_at_creation(list_ids, known, error, field):
    with refused(error, field):
        change(ChangeCampaignGroup(contact_list_ids=list_ids), state=a_group(status="paused"), known=known)


def test_switching_the_channel_away_from_the_groups_lists_is_refused():
    # The session overrides now make the group dial SMS, but its only list is for voice.
    change_command = ChangeCampaignGroup(session_overrides=SessionOverrides(channel="sms"))

    with pytest.raises(DomainError) as info:
        change(change_command, channel="sms")

    assert info.value.field in {"contact_list_ids[0]", "session_overrides.channel"}


def test_a_change_that_changes_nothing_records_nothing():
    assert change(ChangeCampaignGroup()) == []
    assert change(ChangeCampaignGroup(name=NAME, description="", agent_group=TEAM, contact_list_ids=[LIST_ID])) == []


@pytest.mark.parametrize("deleted", [False, True], ids=["missing", "deleted"])
def test_a_missing_or_deleted_group_cannot_be_changed(deleted):
    with refused(NotFound, "id"):
        campaign_group.change(
            a_group(deleted=True) if deleted else None, ChangeCampaignGroup(description="x"),
            inherited_agent_group=TEAM, channel="voice", lists={}, new_claim=None, old_claim=None, now=NOW,
        )


# Deleting -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["loaded", "stopped"])
def test_deleting_a_loaded_or_stopped_group_releases_everything_it_holds(status):
    state = a_group(status=status, list_ids=[LIST_ID, LIST_2_ID])
    known = lists(a_list(groups=[GROUP_ID]), a_list(LIST_2_ID, "April arrears", groups=[GROUP_ID]))

    events = campaign_group.delete(
        state, template=a_template(used_by=[GROUP_ID]), lists=known,
        claim=a_claim(KIND, NAME, GROUP_ID), now=NOW,
    )

    assert_events(
        events,
        [
            release_event(KIND, NAME, GROUP_ID),
            expected(TEMPLATE_ID, 3, CampaignTemplateReleased, by_id=GROUP_ID),
            expected(LIST_ID, 3, ContactListUnassigned, campaign_group_id=GROUP_ID),
            expected(LIST_2_ID, 3, ContactListUnassigned, campaign_group_id=GROUP_ID),
            expected(GROUP_ID, state.version + 1, CampaignGroupDeleted),
        ],
    )


def test_deleting_a_group_whose_template_and_lists_are_gone():
    events = campaign_group.delete(a_group(), template=None, lists={}, claim=None, now=NOW)

    assert_events(events, [expected(GROUP_ID, 2, CampaignGroupDeleted)])


@pytest.mark.parametrize("status", ["running", "paused"])
def test_a_running_or_paused_group_cannot_be_deleted(status):
    with refused(InvalidTransition, "status") as info:
        campaign_group.delete(a_group(status=status), template=a_template(), lists={}, claim=None, now=NOW)

    assert "stop it" in info.value.detail


@pytest.mark.parametrize("deleted", [False, True], ids=["missing", "deleted"])
def test_a_missing_or_deleted_group_cannot_be_deleted(deleted):
    with refused(NotFound, "id"):
        campaign_group.delete(a_group(deleted=True) if deleted else None, template=None, lists={}, claim=None, now=NOW)


# Folding ------------------------------------------------------------------------------


def test_folding_a_created_group():
    assert a_group() == campaign_group.CampaignGroup(
        id=GROUP_ID, version=1, account_id=ACCOUNT_ID, created_on=EARLIER, modified_on=EARLIER,
        name=NAME, description="", template_id=TEMPLATE_ID, agent_group=TEAM,
        contact_list_ids=(LIST_ID,), dialing_overrides=DialingOverrides(),
        session_overrides=SessionOverrides(), status="loaded",
    )


@pytest.mark.parametrize("status", STATUSES)
def test_folding_status_events(status):
    state = a_group(status=status)

    assert (state.status, state.version) == (status, 1 + len(STATUS_PATH[status]))


def test_folding_a_change_and_a_deletion():
    history = a_group_history() + stream(
        GROUP_ID,
        ev(
            CampaignGroupChanged, name="Wave 2", description="New", agent_group="Team B",
            contact_list_ids=[LIST_2_ID, LIST_3_ID], dialing_overrides=DIALING_OVERRIDES,
            session_overrides=SESSION_OVERRIDES,
        ),
        ev(CampaignGroupDeleted),
        start=2, when=NOW,
    )

    state = given(campaign_group.project, history)

    assert (state.name, state.description, state.agent_group) == ("Wave 2", "New", "Team B")
    assert state.contact_list_ids == (LIST_2_ID, LIST_3_ID)
    assert (state.dialing_overrides, state.session_overrides) == (DIALING_OVERRIDES, SESSION_OVERRIDES)
    assert (state.deleted, state.status, state.version, state.modified_on) == (True, "loaded", 3, NOW)


def test_events_before_creation_fold_to_nothing():
    assert given(campaign_group.project, stream(GROUP_ID, ev(CampaignGroupStarted))) is None
