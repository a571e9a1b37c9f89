"""The SFTP adapter against a real OpenSSH sshd (``compose/sshd.sh`` on a loopback port, its
own host key, a user with a password, one with a key, one with both): the location forms, the host key
pinned and checked before any credential is sent, the three ways to log in, whole-or-nothing
transfers, and each failure said in words, traced, and never with a secret."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.sftp_location import SftpLocation, parse_location
from processors.files.sftp import (
    HostKeyMismatch,
    LoginRefused,
    SftpCredentials,
    SftpUnavailable,
    connect,
    host_key,
)
from tests import sshd
from tests.processors.channels.unused_port import refusing_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> Iterator[sshd.Server]:
    with sshd.running() as running:
        yield running


def location(server: sshd.Server, directory: str = "inbox") -> SftpLocation:
    return parse_location(f"{server.url}/{directory}")


def open_and_close(*args: Any, **kwargs: Any) -> None:
    with connect(*args, **kwargs):
        pass


def password_login(server: sshd.Server) -> SftpCredentials:
    return SftpCredentials(server.user("password"), password=server.password)


def test_the_products_two_location_forms() -> None:
    assert parse_location("sftp://files.example.com/outbound") == SftpLocation("files.example.com", 22, "outbound")
    assert parse_location("sftp:files.example.com/outbound/") == SftpLocation("files.example.com", 22, "outbound")
    assert parse_location("sftp://127.0.0.1:2222/a/b") == SftpLocation("127.0.0.1", 2222, "a/b")
    assert parse_location("sftp://files.example.com//srv/drop") == SftpLocation("files.example.com", 22, "/srv/drop")
    assert parse_location("sftp://files.example.com") == SftpLocation("files.example.com", 22, ".")
    for wrong, words in [
        ("ftp://files.example.com/x", "not an SFTP location"),
        ("sftp:///x", "names no host"),
        ("sftp://bob:secret@files.example.com/x", "give those as credentials"),
        ("sftp://files.example.com:99999/x", "port"),
        ("sftp://files.example.com/x?y=1", "query"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_location(wrong)


def test_the_host_key_read_once_is_the_servers_own(server: sshd.Server) -> None:
    traced: list[str] = []
    kind, found = host_key(location(server), trace=traced.append)
    assert (kind, found) == ("ssh-ed25519", server.host_key_fingerprint())
    assert traced[0] == f"connecting to 127.0.0.1:{server.port}" and found in traced[-1]


def test_a_password_login_lists_fetches_sends_and_deletes_whole_files(server: sshd.Server, tmp_path: Path) -> None:
    inbox = server.inbox("password")
    (inbox / "leads.csv").write_bytes(b"client_id,phone\nC1,+12125550101\n")
    os.chown(inbox / "leads.csv", *_owner(inbox))
    traced: list[str] = []
    with connect(location(server), password_login(server), pinned=server.host_key_fingerprint(), trace=traced.append) as files:
        assert [(f.name, f.size) for f in files.files()] == [("leads.csv", 32)]
        assert files.fetch("leads.csv", tmp_path / "leads.csv") == 32
        assert (tmp_path / "leads.csv").read_bytes() == b"client_id,phone\nC1,+12125550101\n"
        assert not (tmp_path / "leads.csv.part").exists()
        export = tmp_path / "results.csv"
        export.write_bytes(b"x" * 100_000)
        assert files.send(export, "results.csv") == 100_000
        files.delete("leads.csv")
        assert [f.name for f in files.files()] == ["results.csv"]  # no .part left behind
    assert (inbox / "results.csv").read_bytes() == b"x" * 100_000
    assert traced == [
        f"connecting to 127.0.0.1:{server.port}",
        f"host key ssh-ed25519 {server.host_key_fingerprint()} matches the pinned one",
        f"logged in as {server.user('password')} with a password",
        "SFTP session open in inbox",
    ]
    assert not any(server.password in line for line in traced)


@pytest.mark.parametrize("with_passphrase", [False, True])
def test_a_key_login_with_or_without_a_passphrase(server: sshd.Server, with_passphrase: bool) -> None:
    credentials = SftpCredentials(
        server.user("key"),
        private_key=server.private_key(with_passphrase=with_passphrase),
        passphrase=server.passphrase if with_passphrase else None,
    )
    assert server.passphrase not in repr(credentials) and "PRIVATE KEY" not in repr(credentials)
    traced: list[str] = []
    with connect(location(server), credentials, pinned=server.host_key_fingerprint(), trace=traced.append) as files:
        assert files.files() == []
    method = "a private key and its passphrase" if with_passphrase else "a private key"
    assert f"logged in as {server.user('key')} with {method}" in traced
    with pytest.raises(ValueError, match="encrypted: give its passphrase"):
        open_and_close(location(server), SftpCredentials(server.user("key"), private_key=server.private_key(with_passphrase=True)), pinned="")


def test_a_server_that_wants_the_key_and_then_the_password_gets_both(server: sshd.Server) -> None:
    """The product's "username, SSH key, and password": sshd asks for a key, then a password."""
    user = server.user("both")
    both = SftpCredentials(user, private_key=server.private_key(), password=server.password)
    traced: list[str] = []
    with connect(location(server), both, pinned=server.host_key_fingerprint(), trace=traced.append) as files:
        assert files.files() == []
    assert f"logged in as {user} with a private key and a password" in traced
    for half in (SftpCredentials(user, private_key=server.private_key()), SftpCredentials(user, password=server.password)):
        with pytest.raises(LoginRefused, match=f"refused the login of {user}"):
            open_and_close(location(server), half, pinned=server.host_key_fingerprint())


def test_a_wrong_password_is_refused_without_repeating_it(server: sshd.Server) -> None:
    wrong = SftpCredentials(server.user("password"), password="not-the-password-42")
    traced: list[str] = []
    with pytest.raises(LoginRefused, match=f"refused the login of {server.user('password')} with a password") as refused:
        open_and_close(location(server), wrong, pinned=server.host_key_fingerprint(), trace=traced.append)
    assert "not-the-password-42" not in str(refused.value) and not any("not-the-password-42" in t for t in traced)
    assert traced[-1] == f"login as {server.user('password')} with a password refused"


def test_a_host_key_mismatch_refuses_before_any_credential_is_sent(server: sshd.Server) -> None:
    pinned = "SHA256:" + "A" * 43
    log = server.directory / "sshd.log"
    before = log.stat().st_size
    traced: list[str] = []
    with pytest.raises(HostKeyMismatch) as refused:
        open_and_close(location(server), password_login(server), pinned=pinned, trace=traced.append)
    message = str(refused.value)
    assert server.host_key_fingerprint() in message and pinned in message
    assert not any("logged in" in t or "login" in t for t in traced), traced
    with log.open("rb") as since:
        since.seek(before)
        assert b"password" not in since.read(), "sshd saw no login attempt"


def test_a_server_that_is_down_or_a_missing_directory(server: sshd.Server) -> None:
    with refusing_port() as port:
        traced: list[str] = []
        with pytest.raises(SftpUnavailable, match=f"cannot reach the SFTP server 127.0.0.1:{port}"):
            open_and_close(SftpLocation("127.0.0.1", port, "inbox"), password_login(server), pinned="x", trace=traced.append)
        assert traced[-1].startswith(f"no connection to 127.0.0.1:{port}")
    with pytest.raises(SftpUnavailable, match="no directory 'outbox'"):
        open_and_close(location(server, "outbox"), password_login(server), pinned=server.host_key_fingerprint())


def _owner(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_uid, info.st_gid
