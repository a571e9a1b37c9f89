"""What the dialer holds of a group between steps: its calls and its view of the agents (put
back as they were when a step is decided again: :class:`Journaled`), their counts by stage
and state (kept until one changes: :class:`KeptTally`), and the observations the pacing reads
(sums kept as samples come and leave the window)."""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar, overload
from uuid import UUID

from dialstream.handlers.queue import Drawn
from domain import dialing, pacing
from projections.agents import AgentRow
from projections.group_activity import ActivityCounts

HISTORY_WINDOW_S = 1800.0  # the pacing's history window (answer rate, ring, talk, wrap-up): as benchmarked

# The objects a step changes, as they were before it (by identity; None: made in the step): a
# step decided again puts them back. Set by GroupRun.run_step on the dialer's thread.
JOURNAL: ContextVar[dict[int, tuple[object, dict[str, object] | None]] | None] = ContextVar(
    "dialer_journal", default=None
)


class Journaled:
    """Fields that a step decided again puts back as they were (see :data:`JOURNAL`)."""

    def __setattr__(self, name: str, value: object) -> None:
        journal = JOURNAL.get()
        if journal is not None and id(self) not in journal:
            # One being made (no fields yet) has nothing to put back: it goes with its step.
            journal[id(self)] = (self, dict(self.__dict__) if self.__dict__ else None)
        object.__setattr__(self, name, value)


def put_back(journal: dict[int, tuple[object, dict[str, object] | None]]) -> None:
    """Every object of a step's journal as it was before the step."""
    for changed, fields in journal.values():
        if fields is not None:
            changed.__dict__.clear()
            changed.__dict__.update(fields)


# Every change to a call or an agent view (made, or a field set) stores a new number in its
# class's ``changes``: a tally of them (:class:`KeptTally`) stays true while that and their dict
# are unchanged. Numbers come from one counter and each is stored once, so even with dialers on
# several threads the value after a change differs from any value read before it.
_NUMBERS = itertools.count(1)


