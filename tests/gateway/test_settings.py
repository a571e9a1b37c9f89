"""/api/v1/settings over HTTP: the five sections, zones, encryption and OpenPGP public keys.

Public keys are made by the real ``gpg`` binary in a throwaway GNUPGHOME; if gpg is
missing, these tests fail (gpg is a dependency of the product, not an optional extra).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dialstream.bootstrap import Runtime
from tests.gateway import gpg
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

SECTIONS: dict[str, dict[str, Any]] = {
    "general": {
        "account_name": "Acme Collections",
        "caller_id": "+15550100",
        "dap_name": "dap-1",
        "format_name": "fmt-1",
        "disposition_codes": "codes-1",
    },
    "region": {
        "country_code": "GB",
        "time_zone": "Europe/London",
        "locale": "en-GB",
        "reports_time_zone": "Europe/Paris",
    },
    "lists": {
        "default_time_zone": "America/Chicago",
        "default_region": "CA",
        "default_time_zone_on_error": "America/Denver",
        "max_split_lists": 42,
    },
    "security": {
        "minimum_password_length": 12,
        "auto_sign_out_minutes": 0,
        "strict_sign_out": True,
        "encryption": {
            "enabled": False,
            "secure_all_contact_lists": True,
            "secure_all_suppression_lists": True,
            "secure_analytics_reports": True,
        },
    },
    "pacing": {
        "target_abandon_rate": 2.5,
        "abandon_call_definition_seconds": 3,
        "max_attempts_per_minute": {"voice": 50, "sms": 500, "email": 5000},
    },
}
ENCRYPTION_ON = {"encryption": {"enabled": True}}


@pytest.fixture(scope="module")
def ed25519_key(gnupg_home: str) -> str:
    return gpg.generate(gnupg_home, "Edwards <e@example.com>", "ed25519")


@pytest.fixture(scope="module")
def expired_key(gnupg_home: str) -> str:
    """Made on 1 January 2020, valid for a day."""
    return gpg.generate(gnupg_home, "Old <o@example.com>", "rsa3072", "1d", at="20200101T000000")


@pytest.fixture(scope="module")
def expiring_key(gnupg_home: str) -> str:
    return gpg.generate(gnupg_home, "Later <l@example.com>", "rsa3072", "2y")


@pytest.fixture
def account(new_account: Callable[[], Account]) -> Account:
    return new_account()


# Reading and round trips -------------------------------------------------------------------


def test_every_role_reads_the_settings(
    admin: httpx.Client, supervisor: httpx.Client, viewer: httpx.Client
) -> None:
    bodies = [h.get(client, h.SETTINGS) for client in (admin, supervisor, viewer)]
    for response in bodies:
        assert response.headers["ETag"] == f'"{response.json()["version"]}"'
        # compliance and dispositions have their own routes and tests (test_settings_compliance.py,
        # test_settings_dispositions.py).
        assert set(response.json()["settings"]) == set(SECTIONS) | {"compliance", "dispositions"}


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_each_section_round_trips(account: Account, section: str) -> None:
    client = account.admin
    before = h.get(client, h.SETTINGS)
    original = before.json()["settings"]
    response = client.patch(
        h.SETTINGS, json={section: SECTIONS[section]}, headers={"If-Match": before.headers["ETag"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["settings"][section] == SECTIONS[section]
    assert body["version"] == before.json()["version"] + 1
    assert response.headers["ETag"] == f'"{body["version"]}"'
    for other in SECTIONS.keys() - {section}:
        assert body["settings"][other] == original[other], other
    assert h.get(client, h.SETTINGS).json() == body


def test_all_sections_at_once(account: Account) -> None:
    client = account.admin
    response = client.patch(h.SETTINGS, json=SECTIONS)
    assert response.status_code == 200, response.text
    settings = response.json()["settings"]
    assert {section: settings[section] for section in SECTIONS} == SECTIONS
    assert h.get(client, h.SETTINGS).json()["settings"] == settings
    # The same values again change nothing.
    version = response.json()["version"]
    again = client.patch(h.SETTINGS, json=SECTIONS)
    assert again.status_code == 200, again.text
    assert again.json()["version"] == version


def test_partial_sections_take_their_defaults(account: Account) -> None:
    response = account.admin.patch(h.SETTINGS, json={"pacing": {"target_abandon_rate": 1.5}})
    assert response.status_code == 200, response.text
    pacing = response.json()["settings"]["pacing"]
    assert pacing["target_abandon_rate"] == 1.5
    assert pacing["abandon_call_definition_seconds"] == 2


def test_stale_if_match_is_412(account: Account, runtime: Runtime) -> None:
    client = account.admin
    tag = h.etag(client, h.SETTINGS)
    assert (
        client.patch(
            h.SETTINGS, json={"pacing": {"target_abandon_rate": 1}}, headers={"If-Match": tag}
        ).status_code
        == 200
    )
    before = runtime.store.position()
    stale = client.patch(h.SETTINGS, json={"pacing": {"target_abandon_rate": 2}}, headers={"If-Match": tag})
    h.assert_problem(stale, 412, "If-Match")
    assert runtime.store.position() == before
    assert h.get(client, h.SETTINGS).json()["settings"]["pacing"]["target_abandon_rate"] == 1


# Zones and limits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"region": {"time_zone": "Mars/Olympus_Mons"}}, "region.time_zone"),
        ({"region": {"time_zone": "EST5EDT-ish"}}, "region.time_zone"),
        ({"region": {"reports_time_zone": "Atlantis/Capital"}}, "region.reports_time_zone"),
        ({"lists": {"default_time_zone": "America/Gotham"}}, "lists.default_time_zone"),
        ({"lists": {"default_time_zone_on_error": "Nowhere"}}, "lists.default_time_zone_on_error"),
        ({"region": {"time_zone": ""}}, "region.time_zone"),
        ({"region": {"country_code": "gb"}}, "region.country_code"),
        ({"region": {"locale": "English"}}, "region.locale"),
        ({"lists": {"max_split_lists": 0}}, "lists.max_split_lists"),
        ({"security": {"minimum_password_length": 5}}, "security.minimum_password_length"),
        ({"security": {"auto_sign_out_minutes": 1441}}, "security.auto_sign_out_minutes"),
        ({"general": {"account_name": ""}}, "general.account_name"),
        ({"general": {"caller_id": "x"}}, "general.account_name"),
        ({"pacing": {"target_abandon_rate": 0}}, "pacing.target_abandon_rate"),
        ({"pacing": {"target_abandon_rate": 101}}, "pacing.target_abandon_rate"),
        ({"pacing": {"abandon_call_definition_seconds": 0}}, "pacing.abandon_call_definition_seconds"),
        ({"pacing": {"abandon_call_definition_seconds": 61}}, "pacing.abandon_call_definition_seconds"),
        ({"pacing": {"max_attempts_per_minute": {"sms": 0}}}, "pacing.max_attempts_per_minute.sms"),
    ],
)
def test_invalid_values_are_422_and_change_nothing(
    account: Account, runtime: Runtime, patch: dict[str, Any], field: str
) -> None:
    client = account.admin
    settings = h.get(client, h.SETTINGS).json()
    before = runtime.store.position()
    # A valid section alongside the bad one must not be half-applied.
    body = patch if "general" in patch else {"general": SECTIONS["general"], **patch}
    response = client.patch(h.SETTINGS, json=body)
    h.assert_problem(response, 422, field)
    assert runtime.store.position() == before
    assert h.get(client, h.SETTINGS).json() == settings


def test_supervisor_and_viewer_cannot_change_settings(
    supervisor: httpx.Client, viewer: httpx.Client, admin: httpx.Client, runtime: Runtime
) -> None:
    settings = h.get(admin, h.SETTINGS).json()
    before = runtime.store.position()
    for client in (supervisor, viewer):
        h.assert_problem(client.patch(h.SETTINGS, json={"pacing": {"target_abandon_rate": 1}}), 403)
    assert runtime.store.position() == before
    assert h.get(admin, h.SETTINGS).json() == settings


# Encryption and public keys ------------------------------------------------------------------


def test_encryption_needs_a_public_key(account: Account, runtime: Runtime) -> None:
    before = runtime.store.position()
    response = account.admin.patch(h.SETTINGS, json={"security": ENCRYPTION_ON})
    h.assert_problem(response, 422, "security.encryption.enabled")
    assert runtime.store.position() == before
    assert h.get(account.admin, h.SETTINGS).json()["settings"]["security"]["encryption"]["enabled"] is False


def test_import_a_key_then_enable_encryption(account: Account, rsa_key: str, runtime: Runtime) -> None:
    client = account.admin
    response = client.post(h.PUBLIC_KEYS, json={"user_id": " t@example.com ", "armored": rsa_key})
    assert response.status_code == 201, response.text
    key = response.json()
    assert key["algorithm"] == "rsa3072"
    assert key["key_type"] == "OpenPGP"
    assert key["user_id"] == "t@example.com"
    assert key["expires_at"] is None
    assert len(key["fingerprint"]) == 40 and key["fingerprint"] == key["fingerprint"].upper()
    assert key["armored"] == rsa_key.strip()
    listed = h.get(client, h.PUBLIC_KEYS).json()
    assert [k["fingerprint"] for k in listed] == [key["fingerprint"]]
    assert h.get(client, h.SETTINGS).json()["public_keys"] == listed

    # The same key twice is refused.
    before = runtime.store.position()
    again = client.post(h.PUBLIC_KEYS, json={"user_id": "t@example.com", "armored": rsa_key})
    h.assert_problem(again, 422, "armored")
    assert runtime.store.position() == before

    response = client.patch(h.SETTINGS, json={"security": ENCRYPTION_ON})
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["security"]["encryption"]["enabled"] is True

    # The last key cannot go while encryption is on.
    fingerprint = key["fingerprint"]
    h.assert_problem(client.delete(f"{h.PUBLIC_KEYS}/{fingerprint}"), 422, "fingerprint")
    assert len(h.get(client, h.PUBLIC_KEYS).json()) == 1
    assert client.patch(h.SETTINGS, json={"security": {}}).status_code == 200
    response = client.delete(f"{h.PUBLIC_KEYS}/{fingerprint.lower()}")
    assert response.status_code == 204, response.text
    assert h.get(client, h.PUBLIC_KEYS).json() == []
    h.assert_problem(client.delete(f"{h.PUBLIC_KEYS}/{fingerprint}"), 404, "fingerprint")


def test_not_a_key_is_422_naming_armored(account: Account, runtime: Runtime) -> None:
    before = runtime.store.position()
    for armored in (
        "hello",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\ngarbage\n-----END PGP PUBLIC KEY BLOCK-----\n",
    ):
        response = account.admin.post(h.PUBLIC_KEYS, json={"user_id": "t@example.com", "armored": armored})
        h.assert_problem(response, 422, "armored")
    assert runtime.store.position() == before
    assert h.get(account.admin, h.PUBLIC_KEYS).json() == []


def test_key_needs_a_user_id(account: Account, rsa_key: str) -> None:
    response = account.admin.post(h.PUBLIC_KEYS, json={"user_id": "  ", "armored": rsa_key})
    h.assert_problem(response, 422, "user_id")
    response = account.admin.post(h.PUBLIC_KEYS, json={"armored": rsa_key})
    h.assert_problem(response, 422, "user_id")


def test_only_rsa_3072_or_4096_keys_are_accepted(
    account: Account, ed25519_key: str, runtime: Runtime
) -> None:
    before = runtime.store.position()
    response = account.admin.post(h.PUBLIC_KEYS, json={"user_id": "e@example.com", "armored": ed25519_key})
    h.assert_problem(response, 422, "armored")
    assert runtime.store.position() == before


def test_only_admins_manage_public_keys(
    supervisor: httpx.Client, viewer: httpx.Client, rsa_key: str, runtime: Runtime
) -> None:
    before = runtime.store.position()
    for client in (supervisor, viewer):
        h.get(client, h.PUBLIC_KEYS)
        response = client.post(h.PUBLIC_KEYS, json={"user_id": "t@example.com", "armored": rsa_key})
        h.assert_problem(response, 403)
        h.assert_problem(client.delete(f"{h.PUBLIC_KEYS}/ABCDEF0123456789"), 403)
    assert runtime.store.position() == before


def test_an_expired_key_is_422(account: Account, expired_key: str, runtime: Runtime) -> None:
    before = runtime.store.position()
    response = account.admin.post(h.PUBLIC_KEYS, json={"user_id": "o@example.com", "armored": expired_key})
    h.assert_problem(response, 422, "armored")
    assert runtime.store.position() == before


def test_a_key_that_expires_later_keeps_its_expiry(account: Account, expiring_key: str) -> None:
    response = account.admin.post(h.PUBLIC_KEYS, json={"user_id": "l@example.com", "armored": expiring_key})
    assert response.status_code == 201, response.text
    expires_at = response.json()["expires_at"]
    assert expires_at is not None and expires_at > response.json()["uploaded_at"]


def test_two_keys_in_one_block_are_422(
    account: Account, gnupg_home: str, rsa_key: str, expiring_key: str
) -> None:
    both = gpg.export(gnupg_home, "t@example.com", "l@example.com")
    response = account.admin.post(h.PUBLIC_KEYS, json={"user_id": "t@example.com", "armored": both})
    h.assert_problem(response, 422, "armored")
    assert h.get(account.admin, h.PUBLIC_KEYS).json() == []


def test_a_short_fingerprint_is_422(account: Account) -> None:
    h.assert_problem(account.admin.delete(f"{h.PUBLIC_KEYS}/ABC"), 422, "fingerprint")


def test_a_blank_account_name_is_422(account: Account, runtime: Runtime) -> None:
    """Account names obey the name rules when an account is opened; the settings page too."""
    before = runtime.store.position()
    response = account.admin.patch(h.SETTINGS, json={"general": {"account_name": "   "}})
    h.assert_problem(response, 422, "general.account_name")
    assert runtime.store.position() == before


def test_the_account_name_is_cleaned_like_every_name(account: Account) -> None:
    response = account.admin.patch(h.SETTINGS, json={"general": {"account_name": "  Acme   Corp "}})
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["general"]["account_name"] == "Acme Corp"
