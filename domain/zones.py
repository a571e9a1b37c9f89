"""IANA time-zone names, checked against the tz database that ships with Python's tzdata."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from domain.errors import RuleViolation


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def ensure_zone(name: str, field: str) -> None:
    if name not in known_zones():
        raise RuleViolation(f"{name!r} is not an IANA time zone (e.g. America/Chicago)", field=field)
