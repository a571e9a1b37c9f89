"""Pacing: how many calls a running campaign group places now.

The dialer asks :func:`decide` on every tick with a :class:`Situation` (agents, calls in
progress, what was observed over a recent history window, the abandon windows) and the group's
:class:`Limits`; the answer is a :class:`Decision` (calls to place now, the effective ratio and
mode, and why). Pure and stateless: every input is derivable from the group's events (agent
state changes, call-attempt events), so a dialer that takes a group over rebuilds the same
decision from the same events. No clock, no randomness, no I/O.

Definitions (the README states them too)
----------------------------------------
- **abandon %** = abandoned ÷ answered by a live person × 100, where a call is *abandoned* when
  it was answered by a live person and not connected to an agent within the abandon call
  definition (s). Measured over a rolling 24 h and per campaign over 30 days; the stricter
  (higher) window binds.
- **occupancy** = agents' time on calls and in wrap-up ÷ their logged-in time.
- **active agents** = ready + on a call + in wrap-up + reserved (logged in and not "not ready").

Modes
-----
- ``progressive`` (lines per agent *m*): ``calls = ⌊m·(ready − waiting) − dialing⌋``
  (outbound-facts "Dialing modes"; *waiting* = live answers queued for an agent, *dialing* = calls
  placed and not yet answered or ended). ``progressive_engage``: one call per agent reserved for
  a call not yet placed (the agent is reserved first).
- ``predictive`` and ``predictive_engage`` (the agent is seized on answer, so pacing is the
  same): below.
- ``power`` (agentless, ``calls_per_minute`` *c*): spread evenly, ``calls = min(c − a₆₀,
  round(c·min(t, 60)/60) − a₆₀)`` where *a₆₀* = attempts in the last 60 s and *t* = seconds since
  the group (re)started dialing: the first minute is paced by elapsed time, later minutes refill
  what left the window, so the spacing of the first minute carries on.
- ``preview`` / ``push_preview``: no pacing, one call per accepted preview.

Hard caps in every mode, applied last and never exceeded: attempts per minute (rolling 60 s:
``calls ≤ cap − a₆₀``, so every 60 s window ending now holds at most *cap*; the cap is the
stricter of the account's per-channel cap and the profile's, :func:`limits`), ``max_lines``
(``dialing + waiting + connected + calls ≤ max_lines``) and, in agent modes, the group's agents:
no call at all without an active agent, and never more than ``Tuning.max_lines_per_agent`` ×
active agents calls dialing or waiting.

Predictive
----------
From the history window: *p* = live answers ÷ attempts ended; ring-to-live time (placed → answered
by a person) ~ uniform with the observed mean and standard deviation; failed-attempt time ~
uniform likewise; talk time *T* and wrap-up time *W* ~ lognormal with the observed moments.

A new call, if a person answers, does so after τ; it is **abandoned** when, by τ + *g* (*g* = the
abandon call definition), the agents that have become free, *X*, are all taken by the live
answers that come before it, *Y*::

    X(τ) = ready + Σ_busy Bernoulli(q_i)
      q_i (wrap-up, elapsed e)  = P(W ≤ e + τ + g | W > e)
      q_i (on a call, elapsed e) = 1 − exp(−h_T(e) · E[(τ + g − W)⁺])       (hazard weighting)
    Y(τ) = waiting + Σ_dialing Bernoulli(π_j) + Binomial(n − 1, p·F_L(τ))
      π_j (call ringing for a)  = p·(F_L(a + τ) − F_L(a)) / (p·S_L(a) + (1 − p)·S_F(a))

*h_T(e)* is the talk-time hazard at the elapsed time *e* (US 6,466,664; the EIS weights of US
5,640,445: an agent long into a call counts for more); *F_L*/*S_L* and *S_F* are the ring-to-live
CDF/survival and the failed-attempt survival; *n − 1* are the other calls placed in the same
decision, each answering before this one with probability *p·F_L(τ)*. The risk of the *n*-th
call is ``r(n) = E_τ[P(Y ≥ X)]``, τ at the ``Tuning.quadrature`` mid-quantiles of the
ring-to-live distribution; *P(Y ≥ X)* is exact (Poisson-binomial convolution) when at most
``Tuning.small_group`` agents are active — the small-group mode (OCS's ``small_group``: with few
agents the answer is a handful of Bernoullis, where a normal approximation misjudges the tail) —
and a normal approximation with continuity correction otherwise. The decision places the
largest *n* with ``r(n) ≤ θ``.

θ, the risk allowed per call, is the abandon-rate feedback. With *t* the target, *A*/*L* the
abandoned/live counts of a window and *k* = ``Tuning.prior_live``::

    r_obs    = max over the 24 h and 30 d windows of (A + k·t) / (L + k)
    headroom = 1 − r_obs / t
    θ        = t · gain · min(1, headroom / margin)    if headroom > 0, else 0

Every call placed has a modelled risk ≤ θ, so the rate of the calls placed is below θ as far as
the model is right; the feedback corrects what it is not: as the observed rate nears the target
θ shrinks, and at the target it is 0: no over-dial, the decision degrades to progressive
(*calls* is never below the progressive count at one line per agent). Because the windows are
cumulative (a day, 30 days), the feedback integrates: a stretch over the target is paid back by
a stretch under it. The *k* pseudo-answers at the target make a new campaign start at the
target and earn its headroom with answers.

Cold start: with fewer than ``Tuning.min_attempts`` attempts, ``min_live`` live answers or
``min_talk`` talk samples in the history window there is nothing to predict from, and the group
runs progressive at its profile's ``lines_per_agent`` (the product's "starting ratio").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from domain.abandon import AbandonWindows, Window
from schemas.profiles import Pacing
from schemas.settings import PacingSettings

Mode = Literal[
    "preview",
    "push_preview",
    "progressive",
    "progressive_engage",
    "predictive",
    "predictive_engage",
    "power",
]
Channel = Literal["voice", "sms", "email"]

NO_ABANDON_HISTORY = AbandonWindows(day=Window(), month=Window())
_SQRT2 = math.sqrt(2.0)
_SQRT3 = math.sqrt(3.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moments:
    """Count, mean and standard deviation of a sample (seconds)."""

    count: int = 0
    mean: float = 0.0
    sd: float = 0.0

    @classmethod
    def of(cls, samples: Iterable[float]) -> Moments:
        n, total, squares = 0, 0.0, 0.0
        for x in samples:
            n += 1
            total += x
            squares += x * x
        if n == 0:
            return cls()
        mean = total / n
        variance = max(0.0, squares / n - mean * mean)
        return cls(n, mean, math.sqrt(variance))


@dataclass(frozen=True, slots=True)
class History:
    """What happened over the recent history window (the dialer chooses its length: the last
    few hundred attempts or the last 30 minutes, say)."""

    attempts: int = 0  # attempts ended (or answered) in the window
    live: int = 0  # of which answered by a live person
    ring_live: Moments = Moments()  # placed → answered by a person, s
    failed: Moments = Moments()  # placed → ended, attempts not answered by a person, s
    talk: Moments = Moments()  # connected → call over, s
    wrap_up: Moments = Moments()  # wrap-up started → finished, s

    @property
    def answer_rate(self) -> float:
        return self.live / self.attempts if self.attempts else 0.0


@dataclass(frozen=True, slots=True)
class Situation:
    """The group now. Elapsed times and ages are seconds at the decision's instant."""

    ready: int = 0  # agents ready (idle, waiting for a call)
    on_call: Sequence[float] = ()  # per agent on a call: seconds since connected
    wrap_up: Sequence[float] = ()  # per agent in wrap-up: seconds since it started
    reserved: int = 0  # agents reserved for a call (engage first: its call not yet placed)
    logged_in: int | None = None  # agents logged in, "not ready" included (None: the active ones)
    dialing: Sequence[float] = ()  # per call placed, not yet answered or ended: its age
    waiting: int = 0  # live answers waiting for an agent
    connected: int | None = None  # calls connected to agents (None: one per agent on a call)
    attempts_last_minute: int = 0  # attempts placed in the last 60 s
    running_s: float = 0.0  # seconds since the group (re)started dialing (power spacing)
    accepted_previews: int = 0  # previews accepted and not yet dialled
    history: History = History()
    # The group's abandon windows (domain.abandon): the last 24 h and the campaign's 30 days.
    abandon: AbandonWindows = NO_ABANDON_HISTORY

    @property
    def active(self) -> int:
        return self.ready + len(self.on_call) + len(self.wrap_up) + self.reserved

    @property
    def lines_in_use(self) -> int:
        connected = len(self.on_call) if self.connected is None else self.connected
        return len(self.dialing) + self.waiting + connected


