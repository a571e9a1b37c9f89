"""Objects that upload rules use: who uses them, and no archiving while anyone does.

Specification files and data mappings record each rule that starts or stops using them
(``*.referenced`` / ``*.released``) in the same append as the rule's own change, so the
"in use" check below holds under concurrency.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from domain import name_claim
from domain.aggregate import Aggregate, Changes, existing
from domain.errors import InUse
from domain.name_claim import NameClaim
from schemas.base import Event

S = TypeVar("S", bound=Aggregate)


def archive(
    state: S | None, archived: type[Event], *, label: str, claim: NameClaim | None, now: datetime
) -> list[Event]:
    used: Any = existing(state, label, "id")
    if used.used_by:
        raise InUse(
            f"{label} {used.name!r} is used by {len(used.used_by)} upload rule(s); change or delete them first",
            field="id",
        )
    changes = Changes.of(used, now)
    changes.record(archived)
    return (name_claim.release(claim, now=now) if claim else []) + changes.events


def reference(
    state: S | None, referenced: type[Event], rule_id: UUID, *, label: str, field: str, now: datetime
) -> list[Event]:
    """A rule starts to use the object (which must exist and not be archived)."""
    used: Any = existing(state, label, field)
    if rule_id in used.used_by:
        return []
    changes = Changes.of(used, now)
    changes.record(referenced, by_id=rule_id)
    return changes.events


def release(state: Any, released: type[Event], rule_id: UUID, *, now: datetime) -> list[Event]:
    if rule_id not in state.used_by:
        return []
    changes = Changes.of(state, now)
    changes.record(released, by_id=rule_id)
    return changes.events
