"""A ``dialstream up`` that a test or a benchmark runs as a process: a free loopback port for
it, the wait until it answers ``/healthz``, and its stop."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(base_url: str, process: subprocess.Popen[Any], log: Path, timeout: float) -> None:
    """Return once ``base_url/healthz`` answers 200; fail with the server's log if the process
    exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"dialstream up exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"dialstream up did not answer /healthz within {timeout:.0f} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[Any], timeout: float = 20) -> None:
    """SIGTERM, and SIGKILL if the server has not stopped within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