@dataclass(frozen=True, slots=True)
class Limits:
    """The group's pacing settings: the account's and the dialing profile's (:func:`limits`)."""

    target_abandon_pct: float = 3.0
    abandon_definition_s: float = 2.0
    max_attempts_per_minute: int | None = None  # the stricter of account (channel) and profile
    max_lines: int | None = None  # calls in progress at most
    lines_per_agent: float = 1.0  # progressive; predictive's cold-start ratio
    calls_per_minute: int | None = None  # power


@dataclass(frozen=True, slots=True)
class Tuning:
    """The predictive algorithm's constants: the same for every group (no per-cell tuning)."""

    min_attempts: int = 100
    min_live: int = 20
    min_talk: int = 10
    prior_live: float = 20.0
    gain: float = 2.0
    margin: float = 0.3
    small_group: int = 10
    quadrature: int = 3
    max_lines_per_agent: float = 10.0


DEFAULT_TUNING = Tuning()


@dataclass(frozen=True, slots=True)
class Decision:
    """``calls`` to place now; ``ratio`` = calls in progress (dialing, waiting, connected,
    these) per active agent (power: calls per minute); ``mode`` the effective mode
    ("progressive" while predictive is cold or at its target); ``reason`` why, in a word."""

    calls: int
    ratio: float
    mode: str
    reason: str
    risk: float = field(default=0.0, compare=False)  # predictive: θ, the risk allowed per call


