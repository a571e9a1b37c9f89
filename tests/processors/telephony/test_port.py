"""The telephony port's contract, as one test case run against each adapter (today: the
simulator in virtual time). An adapter's test class says how to get a telephony whose calls all
end one way, and how to let time pass."""

from __future__ import annotations

import random
from collections.abc import Callable
from uuid import UUID

import pytest

from processors.telephony.port import (
    ANSWER_KINDS,
    MIN_RING_TIMEOUT_S,
    PROGRESS_KINDS,
    TERMINAL_KINDS,
    CallStateError,
    PlaceCall,
    Progress,
    Telephony,
)
from processors.telephony.simulator import Rates, SimulatedTelephony, Timings, VirtualClock
from tests.processors.telephony.driving import AGENT, by_call, call, kinds, only, telephony

Outcome = str  # "person", "machine", "fax", "busy", "no_answer", "invalid", "network_error", "mixed"


def test_a_ring_timeout_below_the_regulators_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="15"):
        PlaceCall(UUID(int=1), "+15551234567", "+15550000000", ring_timeout_s=14, amd=False)
    assert PlaceCall(UUID(int=1), "+15551234567", "+15550000000", ring_timeout_s=15, amd=False)
    assert MIN_RING_TIMEOUT_S == 15


def test_the_kinds_are_the_designs() -> None:
    assert {
        "ringing", "answered_person", "answering_machine", "fax", "busy", "no_answer", "sit_invalid",
        "network_error", "connected", "message_played", "remote_hangup", "hung_up",
    } == PROGRESS_KINDS  # fmt: skip
    assert TERMINAL_KINDS < PROGRESS_KINDS and ANSWER_KINDS.isdisjoint(TERMINAL_KINDS)


