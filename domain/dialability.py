"""Whether a record can be dialled now, and if not, every reason: the rules beyond the gate.

The pre-dial gate (:func:`domain.predial.decide`) judges one attempt for one campaign group.
A record's dialability is that verdict for every group that may dial it, plus what the gate
does not know:

- ``list_archived``: the record's contact list is archived (never dialled again);
- ``list_unavailable``: the list could not be read: fail closed;
- ``no_campaign_group``: the list belongs to no campaign group, so nothing dials it;
- ``list_not_in_group``: the group asked about does not dial this list;
- ``group_not_running`` (per group): the group is loaded, paused or stopped;
- ``no_group_running`` (for the record): none of the list's groups is running;
- ``marked_no_call``: the compliance processor made the record "no call" (record type 7)
  because suppression entries matched it (``record_chain.suppressed``). The gate then judges
  the record with the type it had (:func:`judged_type`), so its own ``suppressed`` reasons
  say which entries hold it back now; when it sees them all, the mark lifts with them
  (:func:`mark_lifts_with`), otherwise the mark has no known end.

None of these lifts by itself. The record is dialable now when at least one of its groups
may dial it now; it next may at the earliest instant one of its groups may, and never by
itself when no reason of any group lifts by itself (:func:`outcome`).

Reasons are the API's JSON objects (``{"code", "text", ...detail}``): the gate's
:class:`~domain.predial.Reason` as :func:`reason_body` shows it, or the ones made here.
Everything here is pure: the lists, groups, suppression list names and verdicts are read or
asked by the caller (:mod:`dialstream.queries.dialability`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.campaign_group import CampaignGroup
from domain.contact_list import ContactList
from domain.predial import Reason, Verdict
from domain.record_chain import RecordChain
from schemas.profiles import Channel
from schemas.records import Record

# A reason as the API shows it: {"code", "text", ...detail}.
ReasonBody = dict[str, Any]

RUNNING = "running"
# What a group that is not running needs before it dials.
_NOT_RUNNING = {
    "loaded": "is loaded but was never started",
    "paused": "is paused",
    "stopped": "is stopped",
}


@dataclass(frozen=True)
class SuppressionListName:
    """What a reason says of a suppression list besides its id."""

    name: str
    required: bool


# The record's list and groups ----------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """Where the record stands: its list and the groups that may dial it."""

    contact_list: ContactList | None
    channel: Channel
    groups: list[tuple[CampaignGroup, bool]]  # (group, whether it dials the record's list)
    reasons: list[ReasonBody]  # list-level reasons: no group could dial it


def setting(
    list_id: UUID,
    found: ContactList | None,
    *,
    asked: CampaignGroup | None = None,
    members: Sequence[CampaignGroup] = (),
) -> Setting:
    """The record's list (``found``; None when it could not be read) and the groups to judge
    it for: the group ``asked`` about, else the list's groups (``members``, those still there),
    by name. An archived or unreadable list has no groups of its own."""
    reasons: list[ReasonBody] = []
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
    if asked is not None:
        groups.append((asked, list_id in asked.contact_list_ids))
    elif found is not None and not found.archived:
        ordered = sorted(members, key=lambda group: (group.name.casefold(), str(group.id)))
        groups = [(group, True) for group in ordered]
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


# The gate's reasons and the "no call" mark ------------------------------------------------------


def reason_body(reason: Reason, lists: Mapping[UUID, SuppressionListName]) -> ReasonBody:
    """The gate's reason as the API shows it; a suppression names its list when it is known."""
    body: ReasonBody = msgspec.to_builtins(reason)
    if reason.code == "suppressed" and reason.list_id is not None:
        named = lists.get(reason.list_id)
        if named is not None:
            body["list_name"] = named.name
            body["required"] = named.required
    return body


@dataclass(frozen=True)
class Mark:
    """The record was made "no call" by the compliance processor because suppression entries
    matched it (``record_chain.suppressed``): its type before, and the entries."""

    previous_type: int
    entry_ids: frozenset[str]
    reason: ReasonBody