def limits(
    account: PacingSettings,
    profile: Pacing,
    channel: Channel = "voice",
) -> Limits:
    """The group's :class:`Limits` from the account's pacing settings and its dialing profile:
    the attempts-per-minute cap is the stricter of the two."""
    caps = [getattr(account.max_attempts_per_minute, channel)]
    if profile.max_attempts_per_minute is not None:
        caps.append(profile.max_attempts_per_minute)
    return Limits(
        target_abandon_pct=account.target_abandon_rate,
        abandon_definition_s=float(account.abandon_call_definition_seconds),
        max_attempts_per_minute=min(caps),
        max_lines=profile.max_lines,
        lines_per_agent=profile.lines_per_agent,
        calls_per_minute=profile.calls_per_minute,
    )


# -- the decision ------------------------------------------------------------------------------


def decide(mode: str, s: Situation, lim: Limits, tuning: Tuning = DEFAULT_TUNING) -> Decision:
    """How many calls to place now in ``mode``; see the module docstring for every formula."""
    if mode in ("preview", "push_preview"):
        return _capped(s.accepted_previews, s, lim, tuning, mode, "preview", agents=False)
    if mode == "power":
        return _power(s, lim, tuning)
    logged_in = s.active if s.logged_in is None else s.logged_in
    if logged_in <= 0 or s.active <= 0:
        return Decision(0, 0.0, mode, "no_agents")
    if mode == "progressive":
        return _capped(progressive_calls(s, lim.lines_per_agent), s, lim, tuning, mode, "progressive")
    if mode == "progressive_engage":
        return _capped(s.reserved, s, lim, tuning, mode, "engage")
    if mode in ("predictive", "predictive_engage"):
        return _predictive(mode, s, lim, tuning)
    raise ValueError(f"unknown dialing mode {mode!r}")


def progressive_calls(s: Situation, lines_per_agent: float) -> int:
    """``⌊m·(ready − waiting) − dialing⌋``, at least 0 (a small epsilon absorbs float noise:
    1.2 × 5 must be 6)."""
    return max(0, math.floor(lines_per_agent * (s.ready - s.waiting) - len(s.dialing) + 1e-9))


