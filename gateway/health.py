"""Readiness: each dependency the API needs, checked now, and what a load balancer should do.

``GET /healthz`` reports five checks — the event store, the read models, the suppression
index, the bus and the processors this process hosts (each one's lifecycle health: running,
consecutive failed rounds, last error) — each with a status and a reason, and an overall
status, the worst of them:

* ``ok``: the dependency works and is up to date;
* ``degraded``: it works but trails or is being (re)built; the gateway still serves (200),
  and the reason says what is affected (pre-dial validation denies every call until the
  suppression index has caught up);
* ``unavailable``: it is down (Redis unreachable, the store not answering, the bus stopped):
  the answer is 503, so a load balancer stops sending traffic here until it is back.

The probes (:func:`probe`) do the I/O, each under a deadline so a hung dependency is
reported rather than hanging the check; the verdicts (``*_check``) are pure functions of
what the probes saw.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from dialstream.bootstrap import SUPPRESSION_INDEX, Runtime
from processors.bus.embedded import EmbeddedBus
from processors.host.lifecycle import Health
from processors.suppression.index import IndexUnavailable
from processors.suppression.projection import SuppressionIndexFollower

Status = Literal["ok", "degraded", "unavailable"]
SEVERITY: dict[Status, int] = {"ok": 0, "degraded": 1, "unavailable": 2}
# Events a follower may trail the log by and still count as up to date: a burst of writes
# is absorbed in well under a second; a lag beyond this is one a reader would notice.
LAG_TOLERANCE = 1_000
PROBE_TIMEOUT = 2.0  # seconds; load balancers give a health check a few


@dataclass(frozen=True)
class Check:
    status: Status
    reason: str
    facts: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, **self.facts}


@dataclass(frozen=True)
class Readiness:
    checks: Mapping[str, Check]
    log_position: int | None
    read_models_position: int | None

    @property
    def status(self) -> Status:
        return worst(check.status for check in self.checks.values())

    @property
    def http_status(self) -> int:
        return 503 if self.status == "unavailable" else 200


def worst(statuses: Iterable[Status]) -> Status:
    return max(statuses, key=SEVERITY.__getitem__, default="ok")


# -- verdicts (pure) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What one probe saw: a value, or the problem that stopped it, worded to stand alone
    ("the event store did not answer within 2 s")."""

    value: Any = None
    problem: str | None = None


def store_check(head: Answer, elapsed_ms: float) -> Check:
    if head.problem is not None:
        return Check("unavailable", head.problem)
    return Check(
        "ok", f"the event store answered in {elapsed_ms:.0f} ms", {"log_position": head.value}
    )


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


def _lag(head: int | None, position: int | None) -> int | None:
    return None if head is None or position is None else max(head - position, 0)


def read_models_check(position: Answer, head: int | None, bus_problem: str | None) -> Check:
    if position.problem is not None:
        return Check("unavailable", position.problem)
    lag = _lag(head, position.value)
    facts = {"position": position.value, "lag": lag}
    if bus_problem is not None:
        return Check("unavailable", f"the read models are not being updated: {bus_problem}", facts)
    return _lag_check(
        lag, facts, unknown="their", behind="reads may miss recent changes", current="up to date with the event log"
    )


def _lag_check(lag: int | None, facts: dict[str, Any], *, unknown: str, behind: str, current: str) -> Check:
    """A follower's check by how far behind the log head it is."""
    if lag is None:
        return Check("degraded", f"{unknown} lag is unknown: the event store did not answer", facts)
    if lag > LAG_TOLERANCE:
        return Check("degraded", f"{_events(lag)} behind the log head: {behind}", facts)
    if lag:
        return Check("ok", f"{_events(lag)} behind the log head, catching up", facts)
    return Check("ok", current, facts)


@dataclass(frozen=True)
class FollowerState:
    """The suppression-index follower hosted by this process, as the check sees it."""

    ready: bool
    error: str | None


def index_check(
    adapter: str, position: Answer, head: int | None, follower: FollowerState | None
) -> Check:
    facts: dict[str, Any] = {"index": adapter, "position": None, "lag": None}
    if position.problem is not None:
        return Check("unavailable", position.problem, facts)
    facts.update(position=position.value, lag=_lag(head, position.value))
    denies = "pre-dial validation denies every call until it has caught up"
    if position.value is None and follower is None and adapter == "embedded":
        return Check(
            "degraded",
            "this process's embedded suppression index is never built: it does not host the "
            "suppression-index follower (a gateway only); share a Redis index with the worker "
            "(DIALSTREAM_SUPPRESSION_INDEX=redis://HOST:PORT/DB); pre-dial validation here denies every call",
            facts,
        )
    if position.value is None:
        builder = "this process" if follower is not None else "the suppression-index worker"
        return Check("degraded", f"the suppression index is not built yet ({builder} builds it); {denies}", facts)
    if follower is not None and follower.error is not None:
        return Check("degraded", f"the suppression index cannot follow the event log: {follower.error}", facts)
    if follower is not None and not follower.ready:
        where = "" if head is None else f" (at position {position.value} of {head})"
        return Check("degraded", f"the suppression index is being rebuilt from the event log{where}; {denies}", facts)
    return _lag_check(
        facts["lag"],
        facts,
        unknown="its",
        behind="the newest suppression entries may not apply yet",
        current="answering, up to date with the event log",
    )


