"""/api/v1/settings/dispositions over HTTP: the disposition codes catalogue, and an agent's
wrap-up giving one of its codes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.gateway import helpers as h
from tests.gateway.conftest import Account

DISPOSITIONS = f"{h.SETTINGS}/dispositions"
CATALOGUE = {
    "object_name": "Disposition Codes",
    "codes": [
        {"code": "SALE", "label": "Sale", "final": True, "do_not_call": None},
        {"code": "CALLBACK", "label": "Call back later", "final": False, "do_not_call": None},
        {"code": "DNC", "label": "Do not call", "final": True, "do_not_call": "device"},
    ],
}


@pytest.fixture
def account(new_account: Callable[[], Account]) -> Account:
    return new_account()


def test_a_new_account_has_none_and_put_replaces_and_round_trips(account: Account) -> None:
    client = account.admin
    assert h.get(client, DISPOSITIONS).json() == {"object_name": "Disposition Codes", "codes": []}
    tag = h.etag(client, DISPOSITIONS)
    response = client.put(DISPOSITIONS, json=CATALOGUE, headers={"If-Match": tag})
    assert response.status_code == 200, response.text
    assert response.json() == CATALOGUE
    assert h.get(client, h.SETTINGS).json()["settings"]["dispositions"] == CATALOGUE
    h.assert_problem(client.put(DISPOSITIONS, json={"codes": []}, headers={"If-Match": tag}), 412, "If-Match")


@pytest.mark.parametrize(
    ("codes", "field"),
    [
        ([{"code": "SALE", "label": "a"}, {"code": "sale", "label": "b"}], "codes[1].code"),
        ([{"code": "two words", "label": "a"}], "codes[0].code"),
        ([{"code": "X", "label": "a", "do_not_call": "everyone"}], "codes[0].do_not_call"),
        ([{"code": "X"}], "codes[0].label"),
    ],
)
def test_a_bad_catalogue_is_refused_naming_the_field(account: Account, codes: list[dict[str, object]], field: str) -> None:
    problem = h.assert_problem(account.admin.put(DISPOSITIONS, json={"codes": codes}), 422, field)
    assert problem["detail"]
    assert h.get(account.admin, DISPOSITIONS).json()["codes"] == []


def test_an_agent_in_wrap_up_cannot_give_an_unknown_code(account: Account) -> None:
    client = account.admin
    assert client.put(DISPOSITIONS, json=CATALOGUE).status_code == 200
    assert client.post("/api/v1/agents/amy/login", json={"agent_group": "Sales"}).status_code == 200
    response = client.post("/api/v1/agents/amy/wrap-up/finish", json={"then": "ready", "disposition_code": "MAYBE"})
    problem = h.assert_problem(response, 422, "disposition_code")
    assert "SALE, CALLBACK, DNC" in problem["detail"]