def allowed_risk(s: Situation, lim: Limits, tuning: Tuning = DEFAULT_TUNING) -> float:
    """θ: the abandon risk allowed per new call, from the observed windows (docstring)."""
    target = lim.target_abandon_pct / 100.0
    if target <= 0:
        return 0.0
    k = tuning.prior_live
    observed = max(
        (w.abandoned + k * target) / (w.live_answered + k) for w in (s.abandon.day, s.abandon.month)
    )
    headroom = 1.0 - observed / target
    if headroom <= 0:
        return 0.0
    return target * tuning.gain * min(1.0, headroom / tuning.margin)


def cold(history: History, tuning: Tuning = DEFAULT_TUNING) -> bool:
    return (
        history.attempts < tuning.min_attempts
        or history.live < tuning.min_live
        or history.talk.count < tuning.min_talk
        or history.ring_live.count < 1
    )


def _predictive(mode: str, s: Situation, lim: Limits, tuning: Tuning) -> Decision:
    floor = progressive_calls(s, 1.0)
    if cold(s.history, tuning):
        start = progressive_calls(s, lim.lines_per_agent)
        return _capped(start, s, lim, tuning, "progressive", "cold_start")
    theta = allowed_risk(s, lim, tuning)
    if theta <= 0.0:
        return _capped(floor, s, lim, tuning, "progressive", "abandon_at_target", theta)
    model = _Model(s, lim, tuning)
    n = model.calls(theta)
    return _capped(max(n, floor), s, lim, tuning, mode, "predictive", theta)


def _power(s: Situation, lim: Limits, tuning: Tuning) -> Decision:
    rate = lim.calls_per_minute
    if not rate:
        return Decision(0, 0.0, "power", "no_rate")
    due = round(rate * min(max(s.running_s, 0.0), 60.0) / 60.0)
    calls = max(0, min(rate, max(due, 1 if s.attempts_last_minute == 0 else 0)) - s.attempts_last_minute)
    return _capped(calls, s, lim, tuning, "power", "power", agents=False)


def _capped(
    calls: int,
    s: Situation,
    lim: Limits,
    tuning: Tuning,
    mode: str,
    reason: str,
    risk: float = 0.0,
    agents: bool = True,
) -> Decision:
    """Apply the hard caps; the reason names the cap that bound, if one did."""
    calls = max(0, calls)
    if agents:
        in_flight = len(s.dialing) + s.waiting
        room = math.floor(tuning.max_lines_per_agent * s.active + 1e-9) - in_flight
        if calls > room:
            calls, reason = max(0, room), "cap_lines_per_agent"
    if lim.max_lines is not None:
        room = lim.max_lines - s.lines_in_use
        if calls > room:
            calls, reason = max(0, room), "cap_lines"
    if lim.max_attempts_per_minute is not None:
        room = lim.max_attempts_per_minute - s.attempts_last_minute
        if calls > room:
            calls, reason = max(0, room), "cap_attempts_per_minute"
    if agents:
        ratio = (s.lines_in_use + calls) / s.active if s.active else 0.0
    else:
        ratio = float(s.attempts_last_minute + calls)
    return Decision(calls, ratio, mode, reason, risk)


# -- the predictive model ----------------------------------------------------------------------


def _phi(x: float) -> float:
    """The standard normal CDF."""
    return 0.5 * math.erfc(-x / _SQRT2)


class _Lognormal:
    """A lognormal with the given mean and standard deviation (its CDF, hazard, and the
    partial expectation used for E[(x − W)⁺])."""

    __slots__ = ("mean", "mu", "point", "sigma")

    def __init__(self, moments: Moments) -> None:
        mean = max(moments.mean, 1e-3)
        self.mean = mean
        sigma2 = math.log1p((moments.sd / mean) ** 2)
        self.sigma = math.sqrt(sigma2)
        self.mu = math.log(mean) - sigma2 / 2.0
        self.point = self.sigma < 1e-6  # no spread: all the mass at the mean

    def cdf(self, x: float) -> float:
        if x <= 0.0:
            return 0.0
        if self.point:
            return 1.0 if x >= self.mean else 0.0
        return _phi((math.log(x) - self.mu) / self.sigma)

    def hazard(self, x: float) -> float:
        """f(x)/S(x); for a point mass, 0 before the mean and 'infinite' (large) after."""
        if x <= 0.0:
            return 0.0
        if self.point:
            return 0.0 if x < self.mean else 1e3
        sigma = self.sigma
        z = (math.log(x) - self.mu) / sigma
        survival = 0.5 * math.erfc(z / _SQRT2)
        if survival < 1e-12:
            return max(z, 1.0) / (sigma * x)  # the Mills-ratio asymptote
        return math.exp(-0.5 * z * z) * _INV_SQRT_2PI / (x * sigma * survival)

    def shortfall(self, x: float) -> float:
        """E[(x − W)⁺] for W of this distribution."""
        if x <= 0.0:
            return 0.0
        if self.point:
            return max(0.0, x - self.mean)
        z = (math.log(x) - self.mu) / self.sigma
        return x * _phi(z) - self.mean * _phi(z - self.sigma)


