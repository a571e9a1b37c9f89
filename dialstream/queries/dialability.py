"""Can a record be dialled now, and if not, why ("why is my hopper empty")?

:func:`dialability` answers, for a record found by :func:`dialstream.queries.records.locate`,
whether it can be dialled now and otherwise every reason and when it next can
(:class:`Dialability`). It reads the record's contact list (the catalogue, else the event
store: a list created a moment ago), the campaign groups that may dial it and the names of
the suppression lists its reasons mention, and asks the pre-dial gate (:class:`PreDialGate`)
once for every group, in one batch (one suppression-index lookup); the rules that turn
those into the answer are :mod:`domain.dialability`.

The groups are the one named by ``group_id``, else every group of the record's contact list
(which optional suppression lists and attempt rules apply depends on the group). It fails
closed like the gate: when the suppression index cannot answer, the answer says so
(``index_unavailable``) and the record is not dialable now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from dialstream.queries.records import Located, Stored
from domain import campaign_template, contact_list, dialing
from domain import dialability as rules
from domain.aggregate import apply_overrides
from domain.campaign_group import CampaignGroup
from domain.campaign_template import CampaignTemplate
from domain.contact_list import ContactList
from domain.errors import NotFound
from domain.predial import Verdict
from domain.profile import Profile
from domain.record_chain import RecordChain
from projections.catalogue import (
    CAMPAIGN_GROUP,
    CAMPAIGN_TEMPLATE,
    CONTACT_LIST,
    DIALING_PROFILE,
    CatalogueQueries,
)
from projections.suppression_lists import SuppressionListQueries
from schemas.profiles import Channel, DialingSettings
from schemas.records import Record


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


class Question(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt the gate is asked about: the record as the dialer would ask, for one group
    (the fields of :class:`processors.compliance.predial.PreDialRequest`)."""

    account_id: UUID
    campaign_group_id: UUID | None
    channel: Channel
    client_id: str
    contact_info: str
    contact_info_type: int
    record_type: int
    record_status: int
    dial_sched_time: int | None
    daily_from: int | None
    daily_till: int | None
    time_zone: str
    second_time_zone: str | None
    country: str
    state: str
    agent_reserved: bool = False  # the group reserves the agent before it dials (its mode)


class PreDialGate(Protocol):
    """The pre-dial gate as this query asks it: the process's
    :class:`~processors.compliance.predial.PreDialValidator` behind an adapter."""

    def now(self) -> datetime:
        """The gate's clock: the instant it judges."""
        ...

    def judge(self, questions: Sequence[Question]) -> list[Verdict]:
        """One verdict per question, in order; fail closed."""
        ...


class Sources(Stored, Protocol):
    """What the answer reads (the process's runtime has them all)."""

    @property
    def catalogue(self) -> CatalogueQueries: ...
    @property
    def suppression_lists(self) -> SuppressionListQueries: ...


def dialability(
    sources: Sources, gate: PreDialGate, account_id: UUID, located: Located, group_id: UUID | None
) -> Dialability:
    """The record's dialability, for every group that may dial it or the one ``group_id``
    names (:class:`~domain.errors.NotFound` when the account has no such group)."""
    chain, record = located.chain, located.record
    where = _setting(sources, account_id, chain.list_id, group_id)
    checked_at = gate.now().astimezone(UTC)
    # A record made no call by suppression is judged with its own type: the gate then says
    # which entries hold it back now, and whether they lift.
    record_type = rules.judged_type(chain, record)
    groups: list[CampaignGroup | None] = [group for group, _ in where.groups] or [None]
    questions = [
        _question(chain, record, record_type, where.channel, group, _reserves_agent(sources.catalogue, group))
        for group in groups
    ]
    verdicts = gate.judge(questions)
    mentioned = [match.suppression_list_id for match in chain.suppressions] + [
        reason.list_id
        for verdict in verdicts
        for reason in verdict.reasons
        if reason.code == "suppressed" and reason.list_id is not None
    ]
    names = _suppression_list_names(sources.suppression_lists, account_id, mentioned)
    mark = rules.mark(chain, record, names)
    shown = [[rules.reason_body(reason, names) for reason in verdict.reasons] for verdict in verdicts]
    answer = rules.outcome(chain.list_id, where, mark, verdicts, shown)

    found = where.contact_list
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
        channel=where.channel,
        dialable_now=answer.dialable_now,
        checked_at=utc_iso(checked_at) or "",
        next_allowed=utc_iso(answer.next_allowed),
        reasons=answer.reasons,
        groups=[
            GroupDialability(
                campaign_group_id=group.group.id,
                name=group.group.name,
                status=group.group.status,
                allowed=group.allowed,
                reasons=group.reasons,
                next_allowed=utc_iso(group.next_allowed),
            )
            for group in answer.groups
        ],
    )


def utc_iso(instant: datetime | None) -> str | None:
    """UTC, ISO 8601 with ``Z``."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _setting(sources: Sources, account_id: UUID, list_id: UUID, group_id: UUID | None) -> rules.Setting:
    """The record's list (from the catalogue, else the store) and the groups to judge it for."""
    found: ContactList | None = sources.catalogue.get(account_id, CONTACT_LIST, list_id)
    if found is None:
        stored = sources.store.load(list_id, contact_list.project)
        if isinstance(stored, ContactList) and stored.account_id == account_id:
            found = stored
    if group_id is not None:
        asked: CampaignGroup | None = sources.catalogue.get(account_id, CAMPAIGN_GROUP, group_id)
        if asked is None:
            raise NotFound(f"campaign group {group_id} not found", field="campaign_group_id")
        return rules.setting(list_id, found, asked=asked)
    members: list[CampaignGroup] = []
    for member in [] if found is None else sorted(found.campaign_group_ids):
        group: CampaignGroup | None = sources.catalogue.get(account_id, CAMPAIGN_GROUP, member)
        if group is not None:  # a group deleted meanwhile
            members.append(group)
    return rules.setting(list_id, found, members=members)


def _suppression_list_names(
    lists: SuppressionListQueries, account_id: UUID, list_ids: Iterable[UUID]
) -> dict[UUID, rules.SuppressionListName]:
    """The names of those of these suppression lists the account still has."""
    names: dict[UUID, rules.SuppressionListName] = {}
    for list_id in dict.fromkeys(list_ids):
        row = lists.get(account_id, list_id)
        if row is not None:
            names[list_id] = rules.SuppressionListName(row.state.name, row.state.required)
    return names


def _reserves_agent(catalogue: CatalogueQueries, group: CampaignGroup | None) -> bool:
    """Whether the group's effective dialing mode reserves an agent before each call (its
    template's dialing profile with the template's and the group's overrides); a group whose
    template or profile is gone dials nothing, and is judged as if it did not."""
    if group is None:
        return False
    template: CampaignTemplate | None = catalogue.get(group.account_id, CAMPAIGN_TEMPLATE, group.template_id)
    if template is None:
        return False
    profile: Profile[DialingSettings] | None = catalogue.get(
        group.account_id, DIALING_PROFILE, template.dialing_profile_id
    )
    if profile is None:
        return False
    settings: DialingSettings = apply_overrides(
        campaign_template.effective_dialing(template, profile), group.dialing_overrides
    )
    return dialing.reserves_agent_first(settings.dialing_mode)


def _question(
    chain: RecordChain,
    record: Record,
    record_type: int,
    channel: Channel,
    group: CampaignGroup | None,
    agent_reserved: bool,
) -> Question:
    return Question(
        account_id=chain.account_id,
        campaign_group_id=None if group is None else group.id,
        agent_reserved=agent_reserved,
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
