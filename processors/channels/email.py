"""The e-mail channel: SMTP with the standard library's :mod:`smtplib`.

Input: :class:`~processors.channels.port.OutboundMessage` s (channel "email"). Output: one
:class:`~processors.channels.port.SendResult` each. Configuration: :class:`SmtpSettings`.

- One connection is opened on the first message and reused for every later one (EHLO,
  STARTTLS and AUTH once, then MAIL/RCPT/DATA per message); a connection idle for
  :data:`IDLE_CHECK_S` is checked with NOOP first and reopened when the server has dropped it.
- ``tls="starttls"`` (the default) upgrades with STARTTLS and fails every message when the
  server does not offer it — never a silent fall back to clear text; ``"implicit"`` speaks TLS
  from the first byte (port 465); ``"none"`` is for a relay on the same host or network, and
  refuses credentials (a password is never sent in clear).
- A message is plain text (US-ASCII, or UTF-8 when it needs it), one recipient; a line break
  in To, From or Subject fails the message (header injection). Its Message-ID is ``<attempt id@sender's
  domain>``: stable, so a resent attempt is recognisable, and it is the message id returned.
- Failures (codes: :mod:`domain.message_results`): a recipient refused with 5.1.x, or 501,
  550, 551, 553 without an enhanced code → ``invalid_address``; any other 5xx → ``rejected``;
  a 4xx, a connection refused or timed out, a lost connection, login refused, no STARTTLS →
  ``unavailable``. A refused recipient fails only its message (smtplib resets the transaction,
  the connection stays). When the connection cannot be opened, the rest of the batch fails with
  the same reason at once instead of waiting out a timeout per message. A connection lost
  during a message fails that message (whether the server kept it is unknown) and the next
  message opens a new one.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from typing import Literal

from domain.message_results import SendFailure
from processors.channels.port import OutboundMessage, SendResult

TlsMode = Literal["starttls", "implicit", "none"]

# A recipient refusal that says the address is bad when the server gives no enhanced code:
# 501 syntax error in the address, 550 mailbox unavailable, 551 user not local, 553 name not allowed.
_BAD_ADDRESS_CODES = frozenset({501, 550, 551, 553})
# RFC 3463 enhanced status code at the start of the reply text ("5.1.1 <x@y>: user unknown").
_ENHANCED = re.compile(r"^\s*(?:\d{3}[ -])?([245])\.(\d{1,3})\.(\d{1,3})\b")
# An open connection idle this long is checked with NOOP before use: servers drop idle
# clients (Postfix after 300 s), and a message sent into a dropped connection would fail.
IDLE_CHECK_S = 5.0


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to submit. ``envelope_sender``: the bounce address (MAIL FROM) when it is
    not the From address; ``tls_context``: certificates to trust (default: the system's)."""

    host: str
    port: int = 587
    tls: TlsMode = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0
    envelope_sender: str | None = None
    local_hostname: str | None = None  # the EHLO name; default: this host's FQDN
    tls_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password is None):
            raise ValueError("SMTP username and password go together: give both or neither")
        if self.username is not None and self.tls == "none":
            raise ValueError("SMTP credentials need tls 'starttls' or 'implicit': a password is never sent in clear")
        if self.timeout_s <= 0:
            raise ValueError(f"SMTP timeout must be positive, not {self.timeout_s}")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class SmtpChannel:
    """The :class:`~processors.channels.port.Channel` port over SMTP."""

    def __init__(self, settings: SmtpSettings, *, idle_check_s: float = IDLE_CHECK_S):
        self.settings = settings
        self.idle_check_s = idle_check_s
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0  # time.monotonic() of the last command on the connection

    def send(self, message: OutboundMessage) -> SendResult:
        return self.send_many([message])[0]

    def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        idle = time.monotonic() - self._last_used >= self.idle_check_s
        if messages and self._smtp is not None and idle and not self._alive(self._smtp):
            self._drop()
        cannot_connect: str | None = None
        for message in messages:
            if cannot_connect is not None:
                results.append(SendResult.failed(message.attempt_id, "unavailable", cannot_connect))
                continue
            if self._smtp is None:
                try:
                    self._smtp = self._connect()
                except (OSError, smtplib.SMTPException) as error:
                    cannot_connect = self._connection_problem(error)
                    results.append(SendResult.failed(message.attempt_id, "unavailable", cannot_connect))
                    continue
            results.append(self._submit(self._smtp, message))
            if self._smtp is not None and self._smtp.sock is None:
                self._smtp = None  # smtplib closed it (a 421 reply: the server is closing)
            self._last_used = time.monotonic()
        return results

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()  # the server went first: only our socket is left to close

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = s.tls_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.tls == "implicit":
            smtp = smtplib.SMTP_SSL(s.host, s.port, s.local_hostname, timeout=s.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, s.local_hostname, timeout=s.timeout_s)
        try:
            smtp.ehlo()
            if s.tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("does not offer STARTTLS (and tls is 'starttls')")
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username is not None and s.password is not None:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connection_problem(self, error: BaseException) -> str:
        if isinstance(error, smtplib.SMTPAuthenticationError):
            return f"SMTP server {self.settings.address} refused the login: {_reply(error)}"
        if isinstance(error, smtplib.SMTPResponseException):
            return f"SMTP server {self.settings.address} refused the session: {_reply(error)}"
        if isinstance(error, smtplib.SMTPNotSupportedError):
            return f"SMTP server {self.settings.address} {error}"
        if isinstance(error, ssl.SSLError):
            return f"TLS with SMTP server {self.settings.address} failed: {_describe(error)}"
        return f"cannot reach SMTP server {self.settings.address}: {_describe(error)}"

    def _submit(self, smtp: smtplib.SMTP, message: OutboundMessage) -> SendResult:
        attempt = message.attempt_id
        try:
            email = _email_of(message)
        except ValueError as error:  # header injection, a From that is no address
            return SendResult.failed(attempt, "rejected", f"cannot write the e-mail: {error}")
        sender = self.settings.envelope_sender or _sender(message.sender)[1]
        try:
            smtp.send_message(email, from_addr=sender, to_addrs=[message.to])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            reply = _reply_text(code, text)
            return SendResult.failed(attempt, _refusal(code, reply, recipient=True), f"recipient refused: {reply}")
        except smtplib.SMTPSenderRefused as error:
            reply = _reply(error)
            return SendResult.failed(attempt, _refusal(error.smtp_code, reply), f"sender refused: {reply}")
        except smtplib.SMTPDataError as error:
            reply = _reply(error)
            return SendResult.failed(attempt, _refusal(error.smtp_code, reply), f"message refused: {reply}")
        except smtplib.SMTPNotSupportedError as error:  # e.g. a non-ASCII address, no SMTPUTF8
            return SendResult.failed(attempt, "rejected", f"SMTP server {self.settings.address}: {error}")
        except (OSError, smtplib.SMTPException) as error:
            # The connection broke mid-message; drop it, the next message opens a new one.
            self._drop()
            return SendResult.failed(
                attempt, "unavailable", f"connection to SMTP server {self.settings.address} lost: {_describe(error)}"
            )
        return SendResult.accepted_as(attempt, email["Message-ID"])

    def _alive(self, smtp: smtplib.SMTP) -> bool:
        try:
            return smtp.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


