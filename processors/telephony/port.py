"""The telephony port: what the dialer asks of a phone network, and what it hears back.

Adapters: :mod:`processors.telephony.simulator` (seeded, virtual or wall-clock time). A real
switch (SIP, a CTI link) is another adapter behind the same port.

Commands are synchronous and cheap (they never wait for the network); everything the network
says comes back as :class:`Progress` events that the dialer collects with :meth:`Telephony.poll`.
Time is the adapter's own clock (:meth:`Telephony.now`, seconds, monotonic), so a driver in
virtual time can jump to :meth:`Telephony.next_due` instead of sleeping.

The life of a call (``at`` is when the network said it)::

    place ─┬─ busy | sit_invalid | network_error                        (end; no ringing first)
           └─ ringing ─┬─ no_answer  (at ring_timeout_s after place)    (end)
                       ├─ answered_person ─┬─ connect → connected … remote_hangup   (talk over)
                       │                   ├─ drop_with_message → message_played, hung_up
                       │                   └─ (nothing) → remote_hangup (the person's patience)
                       ├─ answering_machine (only with amd)
                       │                   ├─ drop_with_message → message_played, hung_up
                       │                   └─ (nothing) → remote_hangup (recording limit)
                       └─ fax ─────────────── (nothing) → remote_hangup (fax gives up)
    hang_up at any time before the end → hung_up (now); nothing else follows.

- ``answered_person`` / ``answering_machine`` / ``fax`` are the call progress analysis's verdict,
  which a real detector sometimes gets wrong; the far end then behaves as what it really is.
- Busy, special information tone and network errors come without "ringing", as on a real
  network (busy tone, intercept or failure before the far end is alerted).
- Without answering-machine detection (``amd=False``) a machine is not told apart: it is reported
  as ``answered_person``; if the dialer connects it, the "talk" is the machine's greeting and
  recording, and an unattended one records until its limit. Fax tones are recognised by call
  progress analysis either way.
- A person answered and left in silence waits a few seconds, then hangs up (``remote_hangup``
  before any connect): that is the abandon the pacing must avoid. ``connect`` starts the transfer
  to the agent; if the person's patience runs out first, ``remote_hangup`` comes and ``connected``
  never does.
- ``connect`` is accepted only after ``answered_person``; ``drop_with_message`` only after
  ``answered_person`` or ``answering_machine`` (a message for a fax is pointless). A command on a
  call that has already ended (or an id not in progress: adapters forget ended calls) is ignored
  and returns ``False`` — the end is in :meth:`poll`, or was; a race with the far end, not a bug.
  A command the call's state does not allow raises :class:`CallStateError`.

Guarantee: every placed call ends exactly once, with one of :data:`TERMINAL_KINDS`, and nothing
of that call follows its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, Protocol, get_args
from uuid import UUID

ProgressKind = Literal[
    "ringing",
    "answered_person",
    "answering_machine",
    "fax",
    "busy",
    "no_answer",
    "sit_invalid",
    "network_error",
    "connected",
    "message_played",
    "remote_hangup",  # the far end ended the call: talk over, patience over, recording limit
    "hung_up",  # the dialer ended it (hang_up, or after a dropped call's message)
]
PROGRESS_KINDS: Final[frozenset[str]] = frozenset(get_args(ProgressKind))

# The kinds that end a call; exactly one of them ends every placed call.
TERMINAL_KINDS: Final[frozenset[str]] = frozenset(
    {"busy", "no_answer", "sit_invalid", "network_error", "remote_hangup", "hung_up"}
)
# The kinds that say the far end picked up (how the call progress analysis classed it).
ANSWER_KINDS: Final[frozenset[str]] = frozenset({"answered_person", "answering_machine", "fax"})

# US TCPA rule, 47 CFR 64.1200(a)(6): let an unanswered call ring "for at least 15 seconds or
# four (4) rings" before disconnecting it (pacing-notes §1b, Hoeflin & Levy note).
MIN_RING_TIMEOUT_S: Final[int] = 15


class CallStateError(ValueError):
    """A command the call's current state does not allow (connect a ringing call, connect twice,
    place an id already in progress): a bug in the caller, not a network event."""


@dataclass(frozen=True, slots=True)
class PlaceCall:
    """Dial ``number`` showing ``caller_id``; give up after ``ring_timeout_s`` unanswered;
    ``amd`` asks for answering-machine detection. ``list_id`` says which contact list the
    record came from (the simulator's per-list rates; a real switch ignores it)."""

    call_id: UUID
    number: str
    caller_id: str
    ring_timeout_s: int
    amd: bool
    list_id: UUID | None = None

    def __post_init__(self) -> None:
        if self.ring_timeout_s < MIN_RING_TIMEOUT_S:
            raise ValueError(
                f"ring timeout {self.ring_timeout_s} s is below the regulators' minimum of "
                f"{MIN_RING_TIMEOUT_S} s"
            )


@dataclass(frozen=True, slots=True)
class Progress:
    """What the network said about a call, and when (the port's clock, seconds)."""

    call_id: UUID
    kind: ProgressKind
    at: float

    @property
    def terminal(self) -> bool:
        return self.kind in TERMINAL_KINDS


class Telephony(Protocol):
    """The dialer port. One instance serves one dialer; calls are told apart by ``call_id``."""

    def place(self, call: PlaceCall) -> None:
        """Start dialing. Raises :class:`CallStateError` for a ``call_id`` still in progress."""
        ...

    def connect(self, call_id: UUID, agent_id: UUID) -> bool:
        """Transfer the answered person to the agent (``connected`` follows, or
        ``remote_hangup`` if they hang up first). False when the call has already ended."""
        ...

    def drop_with_message(self, call_id: UUID, message: str) -> bool:
        """Play ``message`` (an abandoned call's notice, or a message left on a machine), then
        hang up: ``message_played`` then ``hung_up``. False when the call has already ended."""
        ...

    def hang_up(self, call_id: UUID) -> bool:
        """End the call now (``hung_up``); nothing else of it follows. False when it has
        already ended."""
        ...

    def poll(self) -> list[Progress]:
        """Every event due by :meth:`now` and not yet returned, in time order."""
        ...

    def next_due(self) -> float | None:
        """When the next event is due (may be ≤ now if not yet polled); None when nothing is
        pending."""
        ...

    def now(self) -> float:
        """The port's clock, seconds (monotonic; not the epoch)."""
        ...