def mark(chain: RecordChain, record: Record, lists: Mapping[UUID, SuppressionListName]) -> Mark | None:
    """The record's "no call" mark, if the compliance processor set one."""
    if record.chain_n not in chain.previous_types:
        return None
    previous = chain.previous_types[record.chain_n]
    entries: list[dict[str, Any]] = []
    for match in chain.suppressions:
        if match.chain_n != record.chain_n:
            continue
        named = lists.get(match.suppression_list_id)
        entries.append(
            {
                "list_id": str(match.suppression_list_id),
                "list_name": None if named is None else named.name,
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


def judged_type(chain: RecordChain, record: Record) -> int:
    """The record type the gate judges: a record made no call by suppression is judged with
    the type it had, so the gate says which entries hold it back now, and whether they lift."""
    return chain.previous_types.get(record.chain_n, record.record_type)


def mark_lifts_with(verdict: Verdict, mark: Mark) -> bool:
    """Whether the gate sees every entry behind the mark: then the mark lifts when they do
    (expiry restores the record type), and the gate's next_allowed stands."""
    seen = {str(r.entry_id) for r in verdict.reasons if r.code == "suppressed" and r.entry_id is not None}
    return bool(mark.entry_ids) and mark.entry_ids <= seen


# One group, then the record ------------------------------------------------------------------


def group_not_running(group: CampaignGroup) -> ReasonBody:
    state = _NOT_RUNNING.get(group.status, f"is {group.status}")
    return {
        "code": "group_not_running",
        "text": f"campaign group {group.name!r} {state}: it dials nothing until it runs",
        "campaign_group_id": str(group.id),
        "status": group.status,
    }


@dataclass(frozen=True)
class GroupAnswer:
    """The record as one campaign group would dial it."""

    group: CampaignGroup
    allowed: bool
    reasons: list[ReasonBody]
    next_allowed: datetime | None  # None when allowed or when a reason does not lift by itself


def group_answer(
    list_id: UUID,
    group: CampaignGroup,
    dials_list: bool,
    verdict: Verdict,
    mark: Mark | None,
    gate_reasons: Sequence[ReasonBody],
) -> GroupAnswer:
    """The group's answer: its own reasons, the mark, then the gate's (``gate_reasons``, the
    ``verdict``'s as :func:`reason_body` shows them)."""
    own: list[ReasonBody] = []
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
        own.append(group_not_running(group))
    marked = [] if mark is None else [mark.reason]
    reasons = own + marked + list(gate_reasons)
    allowed = not reasons
    lasting = bool(own) or (mark is not None and not mark_lifts_with(verdict, mark))
    next_allowed = None if allowed or lasting else verdict.next_allowed
    return GroupAnswer(group, allowed, reasons, next_allowed)


def merged(answers: Sequence[GroupAnswer], without: frozenset[str]) -> list[ReasonBody]:
    """Every group's reasons once each, in first-seen order, but those coded ``without``; a
    reason that blocks only some of the groups names them in ``campaign_group_ids``."""
    seen: dict[str, tuple[ReasonBody, list[str]]] = {}
    for answer in answers:
        for reason in answer.reasons:
            if reason["code"] in without:
                continue
            key = json.dumps(reason, sort_keys=True, default=str)
            seen.setdefault(key, (reason, []))[1].append(str(answer.group.id))
    found: list[ReasonBody] = []
    for reason, group_ids in seen.values():
        if len(group_ids) < len(answers) and "campaign_group_id" not in reason:
            reason = {**reason, "campaign_group_ids": group_ids}
        found.append(reason)
    return found


@dataclass(frozen=True)
class Outcome:
    """Whether the record can be dialled now; if not, every reason and when it next can."""

    dialable_now: bool
    reasons: list[ReasonBody]  # empty when dialable now
    next_allowed: datetime | None  # None when dialable now or when no reason lifts by itself
    groups: list[GroupAnswer]


def outcome(
    list_id: UUID,
    where: Setting,
    mark: Mark | None,
    verdicts: Sequence[Verdict],
    gate_reasons: Sequence[Sequence[ReasonBody]],
) -> Outcome:
    """The record's dialability from the gate's verdicts: one per group of ``where`` in order,
    or a single one (judged for no group) when no group may dial it; ``gate_reasons`` are
    each verdict's reasons as :func:`reason_body` shows them."""
    answers = [
        group_answer(list_id, group, dials_list, verdict, mark, shown)
        for (group, dials_list), verdict, shown in zip(where.groups, verdicts, gate_reasons, strict=False)
    ]
    reasons = list(where.reasons)
    if not where.groups:
        # Nothing dials it; still say everything else the gate finds about it.
        if mark is not None:
            reasons.append(mark.reason)
        reasons += gate_reasons[0] if gate_reasons else []
    elif not any(group.status == RUNNING for group, _ in where.groups):
        statuses = ", ".join(f"{group.name!r} is {group.status}" for group, _ in where.groups)
        reasons.append(
            {
                "code": "no_group_running",
                "text": f"no campaign group dialling this record is running ({statuses})",
                "campaign_group_ids": [str(group.id) for group, _ in where.groups],
            }
        )
        reasons += merged(answers, frozenset({"group_not_running"}))
    elif not any(answer.allowed for answer in answers):
        reasons += merged(answers, frozenset())

    dialable_now = not where.reasons and any(answer.allowed for answer in answers)
    if dialable_now:
        reasons = []
    openings = [answer.next_allowed for answer in answers if answer.next_allowed is not None]
    next_allowed = None if dialable_now or where.reasons or not openings else min(openings)
    return Outcome(dialable_now, reasons, next_allowed, answers)
