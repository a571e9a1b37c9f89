"""What the dialer reads and writes, bundled by the composition root (dialstream/bootstrap.py).

The dialer writes only through the service layer (``handlers``: queue, attempts, agents,
campaigns); it reads the read models (records, agents, group activity, catalogue), asks the
pre-dial gate before every call, places calls on the :class:`Telephony` port and sends the
messages of SMS and e-mail campaigns on the :class:`Channel` port.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from dialstream.handlers import Handlers
from processors.channels.links import MessageLinks
from processors.channels.port import Channel
from processors.channels.sms import REPORT_WAIT_S
from processors.compliance.predial import PreDialValidator
from processors.telephony.port import Telephony
from projections.agents import AgentQueries
from projections.catalogue import CatalogueQueries
from projections.group_activity import GroupActivityQueries
from projections.records import RecordQueries


class SimulatedAgents(Protocol):
    """How long a simulated agent's wrap-up lasts (the telephony simulator's model)."""

    def wrap_up_s(self) -> float: ...


@dataclass
class DialerPorts:
    handlers: Handlers
    records: RecordQueries
    agents: AgentQueries
    activity: GroupActivityQueries
    catalogue: CatalogueQueries
    predial: PreDialValidator
    telephony: Telephony
    # Epoch seconds of the telephony clock's zero: the store's clock is ``epoch + telephony.now()``
    # in virtual time, the wall clock otherwise (see :func:`clock_of`).
    clock: Callable[[], datetime]
    simulated_agents: SimulatedAgents | None = None
    # Blocks until the read models hold everything stored so far (True) or the timeout passes:
    # a new owner reads what the dead one left only once the read models have it all.
    wait_for_head: Callable[[float], bool] | None = None
    # The message channels this process sends on ("sms", "email"; none: message campaigns wait),
    # and the links their messages carry back (none: no delivery reports, no unsubscribe link).
    channels: Mapping[str, Channel] = field(default_factory=dict)
    links: MessageLinks | None = None
    # How long an SMS the provider took waits for its delivery report before it ends unknown.
    report_wait_s: float = REPORT_WAIT_S
    # Epoch seconds on the timeline the account's attempts-per-minute caps count in, the same
    # in every dialer process (None: the store's clock). A simulator run faster than life
    # counts its own minutes, as each group's pacing does.
    cap_clock: Callable[[], float] | None = None

    def cap_now(self) -> float:
        """Now on the timeline the account's caps count in (``cap_clock``)."""
        return self.cap_clock() if self.cap_clock is not None else self.clock().timestamp()
