"""The telephony simulator: the first adapter of the :class:`~processors.telephony.port.Telephony`
port. ``dialstream up`` dials on it in wall-clock time; tests and benchmarks in virtual time.

Input: :class:`~processors.telephony.port.PlaceCall` and the dialer's commands. Output:
:class:`~processors.telephony.port.Progress` events through ``poll()``. State: a heap of
scheduled events and the table of calls in progress (an ended call is forgotten). Guarantees:
every placed call ends exactly once (port docstring); the same seed and the same sequence of
places gives the same outcomes and times, whatever the dialer does in between (each call's fate
is drawn in full when it is placed, always with the same number of draws, so call *n* of a run
gets the same draws under any pacing policy: common random numbers for side-by-side benchmarks).
No threads, no sleeps: a driver in virtual time jumps a :class:`VirtualClock` to ``next_due()``;
in wall-clock time (:class:`WallClock`) the dialer polls. A lock makes it safe to read from one
thread (a gateway) while another (the dialer) polls and commands.

Where the numbers come from (pacing-notes.md, trust marks as there: P primary, S secondary,
D our own assumption or arithmetic):

- Answer (person, machine or fax) after U(4, 20) s from the dial — §6, the quick simulation's
  "live answer after U(4,20) s of ringing" (D). An answer due after the ring timeout is a
  ``no_answer`` at the timeout instead (Hoeflin & Levy, §1b: completions depend on the timeout).
- Failed attempts end after U(3, 25) s in §6 (D), all kinds together. We split them: no answer
  ends exactly at the call's ring timeout (≥ 15 s, TCPA); busy, SIT and network errors come back
  quickly, U(3, 10) s (D: the low part of §6's range; a busy tone or an intercept needs no
  ringing).
- "ringing" after U(0.5, 2) s of post-dial delay (D; no source found).
- Answering-machine detection 150–400 ms after off-hook — CPUC record, DMA comments (§1a, P).
  With AMD both people and machines are reported after that delay; without it a person is
  reported at off-hook. Fax tone detection: the same window (D).
- Transfer to an agent 0.6–1.4 s — CPUC record, DMA comments (§1a, P).
- A person's greeting starts 1.44 s after pick-up on average — CPUC record, WorldCom (§1a, P);
  after it they wait U(3, 7) s of silence, then hang up: mean 5 s, the outbound patience of the
  UMontreal ContactCenters Blend model (§1a, P); the spread is ours (D).
- Talk time lognormal, mean 180 s (§0/§6 scenario T = 180 s; the bench also runs 90 s), sigma
  0.8 of the log (D; lognormal is the shape Brown et al., JASA 2005, found for call-centre
  service times; §6 asks for lognormal talk).
- Wrap-up lognormal, mean 15 s (the issue's bench setting), sigma 0.5 (D).
- A machine's greeting plus its recording: U(10, 30) s (D). A fax gives up after 35 ± 5 s, the
  ITU-T T.30 T1 timer. A recorded message plays for 8 s (D).
- Answering-machine detection makes no mistakes unless :class:`AmdErrors` says so (no published
  error rates were found; the PureConnect example of §1a shows what they do to abandon rates).
- Default rates: 25 % live answers (CPUC record: AT&T "about 20%", Pacific Bell "25-30%", §1a, P);
  machine 15 %, fax 1 %, busy 8 %, invalid 5 %, network error 1 % (D); the rest no answer.
"""

from __future__ import annotations

import heapq
import math
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final, Literal, Protocol
from uuid import UUID

from processors.telephony.port import (
    TERMINAL_KINDS,
    CallStateError,
    PlaceCall,
    Progress,
    ProgressKind,
)

Outcome = Literal["person", "machine", "fax", "busy", "no_answer", "invalid", "network_error"]
Span = tuple[float, float]  # a uniform range, seconds

_RATE_FIELDS: Final = ("answer_person", "machine", "fax", "busy", "no_answer", "invalid", "network_error")
_inv_normal = NormalDist().inv_cdf