def processors_check(hosted: Sequence[Health]) -> Check:
    """The processors, sweeps and followers this process hosts. One that fails its rounds or
    has stopped leaves the API serving (degraded): its effects (suppression marks, imports,
    sweeps) wait until it works again, which the reason says."""
    facts = {
        "processors": {
            health.name: {
                "running": health.running,
                "failures": health.failures,
                "error": health.error,
                "last_success": None if health.last_success is None
                else datetime.fromtimestamp(health.last_success, UTC).isoformat(timespec="seconds"),
            }
            for health in hosted
        }
    }
    if not hosted:
        return Check("ok", "this process hosts no processors (they run in workers)", facts)
    failing = [health for health in hosted if not health.healthy]
    if failing:
        reasons = "; ".join(
            f"{health.name}: {health.error or 'stopped'}"
            + (f" ({health.failures} failed rounds in a row)" if health.failures > 1 else "")
            for health in failing
        )
        return Check("degraded", f"work waits until they recover: {reasons}", facts)
    return Check("ok", f"running: {', '.join(health.name for health in hosted)}", facts)


def bus_check(running: bool | None, error: str | None) -> Check:
    if error is not None:
        return Check("unavailable", f"delivery of the event log is failing: {error}")
    if running is False:
        return Check("unavailable", "the thread that delivers the event log has stopped")
    return Check("ok", "delivering the event log")


# -- probes (I/O) ----------------------------------------------------------------------------


def _describe(error: BaseException) -> str:
    if isinstance(error, IndexUnavailable):
        return error.reason
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class Probe:
    subject: str  # what is asked, for the reasons: "the event store"
    ask: Callable[[], Any]


def _within(probes: Mapping[str, Probe], timeout: float) -> dict[str, tuple[Answer, float]]:
    """Run the probes at once, each on a daemon thread; a probe still running at the deadline
    is reported as not answering and left to finish on its own (it never holds up shutdown)."""
    answers: dict[str, tuple[Answer, float]] = {}

    def run(name: str, probe: Probe) -> None:
        started = time.monotonic()
        try:
            answer = Answer(value=probe.ask())
        except IndexUnavailable as error:  # its reason names the index and the cause
            answer = Answer(problem=error.reason)
        except Exception as error:  # what went wrong is the report
            answer = Answer(problem=f"{probe.subject} cannot be read: {_describe(error)}")
        answers[name] = (answer, (time.monotonic() - started) * 1000)

    threads = [
        threading.Thread(target=run, args=item, name=f"healthz-{item[0]}", daemon=True)
        for item in probes.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    return {
        name: answers.get(name) or (Answer(problem=f"{probe.subject} did not answer within {timeout:g} s"), 0.0)
        for name, probe in probes.items()
    }


def public_address(url: str) -> str:
    """A URL without its password or query (where redis-py also takes passwords)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user = parts.username or ""
        netloc = f"{user}:***@{netloc.rpartition('@')[2]}" if parts.password else netloc
    return parts._replace(netloc=netloc, query="", fragment="").geturl()


def probe(runtime: Runtime, timeout: float = PROBE_TIMEOUT) -> Readiness:
    bus = runtime.bus
    index_address = public_address(runtime.settings.suppression_index)
    answers = _within(
        {
            "store": Probe("the event store", runtime.store.position),
            "read_models": Probe("the read models' position", bus.caught_up_to),
            "suppression_index": Probe(
                f"the suppression index ({index_address})", runtime.suppression_index.position
            ),
        },
        timeout,
    )
    head, store_ms = answers["store"]
    log_position = head.value if head.problem is None else None

    bus_error = None if bus.error is None else _describe(bus.error)
    running = bus.running() if isinstance(bus, EmbeddedBus) else None
    bus_status = bus_check(running, bus_error)
    bus_problem = None if bus_status.status == "ok" else bus_status.reason

    follower = runtime.services.get(SUPPRESSION_INDEX)
    follower_state = None
    if isinstance(follower, SuppressionIndexFollower):
        follower_error = follower.error
        follower_state = FollowerState(
            ready=follower.ready.is_set(),
            # An outage of the index shows in its own probe; anything else is a failure to follow.
            error=None if follower_error is None or isinstance(follower_error, IndexUnavailable)
            else _describe(follower_error),
        )
    read_models, _ = answers["read_models"]
    index, _ = answers["suppression_index"]
    checks = {
        "store": store_check(head, store_ms),
        "read_models": read_models_check(read_models, log_position, bus_problem),
        "suppression_index": index_check(index_address, index, log_position, follower_state),
        "bus": bus_status,
        "processors": processors_check([service.health() for service in runtime.services.values()]),
    }
    return Readiness(
        checks,
        log_position,
        read_models.value if read_models.problem is None else None,
    )


def report(readiness: Readiness, bus: str) -> dict[str, Any]:
    return {
        "status": readiness.status,
        "log_position": readiness.log_position,
        "read_models_position": readiness.read_models_position,
        "bus": bus,
        "checks": {name: check.as_json() for name, check in readiness.checks.items()},
    }
