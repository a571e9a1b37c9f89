"""The secret box: short secrets (SFTP passwords, private keys, passphrases) sealed with the
deployment's key, so that an event, a read model or a log line never holds one in clear.

A sealed secret is ``sealed:v1:`` followed by a Fernet token (AES-128-CBC with an
HMAC-SHA256, from ``cryptography``): tampering or the wrong key is refused, never read as
garbage. The prefix names the format, so a later one can sit beside it.

The key is a Fernet key (32 random bytes, URL-safe base64: 44 characters). Given
(``DIALSTREAM_SECRET_KEY``), it is used as is. Not given, it is kept in
``<data_dir>/secret.key``, made on first use, readable by its owner only. That file suits one
process, or processes sharing the data directory; a deployment of many processes on several
machines sets ``DIALSTREAM_SECRET_KEY`` to the same key in every one of them (a copy of the
first process's ``secret.key`` will do), since a secret sealed by one is opened by another.
Losing the key loses every secret sealed with it: back it up with the database.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "sealed:v1:"
KEY_FILE = "secret.key"
MAKE_ONE = 'python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'


class SecretUnreadable(Exception):
    """A sealed secret this box cannot open: sealed with another key, or not a sealed secret.

    Not a DomainError: no command is at fault; the deployment's key is (it changed, or a
    process was started without the shared one).
    """


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a Fernet key (None: it is one); never repeats the key."""
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        return (
            f"the secret key is 32 random bytes in URL-safe base64 (44 characters); make one with {MAKE_ONE}"
        )
    return None


class SecretBox:
    """Seals and opens secrets with one key: ``key`` if given (``key_source`` names where it
    came from, for errors), else the one kept in ``directory``/secret.key, read or made on
    first use."""

    def __init__(
        self, key: str = "", *, directory: Path | None = None, key_source: str = "DIALSTREAM_SECRET_KEY"
    ):
        self._fernet: Fernet | None = None
        self._file: Path | None = None
        if key:
            if problem := key_problem(key):
                raise ValueError(problem)
            self._fernet = Fernet(key)
            self._source = key_source
        elif directory is not None:
            self._file = directory / KEY_FILE
            self._source = str(self._file)
        else:
            raise ValueError("give the secret key, or the directory that keeps it")
        self._loading = threading.Lock()

    def seal(self, text: str) -> str:
        return PREFIX + self._box().encrypt(text.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        if not sealed.startswith(PREFIX):
            raise SecretUnreadable(f"not a sealed secret (a sealed secret starts with {PREFIX!r})")
        try:
            return self._box().decrypt(sealed.removeprefix(PREFIX).encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise SecretUnreadable(
                f"a stored secret cannot be opened with the secret key of {self._source}: it was sealed "
                "with another key (was the key changed, or is this process not given the deployment's key?)"
            ) from None

    def _box(self) -> Fernet:
        with self._loading:
            if self._fernet is None:
                assert self._file is not None
                self._fernet = Fernet(_kept_key(self._file))
            return self._fernet


def _kept_key(path: Path) -> bytes:
    """The key in ``path``, made there first if there is none. Written whole to a temporary
    file and linked into place, so a process that starts at the same moment either makes
    the key or reads the complete one, never half of it."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(Fernet.generate_key() + b"\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    if key_problem(key.decode("ascii", "replace")):
        raise SecretUnreadable(f"{path} does not hold a secret key (44 characters of URL-safe base64)")
    return key