@dataclass(frozen=True, slots=True)
class Rates:
    """The chance of each outcome of one attempt on a list (``answer_person`` is a live answer,
    ``invalid`` a special information tone). They must sum to at most 1; what is left over is no
    answer too, so ``no_answer`` may stay 0. The defaults are the module docstring's."""

    answer_person: float = 0.25
    machine: float = 0.15
    fax: float = 0.01
    busy: float = 0.08
    no_answer: float = 0.0
    invalid: float = 0.05
    network_error: float = 0.01

    def __post_init__(self) -> None:
        for name in _RATE_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"rate {name}={value} is not between 0 and 1")
        total = sum(getattr(self, name) for name in _RATE_FIELDS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"rates sum to {total:.4f}, more than 1")

    def probabilities(self) -> dict[Outcome, float]:
        """Each outcome's probability, no answer taking the rest; they sum to 1."""
        explicit: dict[Outcome, float] = {
            "person": self.answer_person,
            "machine": self.machine,
            "fax": self.fax,
            "busy": self.busy,
            "invalid": self.invalid,
            "network_error": self.network_error,
        }
        explicit["no_answer"] = max(0.0, 1.0 - sum(explicit.values()))
        return explicit


def _check_span(name: str, span: Span) -> None:
    low, high = span
    if not 0.0 <= low <= high:
        raise ValueError(f"{name}={span}: want 0 <= low <= high")


