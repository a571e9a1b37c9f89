"""Pacing decisions (domain.pacing), pure and in virtual time; and the pacing benchmark's harness
(tests/bench/pacing: its abandon arithmetic, the simulated day's accounting, the VICIdial port,
the hindsight search), which pytest does not collect under tests/bench."""

from __future__ import annotations

import math
import random
from collections import deque
from itertools import product

import pytest

from domain import pacing
from domain.abandon import AbandonWindows, Window, dialer_rate, true_rate
from domain.pacing import (
    Decision,
    History,
    Limits,
    Moments,
    Situation,
    Tuning,
    allowed_risk,
    decide,
    limits,
    progressive_calls,
)
from schemas.profiles import Pacing
from schemas.settings import MaxAttemptsPerMinute, PacingSettings
from tests.bench.pacing import hindsight
from tests.bench.pacing.campaign import Cell, Day
from tests.bench.pacing.policies import DialLevel, Predictive, Progressive
from tests.bench.pacing.rates import abandon_pct, worst_window_pct
from tests.bench.pacing.vicidial import Adapt, hhmm_after

# A warm history: 30 % live answers after U(4, 20) s, talk ~ 180 s, wrap-up ~ 15 s.
WARM = History(
    attempts=1000,
    live=300,
    ring_live=Moments(300, 12.0, 16.0 / math.sqrt(12.0)),
    failed=Moments(700, 18.0, 8.0),
    talk=Moments(300, 180.0, 160.0),
    wrap_up=Moments(300, 15.0, 8.0),
)


def windows(abandoned: int, live: int, month: tuple[int, int] | None = None) -> AbandonWindows:
    a30, l30 = month if month is not None else (abandoned, live)
    return AbandonWindows(
        day=Window(abandoned=abandoned, live_answered=live),
        month=Window(abandoned=a30, live_answered=l30),
    )


CLEAN = windows(10, 2000)  # 0.5 %: full headroom


def busy(n: int, elapsed: float) -> list[float]:
    return [elapsed] * n


# -- progressive, engage, preview, power ------------------------------------------------------


def test_progressive_places_lines_per_agent_for_ready_agents_minus_what_is_in_flight() -> None:
    s = Situation(ready=4, waiting=1, dialing=[3.0, 5.0], on_call=busy(6, 30.0))
    # ⌊1.5 × (4 − 1) − 2⌋ = ⌊2.5⌋
    assert decide("progressive", s, Limits(lines_per_agent=1.5)).calls == 2
    assert decide("progressive", s, Limits(lines_per_agent=1.0)).calls == 1
    assert progressive_calls(Situation(ready=5), 1.2) == 6  # 1.2 × 5 is 6, not 5.999…


def test_progressive_never_negative_and_never_without_agents() -> None:
    assert decide("progressive", Situation(ready=1, dialing=[1.0, 2.0, 3.0]), Limits()).calls == 0
    none = decide("progressive", Situation(), Limits(lines_per_agent=3.0))
    assert (none.calls, none.reason) == (0, "no_agents")
    # Logged in but all "not ready": no active agent, no call.
    paused = decide("predictive", Situation(logged_in=5, history=WARM, abandon=CLEAN), Limits())
    assert (paused.calls, paused.reason) == (0, "no_agents")


def test_progressive_engage_places_one_call_per_reserved_agent() -> None:
    s = Situation(ready=3, reserved=2, on_call=busy(5, 60.0))
    assert decide("progressive_engage", s, Limits(lines_per_agent=3.0)).calls == 2


def test_preview_places_one_call_per_accepted_preview_within_the_caps() -> None:
    s = Situation(accepted_previews=4, attempts_last_minute=8)
    assert decide("preview", s, Limits()).calls == 4
    capped = decide("push_preview", s, Limits(max_attempts_per_minute=10))
    assert (capped.calls, capped.reason) == (2, "cap_attempts_per_minute")


def _power_minute(rate: int, tick: float, seconds: float, cap: int | None = None) -> list[float]:
    """Drive power mode tick by tick; the times of every attempt."""
    placed: list[float] = []
    recent: deque[float] = deque()
    now = 0.0
    while now < seconds:
        while recent and recent[0] <= now - 60.0:
            recent.popleft()
        s = Situation(attempts_last_minute=len(recent), running_s=now)
        d = decide("power", s, Limits(calls_per_minute=rate, max_attempts_per_minute=cap))
        placed += [now] * d.calls
        recent.extend([now] * d.calls)
        now += tick
    return placed


