"""A customer's SFTP directory, with paramiko: where list automation fetches files and sends
exports (issue 17; the jobs that use it are not built yet).

- **Where**: :func:`domain.sftp_location.parse_location` reads the product's two forms, ``sftp://host[:port]/dir``
  and ``sftp:host/dir`` (port 22 unless given; the directory relative to the login's home
  unless it starts with ``//``, which names an absolute path, as in URLs).
- **Who**: :class:`SftpCredentials`, a user with a password, a private key (OpenSSH or PEM
  text, with its passphrase if it has one), or a key and then a password (the product's
  "username, SSH key, and password": a server that asks for both after each other). They are secrets: ``repr`` hides them, and neither the
  trace nor any error repeats them.
- **Which server**: the server's host key is pinned. :func:`host_key` reads it once, for a
  "trust" step that stores its fingerprint; :func:`connect` compares the key it is shown with
  the pinned fingerprint *before* it sends any credential, and refuses a mismatch with both
  fingerprints in the message (:class:`HostKeyMismatch`). Fingerprints are OpenSSH's
  ``SHA256:<base64>`` form, as ``ssh-keygen -lf`` prints them.
- **Trace**: every step of a connection attempt (connecting, the host key and its check, the
  login, the session) goes to the ``trace`` callback as a sentence, for the run's activity.

Failures are one of three exceptions, each saying what happened in words a person can act on:
:class:`SftpUnavailable` (the server cannot be reached, or the connection broke),
:class:`HostKeyMismatch`, :class:`LoginRefused`.

Transfers are whole or nothing: :meth:`SftpDirectory.fetch` writes to a temporary file beside
the target and renames it only once the size matches the server's; :meth:`SftpDirectory.send`
uploads to ``NAME.part`` and renames it on the server once complete, so the customer never
picks up half a file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import socket
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from domain.sftp_location import SftpLocation

Trace = Callable[[str], None]
TIMEOUT_S = 15.0


class SftpError(Exception):
    """An SFTP connection or transfer failed; the message says why."""


class SftpUnavailable(SftpError):
    """The server could not be reached, or the connection or a transfer broke."""


class HostKeyMismatch(SftpError):
    """The server showed a host key other than the pinned one: no credential was sent."""


class LoginRefused(SftpError):
    """The server refused the credentials."""


@dataclass(frozen=True)
class SftpCredentials:
    username: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)  # OpenSSH or PEM text
    passphrase: str | None = field(default=None, repr=False)

    def method(self) -> str:
        if self.private_key is not None:
            key = "a private key and its passphrase" if self.passphrase else "a private key"
            return f"{key} and a password" if self.password is not None else key
        return "a password"


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    modified: int  # epoch seconds, as the server reports


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:<base64 without padding>`` fingerprint of a public key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def host_key(
    location: SftpLocation, *, trace: Trace = lambda _: None, timeout_s: float = TIMEOUT_S
) -> tuple[str, str]:
    """The server's host key, read without logging in, as (key type, fingerprint): what a
    "trust this server" step shows and stores."""
    with _transport(location, trace, timeout_s) as transport:
        key = transport.get_remote_server_key()
        found = (key.get_name(), fingerprint(key))
        trace(f"host key of {location.host}:{location.port} is {found[0]} {found[1]}")
        return found


@contextmanager
def connect(
    location: SftpLocation,
    credentials: SftpCredentials,
    *,
    pinned: str,
    trace: Trace = lambda _: None,
    timeout_s: float = TIMEOUT_S,
) -> Iterator[SftpDirectory]:
    """An SFTP session in ``location``'s directory, on a server whose host key has the
    fingerprint ``pinned``; closed when the block ends."""
    key = _private_key(credentials)
    with _transport(location, trace, timeout_s) as transport:
        shown = transport.get_remote_server_key()
        actual = fingerprint(shown)
        if actual != pinned:
            trace(f"host key {shown.get_name()} {actual} is not the pinned {pinned}: not logging in")
            raise HostKeyMismatch(
                f"the host key of {location.host}:{location.port} is {actual}, not the pinned {pinned}: "
                "the server was replaced or someone is in between; trust its new key only if its owner confirms it"
            )
        trace(f"host key {shown.get_name()} {actual} matches the pinned one")
        try:
            if key is not None:
                still = transport.auth_publickey(credentials.username, key)
                # A server that wants a password after the key says so (partial success).
                if still and "password" in still and credentials.password is not None:
                    transport.auth_password(credentials.username, credentials.password)
            else:
                transport.auth_password(credentials.username, credentials.password or "")
            if not transport.is_authenticated():
                raise paramiko.AuthenticationException("more is asked than was given")
        except paramiko.AuthenticationException:
            trace(f"login as {credentials.username} with {credentials.method()} refused")
            raise LoginRefused(
                f"{location.host}:{location.port} refused the login of {credentials.username} with {credentials.method()}"
            ) from None
        except (paramiko.SSHException, OSError) as error:
            raise SftpUnavailable(
                f"the connection to {location.host}:{location.port} broke during login: {error}"
            ) from None
        trace(f"logged in as {credentials.username} with {credentials.method()}")
        try:
            client = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, OSError) as error:
            raise SftpUnavailable(
                f"{location.host}:{location.port} opened no SFTP session: {error}"
            ) from None
        if client is None:
            raise SftpUnavailable(f"{location.host}:{location.port} opened no SFTP session")
        client.get_channel().settimeout(timeout_s)
        try:
            directory = SftpDirectory(client, location)
            directory.check()
            trace(f"SFTP session open in {location.directory}")
            yield directory
        finally:
            # A session that broke (the server went, the user's session was killed) may fail
            # to close too: that must not hide why the block ended.
            with contextlib.suppress(OSError, paramiko.SSHException, EOFError):
                client.close()


class SftpDirectory:
    """One directory of an open session; every failure is an :class:`SftpUnavailable`."""

    def __init__(self, client: paramiko.SFTPClient, location: SftpLocation):
        self.client = client
        self.location = location

    def _path(self, name: str) -> str:
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"{name!r} is not a file name")
        directory = self.location.directory
        return name if directory == "." else f"{directory}/{name}"

    def check(self) -> None:
        try:
            mode = self.client.stat(self.location.directory).st_mode or 0
        except (OSError, paramiko.SSHException, EOFError) as error:
            raise SftpUnavailable(
                f"no directory {self.location.directory!r} on {self.location.host}: {error}"
            ) from None
        if not stat.S_ISDIR(mode):
            raise SftpUnavailable(f"{self.location.directory!r} on {self.location.host} is not a directory")

    def files(self) -> list[RemoteFile]:
        """The regular files of the directory, by name."""
        try:
            entries = self.client.listdir_attr(self.location.directory)
        except (OSError, paramiko.SSHException, EOFError) as error:
            raise SftpUnavailable(f"cannot list {self.location}: {error}") from None
        return sorted(
            (
                RemoteFile(entry.filename, entry.st_size or 0, entry.st_mtime or 0)
                for entry in entries
                if stat.S_ISREG(entry.st_mode or 0)
            ),
            key=lambda f: f.name,
        )

    def fetch(self, name: str, target: Path) -> int:
        """Download ``name`` to ``target`` whole (a temporary file renamed once complete):
        its size in bytes."""
        partial = target.with_name(target.name + ".part")
        try:
            expected = self.client.stat(self._path(name)).st_size or 0
            self.client.get(self._path(name), str(partial))
        except (OSError, paramiko.SSHException, EOFError) as error:
            partial.unlink(missing_ok=True)
            raise SftpUnavailable(f"the transfer of {name} from {self.location} broke: {error}") from None
        size = partial.stat().st_size
        if size != expected:
            partial.unlink(missing_ok=True)
            raise SftpUnavailable(
                f"the transfer of {name} from {self.location} stopped at {size} of {expected} bytes"
            )
        os.replace(partial, target)
        return size

    def send(self, source: Path, name: str) -> int:
        """Upload ``source`` as ``name`` whole (``name.part`` renamed on the server once
        complete): its size in bytes."""
        partial = self._path(name + ".part")
        try:
            sent = self.client.put(str(source), partial, confirm=True).st_size or 0
            try:
                self.client.posix_rename(partial, self._path(name))
            except OSError:
                self.client.rename(partial, self._path(name))  # a server without the extension
        except (OSError, paramiko.SSHException, EOFError) as error:
            raise SftpUnavailable(f"sending {name} to {self.location} broke: {error}") from None
        return sent

    def delete(self, name: str) -> None:
        try:
            self.client.remove(self._path(name))
        except (OSError, paramiko.SSHException, EOFError) as error:
            raise SftpUnavailable(f"cannot delete {name} in {self.location}: {error}") from None


@contextmanager
def _transport(location: SftpLocation, trace: Trace, timeout_s: float) -> Iterator[paramiko.Transport]:
    address = f"{location.host}:{location.port}"
    trace(f"connecting to {address}")
    try:
        sock = socket.create_connection((location.host, location.port), timeout=timeout_s)
    except OSError as error:
        trace(f"no connection to {address}: {error}")
        raise SftpUnavailable(f"cannot reach the SFTP server {address}: {error}") from None
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout_s
        transport.start_client(timeout=timeout_s)
    except (paramiko.SSHException, OSError, EOFError) as error:
        transport.close()
        trace(f"no SSH session with {address}: {error}")
        raise SftpUnavailable(f"{address} did not open an SSH session: {error}") from None
    try:
        yield transport
    finally:
        transport.close()


def _private_key(credentials: SftpCredentials) -> paramiko.PKey | None:
    if credentials.private_key is None:
        if credentials.password is None:
            raise ValueError("give a password or a private key")
        return None
    text, passphrase = credentials.private_key, credentials.passphrase
    for kind in (paramiko.RSAKey, paramiko.Ed25519Key, paramiko.ECDSAKey):
        try:
            return kind.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.PasswordRequiredException:
            raise ValueError("the private key is encrypted: give its passphrase") from None
        except paramiko.SSHException:
            continue
    raise ValueError(
        "the private key is not an RSA, Ed25519 or ECDSA key this system can read (or its passphrase is wrong)"
    )
