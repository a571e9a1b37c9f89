"""OpenPGP keys made by the real ``gpg`` binary in a throwaway GNUPGHOME.

gpg is a dependency of the product (public-key import), so a missing binary fails the
tests that need it instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def run(home: str, *args: str) -> str:
    gpg = shutil.which("gpg")
    assert gpg is not None, "the gpg binary is required (apt-get install gnupg)"
    result = subprocess.run(
        [gpg, "--batch", "--yes", "--no-tty", *args],
        env={**os.environ, "GNUPGHOME": home},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextmanager
def home() -> Iterator[str]:
    """A private GNUPGHOME, its agent stopped and the directory removed afterwards."""
    path = tempfile.mkdtemp(prefix="gpg-")  # short: gpg-agent's socket path has a length limit
    os.chmod(path, 0o700)
    try:
        yield path
    finally:
        gpgconf = shutil.which("gpgconf")
        if gpgconf:
            subprocess.run(
                [gpgconf, "--kill", "all"],
                env={**os.environ, "GNUPGHOME": path},
                capture_output=True,
                check=False,
            )
        shutil.rmtree(path, ignore_errors=True)


def generate(
    gnupg_home: str, user_id: str, algorithm: str, expires: str = "never", *, at: str | None = None
) -> str:
    """A new key pair; returns the ASCII-armored public key. ``at`` fakes gpg's clock."""
    clock = ["--faked-system-time", at] if at else []
    run(
        gnupg_home,
        *clock,
        "--passphrase",
        "",
        "--pinentry-mode",
        "loopback",
        "--quick-generate-key",
        user_id,
        algorithm,
        "default",
        expires,
    )
    return export(gnupg_home, user_id)


def export(gnupg_home: str, *user_ids: str) -> str:
    armored = run(gnupg_home, "--armor", "--export", *user_ids)
    assert "BEGIN PGP PUBLIC KEY BLOCK" in armored
    return armored
