"""/api/v1/reports: the figures managers and auditors ask for, in the account's reports time
zone, as JSON or CSV (``format=csv``, a download).

- ``call-results``: finished attempts by call result, list, campaign group, agent, local hour
  or local day (``by``, repeatable), over ``from`` / ``to`` (local dates or date-times, to the
  quarter hour), filtered by groups, lists and agents. From the ``call_results`` read model
  (:mod:`projections.call_results`), never by reading the attempts one by one.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from fastapi import APIRouter, Query, Response

from dialstream.queries import reports
from domain.account import Account
from gateway.deps import Reader, RuntimeDep
from gateway.problems import Problem
from projections.call_results import quarter_hours
from projections.catalogue import ACCOUNT, CAMPAIGN_GROUP, CONTACT_LIST

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Ids = Annotated[list[UUID], Query()]


@router.get(
    "/call-results",
    summary="Call results summary: finished attempts by result, list, group, agent, hour or day",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def call_results(
    runtime: RuntimeDep,
    caller: Reader,
    by: Annotated[
        list[str],
        Query(description=f"Row dimensions, in order: {', '.join(reports.DIMENSIONS)} (default call_result)"),
    ] = [],  # noqa: B006 - FastAPI copies a query default
    since: Annotated[
        str | None, Query(alias="from", description="Local date or date-time (default: today 00:00)")
    ] = None,
    until: Annotated[
        str | None, Query(alias="to", description="Local date or date-time, exclusive (default: now)")
    ] = None,
    group_id: Ids = [],  # noqa: B006
    list_id: Ids = [],  # noqa: B006
    agent_id: Ids = [],  # noqa: B006
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    """Rows of ``attempts``, ``talk_seconds``, ``mean_talk_seconds`` and ``mean_ring_seconds``
    per distinct value of the ``by`` dimensions, and their total. With an agent filter or
    ``by=agent``, only the attempts an agent talked on count."""
    account: Account | None = runtime.catalogue.get(caller.account_id, ACCOUNT, caller.account_id)
    zone = ZoneInfo(account.settings.region.reports_time_zone if account is not None else "UTC")
    try:
        dimensions = reports.dimensions(by or ["call_result"])
        start, end = reports.local_interval(since, until, zone, runtime.handlers.clock())
    except ValueError as error:
        field, _, detail = str(error).partition(": ")
        raise Problem(422, "Invalid report", detail, field=field) from None
    counts = runtime.call_results.counts(
        caller.account_id,
        start,
        end,
        group_ids=group_id,
        list_ids=list_id,
        agent_ids=agent_id,
        by_agent="agent" in dimensions,
    )
    rows, total = reports.call_results_summary(counts, dimensions, zone, _names(runtime, caller.account_id))
    first, last = quarter_hours(start, end)
    body: dict[str, Any] = {
        "report": "call_results",
        "time_zone": zone.key,
        "from": _local(first, zone),
        "to": _local(last, zone),
        "by": dimensions,
        "rows": rows,
        "total": total,
    }
    if format == "csv":
        return _csv(reports.columns(dimensions), rows, f"call-results-{body['from'][:10]}.csv")
    return Response(msgspec.json.encode(body), media_type="application/json")


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
