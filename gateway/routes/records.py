"""/api/v1/records: one record, found from its id alone; can it be dialled now, and if not, why?

``GET /api/v1/records/{record_id}/dialability`` ("why is my hopper empty") answers, for any
record of the caller's account, whether it can be dialled now and otherwise every reason and
when it next can::

    {"record_id", "list_id", "list_name", "client_id", "chain_n", "contact_info",
     "contact_info_type", "record_type", "record_status", "time_zone", "second_time_zone",
     "channel", "dialable_now", "checked_at", "next_allowed", "reasons": [...], "groups": [...]}

The record is found through its chain (:func:`domain.record_chain.chain_candidates`): a
record id leads back to the one chain of the event store it can belong to, loaded from the
store itself (not a read model), so a record imported a moment ago is found.

The pre-dial gate (``runtime.predial``, :class:`processors.compliance.predial.PreDialValidator`) judges
the record as the dialer would ask it, once per campaign group the record can be dialled in
(which optional suppression lists and attempt rules apply depends on the group): the group
named by ``?campaign_group_id=``, else every group of the record's contact list, in one
batch (one suppression-index lookup). Reasons the gate does not know are added:

- ``list_archived``: the record's contact list is archived (never dialled again);
- ``list_unavailable``: the list is not in the catalogue (read models behind): fail closed;
- ``no_campaign_group``: the list belongs to no campaign group, so nothing dials it;
- ``list_not_in_group``: the ``campaign_group_id`` asked about does not dial this list;
- ``group_not_running`` (per group): the group is loaded, paused or stopped;
- ``no_group_running`` (for the record): none of the list's groups is running;
- ``marked_no_call``: the compliance processor made the record "no call" (record type 7)
  because suppression entries matched it (``record_chain.suppressed``); the reason names
  them and the type it had. The gate then judges the record with that type, so its own
  ``suppressed`` reasons say which entries hold it back now; when they are all seen, the
  mark lifts with them (expiry restores the type), otherwise it has no known end.

None of these lifts by itself, so a record they block has no ``next_allowed``. The record is
``dialable_now`` when at least one of its groups may dial it now; ``next_allowed`` is then
null, else the earliest instant one of its groups may (each group's is the instant every
reason of that group lifts, as the gate computes it), or null when no reason of any group
lifts by itself (suppression without expiry, record type no call, a group not running, an
unanswered question). Top-level ``reasons`` are every group's reasons once each; a reason
that blocks only some of the groups names them in ``campaign_group_ids``.

It fails closed like the gate: when the suppression index cannot answer, the answer says so
(``index_unavailable``) and the record is not dialable now; with no gate in this process the
answer is 503. A record that does not exist, or is another account's, is 404; a record whose
chain was deleted (retention, or a "flush and append" import) is 404 saying so
(``"code": "chain_deleted"``, with when and why).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from dialstream.bootstrap import Runtime
from domain import contact_list, record_chain
from domain.campaign_group import CampaignGroup
from domain.contact_list import ContactList
from domain.predial import Reason, Verdict
from domain.record_chain import Head, RecordChain, chain_candidates
from gateway.deps import Reader, RuntimeDep
from gateway.io import respond, schema_ref
from gateway.problems import PROBLEM_MEDIA_TYPE, Problem
from gateway.views import predial
from processors.compliance.predial import PreDialRequest
from projections.catalogue import CAMPAIGN_GROUP, CONTACT_LIST
from schemas.profiles import Channel
from schemas.records import Record, RecordChainDeleted

router = APIRouter(prefix="/api/v1/records", tags=["records"])

RUNNING = "running"
# What a group that is not running needs before it dials.
_NOT_RUNNING = {
    "loaded": "is loaded but was never started",
    "paused": "is paused",
    "stopped": "is stopped",
}


class GroupDialability(msgspec.Struct, frozen=True, kw_only=True):
    """The record as one campaign group would dial it."""

    campaign_group_id: UUID
    name: str
    status: str  # loaded, running, paused or stopped
    allowed: bool
    reasons: list[dict[str, Any]]  # {"code", "text", ...detail}
    next_allowed: str | None  # UTC, ISO 8601


class Dialability(msgspec.Struct, frozen=True, kw_only=True):
    """Whether a record can be dialled now; if not, every reason and when it next can."""

    record_id: UUID
    list_id: UUID
    list_name: str | None
    client_id: str
    chain_n: int
    contact_info: str
    contact_info_type: int
    record_type: int
    record_status: int
    time_zone: str  # the contact's zone: local times in reason texts are read there
    second_time_zone: str | None
    channel: Channel
    dialable_now: bool
    checked_at: str  # UTC, ISO 8601: the instant the gate judged
    next_allowed: str | None  # UTC, ISO 8601; null when dialable now or no reason lifts by itself
    reasons: list[dict[str, Any]]  # {"code", "text", ...detail}; empty when dialable now
    groups: list[GroupDialability]


class ChainDeleted(Exception):
    """The record's chain existed in the caller's account and was deleted."""

    def __init__(self, chain: RecordChain, chain_n: int, deletion: RecordChainDeleted | None):
        super().__init__(f"chain {chain.id} was deleted")
        self.chain = chain
        self.chain_n = chain_n
        self.deletion = deletion


@dataclass(frozen=True)
class Located:
    chain: RecordChain
    record: Record


def locate(runtime: Runtime, account_id: UUID, record_id: UUID) -> Located:
    """The caller's record with this id, from the event store.

    :class:`Problem` 404 when there is none (or it is another account's: the same answer,
    so ids of other accounts are not confirmed); :class:`ChainDeleted` when its chain was
    deleted.
    """
    candidates = chain_candidates(record_id)
    heads = runtime.store.heads(list(candidates))
    for chain_id in sorted(heads, key=lambda found: candidates[found]):
        version, topic = heads[chain_id]
        chain = runtime.store.load(chain_id, record_chain.project)
        if not isinstance(chain, RecordChain) or chain.account_id != account_id:
            continue
        chain_n = candidates[chain_id]
        if chain.deleted or not Head.of(version, topic).live:
            raise ChainDeleted(chain, chain_n, _deletion(runtime, chain_id))
        record = next((r for r in chain.records if r.chain_n == chain_n), None)
        if record is None or record.record_id != record_id:
            raise Problem(
                404,
                "Not found",
                f"record {record_id} not found: its chain (client id {chain.client_id!r} of contact "
                f"list {chain.list_id}) holds {len(chain.records)} record(s) now, not this one",
                field="record_id",
            )
        return Located(chain, record)
    raise Problem(404, "Not found", f"record {record_id} not found", field="record_id")


def _deletion(runtime: Runtime, chain_id: UUID) -> RecordChainDeleted | None:
    try:
        last = next(iter(runtime.store.events.get(chain_id, desc=True, limit=1)), None)
    except Exception:  # the 404 stands without its details
        return None
    return last if isinstance(last, RecordChainDeleted) else None


def _deleted_response(request: Request, record_id: UUID, error: ChainDeleted) -> JSONResponse:
    chain, deletion = error.chain, error.deletion
    how = {
        "flush": 'by a "flush and append" import',
        "retention": "by the list's record retention",
    }
    detail = (
        f"record {record_id} (client id {chain.client_id!r}, position {error.chain_n} of its chain) "
        f"was deleted from contact list {chain.list_id}"
    )
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": "Record deleted",
        "status": 404,
        "instance": request.url.path,
        "field": "record_id",
        "code": "chain_deleted",
        "record_id": str(record_id),
        "list_id": str(chain.list_id),
        "client_id": chain.client_id,
        "chain_n": error.chain_n,
    }
    if deletion is not None:
        detail += f" {how.get(deletion.reason, deletion.reason)} on {_utc_text(deletion.timestamp)}"
        if deletion.detail:
            detail += f" ({deletion.detail})"
        body["deletion_reason"] = deletion.reason
        body["deleted_at"] = _iso(deletion.timestamp)
        if deletion.job_id is not None:
            body["job_id"] = str(deletion.job_id)
    body["detail"] = detail + ": it is never dialled again"
    return JSONResponse(body, status_code=404, media_type=PROBLEM_MEDIA_TYPE)


# The record's list and groups ----------------------------------------------------------------


@dataclass
class Setting:
    """Where the record stands: its list and the groups that may dial it."""

    contact_list: ContactList | None
    channel: Channel
    groups: list[tuple[CampaignGroup, bool]]  # (group, whether it dials the record's list)
    reasons: list[dict[str, Any]]  # list-level reasons: no group could dial it


def _setting(runtime: Runtime, account_id: UUID, list_id: UUID, group_id: UUID | None) -> Setting:
    reasons: list[dict[str, Any]] = []
    found: ContactList | None = runtime.catalogue.get(account_id, CONTACT_LIST, list_id)
    if found is None:
        stored = runtime.store.load(list_id, contact_list.project)
        if isinstance(stored, ContactList) and stored.account_id == account_id:
            found = stored
    if found is None:
        reasons.append(
            {
                "code": "list_unavailable",
                "text": f"contact list {list_id} could not be read (read models behind?): no call",
                "list_id": str(list_id),
            }
        )
    elif found.archived:
        reasons.append(
            {
                "code": "list_archived",
                "text": f"contact list {found.name!r} is archived: its records are never dialled",
                "list_id": str(list_id),
            }
        )
    channel: Channel = found.settings.channel if found is not None else "voice"

    groups: list[tuple[CampaignGroup, bool]] = []
    if group_id is not None:
        group: CampaignGroup | None = runtime.catalogue.get(account_id, CAMPAIGN_GROUP, group_id)
        if group is None:
            raise Problem(404, "Not found", f"campaign group {group_id} not found", field="campaign_group_id")
        groups.append((group, list_id in group.contact_list_ids))
    elif found is not None and not found.archived:
        for member in sorted(found.campaign_group_ids):
            group = runtime.catalogue.get(account_id, CAMPAIGN_GROUP, member)
            if group is not None:  # a group deleted meanwhile
                groups.append((group, True))
        groups.sort(key=lambda pair: (pair[0].name.casefold(), str(pair[0].id)))
        if not groups:
            reasons.append(
                {
                    "code": "no_campaign_group",
                    "text": f"contact list {found.name!r} belongs to no campaign group: nothing dials "
                    "its records",
                    "list_id": str(list_id),
                }
            )
    return Setting(found, channel, groups, reasons)


# Judging -------------------------------------------------------------------------------------


def _request(
    chain: RecordChain, record: Record, record_type: int, channel: Channel, group_id: UUID | None
) -> PreDialRequest:
    return PreDialRequest(
        account_id=chain.account_id,
        campaign_group_id=group_id,
        channel=channel,
        client_id=chain.client_id,
        contact_info=record.contact_info,
        contact_info_type=record.contact_info_type,
        record_type=record_type,
        record_status=record.record_status,
        dial_sched_time=record.dial_sched_time,
        daily_from=record.daily_from,
        daily_till=record.daily_till,
        time_zone=record.time_zone,
        second_time_zone=record.second_time_zone,
        country=chain.contact.country,
        state=chain.contact.state,
    )


def _reason(runtime: Runtime, account_id: UUID, reason: Reason) -> dict[str, Any]:
    body: dict[str, Any] = msgspec.to_builtins(reason)
    if reason.code == "suppressed" and reason.list_id is not None:
        row = runtime.suppression_lists.get(account_id, reason.list_id)
        if row is not None:
            body["list_name"] = row.state.name
            body["required"] = row.state.required
    return body


@dataclass(frozen=True)
class Mark:
    """The record was made "no call" by the compliance processor because suppression entries
    matched it (``record_chain.suppressed``): its type before, and the entries."""

    previous_type: int
    entry_ids: frozenset[str]
    reason: dict[str, Any]


def _mark(runtime: Runtime, account_id: UUID, chain: RecordChain, record: Record) -> Mark | None:
    if record.chain_n not in chain.previous_types:
        return None
    previous = chain.previous_types[record.chain_n]
    names: dict[UUID, str | None] = {}
    entries: list[dict[str, Any]] = []
    for match in chain.suppressions:
        if match.chain_n != record.chain_n:
            continue
        if match.suppression_list_id not in names:
            row = runtime.suppression_lists.get(account_id, match.suppression_list_id)
            names[match.suppression_list_id] = None if row is None else row.state.name
        entries.append(
            {
                "list_id": str(match.suppression_list_id),
                "list_name": names[match.suppression_list_id],
                "entry_id": str(match.entry_id),
                "kind": match.kind,
                "value": match.value,
            }
        )
    what = "; ".join(
        f"{e['kind'].replace('_', ' ')} {e['value']} on "
        + (f"suppression list {e['list_name']!r}" if e["list_name"] else f"suppression list {e['list_id']}")
        for e in entries
    )
    reason = {
        "code": "marked_no_call",
        "text": f"the record was made no call (record type 7) because it matched suppression entries "
        f"({what or 'no longer named'}); it gets its record type {previous} back once none matches",
        "record_type": record.record_type,
        "previous_type": previous,
        "suppressions": entries,
    }
    return Mark(previous, frozenset(e["entry_id"] for e in entries), reason)


def _mark_lifts_with(verdict: Verdict, mark: Mark) -> bool:
    """Whether the gate sees every entry behind the mark: then the mark lifts when they do
    (expiry restores the record type), and the gate's next_allowed stands."""
    seen = {str(r.entry_id) for r in verdict.reasons if r.code == "suppressed" and r.entry_id is not None}
    return bool(mark.entry_ids) and mark.entry_ids <= seen


