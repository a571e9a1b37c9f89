"""Handlers of the account: opening it, its settings and compliance settings, its OpenPGP
public keys and its API keys."""

from __future__ import annotations

import hashlib
import secrets
from uuid import UUID

import msgspec

from dialstream.handlers.context import Context, expect
from dialstream.results import Done, IssuedKey
from domain import account
from domain.account import MIN_API_KEY_LENGTH, UpdateSettings
from domain.errors import RuleViolation
from domain.zones import ensure_zone
from schemas.settings import ComplianceSettings, DispositionSettings, PublicKey, Role

API_KEY_PREFIX = "dsk_"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccountHandlers:
    def __init__(self, context: Context):
        self.context = context

    def open_account(self, name: str, account_id: UUID | None = None) -> Done:
        account_id = account_id or self.context.new_id()
        return self.context.commit(
            account_id,
            account.open_account(account_id, account.OpenAccount(name=name), now=self.context.now()),
        )

    def update_settings(
        self, account_id: UUID, command: UpdateSettings, expected_version: int | None = None
    ) -> Done:
        for section, fields in (
            ("region", ("time_zone", "reports_time_zone")),
            ("lists", ("default_time_zone", "default_time_zone_on_error")),
        ):
            value = getattr(command, section)
            if value is not msgspec.UNSET:
                for field in fields:
                    ensure_zone(getattr(value, field), f"{section}.{field}")
        state = self.context.account(account_id)
        expect(state, expected_version)
        return self.context.commit(account_id, account.update_settings(state, command, now=self.context.now()))

    def change_compliance_settings(
        self, account_id: UUID, compliance: ComplianceSettings, expected_version: int | None = None
    ) -> Done:
        state = self.context.account(account_id)
        expect(state, expected_version)
        command = account.ChangeComplianceSettings(compliance=compliance)
        return self.context.commit(
            account_id, account.change_compliance_settings(state, command, now=self.context.now())
        )

    def change_disposition_settings(
        self, account_id: UUID, dispositions: DispositionSettings, expected_version: int | None = None
    ) -> Done:
        state = self.context.account(account_id)
        expect(state, expected_version)
        command = account.ChangeDispositionSettings(dispositions=dispositions)
        return self.context.commit(
            account_id, account.change_disposition_settings(state, command, now=self.context.now())
        )

    def import_public_key(self, account_id: UUID, key: PublicKey) -> Done:
        state = self.context.account(account_id)
        events = account.import_public_key(state, account.ImportPublicKey(key=key), now=self.context.now())
        return self.context.commit(account_id, events)

    def remove_public_key(self, account_id: UUID, fingerprint: str) -> Done:
        state = self.context.account(account_id)
        events = account.remove_public_key(
            state, account.RemovePublicKey(fingerprint=fingerprint), now=self.context.now()
        )
        return self.context.commit(account_id, events)

    def issue_api_key(
        self,
        account_id: UUID,
        name: str,
        role: Role,
        secret: str | None = None,
        key_id: UUID | None = None,
    ) -> IssuedKey:
        secret = secret or API_KEY_PREFIX + secrets.token_urlsafe(32)
        if len(secret) < MIN_API_KEY_LENGTH:
            raise RuleViolation(f"an API key is at least {MIN_API_KEY_LENGTH} characters", field="secret")
        key_id = key_id or self.context.new_id()
        state = self.context.account(account_id)
        command = account.IssueApiKey(
            key_id=key_id,
            name=name,
            role=role,
            secret_sha256=hash_secret(secret),
            prefix=secret[:8],
        )
        position = self.context.store.append(account.issue_api_key(state, command, now=self.context.now()))
        return IssuedKey(key_id, secret, position)

    def revoke_api_key(self, account_id: UUID, key_id: UUID) -> Done:
        state = self.context.account(account_id)
        events = account.revoke_api_key(state, account.RevokeApiKey(key_id=key_id), now=self.context.now())
        return self.context.commit(key_id, events)
