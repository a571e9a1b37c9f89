"""/api/v1/dashboard: the campaigns dashboard's figures, one line per contact list under its
campaign group (the product's layout), read from the read models only.

Each campaign group, running or not, has its status view (:func:`group_status`: agents by
state, calls in flight, dial rate, abandon rate in both windows against the target, records
left, pacing) and one line per contact list: its records (total, ready, dialable now, in
progress, completed, suppressed), today's attempts, live answers, connects and abandoned calls
with the answer rate, and today's pre-dial denials by reason; "today" is the account's reports
time zone's; each group has its agents' occupancy today (time on calls and in wrap-up over
logged-in time). The account's line sums the lists'. ``position`` is the read models' position
the figures include (at least), ``caller.role`` the key's role (the page offers the group
actions to a supervisor or an admin only).

/api/v1/dashboard/stream: the same document as server-sent events (``event: dashboard``,
``id:`` its position, ``data:`` the document on one line): one at once, then one whenever the
read models' position advances (looked at every 100 ms, so a burst of events is one
message), and a ``: keep-alive`` comment after 15 s without one. Every client of an account
shares one computation per position (:mod:`gateway.streaming`). A stream whose key is revoked
ends at the next change; one open when the server stops ends at once.

/api/v1/dashboard/campaign-groups/{id}/series: a group's charts, per quarter hour over the
last hours (:mod:`dialstream.queries.dashboard_series`).
"""

from __future__ import annotations

import time as clock
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, time
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dialstream.bootstrap import Runtime
from dialstream.queries.dashboard_series import agents_time, group_series, occupancy
from domain.abandon import rate
from domain.campaign_group import CampaignGroup
from domain.contact_list import ContactList
from gateway.deps import Caller, Reader, RuntimeDep, authenticate
from gateway.problems import Problem
from gateway.routes.campaign_status import group_status
from gateway.streaming import Feed, feed_of
from projections.call_results import quarter_hours
from projections.catalogue import ACCOUNT, CAMPAIGN_GROUP, CONTACT_LIST, is_gone
from projections.group_activity import ActivityCounts

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])

TODAY = ("attempts", "live", "connects", "abandons")
WINDOWS = ("last_24h", "last_30d")
KEEP_ALIVE_S = 15.0  # proxies drop a connection that stays silent for long
EVENT_STREAM = "text/event-stream"


@router.get("", summary="The campaigns dashboard: each campaign group and a line per contact list")
def dashboard(runtime: RuntimeDep, caller: Reader) -> Response:
    return Response(_document(_positioned(runtime, caller.account_id), caller), media_type="application/json")


@router.get(
    "/stream",
    summary="The campaigns dashboard as server-sent events: a message whenever its figures may have changed",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`event: dashboard`, `id: <position>`, `data: <GET /api/v1/dashboard's document>`",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        }
    },
)
async def stream(request: Request, runtime: RuntimeDep, caller: Reader) -> StreamingResponse:
    return StreamingResponse(
        _messages(feed_of(request.app), request, runtime, caller),
        media_type=EVENT_STREAM,
        # no-transform and X-Accel-Buffering: proxies must pass each message on as it comes.
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )


async def _messages(feed: Feed, request: Request, runtime: Runtime, caller: Caller) -> AsyncIterator[bytes]:
    sent: int | None = None
    quiet_since = clock.monotonic()
    while not feed.closing.is_set() and not await request.is_disconnected():
        position = await feed.position(runtime.bus.caught_up_to)
        if sent is None or position > sent:
            if sent is not None and not await run_in_threadpool(_key_valid, runtime, request):
                return  # revoked since the stream opened: a wallboard's key stops showing figures
            sent, view = await feed.latest(
                caller.account_id, position, lambda at: _view_at(runtime, caller.account_id, at)
            )
            yield b"event: dashboard\nid: %d\ndata: %s\n\n" % (sent, _document(view, caller))
            quiet_since = clock.monotonic()
        elif clock.monotonic() - quiet_since >= KEEP_ALIVE_S:
            yield b": keep-alive\n\n"
            quiet_since = clock.monotonic()
        await feed.pause()


def _key_valid(runtime: Runtime, request: Request) -> bool:
    try:
        authenticate(runtime, request.headers.get("authorization"))
    except Problem:
        return False
    return True


def _positioned(runtime: Runtime, account_id: UUID) -> dict[str, Any]:
    """The dashboard with the read models' position, read first: the figures include it."""
    return _view_at(runtime, account_id, runtime.bus.caught_up_to())


def _view_at(runtime: Runtime, account_id: UUID, position: int) -> dict[str, Any]:
    return {"position": position, **dashboard_view(runtime, account_id, runtime.handlers.clock())}


def _document(view: dict[str, Any], caller: Caller) -> bytes:
    return msgspec.json.encode({**view, "caller": {"role": caller.role}})


