"""GET /api/v1/contact-lists/{list_id}/records over HTTP: pages in the list's key order, a
cursor to the next one, selection rules, and the errors.

Records are chain events appended straight to the event store (what an import stores), as
the export tests do.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from dialstream.bootstrap import Runtime
from domain import record_chain
from gateway.routes import contact_lists
from tests.gateway.conftest import Account
from tests.gateway.helpers import LISTS, assert_problem, create, unique
from tests.gateway.test_export import a_chain, store

# Client id -> its phones: 12 records, so pages of 4 end exactly at the list's end.
CHAINS = {
    "C01": ["+13125550101"],
    "C02": ["+13125550102", "+13125550202", "+13125550302"],
    "C03": ["+13125550103"],
    "C04": ["+13125550104", "+13125550204"],
    "C05": ["+13125550105"],
    "C06": ["+13125550106", "+13125550206"],
    "C07": ["+13125550107"],
    "C08": ["+13125550108"],
}
IN_ORDER = [(client_id, n) for client_id, phones in sorted(CHAINS.items()) for n in range(1, len(phones) + 1)]


def records(client: httpx.Client, list_id: UUID | str, **params: Any) -> httpx.Response:
    return client.get(f"{LISTS}/{list_id}/records", params=params)


def page(client: httpx.Client, list_id: UUID | str, **params: Any) -> dict[str, Any]:
    response = records(client, list_id, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"items", "next"}
    return body


def every_page(client: httpx.Client, list_id: UUID | str, **params: Any) -> list[list[tuple[str, int]]]:
    """The keys of each page, following ``next`` until it is null."""
    pages: list[list[tuple[str, int]]] = []
    after = ""
    while True:
        body = page(client, list_id, after=after, **params)
        pages.append([(item["client_id"], item["chain_n"]) for item in body["items"]])
        if body["next"] is None:
            return pages
        after = body["next"]
        assert len(pages) < 100, "the cursor does not move"


@pytest.fixture(scope="module")
def list_id(supervisor: httpx.Client, runtime: Runtime, account_a: Account) -> UUID:
    made = UUID(create(supervisor, LISTS, {"name": unique("Paged")})["id"])
    store(
        runtime,
        [
            a_chain(made, account_a.id, client_id, phones, custom={"balance": str(100 * int(client_id[1:]))})
            for client_id, phones in reversed(CHAINS.items())  # stored out of order on purpose
        ],
    )
    return made


def test_pages_hold_every_record_once_in_key_order(viewer: httpx.Client, list_id: UUID) -> None:
    pages = every_page(viewer, list_id, limit=4)
    assert [len(p) for p in pages] == [4, 4, 4], "a full last page says there is no next one"
    assert [key for p in pages for key in p] == IN_ORDER

    pages = every_page(viewer, list_id, limit=5)
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [key for p in pages for key in p] == IN_ORDER

    whole = page(viewer, list_id)  # 100 by default
    assert [(i["client_id"], i["chain_n"]) for i in whole["items"]] == IN_ORDER and whole["next"] is None


def test_an_item_is_the_records_calling_list_fields(viewer: httpx.Client, list_id: UUID) -> None:
    body = page(viewer, list_id, limit=2)
    first, second = body["items"]
    chain = record_chain.chain_id(list_id, "C01")
    assert first["record_id"] == str(record_chain.record_id(chain, 1)) and first["chain_id"] == str(chain)
    assert (first["contact_info"], first["contact_info_type"], first["record_status"]) == ("+13125550101", 1, 1)
    assert (first["call_result"], first["attempt"], first["call_time"]) == (28, 0, None)
    assert (first["time_zone"], first["time_zone_rule"]) == ("America/Chicago", "device")
    assert first["custom"] == {"balance": "100"} and first["line"] == 2
    assert first["imported_at"] == "2024-05-01T08:30:00Z"
    assert (second["client_id"], second["chain_n"], second["contact_info_type"]) == ("C02", 1, 1)


def test_a_selection_rule_keeps_the_records_it_selects(viewer: httpx.Client, list_id: UUID) -> None:
    rule = "contact_info_type = mobile or custom.balance >= 700"
    selected = [(c, n) for c, n in IN_ORDER if n > 1 or int(c[1:]) >= 7]
    pages = every_page(viewer, list_id, limit=2, selection_rule=rule)
    assert [key for p in pages for key in p] == selected
    assert all(len(p) == 2 for p in pages[:-1])


def test_a_page_stops_reading_at_its_budget(
    viewer: httpx.Client, list_id: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule that selects only the last record: pages read SCAN records at most, so the first
    ones are empty and still say where to go on."""
    monkeypatch.setattr(contact_lists, "SCAN", 5)  # the server runs in this process
    pages = every_page(viewer, list_id, limit=10, selection_rule="client_id = 'C08'")
    assert pages == [[], [], [("C08", 1)]]


def test_a_bad_rule_or_cursor_is_a_422_naming_it(viewer: httpx.Client, list_id: UUID) -> None:
    assert_problem(records(viewer, list_id, selection_rule="call_result = 'busy"), 422, "selection_rule")
    assert_problem(records(viewer, list_id, selection_rule="no_such_field = 1"), 422, "selection_rule")
    for cursor in ("not a cursor!", "bm90IGpzb24", "WzEsMl0"):  # not base64; not JSON; [1, 2]
        assert_problem(records(viewer, list_id, after=cursor), 422, "after")


def test_limit_bounds_are_a_422(viewer: httpx.Client, list_id: UUID) -> None:
    for limit in (0, -1, contact_lists.MAX_LIMIT + 1):
        assert_problem(records(viewer, list_id, limit=limit), 422, "limit")
    assert len(page(viewer, list_id, limit=contact_lists.MAX_LIMIT)["items"]) == len(IN_ORDER)


def test_another_accounts_or_an_unknown_list_is_404(
    viewer: httpx.Client, other_admin: httpx.Client, list_id: UUID
) -> None:
    body = assert_problem(records(other_admin, list_id), 404, "list_id")
    assert body["detail"] == f"contact list {list_id} not found"
    assert_problem(records(viewer, uuid4()), 404, "list_id")


def test_the_route_is_published(base_url: str) -> None:
    spec = httpx.get(f"{base_url}/openapi.json").json()
    operation = spec["paths"]["/api/v1/contact-lists/{list_id}/records"]["get"]
    assert operation["summary"]
    assert {p["name"] for p in operation["parameters"]} == {"list_id", "limit", "after", "selection_rule"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/RecordPage"}
    assert set(spec["components"]["schemas"]["RecordPage"]["properties"]) == {"items", "next"}