@pytest.mark.parametrize(("rate", "tick"), [(60, 1.0), (100, 0.5), (600, 1.0), (7, 2.0)])
def test_power_spreads_the_rate_evenly_and_never_exceeds_it_in_any_60_s(rate: int, tick: float) -> None:
    placed = _power_minute(rate, tick, 300.0)
    # Every rolling 60 s holds at most the rate.
    for i, start in enumerate(placed):
        window = [t for t in placed[i:] if t < start + 60.0]
        assert len(window) <= rate
    # The rate is kept (minus at most one tick of rounding per minute) …
    assert len([t for t in placed if 60.0 <= t < 240.0]) >= 3 * rate - 3 * max(1, round(rate * tick / 60))
    # … and spread: each 10 s of a minute gets about a sixth of it, never a burst.
    for start in range(0, 300, 10):
        count = len([t for t in placed if start <= t < start + 10])
        assert count <= math.ceil(rate / 6) + max(1, math.ceil(rate * tick / 60))


def test_power_without_a_rate_places_nothing() -> None:
    d = decide("power", Situation(running_s=10.0), Limits())
    assert (d.calls, d.reason) == (0, "no_rate")


# -- hard caps -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["progressive", "predictive", "predictive_engage"])
def test_attempts_per_minute_cap_is_never_exceeded(mode: str) -> None:
    s = Situation(ready=50, attempts_last_minute=95, history=WARM, abandon=CLEAN)
    d = decide(mode, s, Limits(max_attempts_per_minute=100, lines_per_agent=3.0))
    assert d.calls == 5
    assert d.reason == "cap_attempts_per_minute"
    over = Situation(ready=50, attempts_last_minute=120, history=WARM, abandon=CLEAN)
    assert decide(mode, over, Limits(max_attempts_per_minute=100)).calls == 0


def test_max_lines_counts_dialing_waiting_and_connected_calls() -> None:
    s = Situation(ready=10, on_call=busy(6, 30.0), dialing=[1.0] * 3, waiting=1)
    d = decide("progressive", s, Limits(lines_per_agent=3.0, max_lines=12))
    assert s.lines_in_use == 10
    assert (d.calls, d.reason) == (2, "cap_lines")


def test_calls_in_flight_never_exceed_the_lines_per_agent_cap() -> None:
    s = Situation(ready=2, dialing=[1.0] * 15, history=WARM, abandon=CLEAN)
    d = decide("progressive", s, Limits(lines_per_agent=10.0), Tuning(max_lines_per_agent=8.0))
    assert (d.calls, d.reason) == (1, "cap_lines_per_agent")


def test_limits_take_the_stricter_attempts_cap_of_account_and_profile() -> None:
    account = PacingSettings(
        target_abandon_rate=2.5,
        abandon_call_definition_seconds=3,
        max_attempts_per_minute=MaxAttemptsPerMinute(voice=120, sms=40),
    )
    assert limits(account, Pacing(max_attempts_per_minute=90)).max_attempts_per_minute == 90
    assert limits(account, Pacing(max_attempts_per_minute=500)).max_attempts_per_minute == 120
    assert limits(account, Pacing(), "sms").max_attempts_per_minute == 40
    lim = limits(account, Pacing(lines_per_agent=1.5, max_lines=30, calls_per_minute=12))
    assert (lim.target_abandon_pct, lim.abandon_definition_s) == (2.5, 3.0)
    assert (lim.lines_per_agent, lim.max_lines, lim.calls_per_minute) == (1.5, 30, 12)


def test_unknown_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown dialing mode"):
        decide("blaster", Situation(ready=1), Limits())


# -- predictive ----------------------------------------------------------------------------------


def test_cold_start_runs_progressive_at_the_starting_ratio() -> None:
    cold = History(attempts=40, live=12, ring_live=Moments(12, 12.0, 4.0), talk=Moments(5, 100.0, 50.0))
    d = decide("predictive", Situation(ready=4, history=cold, abandon=CLEAN), Limits(lines_per_agent=1.5))
    assert (d.calls, d.mode, d.reason) == (6, "progressive", "cold_start")
    assert pacing.cold(WARM) is False


