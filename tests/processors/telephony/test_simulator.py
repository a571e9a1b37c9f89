"""The telephony simulator's model: configured rates and timings come out of it (within
statistical tolerance), the same seed gives the same run, virtual time never waits, and the
wall clock works for a short real run."""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from uuid import UUID

import pytest

from processors.telephony.port import TERMINAL_KINDS, Progress
from processors.telephony.simulator import (
    AmdErrors,
    CallModel,
    Rates,
    SimulatedTelephony,
    Timings,
    VirtualClock,
    WallClock,
)
from tests.processors.telephony.driving import AGENT, by_call, call, kinds, only, run, telephony

OUTCOME_OF = {
    "answered_person": "person",
    "answering_machine": "machine",
    "fax": "fax",
    "busy": "busy",
    "no_answer": "no_answer",
    "sit_invalid": "invalid",
    "network_error": "network_error",
}


def outcomes(events: list[Progress]) -> Counter[str]:
    """How each call went: its first answer or failure kind."""
    seen: Counter[str] = Counter()
    for progresses in by_call(events).values():
        first = next(p.kind for p in progresses if p.kind in OUTCOME_OF)
        seen[OUTCOME_OF[first]] += 1
    return seen


def place_all(tel: SimulatedTelephony, n: int, *, ring_timeout_s: int = 30, amd: bool = True) -> None:
    for i in range(n):
        tel.place(call(i, ring_timeout_s=ring_timeout_s, amd=amd))


def within(observed: float, expected: float, standard_error: float, z: float = 4.0) -> bool:
    return abs(observed - expected) <= z * standard_error


# -- configuration -------------------------------------------------------------------------


def test_rates_must_be_probabilities_summing_to_at_most_one() -> None:
    with pytest.raises(ValueError, match="sum"):
        Rates(answer_person=0.6, machine=0.5)
    with pytest.raises(ValueError, match="busy"):
        Rates(busy=-0.1)
    rates = Rates(answer_person=0.3, machine=0.0, fax=0.0, busy=0.1, invalid=0.0, network_error=0.0)
    probabilities = rates.probabilities()
    assert probabilities["no_answer"] == pytest.approx(0.6)
    assert sum(probabilities.values()) == pytest.approx(1.0)


def test_timings_refuse_backward_spans_and_a_non_positive_mean() -> None:
    with pytest.raises(ValueError, match="answer_s"):
        Timings(answer_s=(20.0, 4.0))
    with pytest.raises(ValueError, match="talk_mean_s"):
        Timings(talk_mean_s=0.0)


def test_the_virtual_clock_does_not_go_back() -> None:
    clock = VirtualClock(10.0)
    clock.advance_to(12.5)
    assert clock.now() == 12.5
    with pytest.raises(ValueError):
        clock.advance_to(12.0)


# -- determinism ---------------------------------------------------------------------------


def _connect_all(tel: SimulatedTelephony) -> Callable[[Progress], None]:
    """A dialer that connects every person and leaves a message on every machine."""

    def react(progress: Progress) -> None:
        if progress.kind == "answered_person":
            tel.connect(progress.call_id, AGENT)
        elif progress.kind == "answering_machine":
            tel.drop_with_message(progress.call_id, "message")

    return react


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    def one_run(seed: int) -> list[Progress]:
        tel, clock = telephony(seed)
        place_all(tel, 500)
        return run(tel, clock, _connect_all(tel))

    first, again, other = one_run(42), one_run(42), one_run(43)
    assert first == again
    assert first != other
    assert len(first) > 1000


def test_each_calls_fate_does_not_depend_on_what_the_dialer_did_before() -> None:
    """Call n gets the same draws whatever happened to calls 0..n-1 (common random numbers)."""

    def answers(connect: bool) -> dict[UUID, tuple[str, float]]:
        tel, clock = telephony(7)
        place_all(tel, 300)

        def hang_up_on_people(progress: Progress) -> None:
            if progress.kind == "answered_person":
                tel.hang_up(progress.call_id)

        events = run(tel, clock, _connect_all(tel) if connect else hang_up_on_people)
        return {p.call_id: (p.kind, p.at) for p in events if p.kind in OUTCOME_OF}

    assert answers(connect=True) == answers(connect=False)


# -- rates ---------------------------------------------------------------------------------


