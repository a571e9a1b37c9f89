"""A claim on a name, one aggregate per (account, kind, name), so names stay unique.

Its id derives from the natural key, so two concurrent creations of the same name
write the same aggregate version and the event store refuses the second.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.aggregate import Aggregate, Changes, projector, touched
from domain.errors import NameTaken, RuleViolation
from schemas.base import Event
from schemas.settings import NameClaimed, NameReleased


class NameClaim(Aggregate, frozen=True, kw_only=True):
    kind: str
    name: str
    owner_id: UUID | None


def clean(name: str, field: str = "name") -> str:
    """The name as stored: inner whitespace collapsed; empty or over-long names refused."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise RuleViolation("a name is required", field=field)
    if len(cleaned) > 200:
        raise RuleViolation("a name is at most 200 characters", field=field)
    return cleaned


def normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


def claim_id(account_id: UUID, kind: str, name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"dialstream:name:{account_id}:{kind}:{normalise(name)}")


def claim(
    state: NameClaim | None,
    *,
    account_id: UUID,
    kind: str,
    name: str,
    owner_id: UUID,
    now: datetime,
    label: str,
) -> list[Event]:
    """Claim ``name`` for ``owner_id``; ``label`` names the kind in the error ("dialing profile")."""
    if state is not None and state.owner_id not in (None, owner_id):
        raise NameTaken(f"a {label} named {name!r} already exists", field="name")
    if state is not None and state.owner_id == owner_id:
        return []
    aggregate_id = claim_id(account_id, kind, name)
    changes = Changes(aggregate_id, account_id, state.version if state else 0, now)
    changes.record(NameClaimed, kind=kind, name=name, owner_id=owner_id)
    return changes.events


def rename(
    owner: Any,
    name: str,
    *,
    new_claim: NameClaim | None,
    old_claim: NameClaim | None,
    kind: str,
    label: str,
    now: datetime,
) -> list[Event]:
    """Move ``owner`` (an aggregate with a name) to ``name``: claim it, release the old one."""
    if normalise(name) == normalise(owner.name):
        return []
    events = claim(
        new_claim,
        account_id=owner.account_id,
        kind=kind,
        name=name,
        owner_id=owner.id,
        now=now,
        label=label,
    )
    return events + (release(old_claim, now=now) if old_claim is not None else [])


def release(state: NameClaim, *, now: datetime) -> list[Event]:
    if state.owner_id is None:
        return []
    changes = Changes.of(state, now)
    changes.record(NameReleased, kind=state.kind, name=state.name, owner_id=state.owner_id)
    return changes.events


def evolve(state: NameClaim | None, event: Event) -> NameClaim | None:
    if isinstance(event, NameClaimed):
        if state is None:
            return NameClaim(
                id=event.originator_id,
                version=event.originator_version,
                account_id=event.account_id,
                created_on=event.timestamp,
                modified_on=event.timestamp,
                kind=event.kind,
                name=event.name,
                owner_id=event.owner_id,
            )
        return touched(state, event, owner_id=event.owner_id, name=event.name)
    if state is not None and isinstance(event, NameReleased):
        return touched(state, event, owner_id=None)
    return state


project = projector(evolve)