class TelephonyContract:
    """What every adapter of the port must do."""

    def make(
        self, outcome: Outcome, timings: Timings | None = None
    ) -> tuple[Telephony, Callable[[], list[Progress]]]:
        """A telephony whose calls all end in ``outcome`` and a function that lets all pending
        time pass and returns what was heard."""
        raise NotImplementedError

    def until(self, tel: Telephony, kind: str) -> list[Progress]:
        """Let time pass until an event of ``kind``; return everything heard so far."""
        raise NotImplementedError

    def wait(self, tel: Telephony, seconds: float) -> list[Progress]:
        """Let ``seconds`` pass; return what was heard."""
        raise NotImplementedError

    def test_a_live_answer_connected_talks_then_the_person_hangs_up(self) -> None:
        tel, finish = self.make("person")
        tel.place(call(1))
        heard = self.until(tel, "answered_person")
        assert tel.connect(call(1).call_id, AGENT) is True
        heard += finish()
        assert kinds(heard) == ["ringing", "answered_person", "connected", "remote_hangup"]
        ringing, answered, connected, ended = (p.at for p in heard)
        assert ringing <= answered < connected < ended

    def test_connect_is_refused_before_an_answer(self) -> None:
        tel, _ = self.make("person")
        tel.place(call(1))
        with pytest.raises(CallStateError, match="dialing"):
            tel.connect(call(1).call_id, AGENT)
        self.until(tel, "ringing")
        with pytest.raises(CallStateError, match="ringing"):
            tel.connect(call(1).call_id, AGENT)

    @pytest.mark.parametrize(("outcome", "kind"), [("machine", "answering_machine"), ("fax", "fax")])
    def test_connect_is_refused_for_a_machine_or_a_fax(self, outcome: Outcome, kind: str) -> None:
        tel, finish = self.make(outcome)
        tel.place(call(1))
        self.until(tel, kind)
        with pytest.raises(CallStateError):
            tel.connect(call(1).call_id, AGENT)
        assert kinds(finish()) == ["remote_hangup"]  # left alone, the far end gives up

    def test_connect_twice_is_refused(self) -> None:
        tel, _ = self.make("person")
        tel.place(call(1))
        self.until(tel, "answered_person")
        tel.connect(call(1).call_id, AGENT)
        with pytest.raises(CallStateError, match="connecting"):
            tel.connect(call(1).call_id, AGENT)

    @pytest.mark.parametrize(
        ("outcome", "kind"), [("person", "answered_person"), ("machine", "answering_machine")]
    )
    def test_drop_with_message_plays_it_then_hangs_up(self, outcome: Outcome, kind: str) -> None:
        tel, finish = self.make(outcome)
        tel.place(call(1))
        self.until(tel, kind)
        assert tel.drop_with_message(call(1).call_id, "Sorry we missed you") is True
        rest = finish()
        assert kinds(rest) == ["message_played", "hung_up"]
        assert rest[0].at <= rest[1].at

    def test_drop_with_message_is_refused_for_a_fax(self) -> None:
        tel, _ = self.make("fax")
        tel.place(call(1))
        self.until(tel, "fax")
        with pytest.raises(CallStateError):
            tel.drop_with_message(call(1).call_id, "notice")

    def test_an_answered_person_left_in_silence_hangs_up(self) -> None:
        tel, finish = self.make("person")
        tel.place(call(1))
        assert kinds(finish()) == ["ringing", "answered_person", "remote_hangup"]

    @pytest.mark.parametrize("after", ["nothing", "ringing", "answered_person"])
    def test_hang_up_ends_the_call_and_nothing_follows(self, after: str) -> None:
        tel, finish = self.make("person")
        tel.place(call(1))
        heard = [] if after == "nothing" else self.until(tel, after)
        assert tel.hang_up(call(1).call_id) is True
        heard += finish()
        assert heard[-1].kind == "hung_up"
        assert [p.kind for p in heard].count("hung_up") == 1
        assert tel.next_due() is None
        assert tel.hang_up(call(1).call_id) is False  # already over
        assert tel.connect(call(1).call_id, AGENT) is False

    @pytest.mark.parametrize(
        ("outcome", "kind"),
        [("busy", "busy"), ("invalid", "sit_invalid"), ("network_error", "network_error")],
    )
    def test_failures_end_without_ringing(self, outcome: Outcome, kind: str) -> None:
        tel, finish = self.make(outcome)
        tel.place(call(1))
        assert kinds(finish()) == [kind]

    def test_no_answer_rings_then_ends(self) -> None:
        tel, finish = self.make("no_answer")
        tel.place(call(1))
        assert kinds(finish()) == ["ringing", "no_answer"]

    def test_a_call_id_in_progress_cannot_be_placed_again(self) -> None:
        tel, _ = self.make("person")
        tel.place(call(1))
        with pytest.raises(CallStateError):
            tel.place(call(1))

    def test_every_placed_call_ends_exactly_once_whatever_the_dialer_does(self) -> None:
        tel, finish = self.make("mixed")
        dice = random.Random(5)
        placed = [call(n) for n in range(600)]
        heard: list[Progress] = []

        def react(batch: list[Progress]) -> None:  # like a careless dialer
            for progress in batch:
                heard.append(progress)
                roll = dice.random()
                if progress.kind == "answered_person" and roll < 0.6:
                    tel.connect(progress.call_id, AGENT)
                elif progress.kind in ("answered_person", "answering_machine") and roll < 0.8:
                    tel.drop_with_message(progress.call_id, "notice")
                elif roll < 0.05:
                    tel.hang_up(progress.call_id)  # at any time, even after the end

        for n, placing in enumerate(placed):
            tel.place(placing)
            if n % 20 == 19:
                react(self.wait(tel, 1.0))
        while tel.next_due() is not None:
            react(self.wait(tel, 1.0))
        assert finish() == []
        assert [p.at for p in heard] == sorted(p.at for p in heard)
        calls = by_call(heard)
        assert set(calls) == {p.call_id for p in placed}
        for events in calls.values():
            ends = [p for p in events if p.kind in TERMINAL_KINDS]
            assert len(ends) == 1 and events[-1] is ends[0], kinds(events)
            if "connected" in kinds(events):
                assert "answered_person" in kinds(events)[: kinds(events).index("connected")]
        assert {p.kind for p in heard} >= {"connected", "message_played", "hung_up", "remote_hangup"}


def _forced(outcome: Outcome) -> Rates:
    if outcome == "mixed":
        return Rates(answer_person=0.4, machine=0.2, fax=0.05, busy=0.1, invalid=0.05, network_error=0.05)
    if outcome == "no_answer":
        return only()
    return only(**{{"person": "answer_person"}.get(outcome, outcome): 1.0})


class TestSimulatorContract(TelephonyContract):
    def make(
        self, outcome: Outcome, timings: Timings | None = None
    ) -> tuple[Telephony, Callable[[], list[Progress]]]:
        tel, clock = telephony(rates=_forced(outcome), timings=timings)
        self.clock: VirtualClock = clock

        def finish() -> list[Progress]:
            # One jump far ahead, without next_due (which drops voided events on its way):
            # poll alone must deliver exactly what is due, as it does for a wall-clock dialer.
            clock.advance_to(clock.now() + 100_000.0)
            heard = tel.poll()
            assert tel.next_due() is None
            return heard

        return tel, finish

    def until(self, tel: Telephony, kind: str) -> list[Progress]:
        assert isinstance(tel, SimulatedTelephony)
        heard: list[Progress] = []
        while (due := tel.next_due()) is not None:
            self.clock.advance_to(max(due, self.clock.now()))
            heard += tel.poll()
            if kind in kinds(heard):
                return heard
        raise AssertionError(f"no {kind} came")

    def wait(self, tel: Telephony, seconds: float) -> list[Progress]:
        self.clock.advance_to(self.clock.now() + seconds)
        return tel.poll()
