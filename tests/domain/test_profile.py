"""Dialing and session profiles: unique names, one default, no deletion while default or used.

Both kinds share :mod:`domain.profile`; every rule is tested for each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from domain import dialing_profile, profile, session_profile
from domain.errors import InUse, NameTaken, NotFound, RuleViolation
from domain.profile import Profile, ProfileKind
from schemas.base import Event
from schemas.profiles import (
    DialingProfileChanged,
    DialingProfileCreated,
    DialingProfileDeleted,
    DialingSettings,
    Filtering,
    OptionSections,
    Pacing,
    ProfileReferenced,
    ProfileReleased,
    SessionProfileChanged,
    SessionProfileCreated,
    SessionProfileDeleted,
    SessionSettings,
    SortField,
    Treatment,
)
from schemas.settings import DefaultDialingProfileChosen, DefaultSessionProfileChosen
from tests.domain.builders import (
    ACCOUNT_ID,
    DIALING_ID,
    EARLIER,
    NOW,
    OTHER_DIALING_ID,
    OTHER_SESSION_ID,
    OTHER_TEMPLATE_ID,
    SESSION_ID,
    TEMPLATE_ID,
    a_claim,
    a_dialing_profile,
    a_session_profile,
    an_account,
    assert_events,
    claim_event,
    ev,
    expected,
    given,
    refused,
    release_event,
    stream,
)


@dataclass(frozen=True)
class Case:
    """What differs between the two profile kinds."""

    kind: ProfileKind[Any]
    build: Any
    profile_id: UUID
    other_id: UUID
    name: str
    created: type[Event]
    changed: type[Event]
    deleted: type[Event]
    default_option: str
    default_chosen: type[Event]
    default_settings: Any
    new_settings: Any
    id_field: str

    def __str__(self) -> str:
        return self.kind.kind


DIALING = Case(
    kind=dialing_profile.KIND,
    build=a_dialing_profile,
    profile_id=DIALING_ID,
    other_id=OTHER_DIALING_ID,
    name="Morning predictive",
    created=DialingProfileCreated,
    changed=DialingProfileChanged,
    deleted=DialingProfileDeleted,
    default_option="default_dialing",
    default_chosen=DefaultDialingProfileChosen,
    default_settings=DialingSettings(),
    new_settings=DialingSettings(
        dialing_mode="predictive",
        caller_id="+13125550100",
        pacing=Pacing(optimization_method="busy_factor", optimization_goal=80, ring_timeout_seconds=20),
        filtering=Filtering(selection_rule="custom.balance > 100", sort=[SortField(field="balance", descending=True)]),
        treatments=[Treatment(call_result=28, action="retry_in", retry_count=3, interval_minutes=30)],
    ),
    id_field="dialing_profile_id",
)
SESSION = Case(
    kind=session_profile.KIND,
    build=a_session_profile,
    profile_id=SESSION_ID,
    other_id=OTHER_SESSION_ID,
    name="Voice floor 1",
    created=SessionProfileCreated,
    changed=SessionProfileChanged,
    deleted=SessionProfileDeleted,
    default_option="default_session",
    default_chosen=DefaultSessionProfileChosen,
    default_settings=SessionSettings(agent_group="Collections Team A"),
    new_settings=SessionSettings(
        channel="voice",
        agent_group="Collections Team B",
        trunk_group="TG_Chicago",
        destination_dn="RP_7001",
        stat_server="StatServer_OCS",
        other_servers=["TServer_SIP", "InteractionServer"],
        options=OptionSections(campaign_group={"OCServer": {"predictive_algorithm": "small_group"}}),
    ),
    id_field="session_profile_id",
)
CASES = pytest.mark.parametrize("case", [DIALING, SESSION], ids=str)


def default_account(case: Case, profile_id: UUID | None = None):
    return an_account(**{case.default_option: profile_id or case.profile_id})


def create(case: Case, *, account, claim=None, name=None, profile_id=None, description="First shift"):
    return case.kind.create(
        profile_id=profile_id or case.other_id,
        name=name or "Evening blast",
        description=description,
        settings=case.new_settings,
        account=account,
        claim=claim,
        now=NOW,
    )


def change(case: Case, state, *, name=None, description="", settings=None, new_claim=None, old_claim=None):
    return case.kind.change(
        state,
        name=name or case.name,
        description=description,
        settings=settings or case.default_settings,
        new_claim=new_claim,
        old_claim=old_claim,
        now=NOW,
    )


# Creating -----------------------------------------------------------------------------


@CASES
def test_the_first_profile_of_its_kind_becomes_the_default(case):
    events = create(case, account=an_account())

    assert_events(
        events,
        [
            claim_event(case.kind.kind, "Evening blast", case.other_id),
            expected(
                case.other_id, 1, case.created, name="Evening blast",
                description="First shift", settings=case.new_settings,
            ),
            expected(ACCOUNT_ID, 2, case.default_chosen, profile_id=case.other_id),
        ],
    )


@CASES
def test_a_later_profile_does_not_replace_the_default(case):
    events = create(case, account=default_account(case))

    assert_events(
        events,
        [
            claim_event(case.kind.kind, "Evening blast", case.other_id),
            expected(
                case.other_id, 1, case.created, name="Evening blast",
                description="First shift", settings=case.new_settings,
            ),
        ],
    )


def test_a_default_of_the_other_kind_does_not_count():
    dialing_default = an_account(default_dialing=DIALING_ID)

    events = create(SESSION, account=dialing_default)

    assert events[-1] == expected(ACCOUNT_ID, 3, DefaultSessionProfileChosen, profile_id=SESSION.other_id)


@CASES
def test_a_created_profile_name_is_cleaned(case):
    events = create(case, account=default_account(case), name="  Evening    blast ")

    assert [event.name for event in events] == ["Evening blast", "Evening blast"]


@CASES
@pytest.mark.parametrize("name", ["   ", "x" * 201])
def test_a_profile_needs_a_valid_name(case, name):
    with refused(RuleViolation, "name"):
        create(case, account=default_account(case), name=name)


@CASES
def test_a_profile_name_is_unique_within_its_kind(case):
    taken = a_claim(case.kind.kind, "Evening blast", case.profile_id)

    with refused(NameTaken, "name") as info:
        create(case, account=default_account(case), claim=taken, name="evening  BLAST")

    assert case.kind.label in info.value.detail


@CASES
def test_a_released_name_can_be_used_for_a_new_profile(case):
    released = a_claim(case.kind.kind, "Evening blast", case.profile_id, released=True)

    events = create(case, account=default_account(case), claim=released)

    assert events[0] == claim_event(case.kind.kind, "Evening blast", case.other_id, version=3)


# Changing -----------------------------------------------------------------------------


@CASES
def test_changing_settings_and_description(case):
    state = case.build()

    events = change(case, state, description="Tuned for Q2", settings=case.new_settings)

    assert_events(
        events,
        [
            expected(
                case.profile_id, 2, case.changed, name=case.name,
                description="Tuned for Q2", settings=case.new_settings,
            )
        ],
    )


@CASES
def test_renaming_claims_the_new_name_and_releases_the_old(case):
    state = case.build()
    old_claim = a_claim(case.kind.kind, case.name, case.profile_id)

    events = change(case, state, name=" Renamed  profile", old_claim=old_claim)

    assert_events(
        events,
        [
            claim_event(case.kind.kind, "Renamed profile", case.profile_id),
            release_event(case.kind.kind, case.name, case.profile_id),
            expected(
                case.profile_id, 2, case.changed, name="Renamed profile",
                description="", settings=case.default_settings,
            ),
        ],
    )


@CASES
def test_renaming_to_a_taken_name_is_refused(case):
    taken = a_claim(case.kind.kind, "Renamed profile", case.other_id)

    with refused(NameTaken, "name"):
        change(case, case.build(), name="Renamed profile", new_claim=taken)


@CASES
def test_renaming_to_an_invalid_name_is_refused(case):
    with refused(RuleViolation, "name"):
        change(case, case.build(), name="   ")


@CASES
def test_changing_only_the_case_of_the_name_keeps_the_claim(case):
    events = change(case, case.build(), name=case.name.upper())

    assert_events(
        events,
        [
            expected(
                case.profile_id, 2, case.changed, name=case.name.upper(),
                description="", settings=case.default_settings,
            )
        ],
    )


@CASES
def test_a_change_that_changes_nothing_records_nothing(case):
    assert change(case, case.build()) == []


@CASES
def test_a_deleted_profile_cannot_be_changed(case):
    with refused(NotFound, "id"):
        change(case, case.build(deleted=True), description="too late")


@CASES
def test_a_missing_profile_cannot_be_changed(case):
    with refused(NotFound, "id"):
        change(case, None, description="never existed")


# Deleting -----------------------------------------------------------------------------


@CASES
def test_deleting_a_profile_releases_its_name(case):
    claim = a_claim(case.kind.kind, case.name, case.profile_id)

    events = case.kind.delete(case.build(), account=default_account(case, case.other_id), claim=claim, now=NOW)

    assert_events(
        events,
        [
            release_event(case.kind.kind, case.name, case.profile_id),
            expected(case.profile_id, 2, case.deleted),
        ],
    )


@CASES
def test_deleting_a_profile_without_a_claim(case):
    events = case.kind.delete(case.build(), account=an_account(), claim=None, now=NOW)

    assert_events(events, [expected(case.profile_id, 2, case.deleted)])


@CASES
def test_the_default_profile_cannot_be_deleted(case):
    with refused(RuleViolation, "id") as info:
        case.kind.delete(case.build(), account=default_account(case), claim=None, now=NOW)

    assert "default" in info.value.detail


@CASES
def test_a_profile_used_by_a_template_cannot_be_deleted(case):
    used = case.build(used_by=[TEMPLATE_ID, OTHER_TEMPLATE_ID])

    with refused(InUse, "id") as info:
        case.kind.delete(used, account=an_account(), claim=None, now=NOW)

    assert "2 campaign template(s)" in info.value.detail


@CASES
def test_a_profile_no_longer_used_can_be_deleted(case):
    history = stream(
        case.profile_id,
        ev(case.created, name=case.name, description="", settings=case.default_settings),
        ev(ProfileReferenced, by_id=TEMPLATE_ID),
        ev(ProfileReleased, by_id=TEMPLATE_ID),
    )

    events = case.kind.delete(
        given(case.kind.projector(), history), account=an_account(), claim=None, now=NOW
    )

    assert_events(events, [expected(case.profile_id, 4, case.deleted)])


@CASES
def test_a_deleted_profile_cannot_be_deleted_again(case):
    with refused(NotFound, "id"):
        case.kind.delete(case.build(deleted=True), account=an_account(), claim=None, now=NOW)


# Default ------------------------------------------------------------------------------


@CASES
def test_making_a_profile_the_default(case):
    events = case.kind.make_default(case.build(), account=default_account(case, case.other_id), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 3, case.default_chosen, profile_id=case.profile_id)])


@CASES
def test_making_the_default_profile_the_default_records_nothing(case):
    assert case.kind.make_default(case.build(), account=default_account(case), now=NOW) == []


@CASES
def test_a_deleted_profile_cannot_become_the_default(case):
    with refused(NotFound, "id"):
        case.kind.make_default(case.build(deleted=True), account=an_account(), now=NOW)


# References from campaign templates ---------------------------------------------------


@CASES
def test_a_template_references_a_profile(case):
    events = profile.reference(case.build(), TEMPLATE_ID, label=case.kind.label, now=NOW)

    assert_events(events, [expected(case.profile_id, 2, ProfileReferenced, by_id=TEMPLATE_ID)])


@CASES
def test_referencing_twice_records_nothing(case):
    assert profile.reference(case.build(used_by=[TEMPLATE_ID]), TEMPLATE_ID, label=case.kind.label, now=NOW) == []


@CASES
@pytest.mark.parametrize("deleted", [True, False], ids=["deleted", "missing"])
def test_a_missing_or_deleted_profile_cannot_be_referenced(case, deleted):
    state = case.build(deleted=True) if deleted else None

    with refused(NotFound, case.id_field):
        profile.reference(state, TEMPLATE_ID, label=case.kind.label, now=NOW)


@CASES
def test_a_template_releases_a_profile(case):
    events = profile.release(case.build(used_by=[TEMPLATE_ID]), TEMPLATE_ID, now=NOW)

    assert_events(events, [expected(case.profile_id, 3, ProfileReleased, by_id=TEMPLATE_ID)])


@CASES
def test_releasing_an_unused_profile_records_nothing(case):
    assert profile.release(case.build(), TEMPLATE_ID, now=NOW) == []


# Folding ------------------------------------------------------------------------------


@CASES
def test_folding_a_created_profile(case):
    assert case.build() == Profile(
        id=case.profile_id, version=1, account_id=ACCOUNT_ID, created_on=EARLIER,
        modified_on=EARLIER, name=case.name, description="", settings=case.default_settings,
    )


@CASES
def test_folding_a_change_deletion_and_references(case):
    history = stream(
        case.profile_id,
        ev(case.created, name=case.name, description="", settings=case.default_settings),
        ev(ProfileReferenced, by_id=TEMPLATE_ID),
        ev(ProfileReferenced, by_id=OTHER_TEMPLATE_ID),
        ev(ProfileReleased, by_id=TEMPLATE_ID),
        ev(case.changed, name="Renamed", description="New", settings=case.new_settings),
    )
    history += stream(case.profile_id, ev(ProfileReleased, by_id=OTHER_TEMPLATE_ID), ev(case.deleted), start=6, when=NOW)

    states = [given(case.kind.projector(), history[:n]) for n in range(1, len(history) + 1)]

    assert [state.used_by for state in states] == [
        frozenset(), {TEMPLATE_ID}, {TEMPLATE_ID, OTHER_TEMPLATE_ID}, {OTHER_TEMPLATE_ID},
        {OTHER_TEMPLATE_ID}, frozenset(), frozenset(),
    ]
    last = states[-1]
    assert (last.name, last.description, last.settings) == ("Renamed", "New", case.new_settings)
    assert (last.version, last.created_on, last.modified_on, last.deleted) == (7, EARLIER, NOW, True)


@CASES
def test_events_before_creation_fold_to_nothing(case):
    history = stream(case.profile_id, ev(ProfileReferenced, by_id=TEMPLATE_ID))

    assert given(case.kind.projector(), history) is None


@CASES
def test_a_kind_has_one_projector_so_the_store_can_keep_what_it_folded(case):
    # The event store keeps a loaded state for the projector that built it (by identity).
    assert case.kind.projector() is case.kind.projector()
