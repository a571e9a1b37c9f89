"""VICIdial's ADAPT_* predictive controller, ported as the benchmark's open baseline.

The specification is pacing-notes §2a, read from ``bin/AST_VDadapt.pl`` (``count_agents_lines``,
``calculate_drops``, ``calculate_dial_level``) and ``bin/AST_VDauto_dial.pl``, with the schema's
defaults. Timers as in the code:

- every 1 s: sample *ready* (agents READY or DONE: ready or in wrap-up here), *waiting* (calls
  LIVE: answered, waiting for an agent) and the agents logged in; keep the last 15 samples;
- every 60 s: recount today's calls, answers and drops and the last minute's calls and drops
  (the 15-s update reads these counts, up to a minute old, as the Perl does);
- every 15 s: the dial level::

      target = avg(ready) − avg(waiting) + adaptive_dl_diff_target
      mul    = target / avg(agents logged in)
      pct    = mul·100·(1 + i)  if mul ≥ 0  else  mul·100·|i − 1|      (i = intensity / 100)
      level  = level · (1 + pct/100), then min(level, adaptive_maximum_level), max(level, 1)
      if calls last minute > 20 and drops ÷ calls last minute > 50 %:  level /= 2
      if calls today > 50 and drops ÷ answers today > adaptive_dropped_percentage:
          ADAPT_HARD_LIMIT: level = 1
          ADAPT_AVERAGE:    level /= 2
          ADAPT_TAPERED:    left = latest_server_time − now (both HHMM integers)
                            level = 1 if left < 0 else level · min(1, left / 1000)
      level = max(level, 1)

- every 2.5 s (``AST_VDauto_dial.pl``): ``goal = round(level × (agents not paused +
  dl_diff_target))`` with agents not paused = READY/DONE + INCALL, ``make = goal − existing``
  where *existing* counts every call of the campaign still up (ringing, waiting, talking).

Not ported: trunk limits (the bench has none), drop-rate groups, the dial-level threshold
(disabled by default), Ofcom's AM-adjusted rate (off by default).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from tests.bench.pacing.campaign import Day

Method = Literal["ADAPT_HARD_LIMIT", "ADAPT_AVERAGE", "ADAPT_TAPERED"]

STATS_S = 1.0
UPDATE_S = 15.0
RECOUNT_S = 60.0
DIAL_S = 2.5


def hhmm_after(start_hhmm: int, seconds: float) -> int:
    """The server's clock as VICIdial reads it (an HHMM integer), ``seconds`` after the start."""
    minutes = (start_hhmm // 100) * 60 + start_hhmm % 100 + int(seconds // 60)
    return (minutes // 60 % 24) * 100 + minutes % 60


@dataclass
class Adapt:
    method: Method = "ADAPT_HARD_LIMIT"
    dropped_percentage: float = 3.0  # adaptive_dropped_percentage
    maximum_level: float = 3.0  # adaptive_maximum_level
    latest_server_time: int = 2100  # adaptive_latest_server_time (HHMM)
    intensity: float = 0.0  # adaptive_intensity
    dl_diff_target: float = 0.0  # adaptive_dl_diff_target
    start_level: float = 1.0  # auto_dial_level when the campaign starts
    name: str = "vicidial"
    tick_s: float = 0.5  # the harness's grid; the controller keeps its own timers

    level: float = field(init=False)
    samples: deque[tuple[int, int, int]] = field(init=False)
    next_stats: float = field(init=False, default=0.0)
    next_update: float = field(init=False, default=UPDATE_S)
    next_recount: float = field(init=False, default=0.0)
    next_dial: float = field(init=False, default=0.0)
    calls_today: int = field(init=False, default=0)
    answers_today: int = field(init=False, default=0)
    drops_today: int = field(init=False, default=0)
    calls_one: int = field(init=False, default=0)
    drops_one: int = field(init=False, default=0)
    levels: list[tuple[float, float]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.level = max(1.0, self.start_level)
        self.samples = deque(maxlen=15)

    def calls(self, day: Day) -> int:
        now = day.now
        if now >= self.next_recount:
            self._recount(day)
            self.next_recount += RECOUNT_S
        if now >= self.next_stats:
            wrap_up = sum(1 for agent in day.agents if agent.state == "wrap_up")
            self.samples.append((len(day.ready) + wrap_up, len(day.waiting), len(day.agents)))
            self.next_stats += STATS_S
        if now >= self.next_update:
            self._update(day)
            self.next_update += UPDATE_S
        if now < self.next_dial:
            return 0
        self.next_dial += DIAL_S
        agents = len(day.agents) + self.dl_diff_target  # nobody pauses in the bench
        goal = int(self.level * agents + 0.5)  # Perl's sprintf("%.0f"), positive values
        existing = len(day.dialing) + len(day.waiting) + day.on_agent
        return max(0, goal - existing)

    def _recount(self, day: Day) -> None:
        self.calls_today = day.dialled_today
        self.answers_today = day.result.live
        self.drops_today = day.result.abandoned
        self.calls_one = day.attempts_last_minute()
        self.drops_one = day.drops_last_minute()

    def _update(self, day: Day) -> None:
        samples = self.samples
        if not samples:
            return
        count = len(samples)
        ready = sum(s[0] for s in samples) / count
        waiting = sum(s[1] for s in samples) / count
        agents_avg = sum(s[2] for s in samples) / count
        target = ready - waiting + self.dl_diff_target
        mul = 0.0 if target == 0 or agents_avg == 0 else target / agents_avg
        i = self.intensity / 100.0
        pct = mul * 100.0 * (1.0 + i) if mul >= 0 else mul * 100.0 * abs(i - 1.0)
        level = round(self.level * (1.0 + pct / 100.0), 3)  # sprintf("%.3f")
        level = max(min(level, self.maximum_level), 1.0)
        if self.calls_one > 20 and 100.0 * self.drops_one / self.calls_one > 50.0:
            level /= 2.0
        if self.calls_today > 50 and self.answers_today > 0:
            dropped = round(100.0 * self.drops_today / self.answers_today, 2)  # sprintf("%.2f")
            if dropped > self.dropped_percentage:
                if self.method == "ADAPT_HARD_LIMIT":
                    level = 1.0
                elif self.method == "ADAPT_AVERAGE":
                    level /= 2.0
                else:
                    left = self.latest_server_time - hhmm_after(day.cell.start_hhmm, day.now)
                    level = 1.0 if left < 0 else level * min(1.0, left / 1000.0)
        self.level = max(level, 1.0)
        self.levels.append((day.now, self.level))
