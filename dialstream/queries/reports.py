"""Reports over the read models, in the account's reports time zone.

The call results summary sums the ``call_results`` read model's quarter-hour buckets into the
rows a report asks for: by call result, list, campaign group, agent, local hour or local day
(any of them together), over an interval of local time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from domain.abandon import AbandonWindows, rate
from domain.codes import CallResult
from projections.call_results import ResultCount
from projections.group_activity import ActivityCounts

Dimension = Literal["call_result", "list", "group", "agent", "hour", "day"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
MEASURES = ("attempts", "talk_seconds", "mean_talk_seconds", "mean_ring_seconds")


def local_interval(
    since: str | None, until: str | None, zone: ZoneInfo, now: datetime
) -> tuple[datetime, datetime]:
    """[since, until) as aware datetimes. Each is an ISO date (midnight there) or date-time
    (without an offset: local time in ``zone``); by default today from midnight until now.
    Raises ValueError naming the parameter that is not one, or an empty interval."""
    start = (
        _moment(since, zone, "from") if since else datetime.combine(now.astimezone(zone).date(), time(), zone)
    )
    end = _moment(until, zone, "to") if until else now.astimezone(zone)
    if end <= start:
        raise ValueError(f"to: {end.isoformat()} is not after from ({start.isoformat()})")
    return start, end


def _moment(text: str, zone: ZoneInfo, name: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), zone)
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{name}: {text!r} is neither a date (2026-03-01) nor a date-time (2026-03-01T08:00)"
        ) from None
    return at.replace(tzinfo=zone) if at.tzinfo is None else at


def columns(by: Sequence[str], measures: Sequence[str] = MEASURES) -> list[str]:
    """A report's columns: each dimension's (a code and its name, an id and its name) then the measures."""
    out: list[str] = []
    for dimension in by:
        if dimension in ("list", "group", "agent"):
            out += [f"{dimension}_id", f"{dimension}_name"]
        elif dimension == "call_result":
            out += ["call_result", "call_result_name"]
        else:
            out.append(dimension)
    return out + list(measures)


def dimensions(by: Iterable[str], allowed: Sequence[str] = DIMENSIONS) -> list[str]:
    """``by`` without repeats, or ValueError naming ``by`` for a dimension not ``allowed``."""
    chosen: list[str] = []
    for name in by:
        if name not in allowed:
            raise ValueError(f"by: {name!r} is not one of {', '.join(allowed)}")
        if name not in chosen:
            chosen.append(name)
    return chosen


def call_results_summary(
    counts: Sequence[ResultCount], by: Sequence[str], zone: ZoneInfo, names: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(rows, total): one row per distinct value of the ``by`` dimensions, sorted by them. A
    row names its call result (``call_result_name``), list and group (``names``: id -> name)."""
    items = (
        (
            c.start,
            {"call_result": c.call_result, "list": c.list_id, "group": c.group_id, "agent": c.agent_id},
            (c.attempts, c.ring_ms, c.talk_ms),
        )
        for c in counts
    )
    return _rollup(items, by, zone, names, _call_measures, width=3)


def _call_measures(sums: Sequence[int]) -> dict[str, Any]:
    attempts, ring_ms, talk_ms = sums
    return {
        "attempts": attempts,
        "talk_seconds": round(talk_ms / 1000, 3),
        "mean_talk_seconds": round(talk_ms / 1000 / attempts, 3) if attempts else 0.0,
        "mean_ring_seconds": round(ring_ms / 1000 / attempts, 3) if attempts else 0.0,
    }


DenialDimension = Literal["reason", "list", "group", "hour", "day"]
DENIAL_DIMENSIONS: tuple[str, ...] = get_args(DenialDimension)