def test_observed_outcomes_match_the_configured_rates() -> None:
    rates = Rates(answer_person=0.28, machine=0.17, fax=0.02, busy=0.09, invalid=0.06, network_error=0.015)
    n = 20_000
    tel, clock = telephony(2024, rates)
    place_all(tel, n, ring_timeout_s=30)  # every answer comes before the timeout
    seen = outcomes(run(tel, clock))
    assert sum(seen.values()) == n
    for outcome, p in rates.probabilities().items():
        assert within(seen[outcome], n * p, math.sqrt(n * p * (1 - p))), (outcome, seen[outcome], n * p)


def test_each_list_gets_its_own_rates_and_other_lists_the_default() -> None:
    busy_list, live_list = UUID(int=101), UUID(int=102)
    tel, clock = telephony(
        3, only(), rates_by_list={busy_list: only(busy=1.0), live_list: only(answer_person=1.0)}
    )  # the default: no answer
    for i in range(50):
        tel.place(call(i, list_id=busy_list))
        tel.place(call(100 + i, list_id=live_list))
        tel.place(call(200 + i, list_id=UUID(int=999)))
        tel.place(call(300 + i))
    seen = outcomes(run(tel, clock))
    assert seen == Counter({"busy": 50, "person": 50, "no_answer": 100})


def test_an_answer_later_than_the_ring_timeout_is_a_no_answer() -> None:
    """Answers come U(4, 20) s after the dial; with a 15 s timeout 5/16 of them are too late."""
    n = 20_000
    tel, clock = telephony(11, only(answer_person=0.3))
    place_all(tel, n, ring_timeout_s=15)
    seen = outcomes(run(tel, clock))
    p = 0.3 * 11 / 16
    assert within(seen["person"], n * p, math.sqrt(n * p * (1 - p))), seen


# -- timings -------------------------------------------------------------------------------


def _durations(events: list[Progress], start: str, end: str) -> list[float]:
    spans = []
    for progresses in by_call(events).values():
        at = {p.kind: p.at for p in progresses}
        if start in at and end in at:
            spans.append(at[end] - at[start])
    return spans


def test_no_answer_ends_exactly_at_the_ring_timeout_and_failures_come_sooner() -> None:
    rates = only(busy=0.3, invalid=0.1, network_error=0.1)
    tel, clock = telephony(5, rates)
    placed_at: dict[UUID, float] = {}
    for i in range(2_000):
        clock.advance_to(i * 0.5)
        tel.place(call(i, ring_timeout_s=25))
        placed_at[call(i).call_id] = clock.now()
    ends = {p.call_id: p for p in run(tel, clock) if p.kind in TERMINAL_KINDS}
    by_kind: dict[str, list[float]] = {}
    for call_id, end in ends.items():
        by_kind.setdefault(end.kind, []).append(end.at - placed_at[call_id])
    assert set(by_kind) == {"no_answer", "busy", "sit_invalid", "network_error"}
    assert all(d == pytest.approx(25.0) for d in by_kind["no_answer"])
    for kind in ("busy", "sit_invalid", "network_error"):
        assert min(by_kind[kind]) >= 3.0 and max(by_kind[kind]) <= 10.0
        assert statistics.fmean(by_kind[kind]) == pytest.approx(6.5, abs=0.4)


def test_ring_time_to_a_live_answer_and_talk_time_have_the_configured_distributions() -> None:
    timings = Timings(talk_mean_s=120.0, talk_sigma=0.7)
    tel, clock = telephony(9, only(answer_person=1.0), timings)
    n = 5_000
    placed_at: dict[UUID, float] = {}
    connected_from: dict[UUID, float] = {}
    for i in range(n):
        tel.place(call(i, amd=False))
        placed_at[call(i).call_id] = 0.0

    def react(progress: Progress) -> None:
        if progress.kind == "answered_person":
            connected_from[progress.call_id] = clock.now()
            tel.connect(progress.call_id, AGENT)

    events = run(tel, clock, react)
    rings = [p.at - placed_at[p.call_id] for p in events if p.kind == "answered_person"]
    assert len(rings) == n and min(rings) >= 4.0 and max(rings) <= 20.0
    assert within(statistics.fmean(rings), 12.0, 16 / math.sqrt(12) / math.sqrt(n))

    transfers = [p.at - connected_from[p.call_id] for p in events if p.kind == "connected"]
    assert len(transfers) == n and min(transfers) >= 0.6 and max(transfers) <= 1.4

    talks = _durations(events, "connected", "remote_hangup")
    assert len(talks) == n
    sd = 120.0 * math.sqrt(math.exp(0.7**2) - 1)
    assert within(statistics.fmean(talks), 120.0, sd / math.sqrt(n))
    logs = [math.log(t) for t in talks]  # lognormal: the logs are normal with the right moments
    assert within(statistics.fmean(logs), math.log(120.0) - 0.7**2 / 2, 0.7 / math.sqrt(n))
    assert statistics.stdev(logs) == pytest.approx(0.7, rel=0.05)


