"""How stored state becomes an API representation, read from the catalogue projection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from dialstream.bootstrap import Runtime
from dialstream.queries.dialability import PreDialGate, Question
from dialstream.results import Done
from domain.predial import Verdict
from gateway.io import respond
from gateway.problems import Problem
from processors.compliance.predial import PreDialRequest, PreDialValidator

HIDDEN = ("deleted", "archived")


def view(state: Any, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = msgspec.to_builtins(state)
    for field in HIDDEN:
        body.pop(field, None)
    body.update({k: msgspec.to_builtins(v) for k, v in extra.items()})
    return body


def fetch(runtime: Runtime, account_id: UUID, kind: str, object_id: UUID, label: str) -> Any:
    state = runtime.catalogue.get(account_id, kind, object_id)
    if state is None:
        raise Problem(404, "Not found", f"{label} {object_id} not found", field="id")
    return state


def settled(runtime: Runtime, done: Done) -> None:
    """Wait until the read models include the command's events (read-your-writes)."""
    if not runtime.wait(done.position, since=done.first):
        raise Problem(
            503,
            "Read models behind",
            "the change is stored but the read models have not caught up yet; read it again shortly",
        )


def respond_state(state: Any, *, status: int = 200, **extra: Any) -> Any:
    return respond(view(state, **extra), status=status, version=state.version)


def predial(runtime: Runtime) -> PreDialValidator:
    """The process's pre-dial gate; without one there is no verdict, so no call (503)."""
    if runtime.predial is None:
        raise Problem(
            503,
            "Pre-dial validation unavailable",
            "this process has no pre-dial validator (suppression index and compliance settings "
            "are not wired); no verdict, so no call",
        )
    return runtime.predial


class _ValidatorGate:
    """The process's pre-dial validator as the dialability query's gate."""

    def __init__(self, validator: PreDialValidator):
        self.validator = validator

    def now(self) -> datetime:
        return self.validator.clock()

    def judge(self, questions: Sequence[Question]) -> list[Verdict]:
        return self.validator.validate_many([PreDialRequest(**msgspec.structs.asdict(q)) for q in questions])


def predial_gate(runtime: Runtime) -> PreDialGate:
    """The process's pre-dial gate for the dialability query; without one, 503 (:func:`predial`)."""
    return _ValidatorGate(predial(runtime))
