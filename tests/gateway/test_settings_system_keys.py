"""/api/v1/settings/ssh-public-key and /pgp-public-key: the account's own key pairs, made on
the first download (RSA 4096, real: paramiko and gpg), the same ever after, and their private
halves never shown nor stored in clear."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import paramiko
import pytest

from dialstream.bootstrap import Runtime
from processors.files.sftp import fingerprint
from schemas.base import Event
from schemas.settings import SystemPgpKeyGenerated, SystemSshKeyGenerated
from tests.gateway import gpg
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

SSH = f"{h.SETTINGS}/ssh-public-key"
PGP = f"{h.SETTINGS}/pgp-public-key"


@pytest.fixture(scope="module")
def ssh_download(viewer: httpx.Client) -> httpx.Response:
    """The first download, by the least of the roles that read settings."""
    return h.get(viewer, SSH)


@pytest.fixture(scope="module")
def pgp_download(viewer: httpx.Client) -> httpx.Response:
    return h.get(viewer, PGP)


def _stored_json(runtime: Runtime) -> Iterator[str]:
    """Every event of the store, as the JSON it is stored as."""
    after = 0
    while entries := runtime.store.read_log(after, limit=1000):
        for entry in entries:
            assert entry.state is not None  # read from the store: as stored
            yield entry.state.decode()
        after = entries[-1].position


def _events_of(runtime: Runtime, account: Account, event_class: type[Event]) -> list[Event]:
    found: list[Event]
    after, found = 0, []
    while batch := runtime.store.read(after, limit=1000):
        found += [e for _, e in batch if isinstance(e, event_class) and e.account_id == account.id]
        after = batch[-1][0]
    return found


def test_the_ssh_public_key_is_one_openssh_line_of_an_rsa_4096_key(
    ssh_download: httpx.Response, viewer: httpx.Client
) -> None:
    assert ssh_download.headers["content-type"].startswith("text/plain")
    assert ssh_download.headers["content-disposition"] == 'attachment; filename="dialstream_rsa.pub"'
    line = ssh_download.text
    assert line.endswith("\n") and line.count("\n") == 1  # one line, as authorized_keys takes it
    kind, blob, _comment = line.split()
    key = paramiko.RSAKey(data=base64.b64decode(blob))
    assert (kind, key.get_bits()) == ("ssh-rsa", 4096)
    shown = h.get(viewer, h.SETTINGS).json()["system_ssh_key"]
    assert shown["fingerprint"] == fingerprint(key) and shown["public_key"] == line.strip()


def test_the_pgp_public_key_imports_into_gnupg_as_an_rsa_4096_key(
    pgp_download: httpx.Response, viewer: httpx.Client, tmp_path: Path
) -> None:
    assert pgp_download.headers["content-type"].startswith("application/pgp-keys")
    assert pgp_download.headers["content-disposition"] == 'attachment; filename="dialstream.asc"'
    assert "PRIVATE" not in pgp_download.text
    (tmp_path / "dialstream.asc").write_text(pgp_download.text)
    with gpg.home() as home:
        gpg.run(home, "--import", str(tmp_path / "dialstream.asc"))
        listed = gpg.run(home, "--with-colons", "--list-keys")
        secret = gpg.run(home, "--with-colons", "--list-secret-keys")
    (pub,) = [line.split(":") for line in listed.splitlines() if line.startswith("pub:")]
    (fpr,) = re.findall(r"^fpr:+([0-9A-F]{40}):", listed, re.MULTILINE)[:1]
    assert (pub[3], pub[2]) == ("1", "4096")  # RSA, 4096 bits
    assert "e" in pub[11].lower()  # customers can encrypt to it
    assert secret == ""  # a public key only
    assert h.get(viewer, h.SETTINGS).json()["system_pgp_key"]["fingerprint"] == fpr


def test_a_second_download_gives_the_same_keys_and_makes_none(
    ssh_download: httpx.Response,
    pgp_download: httpx.Response,
    admin: httpx.Client,
    account_a: Account,
    runtime: Runtime,
) -> None:
    assert h.get(admin, SSH).text == ssh_download.text
    assert h.get(admin, PGP).text == pgp_download.text
    assert len(_events_of(runtime, account_a, SystemSshKeyGenerated)) == 1
    assert len(_events_of(runtime, account_a, SystemPgpKeyGenerated)) == 1


def test_the_ssh_and_pgp_keys_are_separate_key_pairs(
    ssh_download: httpx.Response, pgp_download: httpx.Response, runtime: Runtime, account_a: Account
) -> None:
    ssh = runtime.handlers.accounts.ssh_key(account_a.id)
    pgp = runtime.handlers.accounts.pgp_key(account_a.id)

    assert ssh.public_key == ssh_download.text.strip()
    assert pgp.public_key.strip() == pgp_download.text.strip()
    assert ssh.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert "BEGIN PGP PRIVATE KEY BLOCK" in pgp.private_key
    assert ssh.private_key not in pgp.private_key


def test_no_private_key_is_shown_or_stored_in_clear(
    ssh_download: httpx.Response,
    pgp_download: httpx.Response,
    admin: httpx.Client,
    account_a: Account,
    runtime: Runtime,
) -> None:
    # The lines of each private key that its public key does not also hold (an armoured
    # OpenPGP secret key repeats the public key's packets), as JSON would hold them.
    material = [
        line
        for pair in (
            runtime.handlers.accounts.ssh_key(account_a.id),
            runtime.handlers.accounts.pgp_key(account_a.id),
        )
        for line in pair.private_key.splitlines()
        if len(line) > 40 and line not in pair.public_key
    ]
    settings = h.get(admin, h.SETTINGS).text
    stored = "\n".join(_stored_json(runtime))

    assert len(material) > 50
    assert "sealed_private_keys" not in settings and "sealed:" not in settings
    assert "PRIVATE KEY" not in settings and "PRIVATE KEY" not in stored
    assert not [line for line in material if line in settings or line in stored]
    assert "sealed:v1:" in stored


def test_the_key_downloads_need_an_api_key_and_are_documented(base_url: str) -> None:
    for path in (SSH, PGP):
        h.assert_problem(httpx.get(base_url + path), 401)
    paths = httpx.get(f"{base_url}/openapi.json").json()["paths"]
    assert {"get"} <= set(paths[SSH]) and {"get"} <= set(paths[PGP])