class Counted(Journaled):
    """Journaled fields whose every change takes a new number (see :data:`_NUMBERS`)."""

    changes: ClassVar[list[int]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.changes = [0]  # each kind its own: a call's change keeps the agents' tally

    def __setattr__(self, name: str, value: object) -> None:
        self.changes[0] = next(_NUMBERS)
        super().__setattr__(name, value)


@dataclass
class Call(Counted):
    attempt_id: UUID
    drawn: Drawn
    placed_at: float
    stage: str = "dialing"  # dialing, waiting, connected, message, dropping
    answered_at: float | None = None
    answered_by: str | None = None
    agent_id: UUID | None = None  # reserved before (engage, preview) or connected
    deadline: float | None = None  # a waiting live answer is abandoned then
    connected_at: float | None = None


@dataclass
class AgentView(Counted):
    row: AgentRow
    ready_since: float
    local_state: str | None = None  # what this dialer made it, until the read model shows it
    local_version: int = 0
    _since_of: AgentRow | None = field(default=None, repr=False, compare=False)
    _since: float | None = field(default=None, repr=False, compare=False)

    @property
    def state(self) -> str:
        return self.local_state or self.row.state

    def since_s(self) -> float | None:
        """When the row's state began, in epoch seconds (worked out once per row: the pacing's
        situation asks at every step)."""
        row = self.row
        if row is not self._since_of:
            # A cache, not state: neither journaled nor counted as a change of the view.
            object.__setattr__(self, "_since", row.since.timestamp() if row.since else None)
            object.__setattr__(self, "_since_of", row)
        return self._since


K = TypeVar("K")
V = TypeVar("V", bound=Counted)
T = TypeVar("T")


class KeptTally(Generic[K, V, T]):
    """A count of a dict of counted objects, made again only when one of them changed or the
    dict did (replaced, or an entry added or removed): most of a group's steps change none."""

    def __init__(self, kind: type[V], count: Callable[[dict[K, V]], T]):
        self.changes = kind.changes
        self.count = count
        self.key: tuple[dict[K, V], int, int] | None = None
        self.value: T | None = None

    def of(self, items: dict[K, V]) -> T:
        value = self.kept(items)
        if value is None:
            self.key = (items, len(items), self.changes[0])
            self.value = value = self.count(items)
        return value

    def kept(self, items: dict[K, V]) -> T | None:
        """The count of ``items`` if the one made last is still true, else None (not made)."""
        key = self.key
        if key is None or key[0] is not items or key[1] != len(items) or key[2] != self.changes[0]:
            return None
        return self.value


@dataclass(frozen=True, slots=True)
class AgentTally:
    """The agents of a group by state, as the pacing counts them."""

    ready: list[tuple[UUID, AgentView]]
    on_call: list[float | None]  # when each one's state began (epoch seconds; None: not known)
    wrap_up: list[float | None]
    reserved: int
    logged_in: int


def tally_agents(agents: dict[UUID, AgentView]) -> AgentTally:
    ready: list[tuple[UUID, AgentView]] = []
    on_call: list[float | None] = []
    wrap_up: list[float | None] = []
    reserved = logged_in = 0
    for agent_id, view in agents.items():
        state = view.local_state or view.row.state
        if state == "logged_out":
            continue
        logged_in += 1
        if state == "ready":
            ready.append((agent_id, view))
        elif state == "on_call":
            on_call.append(view.since_s())
        elif state == "wrap_up":
            wrap_up.append(view.since_s())
        elif state == "reserved":
            reserved += 1
    return AgentTally(ready, on_call, wrap_up, reserved, logged_in)


@dataclass(frozen=True, slots=True)
class CallTally:
    """A group's calls by stage."""

    dialing: list[float]  # when each call placed and not yet answered or ended was placed
    waiting: list[Call]  # live answers waiting for an agent, the longest waiting first
    connected: int
    agents: set[int]  # the agents on a call or reserved for one (their ids' integers)


def tally_calls(calls: dict[UUID, Call]) -> CallTally:
    dialing: list[float] = []
    waiting: list[Call] = []
    connected = 0
    agents: set[int] = set()
    for call in calls.values():
        stage = call.stage
        if stage == "dialing":
            dialing.append(call.placed_at)
        elif stage == "waiting":
            waiting.append(call)
        elif stage == "connected":
            connected += 1
        if call.agent_id is not None:
            agents.add(call.agent_id.int)
    waiting.sort(key=lambda c: c.answered_at or 0.0)
    return CallTally(dialing, waiting, connected, agents)


@dataclass(slots=True)
class FreeAgents:
    """The agents free for one pair of tallies (both are made anew on any change, so the pair's
    identity says whether this still holds), and the same as the pacing's ReadyAgents once asked."""

    ready: list[tuple[UUID, AgentView]]  # the agents' tally's ready ones
    calls: CallTally
    free: list[tuple[UUID, AgentView]]
    as_ready: list[dialing.ReadyAgent] | None = None


class Ages(Sequence[float]):
    """Seconds from each of ``since`` (epoch seconds; None: not known, taken as now) to ``at``,
    worked out only when read: every step hands the pacing its agents' times on a call and in
    wrap-up, and only the predictive modes read more of them than how many there are."""

    __slots__ = ("at", "since")

    def __init__(self, since: Sequence[float | None], at: float):
        self.since, self.at = since, at

    def __len__(self) -> int:
        return len(self.since)

    @overload
    def __getitem__(self, index: int) -> float: ...

    @overload
    def __getitem__(self, index: slice) -> list[float]: ...

    def __getitem__(self, index: int | slice) -> float | list[float]:
        if isinstance(index, slice):
            return [self._age(since) for since in self.since[index]]
        return self._age(self.since[index])

    def __iter__(self) -> Iterator[float]:
        return map(self._age, self.since)

    def _age(self, since: float | None) -> float:
        return 0.0 if since is None else max(0.0, self.at - since)


class Sums:
    """Count, sum and sum of squares of a sample, kept as samples come and go."""

    __slots__ = ("n", "squares", "total")

    def __init__(self) -> None:
        self.n, self.total, self.squares = 0, 0.0, 0.0

    def add(self, x: float, sign: int = 1) -> None:
        self.n += sign
        self.total += sign * x
        self.squares += sign * x * x

    def moments(self) -> pacing.Moments:
        if self.n <= 0:
            return pacing.Moments()
        mean = self.total / self.n
        return pacing.Moments(self.n, mean, math.sqrt(max(0.0, self.squares / self.n - mean * mean)))


@dataclass
class Observations:
    """The group's recent finished attempts, talks and wrap-ups (what the pacing reads), with
    their sums kept as they come and leave the window, so the pacing's history costs nothing.

    A step's samples wait in ``pending`` until the step is stored (:meth:`commit`); a step
    decided again drops them (:meth:`discard`), so nothing is counted twice."""

    samples: deque[tuple[float, str, float]] = field(default_factory=deque)  # (at, series, seconds)
    pending: list[tuple[float, str, float]] = field(default_factory=list)
    sums: dict[str, Sums] = field(default_factory=lambda: {k: Sums() for k in ("live", "failed", "talk", "wrap")})
    # The last history given and the seed it was given for, while no sample came or left: most
    # steps add none, and every step asks.
    kept: tuple[pacing.History, pacing.History] | None = None

    def outcome(self, at: float, live: bool, seconds: float) -> None:
        self.pending.append((at, "live" if live else "failed", seconds))

    def talk(self, at: float, seconds: float) -> None:
        self.pending.append((at, "talk", seconds))

    def wrap(self, at: float, seconds: float) -> None:
        self.pending.append((at, "wrap", seconds))

    def commit(self) -> None:
        if not self.pending:
            return
        for sample in self.pending:
            self.samples.append(sample)
            self.sums[sample[1]].add(sample[2])
        self.pending = []
        self.kept = None

    def discard(self) -> None:
        self.pending = []

    def trim(self, now: float) -> None:
        samples = self.samples
        while samples and samples[0][0] < now - HISTORY_WINDOW_S:
            _, series, seconds = samples.popleft()
            self.sums[series].add(seconds, -1)
            self.kept = None

    def history(self, seed: pacing.History) -> pacing.History:
        """What this owner observed; while that is less than the pacing needs, the counters
        of the read model over the window (a new owner's start) stand in."""
        kept = self.kept
        if kept is not None and kept[0] is seed:
            return kept[1]
        live, failed = self.sums["live"].moments(), self.sums["failed"].moments()
        own = pacing.History(
            attempts=live.count + failed.count,
            live=live.count,
            ring_live=live,
            failed=failed,
            talk=self.sums["talk"].moments(),
            wrap_up=self.sums["wrap"].moments(),
        )
        history = seed if own.attempts < seed.attempts and pacing.cold(own) else own
        self.kept = (seed, history)
        return history


def seed_history(counts: ActivityCounts) -> pacing.History:
    """A history from a read model's counters: means only, so each spread is taken as its
    mean (a coefficient of variation of 1, between the uniform rings and the lognormal talks)."""

    def moments(count: int, mean: float | None) -> pacing.Moments:
        return pacing.Moments(count, mean or 0.0, mean or 0.0) if count else pacing.Moments()

    return pacing.History(
        attempts=counts.live + counts.failed,
        live=counts.live,
        ring_live=moments(counts.live, counts.mean_ring_to_live_s),
        failed=moments(counts.failed, counts.mean_failed_s),
        talk=moments(counts.talks, counts.mean_talk_s),
    )
