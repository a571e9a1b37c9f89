"""A real OpenSSH sshd for tests and benchmarks, started by ``compose/sshd.sh``: the SFTP peer
of list automation.

It listens on 127.0.0.1 only, on a free port, with its own host key and three system users made
for it (one logs in with a password, one with a key, one with a key and then the password); it
is stopped (by its pid) and its users removed when the context ends. Starting it never degrades to a skip: if sshd is missing or
does not start, :class:`SshdUnavailable` says why.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import services

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "compose" / "sshd.sh"
START_TIMEOUT = 60
STOP_TIMEOUT = 30


class SshdUnavailable(RuntimeError):
    """sshd could not be started; the message carries the script's diagnostics."""


@dataclass
class Server:
    """A running sshd: its address, its users and their secrets, all read from its directory."""

    url: str  # sftp://127.0.0.1:PORT
    directory: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def user(self, kind: str) -> str:
        """The user who logs in with a ``password``, a ``key``, or ``both`` (key, then password)."""
        users = dict(line.split() for line in (self.directory / "users").read_text().splitlines())
        return users[kind]

    @property
    def password(self) -> str:
        return (self.directory / "password").read_text().strip()

    @property
    def passphrase(self) -> str:
        return (self.directory / "passphrase").read_text().strip()

    def private_key(self, *, with_passphrase: bool = False) -> str:
        return (self.directory / ("client_key_pass" if with_passphrase else "client_key")).read_text()

    def host_key_fingerprint(self) -> str:
        """What ``ssh-keygen -lf`` says of the server's public host key: ``SHA256:...``."""
        printed = subprocess.run(
            ["ssh-keygen", "-lf", str(self.directory / "host_ed25519.pub")], capture_output=True, text=True, check=True
        ).stdout
        return printed.split()[1]

    def inbox(self, kind: str) -> Path:
        """The user's writable directory, as the server's file system has it."""
        return self.directory / "home" / self.user(kind) / "inbox"

    def stop(self) -> None:
        services.stop(SCRIPT, self.directory, STOP_TIMEOUT)

    def start(self) -> None:
        url = services.start(SCRIPT, self.directory, START_TIMEOUT, SshdUnavailable, "install openssh-server with `make deps`")
        if url != self.url:
            raise SshdUnavailable(f"sshd came back on {url}, not {self.url}")


@contextmanager
def running() -> Iterator[Server]:
    """A fresh sshd for the duration of the block."""
    directory = Path(tempfile.mkdtemp(prefix="dialstream-sshd-"))
    directory.chmod(0o755)  # the users' homes are inside: sshd's users must reach them
    try:
        url = services.start(SCRIPT, directory, START_TIMEOUT, SshdUnavailable, "install openssh-server with `make deps`")
        yield Server(url, directory)
    finally:
        try:
            services.stop(SCRIPT, directory, STOP_TIMEOUT)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
