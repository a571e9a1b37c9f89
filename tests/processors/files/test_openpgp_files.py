"""OpenPGP files with the real gpg: an account's key pair, a file encrypted to it decrypted
whole, a clear file, one encrypted to another key and a corrupt one refused with their reasons,
and an export encrypted to two users' keys that each decrypts with the gpg command line."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from processors.files.openpgp import (
    DecryptionFailed,
    KeyPair,
    NotEncrypted,
    decrypt_file,
    encrypt_file,
    generate_key_pair,
    is_encrypted,
)

ROWS = b"client_id,phone\n" + b"".join(b"C%05d,+121255%05d\n" % (n, n) for n in range(20_000))


@pytest.fixture(scope="module")
def account() -> KeyPair:
    return generate_key_pair("Acme via Dialstream", "lists@acme.example")


@pytest.fixture(scope="module")
def users() -> list[KeyPair]:
    return [generate_key_pair(f"User {n}", f"user{n}@acme.example", bits=3072) for n in (1, 2)]


@pytest.fixture
def gpg_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    yield home


def gpg(home: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--yes", *args], input=stdin, capture_output=True, check=False)


def encrypt_with_gpg(home: Path, public_armored: str, clear: Path, out: Path, *, armor: bool) -> None:
    assert gpg(home, "--import", stdin=public_armored.encode()).returncode == 0
    flags = ["--armor"] if armor else []
    done = gpg(home, "--trust-model", "always", *flags, "--recipient-file", "-", "--output", str(out), "--encrypt", str(clear), stdin=public_armored.encode())
    assert done.returncode == 0, done.stderr


def test_the_account_key_pair_is_rsa_4096_and_its_private_half_stays_out_of_repr(account: KeyPair, gpg_home: Path) -> None:
    assert "PRIVATE KEY" in account.private_armored and "PRIVATE" not in repr(account)
    listed = gpg(gpg_home, "--with-colons", "--show-keys", stdin=account.public_armored.encode()).stdout.decode()
    pub = next(line.split(":") for line in listed.splitlines() if line.startswith("pub:"))
    assert (pub[2], pub[3]) == ("4096", "1")  # RSA 4096
    assert account.fingerprint in listed


@pytest.mark.parametrize("armor", [False, True])
def test_a_file_encrypted_to_the_account_key_decrypts_whole(account: KeyPair, gpg_home: Path, tmp_path: Path, armor: bool) -> None:
    clear = tmp_path / "leads.csv"
    clear.write_bytes(ROWS)
    sealed = tmp_path / "leads.csv.pgp"
    encrypt_with_gpg(gpg_home, account.public_armored, clear, sealed, armor=armor)
    assert is_encrypted(sealed) and not is_encrypted(clear)
    out = tmp_path / "out.csv"
    assert decrypt_file(sealed, out, account) == len(ROWS)
    assert out.read_bytes() == ROWS and not (tmp_path / "out.csv.part").exists()


def test_a_clear_file_for_a_secured_job_is_refused(account: KeyPair, tmp_path: Path) -> None:
    clear = tmp_path / "leads.csv"
    clear.write_bytes(ROWS)
    with pytest.raises(NotEncrypted, match=r"leads\.csv is not OpenPGP encrypted data"):
        decrypt_file(clear, tmp_path / "out.csv", account)


def test_a_file_for_another_key_or_corrupt_or_cut_short_fails_and_leaves_nothing(
    account: KeyPair, users: list[KeyPair], gpg_home: Path, tmp_path: Path
) -> None:
    clear = tmp_path / "leads.csv"
    clear.write_bytes(ROWS)
    other = tmp_path / "other.pgp"
    encrypt_with_gpg(gpg_home, users[0].public_armored, clear, other, armor=False)
    with pytest.raises(DecryptionFailed, match=r"other\.pgp could not be decrypted: no secret key; .*decryption failed: No secret key"):
        decrypt_file(other, tmp_path / "out.csv", account)
    sealed = tmp_path / "sealed.pgp"
    encrypt_with_gpg(gpg_home, account.public_armored, clear, sealed, armor=False)
    data = sealed.read_bytes()
    corrupt = tmp_path / "corrupt.pgp"
    corrupt.write_bytes(data[: len(data) // 2] + bytes(b ^ 0xFF for b in data[len(data) // 2 : len(data) // 2 + 64]) + data[len(data) // 2 + 64 :])
    cut = tmp_path / "cut.pgp"
    cut.write_bytes(data[: len(data) // 2])
    for broken in (corrupt, cut):
        with pytest.raises(DecryptionFailed, match=re.escape(f"{broken.name} could not be decrypted")):
            decrypt_file(broken, tmp_path / "out.csv", account)
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.part").exists()


def test_an_export_is_armoured_for_every_user_key_and_each_decrypts_with_gpg(
    users: list[KeyPair], tmp_path: Path
) -> None:
    clear = tmp_path / "export.csv"
    clear.write_bytes(ROWS)
    sealed = tmp_path / "export.csv.asc"
    encrypt_file(clear, sealed, [user.public_armored for user in users])
    assert sealed.read_bytes().startswith(b"-----BEGIN PGP MESSAGE-----")
    for n, user in enumerate(users):
        home = tmp_path / f"user{n}"
        home.mkdir(mode=0o700)
        assert gpg(home, "--import", stdin=user.private_armored.encode()).returncode == 0
        done = gpg(home, "--decrypt", str(sealed))
        assert done.returncode == 0, done.stderr
        assert done.stdout == ROWS