@router.get(
    "/campaign-groups/{group_id}/series",
    summary="A campaign group's charts: attempts, connects, abandon rate and agent states per quarter hour",
)
def series(
    group_id: UUID,
    runtime: RuntimeDep,
    caller: Reader,
    hours: Annotated[
        int, Query(ge=1, le=48, description="How many hours back, to the current quarter hour")
    ] = 8,
) -> Response:
    group = runtime.catalogue.get(caller.account_id, CAMPAIGN_GROUP, group_id)
    if group is None or is_gone(group):
        raise Problem(404, "Not found", f"campaign group {group_id} not found", field="id")
    account = runtime.catalogue.get(caller.account_id, ACCOUNT, caller.account_id)
    document = group_series(
        runtime.activity,
        runtime.agents,
        account_id=caller.account_id,
        group_id=group.id,
        agent_group=group.agent_group,
        target=account.settings.pacing.target_abandon_rate if account is not None else None,
        now=runtime.handlers.clock(),
        hours=hours,
        zone=ZoneInfo(account.settings.region.reports_time_zone if account is not None else "UTC"),
    )
    return Response(msgspec.json.encode(document), media_type="application/json")


def dashboard_view(runtime: Runtime, account_id: UUID, now: datetime) -> dict[str, Any]:
    account = runtime.catalogue.get(account_id, ACCOUNT, account_id)
    zone = ZoneInfo(account.settings.region.reports_time_zone if account is not None else "UTC")
    midnight = datetime.combine(now.astimezone(zone).date(), time(), zone)
    lists: dict[UUID, ContactList] = {
        found.id: found for found in runtime.catalogue.list_kind(account_id, CONTACT_LIST)
    }
    groups: list[CampaignGroup] = runtime.catalogue.list_kind(account_id, CAMPAIGN_GROUP)
    first, last = quarter_hours(midnight, now)
    denied: dict[tuple[str, str], Counter[str]] = {}
    for denied_group, denied_list, reason, _, count in runtime.activity.gate_denials_between(
        account_id, first, last
    ):
        denied.setdefault((denied_group, denied_list), Counter())[reason] += count
    totals: Counter[str] = Counter()
    # An agent group may serve several campaign groups: its agents count once for the account.
    agents_of: dict[str, dict[str, int]] = {}
    time_of: dict[str, tuple[int, int]] = {}
    windows = {window: Counter(abandoned=0, live_answered=0) for window in WINDOWS}
    lines = []
    for group in groups:
        today = runtime.activity.counts_by_list(group.id, midnight, now)
        rows = []
        for list_id in group.contact_list_ids:
            found = lists.get(list_id)
            records = runtime.records.queue_counts([list_id], now=now)
            counts = today.get(list_id, ActivityCounts())
            figures = {name: getattr(counts, name) for name in TODAY}
            totals.update(figures)
            totals.update({f"records_{name}": value for name, value in records.items()})
            rows.append(
                {
                    "contact_list_id": str(list_id),
                    "name": found.name if found is not None else "",
                    "channel": found.settings.channel if found is not None else "",
                    "records": {
                        **records,
                        "in_progress": records["retrieved"],
                        "completed": records["updated"],
                        "suppressed": records["no_call"],
                    },
                    "today": {
                        **figures,
                        "answer_rate": _percent(counts.live, counts.attempts),
                        "abandon_rate": round(rate(counts.abandons, counts.live), 3),
                    },
                    "denied_today": dict(denied.get((str(group.id), str(list_id)), Counter())),
                }
            )
        time_of[group.agent_group] = agents_time(runtime.agents, account_id, group.agent_group, midnight, now)
        status = msgspec.to_builtins(group_status(runtime, group, now))
        agents_of[group.agent_group] = status["agents"]
        for window in WINDOWS:
            windows[window].update(
                {name: status["abandon"][window][name] for name in ("abandoned", "live_answered")}
            )
        lines.append({**status, "occupancy_today": occupancy(*time_of[group.agent_group]), "contact_lists": rows})
    return {
        "at": now.isoformat(),
        "time_zone": zone.key,
        "today_from": midnight.isoformat(),
        "account": {
            **dict(totals),
            "answer_rate": _percent(totals["live"], totals["attempts"]),
            "abandon_rate": round(rate(totals["abandons"], totals["live"]), 3),
            "denied_today": dict(sum(denied.values(), Counter())),
            "agents": _summed(agents_of.values()),
            "occupancy_today": occupancy(
                sum(busy for busy, _ in time_of.values()), sum(logged_in for _, logged_in in time_of.values())
            ),
            "abandon": {
                window: {**counts, "rate": round(rate(counts["abandoned"], counts["live_answered"]), 3)}
                for window, counts in windows.items()
            },
        },
        "campaign_groups": lines,
    }


def _summed(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Counts added up key by key, keeping the keys at zero (``Counter`` addition drops them)."""
    total: Counter[str] = Counter()
    for one in counts:
        total.update(one)
    return dict(total)


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 3) if whole else 0.0
