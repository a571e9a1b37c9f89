"""/api/v1/dashboard: the campaigns dashboard's figures, one line per contact list under its
campaign group (the product's layout), read from the read models only.

Each campaign group, running or not, has its status view (:func:`group_status`: agents by
state, calls in flight, dial rate, abandon rate in both windows against the target, records
left, pacing) and one line per contact list: its records (total, ready, dialable now, in
progress, completed, suppressed), today's attempts, live answers, connects and abandoned calls
with the answer rate, and today's pre-dial denials by reason; "today" is the account's reports
time zone's. The account's line sums the lists'.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from fastapi import APIRouter, Response

from dialstream.bootstrap import Runtime
from domain.campaign_group import CampaignGroup
from domain.contact_list import ContactList
from gateway.deps import Reader, RuntimeDep
from gateway.routes.campaign_status import group_status
from projections.call_results import quarter_hours
from projections.catalogue import ACCOUNT, CAMPAIGN_GROUP, CONTACT_LIST
from projections.group_activity import ActivityCounts

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])

TODAY = ("attempts", "live", "connects", "abandons")


@router.get("", summary="The campaigns dashboard: each campaign group and a line per contact list")
def dashboard(runtime: RuntimeDep, caller: Reader) -> Response:
    now = runtime.handlers.clock()
    return Response(
        msgspec.json.encode(dashboard_view(runtime, caller.account_id, now)), media_type="application/json"
    )


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
                    "today": {**figures, "answer_rate": _percent(counts.live, counts.attempts)},
                    "denied_today": dict(denied.get((str(group.id), str(list_id)), Counter())),
                }
            )
        lines.append({**msgspec.to_builtins(group_status(runtime, group, now)), "contact_lists": rows})
    return {
        "at": now.isoformat(),
        "time_zone": zone.key,
        "today_from": midnight.isoformat(),
        "account": {**dict(totals), "answer_rate": _percent(totals["live"], totals["attempts"])},
        "campaign_groups": lines,
    }


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 3) if whole else 0.0
