"""What the command handlers answer: the aggregate a command created or changed and the log
position of its last event (a client can wait for the read models to reach it).

Its own module so that the handler modules of every concern import it without importing
:mod:`dialstream.handlers`, which assembles them (no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Done:
    """The aggregate a command created or changed, and the log position of its last event;
    ``first``, when known, the position of its first (a command's events are stored together)."""

    id: UUID
    position: int
    first: int | None = None


@dataclass(frozen=True)
class IssuedKey:
    """An API key just issued: its id, its secret (shown once) and the log position."""

    key_id: UUID
    secret: str
    position: int
