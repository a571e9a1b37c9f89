"""The Kafka adapter of the bus port, for a process that serves the API or runs workers.

It hosts, on one asyncio loop in a background thread, whichever of the relay and the
projection workers this process runs (all of them for ``dialstream up``; none for a
gateway whose workers are their own processes). Read-your-writes works across processes:
``wait_until(p)`` waits until the relay has recorded position ``p``, takes the last
position it published on each partition, and waits until every projection has applied
that much of each partition it reads. The wait may cover a few later events; it never
covers fewer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any

from dialstream.store import EventStore
from processors.bus.kafka_cluster import KafkaConfig, create_topics, partition_for
from processors.bus.kafka_worker import KafkaWorker, ProjectionHandler, ReadModelsHandler
from processors.bus.relay import Relay, RelayProgress
from processors.bus.wire import kafka_key, route
from projections.base import ProjectionStore

log = logging.getLogger(__name__)


class KafkaBus:
    def __init__(
        self,
        store: EventStore,
        projections: ProjectionStore,
        progress: RelayProgress,
        config: KafkaConfig,
        *,
        run_relay: bool = True,
        workers: Sequence[str] = (),
    ):
        self.store = store
        self.projections = projections
        self.progress = progress
        self.config = config
        self.relay = Relay(store, progress, config) if run_relay else None
        # The process's read models share one consumer group; one named alone keeps its own.
        handlers: list[ProjectionHandler | ReadModelsHandler] = (
            [ReadModelsHandler(projections, workers)] if len(workers) > 1
            else [ProjectionHandler(projections, name) for name in workers]
        )
        self.workers = [KafkaWorker(handler, config) for handler in handlers]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._caught_up = 0
        # A relayed position whose partitions the projections were still applying when last
        # asked: once they have, it is caught up, however many events were relayed since.
        self._pending: tuple[int, dict[tuple[str, int], int]] | None = None
        self._caught_up_lock = threading.Lock()
        self.error: BaseException | None = None

    # Hosting ----------------------------------------------------------------------------

    def start(self) -> None:
        if self.relay is None and not self.workers:
            return
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), name="kafka-bus", daemon=True)
        self._thread.start()
        started.wait(60)

    def _run(self, started: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(started))
        except BaseException as error:  # reported through health and wait_until
            log.exception("kafka bus stopped")
            self.error = error
        finally:
            started.set()
            self._done.set()
            loop.close()

    async def _main(self, started: threading.Event) -> None:
        self._stopping = asyncio.Event()
        await create_topics(self.config)
        tasks: list[Coroutine[Any, Any, None]] = []
        if self.relay is not None:
            tasks.append(self.relay.run(self._stopping))
        ready = []
        for worker in self.workers:
            event = asyncio.Event()
            ready.append(event)
            tasks.append(worker.run(self._stopping, event))
        running = [asyncio.ensure_future(task) for task in tasks]
        waiting = [asyncio.ensure_future(event.wait()) for event in ready]
        if waiting:
            await asyncio.wait(waiting, timeout=30)
        started.set()
        done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_EXCEPTION)
        failed = [task for task in done if task.exception() is not None]
        if failed:
            # One role failed on its own: stop the others cleanly, then report the failure.
            self._stopping.set()
            await asyncio.gather(*running, return_exceptions=True)
            raise failed[0].exception()  # type: ignore[misc]
        await asyncio.gather(*running)

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not self._done.is_set():
            loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=30)

    # Reading progress ---------------------------------------------------------------------

    def relayed_to(self) -> int:
        return self.progress.position()

    def read_model_positions(self) -> dict[str, int]:
        """From the shared database, so a gateway sees the read models its workers keep: a read
        model is caught up to the relay's position once it has passed every partition of its
        topics the relay published to, else to the lowest position it passed on one it has not."""
        relayed, published = self.progress.snapshot()
        positions = {}
        for name, projection in self.projections.projections.items():
            floor, passed = self.projections.applied_positions(name)
            behind = [
                passed.get(key, floor)
                for key, last in published.items()
                if key[0] in projection.topics and passed.get(key, floor) < last
            ]
            positions[name] = min(behind) if behind else relayed
        return positions

    def caught_up_to(self) -> int:
        """Under a steady flow the projections are rarely all at the relay's head at once, so
        this also advances to the head seen at the last call once everything up to it applied."""
        with self._caught_up_lock:
            if self._pending is not None and self._applied_everything(self._pending[1]):
                self._caught_up = max(self._caught_up, self._pending[0])
                self._pending = None
            position, partitions = self.progress.snapshot()
            if self._applied_everything(partitions):
                self._caught_up = max(self._caught_up, position)
                self._pending = None
            elif self._pending is None:
                self._pending = (position, partitions)
            return self._caught_up

    def catch_up(self, timeout: float = 60.0) -> bool:
        return self.wait_until(self.store.position(), timeout)

    def wait_until(self, position: int, timeout: float = 5.0, *, since: int | None = None) -> bool:
        """Once the relay has recorded ``position``: until every read model has applied, on
        each partition it reads, what the relay had published there by then. With ``since``
        (the events from there to ``position`` are one command's), only the partitions those
        events went to, up to each one's own: a command stored while an import's chains are
        still being applied waits for its own events, not for the import's backlog."""
        deadline = time.monotonic() + timeout
        pause = 0.002
        partitions: dict[tuple[str, int], int] | None = None
        while True:
            if self.error is not None:
                return False
            if partitions is None:
                relayed, snapshot = self.progress.snapshot()
                if relayed >= position:
                    own = self._own_partitions(since, position) if since is not None else None
                    # The relay published each of them where worked out (else: wait for all).
                    mine = own is not None and all(snapshot.get(key, 0) >= at for key, at in own.items())
                    partitions = own if own is not None and mine else snapshot
            if partitions is not None and self._applied_everything(partitions):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)

    def _own_partitions(self, since: int, position: int) -> dict[tuple[str, int], int] | None:
        """The partition each event from ``since`` to ``position`` went to (as the relay worked
        it out, with the partition counts it recorded), and the last of those events on each;
        None when that cannot be known."""
        counts = self.progress.partition_counts()
        own: dict[tuple[str, int], int] = {}
        for at, aggregate_id, _, stored_topic, _ in self.store.read_outbox(since - 1, position - since + 1):
            if at > position:
                break
            topic = route(stored_topic)[0]
            if topic not in counts:
                return None
            where = (topic, partition_for(kafka_key(aggregate_id), counts[topic]))
            own[where] = max(own.get(where, 0), at)
        return own

    def _applied_everything(self, relayed: dict[tuple[str, int], int]) -> bool:
        for name, projection in self.projections.projections.items():
            floor, applied = self.projections.applied_positions(name)
            for (topic, partition), position in relayed.items():
                if topic in projection.topics and max(floor, applied.get((topic, partition), 0)) < position:
                    return False
        return True
