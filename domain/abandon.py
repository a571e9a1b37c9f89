"""Abandon-rate accounting: the definitions the product and the regulators use, and the two
rolling windows a campaign group is held to.

An *abandoned* call is a call answered by a live person that no agent took within the
account's abandon call definition (2 s after the greeting in the US and UK); it heard the
recorded message. Three ways to turn counts into a rate, all in percent:

- :func:`rate`: abandoned ÷ answered by a live person (FTC TSR / FCC TCPA, Ofcom, California).
  The abandoned calls are live answers too, so the denominator holds them. This is what the
  dialer's windows and its pacing use.
- :func:`dialer_rate` and :func:`true_rate`: the two rates of Genesys PureConnect's worked
  example (reference pacing-notes §1a). The dialer rate trusts call analysis: every call it
  classed live and abandoned, over those plus the live calls agents handled
  (3 / (78 + 3) = 3.7 %). The true rate counts only what agents confirm: the abandoned calls
  that really were people, over the calls agents found to be people (2 / 78 = 2.6 %).
- :func:`ofcom_rate`: Ofcom's answering-machine-adjusted rate, as VICIdial implements it
  (pacing-notes §2a): the share of machines among what agents handled discounts the abandoned
  calls (some of them were machines that call analysis missed).

Windows (:func:`rolling`): the US counts per campaign over 30 days, the UK per campaign over 24
hours; a group is held to both, and the stricter one binds. Counts come in time buckets whose
start is an instant (UTC); a bucket belongs to the window ending at ``now`` when it starts in
``[now - span, now]``, so a window is exact to one bucket width. Spans are elapsed time, never
local clock arithmetic: 24 hours across a daylight-saving change are still 24 hours.

Pure: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

import msgspec

DAY = timedelta(hours=24)
MONTH = timedelta(days=30)
WindowName = Literal["24h", "30d"]


def _percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else 0.0


def rate(abandoned: int, live_answered: int) -> float:
    """Abandoned calls in percent of the calls answered by a live person (which include them)."""
    return _percent(abandoned, live_answered)


def dialer_rate(abandoned: int, agent_handled_live: int) -> float:
    """PureConnect's dialer rate: abandoned ÷ (live calls agents handled + abandoned)."""
    return _percent(abandoned, agent_handled_live + abandoned)


def true_rate(abandoned_live: int, agent_handled_live: int) -> float:
    """PureConnect's actual rate: abandoned calls that were people ÷ the calls agents found
    to be people."""
    return _percent(abandoned_live, agent_handled_live)


def ofcom_rate(abandoned: int, agent_handled_live: int, machines_by_agents: int) -> float:
    """Ofcom's answering-machine-adjusted rate (VICIdial's ``ofcom_uk_drop_calc``): with
    ``am_share = machines_by_agents / (agent_handled_live + machines_by_agents)`` and
    ``adjusted = abandoned × (1 − am_share)``, the rate is
    ``adjusted / (agent_handled_live + adjusted)``."""
    reached = agent_handled_live + machines_by_agents
    am_share = machines_by_agents / reached if reached else 0.0
    adjusted = abandoned * (1.0 - am_share)
    return _percent(adjusted, agent_handled_live + adjusted)


class Bucket(msgspec.Struct, frozen=True):
    """The abandoned calls and live answers of a group that fell in one time bucket."""

    start: datetime  # aware; the bucket's first instant
    abandoned: int
    live_answered: int


class Window(msgspec.Struct, frozen=True, kw_only=True):
    abandoned: int = 0
    live_answered: int = 0

    @property
    def rate(self) -> float:
        return rate(self.abandoned, self.live_answered)

    def headroom(self, target: float) -> float:
        """How many more abandoned calls keep this window at or under ``target`` percent: each
        one is a live answer too, so (a + x) / (l + x) ≤ t gives x ≤ (t·l − a) / (1 − t).
        Negative when the window is over the target already."""
        share = target / 100.0
        if share >= 1.0:
            return float("inf")
        return (share * self.live_answered - self.abandoned) / (1.0 - share)


class AbandonWindows(msgspec.Struct, frozen=True, kw_only=True):
    day: Window  # the last 24 hours
    month: Window  # the last 30 days

    @property
    def binding(self) -> WindowName:
        """The stricter window: the one with the higher rate (both answer to one target, so it is
        the nearer to it); on a tie, the 30-day window, the one slower to recover."""
        return "24h" if self.day.rate > self.month.rate else "30d"

    @property
    def bound(self) -> Window:
        """The binding window."""
        return self.day if self.binding == "24h" else self.month


def window(buckets: Iterable[Bucket], *, now: datetime, span: timedelta) -> Window:
    """The sums of the buckets that start within ``span`` before ``now`` (and not after it)."""
    earliest = now - span
    abandoned = live = 0
    for bucket in buckets:
        if earliest <= bucket.start <= now:
            abandoned += bucket.abandoned
            live += bucket.live_answered
    return Window(abandoned=abandoned, live_answered=live)


def rolling(
    buckets: Iterable[Bucket], now: datetime, *, fine: Iterable[Bucket] | None = None
) -> AbandonWindows:
    """The 24-hour and 30-day windows at ``now``. ``fine``: finer buckets of the same counts
    (minutes, say) for the 24-hour window, which is then exact to their width."""
    coarse = list(buckets)
    return AbandonWindows(
        day=window(coarse if fine is None else fine, now=now, span=DAY),
        month=window(coarse, now=now, span=MONTH),
    )
