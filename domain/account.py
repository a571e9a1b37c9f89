"""The account (tenant): its settings page, public keys, API keys, default profiles and its own
SSH and OpenPGP key pairs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Struct, UnsetType

from domain import name_claim, predial
from domain.aggregate import Aggregate, Changes, projector, touched
from domain.errors import NotFound, RuleViolation
from schemas.base import Event
from schemas.settings import (
    AccountOpened,
    AccountSettings,
    ApiKeyIssued,
    ApiKeyRevoked,
    ComplianceSettings,
    ComplianceSettingsChanged,
    DefaultDialingProfileChosen,
    DefaultSessionProfileChosen,
    DispositionSettings,
    DispositionSettingsChanged,
    GeneralSettings,
    GeneralSettingsChanged,
    ListSettings,
    ListSettingsChanged,
    PacingSettings,
    PacingSettingsChanged,
    PublicKey,
    PublicKeyImported,
    PublicKeyRemoved,
    RegionSettings,
    RegionSettingsChanged,
    Role,
    SecuritySettings,
    SecuritySettingsChanged,
    SystemPgpKeyGenerated,
    SystemSshKeyGenerated,
)

# The product accepts only these OpenPGP public keys for list and report encryption.
ACCEPTED_KEY_ALGORITHMS = frozenset({"rsa3072", "rsa4096"})
# Shorter secrets are guessable; the bootstrap key from the environment obeys the same rule.
MIN_API_KEY_LENGTH = 20
# The account's own key pairs: SSH for customers' SFTP servers, OpenPGP for their files.
SystemKeyKind = Literal["ssh", "pgp"]
# How a sealed secret starts (dialstream/secrets.py writes "sealed:v1:…"). An event is kept
# forever, so a private key that is not sealed is refused before it is recorded.
SEALED = "sealed:"


class ApiKey(Struct, frozen=True, kw_only=True):
    key_id: UUID
    name: str
    role: Role
    prefix: str
    revoked: bool = False


class SystemKey(Struct, frozen=True, kw_only=True):
    """The public half of one of the account's own key pairs, as customers download it."""

    public_key: str
    fingerprint: str
    generated_at: datetime


class SealedPrivateKeys(Struct, frozen=True, kw_only=True):
    """The private halves of the account's own key pairs, sealed; no API view shows them."""

    ssh: str | None = None
    pgp: str | None = None


class Account(Aggregate, frozen=True, kw_only=True):
    settings: AccountSettings
    public_keys: tuple[PublicKey, ...] = ()
    api_keys: tuple[ApiKey, ...] = ()
    default_dialing_profile_id: UUID | None = None
    default_session_profile_id: UUID | None = None
    system_ssh_key: SystemKey | None = None
    system_pgp_key: SystemKey | None = None
    sealed_private_keys: SealedPrivateKeys = SealedPrivateKeys()

    def system_key(self, kind: SystemKeyKind) -> SystemKey | None:
        return self.system_ssh_key if kind == "ssh" else self.system_pgp_key

    def sealed_private_key(self, kind: SystemKeyKind) -> str | None:
        sealed = self.sealed_private_keys
        return sealed.ssh if kind == "ssh" else sealed.pgp

    def api_key(self, key_id: UUID) -> ApiKey:
        for key in self.api_keys:
            if key.key_id == key_id:
                return key
        raise NotFound(f"API key {key_id} not found", field="key_id")


# Commands -----------------------------------------------------------------------------