def test_machine_detection_and_an_unattended_persons_patience() -> None:
    rates = only(answer_person=0.5, machine=0.5)
    tel, clock = telephony(13, rates)
    place_all(tel, 2_000, amd=True)
    events = run(tel, clock)
    kinds_seen = Counter(p.kind for p in events)
    assert kinds_seen["answered_person"] + kinds_seen["answering_machine"] == 2_000
    patience = _durations(events, "answered_person", "remote_hangup")
    # greeting 1.44 s after pick-up, then 3-7 s of silence (pick-up is 0.15-0.4 s before the AMD verdict)
    assert min(patience) >= 1.44 + 3.0 - 0.4 and max(patience) <= 1.44 + 7.0 - 0.15
    assert statistics.fmean(patience) == pytest.approx(1.44 + 5.0 - 0.275, abs=0.15)
    recording = _durations(events, "answering_machine", "remote_hangup")
    assert min(recording) >= 10.0 - 0.4 and max(recording) <= 30.0


def test_without_amd_a_machine_passes_for_a_person_and_talks_for_its_message() -> None:
    rates = only(machine=1.0)
    tel, clock = telephony(17, rates)
    place_all(tel, 200, amd=False)

    def react(progress: Progress) -> None:
        if progress.kind == "answered_person":
            tel.connect(progress.call_id, AGENT)

    events = run(tel, clock, react)
    assert "answering_machine" not in kinds(events)
    talks = _durations(events, "connected", "remote_hangup")
    assert len(talks) == 200 and min(talks) >= 10.0 and max(talks) <= 30.0


def test_amd_errors_mislabel_the_configured_share_and_the_truth_stays_known() -> None:
    n = 10_000
    clock = VirtualClock()
    model = CallModel(
        41,
        default_rates=only(answer_person=0.5, machine=0.5),
        amd_errors=AmdErrors(person_as_machine=0.1, machine_as_person=0.2),
    )
    tel = SimulatedTelephony(model, clock)
    place_all(tel, n, amd=True)
    told: Counter[tuple[str, str | None]] = Counter()
    first_call = call(0).call_id
    assert tel.answered_by(first_call) is None  # not answered yet

    def react(progress: Progress) -> None:
        if progress.kind in ("answered_person", "answering_machine"):
            told[(progress.kind, tel.answered_by(progress.call_id))] += 1
            tel.drop_with_message(progress.call_id, "message")

    run(tel, clock, react)
    assert tel.answered_by(first_call) is None  # over
    people = told[("answered_person", "person")] + told[("answering_machine", "person")]
    machines = told[("answering_machine", "machine")] + told[("answered_person", "machine")]
    assert people + machines == n
    assert within(told[("answering_machine", "person")], people * 0.1, math.sqrt(people * 0.1 * 0.9))
    assert within(told[("answered_person", "machine")], machines * 0.2, math.sqrt(machines * 0.2 * 0.8))

    # Without AMD nothing is classed, so nothing is misclassed.
    always_wrong = CallModel(41, default_rates=only(answer_person=1.0), amd_errors=AmdErrors(1.0, 1.0))
    without_amd = SimulatedTelephony(always_wrong, other_clock := VirtualClock())
    without_amd.place(call(1, amd=False))
    assert kinds(run(without_amd, other_clock)) == ["ringing", "answered_person", "remote_hangup"]


def test_a_person_whose_patience_ends_during_the_transfer_hangs_up_unconnected() -> None:
    timings = Timings(transfer_s=(30.0, 30.0))  # far longer than anyone waits
    tel, clock = telephony(19, only(answer_person=1.0), timings)
    tel.place(call(1))

    def react(progress: Progress) -> None:
        if progress.kind == "answered_person":
            assert tel.connect(progress.call_id, AGENT)  # accepted; the hang-up wins the race

    events = run(tel, clock, react)
    assert kinds(events) == ["ringing", "answered_person", "remote_hangup"]