def _group_not_running(group: CampaignGroup) -> dict[str, Any]:
    state = _NOT_RUNNING.get(group.status, f"is {group.status}")
    return {
        "code": "group_not_running",
        "text": f"campaign group {group.name!r} {state}: it dials nothing until it runs",
        "campaign_group_id": str(group.id),
        "status": group.status,
    }


def _group_answer(
    runtime: Runtime,
    account_id: UUID,
    list_id: UUID,
    group: CampaignGroup,
    dials_list: bool,
    verdict: Verdict,
    mark: Mark | None,
) -> tuple[dict[str, Any], datetime | None]:
    own: list[dict[str, Any]] = []
    if not dials_list:
        own.append(
            {
                "code": "list_not_in_group",
                "text": f"campaign group {group.name!r} does not dial contact list {list_id}",
                "campaign_group_id": str(group.id),
                "list_id": str(list_id),
            }
        )
    if group.status != RUNNING:
        own.append(_group_not_running(group))
    marked = [] if mark is None else [mark.reason]
    reasons = own + marked + [_reason(runtime, account_id, reason) for reason in verdict.reasons]
    allowed = not reasons
    lasting = bool(own) or (mark is not None and not _mark_lifts_with(verdict, mark))
    next_allowed = None if allowed or lasting else verdict.next_allowed
    answer = {
        "campaign_group_id": str(group.id),
        "name": group.name,
        "status": group.status,
        "allowed": allowed,
        "reasons": reasons,
        "next_allowed": _iso(next_allowed),
    }
    return answer, next_allowed


