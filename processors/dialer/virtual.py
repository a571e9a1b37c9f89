"""Running the dialer in virtual time: the telephony simulator's clock jumps to the next thing
due instead of sleeping, and the store's clock follows it (tests, ``make bench``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from processors.dialer.runner import Dialer
from processors.telephony.simulator import VirtualClock

TICK_S = 0.5  # the pacing looks again at least this often (virtual seconds)


def store_clock(clock: VirtualClock, epoch: datetime) -> Callable[[], datetime]:
    """The store's clock in virtual time: ``epoch`` plus the simulator's seconds (worked out once
    per instant: a dialer's step asks a few dozen times at one)."""
    last: tuple[float, datetime] = (0.0, epoch)

    def now() -> datetime:
        nonlocal last
        seconds = clock.now()
        if seconds != last[0]:
            last = (seconds, epoch + timedelta(seconds=seconds))
        return last[1]

    return now


def run_virtual(
    dialer: Dialer,
    clock: VirtualClock,
    *,
    until: float,
    tick_s: float = TICK_S,
    between: Callable[[], None] | None = None,
) -> None:
    """Run rounds until the virtual clock reaches ``until`` (seconds). ``between`` runs after
    each round (a test lets the read models catch up, or changes something mid-run).

    Rounds come as the dialer's own loop runs them in real time: at most one every
    ``dialer.interval_s`` of telephony time, each taking what came since the last (a round
    per telephony event would make a step, and its transaction, of every answer and
    hang-up, which no running dialer does)."""
    dialer.discover()  # what changed before the run (a group started) counts from its start
    while clock.now() < until:
        dialer.run_once()
        if between is not None:
            between()
        now = clock.now()
        due = dialer.next_due()
        target = now + tick_s if due is None else min(max(due, now + dialer.interval_s), now + tick_s)
        clock.advance_to(min(target, until))
