"""Topic ``call-attempts``: the attempts made to records, one stream per record (keyed by the
record's id).

An attempt is recorded when the dialer (or a channel adapter) makes it, whatever its outcome:
it is what attempt rules count ("no more than N attempts today / in the last H hours", per
client id, per device or both, across every list and channel). Results and treatments of an
attempt belong to call results.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from schemas import topics
from schemas.base import Event
from schemas.profiles import Channel


class CallAttemptEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.CALL_ATTEMPTS


class CallAttemptMade(CallAttemptEvent, frozen=True, kw_only=True, tag="call_attempt.made"):
    """An attempt to the record's device (the event's timestamp is when it was made)."""

    attempt_id: UUID  # the dialer's, so a retried report is stored once
    list_id: UUID
    client_id: str
    chain_n: int
    device: str  # the E.164 number or e-mail address the attempt went to
    channel: Channel
    campaign_group_id: UUID | None = None


EVENTS: tuple[type[Event], ...] = (CallAttemptMade,)