def _merged(groups: Sequence[dict[str, Any]], without: frozenset[str]) -> list[dict[str, Any]]:
    """Every group's reasons once each, in first-seen order; a reason that blocks only some
    of the groups names them in ``campaign_group_ids``."""
    seen: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for group in groups:
        for reason in group["reasons"]:
            if reason["code"] in without:
                continue
            key = json.dumps(reason, sort_keys=True, default=str)
            seen.setdefault(key, (reason, []))[1].append(group["campaign_group_id"])
    merged: list[dict[str, Any]] = []
    for reason, group_ids in seen.values():
        if len(group_ids) < len(groups) and "campaign_group_id" not in reason:
            reason = {**reason, "campaign_group_ids": group_ids}
        merged.append(reason)
    return merged


def dialability(runtime: Runtime, account_id: UUID, located: Located, group_id: UUID | None) -> Dialability:
    """The answer of the route, for a record found by :func:`locate`."""
    chain, record = located.chain, located.record
    validator = predial(runtime)
    setting = _setting(runtime, account_id, chain.list_id, group_id)
    checked_at = validator.clock().astimezone(UTC)
    mark = _mark(runtime, account_id, chain, record)
    # A record made no call by suppression is judged with its own type: the gate then says
    # which entries hold it back now, and whether they lift.
    record_type = record.record_type if mark is None else mark.previous_type
    group_ids: list[UUID | None] = [group.id for group, _ in setting.groups] or [None]
    verdicts = validator.validate_many(
        [_request(chain, record, record_type, setting.channel, g) for g in group_ids]
    )

    answers = [
        _group_answer(runtime, account_id, chain.list_id, group, dials_list, verdict, mark)
        for (group, dials_list), verdict in zip(setting.groups, verdicts, strict=False)
    ]
    groups = [answer for answer, _ in answers]
    reasons = list(setting.reasons)
    if not setting.groups:
        # Nothing dials it; still say everything else the gate finds about it.
        if mark is not None:
            reasons.append(mark.reason)
        reasons += [_reason(runtime, account_id, reason) for reason in verdicts[0].reasons]
    elif not any(group.status == RUNNING for group, _ in setting.groups):
        statuses = ", ".join(f"{group.name!r} is {group.status}" for group, _ in setting.groups)
        reasons.append(
            {
                "code": "no_group_running",
                "text": f"no campaign group dialling this record is running ({statuses})",
                "campaign_group_ids": [str(group.id) for group, _ in setting.groups],
            }
        )
        reasons += _merged(groups, frozenset({"group_not_running"}))
    elif not any(group["allowed"] for group in groups):
        reasons += _merged(groups, frozenset())

    dialable_now = not setting.reasons and any(group["allowed"] for group in groups)
    if dialable_now:
        reasons = []
    openings = [opening for _, opening in answers if opening is not None]
    next_allowed = None if dialable_now or setting.reasons or not openings else min(openings)
    found = setting.contact_list
    return Dialability(
        record_id=record.record_id,
        list_id=chain.list_id,
        list_name=None if found is None else found.name,
        client_id=chain.client_id,
        chain_n=record.chain_n,
        contact_info=record.contact_info,
        contact_info_type=record.contact_info_type,
        record_type=record.record_type,
        record_status=record.record_status,
        time_zone=record.time_zone,
        second_time_zone=record.second_time_zone,
        channel=setting.channel,
        dialable_now=dialable_now,
        checked_at=_iso(checked_at) or "",
        next_allowed=_iso(next_allowed),
        reasons=reasons,
        groups=[GroupDialability(**group) for group in groups],
    )


def _iso(instant: datetime | None) -> str | None:
    """UTC, ISO 8601 with ``Z``."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _utc_text(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


RecordId = Annotated[
    UUID, Path(description="A record's id (from an export, the records read model or an event)")
]
GroupId = Annotated[
    UUID | None,
    Query(
        description="Judge the record as this campaign group dials it (its optional suppression lists "
        "and attempt rules); default: every group of the record's contact list"
    ),
]


@router.get(
    "/{record_id}/dialability",
    summary="Can this record be dialled now? If not, every reason and when it next can",
    responses={
        200: {
            "description": "The record's dialability, per campaign group",
            "content": {"application/json": {"schema": schema_ref(Dialability)}},
        },
        404: {"description": "No such record in this account, or its chain was deleted (code chain_deleted)"},
        503: {"description": "No pre-dial validator in this process"},
    },
)
def get_dialability(
    record_id: RecordId,
    request: Request,
    runtime: RuntimeDep,
    caller: Reader,
    campaign_group_id: GroupId = None,
) -> Response:
    try:
        located = locate(runtime, caller.account_id, record_id)
    except ChainDeleted as error:
        return _deleted_response(request, record_id, error)
    return respond(dialability(runtime, caller.account_id, located, campaign_group_id))
