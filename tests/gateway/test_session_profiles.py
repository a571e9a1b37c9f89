"""/api/v1/session-profiles over HTTP: the shared profile contract, written by an admin
(session profiles are part of the Settings page), plus the session settings' own rules."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import helpers as h
from tests.gateway.profile_contract import ProfileContract


class TestSessionProfiles(ProfileContract):
    path = h.SESSION
    settings: ClassVar[dict[str, Any]] = {
        "channel": "sms",
        "agent_group": "Collections",
        "trunk_group": "TG-1",
        "destination_dn": "7001",
        "stat_server": "stat-1",
        "other_servers": ["urs-1", "ixn-1"],
        "ivr_profile": "ivr-main",
        "interaction_queue": "q-sms",
        "options": {
            "campaign_group": {"OCServer": {"pa-dial-timeout": "30"}},
            "contact_list": {},
            "campaign": {"OCS": {"record-type": "general"}},
        },
    }
    changed_settings: ClassVar[dict[str, Any]] = {"channel": "email", "agent_group": "Retention"}

    @pytest.fixture
    def writer(self, admin: httpx.Client) -> httpx.Client:
        return admin

    def pair(self, admin: httpx.Client, made: dict[str, Any]) -> tuple[str, str]:
        return h.dialing_profile(admin)["id"], made["id"]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"channel": "fax"}, "settings.channel"),
        ({"agent_group": "x" * 201}, "settings.agent_group"),
        ({"other_servers": [""]}, "settings.other_servers[0]"),
    ],
)
def test_invalid_session_settings_are_422(
    admin: httpx.Client, runtime: Runtime, settings: dict[str, Any], field: str
) -> None:
    before = runtime.store.position()
    response = admin.post(h.SESSION, json={"name": h.unique("Bad"), "settings": settings})
    h.assert_problem(response, 422, field)
    assert runtime.store.position() == before


def test_wrong_option_value_type_is_422_naming_the_section(admin: httpx.Client, runtime: Runtime) -> None:
    """msgspec does not name dict keys in its paths (it writes ``[...]``), so the field
    names the option section, not the option."""
    before = runtime.store.position()
    settings = {"options": {"campaign": {"OCS": {"timeout": 30}}}}
    response = admin.post(h.SESSION, json={"name": h.unique("Bad"), "settings": settings})
    body = h.assert_problem(response, 422)
    assert body["field"].startswith("settings.options.campaign"), body
    assert runtime.store.position() == before
