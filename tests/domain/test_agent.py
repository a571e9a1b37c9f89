"""Agent: every command in every state (allowed, changing nothing, or refused naming the state),
the preview and engage-agent-first flows, and the dialer's repeated commands stored once.

Histories are written by hand (never by the decisions under test).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid5

import pytest

from domain import agent
from domain.agent import STATES, Agent
from domain.errors import InvalidTransition, NotFound, RuleViolation
from schemas.agents import (
    AgentCallConnected,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentPreviewAccepted,
    AgentPreviewOffered,
    AgentPreviewRequested,
    AgentPreviewSkipped,
    AgentReady,
    AgentReservationReleased,
    AgentReserved,
    AgentWrapUpFinished,
    AgentWrapUpStarted,
)
from schemas.base import Event
from tests.domain.builders import (
    ACCOUNT_ID,
    EARLIER,
    GROUP_ID,
    NOW,
    OTHER_GROUP_ID,
    assert_events,
    ev,
    expected,
    given,
    refused,
    stream,
)

LOGIN = "amy"
AGENT_ID = agent.agent_id(ACCOUNT_ID, LOGIN)
TEAM = "Collections Team A"
RECORD = UUID("0e000000-0000-4000-8000-000000000001")
ATTEMPT = UUID("0f000000-0000-4000-8000-000000000001")  # the attempt the agent holds
NEW_RECORD = UUID("0e000000-0000-4000-8000-000000000002")
NEW_ATTEMPT = UUID("0f000000-0000-4000-8000-000000000002")  # a fresh attempt of the dialer

LOGGED_IN = ev(AgentLoggedIn, login=LOGIN, name="Amy Chen", agent_group=TEAM)
READY = ev(AgentReady)
HOLD = dict(campaign_group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT)

# Each state, as a history. "offered" and "accepted" are the reserved state of a preview record.
HISTORIES = {
    "logged_out": [LOGGED_IN, READY, ev(AgentLoggedOut)],
    "logged_in": [LOGGED_IN],
    "ready": [LOGGED_IN, READY],
    "not_ready": [LOGGED_IN, ev(AgentNotReady, reason="lunch")],
    "reserved": [LOGGED_IN, READY, ev(AgentReserved, **HOLD, purpose="engage")],
    "offered": [LOGGED_IN, READY, ev(AgentPreviewOffered, **HOLD)],
    "accepted": [
        LOGGED_IN,
        READY,
        ev(AgentPreviewOffered, **HOLD),
        ev(AgentPreviewAccepted, record_id=RECORD, attempt_id=ATTEMPT),
    ],
    "on_call": [LOGGED_IN, READY, ev(AgentCallConnected, **HOLD)],
    "wrap_up": [LOGGED_IN, READY, ev(AgentCallConnected, **HOLD), ev(AgentWrapUpStarted, attempt_id=ATTEMPT)],
}
HISTORY_STATES = {
    "logged_out": "logged_out",
    "logged_in": "logged_in",
    "ready": "ready",
    "not_ready": "not_ready",
    "reserved": "reserved",
    "offered": "reserved",
    "accepted": "reserved",
    "on_call": "on_call",
    "wrap_up": "wrap_up",
}


def history(name: str) -> list[Event]:
    return stream(AGENT_ID, *HISTORIES[name])


def agent_in(name: str) -> Agent:
    state = given(agent.project, history(name))
    assert state is not None and state.state == HISTORY_STATES[name]
    return state


def then(state: Agent, events: list[Event]) -> Agent:
    after = agent.project(state, events)
    assert after is not None
    return after


# Each command as the API or the dialer sends it (dialer commands about a fresh attempt,
# end_call about the attempt the agent holds).
COMMANDS: dict[str, Callable[[Agent], list[Event]]] = {
    "log_in": lambda a: agent.log_in(a, account_id=ACCOUNT_ID, login=LOGIN, agent_group=TEAM, now=NOW),
    "log_in_elsewhere": lambda a: agent.log_in(
        a, account_id=ACCOUNT_ID, login=LOGIN, agent_group="Sales", now=NOW
    ),
    "log_out": lambda a: agent.log_out(a, now=NOW),
    "ready": lambda a: agent.ready(a, now=NOW),
    "not_ready": lambda a: agent.not_ready(a, "break", now=NOW),
    "request_preview": lambda a: agent.request_preview(a, group_id=GROUP_ID, group_agent_group=TEAM, now=NOW),
    "reserve": lambda a: agent.reserve(
        a, group_id=GROUP_ID, record_id=NEW_RECORD, attempt_id=NEW_ATTEMPT, purpose="engage", now=NOW
    ),
    "release": lambda a: agent.release(a, "busy", now=NOW),
    "offer_preview": lambda a: agent.offer_preview(
        a, group_id=GROUP_ID, record_id=NEW_RECORD, attempt_id=NEW_ATTEMPT, now=NOW
    ),
    "accept_preview": lambda a: agent.accept_preview(a, now=NOW),
    "skip_preview": lambda a: agent.skip_preview(a, now=NOW),
    "connect_call": lambda a: agent.connect_call(
        a, group_id=GROUP_ID, record_id=NEW_RECORD, attempt_id=NEW_ATTEMPT, now=NOW
    ),
    "end_call": lambda a: agent.end_call(a, ATTEMPT, now=NOW),
    "finish_wrap_up": lambda a: agent.finish_wrap_up(a, now=NOW),
}

NOTHING = "nothing"
# (history, command) -> (event class, state after) or NOTHING; every pair not listed is refused.
ALLOWED: dict[tuple[str, str], Any] = {
    ("logged_out", "log_in"): (AgentLoggedIn, "logged_in"),
    ("logged_out", "log_in_elsewhere"): (AgentLoggedIn, "logged_in"),
    **{(s, "log_in"): NOTHING for s in HISTORIES if s != "logged_out"},
    ("logged_out", "log_out"): NOTHING,
    **{
        (s, "log_out"): (AgentLoggedOut, "logged_out") for s in ("logged_in", "ready", "not_ready", "wrap_up")
    },
    ("logged_in", "ready"): (AgentReady, "ready"),
    ("not_ready", "ready"): (AgentReady, "ready"),
    ("ready", "ready"): NOTHING,
    ("wrap_up", "ready"): (AgentWrapUpFinished, "ready"),
    ("logged_in", "not_ready"): (AgentNotReady, "not_ready"),
    ("ready", "not_ready"): (AgentNotReady, "not_ready"),
    ("not_ready", "not_ready"): (AgentNotReady, "not_ready"),  # another reason (lunch -> break)
    ("wrap_up", "not_ready"): (AgentWrapUpFinished, "not_ready"),
    ("ready", "request_preview"): (AgentPreviewRequested, "ready"),
    ("ready", "reserve"): (AgentReserved, "reserved"),
    ("reserved", "release"): (AgentReservationReleased, "ready"),
    ("offered", "release"): (AgentReservationReleased, "ready"),
    ("accepted", "release"): (AgentReservationReleased, "ready"),
    ("ready", "offer_preview"): (AgentPreviewOffered, "reserved"),
    ("offered", "accept_preview"): (AgentPreviewAccepted, "reserved"),
    ("accepted", "accept_preview"): NOTHING,
    ("offered", "skip_preview"): (AgentPreviewSkipped, "ready"),
    ("ready", "connect_call"): (AgentCallConnected, "on_call"),
    ("on_call", "end_call"): (AgentWrapUpStarted, "wrap_up"),
    ("wrap_up", "end_call"): NOTHING,  # the dialer reporting the end again
    ("wrap_up", "finish_wrap_up"): (AgentWrapUpFinished, "ready"),
}
PAIRS = [(h, c) for h in HISTORIES for c in COMMANDS]


@pytest.mark.parametrize(("name", "command"), PAIRS, ids=[f"{h}-{c}" for h, c in PAIRS])
def test_every_command_in_every_state(name: str, command: str) -> None:
    state = agent_in(name)
    outcome = ALLOWED.get((name, command))
    if outcome is None:
        with pytest.raises(InvalidTransition) as info:
            COMMANDS[command](state)
        assert info.value.detail.startswith(f"agent {LOGIN!r} "), info.value.detail
        assert info.value.field == ("agent_group" if command == "log_in_elsewhere" else "state")
        return
    events = COMMANDS[command](state)
    if outcome == NOTHING:
        assert events == []
        return
    event_class, state_after = outcome
    assert [type(e) for e in events] == [event_class]
    assert (events[0].originator_id, events[0].originator_version) == (AGENT_ID, state.version + 1)
    assert_events(events, events)  # survives the wire contract
    after = then(state, events)
    assert after.state == state_after
    assert after.version == state.version + 1


def test_the_matrix_covers_every_state() -> None:
    assert set(HISTORY_STATES.values()) == set(STATES)


# Log in and out ------------------------------------------------------------------------


def test_the_first_login_makes_the_agent_under_its_derived_id() -> None:
    events = agent.log_in(
        None,
        account_id=ACCOUNT_ID,
        login=LOGIN,
        agent_group="  Collections   Team A ",
        name=" Amy  Chen",
        now=NOW,
    )

    assert_events(
        events, [expected(AGENT_ID, 1, AgentLoggedIn, login=LOGIN, name="Amy Chen", agent_group=TEAM)]
    )
    state = given(agent.project, events)
    assert (state.state, state.since, state.agent_group, state.simulated) == ("logged_in", NOW, TEAM, False)


def test_the_agent_id_derives_from_account_and_login() -> None:
    assert agent.agent_id(ACCOUNT_ID, "amy") == uuid5(ACCOUNT_ID, "agent:amy") == AGENT_ID
    assert agent.agent_id(ACCOUNT_ID, "Amy") != AGENT_ID
    assert agent.agent_id(UUID(int=1), LOGIN) != AGENT_ID


@pytest.mark.parametrize("login", ["", "amy chen", "amy/2", "tab\there", "x" * 101])
def test_a_bad_login_is_refused(login: str) -> None:
    with refused(RuleViolation, "login"):
        agent.log_in(None, account_id=ACCOUNT_ID, login=login, agent_group=TEAM, now=NOW)


def test_a_login_needs_an_agent_group() -> None:
    with refused(RuleViolation, "agent_group"):
        agent.log_in(None, account_id=ACCOUNT_ID, login=LOGIN, agent_group="   ", now=NOW)


def test_logging_in_to_another_group_while_logged_in_says_log_out_first() -> None:
    with refused(InvalidTransition, "agent_group") as info:
        agent.log_in(agent_in("ready"), account_id=ACCOUNT_ID, login=LOGIN, agent_group="Sales", now=NOW)
    assert "'Collections Team A'" in info.value.detail and "log out first" in info.value.detail


def test_after_logging_out_the_agent_may_log_in_to_another_group_and_keeps_its_history() -> None:
    state = agent_in("logged_out")
    events = agent.log_in(
        state, account_id=ACCOUNT_ID, login=LOGIN, agent_group="Sales", simulated=True, now=NOW
    )

    assert_events(
        events,
        [expected(AGENT_ID, 4, AgentLoggedIn, login=LOGIN, name="", agent_group="Sales", simulated=True)],
    )
    after = then(state, events)
    assert (after.state, after.agent_group, after.simulated, after.created_on) == (
        "logged_in",
        "Sales",
        True,
        EARLIER,
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("on_call", "is on a call"),
        ("reserved", "is reserved for a call"),
        ("offered", "has a preview record offered"),
    ],
)
def test_logging_out_mid_call_is_refused_with_what_to_do(name: str, words: str) -> None:
    with refused(InvalidTransition, "state") as info:
        agent.log_out(agent_in(name), now=NOW)
    assert info.value.detail.startswith(f"agent 'amy' {words}; "), info.value.detail


def test_a_command_to_an_agent_that_never_logged_in_is_not_found() -> None:
    with refused(NotFound, "login"):
        agent.ready(None, now=NOW)


# Ready, not ready, wrap-up ---------------------------------------------------------------


def test_not_ready_with_the_reason_it_has_changes_nothing_and_another_reason_is_recorded() -> None:
    state = agent_in("not_ready")
    assert agent.not_ready(state, " lunch ", now=NOW) == []

    events = agent.not_ready(state, "training", now=NOW)

    assert_events(events, [expected(AGENT_ID, 3, AgentNotReady, reason="training")])
    after = then(state, events)
    assert (after.state, after.reason, after.since) == ("not_ready", "training", NOW)


def test_ready_or_not_ready_from_wrap_up_finish_it() -> None:
    state = agent_in("wrap_up")
    assert_events(agent.ready(state, now=NOW), [expected(AGENT_ID, 5, AgentWrapUpFinished, then="ready")])
    events = agent.not_ready(state, "coaching", now=NOW)
    assert_events(events, [expected(AGENT_ID, 5, AgentWrapUpFinished, then="not_ready", reason="coaching")])

    after = then(state, events)

    assert (after.state, after.reason, after.attempt_id, after.campaign_group_id) == (
        "not_ready",
        "coaching",
        None,
        None,
    )
    assert after.last_attempt_id == ATTEMPT


def test_finishing_wrap_up_then_not_ready_keeps_the_reason_and_then_ready_drops_it() -> None:
    state = agent_in("wrap_up")
    assert_events(
        agent.finish_wrap_up(state, "not_ready", "coaching", now=NOW),
        [expected(AGENT_ID, 5, AgentWrapUpFinished, then="not_ready", reason="coaching")],
    )
    assert_events(
        agent.finish_wrap_up(state, "ready", "coaching", now=NOW),
        [expected(AGENT_ID, 5, AgentWrapUpFinished, then="ready", reason="")],
    )
    with refused(RuleViolation, "then"):
        agent.finish_wrap_up(state, "lunch", now=NOW)


def test_the_dialer_finishing_a_wrap_up_again_stores_nothing() -> None:
    state = agent_in("wrap_up")
    with refused(InvalidTransition, "state"):
        agent.finish_wrap_up(state, attempt_id=NEW_ATTEMPT, now=NOW)
    after = then(state, agent.finish_wrap_up(state, attempt_id=ATTEMPT, now=NOW))

    assert agent.finish_wrap_up(after, attempt_id=ATTEMPT, now=NOW) == []
    with refused(InvalidTransition, "state"):
        agent.finish_wrap_up(after, now=NOW)  # without the attempt, not a repeat: nothing to finish


def test_since_is_when_the_state_began() -> None:
    later = NOW + timedelta(minutes=5)
    state = agent_in("ready")
    assert state.since == EARLIER
    requested = then(state, agent.request_preview(state, group_id=GROUP_ID, group_agent_group=TEAM, now=NOW))
    assert (requested.state, requested.since) == ("ready", EARLIER)
    offered = then(
        requested,
        agent.offer_preview(requested, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=later),
    )
    assert (offered.state, offered.since) == ("reserved", later)


# Preview ---------------------------------------------------------------------------------


def test_pull_preview_request_offer_accept_call_wrap_up() -> None:
    state = agent_in("ready")
    events = agent.request_preview(state, group_id=GROUP_ID, group_agent_group=TEAM, now=NOW)
    assert_events(events, [expected(AGENT_ID, 3, AgentPreviewRequested, campaign_group_id=GROUP_ID)])
    state = then(state, events)
    assert (state.state, state.preview, state.campaign_group_id) == ("ready", "requested", GROUP_ID)
    assert agent.request_preview(state, group_id=GROUP_ID, group_agent_group=TEAM, now=NOW) == []

    events = agent.offer_preview(state, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)
    assert_events(events, [expected(AGENT_ID, 4, AgentPreviewOffered, **HOLD)])
    state = then(state, events)
    assert (state.state, state.purpose, state.preview, state.record_id, state.attempt_id) == (
        "reserved",
        "preview",
        "offered",
        RECORD,
        ATTEMPT,
    )
    with refused(InvalidTransition, "state") as info:
        agent.connect_call(state, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)
    assert "not accepted" in info.value.detail

    events = agent.accept_preview(state, now=NOW)
    assert_events(events, [expected(AGENT_ID, 5, AgentPreviewAccepted, record_id=RECORD, attempt_id=ATTEMPT)])
    state = then(state, events)
    assert state.preview == "accepted"
    with refused(InvalidTransition, "state") as info:
        agent.skip_preview(state, now=NOW)
    assert "can no longer be skipped" in info.value.detail

    events = agent.connect_call(state, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)
    assert_events(events, [expected(AGENT_ID, 6, AgentCallConnected, **HOLD)])
    state = then(state, events)
    assert (state.state, state.purpose, state.preview) == ("on_call", "", "")

    state = then(state, agent.end_call(state, ATTEMPT, now=NOW))
    state = then(state, agent.finish_wrap_up(state, now=NOW))
    assert (state.state, state.attempt_id, state.record_id, state.last_attempt_id) == (
        "ready",
        None,
        None,
        ATTEMPT,
    )


def test_a_skipped_record_leaves_the_agent_ready_and_holding_nothing() -> None:
    state = agent_in("offered")
    events = agent.skip_preview(state, now=NOW)
    assert_events(events, [expected(AGENT_ID, 4, AgentPreviewSkipped, record_id=RECORD, attempt_id=ATTEMPT)])
    after = then(state, events)
    assert (after.state, after.campaign_group_id, after.record_id, after.attempt_id, after.preview) == (
        "ready",
        None,
        None,
        None,
        "",
    )
    with refused(InvalidTransition, "state") as info:
        agent.skip_preview(after, now=NOW)
    assert info.value.detail == "agent 'amy' is ready; it has no preview record to skip"
    assert agent.offer_preview(after, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW) == []


def test_a_preview_of_a_group_of_another_agent_group_is_refused() -> None:
    with refused(RuleViolation, "campaign_group_id") as info:
        agent.request_preview(agent_in("ready"), group_id=GROUP_ID, group_agent_group="Sales", now=NOW)
    assert "'Sales'" in info.value.detail and f"'{TEAM}'" in info.value.detail


def test_asking_for_a_record_of_another_group_replaces_the_request() -> None:
    state = then(
        agent_in("ready"),
        agent.request_preview(agent_in("ready"), group_id=GROUP_ID, group_agent_group=TEAM, now=NOW),
    )
    events = agent.request_preview(state, group_id=OTHER_GROUP_ID, group_agent_group=TEAM, now=NOW)
    assert then(state, events).campaign_group_id == OTHER_GROUP_ID


def test_a_not_ready_agent_must_be_ready_to_ask_for_a_record() -> None:
    with refused(InvalidTransition, "state") as info:
        agent.request_preview(agent_in("not_ready"), group_id=GROUP_ID, group_agent_group=TEAM, now=NOW)
    assert info.value.detail == "agent 'amy' is not ready (lunch); make it ready first"


def test_a_preview_hold_without_a_record_is_filled_by_the_offer() -> None:
    state = agent_in("ready")
    events = agent.reserve(
        state, group_id=GROUP_ID, record_id=None, attempt_id=None, purpose="preview", now=NOW
    )
    assert_events(
        events,
        [
            expected(
                AGENT_ID,
                3,
                AgentReserved,
                campaign_group_id=GROUP_ID,
                record_id=None,
                attempt_id=None,
                purpose="preview",
            )
        ],
    )
    state = then(state, events)
    assert (
        agent.reserve(state, group_id=GROUP_ID, record_id=None, attempt_id=None, purpose="preview", now=NOW)
        == []
    )
    with refused(InvalidTransition, "state"):
        agent.offer_preview(state, group_id=OTHER_GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)

    events = agent.offer_preview(state, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)

    assert_events(events, [expected(AGENT_ID, 4, AgentPreviewOffered, **HOLD)])
    assert then(state, events).preview == "offered"


def test_a_preview_hold_naming_its_attempt_is_filled_by_the_offer_of_that_attempt() -> None:
    state = agent_in("ready")
    state = then(
        state,
        agent.reserve(
            state, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, purpose="preview", now=NOW
        ),
    )
    with refused(InvalidTransition, "state"):
        agent.offer_preview(state, group_id=GROUP_ID, record_id=NEW_RECORD, attempt_id=NEW_ATTEMPT, now=NOW)
    events = agent.offer_preview(state, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)
    assert [type(e) for e in events] == [AgentPreviewOffered]
    assert (
        agent.offer_preview(
            then(state, events), group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW
        )
        == []
    )


# Engage-agent-first and calls ----------------------------------------------------------------


def test_a_reserved_agent_is_connected_to_the_call_placed_for_it_only() -> None:
    state = agent_in("reserved")
    with refused(InvalidTransition, "state") as info:
        agent.connect_call(state, group_id=OTHER_GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)
    assert "another campaign group" in info.value.detail
    with refused(InvalidTransition, "state") as info:
        agent.connect_call(state, group_id=GROUP_ID, record_id=NEW_RECORD, attempt_id=NEW_ATTEMPT, now=NOW)
    assert (
        info.value.detail
        == f"agent 'amy' is reserved for a call; it is held for another call (attempt {ATTEMPT})"
    )

    events = agent.connect_call(state, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)

    assert_events(events, [expected(AGENT_ID, 4, AgentCallConnected, **HOLD)])


def test_an_agent_reserved_before_the_record_was_drawn_is_connected_to_the_call_of_its_group() -> None:
    state = agent_in("ready")
    state = then(
        state,
        agent.reserve(state, group_id=GROUP_ID, record_id=None, attempt_id=None, purpose="engage", now=NOW),
    )
    events = agent.connect_call(state, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)
    after = then(state, events)
    assert (after.state, after.record_id, after.attempt_id) == ("on_call", RECORD, ATTEMPT)


def test_an_agent_reserved_before_the_record_was_drawn_is_released_by_the_attempt_that_failed() -> None:
    state = agent_in("ready")
    state = then(
        state,
        agent.reserve(state, group_id=GROUP_ID, record_id=None, attempt_id=None, purpose="engage", now=NOW),
    )
    events = agent.release(state, "no_answer", attempt_id=ATTEMPT, now=NOW)
    assert_events(events, [expected(AGENT_ID, 4, AgentReservationReleased, reason="no_answer")])


def test_ending_another_call_than_the_agents_is_refused() -> None:
    with refused(InvalidTransition, "state") as info:
        agent.end_call(agent_in("on_call"), NEW_ATTEMPT, now=NOW)
    assert info.value.detail.startswith("agent 'amy' is on a call; that is another call")


def test_a_connected_call_is_ended_not_released() -> None:
    with refused(InvalidTransition, "state") as info:
        agent.release(agent_in("on_call"), attempt_id=ATTEMPT, now=NOW)
    assert "end it instead" in info.value.detail


def test_releasing_another_attempt_than_the_held_one_is_refused() -> None:
    with refused(InvalidTransition, "state") as info:
        agent.release(agent_in("reserved"), attempt_id=NEW_ATTEMPT, now=NOW)
    assert "held for another call" in info.value.detail


def test_a_reservation_needs_a_purpose_the_contract_knows() -> None:
    with refused(RuleViolation, "purpose"):
        agent.reserve(
            agent_in("ready"),
            group_id=GROUP_ID,
            record_id=None,
            attempt_id=None,
            purpose="spy",
            now=NOW,  # type: ignore[arg-type]
        )


# The dialer repeating itself -------------------------------------------------------------------


def fold(state: Agent, decide: Callable[[Agent], list[Event]]) -> Agent:
    return then(state, decide(state))


RESERVE = lambda a: agent.reserve(  # noqa: E731
    a, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, purpose="engage", now=NOW
)
OFFER = lambda a: agent.offer_preview(a, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW)  # noqa: E731
CONNECT = lambda a: agent.connect_call(  # noqa: E731
    a, group_id=GROUP_ID, record_id=RECORD, attempt_id=ATTEMPT, now=NOW
)
END = lambda a: agent.end_call(a, ATTEMPT, now=NOW)  # noqa: E731
RELEASE = lambda a: agent.release(a, "busy", attempt_id=ATTEMPT, now=NOW)  # noqa: E731
FINISH = lambda a: agent.finish_wrap_up(a, attempt_id=ATTEMPT, now=NOW)  # noqa: E731
DIALER = {
    "reserve": RESERVE,
    "offer": OFFER,
    "connect": CONNECT,
    "end": END,
    "release": RELEASE,
    "finish": FINISH,
}

# Each sequence the dialer runs for one attempt; after each step, every earlier step repeated stores nothing.
SEQUENCES = {
    "engage": ["reserve", "connect", "end", "finish"],
    "engage released": ["reserve", "release"],
    "progressive": ["connect", "end", "finish"],
    "push preview": ["offer"],
}


@pytest.mark.parametrize("sequence", SEQUENCES, ids=list(SEQUENCES))
def test_every_step_repeated_later_stores_nothing(sequence: str) -> None:
    state = agent_in("ready")
    steps = SEQUENCES[sequence]
    for index, step in enumerate(steps):
        events = DIALER[step](state)
        assert len(events) == 1, step
        state = then(state, events)
        for earlier in steps[: index + 1]:
            assert DIALER[earlier](state) == [], f"{earlier} repeated after {step}"


def test_a_late_repeat_about_an_old_call_does_not_touch_the_new_reservation() -> None:
    state = agent_in("ready")
    for step in (CONNECT, END, FINISH):
        state = fold(state, step)
    state = fold(
        state,
        lambda a: agent.reserve(
            a, group_id=GROUP_ID, record_id=NEW_RECORD, attempt_id=None, purpose="engage", now=NOW
        ),
    )

    for repeat in (RESERVE, OFFER, CONNECT, END, RELEASE, FINISH):
        assert repeat(state) == []
    assert (state.state, state.record_id, state.attempt_id) == ("reserved", NEW_RECORD, None)


def test_an_attempt_released_before_is_neither_reserved_nor_connected_again() -> None:
    state = fold(fold(agent_in("ready"), RESERVE), RELEASE)
    assert state.state == "ready"
    assert RESERVE(state) == [] and CONNECT(state) == [] and RELEASE(state) == []


# Folding -------------------------------------------------------------------------------------


def test_events_before_the_login_fold_to_nothing() -> None:
    (ready,) = stream(AGENT_ID, READY)
    assert agent.evolve(None, ready) is None
