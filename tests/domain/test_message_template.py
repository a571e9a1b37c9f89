"""Message templates filled from a record's fields."""

from __future__ import annotations

import re
from uuid import UUID

import pytest

from domain.message_template import (
    InvalidTemplate,
    MessageTemplate,
    TemplateFieldMissing,
    fill,
    record_fields,
    template_fields,
)
from schemas.records import Contact, Record

RECORD_ID = UUID("5d0c4a5e-8f43-4c9b-a4f5-0d1b1f3e2a77")
RECORD = Record(
    record_id=RECORD_ID, chain_n=2, contact_info="+351912345678", contact_info_type=4, attempt=1,
    dial_sched_time=1_773_158_400, time_zone="Europe/Lisbon", time_zone_rule="device",
)  # fmt: skip
CONTACT = Contact(postal_code="1000-001", country="PT")
CUSTOM = {"first_name": "Ana", "balance": "120.50", "country": "Portugal"}
FIELDS = record_fields(RECORD, client_id="C-42", contact=CONTACT, custom=CUSTOM)


def test_the_fields_of_a_record_are_its_values_as_text() -> None:
    expected = {
        "record_id": str(RECORD_ID),
        "chain_n": "2",
        "contact_info": "+351912345678",
        "contact_info_type": "4",
        "record_type": "2",
        "record_status": "1",
        "call_result": "28",
        "attempt": "1",
        "dial_sched_time": "1773158400",
        "time_zone": "Europe/Lisbon",
        "client_id": "C-42",
        "postal_code": "1000-001",
        "country": "Portugal",  # the custom field of that name wins over the contact's "PT"
        "first_name": "Ana",
        "balance": "120.50",
    }
    assert expected == FIELDS


# template -> filled from FIELDS
FILLED = [
    ("Hello {first_name}", "Hello Ana"),
    ("{first_name}, {balance} € due. Ref {client_id}/{chain_n}", "Ana, 120.50 € due. Ref C-42/2"),
    ("{first_name}{first_name}", "AnaAna"),
    ("No placeholders at all", "No placeholders at all"),
    ("", ""),
    ("Braces: {{first_name}} is {first_name}", "Braces: {first_name} is Ana"),
    ("[{first_name:>5}] [{first_name:.1}]", "[  Ana] [A]"),
    ("Call us from {postal_code}, {country}", "Call us from 1000-001, Portugal"),
    ("Olá {first_name} 👋", "Olá Ana 👋"),
]


@pytest.mark.parametrize(("template", "filled"), FILLED)
def test_placeholders_are_filled_from_the_records_fields(template: str, filled: str) -> None:
    assert fill(template, FIELDS, record=RECORD_ID) == filled


# A field the record lacks: not a field at all, an empty cell (not imported), an unset time.
@pytest.mark.parametrize("name", ["surname", "state", "call_time", "daily_from", "First_Name"])
def test_a_field_the_record_lacks_is_an_error_naming_the_field_and_the_record(name: str) -> None:
    with pytest.raises(TemplateFieldMissing) as raised:
        fill(f"Dear {{{name}}}, hello", FIELDS, record=RECORD_ID)

    assert raised.value.field == name
    assert str(raised.value) == (
        f"template field {name!r} is not a field of record {RECORD_ID} (its fields: attempt, balance, "
        "call_result, chain_n, client_id, contact_info, contact_info_type, country, dial_sched_time, "
        "first_name, postal_code, record_id, record_status, record_type, time_zone)"
    )


# A text that is not a template -> what the error says.
INVALID = [
    ("Hello {first_name", "expected '}' before end of string"),
    ("Hello first_name}", "Single '}' encountered"),
    ("Hello {}", "placeholder {} in the message body is not a field name"),
    ("Hello {0}", "placeholder {0} in the message body is not a field name"),
    ("Hello {first_name.__class__}", "placeholder {first_name.__class__} in the message body is not a field name"),
    ("Hello {first_name[0]}", "placeholder {first_name[0]} in the message body is not a field name"),
    ("Hello {first_name:{balance}}", "nests a placeholder"),
]


@pytest.mark.parametrize(("template", "problem"), INVALID)
def test_a_text_that_is_not_a_template_is_refused_when_the_template_is_made(template: str, problem: str) -> None:
    with pytest.raises(InvalidTemplate, match=re.escape(problem)) as raised:
        MessageTemplate(body=template)
    assert raised.value.field == "body"


def test_the_subject_is_checked_too_and_named() -> None:
    with pytest.raises(InvalidTemplate, match="message subject") as raised:
        MessageTemplate(subject="Hi {", body="fine")
    assert raised.value.field == "subject"


def test_a_format_a_text_value_cannot_take_is_an_error_when_filled() -> None:
    with pytest.raises(InvalidTemplate, match="cannot be filled: Unknown format code 'd'"):
        fill("{balance:d}", FIELDS, record=RECORD_ID, part="body")


def test_a_templates_fields_are_listed_once_in_order() -> None:
    template = MessageTemplate(subject="{first_name}, your statement", body="{balance} due, {first_name} ({client_id})")
    assert template.fields() == ("first_name", "balance", "client_id")
    assert template_fields("{a} {b} {a}") == ("a", "b", "a")
