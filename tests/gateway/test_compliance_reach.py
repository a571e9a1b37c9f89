"""Suppression lists that start (or stop) applying to contact lists after their records were
imported: a campaign group selecting optional lists, a contact list joining or leaving such a
group, a list made required. The compliance processor marks the records the entries match and
restores them when the list no longer applies."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from dialstream.bootstrap import Runtime
from domain.codes import RecordType
from domain.suppression_list import ChangeSuppressionList, CreateSuppressionList, EntryInput
from tests.gateway import helpers as h
from tests.gateway.conftest import Account
from tests.gateway.test_dialability import import_file, rid
from tests.processors.compliance.test_compliance_processor import settle

GENERAL, NO_CALL = RecordType.GENERAL, RecordType.NO_CALL
ROWS = "client_id,phone\nOPT,(212) 555-0177\nOK,(212) 555-0178\n"


def record_type(runtime: Runtime, list_id: str, client_id: str) -> int:
    settle(runtime)
    (found,) = [r for r in runtime.records.iterate(UUID(list_id)) if r["client_id"] == client_id]
    return int(found["record_type"])


def partner_list(runtime: Runtime, account: Account, *, required: bool = False) -> UUID:
    made = runtime.handlers.suppression.create_list(
        account.id, CreateSuppressionList(name=h.unique("Partner DNC"), required=required)
    )
    runtime.handlers.suppression.add_entries(account.id, made.id, [EntryInput(kind="phone", value="+12125550177")])
    return made.id


def test_a_group_selecting_an_optional_list_marks_its_records_and_dropping_it_restores_them(
    runtime: Runtime, new_account: Callable[[], Account]
) -> None:
    account = new_account()
    made = h.chain(account.admin)
    contacts = made["list"]["id"]
    import_file(account.admin, contacts, ROWS)
    partner = partner_list(runtime, account)
    assert record_type(runtime, contacts, "OPT") == GENERAL

    runtime.handlers.suppression.select_lists(account.id, UUID(made["group"]["id"]), [partner])
    assert record_type(runtime, contacts, "OPT") == NO_CALL
    assert record_type(runtime, contacts, "OK") == GENERAL

    runtime.handlers.suppression.select_lists(account.id, UUID(made["group"]["id"]), [])
    assert record_type(runtime, contacts, "OPT") == GENERAL


def test_a_contact_list_joining_a_group_that_selected_a_list_is_marked_and_leaving_restores_it(
    runtime: Runtime, new_account: Callable[[], Account]
) -> None:
    account = new_account()
    made = h.chain(account.admin)
    group_id = made["group"]["id"]
    partner = partner_list(runtime, account)
    runtime.handlers.suppression.select_lists(account.id, UUID(group_id), [partner])
    joining = h.contact_list(account.admin)
    import_file(account.admin, joining["id"], ROWS)
    assert record_type(runtime, joining["id"], "OPT") == GENERAL

    def lists_of_group(ids: list[str]) -> None:
        version = h.etag(account.admin, f"{h.GROUPS}/{group_id}")
        changed = account.admin.patch(
            f"{h.GROUPS}/{group_id}", json={"contact_list_ids": ids}, headers={"If-Match": version}
        )
        assert changed.status_code == 200, changed.text

    lists_of_group([made["list"]["id"], joining["id"]])
    assert record_type(runtime, joining["id"], "OPT") == NO_CALL
    lists_of_group([made["list"]["id"]])
    assert record_type(runtime, joining["id"], "OPT") == GENERAL


def test_a_list_made_required_marks_the_accounts_records(
    runtime: Runtime, new_account: Callable[[], Account]
) -> None:
    account = new_account()
    contacts = h.contact_list(account.admin)
    import_file(account.admin, contacts["id"], ROWS)
    partner = partner_list(runtime, account)
    assert record_type(runtime, contacts["id"], "OPT") == GENERAL

    runtime.handlers.suppression.change_list(account.id, partner, ChangeSuppressionList(required=True))
    assert record_type(runtime, contacts["id"], "OPT") == NO_CALL
    assert record_type(runtime, contacts["id"], "OK") == GENERAL
    body = account.admin.get(f"/api/v1/records/{rid(contacts['id'], 'OPT')}/dialability").json()
    assert "suppressed" in [reason["code"] for reason in body["reasons"]]
