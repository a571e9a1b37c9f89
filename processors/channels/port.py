"""The channel port: what a message campaign asks of an SMS or e-mail service, and what it hears.

Adapters: :mod:`processors.channels.email` (SMTP) and :mod:`processors.channels.sms` (a
CPaaS provider's HTTP API). The dialer's power mode (agentless) hands them the messages of
the records it draws, one :class:`OutboundMessage` per attempt (:mod:`processors.dialer.messages`).

Guarantee: :meth:`Channel.send_many` returns one :class:`SendResult` per message, in the
messages' order, and never raises for anything the service or the network does: a message the
service refused, or could not be given, comes back failed with its call result and the
service's own words, so nothing handed to a channel is lost. "Accepted" means the service took
it (an SMTP 250 after DATA, a provider's 2xx with a message id), not that it reached the
person: that comes later as a :class:`DeliveryReport` (SMS status webhooks).
Codes: :mod:`domain.message_results`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID

from domain.codes import CallResult
from domain.message_results import DeliveryStatus, SendFailure, delivery_result, send_failure_result

MessageChannel = Literal["sms", "email"]


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One attempt's message. ``to``: an E.164 number (SMS) or an e-mail address; ``sender``:
    the SMS sender (number, short code or alphanumeric id) or the e-mail From
    (``"Acme Billing <billing@acme.example>"``); ``subject``: e-mail only. ``status_callback``:
    where the SMS provider posts this message's delivery reports (default: the adapter's);
    ``unsubscribe_url``: the e-mail's one-click unsubscribe link (RFC 8058), none when empty."""

    attempt_id: UUID
    channel: MessageChannel
    to: str
    sender: str
    body: str
    subject: str = ""
    status_callback: str = ""
    unsubscribe_url: str = ""


@dataclass(frozen=True, slots=True)
class SendResult:
    """Accepted with the service's message id, or failed with a call result and the reason
    (the server's reply or the network error, quoted)."""

    attempt_id: UUID
    message_id: str | None = None
    failure: SendFailure | None = None
    reason: str = ""

    @classmethod
    def accepted_as(cls, attempt_id: UUID, message_id: str) -> SendResult:
        return cls(attempt_id, message_id=message_id)

    @classmethod
    def failed(cls, attempt_id: UUID, failure: SendFailure, reason: str) -> SendResult:
        return cls(attempt_id, failure=failure, reason=reason)

    @property
    def accepted(self) -> bool:
        return self.failure is None

    @property
    def call_result(self) -> CallResult | None:
        """The attempt's call result when it failed; None when accepted (the delivery report
        will tell)."""
        return None if self.failure is None else send_failure_result(self.failure)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What the service later said of an accepted message (``message_id`` as in its
    :class:`SendResult`); ``detail``: the provider's status and error code, for the record's
    history."""

    message_id: str
    status: DeliveryStatus
    detail: str = ""

    @property
    def call_result(self) -> CallResult | None:
        """None while the message is still on its way (queued, sent)."""
        return delivery_result(self.status)


class Channel(Protocol):
    """An SMS or e-mail service. One instance serves one sender at a time (not thread-safe):
    it keeps its connection open between batches."""

    def send(self, message: OutboundMessage) -> SendResult:
        """Send one message (see :meth:`send_many`)."""
        ...

    def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Send each message, reusing one connection; one result per message, in order."""
        ...

    def close(self) -> None:
        """Close the connection (the next send opens a new one)."""
        ...
