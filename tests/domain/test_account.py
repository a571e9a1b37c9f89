"""Account: settings page sections, public keys, API keys, default profiles, its own key pairs."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from domain import account
from domain.errors import NotFound, RuleViolation
from schemas.settings import (
    AccountOpened,
    AccountSettings,
    ApiKeyIssued,
    ApiKeyRevoked,
    DefaultDialingProfileChosen,
    DefaultSessionProfileChosen,
    EncryptionSettings,
    GeneralSettings,
    GeneralSettingsChanged,
    ListSettings,
    ListSettingsChanged,
    MaxAttemptsPerMinute,
    PacingSettings,
    PacingSettingsChanged,
    PublicKeyImported,
    PublicKeyRemoved,
    RegionSettings,
    RegionSettingsChanged,
    SecuritySettings,
    SecuritySettingsChanged,
    SystemPgpKeyGenerated,
    SystemSshKeyGenerated,
)
from tests.domain.builders import (
    ACCOUNT_ID,
    ACCOUNT_NAME,
    DIALING_ID,
    EARLIER,
    KEY_2_ID,
    KEY_3_ID,
    KEY_ID,
    NOW,
    OTHER_DIALING_ID,
    OTHER_SESSION_ID,
    SESSION_ID,
    account_history,
    an_account,
    assert_events,
    ev,
    expected,
    given,
    public_key,
    refused,
    stream,
)

ENCRYPTED = SecuritySettings(encryption=EncryptionSettings(enabled=True, secure_all_contact_lists=True))
OTHER_KEY = public_key("1111 2222 3333 4444 5555  6666 7777 8888 9999 0000", algorithm="rsa3072")


# Opening ------------------------------------------------------------------------------


def test_opening_an_account_records_its_name_and_default_settings():
    events = account.open_account(ACCOUNT_ID, account.OpenAccount(name="  Acme Collections "), now=NOW)

    assert_events(
        events,
        [
            expected(
                ACCOUNT_ID, 1, AccountOpened,
                settings=AccountSettings(general=GeneralSettings(account_name="Acme Collections")),
            )
        ],
    )


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_an_account_needs_a_name(name):
    with refused(RuleViolation, "name"):
        account.open_account(ACCOUNT_ID, account.OpenAccount(name=name), now=NOW)


def test_an_account_name_longer_than_the_contract_allows_is_refused():
    # GeneralSettings.account_name is at most 200 characters on the wire; an event that
    # breaks that could be stored but never decoded again, leaving the account unloadable.
    with refused(RuleViolation, "name"):
        account.open_account(ACCOUNT_ID, account.OpenAccount(name="A" * 201), now=NOW)


def test_an_account_name_of_exactly_200_characters_is_accepted():
    events = account.open_account(ACCOUNT_ID, account.OpenAccount(name="A" * 200), now=NOW)

    assert_events(
        events,
        [
            expected(
                ACCOUNT_ID, 1, AccountOpened,
                settings=AccountSettings(general=GeneralSettings(account_name="A" * 200)),
            )
        ],
    )


# Folding ------------------------------------------------------------------------------


def test_no_events_fold_to_no_account():
    assert given(account.project, []) is None


def test_events_before_the_opening_are_ignored():
    (stray,) = stream(ACCOUNT_ID, ev(PublicKeyRemoved, fingerprint="X"))
    assert given(account.project, [stray]) is None


def test_an_opened_account_folds_to_its_settings_and_nothing_else():
    state = an_account()

    assert state == account.Account(
        id=ACCOUNT_ID,
        version=1,
        account_id=ACCOUNT_ID,
        created_on=EARLIER,
        modified_on=EARLIER,
        settings=AccountSettings(general=GeneralSettings(account_name=ACCOUNT_NAME)),
    )


def test_folding_keys_api_keys_and_defaults():
    state = an_account(
        keys=[public_key(), OTHER_KEY],
        encryption=True,
        api_keys=[(KEY_ID, "admin", False), (KEY_2_ID, "viewer", True)],
        default_dialing=DIALING_ID,
        default_session=SESSION_ID,
    )

    assert state.version == 9
    assert state.public_keys == (public_key(), OTHER_KEY)
    assert state.settings.security.encryption.enabled is True
    assert state.api_keys == (
        account.ApiKey(key_id=KEY_ID, name="admin key", role="admin", prefix="dsk_AbCd"),
        account.ApiKey(key_id=KEY_2_ID, name="viewer key", role="viewer", prefix="dsk_AbCd", revoked=True),
    )
    assert state.default_dialing_profile_id == DIALING_ID
    assert state.default_session_profile_id == SESSION_ID


@pytest.mark.parametrize(
    ("event_class", "section", "value"),
    [
        (GeneralSettingsChanged, "general", GeneralSettings(account_name="Acme", caller_id="+13125550100")),
        (RegionSettingsChanged, "region", RegionSettings(country_code="GB", time_zone="Europe/London", locale="en-GB")),
        (ListSettingsChanged, "lists", ListSettings(default_region="CA", max_split_lists=25)),
        (SecuritySettingsChanged, "security", SecuritySettings(minimum_password_length=12)),
        (PacingSettingsChanged, "pacing", PacingSettings(target_abandon_rate=2.5)),
    ],
)
def test_folding_a_settings_section_replaces_only_that_section(event_class, section, value):
    history = account_history() + stream(ACCOUNT_ID, ev(event_class, **{section: value}), start=2, when=NOW)

    state = given(account.project, history)

    assert getattr(state.settings, section) == value
    assert state.version == 2
    assert state.created_on == EARLIER
    assert state.modified_on == NOW
    untouched = {"general", "region", "lists", "security", "pacing"} - {section}
    before = an_account().settings
    for other in untouched:
        assert getattr(state.settings, other) == getattr(before, other)


def test_folding_a_removed_public_key_keeps_the_others():
    history = account_history(keys=[public_key(), OTHER_KEY]) + stream(
        ACCOUNT_ID, ev(PublicKeyRemoved, fingerprint=public_key().fingerprint), start=4, when=NOW
    )

    assert given(account.project, history).public_keys == (OTHER_KEY,)


# Settings sections --------------------------------------------------------------------

SECTION_CHANGES = [
    ("general", GeneralSettings(account_name=ACCOUNT_NAME, caller_id="+13125550100", dap_name="OCS_DAP"), GeneralSettingsChanged),
    ("region", RegionSettings(country_code="GB", time_zone="Europe/London", locale="en-GB", reports_time_zone="Europe/London"), RegionSettingsChanged),
    ("lists", ListSettings(default_time_zone="America/Chicago", default_region="US", max_split_lists=20), ListSettingsChanged),
    ("security", SecuritySettings(minimum_password_length=12, auto_sign_out_minutes=15, strict_sign_out=True), SecuritySettingsChanged),
    ("pacing", PacingSettings(target_abandon_rate=2.0, abandon_call_definition_seconds=2, max_attempts_per_minute=MaxAttemptsPerMinute(sms=500)), PacingSettingsChanged),
]


@pytest.mark.parametrize(("section", "value", "event_class"), SECTION_CHANGES)
def test_changing_one_section_records_one_event_for_it(section, value, event_class):
    events = account.update_settings(an_account(), account.UpdateSettings(**{section: value}), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 2, event_class, **{section: value})])


def test_changing_every_section_records_one_event_each_in_page_order():
    command = account.UpdateSettings(**{section: value for section, value, _ in SECTION_CHANGES})

    events = account.update_settings(an_account(), command, now=NOW)

    assert_events(
        events,
        [
            expected(ACCOUNT_ID, 2 + index, event_class, **{section: value})
            for index, (section, value, event_class) in enumerate(SECTION_CHANGES)
        ],
    )


def test_a_section_sent_unchanged_records_nothing():
    state = an_account()
    command = account.UpdateSettings(
        general=state.settings.general, region=RegionSettings(), pacing=PacingSettings()
    )

    assert account.update_settings(state, command, now=NOW) == []


def test_an_empty_update_records_nothing():
    assert account.update_settings(an_account(), account.UpdateSettings(), now=NOW) == []


def test_only_the_changed_sections_of_an_update_are_recorded():
    command = account.UpdateSettings(region=RegionSettings(), lists=ListSettings(max_split_lists=3))

    events = account.update_settings(an_account(), command, now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 2, ListSettingsChanged, lists=ListSettings(max_split_lists=3))])


def test_encryption_cannot_be_enabled_without_a_public_key():
    with refused(RuleViolation, "security.encryption.enabled"):
        account.update_settings(an_account(), account.UpdateSettings(security=ENCRYPTED), now=NOW)


def test_a_refused_security_section_refuses_the_whole_update():
    command = account.UpdateSettings(general=GeneralSettings(account_name="Renamed"), security=ENCRYPTED)

    with refused(RuleViolation, "security.encryption.enabled"):
        account.update_settings(an_account(), command, now=NOW)


def test_encryption_can_be_enabled_once_a_public_key_is_imported():
    state = an_account(keys=[public_key()])

    events = account.update_settings(state, account.UpdateSettings(security=ENCRYPTED), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 3, SecuritySettingsChanged, security=ENCRYPTED)])


def test_encryption_options_without_enabling_it_need_no_key():
    security = SecuritySettings(encryption=EncryptionSettings(secure_analytics_reports=True))

    events = account.update_settings(an_account(), account.UpdateSettings(security=security), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 2, SecuritySettingsChanged, security=security)])


def test_encryption_can_be_disabled():
    state = an_account(keys=[public_key()], encryption=True)

    events = account.update_settings(state, account.UpdateSettings(security=SecuritySettings()), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 4, SecuritySettingsChanged, security=SecuritySettings())])


# Public keys --------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["rsa3072", "rsa4096"])
def test_rsa3072_and_rsa4096_keys_are_imported(algorithm):
    key = public_key(algorithm=algorithm)

    events = account.import_public_key(an_account(), account.ImportPublicKey(key=key), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 2, PublicKeyImported, key=key)])


@pytest.mark.parametrize("algorithm", ["rsa2048", "rsa1024", "dsa1024", "ed25519", "cv25519", "nistp256", ""])
def test_other_key_algorithms_are_refused(algorithm):
    key = public_key(algorithm=algorithm)

    with refused(RuleViolation, "armored"):
        account.import_public_key(an_account(), account.ImportPublicKey(key=key), now=NOW)


@pytest.mark.parametrize("expires_at", [NOW, NOW - timedelta(days=1)])
def test_an_expired_key_is_refused(expires_at):
    key = public_key(expires_at=expires_at)

    with refused(RuleViolation, "armored"):
        account.import_public_key(an_account(), account.ImportPublicKey(key=key), now=NOW)


def test_a_key_that_expires_later_is_imported():
    key = public_key(expires_at=NOW + timedelta(seconds=1))

    events = account.import_public_key(an_account(), account.ImportPublicKey(key=key), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 2, PublicKeyImported, key=key)])


def test_the_same_key_cannot_be_imported_twice():
    state = an_account(keys=[public_key()])
    again = public_key(user_id="someone-else@acme.example")

    with refused(RuleViolation, "armored"):
        account.import_public_key(state, account.ImportPublicKey(key=again), now=NOW)


def test_removing_a_key():
    state = an_account(keys=[public_key(), OTHER_KEY])

    events = account.remove_public_key(
        state, account.RemovePublicKey(fingerprint=OTHER_KEY.fingerprint), now=NOW
    )

    assert_events(events, [expected(ACCOUNT_ID, 4, PublicKeyRemoved, fingerprint=OTHER_KEY.fingerprint)])


def test_removing_an_unknown_key_is_not_found():
    state = an_account(keys=[public_key()])

    with refused(NotFound, "fingerprint"):
        account.remove_public_key(state, account.RemovePublicKey(fingerprint="DEAD BEEF"), now=NOW)


def test_the_last_key_can_be_removed_while_encryption_is_off():
    state = an_account(keys=[public_key()])

    events = account.remove_public_key(
        state, account.RemovePublicKey(fingerprint=public_key().fingerprint), now=NOW
    )

    assert_events(events, [expected(ACCOUNT_ID, 3, PublicKeyRemoved, fingerprint=public_key().fingerprint)])


def test_the_last_key_cannot_be_removed_while_encryption_is_on():
    state = an_account(keys=[public_key()], encryption=True)

    with refused(RuleViolation, "fingerprint"):
        account.remove_public_key(
            state, account.RemovePublicKey(fingerprint=public_key().fingerprint), now=NOW
        )


def test_a_key_other_than_the_last_can_be_removed_while_encryption_is_on():
    state = an_account(keys=[public_key(), OTHER_KEY], encryption=True)

    events = account.remove_public_key(
        state, account.RemovePublicKey(fingerprint=public_key().fingerprint), now=NOW
    )

    assert_events(events, [expected(ACCOUNT_ID, 5, PublicKeyRemoved, fingerprint=public_key().fingerprint)])


# API keys -----------------------------------------------------------------------------


def issue(name: str = "  Nightly export ", role: str = "supervisor") -> account.IssueApiKey:
    return account.IssueApiKey(
        key_id=KEY_ID, name=name, role=role, secret_sha256="5e" * 32, prefix="dsk_9xQ2",
    )


def test_issuing_an_api_key_stores_its_hash_and_prefix():
    events = account.issue_api_key(an_account(), issue(), now=NOW)

    assert_events(
        events,
        [
            expected(
                ACCOUNT_ID, 2, ApiKeyIssued, key_id=KEY_ID, name="Nightly export",
                role="supervisor", secret_sha256="5e" * 32, prefix="dsk_9xQ2",
            )
        ],
    )


@pytest.mark.parametrize("name", ["", "  "])
def test_an_api_key_needs_a_name(name):
    with refused(RuleViolation, "name"):
        account.issue_api_key(an_account(), issue(name=name), now=NOW)


def test_folding_an_issued_key_keeps_no_secret():
    history = account_history() + account.issue_api_key(an_account(), issue(), now=NOW)

    (key,) = given(account.project, history).api_keys

    assert key == account.ApiKey(key_id=KEY_ID, name="Nightly export", role="supervisor", prefix="dsk_9xQ2")


def test_revoking_an_api_key():
    state = an_account(api_keys=[(KEY_ID, "admin", False), (KEY_2_ID, "viewer", False)])

    events = account.revoke_api_key(state, account.RevokeApiKey(key_id=KEY_2_ID), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 4, ApiKeyRevoked, key_id=KEY_2_ID)])
    assert given(account.project, account_history(
        api_keys=[(KEY_ID, "admin", False), (KEY_2_ID, "viewer", False)]
    ) + events).api_key(KEY_2_ID).revoked is True


def test_revoking_an_unknown_api_key_is_not_found():
    with refused(NotFound, "key_id"):
        account.revoke_api_key(an_account(), account.RevokeApiKey(key_id=KEY_ID), now=NOW)


def test_revoking_a_revoked_key_records_nothing():
    state = an_account(api_keys=[(KEY_ID, "admin", False), (KEY_2_ID, "supervisor", True)])

    assert account.revoke_api_key(state, account.RevokeApiKey(key_id=KEY_2_ID), now=NOW) == []


def test_the_last_admin_key_cannot_be_revoked():
    state = an_account(api_keys=[(KEY_ID, "admin", False), (KEY_2_ID, "supervisor", False)])

    with refused(RuleViolation, "key_id"):
        account.revoke_api_key(state, account.RevokeApiKey(key_id=KEY_ID), now=NOW)


def test_a_revoked_admin_key_does_not_count_as_another_admin():
    state = an_account(api_keys=[(KEY_ID, "admin", True), (KEY_2_ID, "admin", False)])

    with refused(RuleViolation, "key_id"):
        account.revoke_api_key(state, account.RevokeApiKey(key_id=KEY_2_ID), now=NOW)


def test_an_admin_key_can_be_revoked_while_another_admin_key_is_active():
    state = an_account(api_keys=[(KEY_ID, "admin", False), (KEY_2_ID, "admin", False)])

    events = account.revoke_api_key(state, account.RevokeApiKey(key_id=KEY_ID), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 4, ApiKeyRevoked, key_id=KEY_ID)])


@pytest.mark.parametrize("role", ["supervisor", "viewer"])
def test_a_non_admin_key_can_be_revoked_even_without_any_admin(role):
    state = an_account(api_keys=[(KEY_3_ID, role, False)])

    events = account.revoke_api_key(state, account.RevokeApiKey(key_id=KEY_3_ID), now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 3, ApiKeyRevoked, key_id=KEY_3_ID)])


# Default profiles ---------------------------------------------------------------------

DEFAULTS = [
    (account.choose_default_dialing_profile, DefaultDialingProfileChosen, "default_dialing", "default_dialing_profile_id", DIALING_ID, OTHER_DIALING_ID),
    (account.choose_default_session_profile, DefaultSessionProfileChosen, "default_session", "default_session_profile_id", SESSION_ID, OTHER_SESSION_ID),
]


@pytest.mark.parametrize(("choose", "event_class", "option", "attribute", "current", "other"), DEFAULTS)
def test_choosing_a_first_default_profile(choose, event_class, option, attribute, current, other):
    events = choose(an_account(), current, now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 2, event_class, profile_id=current)])
    assert getattr(given(account.project, account_history() + events), attribute) == current


@pytest.mark.parametrize(("choose", "event_class", "option", "attribute", "current", "other"), DEFAULTS)
def test_choosing_another_default_profile(choose, event_class, option, attribute, current, other):
    state = an_account(**{option: current})

    events = choose(state, other, now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 3, event_class, profile_id=other)])


@pytest.mark.parametrize(("choose", "event_class", "option", "attribute", "current", "other"), DEFAULTS)
def test_choosing_the_current_default_again_records_nothing(choose, event_class, option, attribute, current, other):
    assert choose(an_account(**{option: current}), current, now=NOW) == []


@pytest.mark.parametrize(("choose", "event_class", "option", "attribute", "current", "other"), DEFAULTS)
def test_clearing_the_default_profile(choose, event_class, option, attribute, current, other):
    history = account_history(**{option: current})

    events = choose(given(account.project, history), None, now=NOW)

    assert_events(events, [expected(ACCOUNT_ID, 3, event_class, profile_id=None)])
    assert getattr(given(account.project, history + events), attribute) is None


def test_dialing_and_session_defaults_are_independent():
    state = an_account(default_dialing=DIALING_ID)

    assert account.choose_default_session_profile(state, DIALING_ID, now=NOW) != []
    assert state.default_session_profile_id is None


# The account's own key pairs ------------------------------------------------------------

SSH_PUBLIC = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAACAQDL0p7 dialstream-account"
PGP_PUBLIC = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGfT...\n-----END PGP PUBLIC KEY BLOCK-----\n"


def made(kind: account.SystemKeyKind, n: int = 1) -> account.RecordSystemKey:
    """The ``n``th key pair made for the account (two first requests make two)."""
    public = SSH_PUBLIC if kind == "ssh" else PGP_PUBLIC
    return account.RecordSystemKey(
        kind=kind, public_key=f"{public}{n}", fingerprint=f"{kind}-fingerprint-{n}",
        sealed_private_key=f"sealed:v1:private-{kind}-{n}",
    )


@pytest.mark.parametrize(("kind", "event_class"), [("ssh", SystemSshKeyGenerated), ("pgp", SystemPgpKeyGenerated)])
def test_the_first_key_pair_of_a_kind_is_recorded_and_folded_apart_from_its_sealed_private_half(
    kind, event_class
):
    events = account.record_system_key(an_account(), made(kind), now=NOW)

    assert_events(
        events,
        [
            expected(
                ACCOUNT_ID, 2, event_class, public_key=made(kind).public_key,
                fingerprint=f"{kind}-fingerprint-1", sealed_private_key=f"sealed:v1:private-{kind}-1",
            )
        ],
    )
    state = given(account.project, account_history() + events)
    assert state.system_key(kind) == account.SystemKey(
        public_key=made(kind).public_key, fingerprint=f"{kind}-fingerprint-1", generated_at=NOW
    )
    assert state.sealed_private_key(kind) == f"sealed:v1:private-{kind}-1"
    assert state.system_key("pgp" if kind == "ssh" else "ssh") is None


def test_an_account_that_has_its_key_pair_keeps_it_and_a_second_one_records_nothing():
    # Two first requests each made a pair; the other's was stored first.
    history = account_history() + account.record_system_key(an_account(), made("ssh", 1), now=NOW)

    assert account.record_system_key(given(account.project, history), made("ssh", 2), now=NOW) == []


def test_the_ssh_and_openpgp_key_pairs_are_separate():
    history = account_history() + account.record_system_key(an_account(), made("ssh"), now=NOW)

    events = account.record_system_key(given(account.project, history), made("pgp"), now=NOW)

    assert [type(e) for e in events] == [SystemPgpKeyGenerated]
    state = given(account.project, history + events)
    assert state.system_ssh_key.public_key != state.system_pgp_key.public_key
    assert state.sealed_private_keys == account.SealedPrivateKeys(
        ssh="sealed:v1:private-ssh-1", pgp="sealed:v1:private-pgp-1"
    )


def test_a_private_key_in_clear_is_never_recorded():
    clear = msgspec.structs.replace(made("ssh"), sealed_private_key="-----BEGIN RSA PRIVATE KEY-----\nMIIJ...")

    with refused(RuleViolation, "sealed_private_key"):
        account.record_system_key(an_account(), clear, now=NOW)
