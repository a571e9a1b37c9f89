"""POST /api/v1/records/{id}/attempts: the dialer reports attempts; attempt rules count them
per client id and per device across every list and channel, and the pre-dial gate denies the
attempt over the limit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.gateway import helpers as h
from tests.gateway.conftest import Account
from tests.gateway.test_dialability import import_file, rid

COMPLIANCE = f"{h.SETTINGS}/compliance"
VALIDATE = "/api/v1/compliance/validate"
ROWS = "client_id,home,mobile\nC1,(212) 555-0111,(212) 555-0112\nC2,(212) 555-0113,\n"


def attempt(client: httpx.Client, record: uuid.UUID, **body: Any) -> httpx.Response:
    return client.post(f"/api/v1/records/{record}/attempts", json=body)


def codes(client: httpx.Client, client_id: str, phone: str) -> list[str]:
    answer = client.post(
        VALIDATE, json={"client_id": client_id, "contact_info": phone, "time_zone": "America/New_York"}
    )
    assert answer.status_code == 200, answer.text
    return [reason["code"] for reason in answer.json()["reasons"]]


def account_with(new_account: Callable[[], Account], rules: list[dict[str, Any]]) -> tuple[Account, str]:
    account = new_account()
    assert account.admin.put(COMPLIANCE, json={"attempt_rules": rules}).status_code == 200
    contacts = h.contact_list(account.admin)
    import_file(account.admin, contacts["id"], ROWS)
    return account, contacts["id"]


def test_attempts_per_client_id_count_across_its_devices(new_account: Callable[[], Account]) -> None:
    account, contacts = account_with(new_account, [{"name": "two a day", "max_attempts": 2}])
    admin = account.admin
    assert "attempts_today" not in codes(admin, "C1", "+12125550112")

    first = attempt(admin, rid(contacts, "C1", 1))
    assert first.status_code == 201, first.text
    made = first.json()
    assert made["device"] == "+12125550111" and made["channel"] == "voice" and made["at"]
    assert attempt(admin, rid(contacts, "C1", 1)).status_code == 201
    assert "attempts_today" in codes(admin, "C1", "+12125550112"), "the other device of the same client id"
    assert "attempts_today" not in codes(admin, "C2", "+12125550113")


def test_attempts_per_device_count_across_lists(new_account: Callable[[], Account]) -> None:
    account, _ = account_with(
        new_account, [{"name": "one an hour", "max_attempts": 1, "by": "device", "in_last_hours": 1}]
    )
    other = h.contact_list(account.admin)
    import_file(account.admin, other["id"], "client_id,phone\nX9,(212) 555-0113\n")
    assert attempt(account.admin, rid(other["id"], "X9", 1)).status_code == 201
    reasons = codes(account.admin, "C2", "+12125550113")
    assert "attempts_in_hours" in reasons, reasons
    assert "attempts_in_hours" not in codes(account.admin, "C1", "+12125550111")


def test_a_reported_attempt_is_stored_once(new_account: Callable[[], Account]) -> None:
    account, contacts = account_with(new_account, [{"name": "two a day", "max_attempts": 2}])
    attempt_id = str(uuid.uuid4())
    first = attempt(account.admin, rid(contacts, "C1", 1), attempt_id=attempt_id)
    again = attempt(account.admin, rid(contacts, "C1", 1), attempt_id=attempt_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["attempt_id"] == attempt_id and again.json()["at"] is None
    assert "attempts_today" not in codes(account.admin, "C1", "+12125550112"), "one attempt, not two"


def test_bad_reports_are_refused(new_account: Callable[[], Account], viewer: httpx.Client) -> None:
    account, contacts = account_with(new_account, [])
    h.assert_problem(attempt(account.admin, rid(contacts, "C1", 1), channel="email"), 422, "channel")
    h.assert_problem(attempt(account.admin, rid(contacts, "C1", 1), channel="fax"), 422)
    h.assert_problem(attempt(account.admin, rid(contacts, "NOBODY", 1)), 404, "record_id")
    unknown_group = attempt(account.admin, rid(contacts, "C1", 1), campaign_group_id=str(uuid.uuid4()))
    h.assert_problem(unknown_group, 404, "campaign_group_id")
    h.assert_problem(attempt(viewer, rid(contacts, "C1", 1)), 403)
