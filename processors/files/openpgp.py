"""OpenPGP with GnuPG (python-gnupg): the public keys an account uploads, and list
automation's files (issue 17; the jobs that use them are not built yet).

- :func:`read_public_key`: the gateway reads an uploaded key (whether the account accepts the
  key — RSA 3072 or 4096, not expired, not already there — is :mod:`domain.account`'s
  decision). What cannot be read as exactly one public key is an :class:`InvalidPublicKey` (a
  :class:`~domain.errors.RuleViolation`) naming the field at fault.
- :func:`generate_key_pair`: an account's system key pair, RSA 4096 by default (the key its
  customers encrypt input files to; separate from its SSH key pair, as the product requires).
- :func:`decrypt_file`: a file encrypted to that key, decrypted whole or not at all. A file
  that is not OpenPGP data (a clear file sent to a secured job) is :class:`NotEncrypted`; one
  that is encrypted to another key, cut short or corrupt is :class:`DecryptionFailed`, with
  GnuPG's own reason.
- :func:`encrypt_file`: an export encrypted to every one of the account's user public keys,
  ASCII-armoured, whole or not at all.

Each operation runs in a keyring of its own (a temporary ``GNUPGHOME``) holding only the keys
it needs, removed afterwards: no key outlives the operation on disk, and two operations never
share a keyring. Output goes to ``NAME.part`` and is renamed once GnuPG says it succeeded.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import gnupg

from domain.errors import RuleViolation
from schemas.settings import PublicKey

# RFC 4880 public-key algorithm ids that are RSA.
_RSA = {"1", "2", "3"}


class InvalidPublicKey(RuleViolation):
    title = "Invalid public key"


def read_public_key(armored: str, *, user_id: str, now: datetime) -> PublicKey:
    """The one public key of an ASCII-armored block, for ``user_id``, uploaded ``now``."""
    if "BEGIN PGP PUBLIC KEY BLOCK" not in armored:
        raise InvalidPublicKey("expected an ASCII-armored OpenPGP public key", field="armored")
    if not user_id.strip():
        raise InvalidPublicKey("a user id (e-mail) is required", field="user_id")
    with _keyring() as gpg:
        keys = gpg.scan_keys_mem(armored)
    primaries = [k for k in keys if k.get("type") == "pub"]
    if len(primaries) != 1:
        raise InvalidPublicKey(f"expected exactly one public key, found {len(primaries)}", field="armored")
    key = primaries[0]
    algorithm = f"rsa{key.get('length')}" if str(key.get("algo")) in _RSA else f"algo{key.get('algo')}"
    expires = key.get("expires")
    return PublicKey(
        fingerprint=str(key["fingerprint"]).upper(),
        user_id=user_id.strip(),
        key_type="OpenPGP",
        algorithm=algorithm,
        uploaded_at=now,
        expires_at=datetime.fromtimestamp(int(expires), UTC) if expires else None,
        armored=armored.strip(),
    )


# List automation's files ----------------------------------------------------------------------

KEY_BITS = 4096
ARMOR_HEADER = b"-----BEGIN PGP MESSAGE-----"
# OpenPGP packet tags an encrypted message starts with (RFC 4880 §5.1, §5.3): a session key
# encrypted to a public key, or to a passphrase.
_ENCRYPTED_FIRST_TAGS = {1, 3}


class PgpError(Exception):
    """An OpenPGP operation failed; the message says why."""


class NotEncrypted(PgpError):
    """The file is not OpenPGP encrypted data."""


class DecryptionFailed(PgpError):
    """The file is OpenPGP data that cannot be decrypted with the key given."""


@dataclass(frozen=True)
class KeyPair:
    fingerprint: str
    public_armored: str
    private_armored: str = field(repr=False)


def generate_key_pair(name: str, email: str, *, bits: int = KEY_BITS) -> KeyPair:
    """A new RSA key pair that never expires, its private key without a passphrase (it is
    kept as a secret by whoever stores it)."""
    with _keyring() as gpg:
        spec = gpg.gen_key_input(
            key_type="RSA", key_length=bits, name_real=name, name_email=email, no_protection=True, expire_date=0
        )
        made = gpg.gen_key(spec)
        if not made.fingerprint:
            raise PgpError(f"GnuPG made no key: {made.stderr.strip()[-300:]}")
        fingerprint = str(made.fingerprint)
        public = gpg.export_keys(fingerprint)
        private = gpg.export_keys(fingerprint, secret=True, expect_passphrase=False)
    return KeyPair(fingerprint, public, private)


def is_encrypted(path: Path) -> bool:
    """Whether the file starts as an OpenPGP encrypted message (armoured or binary)."""
    with path.open("rb") as file:
        head = file.read(64)
    if head.lstrip().startswith(ARMOR_HEADER):
        return True
    if not head or not head[0] & 0x80:
        return False
    first = head[0]
    tag = first & 0x3F if first & 0x40 else (first >> 2) & 0x0F  # new or old packet format
    return tag in _ENCRYPTED_FIRST_TAGS


def decrypt_file(source: Path, target: Path, key: KeyPair) -> int:
    """Decrypt ``source`` to ``target`` with ``key``'s private key: its size in bytes."""
    if not is_encrypted(source):
        raise NotEncrypted(f"{source.name} is not OpenPGP encrypted data: this job takes only files encrypted to its key")
    partial = target.with_name(target.name + ".part")
    with _keyring() as gpg:
        imported = gpg.import_keys(key.private_armored)
        if not imported.fingerprints:
            raise PgpError("the account's private key could not be read")
        with source.open("rb") as file:
            result = gpg.decrypt_file(file, output=str(partial), always_trust=True)
    if not result.ok:
        partial.unlink(missing_ok=True)
        raise DecryptionFailed(f"{source.name} could not be decrypted: {_reason(result)}")
    os.replace(partial, target)
    return target.stat().st_size


def encrypt_file(source: Path, target: Path, recipients: Sequence[str]) -> int:
    """Encrypt ``source`` to ``target``, ASCII-armoured, for every public key in
    ``recipients`` (armoured): its size in bytes."""
    if not recipients:
        raise PgpError("no public key to encrypt to: import the users' public keys first")
    partial = target.with_name(target.name + ".part")
    with _keyring() as gpg:
        fingerprints: list[str] = []
        for armored in recipients:
            fingerprints += gpg.import_keys(armored).fingerprints
        if len(fingerprints) < len(recipients):
            raise PgpError("a recipient's public key could not be read")
        with source.open("rb") as file:
            result = gpg.encrypt_file(file, fingerprints, armor=True, always_trust=True, output=str(partial))
    if not result.ok:
        partial.unlink(missing_ok=True)
        raise PgpError(f"{source.name} could not be encrypted: {_reason(result)}")
    os.replace(partial, target)
    return target.stat().st_size


@contextmanager
def _keyring() -> Iterator[gnupg.GPG]:
    with tempfile.TemporaryDirectory(prefix="dialstream-gpg-") as home:
        yield gnupg.GPG(gnupghome=home)


def _reason(result: gnupg.Crypt) -> str:
    """GnuPG's status, in its words, with the lines of its output that say why."""
    lines = [line for line in (result.stderr or "").splitlines() if line.startswith("gpg:")]
    return "; ".join([str(result.status or "failed"), *(line.removeprefix("gpg: ") for line in lines[-3:])])
