"""Name claims: one name per account and kind, released on rename or delete."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain import name_claim
from domain.errors import NameTaken, RuleViolation
from schemas.settings import NameClaimed, NameReleased
from tests.domain.builders import (
    ACCOUNT_ID,
    DIALING_ID,
    EARLIER,
    NOW,
    OTHER_DIALING_ID,
    a_claim,
    assert_events,
    claim_event,
    ev,
    expected,
    given,
    refused,
    stream,
)

KIND = "dialing-profile"
NAME = "Morning predictive"
OTHER_ACCOUNT_ID = UUID("0a000000-0000-4000-8000-000000000002")


def claim(state, *, owner_id=DIALING_ID, name=NAME):
    return name_claim.claim(
        state, account_id=ACCOUNT_ID, kind=KIND, name=name, owner_id=owner_id,
        now=NOW, label="dialing profile",
    )


# Names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Morning predictive", "Morning predictive"),
        ("  Morning   predictive ", "Morning predictive"),
        ("Morning\tpredictive\n", "Morning predictive"),
        ("x" * 200, "x" * 200),
    ],
)
def test_a_name_is_stored_with_its_whitespace_collapsed(raw, clean):
    assert name_claim.clean(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_a_name_is_required(raw):
    with refused(RuleViolation, "name"):
        name_claim.clean(raw)


def test_a_name_is_at_most_200_characters():
    with refused(RuleViolation, "name"):
        name_claim.clean("x" * 201)


def test_names_compare_without_case_or_extra_whitespace():
    assert name_claim.normalise("  MORNING   Predictive") == name_claim.normalise("morning predictive")


def test_the_claim_id_derives_from_the_natural_key():
    same = name_claim.claim_id(ACCOUNT_ID, KIND, NAME)

    assert same == name_claim.claim_id(ACCOUNT_ID, KIND, " morning   PREDICTIVE ")
    assert same != name_claim.claim_id(ACCOUNT_ID, "session-profile", NAME)
    assert same != name_claim.claim_id(OTHER_ACCOUNT_ID, KIND, NAME)
    assert same != name_claim.claim_id(ACCOUNT_ID, KIND, "Evening predictive")
    assert same.version == 5


# Claiming -----------------------------------------------------------------------------


def test_claiming_a_free_name():
    assert_events(claim(None), [claim_event(KIND, NAME, DIALING_ID)])


def test_claiming_a_name_held_by_another_owner_is_refused():
    with refused(NameTaken, "name") as info:
        claim(a_claim(KIND, NAME, OTHER_DIALING_ID))

    assert "dialing profile" in info.value.detail
    assert NAME in info.value.detail


def test_claiming_a_name_one_already_holds_records_nothing():
    assert claim(a_claim(KIND, NAME, DIALING_ID)) == []


def test_a_released_name_can_be_claimed_again_by_anyone():
    released = a_claim(KIND, NAME, OTHER_DIALING_ID, released=True)

    assert_events(claim(released), [claim_event(KIND, NAME, DIALING_ID, version=3)])


def test_reclaiming_keeps_the_new_spelling():
    claim_id = name_claim.claim_id(ACCOUNT_ID, KIND, NAME)
    history = stream(
        claim_id,
        ev(NameClaimed, kind=KIND, name=NAME, owner_id=OTHER_DIALING_ID),
        ev(NameReleased, kind=KIND, name=NAME, owner_id=OTHER_DIALING_ID),
    )

    events = claim(given(name_claim.project, history), name="MORNING Predictive")

    assert_events(events, [claim_event(KIND, "MORNING Predictive", DIALING_ID, version=3)])
    assert given(name_claim.project, history + events).name == "MORNING Predictive"


# Releasing ----------------------------------------------------------------------------


def test_releasing_a_held_name():
    state = a_claim(KIND, NAME, DIALING_ID)

    assert_events(
        name_claim.release(state, now=NOW),
        [expected(state.id, 2, NameReleased, kind=KIND, name=NAME, owner_id=DIALING_ID)],
    )


def test_releasing_a_released_name_records_nothing():
    assert name_claim.release(a_claim(KIND, NAME, DIALING_ID, released=True), now=NOW) == []


# Folding ------------------------------------------------------------------------------


def test_folding_a_claim():
    claim_id = name_claim.claim_id(ACCOUNT_ID, KIND, NAME)

    state = a_claim(KIND, NAME, DIALING_ID)

    assert state == name_claim.NameClaim(
        id=claim_id, version=1, account_id=ACCOUNT_ID, created_on=EARLIER, modified_on=EARLIER,
        kind=KIND, name=NAME, owner_id=DIALING_ID,
    )


def test_folding_a_release_frees_the_name():
    state = a_claim(KIND, NAME, DIALING_ID, released=True)

    assert state.owner_id is None
    assert state.version == 2


def test_folding_a_claim_after_a_release_names_the_new_owner():
    claim_id = name_claim.claim_id(ACCOUNT_ID, KIND, NAME)
    history = stream(
        claim_id,
        ev(NameClaimed, kind=KIND, name=NAME, owner_id=DIALING_ID),
        ev(NameReleased, kind=KIND, name=NAME, owner_id=DIALING_ID),
        ev(NameClaimed, kind=KIND, name=NAME, owner_id=OTHER_DIALING_ID),
    )

    state = given(name_claim.project, history)

    assert (state.owner_id, state.version, state.created_on) == (OTHER_DIALING_ID, 3, EARLIER)


def test_a_release_without_a_claim_folds_to_nothing():
    history = stream(UUID(int=9), ev(NameReleased, kind=KIND, name=NAME, owner_id=DIALING_ID))

    assert given(name_claim.project, history) is None
