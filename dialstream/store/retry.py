"""Retry on conflict (beside the store, so that command handlers and processor hosts both use
it without importing upward): the one helper for "decide on fresh state, store, and if another writer
got there first (:class:`ConcurrencyConflict`), decide again".

Input: an attempt (load, decide, append — or a processor's whole batch in a unit of work);
output: its result. State: none. Guarantee: the attempt runs at most ``attempts`` times; the
last conflict is raised. ``on_conflict`` runs between a conflict and the next attempt (reload
what the next decision starts from). With ``settled``, a conflict after which ``settled()`` is true means
the work is done already (another worker recorded the batch's tracking position): the result
is then None and nothing is retried — a redelivered batch has no second effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from dialstream.store.events import ConcurrencyConflict

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 5


def retry_on_conflict(
    attempt: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    settled: Callable[[], bool] | None = None,
    on_conflict: Callable[[], object] | None = None,
    what: str = "",
) -> T | None:
    """Run ``attempt`` until it stores without a conflict (at most ``attempts`` times)."""
    for tried in range(1, attempts + 1):
        try:
            return attempt()
        except ConcurrencyConflict:
            if settled is not None and settled():
                log.debug("%s: handled already, nothing stored twice", what or "attempt")
                return None
            if tried == attempts:
                raise
            log.debug("%s: conflict, deciding again (%d/%d)", what or "attempt", tried, attempts)
            if on_conflict is not None:
                on_conflict()
    return None  # attempts < 1