def test_at_the_target_predictive_degrades_to_progressive() -> None:
    s = Situation(ready=3, wrap_up=busy(5, 14.0), on_call=busy(12, 300.0), history=WARM,
                  abandon=windows(31, 1000))
    d = decide("predictive", s, Limits())
    assert (d.calls, d.mode, d.reason) == (3, "progressive", "abandon_at_target")


def test_the_stricter_window_binds() -> None:
    base = Situation(ready=3, wrap_up=busy(5, 14.0), on_call=busy(12, 300.0), history=WARM,
                     abandon=windows(0, 1000, month=(100, 10_000)))
    fine = decide("predictive", base, Limits())
    assert fine.mode == "predictive" and fine.calls > 3
    month_over = Situation(ready=3, wrap_up=busy(5, 14.0), on_call=busy(12, 300.0), history=WARM,
                           abandon=windows(0, 1000, month=(400, 10_000)))
    assert decide("predictive", month_over, Limits()).reason == "abandon_at_target"
    day_over = Situation(ready=3, wrap_up=busy(5, 14.0), on_call=busy(12, 300.0), history=WARM,
                         abandon=windows(40, 1000, month=(0, 50_000)))
    assert decide("predictive", day_over, Limits()).reason == "abandon_at_target"


def test_allowed_risk_shrinks_to_zero_as_the_observed_rate_nears_the_target() -> None:
    lim, tuning = Limits(target_abandon_pct=3.0), Tuning(gain=2.0, margin=0.3, prior_live=20)
    risks = [allowed_risk(Situation(abandon=windows(a, 10_000)), lim, tuning)
             for a in (0, 150, 210, 250, 280, 300, 320)]
    assert risks[0] == risks[1] == pytest.approx(0.06)  # ≥ 30 % headroom: gain × target
    assert risks == sorted(risks, reverse=True)
    assert 0 < risks[4] < risks[3] < risks[2] < 0.06
    assert risks[5] == risks[6] == 0.0
    # A new campaign starts at the target and earns headroom with answers without abandons.
    assert allowed_risk(Situation(), lim, tuning) == 0.0
    assert allowed_risk(Situation(abandon=windows(0, 20)), lim, tuning) > 0.0


def test_predictive_never_places_fewer_calls_than_progressive() -> None:
    rng = random.Random(7)
    for _ in range(300):
        ready = rng.randrange(0, 8)
        s = Situation(
            ready=ready,
            on_call=[rng.uniform(0, 600) for _ in range(rng.randrange(0, 40))],
            wrap_up=[rng.uniform(0, 20) for _ in range(rng.randrange(0, 5))],
            dialing=[rng.uniform(0, 25) for _ in range(rng.randrange(0, 20))],
            waiting=rng.randrange(0, 3),
            history=WARM,
            abandon=windows(rng.randrange(0, 40), 1000),
        )
        if s.active == 0:
            continue
        assert decide("predictive", s, Limits()).calls >= progressive_calls(s, 1.0)


def test_agents_about_to_free_bring_calls_forward() -> None:
    """Hazard weighting: the same agents, further into their wrap-up or their calls, are more
    likely to be free when the next answer comes."""
    def calls(wrap_elapsed: float | None, call_elapsed: float) -> int:
        wrap = busy(4, wrap_elapsed) if wrap_elapsed is not None else []
        s = Situation(ready=0, wrap_up=wrap, on_call=busy(60, call_elapsed), history=WARM,
                      abandon=CLEAN)
        return decide("predictive", s, Limits()).calls

    assert calls(12.0, 150.0) > calls(8.0, 150.0) > calls(1.0, 150.0)
    assert calls(8.0, 150.0) > calls(8.0, 60.0) > calls(8.0, 3.0)
    assert calls(None, 3.0) == 0  # nobody will be free in time: nothing to dial for


