"""The one clock of the services: aware UTC now (injected where a test needs another)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
