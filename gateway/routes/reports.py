"""/api/v1/reports: the figures managers and auditors ask for, in the account's reports time
zone, as JSON or CSV (``format=csv``, a download).

- ``call-results``: finished attempts by call result, list, campaign group, agent, local hour
  or local day (``by``, repeatable), over ``from`` / ``to`` (local dates or date-times, to the
  quarter hour), filtered by groups, lists and agents. From the ``call_results`` read model
  (:mod:`projections.call_results`), never by reading the attempts one by one.
- ``abandon-rate``: per campaign group and local day, the day's abandon rate and the rolling
  24-hour and 30-day rates at its end against the account's target, from ``group_activity``.
- ``contact-trace``: every event about one client id across the account's lists, with its
  position in the log (:mod:`dialstream.queries.contact_trace`).
- ``agents``: agent occupancy, time by state and talk time, from ``agent_states``'
  quarter-hour state time and ``call_results``.
- ``denials``: the draws the pre-dial gate denied, by reason, list, group, hour or day, from
  ``group_activity``'s quarter-hour counts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from fastapi import APIRouter, Query, Response

from dialstream.bootstrap import Runtime
from dialstream.queries import contact_trace as trace
from dialstream.queries import reports
from domain.abandon import rate
from domain.account import Account
from gateway.deps import Caller, Reader, RuntimeDep
from gateway.problems import Problem
from projections.agents import quarters
from projections.call_results import quarter_hours
from projections.catalogue import ACCOUNT, CAMPAIGN_GROUP, CONTACT_LIST
from schemas.settings import PacingSettings

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Ids = Annotated[list[UUID], Query()]
Since = Annotated[
    str | None, Query(alias="from", description="Local date or date-time (default: today 00:00)")
]
Until = Annotated[
    str | None, Query(alias="to", description="Local date or date-time, exclusive (default: now)")
]
Format = Annotated[str, Query(pattern="^(json|csv)$")]


def _by(allowed: tuple[str, ...], default: str) -> Any:
    return Query(description=f"Row dimensions, in order: {', '.join(allowed)} (default {default})")


CallResultsBy = Annotated[list[str], _by(reports.DIMENSIONS, "call_result")]
DenialsBy = Annotated[list[str], _by(reports.DENIAL_DIMENSIONS, "reason")]
AgentsBy = Annotated[list[str], _by(reports.AGENT_DIMENSIONS, "agent")]


@dataclass(frozen=True)
class _Asked:
    zone: ZoneInfo
    by: list[str]
    start: datetime
    end: datetime


def _asked(
    runtime: Runtime,
    caller: Caller,
    by: list[str],
    allowed: tuple[str, ...],
    default: str,
    since: str | None,
    until: str | None,
) -> _Asked:
    """The account's reports time zone, the dimensions and the interval, or a 422 naming the parameter."""
    account: Account | None = runtime.catalogue.get(caller.account_id, ACCOUNT, caller.account_id)
    zone = ZoneInfo(account.settings.region.reports_time_zone if account is not None else "UTC")
    try:
        dimensions = reports.dimensions(by or [default], allowed)
        start, end = reports.local_interval(since, until, zone, runtime.handlers.clock())
    except ValueError as error:
        field, _, detail = str(error).partition(": ")
        raise Problem(422, "Invalid report", detail, field=field) from None
    return _Asked(zone, dimensions, start, end)


def _answer(
    name: str,
    asked: _Asked,
    rows: list[dict[str, Any]],
    total: dict[str, Any],
    columns: list[str],
    format: str,
) -> Response:
    first, last = quarter_hours(asked.start, asked.end)
    body: dict[str, Any] = {
        "report": name,
        "time_zone": asked.zone.key,
        "from": _local(first, asked.zone),
        "to": _local(last, asked.zone),
        "by": asked.by,
        "rows": rows,
        "total": total,
    }
    if format == "csv":
        return _csv(columns, rows, f"{name.replace('_', '-')}-{body['from'][:10]}.csv")
    return Response(msgspec.json.encode(body), media_type="application/json")


