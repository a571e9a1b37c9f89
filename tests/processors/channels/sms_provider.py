"""A real HTTP server answering like a CPaaS provider's Messages API, on 127.0.0.1.

``POST /2010-04-01/Accounts/<sid>/Messages.json`` with basic auth (the account sid and
token it is made with) and a form body. It keeps every request it gets and answers by the
``To`` number: a number in ``answers`` gets that (status, JSON body, delay in seconds);
any other number 201 with a new message sid. Wrong credentials get 401, another path 404.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

API_ROOT = "/2010-04-01"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    authorization: str
    content_type: str
    form: dict[str, str]
    peer: tuple[str, int]  # the client's address and port: one port, one connection


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, object] | str
    delay_s: float = 0.0


@dataclass
class Provider:
    account_sid: str = "AC0123456789abcdef0123456789abcdef"
    auth_token: str = "token-for-tests"
    answers: Mapping[str, Answer] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Request) -> Answer:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.authorization != expected:
            return Answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if request.method != "POST" or request.path != f"{API_ROOT}/Accounts/{self.account_sid}/Messages.json":
            return Answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
        to = request.form.get("To", "")
        if to in self.answers:
            return self.answers[to]
        with self._lock:
            sid = f"SM{len(self.sids) + 1:032x}"
            self.sids.append(sid)
        return Answer(201, {"sid": sid, "status": "queued", "to": to, "from": request.form.get("From")})


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a provider's API does

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            form = {key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()}
            request = Request(
                "POST", self.path, self.headers.get("Authorization", ""), self.headers.get("Content-Type", ""), form,
                self.client_address[:2],
            )
            with provider._lock:
                provider.requests.append(request)
            answer = provider.answer(request)
            time.sleep(answer.delay_s)
            payload = (json.dumps(answer.body) if isinstance(answer.body, dict) else answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json" if isinstance(answer.body, dict) else "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the test reads provider.requests

    return Handler


@contextmanager
def running(provider: Provider) -> Iterator[str]:
    """Serve ``provider``; yields its API root URL (``http://127.0.0.1:<port>/2010-04-01``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{API_ROOT}"
    finally:
        server.shutdown()
        server.server_close()
