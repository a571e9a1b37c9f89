"""A campaign day in virtual time on the telephony simulator: the pacing benchmark's harness.

Input: a :class:`Cell` (agents, live-answer rate, mean talk time, wrap-up, abandon definition,
the day's length), a pacing :class:`Policy` and a seed. Output: a :class:`Result` (live
answers, abandoned calls, agents' time on calls and in wrap-up, logged-in time, per-minute
counts for the rolling-hour figure).

The calls are the simulator's (:mod:`processors.telephony.simulator`: one ``CallModel`` per
seed, so every policy gets the same call *n* — common random numbers); what happens around them
is the dialer's job, done here the way the dialer does it:

- every ``policy.tick_s`` seconds the policy says how many calls to place; they are placed at
  once (ring timeout 25 s, answering-machine detection on);
- a person's answer goes to the agent that has been ready longest; with no agent ready it
  waits, and an agent who becomes ready takes the oldest waiting call; a call still waiting
  ``abandon_definition_s`` after the answer is dropped with the recorded message: abandoned;
- machines and faxes are hung up on at detection;
- an agent is on the call from the connect (the transfer included) until the customer hangs
  up, then in wrap-up for ``CallModel.wrap_up_s()`` seconds, then ready.

Figures (definitions as in the README): abandon % = abandoned ÷ answered by a live person
(:mod:`tests.bench.pacing.rates`); occupancy = agents' time on calls and in wrap-up ÷ their
logged-in time (all agents are logged in all day, never "not ready"). Only what happens before
the end of the day counts; busy time is cut at the end.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from processors.telephony.port import PlaceCall
from processors.telephony.simulator import CallModel, Rates, SimulatedTelephony, Timings, VirtualClock
from tests.bench.pacing.rates import abandon_pct, worst_window_pct

RING_TIMEOUT_S = 25  # the dialing profile's default (schemas.profiles.Pacing)
HISTORY_S = 1800.0  # the history window the predictive policy is fed (30 min)
_NOBODY = UUID(int=0)


@dataclass(frozen=True)
class Cell:
    agents: int
    live_rate: float  # share of attempts answered by a person
    talk_s: float  # mean talk time (lognormal)
    wrap_up_s: float = 15.0
    abandon_definition_s: float = 2.0
    target_pct: float = 3.0
    hours: float = 8.0
    start_hhmm: int = 900  # the day starts at 09:00 (VICIdial's tapering reads the clock)

    @property
    def name(self) -> str:
        return f"{self.agents}a_{round(self.live_rate * 100)}_{round(self.talk_s)}s"

    def model(self, seed: int) -> CallModel:
        return CallModel(
            seed,
            default_rates=Rates(answer_person=self.live_rate),
            timings=Timings(talk_mean_s=self.talk_s, wrap_up_mean_s=self.wrap_up_s),
        )


class Policy(Protocol):
    """Says how many calls to place now; may keep state of its own across ticks (VICIdial's
    controller does; ours does not)."""

    name: str
    tick_s: float

    def calls(self, day: Day) -> int: ...


@dataclass(slots=True)
class Agent:
    index: int
    id: UUID
    state: str = "ready"  # ready | on_call | wrap_up
    since: float = 0.0  # entered the state at
    call: Call | None = None


@dataclass(slots=True)
class Call:
    id: UUID
    placed_at: float
    state: str = "dialing"  # dialing | waiting | on_agent | over
    answered_at: float = 0.0
    connected_at: float = -1.0
    agent: Agent | None = None


class Rolling:
    """Count, sum and sum of squares of the samples of the last ``span`` seconds."""

    __slots__ = ("items", "n", "span", "squares", "total")

    def __init__(self, span: float) -> None:
        self.span = span
        self.items: deque[tuple[float, float]] = deque()
        self.n = 0
        self.total = 0.0
        self.squares = 0.0

    def add(self, at: float, x: float) -> None:
        self.items.append((at, x))
        self.n += 1
        self.total += x
        self.squares += x * x

    def expire(self, now: float) -> None:
        items, horizon = self.items, now - self.span
        while items and items[0][0] < horizon:
            _, x = items.popleft()
            self.n -= 1
            self.total -= x
            self.squares -= x * x

    def moments(self) -> tuple[int, float, float]:
        if self.n <= 0:
            return 0, 0.0, 0.0
        mean = self.total / self.n
        return self.n, mean, math.sqrt(max(0.0, self.squares / self.n - mean * mean))


@dataclass
class Result:
    cell: str
    policy: str
    seed: int
    attempts: int = 0
    live: int = 0
    abandoned: int = 0
    busy_s: float = 0.0  # agents on calls and in wrap-up
    logged_in_s: float = 0.0
    minute_live: list[int] = field(default_factory=list)
    minute_abandoned: list[int] = field(default_factory=list)

    @property
    def occupancy(self) -> float:
        return self.busy_s / self.logged_in_s if self.logged_in_s else 0.0

    @property
    def abandon_pct(self) -> float:
        return abandon_pct(self.abandoned, self.live)

    @property
    def worst_hour_pct(self) -> float:
        return worst_window_pct(self.minute_abandoned, self.minute_live, 60)


class Day:
    """One simulated day of one group. Policies read its public state."""

    def __init__(self, cell: Cell, seed: int, policy_name: str = "") -> None:
        self.cell = cell
        self.clock = VirtualClock(0.0)
        self.model = cell.model(seed)
        self.phone = SimulatedTelephony(self.model, self.clock)
        self.end = cell.hours * 3600.0
        self.now = 0.0
        self.agents = [Agent(i, UUID(int=i + 1)) for i in range(cell.agents)]
        self.ready: deque[Agent] = deque(self.agents)  # longest ready first
        self.calls: dict[UUID, Call] = {}
        self.dialing: dict[UUID, Call] = {}
        self.waiting: deque[Call] = deque()  # oldest answer first
        self.on_agent = 0  # calls connected (or being connected) to an agent
        self.wrap_ends: list[tuple[float, int]] = []  # (ready at, agent index)
        self.placed_times: deque[float] = deque()  # attempts of the last 60 s
        self._next_call = 1 << 64
        minutes = math.ceil(self.end / 60.0)
        self.result = Result(cell.name, policy_name, seed, minute_live=[0] * minutes,
                             minute_abandoned=[0] * minutes)
        # The recent history window, as the dialer keeps it from the call-attempt events.
        self.resolved: deque[tuple[float, bool]] = deque()
        self.resolved_live = 0
        self.ring_live = Rolling(HISTORY_S)
        self.failed = Rolling(HISTORY_S)
        self.talk = Rolling(HISTORY_S)
        self.wrap = Rolling(HISTORY_S)
        # Today's counts (the 24 h and 30 d windows of a campaign's first day).
        self.dialled_today = 0
        self.drop_times: deque[float] = deque()  # abandons of the last 60 s (VICIdial reads them)

    # -- what policies read ----------------------------------------------------------------

    def attempts_last_minute(self) -> int:
        times, horizon = self.placed_times, self.now - 60.0
        while times and times[0] <= horizon:
            times.popleft()
        return len(times)

    def drops_last_minute(self) -> int:
        times, horizon = self.drop_times, self.now - 60.0
        while times and times[0] <= horizon:
            times.popleft()
        return len(times)

    def expire_history(self) -> None:
        now = self.now
        horizon = now - HISTORY_S
        resolved = self.resolved
        while resolved and resolved[0][0] < horizon:
            _, live = resolved.popleft()
            self.resolved_live -= live
        for rolling in (self.ring_live, self.failed, self.talk, self.wrap):
            rolling.expire(now)

    # -- the dialer's part -----------------------------------------------------------------

    def place(self, n: int) -> None:
        now = self.now
        for _ in range(n):
            self._next_call += 1
            call_id = UUID(int=self._next_call)
            self.phone.place(PlaceCall(call_id, "+15550100000", "+15550199999", RING_TIMEOUT_S, True))
            call = Call(call_id, now)
            self.calls[call_id] = call
            self.dialing[call_id] = call
            self.placed_times.append(now)
        self.result.attempts += n
        self.dialled_today += n

    def _connect(self, call: Call, agent: Agent) -> None:
        self.phone.connect(call.id, agent.id)
        call.state = "on_agent"
        call.agent = agent
        agent.state = "on_call"
        agent.since = self.now
        agent.call = call
        self.on_agent += 1

    def _agent_free(self, agent: Agent) -> None:
        """An agent finished wrap-up (or a transfer failed): ready, or straight to a waiting call."""
        agent.state = "ready"
        agent.since = self.now
        agent.call = None
        if self.waiting:
            self._connect(self.waiting.popleft(), agent)
        else:
            self.ready.append(agent)

    def _busy(self, start: float, stop: float) -> None:
        self.result.busy_s += max(0.0, min(stop, self.end) - start)

    def _resolve(self, call: Call, at: float, live: bool) -> None:
        del self.dialing[call.id]
        self.resolved.append((at, live))
        self.resolved_live += live
        (self.ring_live if live else self.failed).add(at, at - call.placed_at)

    def _on_progress(self, call_id: UUID, kind: str, at: float) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        if kind == "answered_person":
            self._resolve(call, at, True)
            call.answered_at = at
            minute = int(at // 60.0)
            self.result.live += 1
            self.result.minute_live[minute] += 1
            if self.ready:
                self._connect(call, self.ready.popleft())
            else:
                call.state = "waiting"
                self.waiting.append(call)
        elif kind in ("answering_machine", "fax"):
            self._resolve(call, at, False)
            self.phone.hang_up(call_id)
        elif kind in ("busy", "no_answer", "sit_invalid", "network_error"):
            self._resolve(call, at, False)
            self._over(call)
        elif kind == "connected":
            call.connected_at = at
        elif kind == "remote_hangup":
            if call.state == "on_agent":
                agent = call.agent
                assert agent is not None
                self.on_agent -= 1
                self._busy(agent.since, at)
                if call.connected_at >= 0:
                    self.talk.add(at, at - call.connected_at)
                    wrap = self.model.wrap_up_s()
                    agent.state = "wrap_up"
                    agent.since = at
                    agent.call = None
                    heapq.heappush(self.wrap_ends, (at + wrap, agent.index))
                else:  # hung up during the transfer: the agent is free again at once
                    self._agent_free(agent)
            elif call.state == "waiting":  # their patience ran out before the deadline
                self.waiting.remove(call)
                self._abandon(call)
            elif call.state == "dialing":  # a machine or fax that hung up first
                self._resolve(call, at, False)
            self._over(call)
        elif kind == "hung_up":
            self._over(call)

    def _over(self, call: Call) -> None:
        call.state = "over"
        self.calls.pop(call.id, None)

    def _abandon(self, call: Call) -> None:
        self.result.abandoned += 1
        self.result.minute_abandoned[int(call.answered_at // 60.0)] += 1
        self.drop_times.append(self.now)

    def run(self, policy: Policy) -> Result:
        """The day: events in time order, the policy asked every ``tick_s`` seconds."""
        phone, clock = self.phone, self.clock
        grace = self.cell.abandon_definition_s
        end = self.end
        tick = policy.tick_s
        next_tick = 0.0
        wrap_ends = self.wrap_ends
        agents = self.agents
        while True:
            due = phone.next_due()
            t = next_tick
            if due is not None and due < t:
                t = due
            if wrap_ends and wrap_ends[0][0] < t:
                t = wrap_ends[0][0]
            if self.waiting and self.waiting[0].answered_at + grace < t:
                t = self.waiting[0].answered_at + grace
            if t >= end:
                break
            if t > self.now:
                clock.advance_to(t)
                self.now = t
            while wrap_ends and wrap_ends[0][0] <= t:
                ready_at, index = heapq.heappop(wrap_ends)
                agent = agents[index]
                self._busy(agent.since, ready_at)
                self.wrap.add(ready_at, ready_at - agent.since)
                self._agent_free(agent)
            if due is not None and due <= t:
                for progress in phone.poll():
                    self._on_progress(progress.call_id, progress.kind, progress.at)
            waiting = self.waiting
            while waiting and waiting[0].answered_at + grace <= t:
                call = waiting.popleft()
                phone.drop_with_message(call.id, "abandoned")
                call.state = "dropped"
                self._abandon(call)
            if t >= next_tick:
                n = policy.calls(self)
                if n > 0:
                    self.place(n)
                next_tick += tick
        # The day is over: agents still busy count up to the end.
        for agent in agents:
            if agent.state != "ready":
                self._busy(agent.since, end)
        self.result.logged_in_s = len(agents) * end
        return self.result


def simulate(cell: Cell, policy_factory: Callable[[Cell], Policy], seed: int) -> Result:
    policy = policy_factory(cell)
    return Day(cell, seed, policy.name).run(policy)
