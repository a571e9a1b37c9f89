"""A record's attempts: each attempt the dialer makes to a record is an event on the record's
own stream (its id is the record's id), counted by attempt rules across lists and channels.

The stream remembers the attempt ids it holds, so a dialer that reports an attempt again
(a retry after a lost answer) stores it once.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.aggregate import Aggregate, Changes, projector, touched
from domain.codes import ContactInfoType
from domain.errors import NotFound, RuleViolation
from domain.record_chain import RecordChain
from schemas.attempts import CallAttemptMade
from schemas.base import Event
from schemas.profiles import Channel


class RecordAttempts(Aggregate, frozen=True, kw_only=True):
    attempt_ids: frozenset[UUID] = frozenset()


def make_attempt(
    state: RecordAttempts | None,
    chain: RecordChain | None,
    *,
    chain_n: int,
    attempt_id: UUID,
    channel: Channel,
    campaign_group_id: UUID | None,
    now: datetime,
) -> list[Event]:
    """Record an attempt to the ``chain_n``-th record of ``chain`` on ``channel``."""
    record = None if chain is None or chain.deleted else next(
        (r for r in chain.records if r.chain_n == chain_n), None
    )
    if chain is None or record is None:
        raise NotFound("record not found", field="record_id")
    email = record.contact_info_type == ContactInfoType.EMAIL
    if (channel == "email") != email:
        raise RuleViolation(
            f"the record's contact info is {'an e-mail address' if email else 'a phone number'}; "
            f"the {channel} channel {'sends to e-mail addresses' if channel == 'email' else 'needs a phone'}",
            field="channel",
        )
    if state is not None and attempt_id in state.attempt_ids:
        return []
    changes = (
        Changes.of(state, now)
        if state is not None
        else Changes(record.record_id, chain.account_id, 0, now)
    )
    changes.record(
        CallAttemptMade,
        attempt_id=attempt_id,
        list_id=chain.list_id,
        client_id=chain.client_id,
        chain_n=chain_n,
        device=record.contact_info.lower() if email else record.contact_info,  # as the gate asks
        channel=channel,
        campaign_group_id=campaign_group_id,
    )
    return changes.events


def evolve(state: RecordAttempts | None, event: Event) -> RecordAttempts | None:
    if not isinstance(event, CallAttemptMade):
        return state
    if state is None:
        return RecordAttempts(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            attempt_ids=frozenset({event.attempt_id}),
        )
    return touched(state, event, attempt_ids=state.attempt_ids | {event.attempt_id})


project = projector(evolve)
