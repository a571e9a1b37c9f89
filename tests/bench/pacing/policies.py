"""The pacing policies the benchmark runs side by side, each a :class:`~tests.bench.pacing.campaign.Policy`.

- :class:`Progressive`: ``domain.pacing.progressive_calls`` at a fixed lines-per-agent ratio
  (1.0 is the progressive baseline; a higher ratio is one of the two fixed-ratio forms the
  hindsight search tries);
- :class:`DialLevel`: a fixed VICIdial-style dial level, calls in progress = level × active
  agents (the other fixed-ratio form);
- :class:`Predictive`: ``domain.pacing.decide("predictive", …)``, the very function the dialer
  calls, fed a :class:`~domain.pacing.Situation` built from the day's state the way the dialer
  builds it from events;
- VICIdial's ADAPT_* controller is :mod:`tests.bench.pacing.vicidial`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from domain import abandon, pacing
from tests.bench.pacing.campaign import Cell, Day

TICK_S = 1.0  # how often our dialer asks its pacing


@dataclass
class Progressive:
    lines_per_agent: float = 1.0
    name: str = "progressive"
    tick_s: float = TICK_S

    def calls(self, day: Day) -> int:
        ready, waiting, dialing = len(day.ready), len(day.waiting), len(day.dialing)
        return max(0, math.floor(self.lines_per_agent * (ready - waiting) - dialing + 1e-9))


@dataclass
class DialLevel:
    level: float
    name: str = "dial_level"
    tick_s: float = TICK_S

    def calls(self, day: Day) -> int:
        existing = len(day.dialing) + len(day.waiting) + day.on_agent
        return max(0, round(self.level * len(day.agents)) - existing)


@dataclass
class Predictive:
    limits: pacing.Limits
    tuning: pacing.Tuning = pacing.DEFAULT_TUNING
    name: str = "predictive"
    tick_s: float = TICK_S
    decisions: list[pacing.Decision] = field(default_factory=list)
    keep: bool = False  # keep every decision (tests)
    # CPU time spent in decide (the figure of its speed: CPU, not wall time, so that other
    # processes on the machine do not count)
    decide_s: float = 0.0
    decide_n: int = 0

    @classmethod
    def for_cell(cls, cell: Cell, tuning: pacing.Tuning = pacing.DEFAULT_TUNING) -> Predictive:
        return cls(
            pacing.Limits(
                target_abandon_pct=cell.target_pct,
                abandon_definition_s=cell.abandon_definition_s,
            ),
            tuning,
        )

    def situation(self, day: Day) -> pacing.Situation:
        now = day.now
        day.expire_history()
        on_call: list[float] = []
        wrap_up: list[float] = []
        for agent in day.agents:
            if agent.state == "on_call":
                on_call.append(now - agent.since)
            elif agent.state == "wrap_up":
                wrap_up.append(now - agent.since)
        ring_live = pacing.Moments(*day.ring_live.moments())
        today = abandon.Window(abandoned=day.result.abandoned, live_answered=day.result.live)
        return pacing.Situation(
            ready=len(day.ready),
            on_call=on_call,
            wrap_up=wrap_up,
            dialing=[now - call.placed_at for call in day.dialing.values()],
            waiting=len(day.waiting),
            connected=day.on_agent,
            attempts_last_minute=day.attempts_last_minute(),
            running_s=now,
            history=pacing.History(
                attempts=len(day.resolved),
                live=day.resolved_live,
                ring_live=ring_live,
                failed=pacing.Moments(*day.failed.moments()),
                talk=pacing.Moments(*day.talk.moments()),
                wrap_up=pacing.Moments(*day.wrap.moments()),
            ),
            # A campaign's first day: its 24 h and 30 d windows are both today so far.
            abandon=abandon.AbandonWindows(day=today, month=today),
        )

    def calls(self, day: Day) -> int:
        situation = self.situation(day)
        started = time.thread_time()
        decision = pacing.decide("predictive", situation, self.limits, self.tuning)
        self.decide_s += time.thread_time() - started
        self.decide_n += 1
        if self.keep:
            self.decisions.append(decision)
        return decision.calls
