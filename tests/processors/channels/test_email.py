"""The SMTP channel against a real aiosmtpd server on 127.0.0.1: what the server receives,
how its refusals become call results, TLS and login, and a connection the server drops."""

from __future__ import annotations

import time
from pathlib import Path
from uuid import UUID

import pytest

from domain.codes import CallResult
from domain.message_template import MessageTemplate
from processors.channels.email import SmtpChannel, SmtpSettings
from processors.channels.port import OutboundMessage
from processors.channels.templates import message_for
from schemas.records import Contact, Record
from tests.processors.channels import smtp_server
from tests.processors.channels.certificates import client_context, self_signed, server_context
from tests.processors.channels.smtp_server import Credentials, Mailbox

pytestmark = pytest.mark.integration

SENDER = "Acme Billing <billing@acme.test>"


def plain(port: int, **settings: object) -> SmtpChannel:
    return SmtpChannel(SmtpSettings("127.0.0.1", port, tls="none", local_hostname="localhost", **settings))  # type: ignore[arg-type]


def message(n: int, to: str, *, subject: str = "Your statement", body: str = "Hello") -> OutboundMessage:
    return OutboundMessage(UUID(int=n), "email", to, SENDER, body, subject)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


def test_the_server_receives_the_filled_template_with_its_headers() -> None:
    record = Record(
        record_id=UUID(int=7), chain_n=1, contact_info="ana@example.test", contact_info_type=10,
        time_zone="Europe/Lisbon", time_zone_rule="contact_zone",
    )  # fmt: skip
    template = MessageTemplate(subject="{first_name}, o seu extracto", body="Olá {first_name}: {balance} € due.")
    attempt = UUID("0b5f8e4e-3c1d-4a3e-9a51-2f7c2b0d1e11")
    outbound = message_for(
        template, channel="email", sender="Acmé Faturação <billing@acme.test>", attempt_id=attempt, record=record, client_id="C-1",
        contact=Contact(), custom={"first_name": "Ana", "balance": "120.50"},
    )  # fmt: skip
    mailbox = Mailbox()
    with smtp_server.running(mailbox) as port:
        channel = plain(port)
        result = channel.send(outbound)
        channel.close()

    assert result.accepted
    assert result.message_id == f"<{attempt}@acme.test>"
    [received] = mailbox.received
    assert received.mail_from == "billing@acme.test"
    assert received.rcpt_tos == ["ana@example.test"]
    email = received.message
    assert email["From"] == "Acmé Faturação <billing@acme.test>"
    assert email["To"] == "ana@example.test"
    assert email["Subject"] == "Ana, o seu extracto"
    assert email["Message-ID"] == result.message_id
    assert email["Date"]
    assert email.get_content_type() == "text/plain"
    assert email.get_content().rstrip("\n") == "Olá Ana: 120.50 € due."


def test_an_ascii_message_is_sent_as_such() -> None:
    mailbox = Mailbox()
    with smtp_server.running(mailbox) as port:
        assert plain(port).send(message(1, "a@example.test", body="Hello Ana,\nyour statement.")).accepted

    email = mailbox.received[0].message
    assert email.get_content_charset() == "us-ascii"
    assert email["Content-Transfer-Encoding"] == "7bit"
    assert email.get_content() == "Hello Ana,\nyour statement.\n"  # SMTP ends the data with a line end


def test_the_envelope_sender_is_the_bounce_address_when_configured() -> None:
    mailbox = Mailbox()
    with smtp_server.running(mailbox) as port:
        assert plain(port, envelope_sender="bounces@acme.test").send(message(1, "a@example.test")).accepted

    assert mailbox.received[0].mail_from == "bounces@acme.test"
    assert mailbox.received[0].message["From"] == SENDER


def test_many_messages_share_one_connection() -> None:
    mailbox = Mailbox()
    with smtp_server.running(mailbox) as port:
        channel = plain(port)
        first = channel.send_many([message(n, f"c{n}@example.test") for n in range(5)])
        second = channel.send_many([message(n, f"c{n}@example.test") for n in range(5, 8)])
        channel.close()

    assert all(r.accepted for r in first + second)
    assert len(mailbox.received) == 8
    assert len({r.peer for r in mailbox.received}) == 1


# The server's reply to RCPT for the refused address -> the failure and its call result.
REFUSALS = [
    ("550 5.1.1 <x@example.test>: Recipient address rejected: User unknown", "invalid_address", CallResult.SIT_INVALID_NUMBER),
    ("550 5.1.2 Host or domain name not found", "invalid_address", CallResult.SIT_INVALID_NUMBER),
    ("553 Requested action not taken: mailbox name not allowed", "invalid_address", CallResult.SIT_INVALID_NUMBER),
    ("551 User not local", "invalid_address", CallResult.SIT_INVALID_NUMBER),
    ("550 5.7.1 Relaying denied", "rejected", CallResult.GENERAL_ERROR),
    ("554 Transaction failed", "rejected", CallResult.GENERAL_ERROR),
    ("450 4.2.1 Mailbox busy, try again later", "unavailable", CallResult.SYSTEM_ERROR),
    ("451 4.7.1 Greylisted, come back in 5 minutes", "unavailable", CallResult.SYSTEM_ERROR),
]  # fmt: skip


@pytest.mark.parametrize(("reply", "failure", "call_result"), REFUSALS)
def test_a_refused_recipient_fails_only_its_message(reply: str, failure: str, call_result: CallResult) -> None:
    mailbox = Mailbox(refuse={"x@example.test": reply})
    with smtp_server.running(mailbox) as port:
        channel = plain(port)
        before, refused, after = channel.send_many(
            [message(1, "a@example.test"), message(2, "x@example.test"), message(3, "b@example.test")]
        )
        channel.close()

    assert before.accepted and after.accepted
    assert refused.failure == failure
    assert refused.call_result == call_result
    assert refused.reason == f"recipient refused: {reply}"
    assert [r.rcpt_tos for r in mailbox.received] == [["a@example.test"], ["b@example.test"]]
    assert len({r.peer for r in mailbox.received}) == 1  # the refusal did not cost the connection


