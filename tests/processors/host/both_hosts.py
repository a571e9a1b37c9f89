"""Running one scenario on either processor host, and what makes two runs comparable.

A :class:`Host` builds a whole runtime — every projection, the import runner, the
suppression index follower, the two schedules and the compliance processor — either
embedded (the store's log in process, the embedded suppression index) or on a real Kafka
broker (relay, consumer groups, a Redis suppression index). :func:`events_after` and
:func:`rows` give what a scenario left behind without its random ids and its times, so the
outcome of one run can be written out as a literal and equal the outcome of any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, SUPPRESSION_INDEX, Runtime, build, ensure_bootstrap_key
from dialstream.settings import Settings
from processors.host.schedule import Scheduler, Tick
from processors.suppression.index import SuppressionQuery
from processors.suppression.projection import SuppressionIndexFollower
from schemas.suppression import SuppressionEntriesExpired, SuppressionEntriesRemoved
from tests.kafka_support import kafka_settings

SETTLE_S = 60.0
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Times differ from run to run and are left out: an event's timestamp, an import's
# duration and its runner (host and process). ``expires_at`` is kept as whether there is
# one: its value is the account's next midnight, the same for two runs on one day.
_TIMES = frozenset({"timestamp", "seconds", "runner"})
# Events whose entries are a set: the sweep expires them in the read model's order (by id).
_UNORDERED_ENTRIES = frozenset({SuppressionEntriesExpired.tag(), SuppressionEntriesRemoved.tag()})
# The same in every event of these scenarios (the tag is "event", the account the default one).
_SAME = frozenset({"type", "schema_version", "account_id"})


@dataclass
class Host:
    """One of the two processor hosts; :meth:`process` is a fresh process on it."""

    name: str
    data_dir: Path
    bootstrap: str | None = None  # the Kafka broker, None for embedded
    redis_url: str | None = None  # the Redis suppression index (Kafka only)

    def settings(self) -> Settings:
        if self.bootstrap is None:
            return Settings(data_dir=self.data_dir)
        return kafka_settings(self.data_dir, self.bootstrap, suppression_index=self.redis_url)

    @contextmanager
    def process(self, *, unscheduled: Sequence[str] = ()) -> Iterator[Process]:
        """A started runtime with the default account; the schedules named in ``unscheduled``
        are wired but not started: the scenario runs their jobs itself (:meth:`Process.run_job`)."""
        runtime = build(self.settings())
        held = {name: runtime.services.pop(name) for name in unscheduled}
        try:
            runtime.start()
            ensure_bootstrap_key(runtime)
            settle(runtime)
            yield Process(runtime, held)
        finally:
            runtime.stop()


@dataclass
class Process:
    """A started runtime, and the schedulers it wired but did not start."""

    runtime: Runtime
    unscheduled: Mapping[str, object]

    def run_job(self, name: str, now: datetime) -> Any:
        """Run the job of a schedule the runtime wired (and did not start) once, at ``now``."""
        scheduler = self.unscheduled[name]
        assert isinstance(scheduler, Scheduler)
        return scheduler.schedule.job(Tick(now=now, token=1, check=lambda: None, stopping=lambda: False))


def follower(runtime: Runtime) -> SuppressionIndexFollower:
    found = runtime.services[SUPPRESSION_INDEX]
    assert isinstance(found, SuppressionIndexFollower)
    return found


def settle(runtime: Runtime) -> int:
    """Wait until the read models and the suppression index include the whole log; return
    its head. (On Kafka the read models trail the store by the relay and the consumer groups.)"""
    head = -1
    while head != runtime.store.position():  # a processor's own events move the head on
        head = runtime.store.position()
        assert runtime.wait(head, SETTLE_S), f"the read models did not reach log position {head}"
        assert follower(runtime).wait_until(head, SETTLE_S), f"the index did not reach log position {head}"
    return head


# Outcomes without ids and times -----------------------------------------------------------


def plain(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` as builtins with every id the scenario named replaced by its name, other
    ids (in text: ``<id>``) and times left out."""
    if isinstance(value, dict):
        found = {
            key: ("<time>" if key == "expires_at" and item is not None else plain(item, names))
            for key, item in value.items()
            if key not in _TIMES
        }
        # An id that is not the scenario's is derived from one that is (a record's, an
        # entry's: name-based): it says nothing the rest of the object does not.
        return {key: item for key, item in found.items() if item != "<id>"}
    if isinstance(value, list | tuple):
        return [plain(item, names) for item in value]
    if isinstance(value, str):
        return _UUID.sub(lambda match: names.get(match.group(0), "<id>"), value)
    return value


class Names:
    """The scenario's ids, by name (``str(uuid) -> name``)."""

    def __init__(self) -> None:
        self.by_id: dict[str, str] = {str(DEFAULT_ACCOUNT_ID): "account"}

    def __setitem__(self, name: str, value: UUID) -> None:
        self.by_id[str(value)] = name

    def id(self, name: str) -> UUID:
        [found] = [UUID(key) for key, value in self.by_id.items() if value == name]
        return found

    def __call__(self, value: Any) -> Any:
        return plain(value, self.by_id)


def events_after(runtime: Runtime, position: int, names: Names) -> list[dict[str, Any]]:
    """Every event stored after ``position``: its type, its aggregate's version and its
    payload, sorted (the hosts interleave aggregates differently; each one's order is its
    versions)."""
    found: list[dict[str, Any]] = []
    while batch := runtime.store.read(after=position, limit=5000):
        position = batch[-1][0]
        for _, event in batch:
            payload = msgspec.to_builtins(event)
            payload.pop("originator_id")
            version = payload.pop("originator_version")
            assert payload.get("account_id") == str(DEFAULT_ACCOUNT_ID), event
            kept = {key: value for key, value in payload.items() if key not in _SAME}
            if event.tag() in _UNORDERED_ENTRIES:
                kept["entries"].sort(key=lambda entry: (entry["kind"], entry["value"]))
            found.append({"event": event.tag(), "v": version, **names(kept)})
    return sorted(found, key=repr)


def rows(
    runtime: Runtime, table: str, names: Names, columns: str, *, body: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The rows of a read-model table, sorted; ``body`` names what to keep of a JSON ``body``."""
    with runtime.views.transaction() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table}")
        header = [d[0] for d in cursor.description]
        found = [dict(zip(header, row, strict=True)) for row in cursor.fetchall()]
    for row in found:
        if body:
            decoded = msgspec.json.decode(row.pop("body"))
            row.update((key, decoded[key]) for key in body)
    return sorted((names(row) for row in found), key=repr)


def lookups(
    runtime: Runtime, queries: Sequence[SuppressionQuery], lists: Sequence[UUID], names: Names
) -> dict[str, list[str]]:
    """What the suppression index answers for each query in ``lists``: ``list kind value`` each."""
    answers = runtime.suppression_index.lookup(list(queries), lists)
    return {
        f"{q.channel} {q.kind} {q.value}": [
            f"{names(str(entry.list_id))} {entry.kind} {entry.value}"
            + ("" if entry.expires_at is None else " (expires)")
            for entry in found
        ]
        for q, found in zip(queries, answers, strict=True)
    }


