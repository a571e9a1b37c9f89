"""Reports over the read models, in the account's reports time zone.

The call results summary sums the ``call_results`` read model's quarter-hour buckets into the
rows a report asks for: by call result, list, campaign group, agent, local hour or local day
(any of them together), over an interval of local time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from domain.codes import CallResult
from projections.call_results import ResultCount

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


def columns(by: Sequence[Dimension]) -> list[str]:
    """A report's columns: each dimension's (a code and its name, an id and its name) then the measures."""
    named = {"call_result": ["call_result", "call_result_name"]}
    out: list[str] = []
    for dimension in by:
        if dimension in ("list", "group", "agent"):
            out += [f"{dimension}_id", f"{dimension}_name"]
        else:
            out += named.get(dimension, [dimension])
    return out + list(MEASURES)


def dimensions(by: Iterable[str]) -> list[Dimension]:
    chosen: list[Dimension] = []
    for name in by:
        if name not in DIMENSIONS:
            raise ValueError(f"by: {name!r} is not one of {', '.join(DIMENSIONS)}")
        if name not in chosen:
            chosen.append(name)  # type: ignore[arg-type]
    return chosen


@dataclass
class _Sum:
    attempts: int = 0
    ring_ms: int = 0
    talk_ms: int = 0

    def add(self, count: ResultCount) -> None:
        self.attempts += count.attempts
        self.ring_ms += count.ring_ms
        self.talk_ms += count.talk_ms

    def measures(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "talk_seconds": round(self.talk_ms / 1000, 3),
            "mean_talk_seconds": round(self.talk_ms / 1000 / self.attempts, 3) if self.attempts else 0.0,
            "mean_ring_seconds": round(self.ring_ms / 1000 / self.attempts, 3) if self.attempts else 0.0,
        }


def call_results_summary(
    counts: Sequence[ResultCount], by: Sequence[Dimension], zone: ZoneInfo, names: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(rows, total): one row per distinct value of the ``by`` dimensions, sorted by them. A
    row names its call result (``call_result_name``), list and group (``names``: id -> name)."""
    sums: dict[tuple[Any, ...], _Sum] = {}
    total = _Sum()
    local: dict[int, datetime] = {}  # a bucket's start in the zone, worked out once per start
    for count in counts:
        if count.start not in local:
            local[count.start] = datetime.fromtimestamp(count.start, UTC).astimezone(zone)
        key = tuple(_value(count, dimension, local[count.start]) for dimension in by)
        sums.setdefault(key, _Sum()).add(count)
        total.add(count)
    rows = []
    for key in sorted(sums, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        row: dict[str, Any] = {}
        for dimension, value in zip(by, key, strict=True):
            row.update(_labelled(dimension, value, names))
        rows.append({**row, **sums[key].measures()})
    return rows, total.measures()


def _value(count: ResultCount, dimension: Dimension, local: datetime) -> Any:
    if dimension == "call_result":
        return count.call_result
    if dimension == "list":
        return count.list_id
    if dimension == "group":
        return count.group_id
    if dimension == "agent":
        return count.agent_id
    if dimension == "hour":
        # the offset stays: the repeated hour of a daylight-saving change is two rows
        return local.replace(minute=0).isoformat()
    return local.date().isoformat()


def _labelled(dimension: Dimension, value: Any, names: dict[str, str]) -> dict[str, Any]:
    if dimension == "call_result":
        try:
            name = CallResult(value).name.lower()
        except ValueError:
            name = ""
        return {"call_result": value, "call_result_name": name}
    if dimension in ("list", "group", "agent"):
        return {f"{dimension}_id": value or None, f"{dimension}_name": names.get(value, "")}
    return {dimension: value}