class _Uniform:
    """A uniform distribution with the given mean and standard deviation (clipped at 0)."""

    __slots__ = ("high", "low", "width")

    def __init__(self, moments: Moments) -> None:
        half = _SQRT3 * moments.sd
        self.low = max(0.0, moments.mean - half)
        self.high = max(self.low, moments.mean + half)
        self.width = self.high - self.low

    def cdf(self, x: float) -> float:
        if x <= self.low:
            return 0.0
        if x >= self.high:
            return 1.0
        return (x - self.low) / self.width

    def quantile(self, u: float) -> float:
        return self.low + u * self.width


class _Model:
    """X(τ) and Y(τ) of the module docstring at the quadrature points, for one decision.

    Small groups keep every Bernoulli (exact convolution); large ones only their sums of means
    and variances (normal approximation). Written for speed (the benchmark asks millions of
    decisions): per-agent and per-call work is done once, then one comprehension per point."""

    def __init__(self, s: Situation, lim: Limits, tuning: Tuning) -> None:
        h = s.history
        p = min(1.0, max(h.answer_rate, 1e-6))
        ring = _Uniform(h.ring_live)
        failed = _Uniform(h.failed)
        talk = _Lognormal(h.talk)
        wrap = _Lognormal(h.wrap_up) if h.wrap_up.count else None
        grace = lim.abandon_definition_s
        k = max(1, tuning.quadrature)
        quantiles = [(i + 0.5) / k for i in range(k)]
        taus = [ring.quantile(u) for u in quantiles]
        horizons = [tau + grace for tau in taus]
        self.batch = [p * u for u in quantiles]  # a same-decision call answers live before τ
        self.exact = s.active <= tuning.small_group
        self.ready = s.ready
        self.waiting = s.waiting
        exp = math.exp

        # Agents on a call: q = 1 − exp(−h_T(e)·E[(τ + g − W)⁺]); the hazard once per agent.
        rates = [r for r in map(talk.hazard, s.on_call) if r > 0.0]
        shortfalls = [wrap.shortfall(x) if wrap else x for x in horizons]
        x_points = [[1.0 - exp(-r * short) for r in rates] for short in shortfalls]
        # Agents in wrap-up: q = P(W ≤ e + τ + g | W > e).
        if s.wrap_up:
            if wrap is None:  # no wrap-up observed yet: about to be ready
                for qs in x_points:
                    qs.extend(1.0 for _ in s.wrap_up)
            else:
                cdf = wrap.cdf
                for elapsed in s.wrap_up:
                    start = cdf(elapsed)
                    left = 1.0 - start
                    for i, x in enumerate(horizons):
                        x_points[i].append(
                            1.0 if left <= 1e-12 else min(1.0, (cdf(elapsed + x) - start) / left)
                        )

        # Calls dialing for ``age`` s: π = p·(F_L(a + τ) − F_L(a)) / (p·S_L(a) + (1 − p)·S_F(a)),
        # F_L and S_F uniform; past the longest ring to a live answer a call counts for nothing.
        # π ≤ 1 always: the denominator holds p·(1 − F_L(a)) ≥ the numerator.
        low, high, width = ring.low, ring.high, max(ring.width, 1e-9)
        f_low, f_high, f_width = failed.low, failed.high, max(failed.width, 1e-9)
        q_fail = 1.0 - p
        calls: list[tuple[float, float, float]] = []  # (age − low, F_L(age), p / alive)
        for age in s.dialing:
            if age >= high:
                continue
            f_age = 0.0 if age <= low else (age - low) / width
            s_fail = 1.0 if age <= f_low else (0.0 if age >= f_high else 1.0 - (age - f_low) / f_width)
            alive = p * (1.0 - f_age) + q_fail * s_fail
            if alive > 1e-12:
                calls.append((age - low, f_age, p / alive / width))
        y_points = []
        for tau in taus:
            # p·(F_L(a + τ) − F_L(a))/alive with F_L(x) = clamp((x − low)/width, 0, 1)
            cap = width - tau
            y_points.append([
                scale * ((width if offset >= cap else max(0.0, offset + tau)) - f_age * width)
                for offset, f_age, scale in calls
            ])

        if self.exact:
            self.x_pmf = [_pmf(s.ready, [q for q in qs if q > 1e-4]) for qs in x_points]
            self.y_pmf = [_pmf(s.waiting, [y for y in ys if y > 1e-4]) for ys in y_points]
        else:
            self.x_moments = [_sums(qs) for qs in x_points]
            self.y_moments = [_sums(ys) for ys in y_points]

    def calls(self, theta: float) -> int:
        """The largest n ≥ 0 whose n-th call has risk ≤ θ."""
        if self.exact:
            return self._calls_exact(theta)
        if self._risk_normal(1) > theta:
            return 0
        low, high = 1, 2
        while self._risk_normal(high) <= theta:
            low, high = high, high * 2
            if high > 100_000:
                return low
        while high - low > 1:
            mid = (low + high) // 2
            if self._risk_normal(mid) <= theta:
                low = mid
            else:
                high = mid
        return low

    def _risk_normal(self, n: int) -> float:
        total = 0.0
        others = n - 1
        for (mx, vx), (my, vy), b in zip(self.x_moments, self.y_moments, self.batch, strict=True):
            mean = self.ready + mx - self.waiting - my - others * b
            var = vx + vy + others * b * (1.0 - b)
            if var <= 1e-12:
                total += 1.0 if mean < 0.5 else 0.0
            else:
                total += _phi((0.5 - mean) / math.sqrt(var))
        return total / len(self.batch)

    def _calls_exact(self, theta: float) -> int:
        # Y grows by one Bernoulli(b) per call already counted; P(Y ≥ X) per quadrature point.
        ys = [list(y) for y in self.y_pmf]
        n = 0
        limit = 10_000
        while n < limit:
            risk = 0.0
            for x, y in zip(self.x_pmf, ys, strict=True):
                risk += _p_at_least(y, x)
            if risk / len(ys) > theta:
                return n
            n += 1
            for i, b in enumerate(self.batch):
                ys[i] = _add_bernoulli(ys[i], b)
        return n