# A message that cannot be written -> what the reason says.
UNWRITABLE = [
    (message(1, "a@example.test", subject="Hi\r\nBcc: victim@example.test"), "Subject 'Hi\\r\\nBcc: victim@example.test' holds a line break"),
    (message(1, "a@example.test\nBcc: victim@example.test"), "holds a line break"),
    (OutboundMessage(UUID(int=1), "email", "a@example.test", "Acme Billing", "Hello"), "From 'Acme Billing' is not an e-mail address"),
]  # fmt: skip


@pytest.mark.parametrize(("unwritable", "problem"), UNWRITABLE)
def test_a_message_that_cannot_be_written_fails_and_sends_nothing(unwritable: OutboundMessage, problem: str) -> None:
    mailbox = Mailbox()
    with smtp_server.running(mailbox) as port:
        channel = plain(port)
        failed, fine = channel.send_many([unwritable, message(2, "b@example.test")])

    assert failed.failure == "rejected" and failed.call_result == CallResult.GENERAL_ERROR
    assert failed.reason.startswith("cannot write the e-mail: ") and problem in failed.reason
    assert fine.accepted
    assert [r.rcpt_tos for r in mailbox.received] == [["b@example.test"]]


def test_starttls_and_login(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    mailbox = Mailbox()
    with smtp_server.running(
        mailbox, starttls=server_context(cert, key), credentials=Credentials("campaigns", "s3cret")
    ) as port:
        channel = SmtpChannel(
            SmtpSettings(
                "localhost", port, tls="starttls", username="campaigns", password="s3cret",
                tls_context=client_context(cert), local_hostname="localhost",
            )
        )  # fmt: skip
        results = channel.send_many([message(1, "a@example.test"), message(2, "b@example.test")])
        channel.close()

    assert all(r.accepted for r in results)
    assert [r.authenticated_as for r in mailbox.received] == ["campaigns", "campaigns"]


def test_a_refused_login_fails_every_message_with_the_servers_reply(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    mailbox = Mailbox()
    with smtp_server.running(
        mailbox, starttls=server_context(cert, key), credentials=Credentials("campaigns", "s3cret")
    ) as port:
        channel = SmtpChannel(
            SmtpSettings(
                "127.0.0.1", port, username="campaigns", password="wrong", tls_context=client_context(cert),
                local_hostname="localhost",
            )
        )  # fmt: skip
        results = channel.send_many([message(1, "a@example.test"), message(2, "b@example.test")])

    assert [r.call_result for r in results] == [CallResult.SYSTEM_ERROR] * 2
    assert results[0].reason.startswith(f"SMTP server 127.0.0.1:{port} refused the login: 535")
    assert results[1].reason == results[0].reason
    assert mailbox.received == []


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it() -> None:
    mailbox = Mailbox()
    with smtp_server.running(mailbox) as port:  # no TLS context: no STARTTLS in its EHLO
        result = SmtpChannel(SmtpSettings("127.0.0.1", port, local_hostname="localhost")).send(
            message(1, "a@example.test")
        )

    assert result.call_result == CallResult.SYSTEM_ERROR
    assert result.reason == f"SMTP server 127.0.0.1:{port} does not offer STARTTLS (and tls is 'starttls')"
    assert mailbox.received == []


def test_a_certificate_the_client_does_not_trust_fails_the_message(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    mailbox = Mailbox()
    with smtp_server.running(mailbox, starttls=server_context(cert, key)) as port:
        # The system's trust store: the self-signed certificate is not in it.
        result = SmtpChannel(SmtpSettings("127.0.0.1", port, local_hostname="localhost")).send(
            message(1, "a@example.test")
        )

    assert result.call_result == CallResult.SYSTEM_ERROR
    assert result.reason.startswith(f"TLS with SMTP server 127.0.0.1:{port} failed: ")
    assert "CERTIFICATE_VERIFY_FAILED" in result.reason
    assert mailbox.received == []


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    mailbox = Mailbox()
    with smtp_server.running(mailbox, implicit_tls=server_context(cert, key)) as port:
        channel = SmtpChannel(
            SmtpSettings("127.0.0.1", port, tls="implicit", tls_context=client_context(cert), local_hostname="localhost")
        )
        assert channel.send(message(1, "a@example.test")).accepted
        channel.close()

    assert len(mailbox.received) == 1


def test_a_connection_the_server_dropped_is_reopened_for_the_next_batch() -> None:
    mailbox = Mailbox()
    with smtp_server.running(mailbox, idle_timeout_s=0.2) as port:
        channel = SmtpChannel(
            SmtpSettings("127.0.0.1", port, tls="none", local_hostname="localhost"), idle_check_s=0.0
        )
        assert channel.send(message(1, "a@example.test")).accepted
        time.sleep(0.6)  # the server closes the idle connection after 0.2 s
        assert channel.send(message(2, "b@example.test")).accepted
        channel.close()

    first, second = mailbox.received
    assert first.peer != second.peer


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"username": "u", "password": "p", "tls": "none"}, "never sent in clear"),
        ({"username": "u"}, "give both or neither"),
        ({"timeout_s": 0}, "must be positive"),
    ],
)
def test_settings_that_would_not_work_or_leak_a_password_are_refused(settings: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SmtpSettings("smtp.example.test", **settings)  # type: ignore[arg-type]