def test_fewer_live_answers_mean_more_calls_and_calls_in_flight_mean_fewer() -> None:
    def situation(history: History, dialing: list[float]) -> Situation:
        return Situation(ready=2, wrap_up=busy(3, 10.0), on_call=busy(25, 150.0), dialing=dialing,
                         history=history, abandon=CLEAN)

    low = History(attempts=1000, live=200, ring_live=WARM.ring_live, failed=WARM.failed,
                  talk=WARM.talk, wrap_up=WARM.wrap_up)
    assert decide("predictive", situation(low, []), Limits()).calls > \
        decide("predictive", situation(WARM, []), Limits()).calls
    counts = [decide("predictive", situation(WARM, [2.0] * n), Limits()).calls for n in range(0, 20, 4)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


def test_calls_ringing_past_the_longest_ring_to_a_live_answer_count_for_nothing() -> None:
    fresh = Situation(ready=3, dialing=[2.0] * 6, history=WARM, abandon=CLEAN)
    stale = Situation(ready=3, dialing=[23.0] * 6, history=WARM, abandon=CLEAN)
    assert decide("predictive", stale, Limits()).calls > decide("predictive", fresh, Limits()).calls


def test_a_lower_target_means_fewer_calls() -> None:
    s = Situation(ready=2, wrap_up=busy(6, 8.0), on_call=busy(60, 150.0), history=WARM,
                  abandon=windows(0, 2000))
    strict = decide("predictive", s, Limits(target_abandon_pct=1.0)).calls
    lenient = decide("predictive", s, Limits(target_abandon_pct=5.0)).calls
    assert lenient > strict >= progressive_calls(s, 1.0)


def test_small_group_risk_is_exact() -> None:
    """The small-group path convolves the Bernoullis exactly; compare with enumeration."""
    x_probs, y_probs = [0.3, 0.8], [0.5, 0.2, 0.6]
    exact = pacing._p_at_least(pacing._pmf(0, y_probs), pacing._pmf(1, x_probs))
    brute = 0.0
    for xs in product((0, 1), repeat=2):
        for ys in product((0, 1), repeat=3):
            weight = 1.0
            for bit, q in zip(xs + ys, x_probs + y_probs, strict=True):
                weight *= q if bit else 1.0 - q
            if sum(ys) >= 1 + sum(xs):
                brute += weight
    assert exact == pytest.approx(brute)


def test_small_and_large_groups_agree_on_the_same_situation() -> None:
    """The exact (small group) and the normal (large group) risk give close answers where both
    apply; the exact one is the more careful when it matters (few agents)."""
    s = Situation(ready=1, wrap_up=[5.0, 12.0], on_call=[40.0, 90.0, 200.0, 300.0, 500.0, 20.0],
                  dialing=[1.0, 6.0, 12.0], history=WARM, abandon=CLEAN)
    exact = decide("predictive", s, Limits(), Tuning(small_group=100)).calls
    normal = decide("predictive", s, Limits(), Tuning(small_group=0)).calls
    assert abs(exact - normal) <= 1


def test_the_decision_reports_mode_ratio_and_the_risk_allowed() -> None:
    s = Situation(ready=2, wrap_up=busy(3, 10.0), on_call=busy(15, 150.0), dialing=[1.0] * 4,
                  history=WARM, abandon=CLEAN)
    d = decide("predictive_engage", s, Limits())
    assert isinstance(d, Decision)
    assert (d.mode, d.reason) == ("predictive_engage", "predictive")
    assert d.risk == pytest.approx(0.06)
    assert d.ratio == pytest.approx((4 + 15 + d.calls) / 20)


def test_moments_of_samples() -> None:
    m = Moments.of([10.0, 20.0, 30.0])
    assert (m.count, m.mean) == (3, 20.0)
    assert m.sd == pytest.approx(math.sqrt(200.0 / 3.0))
    assert Moments.of([]) == Moments()


# -- the benchmark harness -------------------------------------------------------------------------


def test_the_harness_abandon_arithmetic_passes_the_pureconnect_vector() -> None:
    """pacing-notes §1a: 100 classed live; 3 abandoned (2 people, 1 machine); 97 handled by
    agents (78 live, 19 not). Dialer rate 3/81 = 3.7 %, true rate 2/78 = 2.6 %. The bench's
    rate is abandoned ÷ live answers, abandoned ones included: the dialer rate's shape."""
    assert abandon_pct(3, 78 + 3) == pytest.approx(dialer_rate(3, 78)) == pytest.approx(3.7037, abs=1e-3)
    assert round(abandon_pct(3, 81), 1) == 3.7
    assert round(true_rate(2, 78), 1) == 2.6
    assert abandon_pct(0, 0) == 0.0


def test_worst_rolling_window() -> None:
    live = [10, 10, 10, 10, 10, 10]
    abandoned = [0, 0, 3, 1, 0, 0]
    assert worst_window_pct(abandoned, live, 2) == pytest.approx(20.0)
    assert worst_window_pct(abandoned, live, 6) == pytest.approx(100 * 4 / 60)
    assert worst_window_pct(abandoned, live, 60) == pytest.approx(100 * 4 / 60)


SHORT = Cell(12, 0.3, 90.0, hours=0.5)


def test_a_progressive_day_never_abandons_and_its_books_balance() -> None:
    day = Day(SHORT, 5)
    result = day.run(Progressive())
    assert result.attempts > 100 and result.live > 20
    assert result.abandoned == 0
    # Every live answer is abandoned, with an agent, or still waiting at the end.
    connected = result.live - result.abandoned - len(day.waiting)
    assert connected >= result.live - 1
    assert 0.3 < result.occupancy < 1.0
    assert sum(result.minute_live) == result.live


def test_an_over_dialling_day_abandons_and_counts_it() -> None:
    result = Day(SHORT, 5).run(DialLevel(3.0))
    assert result.abandon_pct > 20.0
    assert sum(result.minute_abandoned) == result.abandoned
    assert result.occupancy > Day(SHORT, 5).run(Progressive()).occupancy


def test_same_seed_same_calls_whatever_the_policy() -> None:
    a = Day(SHORT, 9).run(Progressive())
    b = Day(SHORT, 9).run(Progressive())
    assert (a.attempts, a.live, a.busy_s) == (b.attempts, b.live, b.busy_s)


def test_the_predictive_policy_feeds_decide_what_the_day_holds() -> None:
    cell = Cell(15, 0.3, 90.0, hours=0.75)
    policy = Predictive.for_cell(cell)
    policy.keep = True
    day = Day(cell, 3)
    result = day.run(policy)
    modes = [d.reason for d in policy.decisions]
    assert modes[0] == "cold_start" and "predictive" in modes
    s = policy.situation(day)
    assert s.ready + len(s.on_call) + len(s.wrap_up) == cell.agents
    assert len(s.dialing) == len(day.dialing) and s.waiting == len(day.waiting)
    assert s.abandon.day.live_answered == result.live
    assert result.abandon_pct <= 10.0


def test_vicidial_clock_and_level_update() -> None:
    assert hhmm_after(900, 0) == 900
    assert hhmm_after(900, 3 * 3600 + 25 * 60 + 59) == 1225
    cell = Cell(20, 0.3, 180.0, hours=0.1)
    day = Day(cell, 1)
    adapt = Adapt("ADAPT_HARD_LIMIT")
    adapt.samples.extend([(4, 0, 20)] * 15)  # 4 agents waiting on average, no call waiting
    adapt._update(day)
    assert adapt.level == pytest.approx(1.2)  # 1 × (1 + 4/20)
    adapt.calls_today, adapt.answers_today, adapt.drops_today = 100, 30, 1  # 3.33 % > 3 %
    adapt._update(day)
    assert adapt.level == 1.0
    tapered = Adapt("ADAPT_TAPERED", latest_server_time=1700)
    tapered.level = 2.0
    tapered.samples.extend([(0, 0, 20)] * 15)
    tapered.calls_today, tapered.answers_today, tapered.drops_today = 100, 30, 1
    day.now = 3600.0 * 4  # 13:00: 400 HHMM units left
    tapered._update(day)
    assert tapered.level == pytest.approx(1.0)  # 2.0 × 0.4 = 0.8, never below 1
    tapered.level = 3.0
    day.now = 3600.0 * 2  # 11:00: 600 left
    tapered._update(day)
    assert tapered.level == pytest.approx(1.8)


def test_vicidial_dials_its_level_times_agents_minus_calls_up() -> None:
    cell = Cell(10, 0.3, 90.0, hours=0.1)
    day = Day(cell, 1)
    adapt = Adapt()
    adapt.level = 1.5
    adapt.next_update = 1e9
    assert adapt.calls(day) == 15  # round(1.5 × 10) − 0 calls up
    day.place(4)
    day.now = 2.5
    assert adapt.calls(day) == 11


def test_hindsight_finds_the_highest_fixed_ratio_that_holds_the_target() -> None:
    cell = Cell(12, 0.3, 90.0, hours=0.5)
    found = hindsight.search(cell, [1], "dial_level", steps=4)
    assert found.value > 0
    assert hindsight.pooled_abandon_pct(found.results) <= cell.target_pct
    broken = [v for v, pct, _ in found.tried if pct > cell.target_pct]
    assert broken and min(broken) > found.value