def denials_summary(
    denials: Iterable[tuple[str, str, str, int, int]],
    by: Sequence[str],
    zone: ZoneInfo,
    names: dict[str, str],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The gate's denials (group id, list id, reason, quarter hour, count) summed by ``by``."""
    items = (
        (start, {"reason": reason, "list": list_id, "group": group_id}, (count,))
        for group_id, list_id, reason, start, count in denials
    )
    return _rollup(items, by, zone, names, lambda sums: {"denials": sums[0]}, width=1)


Item = tuple[int, dict[str, Any], Sequence[int]]  # (bucket start, dimension -> value, amounts)


def _rollup(
    items: Iterable[Item],
    by: Sequence[str],
    zone: ZoneInfo,
    names: dict[str, str],
    measures: Callable[[Sequence[int]], dict[str, Any]],
    *,
    width: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Sums of each item's ``width`` amounts per distinct value of the ``by`` dimensions
    (``hour`` and ``day`` from the bucket's start in ``zone``), as labelled rows sorted by
    those values, and the total; ``measures`` turns sums into a row's figures."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    total = [0] * width
    local: dict[int, datetime] = {}  # a bucket's start in the zone, worked out once per start
    for start, keys, amounts in items:
        if start not in local:
            local[start] = datetime.fromtimestamp(start, UTC).astimezone(zone)
        key = tuple(_value(keys, dimension, local[start]) for dimension in by)
        _add(sums.setdefault(key, [0] * width), amounts)
        _add(total, amounts)
    rows = []
    for key in sorted(sums, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        row: dict[str, Any] = {}
        for dimension, value in zip(by, key, strict=True):
            row.update(_labelled(dimension, value, names))
        rows.append({**row, **measures(sums[key])})
    return rows, measures(total)


def _add(into: list[int], amounts: Sequence[int]) -> None:
    for n, amount in enumerate(amounts):
        into[n] += amount


def _value(keys: dict[str, Any], dimension: str, local: datetime) -> Any:
    if dimension == "hour":
        # the offset stays: the repeated hour of a daylight-saving change is two rows
        return local.replace(minute=0).isoformat()
    if dimension == "day":
        return local.date().isoformat()
    return keys[dimension]


def _labelled(dimension: str, value: Any, names: dict[str, str]) -> dict[str, Any]:
    if dimension == "call_result":
        try:
            name = CallResult(value).name.lower()
        except ValueError:
            name = ""
        return {"call_result": value, "call_result_name": name}
    if dimension in ("list", "group", "agent"):
        return {f"{dimension}_id": value or None, f"{dimension}_name": names.get(value, "")}
    return {dimension: value}


ABANDON_COLUMNS = [
    "day", "group_id", "group_name", "attempts", "live_answered", "abandoned", "abandon_rate",
    "rate_24h", "rate_30d", "binding", "target_rate", "over_target",
]  # fmt: skip


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    """(day, its first instant, the next day's) of each local day [start, end) touches."""
    days = []
    day = start.astimezone(zone).date()
    while (first := datetime.combine(day, time(), zone)) < end:
        following = day + timedelta(days=1)
        days.append((day, first, datetime.combine(following, time(), zone)))
        day = following
    return days


def abandon_row(
    day: date,
    group_id: str,
    group_name: str,
    counts: ActivityCounts,
    windows: AbandonWindows,
    target: float,
) -> dict[str, Any]:
    """One campaign group's local day: its own figures, and the two rolling windows as they
    stood at its end (or now, for today): the stricter one binds, as the pacing holds it."""
    bound = windows.bound
    return {
        "day": day.isoformat(),
        "group_id": group_id,
        "group_name": group_name,
        "attempts": counts.attempts,
        "live_answered": counts.live,
        "abandoned": counts.abandons,
        "abandon_rate": round(rate(counts.abandons, counts.live), 3),
        "rate_24h": round(windows.day.rate, 3),
        "rate_30d": round(windows.month.rate, 3),
        "binding": windows.binding,
        "target_rate": target,
        "over_target": bound.rate > target,
    }


AgentDimension = Literal["agent", "hour", "day"]
AGENT_DIMENSIONS: tuple[str, ...] = get_args(AgentDimension)
_AGENT_STATES = ("ready", "not_ready", "reserved", "on_call", "wrap_up")
AGENT_MEASURES = [
    "logged_in_seconds", *(f"{state}_seconds" for state in _AGENT_STATES), "occupancy", "calls", "talk_seconds",
]  # fmt: skip


def agents_summary(
    state_time: Iterable[tuple[str, str, int, int]],
    talks: Iterable[ResultCount],
    by: Sequence[str],
    zone: ZoneInfo,
    names: dict[str, str],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Agents' time by state (agent id, state, quarter hour, ms; every state but logged out is
    logged-in time) and the calls they talked on, summed by ``by``. Occupancy is the time on
    calls and in wrap-up over the logged-in time."""

    def state_item(agent_id: str, state: str, start: int, ms: int) -> Item:
        amounts = [ms] + [ms if state == name else 0 for name in _AGENT_STATES] + [0, 0]
        return start, {"agent": agent_id}, amounts

    items: list[Item] = [state_item(*row) for row in state_time]
    items += [(c.start, {"agent": c.agent_id}, [0] * 6 + [c.attempts, c.talk_ms]) for c in talks]
    return _rollup(items, by, zone, names, _agent_measures, width=8)


def _agent_measures(sums: Sequence[int]) -> dict[str, Any]:
    logged_in, *states, calls, talk_ms = sums
    busy = states[_AGENT_STATES.index("on_call")] + states[_AGENT_STATES.index("wrap_up")]
    return {
        "logged_in_seconds": round(logged_in / 1000, 3),
        **{f"{name}_seconds": round(ms / 1000, 3) for name, ms in zip(_AGENT_STATES, states, strict=True)},
        "occupancy": round(busy / logged_in, 4) if logged_in else 0.0,
        "calls": calls,
        "talk_seconds": round(talk_ms / 1000, 3),
    }