@router.get(
    "/call-results",
    summary="Call results summary: finished attempts by result, list, group, agent, hour or day",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def call_results(
    runtime: RuntimeDep,
    caller: Reader,
    by: CallResultsBy = [],  # noqa: B006 - FastAPI copies a query default
    since: Since = None,
    until: Until = None,
    group_id: Ids = [],  # noqa: B006
    list_id: Ids = [],  # noqa: B006
    agent_id: Ids = [],  # noqa: B006
    format: Format = "json",
) -> Response:
    """Rows of ``attempts``, ``talk_seconds``, ``mean_talk_seconds`` and ``mean_ring_seconds``
    per distinct value of the ``by`` dimensions, and their total. With an agent filter or
    ``by=agent``, only the attempts an agent talked on count."""
    asked = _asked(runtime, caller, by, reports.DIMENSIONS, "call_result", since, until)
    counts = runtime.call_results.counts(
        caller.account_id,
        asked.start,
        asked.end,
        group_ids=group_id,
        list_ids=list_id,
        agent_ids=agent_id,
        by_agent="agent" in asked.by,
    )
    rows, total = reports.call_results_summary(
        counts, asked.by, asked.zone, _names(runtime, caller.account_id)
    )
    return _answer("call_results", asked, rows, total, reports.columns(asked.by), format)


@router.get(
    "/denials",
    summary="Compliance denials: draws the pre-dial gate denied, by reason, list, group, hour or day",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def denials(
    runtime: RuntimeDep,
    caller: Reader,
    by: DenialsBy = [],  # noqa: B006
    since: Since = None,
    until: Until = None,
    group_id: Ids = [],  # noqa: B006
    list_id: Ids = [],  # noqa: B006
    format: Format = "json",
) -> Response:
    """``denials`` per distinct value of the ``by`` dimensions, and their total: the draws the
    gate denied at dial time, by its reason codes (``suppressed``, ``outside_hours``,
    ``index_unavailable``...; a draw denied for two reasons counts under each)."""
    asked = _asked(runtime, caller, by, reports.DENIAL_DIMENSIONS, "reason", since, until)
    first, last = quarter_hours(asked.start, asked.end)
    found = runtime.activity.gate_denials_between(
        caller.account_id, first, last, group_ids=group_id, list_ids=list_id
    )
    rows, total = reports.denials_summary(found, asked.by, asked.zone, _names(runtime, caller.account_id))
    return _answer("denials", asked, rows, total, reports.columns(asked.by, ["denials"]), format)


def _names(runtime: Any, account_id: UUID) -> dict[str, str]:
    names = {str(g.id): g.name for g in runtime.catalogue.list_kind(account_id, CAMPAIGN_GROUP)}
    names |= {str(lst.id): lst.name for lst in runtime.catalogue.list_kind(account_id, CONTACT_LIST)}
    names |= {str(agent.agent_id): agent.login for agent in runtime.agents.list(account_id)}
    return names


def _local(epoch: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone(zone).isoformat()


def _csv(columns: list[str], rows: list[dict[str, Any]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/abandon-rate",
    summary="Abandon rate per campaign group per day, with the 24-hour and 30-day windows",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def abandon_rate(
    runtime: RuntimeDep,
    caller: Reader,
    since: Since = None,
    until: Until = None,
    group_id: Ids = [],  # noqa: B006 - FastAPI copies a query default
    format: Format = "json",
) -> Response:
    """One row per campaign group and local day of [from, to): the day's attempts, live
    answers, abandoned calls and rate, and the rolling 24-hour and 30-day rates as they stood
    at the day's end (now, for today), the stricter of which binds, against the account's
    target."""
    asked = _asked(runtime, caller, [], ("day",), "day", since, until)
    account: Account | None = runtime.catalogue.get(caller.account_id, ACCOUNT, caller.account_id)
    target = (account.settings.pacing if account is not None else PacingSettings()).target_abandon_rate
    groups = [
        group
        for group in runtime.catalogue.list_kind(caller.account_id, CAMPAIGN_GROUP)
        if not group_id or group.id in group_id
    ]
    now = runtime.handlers.clock()
    rows = []
    for day, first, following in reports.local_days(asked.start, asked.end, asked.zone):
        if first > now:
            break
        for group in groups:
            counts = runtime.activity.counts(group.id, first, following - timedelta(seconds=1))
            windows = runtime.activity.abandon_windows(group.id, min(following, now))
            rows.append(reports.abandon_row(day, str(group.id), group.name, counts, windows, target))
    live = sum(row["live_answered"] for row in rows)
    abandoned = sum(row["abandoned"] for row in rows)
    total = {"live_answered": live, "abandoned": abandoned, "abandon_rate": round(rate(abandoned, live), 3)}
    return _answer("abandon_rate", asked, rows, total, reports.ABANDON_COLUMNS, format)


@router.get(
    "/contact-trace",
    summary="Contact trace: every event about one client id, across lists and channels, with its log position",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def contact_trace(
    runtime: RuntimeDep,
    caller: Reader,
    client_id: Annotated[str, Query(min_length=1, max_length=255, description="The client id, as imported")],
    format: Format = "json",
) -> Response:
    """For an auditor: the chain of ``client_id`` in each of the account's contact lists, and
    every event about it in log order with its position — imported, drawn, denied by the gate
    (``denied_for``: its reason codes), each attempt's progress and result, each treatment —
    read from the event store, so a replay to any position shows the same."""
    rows = trace.contact_trace(runtime.store, runtime.catalogue, caller.account_id, client_id)
    if format == "csv":
        return _csv(trace.COLUMNS, rows, "contact-trace.csv")
    body = {
        "report": "contact_trace",
        "client_id": client_id,
        "log_position": runtime.store.position(),
        "rows": rows,
    }
    return Response(msgspec.json.encode(body), media_type="application/json")


@router.get(
    "/agents",
    summary="Agent occupancy: logged-in time by state, occupancy, calls and talk time, by agent, hour or day",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def agents_report(
    runtime: RuntimeDep,
    caller: Reader,
    by: AgentsBy = [],  # noqa: B006 - FastAPI copies a query default
    since: Since = None,
    until: Until = None,
    agent_id: Ids = [],  # noqa: B006
    format: Format = "json",
) -> Response:
    """Per agent (and local hour or day): the seconds logged in and in each state (ready, not
    ready, reserved, on a call, in wrap-up), the occupancy (on calls and in wrap-up over
    logged in), and the calls the agent talked on with their talk time. The state an agent is
    in now counts up to now."""
    asked = _asked(runtime, caller, by, reports.AGENT_DIMENSIONS, "agent", since, until)
    first, last = quarter_hours(asked.start, asked.end)
    spent = runtime.agents.state_time(caller.account_id, first, last, agent_id)
    now = runtime.handlers.clock().timestamp()
    for row in runtime.agents.list(caller.account_id):
        if row.state != "logged_out" and (not agent_id or row.agent_id in agent_id):
            opened = max(row.since.timestamp(), first)
            spent += [
                (str(row.agent_id), row.state, start, ms) for start, ms in quarters(opened, min(now, last))
            ]
    talks = runtime.call_results.counts(
        caller.account_id, asked.start, asked.end, agent_ids=agent_id, by_agent=True
    )
    rows, total = reports.agents_summary(
        spent, talks, asked.by, asked.zone, _names(runtime, caller.account_id)
    )
    return _answer("agents", asked, rows, total, reports.columns(asked.by, reports.AGENT_MEASURES), format)
