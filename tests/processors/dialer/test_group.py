"""What a running group asks the pre-dial gate about each record it draws: the record's and its
contact's fields, and whether an agent is reserved before the call is placed (engage-agent-first
only), which lifts the quiet hours after an abandoned call."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast, get_args
from uuid import UUID

import pytest
from msgspec import structs

from dialstream.handlers.queue import Drawn
from domain import dialing, record_chain
from domain.predial import Reason, Verdict
from domain.record_chain import RecordChain
from processors.compliance.predial import PreDialRequest
from processors.dialer.group import DENIED_AGAIN_AFTER, GroupRun
from processors.dialer.ports import DialerPorts
from schemas.profiles import DialingMode, DialingSettings
from schemas.records import Contact
from tests.domain import builders

T0 = datetime(2026, 3, 10, 14, tzinfo=UTC)
ACCOUNT = UUID("0d000000-0000-4000-8000-000000000001")
GROUP = UUID("0d000000-0000-4000-8000-0000000000b1")
LIST = UUID("0d000000-0000-4000-8000-0000000000a1")
MODES = get_args(DialingMode)


def drawn() -> Drawn:
    chain_id = record_chain.chain_id(LIST, "C1")
    record = builders.a_record(chain_id, 1, contact_info="+441632960143", time_zone="Europe/London")
    chain = RecordChain(
        id=chain_id, version=1, account_id=ACCOUNT, created_on=T0, modified_on=T0,
        list_id=LIST, client_id="C1", records=[record], contact=Contact(country="GB"),
    )
    return Drawn(record=record, chain=chain, attempt_id=UUID(int=1))


@pytest.mark.parametrize("mode", MODES)
def test_engage_agent_first_and_preview_say_an_agent_is_reserved(mode: Any) -> None:
    # _request uses no port; the group's message outbox is made with the (no) channels.
    group = GroupRun(cast(DialerPorts, SimpleNamespace(channels={}, links=None)), ACCOUNT, GROUP, owner="test")
    group.dialing = structs.replace(DialingSettings(), dialing_mode=mode)
    request = group._request(drawn())
    assert isinstance(request, PreDialRequest)
    assert request.agent_reserved is (mode in dialing.ENGAGE_FIRST_MODES or dialing.is_preview(mode))
    # progressive_engage seizes an agent before dialling; a preview record is gated once its
    # agent accepted it, the agent held for it
    assert request.agent_reserved is (mode in ("progressive_engage", "preview", "push_preview"))
    assert (request.account_id, request.campaign_group_id, request.contact_info, request.country) == (
        ACCOUNT, GROUP, "+441632960143", "GB",
    )


def test_a_record_refused_without_a_time_it_may_be_called_is_due_again_later_not_at_once() -> None:
    """A suppressed number the compliance processor has not marked yet: the gate says no and
    knows no end. Given back due at once, it was drawn and refused at every step."""
    returned: list[Any] = []
    refused = Verdict(allowed=False, reasons=[Reason(code="suppressed", text="on the DNC list")])
    ports = SimpleNamespace(
        channels={},
        links=None,
        clock=lambda: T0,
        predial=SimpleNamespace(validate_many=lambda requests: [refused for _ in requests]),
        handlers=SimpleNamespace(
            queue=SimpleNamespace(return_drawn=lambda *args, **kwargs: returned.append((args, kwargs)))
        ),
    )
    group = GroupRun(cast(DialerPorts, ports), ACCOUNT, GROUP, owner="test")
    assert group._gate([drawn()], now=0.0) == [False]
    ((args, kwargs),) = returned
    (back,) = args[2]
    assert kwargs["reason"] == "denied" and back.detail == "suppressed: on the DNC list"
    assert back.dial_sched_time == int((T0 + DENIED_AGAIN_AFTER).timestamp())
