"""A real Apache Kafka broker for tests and benchmarks, started by ``compose/kafka.sh``.

One node (broker and KRaft controller) listens on 127.0.0.1 only, on free ports, with its
data in a temporary directory; it is stopped (by its pid) when the context ends. The first
start ever fetches the broker's jars with Maven into a shared cache, which takes a while.
Starting it never degrades to a skip: if Java or Maven is missing, the download fails or
the broker does not start, :class:`KafkaUnavailable` says why.

:meth:`Broker.stop` and :meth:`Broker.start` stop and restart the same broker — same data,
same address — for tests of what clients do while it is away.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import services

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "compose" / "kafka.sh"

# The first start downloads ~46 MB of jars; later ones take seconds.
START_TIMEOUT = 600
STOP_TIMEOUT = 120


class KafkaUnavailable(RuntimeError):
    """Kafka could not be started; the message carries the script's diagnostics."""


def start(directory: Path) -> str:
    """Start (or restart) the broker of ``directory``; return its bootstrap address ``127.0.0.1:PORT``."""
    return services.start(SCRIPT, directory, START_TIMEOUT, KafkaUnavailable, 'it needs java 17+ and mvn (apt-get install openjdk-17-jre-headless maven) and Maven Central on first use')

def stop(directory: Path) -> None:
    """Stop the broker of ``directory``; its data, ports and configuration stay."""
    services.stop(SCRIPT, directory, STOP_TIMEOUT)


@dataclass
class Broker:
    """A running broker: its bootstrap address and the directory with its data."""

    bootstrap: str
    directory: Path

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 30 s); :meth:`start` brings it back."""
        stop(self.directory)

    def start(self) -> None:
        """Restart the broker in the same directory: same data, same address."""
        address = start(self.directory)
        if address != self.bootstrap:
            raise KafkaUnavailable(f"the broker came back on {address}, not {self.bootstrap}")


@contextmanager
def running() -> Iterator[Broker]:
    """A fresh broker for the duration of the block."""
    directory = Path(tempfile.mkdtemp(prefix="dialstream-kafka-"))
    try:
        yield Broker(start(directory), directory)
    finally:
        # Also after a failed or timed-out start, which may leave a broker behind.
        try:
            stop(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