def test_wrap_up_times_have_the_configured_mean_and_do_not_shift_the_calls() -> None:
    model = CallModel(23)
    n = 20_000
    wraps = [model.wrap_up_s() for _ in range(n)]
    sd = 15.0 * math.sqrt(math.exp(0.5**2) - 1)
    assert within(statistics.fmean(wraps), 15.0, sd / math.sqrt(n))
    assert min(wraps) > 0
    untouched = CallModel(23)
    assert model.plan(call(1)) == untouched.plan(call(1))


# -- time ----------------------------------------------------------------------------------


def test_virtual_time_never_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sleep(seconds: float) -> None:
        raise AssertionError("the simulator slept")

    monkeypatch.setattr(time, "sleep", no_sleep)
    tel, clock = telephony(29)
    placed = 0
    ended = 0
    react = _connect_all(tel)
    while placed < 10_000 or tel.next_due() is not None:
        while placed < 10_000 and tel.calls_in_progress() < 200:  # a dialer keeping 200 lines busy
            tel.place(call(placed))
            placed += 1
        due = tel.next_due()
        assert due is not None
        clock.advance_to(max(due, clock.now()))
        for progress in tel.poll():
            ended += progress.kind in TERMINAL_KINDS
            react(progress)
    assert ended == 10_000
    assert clock.now() > 3_600  # over an hour of calls, none of it waited for (no_sleep above)


def test_the_wall_clock_runs_a_short_call_for_real() -> None:
    tiny = Timings(
        alerting_s=(0.01, 0.01),
        answer_s=(0.05, 0.05),
        amd_s=(0.01, 0.01),
        greeting_s=0.0,
        patience_s=(5.0, 5.0),
        transfer_s=(0.02, 0.02),
        talk_mean_s=0.1,
        talk_sigma=0.0,
    )
    live = only(answer_person=1.0)
    tel = SimulatedTelephony(CallModel(31, default_rates=live, timings=tiny), WallClock())
    placed_at = time.monotonic()
    tel.place(call(1))
    heard: list[Progress] = []
    while not heard or heard[-1].kind not in TERMINAL_KINDS:
        assert time.monotonic() - placed_at < 1.0, heard
        for progress in tel.poll():
            heard.append(progress)
            if progress.kind == "answered_person":
                tel.connect(progress.call_id, AGENT)
        time.sleep(0.002)
    assert kinds(heard) == ["ringing", "answered_person", "connected", "remote_hangup"]
    assert heard[1].at - placed_at == pytest.approx(0.06, abs=0.01)  # 50 ms ringing + 10 ms AMD
    assert heard[3].at - heard[2].at == pytest.approx(0.1)  # the talk
    assert time.monotonic() - placed_at >= 0.17


def test_the_wall_clock_simulator_can_be_read_from_another_thread() -> None:
    tiny = Timings(alerting_s=(0.0, 0.005), answer_s=(0.01, 0.03), busy_s=(0.0, 0.02), sit_s=(0.0, 0.02),
                   network_error_s=(0.0, 0.02), greeting_s=0.0, patience_s=(0.01, 0.02), machine_s=(0.01, 0.02),
                   fax_give_up_s=(0.01, 0.02), message_s=0.01)  # fmt: skip
    tel = SimulatedTelephony(CallModel(37, timings=tiny), WallClock())
    stop = threading.Event()
    failures: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                tel.calls_in_progress()
                tel.next_due()
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    heard: list[Progress] = []
    try:
        for i in range(300):
            tel.place(call(i, ring_timeout_s=15))  # a 15 s no-answer would outlast the test: hang up
            heard += tel.poll()
        deadline = time.monotonic() + 1.0
        while tel.calls_in_progress() and time.monotonic() < deadline:
            heard += tel.poll()
            time.sleep(0.001)
        for i in range(300):
            tel.hang_up(call(i).call_id)
        heard += tel.poll()
    finally:
        stop.set()
        thread.join()
    assert failures == []
    ends = Counter(p.call_id for p in heard if p.kind in TERMINAL_KINDS)
    assert len(ends) == 300 and set(ends.values()) == {1}
