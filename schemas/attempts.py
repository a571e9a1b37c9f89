"""Topic ``call-attempts``: the attempts made to records, one stream per record (keyed by the
record's id).

An attempt is recorded when the dialer (or a channel adapter) makes it, whatever its outcome:
it is what attempt rules count ("no more than N attempts today / in the last H hours", per
client id, per device or both, across every list and channel). Its progress follows on the same
stream, each step at most once and in order: answered (by a person, a machine or a fax), then
connected to an agent or abandoned (a live answer no agent took within the account's abandon
call definition: it heard the recorded message) — or, for an SMS, sent (the provider took it) —
and finished last, with its Genesys call
result (:class:`domain.codes.CallResult`). Treatments of a result belong to call results.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from schemas import topics
from schemas.base import Event
from schemas.profiles import Channel

AnsweredBy = Literal["person", "machine", "fax"]


class CallAttemptEvent(Event, frozen=True, kw_only=True):
    TOPIC: ClassVar[str] = topics.CALL_ATTEMPTS


class CallAttemptMade(CallAttemptEvent, frozen=True, kw_only=True, tag="call_attempt.made"):
    """An attempt to the record's device: placed (the event's timestamp is when it was made)."""

    attempt_id: UUID  # the dialer's, so a retried report is stored once
    list_id: UUID
    client_id: str
    chain_n: int
    device: str  # the E.164 number or e-mail address the attempt went to
    channel: Channel
    campaign_group_id: UUID | None = None
    caller_id: str = ""  # the number presented to the called party ("" when not given)
    mode: str = ""  # the dialing mode the attempt was placed in ("" when not given)


class CallAttemptAnswered(CallAttemptEvent, frozen=True, kw_only=True, tag="call_attempt.answered"):
    """The called party answered: a person, an answering machine or a fax, as call analysis
    (answering-machine detection) classed it, after ``ring_ms`` of ringing."""

    attempt_id: UUID
    campaign_group_id: UUID | None
    list_id: UUID
    answered_by: AnsweredBy
    ring_ms: int


class CallAttemptConnected(CallAttemptEvent, frozen=True, kw_only=True, tag="call_attempt.connected"):
    """The answered call reached an agent after waiting ``wait_ms`` from the answer."""

    attempt_id: UUID
    campaign_group_id: UUID | None
    list_id: UUID
    agent_id: UUID
    wait_ms: int


class CallAttemptAbandoned(CallAttemptEvent, frozen=True, kw_only=True, tag="call_attempt.abandoned"):
    """A live answer that no agent took within the abandon call definition: what abandon
    limits count (per group, over 24 hours and over 30 days). ``message_played``: the
    recorded message naming the caller was played before the line was released."""

    attempt_id: UUID
    campaign_group_id: UUID | None
    list_id: UUID
    wait_ms: int
    message_played: bool


class CallAttemptFinished(CallAttemptEvent, frozen=True, kw_only=True, tag="call_attempt.finished"):
    """The attempt ended: its Genesys call result (``domain.codes.CallResult``), how long it
    rang and, when an agent talked, for how long and which agent."""

    attempt_id: UUID
    campaign_group_id: UUID | None
    list_id: UUID
    call_result: int
    ring_ms: int
    talk_ms: int
    agent_id: UUID | None = None
    call_time: int | None = None  # UTC epoch seconds the attempt was made (None before it was kept)
    chain_n: int | None = None  # the record's position in its chain (None before it was kept)
    # Why, in the words of whoever said so: a channel's refusal or error, a delivery report.
    detail: str = ""


class CallAttemptSent(CallAttemptEvent, frozen=True, kw_only=True, tag="call_attempt.sent"):
    """An SMS the provider took (``message_id``: its id there); the provider's delivery report
    finishes the attempt. Between the two the message is the provider's, not the dialer's."""

    attempt_id: UUID
    campaign_group_id: UUID | None
    list_id: UUID
    message_id: str


class CallAttemptWrappedUp(CallAttemptEvent, frozen=True, kw_only=True, tag="call_attempt.wrapped_up"):
    """The agent the attempt was connected to finished its after-call work (or left it: logged
    out, released), with the disposition code it gave the call, if any. Stored with the agent's
    own event; the call results processor treats a connected attempt's result from this, once
    the disposition is known. Carries the attempt's result as its ``finished`` stored it."""

    attempt_id: UUID
    campaign_group_id: UUID | None
    list_id: UUID
    agent_id: UUID
    disposition_code: str | None = None
    call_result: int
    call_time: int | None = None  # UTC epoch seconds the attempt was made
    chain_n: int | None = None
    # A callback the agent agreed with the customer: when, as wall-clock time in the contact's
    # zone; ``callback_personal``: the agent's own (a personal callback), else the campaign's.
    callback_at: datetime | None = None
    callback_personal: bool = False


EVENTS: tuple[type[Event], ...] = (
    CallAttemptMade,
    CallAttemptAnswered,
    CallAttemptConnected,
    CallAttemptAbandoned,
    CallAttemptSent,
    CallAttemptFinished,
    CallAttemptWrappedUp,
)
