"""Reading an uploaded OpenPGP public key with GnuPG (python-gnupg), in a throwaway keyring."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime

import gnupg

from gateway.problems import Problem
from schemas.settings import PublicKey

# RFC 4880 public-key algorithm ids that are RSA.
_RSA = {"1", "2", "3"}


def read_public_key(armored: str, *, user_id: str, now: datetime) -> PublicKey:
    if "BEGIN PGP PUBLIC KEY BLOCK" not in armored:
        raise Problem(
            422,
            "Invalid public key",
            "expected an ASCII-armored OpenPGP public key",
            field="armored",
        )
    if not user_id.strip():
        raise Problem(422, "Invalid public key", "a user id (e-mail) is required", field="user_id")
    with tempfile.TemporaryDirectory(prefix="dialstream-gpg-") as home:
        gpg = gnupg.GPG(gnupghome=home)
        keys = gpg.scan_keys_mem(armored)
    primaries = [k for k in keys if k.get("type") == "pub"]
    if len(primaries) != 1:
        raise Problem(
            422,
            "Invalid public key",
            f"expected exactly one public key, found {len(primaries)}",
            field="armored",
        )
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
