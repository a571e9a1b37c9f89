"""Campaign template: a dialing and a session profile, overrides, no deletion with groups."""

from __future__ import annotations

import pytest

from domain import campaign_template
from domain.campaign_template import ChangeCampaignTemplate, CreateCampaignTemplate
from domain.errors import InUse, NameTaken, NotFound, RuleViolation
from schemas.campaigns import (
    CampaignTemplateChanged,
    CampaignTemplateCreated,
    CampaignTemplateDeleted,
    CampaignTemplateReferenced,
    CampaignTemplateReleased,
    DialingOverrides,
    SessionOverrides,
)
from schemas.profiles import (
    DialingSettings,
    Pacing,
    ProfileReferenced,
    ProfileReleased,
    SessionSettings,
)
from tests.domain.builders import (
    ACCOUNT_ID,
    DIALING_ID,
    EARLIER,
    GROUP_ID,
    NOW,
    OTHER_DIALING_ID,
    OTHER_GROUP_ID,
    OTHER_SESSION_ID,
    SESSION_ID,
    TEMPLATE_ID,
    a_claim,
    a_dialing_profile,
    a_session_profile,
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

KIND = campaign_template.KIND
NAME = "Collections Q2"
DIALING_OVERRIDES = DialingOverrides(dialing_mode="predictive", caller_id="+13125550199")
SESSION_OVERRIDES = SessionOverrides(agent_group="Collections Team B", trunk_group="TG_Dallas")


def create(command=None, *, dialing="given", session="given", claim=None):
    return campaign_template.create(
        command or CreateCampaignTemplate(name=NAME),
        template_id=TEMPLATE_ID,
        account_id=ACCOUNT_ID,
        dialing_profile=a_dialing_profile() if dialing == "given" else dialing,
        session_profile=a_session_profile() if session == "given" else session,
        claim=claim,
        now=NOW,
    )


def current_profiles(extra=None):
    """The template's own profiles (which it references), plus ``extra`` by id."""
    return {
        DIALING_ID: a_dialing_profile(used_by=[TEMPLATE_ID]),
        SESSION_ID: a_session_profile(used_by=[TEMPLATE_ID]),
        **(extra or {}),
    }


def change(command, *, state=None, profiles=None, new_claim=None, old_claim=None):
    return campaign_template.change(
        state or a_template(),
        command,
        profiles=current_profiles() if profiles is None else profiles,
        new_claim=new_claim,
        old_claim=old_claim,
        now=NOW,
    )


def changed(**fields):
    base = dict(
        name=NAME, description="Second-quarter collections", dialing_profile_id=DIALING_ID,
        session_profile_id=SESSION_ID, dialing_overrides=DialingOverrides(),
        session_overrides=SessionOverrides(),
    )
    return expected(TEMPLATE_ID, 2, CampaignTemplateChanged, **{**base, **fields})


# Creating -----------------------------------------------------------------------------


def test_creating_a_template_claims_its_name_and_references_both_profiles():
    command = CreateCampaignTemplate(
        name="  Collections   Q2 ", description="Second-quarter collections",
        dialing_profile_id=DIALING_ID, session_profile_id=SESSION_ID,
        dialing_overrides=DIALING_OVERRIDES, session_overrides=SESSION_OVERRIDES,
    )

    events = create(command)

    assert_events(
        events,
        [
            claim_event(KIND, NAME, TEMPLATE_ID),
            expected(DIALING_ID, 2, ProfileReferenced, by_id=TEMPLATE_ID),
            expected(SESSION_ID, 2, ProfileReferenced, by_id=TEMPLATE_ID),
            expected(
                TEMPLATE_ID, 1, CampaignTemplateCreated, name=NAME,
                description="Second-quarter collections", dialing_profile_id=DIALING_ID,
                session_profile_id=SESSION_ID, dialing_overrides=DIALING_OVERRIDES,
                session_overrides=SESSION_OVERRIDES,
            ),
        ],
    )


def test_a_template_records_the_ids_of_the_profiles_it_was_given():
    # The command leaves the profiles out (the handler then passes the account's defaults).
    events = create(
        CreateCampaignTemplate(name=NAME),
        dialing=a_dialing_profile(OTHER_DIALING_ID), session=a_session_profile(OTHER_SESSION_ID),
    )

    created = events[-1]
    assert (created.dialing_profile_id, created.session_profile_id) == (OTHER_DIALING_ID, OTHER_SESSION_ID)


@pytest.mark.parametrize("state", ["missing", "deleted"])
def test_a_template_needs_an_existing_dialing_profile(state):
    dialing = a_dialing_profile(deleted=True) if state == "deleted" else None

    with refused(NotFound, "dialing_profile_id"):
        create(dialing=dialing)


@pytest.mark.parametrize("state", ["missing", "deleted"])
def test_a_template_needs_an_existing_session_profile(state):
    session = a_session_profile(deleted=True) if state == "deleted" else None

    with refused(NotFound, "session_profile_id"):
        create(session=session)


@pytest.mark.parametrize("name", ["  ", "x" * 201])
def test_a_template_needs_a_valid_name(name):
    with refused(RuleViolation, "name"):
        create(CreateCampaignTemplate(name=name))


def test_a_template_name_is_unique():
    with refused(NameTaken, "name"):
        create(claim=a_claim(KIND, NAME, GROUP_ID))


def test_a_profile_already_referencing_the_template_is_not_referenced_again():
    events = create(dialing=a_dialing_profile(used_by=[TEMPLATE_ID]))

    assert [type(event) for event in events] == [
        type(claim_event(KIND, NAME, TEMPLATE_ID)), ProfileReferenced, CampaignTemplateCreated,
    ]
    assert events[1].originator_id == SESSION_ID


# Effective settings -------------------------------------------------------------------


def test_effective_settings_are_the_profiles_with_the_template_overrides():
    template = a_template(dialing_overrides=DIALING_OVERRIDES, session_overrides=SESSION_OVERRIDES)

    dialing = campaign_template.effective_dialing(template, a_dialing_profile())
    session = campaign_template.effective_session(template, a_session_profile())

    assert dialing == DialingSettings(dialing_mode="predictive", caller_id="+13125550199")
    assert session == SessionSettings(agent_group="Collections Team B", trunk_group="TG_Dallas")


def test_without_overrides_the_profiles_settings_apply():
    template = a_template()
    dialing = a_dialing_profile(settings=DialingSettings(dialing_mode="preview"))

    assert campaign_template.effective_dialing(template, dialing) == DialingSettings(dialing_mode="preview")
    assert campaign_template.effective_session(template, a_session_profile()) == a_session_profile().settings


# Changing -----------------------------------------------------------------------------


def test_changing_description_and_overrides():
    command = ChangeCampaignTemplate(
        description="Now with predictive", dialing_overrides=DIALING_OVERRIDES,
        session_overrides=SESSION_OVERRIDES,
    )

    assert_events(
        change(command),
        [
            changed(
                description="Now with predictive", dialing_overrides=DIALING_OVERRIDES,
                session_overrides=SESSION_OVERRIDES,
            )
        ],
    )


def test_renaming_a_template_moves_its_name_claim():
    events = change(ChangeCampaignTemplate(name="Collections  Q3"), old_claim=a_claim(KIND, NAME, TEMPLATE_ID))

    assert_events(
        events,
        [
            claim_event(KIND, "Collections Q3", TEMPLATE_ID),
            release_event(KIND, NAME, TEMPLATE_ID),
            changed(name="Collections Q3"),
        ],
    )


def test_renaming_to_a_taken_name_is_refused():
    with refused(NameTaken, "name"):
        change(ChangeCampaignTemplate(name="Collections Q3"), new_claim=a_claim(KIND, "Collections Q3", GROUP_ID))


def test_renaming_to_a_blank_name_is_refused():
    with refused(RuleViolation, "name"):
        change(ChangeCampaignTemplate(name="  "))


def test_switching_the_dialing_profile_moves_the_reference():
    profiles = current_profiles({OTHER_DIALING_ID: a_dialing_profile(OTHER_DIALING_ID, "Evening")})

    events = change(ChangeCampaignTemplate(dialing_profile_id=OTHER_DIALING_ID), profiles=profiles)

    assert_events(
        events,
        [
            expected(OTHER_DIALING_ID, 2, ProfileReferenced, by_id=TEMPLATE_ID),
            expected(DIALING_ID, 3, ProfileReleased, by_id=TEMPLATE_ID),
            changed(dialing_profile_id=OTHER_DIALING_ID),
        ],
    )


def test_switching_the_session_profile_moves_the_reference():
    profiles = current_profiles({OTHER_SESSION_ID: a_session_profile(OTHER_SESSION_ID, "Voice floor 2")})

    events = change(ChangeCampaignTemplate(session_profile_id=OTHER_SESSION_ID), profiles=profiles)

    assert_events(
        events,
        [
            expected(OTHER_SESSION_ID, 2, ProfileReferenced, by_id=TEMPLATE_ID),
            expected(SESSION_ID, 3, ProfileReleased, by_id=TEMPLATE_ID),
            changed(session_profile_id=OTHER_SESSION_ID),
        ],
    )


@pytest.mark.parametrize(
    ("command", "field", "profiles"),
    [
        (ChangeCampaignTemplate(dialing_profile_id=OTHER_DIALING_ID), "dialing_profile_id", {}),
        (ChangeCampaignTemplate(session_profile_id=OTHER_SESSION_ID), "session_profile_id", {}),
        (
            ChangeCampaignTemplate(dialing_profile_id=OTHER_DIALING_ID), "dialing_profile_id",
            {OTHER_DIALING_ID: a_dialing_profile(OTHER_DIALING_ID, deleted=True)},
        ),
        (
            ChangeCampaignTemplate(session_profile_id=OTHER_SESSION_ID), "session_profile_id",
            {OTHER_SESSION_ID: a_session_profile(OTHER_SESSION_ID, deleted=True)},
        ),
    ],
    ids=["missing-dialing", "missing-session", "deleted-dialing", "deleted-session"],
)
def test_switching_to_a_missing_or_deleted_profile_is_refused(command, field, profiles):
    with refused(NotFound, field):
        change(command, profiles=current_profiles(profiles))


def test_switching_away_from_a_profile_that_is_gone_releases_nothing():
    profiles = {OTHER_DIALING_ID: a_dialing_profile(OTHER_DIALING_ID)}

    events = change(ChangeCampaignTemplate(dialing_profile_id=OTHER_DIALING_ID), profiles=profiles)

    assert [type(event) for event in events] == [ProfileReferenced, CampaignTemplateChanged]


def test_a_change_that_changes_nothing_records_nothing():
    command = ChangeCampaignTemplate(
        name=NAME, description="Second-quarter collections", dialing_profile_id=DIALING_ID,
        session_profile_id=SESSION_ID,
    )

    assert change(command) == []
    assert change(ChangeCampaignTemplate()) == []


@pytest.mark.parametrize("state", [None, "deleted"])
def test_a_missing_or_deleted_template_cannot_be_changed(state):
    template = a_template(deleted=True) if state else None

    with refused(NotFound, "id"):
        campaign_template.change(
            template, ChangeCampaignTemplate(description="x"), profiles=current_profiles(),
            new_claim=None, old_claim=None, now=NOW,
        )


# Deleting -----------------------------------------------------------------------------


def test_deleting_a_template_releases_its_name_and_profiles():
    events = campaign_template.delete(
        a_template(), profiles=current_profiles(), claim=a_claim(KIND, NAME, TEMPLATE_ID), now=NOW
    )

    assert_events(
        events,
        [
            release_event(KIND, NAME, TEMPLATE_ID),
            expected(DIALING_ID, 3, ProfileReleased, by_id=TEMPLATE_ID),
            expected(SESSION_ID, 3, ProfileReleased, by_id=TEMPLATE_ID),
            expected(TEMPLATE_ID, 2, CampaignTemplateDeleted),
        ],
    )


def test_deleting_a_template_whose_profiles_are_not_loaded():
    events = campaign_template.delete(a_template(), profiles={}, claim=None, now=NOW)

    assert_events(events, [expected(TEMPLATE_ID, 2, CampaignTemplateDeleted)])


def test_a_template_with_campaign_groups_cannot_be_deleted():
    used = a_template(used_by=[GROUP_ID])

    with refused(InUse, "id") as info:
        campaign_template.delete(used, profiles=current_profiles(), claim=None, now=NOW)

    assert "1 campaign group(s)" in info.value.detail


@pytest.mark.parametrize("state", [None, "deleted"])
def test_a_missing_or_deleted_template_cannot_be_deleted(state):
    template = a_template(deleted=True) if state else None

    with refused(NotFound, "id"):
        campaign_template.delete(template, profiles={}, claim=None, now=NOW)


# References from campaign groups ------------------------------------------------------


def test_a_group_references_its_template():
    assert_events(
        campaign_template.reference(a_template(), GROUP_ID, now=NOW),
        [expected(TEMPLATE_ID, 2, CampaignTemplateReferenced, by_id=GROUP_ID)],
    )


@pytest.mark.parametrize("state", [None, "deleted"])
def test_a_missing_or_deleted_template_cannot_be_referenced(state):
    template = a_template(deleted=True) if state else None

    with refused(NotFound, "template_id"):
        campaign_template.reference(template, GROUP_ID, now=NOW)


def test_a_deleted_group_releases_its_template():
    assert_events(
        campaign_template.release(a_template(used_by=[GROUP_ID]), GROUP_ID, now=NOW),
        [expected(TEMPLATE_ID, 3, CampaignTemplateReleased, by_id=GROUP_ID)],
    )


def test_releasing_a_template_the_group_does_not_use_records_nothing():
    assert campaign_template.release(a_template(used_by=[OTHER_GROUP_ID]), GROUP_ID, now=NOW) == []


# Folding ------------------------------------------------------------------------------


def test_folding_a_created_template():
    assert a_template() == campaign_template.CampaignTemplate(
        id=TEMPLATE_ID, version=1, account_id=ACCOUNT_ID, created_on=EARLIER, modified_on=EARLIER,
        name=NAME, description="Second-quarter collections", dialing_profile_id=DIALING_ID,
        session_profile_id=SESSION_ID, dialing_overrides=DialingOverrides(),
        session_overrides=SessionOverrides(),
    )


def test_folding_changes_references_and_deletion():
    pacing = DialingOverrides(pacing=Pacing(lines_per_agent=2.5))
    history = stream(
        TEMPLATE_ID,
        ev(
            CampaignTemplateCreated, name=NAME, description="", dialing_profile_id=DIALING_ID,
            session_profile_id=SESSION_ID, dialing_overrides=DialingOverrides(),
            session_overrides=SessionOverrides(),
        ),
        ev(CampaignTemplateReferenced, by_id=GROUP_ID),
        ev(CampaignTemplateReferenced, by_id=OTHER_GROUP_ID),
        ev(CampaignTemplateReleased, by_id=GROUP_ID),
        ev(
            CampaignTemplateChanged, name="Collections Q3", description="Renamed",
            dialing_profile_id=OTHER_DIALING_ID, session_profile_id=OTHER_SESSION_ID,
            dialing_overrides=pacing, session_overrides=SESSION_OVERRIDES,
        ),
    )
    state = given(campaign_template.project, history)

    assert state.used_by == {OTHER_GROUP_ID}
    assert (state.name, state.description) == ("Collections Q3", "Renamed")
    assert (state.dialing_profile_id, state.session_profile_id) == (OTHER_DIALING_ID, OTHER_SESSION_ID)
    assert (state.dialing_overrides, state.session_overrides) == (pacing, SESSION_OVERRIDES)
    assert (state.version, state.deleted) == (5, False)

    deleted = given(
        campaign_template.project,
        history + stream(TEMPLATE_ID, ev(CampaignTemplateDeleted), start=6, when=NOW),
    )
    assert (deleted.deleted, deleted.version, deleted.modified_on) == (True, 6, NOW)


def test_events_before_creation_fold_to_nothing():
    assert given(campaign_template.project, stream(TEMPLATE_ID, ev(CampaignTemplateDeleted))) is None
