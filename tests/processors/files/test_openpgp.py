"""The GnuPG adapter against the real ``gpg``: an armored block read as exactly one public key,
or an :class:`InvalidPublicKey` (a domain ``RuleViolation``) naming the field at fault."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from domain.errors import RuleViolation
from processors.files.openpgp import InvalidPublicKey, read_public_key
from tests.gateway import gpg

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
GARBAGE = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\ngarbage\n-----END PGP PUBLIC KEY BLOCK-----\n"


@pytest.fixture(scope="module")
def gnupg_home() -> Iterator[str]:
    with gpg.home() as path:
        yield path


def test_an_rsa_key_is_read_with_its_fingerprint_and_algorithm(gnupg_home: str) -> None:
    armored = gpg.generate(gnupg_home, "Reader <r@example.com>", "rsa3072")

    key = read_public_key(armored, user_id=" r@example.com ", now=NOW)

    assert (key.algorithm, key.key_type, key.user_id) == ("rsa3072", "OpenPGP", "r@example.com")
    assert len(key.fingerprint) == 40 and key.fingerprint == key.fingerprint.upper()
    assert (key.uploaded_at, key.expires_at, key.armored) == (NOW, None, armored.strip())


@pytest.mark.parametrize(
    ("armored", "user_id", "field"),
    [
        ("hello", "r@example.com", "armored"),  # not armored
        (GARBAGE, "r@example.com", "armored"),  # armored, but no key gpg can read
        ("-----BEGIN PGP PUBLIC KEY BLOCK-----", "  ", "user_id"),
    ],
)
def test_what_is_not_one_key_is_a_rule_violation_naming_the_field(armored: str, user_id: str, field: str) -> None:
    with pytest.raises(InvalidPublicKey) as refused:
        read_public_key(armored, user_id=user_id, now=NOW)

    assert isinstance(refused.value, RuleViolation)  # the gateway answers 422 naming the field
    assert refused.value.field == field
    assert refused.value.title == "Invalid public key"


def test_two_keys_in_one_block_are_refused(gnupg_home: str) -> None:
    gpg.generate(gnupg_home, "One <one@example.com>", "rsa3072")
    gpg.generate(gnupg_home, "Two <two@example.com>", "rsa3072")
    both = gpg.export(gnupg_home, "one@example.com", "two@example.com")

    with pytest.raises(InvalidPublicKey, match="exactly one public key, found 2") as refused:
        read_public_key(both, user_id="one@example.com", now=NOW)

    assert refused.value.field == "armored"
