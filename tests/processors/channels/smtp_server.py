"""A real SMTP server for the e-mail channel's tests and benchmark: aiosmtpd on 127.0.0.1.

It listens on a port the system picks (a socket bound before the server starts, so no other
process can take it in between), keeps every message it accepts, and refuses the recipients
it is told to with the reply it is given. STARTTLS, implicit TLS and AUTH are aiosmtpd's own.
If it cannot start, the test fails with aiosmtpd's error.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated_as: str | None
    peer: tuple[str, int]  # the client's address and port: one port, one connection


@dataclass
class Mailbox:
    """The server's handler: accepts every recipient except those in ``refuse`` (address ->
    the reply to give), keeps what it accepts. ``count_only`` keeps a count, not the messages
    (for the benchmark)."""

    refuse: Mapping[str, str] = field(default_factory=dict)
    count_only: bool = False
    received: list[Received] = field(default_factory=list)
    count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
            if not self.count_only:
                # The wire's CRLF line ends, as the e-mail package reads text: "\n".
                content = envelope.original_content.replace(b"\r\n", b"\n")
                message = message_from_bytes(content, policy=policy.default)
                assert isinstance(message, EmailMessage)
                login = session.auth_data.login.decode() if session.auth_data else None
                self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, login, session.peer[:2]))
            return f"250 2.0.0 Ok: queued as Q{self.count}"


class Credentials:
    """An aiosmtpd authenticator accepting one login and password."""

    def __init__(self, login: str, password: str):
        self.login, self.password = login.encode(), password.encode()

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (self.login, self.password)
        # handled=False: aiosmtpd answers a failure itself (535), as a real server does.
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class _LoopbackController(Controller):
    """aiosmtpd's threaded controller on a socket bound to 127.0.0.1, port chosen by the system."""

    def __init__(self, handler: Any, **kwargs: Any):
        self._socket = socket.create_server(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._socket.getsockname()[1], **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._socket, ssl=self.ssl_context)


@contextmanager
def running(
    mailbox: Mailbox,
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    credentials: Credentials | None = None,
    idle_timeout_s: float = 300,
) -> Iterator[int]:
    """Serve ``mailbox`` on 127.0.0.1; yields the port. ``starttls``: offer STARTTLS with this
    server context; ``implicit_tls``: TLS from the first byte; ``credentials``: require AUTH
    (only over TLS, aiosmtpd's default)."""
    kwargs: dict[str, Any] = {"server_hostname": "localhost", "timeout": idle_timeout_s}
    if starttls is not None:
        kwargs["tls_context"] = starttls
    if credentials is not None:
        kwargs.update(authenticator=credentials, auth_required=True)
    controller = _LoopbackController(mailbox, ssl_context=implicit_tls, **kwargs)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
