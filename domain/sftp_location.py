"""Where a list automation job's files are: ``sftp://host[:port]/dir`` or ``sftp:host/dir``, the
two forms of the product's document, as a host, a port and a directory."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 22


@dataclass(frozen=True)
class SftpLocation:
    host: str
    port: int
    directory: str  # relative to the login's home, or absolute

    def __str__(self) -> str:
        return f"sftp://{self.host}:{self.port}/{self.directory}"


def parse_location(text: str) -> SftpLocation:
    """``sftp://host[:port]/dir`` or ``sftp:host/dir`` (ValueError saying what is wrong)."""
    value = text.strip()
    if value.startswith("sftp:") and not value.startswith("sftp://"):
        value = "sftp://" + value.removeprefix("sftp:")
    parts = urlsplit(value)
    if parts.scheme != "sftp":
        raise ValueError(
            f"{text!r} is not an SFTP location: sftp://host[:port]/directory or sftp:host/directory"
        )
    if not parts.hostname:
        raise ValueError(f"{text!r} names no host")
    if parts.username or parts.password:
        raise ValueError(
            f"{text!r} carries a user name or password: give those as credentials, not in the location"
        )
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"{text!r} has a port that is not a number from 1 to 65535") from None
    if parts.query or parts.fragment:
        raise ValueError(f"{text!r} has a query or fragment; an SFTP location is a host and a directory")
    # "/dir" is the home's dir; "//dir" is /dir from the root, as a URL's path says it.
    directory = parts.path[1:] if parts.path.startswith("//") else parts.path.removeprefix("/")
    directory = directory.rstrip("/") or ("/" if directory.startswith("/") else ".")
    return SftpLocation(parts.hostname, port, directory)
