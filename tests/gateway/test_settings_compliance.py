"""/api/v1/settings/compliance over HTTP: calling hours per weekday and region, holidays and
blocked dates, quiet hours after an abandoned call, attempt rules; errors name the field,
relative to the body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

COMPLIANCE = f"{h.SETTINGS}/compliance"
DEFAULT = {
    "default": {
        "hours": {"daily": {"opens": "08:00", "closes": "21:00"}, "weekdays": {}},
        "holidays": [],
        "blocked_dates": [],
        "abandoned_quiet_hours": None,
    },
    "regions": {},
    "attempt_rules": [],
}
FLORIDA = {
    "default": {
        "hours": {"daily": {"opens": "08:00", "closes": "21:00"}, "weekdays": {"sunday": None}},
        "holidays": ["2026-01-01", "2026-12-25"],
        "blocked_dates": [],
        "abandoned_quiet_hours": None,
    },
    "regions": {
        "US-FL": {
            "hours": {"daily": {"opens": "08:00", "closes": "20:00"}, "weekdays": {}},
            "holidays": [],
            "blocked_dates": ["2026-07-03"],
            "abandoned_quiet_hours": None,
        },
        # The UK rule: no repeat call within 72 h of an abandoned call without an agent reserved.
        "GB": {"hours": None, "holidays": ["2026-12-26"], "blocked_dates": [], "abandoned_quiet_hours": 72},
    },
    "attempt_rules": [
        {
            "name": "three a day",
            "max_attempts": 3,
            "by": "both",
            "in_last_hours": None,
            "required": True,
            "campaign_groups": [],
        },
        {
            "name": "one in 72 h",
            "max_attempts": 1,
            "by": "device",
            "in_last_hours": 72,
            "required": False,
            "campaign_groups": ["Collections"],
        },
    ],
}


@pytest.fixture
def account(new_account: Callable[[], Account]) -> Account:
    return new_account()


def test_a_new_account_has_the_standard_hours(account: Account) -> None:
    response = h.get(account.admin, COMPLIANCE)
    assert response.json() == DEFAULT
    settings = h.get(account.admin, h.SETTINGS)
    assert response.headers["ETag"] == settings.headers["ETag"]
    assert settings.json()["settings"]["compliance"] == DEFAULT


def test_put_replaces_and_round_trips(account: Account) -> None:
    client = account.admin
    tag = h.etag(client, COMPLIANCE)
    response = client.put(COMPLIANCE, json=FLORIDA, headers={"If-Match": tag})
    assert response.status_code == 200, response.text
    assert response.json() == FLORIDA
    version = int(tag.strip('"')) + 1
    assert response.headers["ETag"] == f'"{version}"'
    assert h.get(client, COMPLIANCE).json() == FLORIDA
    page = h.get(client, h.SETTINGS).json()
    assert page["settings"]["compliance"] == FLORIDA
    assert page["version"] == version

    # The same settings again change nothing; a stale If-Match is refused.
    again = client.put(COMPLIANCE, json=FLORIDA)
    assert again.status_code == 200 and again.headers["ETag"] == f'"{version}"'
    h.assert_problem(client.put(COMPLIANCE, json=DEFAULT, headers={"If-Match": tag}), 412, "If-Match")
    assert h.get(client, COMPLIANCE).json() == FLORIDA


def test_fields_left_out_take_their_defaults_and_names_are_normalised(account: Account) -> None:
    body = {
        "default": {"hours": {"weekdays": {"Sun": None, "sat": {"opens": "10:00", "closes": "16:00"}}}},
        "regions": {"GB": {"holidays": ["2026-12-26", "2026-12-25", "2026-12-26"]}},
        "attempt_rules": [{"name": " two a day ", "max_attempts": 2}],
    }
    response = account.admin.put(COMPLIANCE, json=body)
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["default"]["hours"] == {
        "daily": {"opens": "08:00", "closes": "21:00"},
        "weekdays": {"sunday": None, "saturday": {"opens": "10:00", "closes": "16:00"}},
    }
    assert stored["regions"]["GB"] == {
        "hours": None, "holidays": ["2026-12-25", "2026-12-26"], "blocked_dates": [], "abandoned_quiet_hours": None,
    }
    assert stored["attempt_rules"] == [
        {"name": "two a day", "max_attempts": 2, "by": "client_id", "in_last_hours": None,
         "required": True, "campaign_groups": []},
    ]
    assert account.admin.put(COMPLIANCE, json={}).json() == DEFAULT


def hours(opens: str, closes: str) -> dict[str, Any]:
    return {"daily": {"opens": opens, "closes": closes}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"default": {"hours": hours("21:00", "08:00")}}, "default.hours.daily"),
        ({"default": {"hours": hours("08:00", "25:00")}}, "default.hours.daily"),
        ({"default": {"hours": hours("8am", "21:00")}}, "default.hours.daily.opens"),
        ({"default": {"hours": {"weekdays": {"funday": None}}}}, "default.hours.weekdays.funday"),
        ({"default": {"hours": {"weekdays": {"saturday": {"opens": "12:00", "closes": "11:00"}}}}},
         "default.hours.weekdays.saturday"),
        ({"default": {"holidays": ["2026-02-30"]}}, "default.holidays[0]"),
        ({"default": {"blocked_dates": ["tomorrow"]}}, "default.blocked_dates[0]"),
        ({"regions": {"florida": {}}}, "regions.florida"),
        ({"regions": {"US-FL": {"hours": hours("20:00", "20:00")}}}, "regions.US-FL.hours.daily"),
        ({"default": {"abandoned_quiet_hours": 0}}, "default.abandoned_quiet_hours"),
        ({"default": {"abandoned_quiet_hours": "72"}}, "default.abandoned_quiet_hours"),
        # The decoder's own bounds (1–720); it does not name a dict's key ("GB") in its path.
        ({"regions": {"GB": {"abandoned_quiet_hours": 721}}}, "regions[...].abandoned_quiet_hours"),
        ({"attempt_rules": [{"name": "x", "max_attempts": 0}]}, "attempt_rules[0].max_attempts"),
        ({"attempt_rules": [{"name": "x", "max_attempts": 1, "by": "household"}]}, "attempt_rules[0].by"),
        ({"attempt_rules": [{"name": "x", "max_attempts": 1, "campaign_groups": ["g"]}]},
         "attempt_rules[0].campaign_groups"),
        ({"attempt_rules": [{"name": "x", "max_attempts": 1}, {"name": "x", "max_attempts": 2}]},
         "attempt_rules[1].name"),
        ({"calling_hours": {}}, "calling_hours"),
    ],
)
def test_bad_settings_are_422_naming_the_field_and_change_nothing(
    account: Account, runtime: Runtime, body: dict[str, Any], field: str
) -> None:
    client = account.admin
    before_settings = h.get(client, COMPLIANCE).json()
    before = runtime.store.position()
    h.assert_problem(client.put(COMPLIANCE, json=body), 422, field)
    assert runtime.store.position() == before
    assert h.get(client, COMPLIANCE).json() == before_settings


def test_only_admins_change_compliance_settings(
    supervisor: httpx.Client, viewer: httpx.Client, admin: httpx.Client, runtime: Runtime
) -> None:
    before = runtime.store.position()
    for client in (supervisor, viewer):
        assert h.get(client, COMPLIANCE).status_code == 200
        h.assert_problem(client.put(COMPLIANCE, json=FLORIDA), 403)
    assert runtime.store.position() == before


def test_each_account_has_its_own_settings(account: Account, admin: httpx.Client) -> None:
    theirs = h.get(admin, COMPLIANCE).json()
    assert account.admin.put(COMPLIANCE, json=FLORIDA).status_code == 200
    assert h.get(account.admin, COMPLIANCE).json() == FLORIDA
    assert h.get(admin, COMPLIANCE).json() == theirs


def test_quiet_hours_after_an_abandoned_call_per_region(account: Account) -> None:
    client = account.admin
    body = {
        "default": {"abandoned_quiet_hours": 24},
        "regions": {"GB": {"abandoned_quiet_hours": 72}, "US": {"abandoned_quiet_hours": 1}},
    }
    response = client.put(COMPLIANCE, json=body)
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["default"]["abandoned_quiet_hours"] == 24
    assert {key: region["abandoned_quiet_hours"] for key, region in stored["regions"].items()} == {"GB": 72, "US": 1}
    assert h.get(client, COMPLIANCE).json() == stored
    # Replaced as a whole: left out, it is null again (no rule).
    cleared = client.put(COMPLIANCE, json={"regions": {"GB": {}}}).json()
    assert cleared["default"]["abandoned_quiet_hours"] is None
    assert cleared["regions"]["GB"]["abandoned_quiet_hours"] is None


def test_the_setting_is_documented(base_url: str) -> None:
    spec = httpx.get(f"{base_url}/openapi.json").json()
    region = spec["components"]["schemas"]["RegionCompliance"]["properties"]["abandoned_quiet_hours"]
    number = next(option for option in region["anyOf"] if option.get("type") == "integer")
    assert (number["minimum"], number["maximum"]) == (1, 720)
    assert "72" in number["description"]
