"""Handlers of the account: opening it, its settings and compliance settings, its OpenPGP
public keys, its API keys, and its own SSH and OpenPGP key pairs.

The account's own key pairs are made on first need (the first download of a public key, or
the first job that logs in or decrypts with one) by the :class:`KeyMaker` port, outside the
decision: RSA 4096 takes seconds. Two first requests in one process make one pair (a lock
per account and kind); in two processes each makes one, the first stored is kept and the
other is dropped when its decision, taken again, finds it there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import threading
from typing import Protocol
from uuid import UUID

import msgspec

from dialstream.handlers.context import Context, expect
from dialstream.results import Done, IssuedKey
from dialstream.store import retry_on_conflict
from domain import account
from domain.account import MIN_API_KEY_LENGTH, SystemKey, SystemKeyKind, UpdateSettings
from domain.errors import RuleViolation
from domain.zones import ensure_zone
from schemas.settings import ComplianceSettings, DispositionSettings, PublicKey, Role

API_KEY_PREFIX = "dsk_"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class SystemKeyPair:
    """One of the account's own key pairs: the public half as handed out (OpenSSH line or
    ASCII armour), its fingerprint, and the private half in clear (PEM or armoured secret
    key), which ``repr`` hides."""

    public_key: str
    fingerprint: str
    private_key: str = dataclasses.field(repr=False)


class KeyMaker(Protocol):
    """Makes new key pairs (processors/files/system_keys.py)."""

    def ssh_key_pair(self, comment: str) -> SystemKeyPair: ...
    def pgp_key_pair(self, name: str, email: str) -> SystemKeyPair: ...


class AccountHandlers:
    def __init__(self, context: Context, *, keys: KeyMaker | None = None):
        self.context = context
        self.keys = keys
        self._making: dict[tuple[UUID, SystemKeyKind], threading.Lock] = {}

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

    # The account's own key pairs --------------------------------------------------------------

    def ssh_key(self, account_id: UUID) -> SystemKeyPair:
        """The account's SSH key pair (RSA 4096), its private key opened; made on first need."""
        return self._opened(account_id, "ssh")

    def pgp_key(self, account_id: UUID) -> SystemKeyPair:
        """The account's OpenPGP key pair (RSA 4096), its secret key opened; made on first need."""
        return self._opened(account_id, "pgp")

    def make_ssh_key(self, account_id: UUID) -> Done:
        """Make the account's SSH key pair unless it has one (then nothing is stored)."""
        return self._make(account_id, "ssh")

    def make_pgp_key(self, account_id: UUID) -> Done:
        """Make the account's OpenPGP key pair unless it has one (then nothing is stored)."""
        return self._make(account_id, "pgp")

    def ssh_public_key(self, account_id: UUID) -> SystemKey | None:
        """The public half of the account's SSH key pair; None until it is made."""
        return self.context.account(account_id).system_ssh_key

    def pgp_public_key(self, account_id: UUID) -> SystemKey | None:
        """The public half of the account's OpenPGP key pair; None until it is made."""
        return self.context.account(account_id).system_pgp_key

    def _opened(self, account_id: UUID, kind: SystemKeyKind) -> SystemKeyPair:
        state = self.context.account(account_id)
        if state.system_key(kind) is None:
            self._make(account_id, kind)
            state = self.context.account(account_id)
        public, sealed = state.system_key(kind), state.sealed_private_key(kind)
        assert public is not None and sealed is not None, f"the {kind} key pair was just made"
        return SystemKeyPair(public.public_key, public.fingerprint, self.context.secrets.open(sealed))

    def _make(self, account_id: UUID, kind: SystemKeyKind) -> Done:
        with self._making.setdefault((account_id, kind), threading.Lock()):
            state = self.context.account(account_id)
            if state.system_key(kind) is not None:
                return Done(account_id, self.context.store.position())
            box = self.context.secrets  # refuses before the slow part when there is none
            made = self._generate(account_id, kind)
            command = account.RecordSystemKey(
                kind=kind,
                public_key=made.public_key,
                fingerprint=made.fingerprint,
                sealed_private_key=box.seal(made.private_key),
            )

            def attempt() -> Done:
                fresh = self.context.account(account_id)
                return self.context.commit(
                    account_id, account.record_system_key(fresh, command, now=self.context.now())
                )

            done = retry_on_conflict(attempt, what=f"{kind} key pair of account {account_id}")
            assert done is not None  # without ``settled`` it stores or raises
            return done

    def _generate(self, account_id: UUID, kind: SystemKeyKind) -> SystemKeyPair:
        if self.keys is None:
            raise RuntimeError("these handlers were built without a key maker: no key pair can be made")
        if kind == "ssh":
            return self.keys.ssh_key_pair(f"dialstream-{account_id}")
        # The user id names the account by its id: a name can change, a key's user id cannot.
        return self.keys.pgp_key_pair("Dialstream", f"account-{account_id}@dialstream.invalid")
