"""Drive a simulated telephony in virtual time for the tests: jump the clock to each next event,
poll, and let a reaction (the test's stand-in for a dialer) command the calls."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from uuid import UUID

from processors.telephony.port import PlaceCall, Progress
from processors.telephony.simulator import CallModel, Rates, SimulatedTelephony, Timings, VirtualClock

AGENT = UUID(int=7)


def call(n: int, *, ring_timeout_s: int = 30, amd: bool = True, list_id: UUID | None = None) -> PlaceCall:
    return PlaceCall(
        call_id=UUID(int=n + 1),
        number=f"+1555{n:07d}",
        caller_id="+15550000000",
        ring_timeout_s=ring_timeout_s,
        amd=amd,
        list_id=list_id,
    )


def only(**rates: float) -> Rates:
    """Rates with every outcome not named at 0 (the rest, if any, is no answer)."""
    nothing = dict.fromkeys(("answer_person", "machine", "fax", "busy", "invalid", "network_error"), 0.0)
    return Rates(**{**nothing, **rates})


def telephony(
    seed: int = 1,
    rates: Rates | None = None,
    timings: Timings | None = None,
    rates_by_list: dict[UUID, Rates] | None = None,
) -> tuple[SimulatedTelephony, VirtualClock]:
    clock = VirtualClock()
    model = CallModel(seed, rates_by_list, default_rates=rates, timings=timings)
    return SimulatedTelephony(model, clock), clock


def run(
    tel: SimulatedTelephony,
    clock: VirtualClock,
    react: Callable[[Progress], None] | None = None,
    *,
    until: float | None = None,
) -> list[Progress]:
    """Deliver every event (up to ``until``), checking they come in time order and never early."""
    seen: list[Progress] = []
    while (due := tel.next_due()) is not None and (until is None or due <= until):
        clock.advance_to(max(due, clock.now()))
        batch = tel.poll()
        assert batch, "next_due promised an event that poll did not return"
        for progress in batch:
            assert progress.at <= clock.now()
            assert not seen or progress.at >= seen[-1].at, (seen[-1], progress)
            seen.append(progress)
            if react is not None:
                react(progress)
    if until is not None and until > clock.now():
        clock.advance_to(until)
        seen.extend(tel.poll())
    return seen


def by_call(events: list[Progress]) -> dict[UUID, list[Progress]]:
    calls: dict[UUID, list[Progress]] = defaultdict(list)
    for progress in events:
        calls[progress.call_id].append(progress)
    return calls


def kinds(events: list[Progress]) -> list[str]:
    return [progress.kind for progress in events]
