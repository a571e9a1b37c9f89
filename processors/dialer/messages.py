"""A message campaign's sending: the SMS or e-mail of each record a power campaign on the sms
or email channel dials, through the :class:`~processors.channels.port.Channel` port.

Input: the records the group draws and gates (:class:`~processors.dialer.group.GroupRun`
paces them as power mode: the profile's calls per minute under the account's per-channel cap
of attempts per minute), the session profile's message (:class:`schemas.profiles.MessageSettings`).
Output (through the attempt handlers): the attempt, made before its message is handed to the
channel (a dialer killed in between leaves a stale record, never a second message); then what
the channel answered, on the next step — refused: finished with the failure's call result
(:mod:`domain.message_results`) and the channel's words; taken: an SMS whose provider reports
delivery is ``sent`` (its delivery report, :mod:`gateway.routes.channels`, finishes it; the
group ends one whose report has not come in ``DialerPorts.report_wait_s`` as unknown), an
e-mail (SMTP says no more than "taken") or an SMS without reports is finished as answered.
A record whose template needs a field it lacks is finished as a general error naming the
field, and nothing is sent. The call results processor treats every result as a call's.
State: the messages of this step (sent once it is stored) and the channel's answers not stored
yet; both go with the step when it is decided again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from dialstream.handlers import Handlers
from dialstream.handlers.queue import Drawn
from domain.codes import CallResult
from domain.errors import DomainError
from domain.message_template import MessageTemplate
from processors.channels.links import MessageLinks
from processors.channels.port import Channel, OutboundMessage, SendResult
from processors.channels.templates import message_for
from schemas.profiles import SessionSettings

MESSAGE_CHANNELS = frozenset({"sms", "email"})


@dataclass
class Outbox:
    channels: Mapping[str, Channel]
    links: MessageLinks | None
    pending: list[tuple[Drawn, OutboundMessage]] = field(default_factory=list)  # this step's
    answered: list[tuple[Drawn, SendResult]] = field(default_factory=list)  # not stored yet

    def unusable(self, session: SessionSettings) -> str | None:
        """Why the group cannot send (a pacing reason), or None."""
        if session.channel not in self.channels:
            return f"no_{session.channel}_channel"  # not configured in this process
        if session.message is None:
            return "no_message"
        try:
            _template(session.message.body, session.message.subject)
        except DomainError:
            return "invalid_message"  # an override the profile's own check never saw
        return None

    def compose(self, drawn: Drawn, session: SessionSettings) -> OutboundMessage:
        """The attempt's message (TemplateFieldMissing when the record lacks a field)."""
        assert session.message is not None and session.channel in MESSAGE_CHANNELS  # see unusable()
        chain, record = drawn.chain, drawn.record
        message = message_for(
            _template(session.message.body, session.message.subject),
            channel="sms" if session.channel == "sms" else "email",
            sender=session.message.sender,
            attempt_id=drawn.attempt_id,
            record=record,
            client_id=chain.client_id,
            contact=chain.contact,
            custom=chain.custom,
        )
        if self.links is None:
            return message
        if session.channel == "sms":
            callback = self.links.status_callback(chain.account_id, record.record_id, drawn.attempt_id)
            return replace(message, status_callback=callback)
        return replace(message, unsubscribe_url=self.links.unsubscribe(chain.account_id, record.contact_info))

    def send_later(self, channel: str) -> Callable[[], None] | None:
        """This step's messages, to send once the step is stored (None: none)."""
        batch, self.pending = self.pending, []
        if not batch:
            return None
        port = self.channels[channel]

        def send() -> None:
            results = port.send_many([message for _, message in batch])
            self.answered.extend(zip((drawn for drawn, _ in batch), results, strict=True))

        return send

    def store_answers(self, handlers: Handlers, *, reports: bool) -> None:
        """Store what the channel answered (``reports``: the provider will report delivery)."""
        answered, self.answered = self.answered, []
        for drawn, result in answered:
            record_id, account_id = drawn.record.record_id, drawn.chain.account_id
            if result.failure is None and reports:
                handlers.attempts.sent(account_id, record_id, drawn.attempt_id, message_id=result.message_id or "")
                continue
            if result.call_result is not None:  # refused
                call_result, detail = result.call_result, result.reason
            else:
                call_result, detail = CallResult.ANSWER, f"taken by the server as {result.message_id}"
            handlers.attempts.finished(
                account_id, record_id, drawn.attempt_id, call_result=int(call_result), ring_ms=0, talk_ms=0, detail=detail
            )


@lru_cache(maxsize=64)
def _template(body: str, subject: str) -> MessageTemplate:
    """The checked template of a message (parsed once, not per record and per step)."""
    return MessageTemplate(body, subject)
