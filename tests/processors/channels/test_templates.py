"""An attempt's message made from the campaign's template and the record."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.message_template import MessageTemplate, TemplateFieldMissing
from processors.channels.port import OutboundMessage
from processors.channels.templates import message_for
from schemas.records import Contact, Record

ATTEMPT = UUID(int=99)
TEMPLATE = MessageTemplate(subject="{first_name}, your statement", body="Hi {first_name}, {balance} due.")


def record(contact_info: str, contact_info_type: int) -> Record:
    return Record(
        record_id=UUID(int=5), chain_n=1, contact_info=contact_info, contact_info_type=contact_info_type,
        time_zone="America/New_York", time_zone_rule="device",
    )  # fmt: skip


def test_an_email_gets_its_subject_and_body_filled_and_goes_to_the_records_address() -> None:
    message = message_for(
        TEMPLATE, channel="email", sender="billing@acme.test", attempt_id=ATTEMPT,
        record=record("ana@example.test", 10), client_id="C-1", contact=Contact(),
        custom={"first_name": "Ana", "balance": "$12"},
    )  # fmt: skip

    assert message == OutboundMessage(
        ATTEMPT, "email", "ana@example.test", "billing@acme.test", "Hi Ana, $12 due.", "Ana, your statement"
    )


def test_an_sms_has_no_subject() -> None:
    message = message_for(
        TEMPLATE, channel="sms", sender="+12125550000", attempt_id=ATTEMPT, record=record("+12125550101", 4),
        client_id="C-1", contact=Contact(), custom={"first_name": "Ana", "balance": "$12"},
    )  # fmt: skip

    assert (message.to, message.subject, message.body) == ("+12125550101", "", "Hi Ana, $12 due.")


def test_a_field_the_record_lacks_makes_no_message() -> None:
    with pytest.raises(TemplateFieldMissing, match=r"template field 'balance' is not a field of record 00000000-0000-0000-0000-000000000005 \(its fields: .*first_name"):
        message_for(
            TEMPLATE, channel="sms", sender="+12125550000", attempt_id=ATTEMPT, record=record("+12125550101", 4),
            client_id="C-1", contact=Contact(), custom={"first_name": "Ana"},
        )  # fmt: skip
