"""/api/v1/campaign-groups/{id}/status: what a campaign group is doing now.

Its status and effective dialing mode, its agents by state, its calls in flight, the dial rate
(attempts in the last 60 s), its abandon rate over 24 hours and over 30 days (and which window
binds), the records left in its lists, the dialer's pacing (mode and ratio, from the last
``campaign_group.paced``) and the account's target. Read from the read models only
(group_activity, agents, records, catalogue), never by replaying aggregates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Response
from msgspec import Struct

from dialstream.bootstrap import Runtime
from domain.abandon import Window
from domain.campaign_group import CampaignGroup
from gateway.deps import Reader, RuntimeDep
from gateway.io import doc, respond
from gateway.problems import Problem
from gateway.routes.campaign_groups import effective
from projections.catalogue import ACCOUNT, CAMPAIGN_GROUP, is_gone
from projections.group_activity import ActivityCounts, InFlight
from schemas.settings import PacingSettings

router = APIRouter(prefix="/api/v1/campaign-groups", tags=["campaign groups"])

DIAL_RATE_SPAN = timedelta(seconds=60)


class Calls(Struct, frozen=True, kw_only=True):
    ringing: int  # placed, not answered yet
    waiting: int  # answered by a person, no agent yet
    connected: int  # talking to an agent
    machine: int  # answered by a machine or a fax, being released
    abandoned: int  # hearing the abandon message
    lines: int  # all of them


class AbandonWindow(Struct, frozen=True, kw_only=True):
    abandoned: int
    live_answered: int
    rate: float  # percent of the live answers


class Abandon(Struct, frozen=True, kw_only=True):
    target_rate: float  # the account's, percent
    definition_seconds: int  # no agent within this many seconds of the answer: abandoned
    last_24h: AbandonWindow
    last_30d: AbandonWindow
    binding: Literal["24h", "30d"]  # the stricter window


class Pacing(Struct, frozen=True, kw_only=True):
    mode: str  # the mode the dialer dials in now (predictive may degrade to progressive)
    ratio: float  # calls per agent it aims at
    reason: str
    at: datetime


class Activity(Struct, frozen=True, kw_only=True):
    """The group's attempts and their outcomes over the last 24 hours."""

    attempts: int
    live: int
    machine: int
    fax: int
    busy: int
    no_answer: int
    sit: int
    network: int
    connects: int
    abandons: int
    finished: int


class GroupStatusView(Struct, frozen=True, kw_only=True):
    campaign_group_id: UUID
    name: str
    status: str  # loaded, running, paused, stopped
    dialing_mode: str | None  # the effective one: group overrides, then template, then profile
    agent_group: str
    at: datetime  # when this was read
    agents: dict[str, int]  # by state
    calls: Calls
    dial_rate_per_minute: int  # attempts in the last 60 s
    abandon: Abandon
    records: dict[str, int]  # of the group's lists: total, ready, dialable_now, …
    pacing: Pacing | None  # None until the dialer paces the group
    last_24h: Activity


def _window(window: Window) -> AbandonWindow:
    return AbandonWindow(
        abandoned=window.abandoned, live_answered=window.live_answered, rate=round(window.rate, 3)
    )


def _calls(flight: InFlight) -> Calls:
    return Calls(
        ringing=flight.ringing,
        waiting=flight.waiting,
        connected=flight.connected,
        machine=flight.machine,
        abandoned=flight.abandoned,
        lines=flight.lines,
    )


def _activity(counts: ActivityCounts) -> Activity:
    return Activity(**{name: getattr(counts, name) for name in Activity.__struct_fields__})


def group_status(runtime: Runtime, group: CampaignGroup, now: datetime) -> GroupStatusView:
    account = runtime.catalogue.get(group.account_id, ACCOUNT, group.account_id)
    # The account is in the catalogue before its groups; the defaults only if it lags behind.
    pacing_settings = account.settings.pacing if account is not None else PacingSettings()
    dialing = effective(runtime, group)["dialing"]
    activity = runtime.activity
    windows = activity.abandon_windows(group.id, now)
    paced = activity.pacing(group.id)
    return GroupStatusView(
        campaign_group_id=group.id,
        name=group.name,
        status=group.status,
        dialing_mode=dialing.dialing_mode if dialing is not None else None,
        agent_group=group.agent_group,
        at=now,
        agents=runtime.agents.counts(group.account_id, group.agent_group),
        calls=_calls(activity.in_flight(group.id)),
        dial_rate_per_minute=activity.attempts_since(group.id, now - DIAL_RATE_SPAN),
        abandon=Abandon(
            target_rate=pacing_settings.target_abandon_rate,
            definition_seconds=pacing_settings.abandon_call_definition_seconds,
            last_24h=_window(windows.day),
            last_30d=_window(windows.month),
            binding=windows.binding,
        ),
        records=runtime.records.queue_counts(
            list(group.contact_list_ids),
            now=now,
            max_attempts=dialing.filtering.max_attempts if dialing is not None else None,
        ),
        pacing=None
        if paced is None
        else Pacing(mode=paced.mode, ratio=paced.ratio, reason=paced.reason, at=paced.at),
        last_24h=_activity(activity.counts(group.id, now - timedelta(hours=24), now)),
    )


@router.get(
    "/{group_id}/status",
    summary="What the campaign group is doing now: agents, calls, dial and abandon rates, records left, pacing",
    **doc(response=GroupStatusView),
)
def get_status(group_id: UUID, runtime: RuntimeDep, caller: Reader) -> Response:
    group = runtime.catalogue.get(caller.account_id, CAMPAIGN_GROUP, group_id)
    if group is None or is_gone(group):
        raise Problem(404, "Not found", f"campaign group {group_id} not found", field="id")
    return respond(group_status(runtime, group, runtime.handlers.clock()))
