"""``make bench ONLY=email``: e-mails sent per second through the SMTP channel.

A real SMTP server, aiosmtpd on 127.0.0.1 in a process of its own (so the figure is the
channel's, not the channel's and the server's sharing one interpreter), counts the messages
it accepts and keeps none. The channel (:class:`processors.channels.email.SmtpChannel`, no TLS,
no login: a relay on the same host) sends ``--events`` e-mails (2,000 by default), each
made from a template filled from its record before the clock starts, in batches of 500 over
its one connection: EHLO once, then MAIL, RCPT, DATA per message, as smtplib does (no
pipelining). A round counts only if every message was accepted and the server counted them all.

Figures: ``email_per_s``, the best of ``--rounds``, and as a baseline measured in the same
round on the same server, ``email_baseline_raw_smtplib_per_s``: the same e-mails as bytes
prepared before the clock, each one ``smtplib.SMTP.sendmail`` over one connection (the floor:
the protocol's round trips and the server; what the channel adds is building each e-mail and
reading each answer).
"""

from __future__ import annotations

import multiprocessing
import smtplib
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from uuid import UUID

from domain.message_template import MessageTemplate
from processors.channels.email import SmtpChannel, SmtpSettings
from processors.channels.port import OutboundMessage
from processors.channels.templates import message_for
from schemas.records import Contact, Record
from tests.bench.figures import Figure, Options

MESSAGES = 2_000
BATCH = 500
TEMPLATE = MessageTemplate(
    subject="{first_name}, your March statement",
    body=(
        "Dear {first_name} {last_name},\n\n"
        "your statement for account {client_id} is ready: {balance} is due by {due_date}.\n"
        "Pay online or call us back on +1 212 555 0000.\n\n"
        "Acme Billing\n"
    ),
)


def _serve(pipe: Connection) -> None:
    """The server process: start aiosmtpd, send its port, wait for "stop", send the count."""
    from tests.processors.channels import smtp_server

    mailbox = smtp_server.Mailbox(count_only=True)
    with smtp_server.running(mailbox) as port:
        pipe.send(port)
        pipe.recv()
    pipe.send(mailbox.count)


def _messages(count: int) -> list[OutboundMessage]:
    messages = []
    for n in range(count):
        record = Record(
            record_id=UUID(int=n + 1), chain_n=1, contact_info=f"customer{n}@example.test",
            contact_info_type=10, time_zone="America/New_York", time_zone_rule="device",
        )  # fmt: skip
        custom = {"first_name": "Ana", "last_name": f"Doe{n}", "balance": f"${n % 900 + 100}.50", "due_date": "March 31"}
        message = message_for(
            TEMPLATE, channel="email", sender="Acme Billing <billing@acme.test>",
            attempt_id=UUID(int=1_000_000 + n), record=record, client_id=f"C-{n}",
            contact=Contact(), custom=custom,
        )  # fmt: skip
        messages.append(message)
    return messages


def _raw(message: OutboundMessage) -> tuple[str, str, bytes]:
    """The envelope and bytes of ``message`` for the baseline (ASCII test data)."""
    text = (
        f"From: {message.sender}\r\nTo: {message.to}\r\nSubject: {message.subject}\r\n"
        f"Message-ID: <{message.attempt_id}@acme.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="us-ascii"\r\n\r\n' + message.body.replace("\n", "\r\n")
    )
    return "billing@acme.test", message.to, text.encode("ascii")


def _baseline(port: int, prepared: list[tuple[str, str, bytes]]) -> float:
    smtp = smtplib.SMTP("127.0.0.1", port, "localhost")
    smtp.ehlo()
    start = time.perf_counter()
    for sender, to, data in prepared:
        smtp.sendmail(sender, [to], data)
    elapsed = time.perf_counter() - start
    smtp.quit()
    return len(prepared) / elapsed


def _round(messages: list[OutboundMessage]) -> tuple[float, float]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=_serve, args=(theirs,), daemon=True)
    server.start()
    try:
        if not ours.poll(30):
            raise RuntimeError("the SMTP server did not start within 30 s")
        port = ours.recv()
        channel = SmtpChannel(SmtpSettings("127.0.0.1", port, tls="none", local_hostname="localhost"))
        start = time.perf_counter()
        results = []
        for first in range(0, len(messages), BATCH):
            results.extend(channel.send_many(messages[first : first + BATCH]))
        elapsed = time.perf_counter() - start
        channel.close()
        baseline = _baseline(port, [_raw(m) for m in messages])
        ours.send("stop")
        counted = ours.recv()
    finally:
        server.join(10)
        if server.is_alive():
            server.kill()
    refused = [r for r in results if not r.accepted]
    if refused or counted != 2 * len(messages):
        raise RuntimeError(
            f"{len(refused)} of {len(messages)} e-mails not accepted ({refused[:1]}), "
            f"server counted {counted} of {2 * len(messages)} (channel and baseline)"
        )
    return len(messages) / elapsed, baseline


def run(options: Options) -> Iterator[Figure]:
    messages = _messages(options.events or MESSAGES)
    best, floor = 0.0, 0.0
    for n in range(options.rounds):
        rate, baseline = _round(messages)
        print(f"email round {n + 1}: {len(messages)} e-mails, {rate:.0f}/s; raw smtplib {baseline:.0f}/s", file=sys.stderr)
        if rate > best:
            best, floor = rate, baseline
    yield Figure("email_per_s", best, "e-mails/s")
    yield Figure("email_baseline_raw_smtplib_per_s", floor, "e-mails/s")
