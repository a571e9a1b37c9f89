"""The channel port's contract, one test case run against each adapter: the SMTP channel on a
real aiosmtpd server, the SMS channel on a real HTTP server answering like a provider."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest

from domain.codes import CallResult
from processors.channels.email import SmtpChannel, SmtpSettings
from processors.channels.port import Channel, MessageChannel, OutboundMessage
from processors.channels.sms import HttpSmsChannel, SmsSettings
from tests.processors.channels import sms_provider, smtp_server
from tests.processors.channels.unused_port import refusing_port

pytestmark = pytest.mark.integration

INVALID_EMAIL = "nobody@example.test"
INVALID_NUMBER = "+15005550001"


@dataclass
class Rig:
    """A channel on a running service, with a destination it refuses as invalid, and what the
    service has received (destinations, in order)."""

    kind: MessageChannel
    channel: Channel
    sender: str
    good: list[str]
    invalid: str
    received: Callable[[], list[str]]

    def message(self, n: int, to: str) -> OutboundMessage:
        return OutboundMessage(UUID(int=n), self.kind, to, self.sender, f"message {n}", subject=f"subject {n}")


@pytest.fixture(params=["email", "sms"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    channel: Channel
    if request.param == "email":
        refuse = {INVALID_EMAIL: "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown"}
        mailbox = smtp_server.Mailbox(refuse=refuse)
        with smtp_server.running(mailbox) as port:
            channel = SmtpChannel(SmtpSettings("127.0.0.1", port, tls="none", local_hostname="localhost"))
            good = [f"customer{n}@example.test" for n in range(3)]
            yield Rig("email", channel, "Acme <billing@acme.test>", good, INVALID_EMAIL,
                      lambda: [r.rcpt_tos[0] for r in mailbox.received])  # fmt: skip
            channel.close()
    else:
        invalid = {INVALID_NUMBER: sms_provider.Answer(400, {"code": 21211, "message": "Invalid 'To' Phone Number"})}
        provider = sms_provider.Provider(answers=invalid)
        with sms_provider.running(provider) as url:
            channel = HttpSmsChannel(SmsSettings(url, provider.account_sid, provider.auth_token))
            good = [f"+1212555010{n}" for n in range(3)]
            yield Rig("sms", channel, "+12125550000", good, INVALID_NUMBER,
                      lambda: [r.form["To"] for r in provider.requests if r.form["To"] != INVALID_NUMBER])  # fmt: skip
            channel.close()


def test_each_message_is_accepted_in_order_with_its_own_message_id(rig: Rig) -> None:
    messages = [rig.message(n, to) for n, to in enumerate(rig.good, start=1)]

    results = rig.channel.send_many(messages)

    assert [r.attempt_id for r in results] == [m.attempt_id for m in messages]
    assert all(r.accepted and r.call_result is None and r.failure is None for r in results)
    ids = [r.message_id for r in results]
    assert all(ids) and len(set(ids)) == len(ids)
    assert rig.received() == rig.good


def test_an_invalid_destination_fails_only_its_own_message(rig: Rig) -> None:
    messages = [rig.message(1, rig.good[0]), rig.message(2, rig.invalid), rig.message(3, rig.good[1])]

    first, refused, last = rig.channel.send_many(messages)

    assert first.accepted and last.accepted
    assert not refused.accepted and refused.message_id is None
    assert refused.failure == "invalid_address"
    assert refused.call_result == CallResult.SIT_INVALID_NUMBER
    assert "21211" in refused.reason or "5.1.1" in refused.reason
    assert rig.received() == rig.good[:2]


def test_one_message_is_a_batch_of_one(rig: Rig) -> None:
    assert rig.channel.send(rig.message(1, rig.good[0])).accepted
    assert rig.channel.send(rig.message(2, rig.invalid)).call_result == CallResult.SIT_INVALID_NUMBER
    assert rig.channel.send_many([]) == []
    assert rig.received() == rig.good[:1]


def test_after_close_the_next_message_opens_a_new_connection(rig: Rig) -> None:
    assert rig.channel.send(rig.message(1, rig.good[0])).accepted
    rig.channel.close()
    rig.channel.close()  # closing a closed channel is harmless

    assert rig.channel.send(rig.message(2, rig.good[1])).accepted
    assert rig.received() == rig.good[:2]


@pytest.mark.parametrize("kind", ["email", "sms"])
def test_a_service_that_is_down_fails_every_message_with_a_network_code(kind: MessageChannel) -> None:
    with refusing_port() as port:
        channel: Channel
        if kind == "email":
            channel = SmtpChannel(SmtpSettings("127.0.0.1", port, tls="none", timeout_s=2))
        else:
            channel = HttpSmsChannel(SmsSettings(f"http://127.0.0.1:{port}/2010-04-01", "AC1", "token", timeout_s=2))
        messages = [OutboundMessage(UUID(int=n), kind, "x@example.test", "y@example.test", "hi") for n in (1, 2, 3)]

        results = channel.send_many(messages)

    assert [r.attempt_id for r in results] == [m.attempt_id for m in messages]
    for result in results:
        assert result.failure == "unavailable"
        assert result.call_result == CallResult.SYSTEM_ERROR
        assert f"127.0.0.1:{port}" in result.reason
        assert "refused" in result.reason.lower()
