"""Reading an OpenPGP public key with GnuPG (python-gnupg), in a throwaway keyring.

The GnuPG adapter: the gateway reads an uploaded key with it (whether the account accepts
the key — RSA 3072 or 4096, not expired, not already there — is :mod:`domain.account`'s
decision); list automation will decrypt files with it. What cannot be read as exactly one
public key is an :class:`InvalidPublicKey` (a :class:`~domain.errors.RuleViolation`) naming
the field at fault.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime

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
    with tempfile.TemporaryDirectory(prefix="dialstream-gpg-") as home:
        gpg = gnupg.GPG(gnupghome=home)
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
