"""What every aggregate shares: numbering events, folding, overrides, existence."""

from __future__ import annotations

import msgspec
import pytest

from domain.aggregate import Changes, apply_overrides, existing, pick, projector
from domain.errors import NotFound
from schemas.campaigns import DialingOverrides, SessionOverrides
from schemas.profiles import DialingSettings, Filtering, Pacing, SessionSettings, Treatment
from schemas.settings import NameClaimed, NameReleased
from tests.domain.builders import (
    ACCOUNT_ID,
    DIALING_ID,
    LIST_ID,
    NOW,
    a_list,
    an_account,
    expected,
)


def test_changes_number_events_after_the_aggregate_version():
    changes = Changes.of(an_account(), NOW)

    first = changes.record(NameClaimed, kind="k", name="n", owner_id=DIALING_ID)
    second = changes.record(NameReleased, kind="k", name="n", owner_id=DIALING_ID)

    assert changes.events == [first, second]
    assert first == expected(ACCOUNT_ID, 2, NameClaimed, kind="k", name="n", owner_id=DIALING_ID)
    assert second.originator_version == 3
    assert changes.version == 3


def test_changes_of_a_new_aggregate_start_at_version_one():
    changes = Changes(LIST_ID, ACCOUNT_ID, 0, NOW)

    event = changes.record(NameReleased, kind="k", name="n", owner_id=DIALING_ID)

    assert (event.originator_id, event.originator_version, event.account_id, event.timestamp) == (
        LIST_ID, 1, ACCOUNT_ID, NOW,
    )


def test_a_projector_folds_events_in_order():
    project = projector(lambda state, event: (state or ()) + (event,))

    assert project(None, []) is None
    assert project(None, [1, 2, 3]) == (1, 2, 3)
    assert project((0,), [1]) == (0, 1)


def test_overrides_replace_only_the_fields_they_set():
    base = DialingSettings(caller_id="+13125550100", filtering=Filtering(max_attempts=5))
    overrides = DialingOverrides(dialing_mode="predictive", treatments=[Treatment(call_result=7, action="redial")])

    result = apply_overrides(base, overrides)

    assert result == DialingSettings(
        dialing_mode="predictive",
        caller_id="+13125550100",
        filtering=Filtering(max_attempts=5),
        treatments=[Treatment(call_result=7, action="redial")],
    )


def test_an_overridden_nested_section_is_replaced_whole():
    base = DialingSettings(pacing=Pacing(lines_per_agent=3, answering_machine_detection=False))

    result = apply_overrides(base, DialingOverrides(pacing=Pacing(ring_timeout_seconds=30)))

    assert result.pacing == Pacing(ring_timeout_seconds=30)


def test_overrides_can_set_a_value_equal_to_a_default_or_empty():
    base = SessionSettings(agent_group="Team A", other_servers=["TServer"])

    result = apply_overrides(base, SessionOverrides(agent_group="", other_servers=[]))

    assert result == SessionSettings()


def test_no_overrides_return_the_base_itself():
    base = SessionSettings(agent_group="Team A")

    assert apply_overrides(base, SessionOverrides()) is base


def test_pick_takes_the_commands_value_unless_it_is_unset():
    assert pick(msgspec.UNSET, "current") == "current"
    assert pick("new", "current") == "new"
    assert pick(None, "current") is None
    assert pick("", "current") == ""


def test_existing_returns_a_live_aggregate():
    state = a_list()

    assert existing(state, "contact list", "id") is state


@pytest.mark.parametrize("state", [None, "archived"])
def test_existing_refuses_missing_and_deleted_aggregates(state):
    found = a_list(archived=True) if state else None

    with pytest.raises(NotFound) as info:
        existing(found, "contact list", "contact_list_ids[2]")

    assert (info.value.field, info.value.detail) == ("contact_list_ids[2]", "contact list not found")
