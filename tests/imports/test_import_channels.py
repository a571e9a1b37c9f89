"""What a list's channel takes as records: phone numbers on a voice list, mobile-capable
numbers on an SMS list, e-mail addresses on an e-mail list. A contact column of the other kind
is a custom field, and a row with none of the channel's devices is a rejected row.

End to end on a real embedded runtime, as the import tests beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, Runtime
from domain.codes import ContactInfoType
from domain.data_mapping import CreateDataMapping
from schemas.list_rules import MappedField
from schemas.lists import ContactListSettings
from tests.imports.support import by_client, new_list, rejections, run_import, running, write

HOME, MOBILE, EMAIL = int(ContactInfoType.HOME_PHONE), int(ContactInfoType.MOBILE), int(ContactInfoType.EMAIL)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("channels")) as started:
        yield started


def channel_list(runtime: Runtime, channel: str) -> UUID:
    return new_list(runtime, ContactListSettings(channel=channel))  # type: ignore[arg-type]


def devices(chain: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(r["contact_info"], r["contact_info_type"]) for r in chain]


def mapping(runtime: Runtime, *fields: MappedField) -> UUID:
    done = runtime.handlers.list_rules.create_data_mapping(
        DEFAULT_ACCOUNT_ID, CreateDataMapping(name=f"mapping {len(fields)} {id(fields)}", fields=list(fields))
    )
    assert runtime.wait(done.position)
    return done.id


def test_on_a_voice_list_the_email_column_is_a_custom_field_and_a_row_without_a_phone_is_rejected(
    runtime: Runtime, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "voice.csv",
        "client_id,phone,mobile,email,first_name\n"
        "C1,(212) 555-0143,312-555-0199,ada@example.com,Ada\n"
        "C2,12345,,grace@example.com,Grace\n"
        "C3,,,alan@example.com,Alan\n",
    )
    list_id = channel_list(runtime, "voice")
    job = run_import(runtime, list_id, source)
    assert job.status == "completed", job.reason
    assert (job.counts.rows, job.counts.imported, job.counts.rejected, job.counts.records) == (3, 1, 2, 2)
    chains = by_client(runtime, list_id)
    assert set(chains) == {"C1"}
    assert devices(chains["C1"]) == [("+12125550143", HOME), ("+13125550199", MOBILE)]
    assert chains["C1"][0]["custom"] == {"email": "ada@example.com", "first_name": "Ada"}
    assert rejections(runtime, job.id) == [
        (3, "phone", "line 3: no valid contact info (phone: '12345' is not a valid phone number for US)",
         "C2,12345,,grace@example.com,Grace"),
        (4, "phone", "line 4: no contact info in phone, mobile", "C3,,,alan@example.com,Alan"),
    ]  # fmt: skip
    assert any(f.column == "email" and f.field == "custom:email" for f in job.fields)


def test_on_an_email_list_the_phone_columns_are_custom_fields(runtime: Runtime, tmp_path: Path) -> None:
    source = write(
        tmp_path / "mail.csv",
        "client_id,email,phone,e-mail 2\n"
        "C1,Ada@Example.COM,(212) 555-0143,ada.work@example.com\n"
        "C2,not-an-address,(212) 555-0144,\n",
    )
    list_id = channel_list(runtime, "email")
    job = run_import(runtime, list_id, source)
    assert job.status == "completed", job.reason
    assert (job.counts.imported, job.counts.rejected, job.counts.records) == (1, 1, 2)
    chain = by_client(runtime, list_id)["C1"]
    assert devices(chain) == [("Ada@example.com", EMAIL), ("ada.work@example.com", EMAIL)]
    assert chain[0]["custom"] == {"phone": "(212) 555-0143"}
    [(line, field, reason, _)] = rejections(runtime, job.id)
    assert (line, field) == (3, "email")
    assert reason == "line 3: no valid contact info (email: 'not-an-address' is not an e-mail address)"


def test_on_an_sms_list_only_mobile_capable_numbers_are_records(runtime: Runtime, tmp_path: Path) -> None:
    source = write(
        tmp_path / "sms.csv",
        "client_id,mobile,home_phone,email\n"
        "C1,+44 7400 123456,+44 20 7946 0018,ada@example.com\n"  # a UK mobile; a London line
        "C2,(212) 555-0143,1-800-555-0199,\n"  # North America cannot tell a mobile by its number
        "C3,+44 20 7946 0019,,alan@example.com\n",  # a landline only
    )
    list_id = channel_list(runtime, "sms")
    job = run_import(runtime, list_id, source)
    assert job.status == "completed", job.reason
    assert (job.counts.imported, job.counts.rejected, job.counts.records, job.counts.dropped) == (2, 1, 2, 2)
    chains = by_client(runtime, list_id)
    assert devices(chains["C1"]) == [("+447400123456", MOBILE)]
    assert chains["C1"][0]["custom"] == {"email": "ada@example.com"}
    assert devices(chains["C2"]) == [("+12125550143", MOBILE)]
    assert [(line, field, reason) for line, field, reason, _ in rejections(runtime, job.id)] == [
        (2, "home_phone", "line 2: '+44 20 7946 0018' is a fixed line number; an SMS list texts mobiles; left out of the chain"),
        (3, "home_phone", "line 3: '1-800-555-0199' is a toll free number; an SMS list texts mobiles; left out of the chain"),
        (4, "mobile", "line 4: no valid contact info (mobile: '+44 20 7946 0019' is a fixed line number; an SMS list texts mobiles)"),
    ]  # fmt: skip


def test_a_data_mapping_shared_by_lists_of_each_channel(runtime: Runtime, tmp_path: Path) -> None:
    shared = mapping(
        runtime,
        MappedField(column="Customer", field="client_id"),
        MappedField(column="Tel", field="contact_info", contact_info_type=HOME),
        MappedField(column="Courriel", field="contact_info", contact_info_type=EMAIL, label="Mail"),
    )
    source = write(tmp_path / "shared.csv", "Customer,Tel,Courriel\nC1,(212) 555-0143,ada@example.com\n")
    voice, mail = channel_list(runtime, "voice"), channel_list(runtime, "email")
    for list_id in (voice, mail):
        job = run_import(runtime, list_id, source, data_mapping_id=shared)
        assert job.status == "completed", job.reason
    [on_voice] = by_client(runtime, voice).values()
    [on_mail] = by_client(runtime, mail).values()
    assert devices(on_voice) == [("+12125550143", HOME)]
    assert on_voice[0]["custom"] == {"courriel": "ada@example.com"}
    assert devices(on_mail) == [("ada@example.com", EMAIL)]
    assert on_mail[0]["custom"] == {"tel": "(212) 555-0143"}


def test_a_mapping_without_a_device_of_the_channel_fails_the_job_saying_so(
    runtime: Runtime, tmp_path: Path
) -> None:
    source = write(tmp_path / "mail-only.csv", "client_id,email\nC1,ada@example.com\n")
    job = run_import(runtime, channel_list(runtime, "voice"), source)
    assert job.status == "failed"
    assert job.reason == (
        "mail-only.csv: a voice list's records are phone numbers, and the mapping's contact "
        "columns ('email') hold e-mail addresses; map a column of phone numbers to contact_info"
    )