@dataclass(frozen=True, slots=True)
class Timings:
    """Time distributions, seconds; the module docstring says where each default comes from.
    Spans are uniform ranges measured from the dial (answer, failures), from off-hook (detection,
    machine, fax), from the greeting (patience) or from the command (transfer, message)."""

    alerting_s: Span = (0.5, 2.0)
    answer_s: Span = (4.0, 20.0)
    busy_s: Span = (3.0, 10.0)
    sit_s: Span = (3.0, 10.0)
    network_error_s: Span = (3.0, 10.0)
    amd_s: Span = (0.15, 0.40)
    fax_detect_s: Span = (0.15, 0.40)
    greeting_s: float = 1.44
    patience_s: Span = (3.0, 7.0)
    transfer_s: Span = (0.6, 1.4)
    talk_mean_s: float = 180.0
    talk_sigma: float = 0.8
    machine_s: Span = (10.0, 30.0)
    fax_give_up_s: Span = (30.0, 40.0)
    message_s: float = 8.0
    wrap_up_mean_s: float = 15.0
    wrap_up_sigma: float = 0.5

    def __post_init__(self) -> None:
        for name in (
            "alerting_s", "answer_s", "busy_s", "sit_s", "network_error_s", "amd_s",
            "fax_detect_s", "patience_s", "transfer_s", "machine_s", "fax_give_up_s",
        ):  # fmt: skip
            _check_span(name, getattr(self, name))
        for name in ("greeting_s", "message_s", "talk_sigma", "wrap_up_sigma"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("talk_mean_s", "wrap_up_mean_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


@dataclass(frozen=True, slots=True)
class AmdErrors:
    """How often answering-machine detection is wrong (only for calls placed with ``amd``): a
    person classed as a machine (dropping them is a true abandon the dialer does not see) and a
    machine classed as a person (an agent gets a machine)."""

    person_as_machine: float = 0.0
    machine_as_person: float = 0.0

    def __post_init__(self) -> None:
        for name in ("person_as_machine", "machine_as_person"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is not between 0 and 1")


@dataclass(frozen=True, slots=True)
class CallPlan:
    """One call's fate, drawn in full when it is placed. Times are seconds: ``end_s`` (failures)
    and ``offhook_s`` from the dial; ``detect_s``, ``machine_s``, ``fax_give_up_s`` from
    off-hook; ``patience_s`` from the greeting's start; ``transfer_s`` and ``talk_s`` from the
    connect. The fields an outcome does not use are drawn anyway (a fixed number of draws per
    call keeps runs aligned)."""

    outcome: Outcome
    alerting_s: float
    end_s: float
    offhook_s: float
    detect_s: float
    patience_s: float
    transfer_s: float
    talk_s: float
    machine_s: float
    fax_give_up_s: float
    misdetected: bool  # AMD gets this call wrong (person ⇄ machine; only with amd)


def _lognormal(mean: float, sigma: float, u: float) -> float:
    """The lognormal with this mean and log-sigma at quantile ``u`` (one draw, no rejection
    loop, so every sample uses exactly one uniform)."""
    mu = math.log(mean) - sigma * sigma / 2.0
    return math.exp(mu + sigma * _inv_normal(min(max(u, 1e-12), 1.0 - 1e-12)))


class CallModel:
    """Seeded sampling of calls and wrap-ups; pure apart from its random generators."""

    def __init__(
        self,
        seed: int,
        rates_by_list: Mapping[UUID, Rates] | None = None,
        default_rates: Rates | None = None,
        timings: Timings | None = None,
        amd_errors: AmdErrors | None = None,
    ) -> None:
        self.seed = seed
        self.rates_by_list: dict[UUID, Rates] = dict(rates_by_list or {})
        self.default_rates = default_rates or Rates()
        self.timings = timings or Timings()
        self.amd_errors = amd_errors or AmdErrors()
        self._calls = random.Random(seed)
        # Wrap-ups come from their own generator, so simulated agents do not shift the calls' draws.
        self._wrap_ups = random.Random(f"{seed}/wrap-up")
        self._cumulative: dict[UUID | None, list[tuple[float, Outcome]]] = {}

    def rates_for(self, list_id: UUID | None) -> Rates:
        if list_id is None:
            return self.default_rates
        return self.rates_by_list.get(list_id, self.default_rates)

    def _table(self, list_id: UUID | None) -> list[tuple[float, Outcome]]:
        table = self._cumulative.get(list_id)
        if table is None:
            table, total = [], 0.0
            for outcome, p in self.rates_for(list_id).probabilities().items():
                total += p
                table.append((total, outcome))
            table[-1] = (math.inf, table[-1][1])  # float rounding never falls off the end
            self._cumulative[list_id] = table
        return table

    def plan(self, call: PlaceCall) -> CallPlan:
        """Draw the fate of ``call`` (eleven uniforms, whatever the outcome)."""
        t = self.timings
        r = self._calls.random
        u_outcome = r()
        outcome: Outcome = "no_answer"
        for bound, candidate in self._table(call.list_id):
            if u_outcome < bound:
                outcome = candidate
                break

        def uniform(span: Span) -> float:
            return span[0] + (span[1] - span[0]) * r()

        alerting = uniform(t.alerting_s)
        failed = {"busy": t.busy_s, "invalid": t.sit_s, "network_error": t.network_error_s}
        end = uniform(failed.get(outcome, (0.0, 0.0)))
        if outcome == "no_answer":
            end = float(call.ring_timeout_s)
        offhook = uniform(t.answer_s)
        detect = uniform(t.fax_detect_s if outcome == "fax" else t.amd_s)
        patience = uniform(t.patience_s)
        transfer = uniform(t.transfer_s)
        talk = _lognormal(t.talk_mean_s, t.talk_sigma, r())
        machine = uniform(t.machine_s)
        fax_give_up = uniform(t.fax_give_up_s)
        u_amd = r()
        misdetected = call.amd and (
            (outcome == "person" and u_amd < self.amd_errors.person_as_machine)
            or (outcome == "machine" and u_amd < self.amd_errors.machine_as_person)
        )
        if outcome in ("person", "machine", "fax") and offhook >= call.ring_timeout_s:
            # They would have picked up, but the dialer gave up first.
            outcome, end = "no_answer", float(call.ring_timeout_s)
        return CallPlan(
            outcome=outcome,
            alerting_s=alerting,
            end_s=end,
            offhook_s=offhook,
            detect_s=detect,
            patience_s=patience,
            transfer_s=transfer,
            talk_s=talk,
            machine_s=machine,
            fax_give_up_s=fax_give_up,
            misdetected=misdetected,
        )

    def wrap_up_s(self) -> float:
        """A simulated agent's wrap-up time after a call."""
        t = self.timings
        return _lognormal(t.wrap_up_mean_s, t.wrap_up_sigma, self._wrap_ups.random())


class Clock(Protocol):
    def now(self) -> float: ...


class VirtualClock:
    """Simulated seconds that move only when told to."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance_to(self, t: float) -> None:
        if t < self._now:
            raise ValueError(f"the clock cannot go back from {self._now} to {t}")
        self._now = t


class WallClock:
    """Real seconds (``time.monotonic``): the simulator as ``dialstream up`` runs it.

    ``speed`` > 1 runs the simulated network faster than life (a demo, or a test that kills a
    dialer process mid-campaign): rings, talks and wrap-ups take 1/speed of their real time.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed {speed} is not positive")
        self.speed = speed
        self._start = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._start) * self.speed


CallState = Literal["dialing", "ringing", "answered", "machine", "fax", "connecting", "connected", "dropping"]


@dataclass(slots=True)
class _Call:
    call: PlaceCall
    plan: CallPlan
    token: int  # scheduled events carry the token they were planned under; a re-plan voids them
    state: CallState = "dialing"
    is_machine: bool = False
    deadline: float = 0.0  # when the far end hangs up unless the dialer acts first


_FAILURE_KIND: Final[dict[Outcome, ProgressKind]] = {
    "busy": "busy",
    "invalid": "sit_invalid",
    "network_error": "network_error",
}
_ANSWER_STATE: Final[dict[str, CallState]] = {
    "answered_person": "answered",
    "answering_machine": "machine",
    "fax": "fax",
}


class SimulatedTelephony:
    """The :class:`~processors.telephony.port.Telephony` port on a :class:`CallModel`."""

    def __init__(self, model: CallModel, clock: Clock) -> None:
        self.model = model
        self.clock = clock
        self._lock = threading.Lock()
        self._heap: list[tuple[float, int, UUID, ProgressKind, int]] = []
        self._seq = 0  # ties at one instant keep the order they were scheduled in
        self._calls: dict[UUID, _Call] = {}
        self._outbox: list[Progress] = []

    # -- the port ---------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def place(self, call: PlaceCall) -> None:
        with self._lock:
            self._advance()
            if call.call_id in self._calls:
                raise CallStateError(f"call {call.call_id} is already in progress")
            plan = self.model.plan(call)
            state = _Call(call=call, plan=plan, token=self._next_seq())
            self._calls[call.call_id] = state
            t0 = self.clock.now()
            failure = _FAILURE_KIND.get(plan.outcome)
            if failure is not None:
                self._schedule(state, t0 + plan.end_s, failure)
                return
            if plan.outcome == "no_answer":
                self._schedule(state, t0 + min(plan.alerting_s, plan.end_s), "ringing")
                self._schedule(state, t0 + plan.end_s, "no_answer")
                return
            answer_at = t0 + plan.offhook_s
            # Ringing never comes after the answer, whatever the spans say.
            self._schedule(state, t0 + min(plan.alerting_s, plan.offhook_s), "ringing")
            if plan.outcome == "fax":
                self._schedule(state, answer_at + plan.detect_s, "fax")
                state.deadline = answer_at + plan.fax_give_up_s
            else:
                # What the dialer is told; the far end behaves as what it is.
                seems_machine = (plan.outcome == "machine") != plan.misdetected
                heard_at = answer_at + plan.detect_s if call.amd else answer_at
                self._schedule(
                    state, heard_at, "answering_machine" if call.amd and seems_machine else "answered_person"
                )
                if plan.outcome == "machine":
                    state.is_machine = True
                    state.deadline = answer_at + plan.machine_s
                else:
                    state.deadline = answer_at + self.model.timings.greeting_s + plan.patience_s
            self._schedule(state, state.deadline, "remote_hangup")

    def connect(self, call_id: UUID, agent_id: UUID) -> bool:
        with self._lock:
            self._advance()
            state = self._calls.get(call_id)
            if state is None:
                return False
            if state.state != "answered":
                raise CallStateError(f"cannot connect call {call_id}: it is {state.state}")
            now = self.clock.now()
            connected_at = now + state.plan.transfer_s
            state.state = "connecting"
            if connected_at >= state.deadline:
                # The person hangs up during the transfer: the planned remote_hangup stands.
                return True
            self._replan(state)
            talk = state.plan.machine_s if state.is_machine else state.plan.talk_s
            self._schedule(state, connected_at, "connected")
            self._schedule(state, connected_at + talk, "remote_hangup")
            return True

    def drop_with_message(self, call_id: UUID, message: str) -> bool:
        with self._lock:
            self._advance()
            state = self._calls.get(call_id)
            if state is None:
                return False
            if state.state not in ("answered", "machine"):
                raise CallStateError(f"cannot drop call {call_id} with a message: it is {state.state}")
            self._replan(state)
            state.state = "dropping"
            played_at = self.clock.now() + self.model.timings.message_s
            self._schedule(state, played_at, "message_played")
            self._schedule(state, played_at, "hung_up")
            return True

    def hang_up(self, call_id: UUID) -> bool:
        with self._lock:
            self._advance()
            state = self._calls.pop(call_id, None)
            if state is None:
                return False
            # Its scheduled events are void: they check the token of a call no longer listed.
            self._outbox.append(Progress(call_id, "hung_up", self.clock.now()))
            return True

    def poll(self) -> list[Progress]:
        with self._lock:
            self._advance()
            due, self._outbox = self._outbox, []
            return due

    def next_due(self) -> float | None:
        with self._lock:
            if self._outbox:
                return self._outbox[0].at
            heap = self._heap
            while heap:
                at, _, call_id, _, token = heap[0]
                state = self._calls.get(call_id)
                if state is not None and state.token == token:
                    return at
                heapq.heappop(heap)  # void: re-planned or hung up
            return None

    # -- inspection (benchmarks, the status of a simulated run) ------------------------------

    def answered_by(self, call_id: UUID) -> Literal["person", "machine", "fax"] | None:
        """Who really answered a call in progress, whatever the dialer was told (benchmarks count
        true abandons with it); None before the answer, after the end, or with no answer."""
        with self._lock:
            self._advance()
            state = self._calls.get(call_id)
            if state is None or state.state in ("dialing", "ringing"):
                return None
            outcome = state.plan.outcome
            return outcome if outcome in ("person", "machine", "fax") else None

    def calls_in_progress(self) -> int:
        """Calls placed and not yet ended (ended = their end is due, polled or not)."""
        with self._lock:
            self._advance()
            return len(self._calls)

    # -- inside -----------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _schedule(self, state: _Call, at: float, kind: ProgressKind) -> None:
        heapq.heappush(self._heap, (at, self._next_seq(), state.call.call_id, kind, state.token))

    def _replan(self, state: _Call) -> None:
        """Void every event still scheduled for the call (they are all in the future)."""
        state.token = self._next_seq()

    def _advance(self) -> None:
        """Move every event due by now to the outbox and apply it to its call's state, so
        commands see the call as it is now even before the dialer polls."""
        now = self.clock.now()
        heap, calls, outbox = self._heap, self._calls, self._outbox
        while heap and heap[0][0] <= now:
            at, _, call_id, kind, token = heapq.heappop(heap)
            state = calls.get(call_id)
            if state is None or state.token != token:
                continue
            outbox.append(Progress(call_id, kind, at))
            if kind in TERMINAL_KINDS:
                del calls[call_id]
            elif kind == "ringing":
                state.state = "ringing"
            elif kind == "connected":
                state.state = "connected"
            elif kind in _ANSWER_STATE:
                state.state = _ANSWER_STATE[kind]