class OpenAccount(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str


class UpdateSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Replace any of the five sections of the settings page; a section left out stays."""

    general: GeneralSettings | UnsetType = UNSET
    region: RegionSettings | UnsetType = UNSET
    lists: ListSettings | UnsetType = UNSET
    security: SecuritySettings | UnsetType = UNSET
    pacing: PacingSettings | UnsetType = UNSET


class ChangeComplianceSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Replace the compliance settings: calling hours and dates per region, attempt rules."""

    compliance: ComplianceSettings


class ChangeDispositionSettings(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Replace the disposition codes catalogue."""

    dispositions: DispositionSettings


class ImportPublicKey(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: PublicKey


class RemovePublicKey(Struct, frozen=True, kw_only=True):
    fingerprint: str


class IssueApiKey(Struct, frozen=True, kw_only=True):
    key_id: UUID
    name: str
    role: Role
    secret_sha256: str
    prefix: str


class RevokeApiKey(Struct, frozen=True, kw_only=True):
    key_id: UUID


class RecordSystemKey(Struct, frozen=True, kw_only=True):
    """Keep a key pair just made for the account (made outside: generating one is slow)."""

    kind: SystemKeyKind
    public_key: str
    fingerprint: str
    sealed_private_key: str


# Decisions ----------------------------------------------------------------------------


def open_account(account_id: UUID, command: OpenAccount, *, now: datetime) -> list[Event]:
    name = name_claim.clean(command.name)
    changes = Changes(account_id, account_id, 0, now)
    changes.record(AccountOpened, settings=AccountSettings(general=GeneralSettings(account_name=name)))
    return changes.events


_SECTION_EVENTS: dict[str, tuple[type[Event], str]] = {
    "general": (GeneralSettingsChanged, "general"),
    "region": (RegionSettingsChanged, "region"),
    "lists": (ListSettingsChanged, "lists"),
    "security": (SecuritySettingsChanged, "security"),
    "pacing": (PacingSettingsChanged, "pacing"),
}


def update_settings(state: Account, command: UpdateSettings, *, now: datetime) -> list[Event]:
    security = command.security
    if (
        security is not UNSET
        and isinstance(security, SecuritySettings)
        and security.encryption.enabled
        and not state.public_keys
    ):
        raise RuleViolation(
            "encryption can be enabled only once at least one public key is imported",
            field="security.encryption.enabled",
        )
    if isinstance(command.general, GeneralSettings):
        account_name = name_claim.clean(command.general.account_name, "general.account_name")
        command = msgspec.structs.replace(
            command, general=msgspec.structs.replace(command.general, account_name=account_name)
        )
    changes = Changes.of(state, now)
    for section, (event_class, field) in _SECTION_EVENTS.items():
        value = getattr(command, section)
        if value is not UNSET and value != getattr(state.settings, section):
            changes.record(event_class, **{field: value})
    return changes.events


def change_compliance_settings(
    state: Account, command: ChangeComplianceSettings, *, now: datetime
) -> list[Event]:
    """Checked through the calling-window and attempt-rule constructors, so a bad hour,
    weekday, region or rule is refused naming its field (``regions.US-FL.hours.daily``,
    relative to the compliance settings); stored normalised."""
    predial.compliance_rules(command.compliance)
    compliance = predial.normalised(command.compliance)
    if compliance == state.settings.compliance:
        return []
    changes = Changes.of(state, now)
    changes.record(ComplianceSettingsChanged, compliance=compliance)
    return changes.events


def change_disposition_settings(
    state: Account, command: ChangeDispositionSettings, *, now: datetime
) -> list[Event]:
    """A code names one outcome: two entries with one code (in any case) are refused, naming
    the second (``codes[3].code``)."""
    seen: dict[str, int] = {}
    for index, code in enumerate(command.dispositions.codes):
        key = code.code.casefold()
        if key in seen:
            raise RuleViolation(
                f"disposition code {code.code!r} is also codes[{seen[key]}]", field=f"codes[{index}].code"
            )
        seen[key] = index
    if command.dispositions == state.settings.dispositions:
        return []
    changes = Changes.of(state, now)
    changes.record(DispositionSettingsChanged, dispositions=command.dispositions)
    return changes.events


def import_public_key(state: Account, command: ImportPublicKey, *, now: datetime) -> list[Event]:
    key = command.key
    if key.algorithm not in ACCEPTED_KEY_ALGORITHMS:
        raise RuleViolation(
            f"public key algorithm {key.algorithm!r} is not accepted; use rsa3072 or rsa4096",
            field="armored",
        )
    if key.expires_at is not None and key.expires_at <= now:
        raise RuleViolation("public key has expired", field="armored")
    if any(existing.fingerprint == key.fingerprint for existing in state.public_keys):
        raise RuleViolation(f"public key {key.fingerprint} is already imported", field="armored")
    changes = Changes.of(state, now)
    changes.record(PublicKeyImported, key=key)
    return changes.events


def remove_public_key(state: Account, command: RemovePublicKey, *, now: datetime) -> list[Event]:
    remaining = [k for k in state.public_keys if k.fingerprint != command.fingerprint]
    if len(remaining) == len(state.public_keys):
        raise NotFound(f"public key {command.fingerprint} not found", field="fingerprint")
    if not remaining and state.settings.security.encryption.enabled:
        raise RuleViolation(
            "the last public key cannot be removed while encryption is enabled",
            field="fingerprint",
        )
    changes = Changes.of(state, now)
    changes.record(PublicKeyRemoved, fingerprint=command.fingerprint)
    return changes.events


def issue_api_key(state: Account, command: IssueApiKey, *, now: datetime) -> list[Event]:
    if not command.name.strip():
        raise RuleViolation("an API key needs a name", field="name")
    changes = Changes.of(state, now)
    changes.record(
        ApiKeyIssued,
        key_id=command.key_id,
        name=command.name.strip(),
        role=command.role,
        secret_sha256=command.secret_sha256,
        prefix=command.prefix,
    )
    return changes.events


def revoke_api_key(state: Account, command: RevokeApiKey, *, now: datetime) -> list[Event]:
    key = state.api_key(command.key_id)
    if key.revoked:
        return []
    active_admins = [k for k in state.api_keys if k.role == "admin" and not k.revoked]
    if key.role == "admin" and len(active_admins) == 1:
        raise RuleViolation("the last admin key of an account cannot be revoked", field="key_id")
    changes = Changes.of(state, now)
    changes.record(ApiKeyRevoked, key_id=command.key_id)
    return changes.events


def record_system_key(state: Account, command: RecordSystemKey, *, now: datetime) -> list[Event]:
    """An account has one key pair of each kind, made once: the first recorded is kept and a
    later one is nothing (two first requests made a pair each; the other's was stored first)."""
    if not command.sealed_private_key.startswith(SEALED):
        raise RuleViolation("a private key is recorded sealed, never in clear", field="sealed_private_key")
    if state.system_key(command.kind) is not None:
        return []
    changes = Changes.of(state, now)
    changes.record(
        SystemSshKeyGenerated if command.kind == "ssh" else SystemPgpKeyGenerated,
        public_key=command.public_key,
        fingerprint=command.fingerprint,
        sealed_private_key=command.sealed_private_key,
    )
    return changes.events


def choose_default_dialing_profile(state: Account, profile_id: UUID | None, *, now: datetime) -> list[Event]:
    if state.default_dialing_profile_id == profile_id:
        return []
    changes = Changes.of(state, now)
    changes.record(DefaultDialingProfileChosen, profile_id=profile_id)
    return changes.events


def choose_default_session_profile(state: Account, profile_id: UUID | None, *, now: datetime) -> list[Event]:
    if state.default_session_profile_id == profile_id:
        return []
    changes = Changes.of(state, now)
    changes.record(DefaultSessionProfileChosen, profile_id=profile_id)
    return changes.events


# Folding ------------------------------------------------------------------------------


def _with_settings(state: Account, event: Event, **section: Any) -> Account:
    return touched(state, event, settings=msgspec.structs.replace(state.settings, **section))


def evolve(state: Account | None, event: Event) -> Account | None:
    if isinstance(event, AccountOpened):
        return Account(
            id=event.originator_id,
            version=event.originator_version,
            account_id=event.account_id,
            created_on=event.timestamp,
            modified_on=event.timestamp,
            settings=event.settings,
        )
    if state is None:
        return None
    match event:
        case GeneralSettingsChanged(general=general):
            return _with_settings(state, event, general=general)
        case RegionSettingsChanged(region=region):
            return _with_settings(state, event, region=region)
        case ListSettingsChanged(lists=lists):
            return _with_settings(state, event, lists=lists)
        case SecuritySettingsChanged(security=security):
            return _with_settings(state, event, security=security)
        case PacingSettingsChanged(pacing=pacing):
            return _with_settings(state, event, pacing=pacing)
        case ComplianceSettingsChanged(compliance=compliance):
            return _with_settings(state, event, compliance=compliance)
        case DispositionSettingsChanged(dispositions=dispositions):
            return _with_settings(state, event, dispositions=dispositions)
        case PublicKeyImported(key=key):
            return touched(state, event, public_keys=(*state.public_keys, key))
        case PublicKeyRemoved(fingerprint=fingerprint):
            kept = tuple(k for k in state.public_keys if k.fingerprint != fingerprint)
            return touched(state, event, public_keys=kept)
        case ApiKeyIssued():
            issued = ApiKey(key_id=event.key_id, name=event.name, role=event.role, prefix=event.prefix)
            return touched(state, event, api_keys=(*state.api_keys, issued))
        case ApiKeyRevoked(key_id=key_id):
            keys = tuple(
                msgspec.structs.replace(k, revoked=True) if k.key_id == key_id else k for k in state.api_keys
            )
            return touched(state, event, api_keys=keys)
        case DefaultDialingProfileChosen(profile_id=profile_id):
            return touched(state, event, default_dialing_profile_id=profile_id)
        case DefaultSessionProfileChosen(profile_id=profile_id):
            return touched(state, event, default_session_profile_id=profile_id)
        case SystemSshKeyGenerated() | SystemPgpKeyGenerated():
            kind = "ssh" if isinstance(event, SystemSshKeyGenerated) else "pgp"
            public = SystemKey(
                public_key=event.public_key, fingerprint=event.fingerprint, generated_at=event.timestamp
            )
            sealed = msgspec.structs.replace(state.sealed_private_keys, **{kind: event.sealed_private_key})
            return touched(state, event, **{f"system_{kind}_key": public}, sealed_private_keys=sealed)
    return touched(state, event)


project = projector(evolve)
