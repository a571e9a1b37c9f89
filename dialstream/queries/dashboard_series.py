"""A campaign group's charts on the dashboard: its figures per quarter hour over the last hours.

Each quarter hour from ``hours`` back to the current one (partial, last) has a point: the
group's attempts, live answers, connects and abandoned calls (summed from the
``group_activity`` read model's minute buckets) and its abandon rate, abandoned ÷ live
answers in percent (:func:`domain.abandon.rate`, as the group's status has it); and the time
the agents now in the group's agent group spent in each state (the ``agent_states`` read
model's quarter hours, plus the state each is in now, from when it began until now).
Quarter hours start at UTC multiples of 15 minutes (every time zone's offset is a multiple of
them) and are written in the account's reports time zone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.abandon import rate
from domain.agent import STATES
from projections.agents import AgentQueries, quarters
from projections.group_activity import ActivityCounts, GroupActivityQueries

INTERVAL = 900  # seconds: a quarter hour
POINT_FIGURES = ("attempts", "live", "connects", "abandons")
# Every state an agent can spend logged-in time in, zero or not, so a chart's series are stable.
LOGGED_IN_STATES = tuple(state for state in STATES if state != "logged_out")


def interval_starts(now: datetime, hours: int) -> list[int]:
    """The quarter hours of the last ``hours`` hours (UTC epoch seconds), the current one last."""
    current = int(now.timestamp()) // INTERVAL * INTERVAL
    count = hours * 3600 // INTERVAL
    return [current - (count - 1 - n) * INTERVAL for n in range(count)]


def group_series(
    activity: GroupActivityQueries,
    agents: AgentQueries,
    *,
    account_id: UUID,
    group_id: UUID,
    agent_group: str,
    target: float | None,
    now: datetime,
    hours: int,
    zone: ZoneInfo,
) -> dict[str, Any]:
    """The ``/series`` document of a campaign group (see the module's docstring)."""
    starts = interval_starts(now, hours)
    first, last = starts[0], starts[-1] + INTERVAL
    counts = activity.quarter_counts(group_id, first, last)
    points = []
    for start in starts:
        found = counts.get(start, ActivityCounts())
        points.append(
            {
                "start": _local(start, zone),
                **{name: getattr(found, name) for name in POINT_FIGURES},
                "abandon_rate": round(rate(found.abandons, found.live), 3),
            }
        )
    spent = _state_ms(agents, account_id, agent_group, first, last, now)
    return {
        "interval_minutes": INTERVAL // 60,
        "abandon_target_percent": target,
        "points": points,
        "agent_states": [
            {
                "start": _local(start, zone),
                "seconds": {state: round(spent[start][state] / 1000, 3) for state in LOGGED_IN_STATES},
            }
            for start in starts
        ],
    }


def agents_time(
    agents: AgentQueries, account_id: UUID, agent_group: str, since: datetime, now: datetime
) -> tuple[int, int]:
    """(milliseconds on calls and in wrap-up, logged-in milliseconds) of the agents now in
    ``agent_group`` since ``since`` (a quarter hour's start), the states they are in now
    included: occupancy's two terms, as the agents report counts them."""
    first = int(since.timestamp())
    last = int(now.timestamp()) // INTERVAL * INTERVAL + INTERVAL
    spent: Counter[str] = Counter()
    for per_state in _state_ms(agents, account_id, agent_group, first, last, now).values():
        spent.update(per_state)
    return spent["on_call"] + spent["wrap_up"], sum(spent.values())


def occupancy(busy_ms: int, logged_in_ms: int) -> float:
    """The share of the logged-in time spent on calls and in wrap-up (0 with none logged in)."""
    return round(busy_ms / logged_in_ms, 4) if logged_in_ms else 0.0


def _state_ms(
    agents: AgentQueries, account_id: UUID, agent_group: str, first: int, last: int, now: datetime
) -> defaultdict[int, defaultdict[str, int]]:
    """quarter hour -> state -> milliseconds the group's agents spent in it."""
    spent: defaultdict[int, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for state, start, ms in agents.group_state_time(account_id, agent_group, first, last):
        spent[start][state] += ms
    for agent in agents.by_group(account_id, agent_group):  # logged out: spends no logged-in time
        for start, ms in quarters(max(agent.since.timestamp(), first), min(now.timestamp(), last)):
            spent[start][agent.state] += ms
    return spent


def _local(start: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(start, UTC).astimezone(zone).isoformat()
