"""Serve a runtime's API with uvicorn on a loopback socket, in a thread, for a test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from dialstream.bootstrap import Runtime
from gateway.app import create_app
from gateway.streaming import Server


def loopback_socket() -> tuple[socket.socket, int]:
    """A socket bound to a free 127.0.0.1 port (bound first, so a URL can name it early)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


@contextmanager
def served(runtime: Runtime, sock: socket.socket) -> Iterator[str]:
    """The runtime's API on ``sock``, up and answering /healthz; yields its base URL."""
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    server = Server(config)  # as `dialstream up` serves: open event streams end as it stops
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, thread)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _wait_until_up(base_url: str, thread: threading.Thread, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped before it answered /healthz")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError as error:
            last = error
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer /healthz within {timeout} s: {last}")