def _sums(probs: list[float]) -> tuple[float, float]:
    """Mean and variance of a sum of independent Bernoullis."""
    mean = sum(probs)
    return mean, mean - sum([q * q for q in probs])


def _pmf(base: int, probs: list[float]) -> list[float]:
    """The distribution of base + Σ Bernoulli(probs), as a list indexed by value."""
    pmf = [0.0] * base + [1.0]
    for q in probs:
        pmf = _add_bernoulli(pmf, q)
    return pmf


def _add_bernoulli(pmf: list[float], q: float) -> list[float]:
    out = [0.0] * (len(pmf) + 1)
    stay = 1.0 - q
    for value, mass in enumerate(pmf):
        if mass:
            out[value] += mass * stay
            out[value + 1] += mass * q
    return out


def _p_at_least(y: list[float], x: list[float]) -> float:
    """P(Y ≥ X) for independent X, Y with these distributions."""
    # P(Y ≥ X) = Σ_v P(X = v) · P(Y ≥ v)
    tail = 0.0
    tails = [0.0] * (len(y) + 1)
    for v in range(len(y) - 1, -1, -1):
        tail += y[v]
        tails[v] = tail
    total = 0.0
    for v, mass in enumerate(x):
        if mass and v < len(tails):
            total += mass * tails[v]
    return total
