"""POST /api/v1/compliance/validate over HTTP: one request or a batch, verdicts with their
reasons, 422 naming the field of a malformed request, 503 without a validator, and failing
closed when the suppression index does not answer.

The runtime's validator is wired elsewhere; here each test puts its own on the running
server's runtime: the embedded suppression index and fake ``lists`` / ``settings`` ports.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from dialstream.bootstrap import Runtime
from processors.compliance.predial import PreDialValidator
from processors.suppression.embedded_index import EmbeddedSuppressionIndex
from processors.suppression.index import IndexUnavailable, Matches, SuppressionEntry, SuppressionQuery
from schemas.settings import ComplianceSettings, RegionCompliance
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

VALIDATE = "/api/v1/compliance/validate"
NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)  # Tuesday 11:00 EDT
DNC = UUID("00000000-0000-4000-8000-0000000000d1")
SMS_DNC = UUID("00000000-0000-4000-8000-0000000000d2")
SUPPRESSED = "+12125550100"
CLEAN = "+12125550199"
PHONE_ENTRY = uuid.uuid5(DNC, f"phone:{SUPPRESSED}")
CLIENT_ENTRY = uuid.uuid5(DNC, "client_id:CUST-7")


class CountingIndex(EmbeddedSuppressionIndex):
    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def lookup(self, queries: Sequence[SuppressionQuery], list_ids: Collection[UUID]) -> Matches:
        self.lookups += 1
        return super().lookup(queries, list_ids)


class DownIndex(EmbeddedSuppressionIndex):
    def lookup(self, queries: Sequence[SuppressionQuery], list_ids: Collection[UUID]) -> Matches:
        raise IndexUnavailable("Redis at 127.0.0.1:6390 is unreachable: Connection refused")


def build(index: EmbeddedSuppressionIndex, account_id: UUID) -> PreDialValidator:
    index.clear()
    index.add([
        SuppressionEntry(DNC, "voice", "phone", SUPPRESSED, PHONE_ENTRY),
        SuppressionEntry(DNC, "voice", "client_id", "CUST-7", CLIENT_ENTRY),
        SuppressionEntry(SMS_DNC, "sms", "phone", CLEAN, uuid.uuid4()),
    ])

    def lists(account: UUID, channel: str, group: UUID | None) -> list[UUID]:
        if account != account_id:
            return []
        return {"voice": [DNC], "sms": [SMS_DNC]}.get(channel, [])

    def settings(account: UUID) -> ComplianceSettings:
        return ComplianceSettings(regions={"GB": RegionCompliance(holidays=(NOW.date(),))})

    return PreDialValidator(index, lists, settings, None, lambda: NOW)


@pytest.fixture
def index() -> CountingIndex:
    return CountingIndex()


@pytest.fixture
def validator(
    runtime: Runtime, account_a: Account, index: CountingIndex, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PreDialValidator]:
    built = build(index, account_a.id)
    monkeypatch.setattr(runtime, "predial", built, raising=False)
    yield built


def one(**fields: Any) -> dict[str, Any]:
    return {
        "channel": "voice",
        "client_id": "CUST-1",
        "contact_info": CLEAN,
        "contact_info_type": 1,
        "time_zone": "America/New_York",
        "country": "US",
        "state": "NY",
        **fields,
    }


def test_one_request_allowed(supervisor: httpx.Client, validator: PreDialValidator) -> None:
    response = supervisor.post(VALIDATE, json=one())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"allowed": True, "reasons": [], "next_allowed": None}


def test_one_request_suppressed_names_the_list_and_entry(admin: httpx.Client, validator: PreDialValidator) -> None:
    response = admin.post(VALIDATE, json=one(contact_info=SUPPRESSED, client_id="CUST-7"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["allowed"] is False
    assert body["next_allowed"] is None
    assert [(r["code"], r["list_id"], r["entry_id"], r["kind"]) for r in body["reasons"]] == [
        ("suppressed", str(DNC), str(CLIENT_ENTRY), "client_id"),
        ("suppressed", str(DNC), str(PHONE_ENTRY), "phone"),
    ]
    assert all(set(r) == {"code", "text", "list_id", "entry_id", "kind"} for r in body["reasons"])


def test_a_batch_is_answered_in_order_with_one_lookup(
    supervisor: httpx.Client, validator: PreDialValidator, index: CountingIndex, account_a: Account
) -> None:
    later = NOW + timedelta(hours=2)
    requests = [
        one(),
        one(contact_info=SUPPRESSED),
        one(channel="sms", contact_info=CLEAN, contact_info_type=4),
        one(time_zone="Europe/London", country="GB", state=""),
        one(record_type=5, dial_sched_time=int(later.timestamp())),
        one(record_type=7),
        one(account_id=str(account_a.id)),
    ]
    response = supervisor.post(VALIDATE, json={"requests": requests})
    assert response.status_code == 200, response.text
    verdicts = response.json()["verdicts"]
    assert index.lookups == 1
    assert [[r["code"] for r in v["reasons"]] for v in verdicts] == [
        [],
        ["suppressed"],
        ["suppressed"],
        ["holiday"],
        ["scheduled_later"],
        ["record_type_not_dialable"],
        [],
    ]
    assert [v["allowed"] for v in verdicts] == [True, False, False, False, False, False, True]
    assert verdicts[3]["reasons"][0]["zone"] == "Europe/London"
    assert verdicts[3]["reasons"][0]["region"] == "GB"
    assert verdicts[3]["next_allowed"] == "2026-03-11T08:00:00Z"
    assert verdicts[4]["next_allowed"] == "2026-03-10T17:00:00Z"
    assert verdicts[4]["reasons"][0]["until"] == "2026-03-10T17:00:00Z"
    assert verdicts[5]["next_allowed"] is None
    assert validator.counters() == {
        "predial_total": 7, "predial_denied_total": 5, "predial_index_unavailable_total": 0,
    }


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"contact_info": "212-555-0100"}, "contact_info"),
        ({"contact_info": "+0123"}, "contact_info"),
        ({"channel": "fax"}, "channel"),
        ({"channel": "email", "contact_info_type": 10}, "contact_info"),
        ({"channel": "email", "contact_info": "a@b.example", "contact_info_type": 4}, "contact_info_type"),
        ({"contact_info_type": 10}, "contact_info_type"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"second_time_zone": "Atlantis/Capital"}, "second_time_zone"),
        ({"record_type": 8}, "record_type"),
        ({"daily_from": 90_000}, "daily_from"),
        ({"dial_sched_time": "tomorrow"}, "dial_sched_time"),
        ({"colour": "blue"}, "colour"),
        ({"contact_info": None}, "contact_info"),
    ],
)
def test_a_malformed_request_is_422_naming_the_field(
    supervisor: httpx.Client, validator: PreDialValidator, request_fields: dict[str, Any], field: str
) -> None:
    h.assert_problem(supervisor.post(VALIDATE, json=one(**request_fields)), 422, field)
    batch = {"requests": [one(), one(**request_fields)]}
    h.assert_problem(supervisor.post(VALIDATE, json=batch), 422, f"requests[1].{field}")
    assert validator.predial_total.value == 0  # nothing was judged


def test_a_missing_field_is_422(supervisor: httpx.Client, validator: PreDialValidator) -> None:
    body = one()
    del body["contact_info"]
    h.assert_problem(supervisor.post(VALIDATE, json=body), 422, "contact_info")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"requests": []}, 422, "requests"),
        ({"requests": [one()] * 1001}, 422, "requests"),
        ({"requests": "all"}, 422, "requests"),
        ([one()], 422, None),
    ],
)
def test_bad_batches(
    supervisor: httpx.Client, validator: PreDialValidator, body: Any, status: int, field: str | None
) -> None:
    h.assert_problem(supervisor.post(VALIDATE, json=body), status, field)


def test_not_json(supervisor: httpx.Client, validator: PreDialValidator) -> None:
    headers = {"content-type": "application/json"}
    h.assert_problem(supervisor.post(VALIDATE, content=b"{not json", headers=headers), 400)
    h.assert_problem(supervisor.post(VALIDATE, content=b"x", headers={"content-type": "text/plain"}), 415)


def test_another_accounts_records_are_refused(
    supervisor: httpx.Client, validator: PreDialValidator, account_b: Account
) -> None:
    response = supervisor.post(VALIDATE, json={"requests": [one(account_id=str(account_b.id))]})
    h.assert_problem(response, 403, "requests[0].account_id")


def test_a_viewer_may_not_validate(viewer: httpx.Client, validator: PreDialValidator) -> None:
    h.assert_problem(viewer.post(VALIDATE, json=one()), 403)
    h.assert_problem(httpx.post(f"{str(viewer.base_url).rstrip('/')}{VALIDATE}", json=one()), 401)


def test_without_a_validator_the_answer_is_503(
    supervisor: httpx.Client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "predial", None, raising=False)
    problem = h.assert_problem(supervisor.post(VALIDATE, json=one()), 503)
    assert "no call" in problem["detail"]


def test_an_index_down_denies_every_request(
    supervisor: httpx.Client, runtime: Runtime, account_a: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = build(DownIndex(), account_a.id)
    monkeypatch.setattr(runtime, "predial", down, raising=False)
    response = supervisor.post(VALIDATE, json={"requests": [one(), one(contact_info=SUPPRESSED), one()]})
    assert response.status_code == 200, response.text
    verdicts = response.json()["verdicts"]
    assert [v["allowed"] for v in verdicts] == [False, False, False]
    for verdict in verdicts:
        assert verdict["reasons"][0]["code"] == "index_unavailable"
        assert "unreachable" in verdict["reasons"][0]["text"]
        assert verdict["next_allowed"] is None
    assert down.predial_index_unavailable_total.value == 3


def test_the_route_is_documented(base_url: str) -> None:
    spec = httpx.get(f"{base_url}/openapi.json").json()
    operation = spec["paths"][VALIDATE]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in body} == {"PreDialRequest", "ValidateBatch"}
    assert {"PreDialRequest", "ValidateBatch", "Verdict", "VerdictBatch", "Reason"} <= set(
        spec["components"]["schemas"]
    )
    reserved = spec["components"]["schemas"]["PreDialRequest"]["properties"]["agent_reserved"]
    assert reserved == {"type": "boolean", "default": False}
    assert "abandoned_recently" in spec["components"]["schemas"]["Reason"]["properties"]["code"]["enum"]
    compliance = spec["paths"]["/api/v1/settings/compliance"]
    assert {"get", "put"} <= set(compliance)


# --- an abandoned call -----------------------------------------------------------------------

GB_NUMBER = "+441632960143"


@pytest.fixture
def quiet(
    runtime: Runtime, account_a: Account, index: CountingIndex, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[list[str]]]:
    """The GB rule (72 h), and GB_NUMBER's call abandoned an hour before NOW; what the
    abandoned-calls port was asked."""
    asked: list[list[str]] = []

    def abandoned(account: UUID, devices: Sequence[str], after: datetime) -> dict[str, datetime]:
        asked.append(list(devices))
        return {GB_NUMBER: NOW - timedelta(hours=1)} if account == account_a.id and GB_NUMBER in devices else {}

    def settings(account: UUID) -> ComplianceSettings:
        return ComplianceSettings(regions={"GB": RegionCompliance(abandoned_quiet_hours=72)})

    index.clear()
    index.add([])
    built = PreDialValidator(index, lambda *_: [], settings, None, lambda: NOW, abandoned=abandoned)
    monkeypatch.setattr(runtime, "predial", built, raising=False)
    yield asked


def gb(**fields: Any) -> dict[str, Any]:
    return one(contact_info=GB_NUMBER, time_zone="Europe/London", country="GB", state="", **fields)


def test_agent_reserved_is_accepted_like_the_other_fields(
    supervisor: httpx.Client, quiet: list[list[str]]
) -> None:
    denied = supervisor.post(VALIDATE, json=gb())
    assert denied.status_code == 200, denied.text
    body = denied.json()
    assert body["allowed"] is False
    assert body["next_allowed"] == "2026-03-13T14:00:00Z"
    assert [(r["code"], r["region"], r["until"]) for r in body["reasons"]] == [
        ("abandoned_recently", "GB", "2026-03-13T14:00:00Z")
    ]
    assert "abandoned at 2026-03-10 14:00:00 UTC" in body["reasons"][0]["text"]

    reserved = supervisor.post(VALIDATE, json=gb(agent_reserved=True))
    assert reserved.status_code == 200, reserved.text
    assert reserved.json() == {"allowed": True, "reasons": [], "next_allowed": None}

    batch = supervisor.post(VALIDATE, json={"requests": [gb(agent_reserved=True), gb(agent_reserved=False)]})
    assert [v["allowed"] for v in batch.json()["verdicts"]] == [True, False]
    assert quiet == [[GB_NUMBER], [GB_NUMBER]]  # asked once per batch, never for the reserved call


def test_agent_reserved_must_be_a_boolean(supervisor: httpx.Client, quiet: list[list[str]]) -> None:
    h.assert_problem(supervisor.post(VALIDATE, json=gb(agent_reserved="yes")), 422, "agent_reserved")
    h.assert_problem(
        supervisor.post(VALIDATE, json={"requests": [gb(), gb(agent_reserved=1)]}), 422, "requests[1].agent_reserved"
    )
    assert quiet == []