def _email_of(message: OutboundMessage) -> MIMEText:
    """The e-mail, built with the e-mail package's MIMEText (compat32): a fifth of the cost of
    an EmailMessage, whose header objects parse every address again (the benchmark's figure).
    Raises ValueError for a header that would not be one header (a line break in it: header
    injection) or a From that is no address."""
    for name, value in (("To", message.to), ("From", message.sender), ("Subject", message.subject)):
        if "\r" in value or "\n" in value:
            raise ValueError(f"{name} {value!r} holds a line break")
    from_header, address = _sender(message.sender)
    email = MIMEText(message.body, "plain", "us-ascii" if message.body.isascii() else "utf-8")
    email["From"] = from_header
    email["To"] = message.to
    email["Subject"] = message.subject if message.subject.isascii() else Header(message.subject, "utf-8").encode()
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = f"<{message.attempt_id}@{address.rpartition('@')[2]}>"
    if message.unsubscribe_url:
        if "\r" in message.unsubscribe_url or "\n" in message.unsubscribe_url or ">" in message.unsubscribe_url:
            raise ValueError(f"unsubscribe link {message.unsubscribe_url!r} is not one URL")
        # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" to the link.
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return email


@lru_cache(maxsize=256)
def _sender(sender: str) -> tuple[str, str]:
    """The From header and the address of ``sender`` (a campaign has one or a few: cached)."""
    display_name, address = parseaddr(sender)
    if "@" not in address:
        raise ValueError(f"From {sender!r} is not an e-mail address")
    return formataddr((display_name, address), "utf-8"), address


def _refusal(code: int, reply: str, *, recipient: bool = False) -> SendFailure:
    """What an SMTP refusal (``code`` and its reply text) means for the message."""
    if 400 <= code < 500:
        return "unavailable"  # temporary: greylisting, mailbox busy, server short of space
    if not recipient:
        return "rejected"
    enhanced = _ENHANCED.match(reply)
    if enhanced is not None:
        return "invalid_address" if enhanced.group(2) == "1" else "rejected"  # 5.1.x: addressing
    return "invalid_address" if code in _BAD_ADDRESS_CODES else "rejected"


def _reply(error: smtplib.SMTPResponseException) -> str:
    return _reply_text(error.smtp_code, error.smtp_error)


def _reply_text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
