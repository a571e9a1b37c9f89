"""A record's attempts: what is recorded, once per attempt id, on the record's own stream."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec
import pytest

from domain import call_attempts, record_chain
from domain.errors import NotFound, RuleViolation
from domain.record_chain import RecordChain
from schemas.attempts import CallAttemptMade
from schemas.records import Record

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
ACCOUNT = UUID("0a000000-0000-4000-8000-000000000001")
LIST = UUID("0a000000-0000-4000-8000-0000000000a1")
GROUP = UUID("0a000000-0000-4000-8000-0000000000b1")
ATTEMPT = UUID("0a000000-0000-4000-8000-0000000000c1")
CHAIN = record_chain.chain_id(LIST, "C1")


def a_chain(*, deleted: bool = False) -> RecordChain:
    return RecordChain(
        id=CHAIN, version=1, account_id=ACCOUNT, created_on=NOW, modified_on=NOW, list_id=LIST, client_id="C1",
        records=[
            Record(record_id=record_chain.record_id(CHAIN, 1), chain_n=1, contact_info="+12125550111",
                   contact_info_type=1, time_zone="America/New_York", time_zone_rule="device"),
            Record(record_id=record_chain.record_id(CHAIN, 2), chain_n=2, contact_info="Jane@Example.com",
                   contact_info_type=10, time_zone="America/New_York", time_zone_rule="default"),
        ],
        deleted=deleted,
    )


def made(state=None, chain=None, chain_n=1, attempt_id=ATTEMPT, channel="voice", group=GROUP):
    return call_attempts.make_attempt(
        state, a_chain() if chain is None else chain, chain_n=chain_n, attempt_id=attempt_id,
        channel=channel, campaign_group_id=group, now=NOW,
    )


def test_an_attempt_is_an_event_on_the_records_stream():
    (event,) = made()
    assert isinstance(event, CallAttemptMade)
    assert (event.originator_id, event.originator_version) == (record_chain.record_id(CHAIN, 1), 1)
    assert (event.list_id, event.client_id, event.chain_n, event.device) == (LIST, "C1", 1, "+12125550111")
    assert (event.channel, event.campaign_group_id, event.attempt_id, event.timestamp) == ("voice", GROUP, ATTEMPT, NOW)


def test_the_same_attempt_id_is_stored_once_and_the_next_follows_it():
    state = call_attempts.project(None, made())
    assert made(state) == []
    (second,) = made(state, attempt_id=UUID(int=5))
    assert second.originator_version == 2
    state = call_attempts.project(state, [second])
    assert state is not None and state.attempt_ids == {ATTEMPT, UUID(int=5)}


def test_an_email_record_is_attempted_on_the_email_channel_with_its_address_lowercased():
    (event,) = made(chain_n=2, channel="email")
    assert event.device == "jane@example.com"


@pytest.mark.parametrize(("chain_n", "channel"), [(1, "email"), (2, "voice"), (2, "sms")])
def test_the_channel_must_fit_the_device(chain_n, channel):
    with pytest.raises(RuleViolation) as refused:
        made(chain_n=chain_n, channel=channel)
    assert refused.value.field == "channel"


@pytest.mark.parametrize("chain", [None, "deleted", "short"])
def test_a_missing_record_is_not_found(chain):
    found = {
        None: None,
        "deleted": a_chain(deleted=True),
        "short": msgspec.structs.replace(a_chain(), records=a_chain().records[:1]),
    }[chain]
    with pytest.raises(NotFound):
        call_attempts.make_attempt(
            None, found, chain_n=2, attempt_id=ATTEMPT, channel="voice", campaign_group_id=None, now=NOW
        )
