"""One running campaign group, as the dialer that owns it runs it.

Input: the group's settings (its template's dialing and session profiles with overrides, the
account's pacing settings), its agents (the ``agent_states`` read model, overlaid with what
this dialer itself changed and the read model has not shown yet), its dialing queue (the
``records`` read model's dialable candidates, drawn through the queue handlers), the telephony
progress of its calls, and the pacing decision (:mod:`domain.pacing`).
Output (through the service layer): records retrieved and returned; the call-attempt
events of every call (placed, answered, connected or abandoned, finished: the call results
processor, :mod:`processors.results.processor`, updates and treats the record from that); the agents'
reservations, calls and wrap-ups; the group's pacing when it changes.
State: the calls in flight, the records drawn and not dialled yet, timers (abandon deadlines,
simulated agents' wrap-ups). Everything else is read again from events; a new owner rebuilds
what a dead one held (:meth:`GroupRun.take_over`).

Personal callbacks (:func:`domain.dialing_queue.may_take`): while one is due and its agent is
ready in the group, it is drawn for that agent, gated, and placed with the agent reserved first
(preview: offered to that agent); once its grace period is over, an ordinary draw takes it for
any agent. The group looks for its agents' callbacks only once one of its lists has one due
(:meth:`RecordQueries.personal_callbacks_due_at`, read every ``PERSONAL_LOOK_S``): no query
more per step otherwise.

Every record passes the pre-dial gate (:class:`PreDialValidator`, fail closed) at the moment
it is dialled; the attempt is stored before the call is placed, so a dialer killed between the
two leaves a stale record (never dialled twice for one schedule), not a lost one.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from dialstream.handlers.queue import Drawn, Return
from dialstream.store import ConcurrencyConflict
from domain import dialing, pacing, selection
from domain.abandon import AbandonWindows
from domain.codes import CallResult, RecordStatus
from domain.errors import DomainError
from domain.message_results import UNREPORTED_RESULT
from domain.message_template import TemplateFieldMissing
from domain.predial import denial_detail
from processors.compliance.predial import PreDialRequest
from processors.dialer.budget import AttemptBudget
from processors.dialer.messages import MESSAGE_CHANNELS, Outbox
from processors.dialer.ports import DialerPorts
from processors.dialer.state import (
    HISTORY_WINDOW_S,
    JOURNAL,
    AgentTally,
    AgentView,
    Ages,
    Call,
    CallTally,
    FreeAgents,
    KeptTally,
    Observations,
    put_back,
    seed_history,
    tally_agents,
    tally_calls,
)
from processors.telephony.port import PlaceCall, Progress
from schemas.profiles import DialingSettings, SessionSettings
from schemas.records import ReturnReason as Returned
from schemas.settings import PacingSettings

log = logging.getLogger(__name__)

# The group's settings and its agents' states are read again at most this often (telephony
# seconds): a supervisor's switch of mode, an agent's "not ready", take effect within it.
LOOK_AGAIN_S = 0.5
# Between looks, only the agents changed since are read (AgentQueries.changes); all of them this
# often, for what a Kafka read model applied out of log order.
AGENTS_FULL_READ_S = 10.0
SETTINGS_REFRESH_S = 5.0  # the account's pacing settings; the group's own are read on change
WINDOWS_REFRESH_S = 1.0  # abandon windows from the read model
PACING_RECORD_EVERY_S = 10.0  # the product's status feed interval
GATE_ROUNDS = 3  # draws per step when the gate denies some of what was drawn
# A gate that cannot answer (the suppression index or settings unavailable) denies everything:
# the group waits this long before drawing again, rather than drawing and returning each tick.
GATE_RETRY_S = 5.0
UNANSWERED_CODES = frozenset(
    {"index_unavailable", "settings_unavailable", "suppression_lists_unavailable", "attempt_history_unavailable"}
)
# A record the gate refuses without saying when it may be called (a suppressed number, one the
# compliance processor has not marked yet) is due again this long after, not at once: drawn and
# refused at every step, its chain's stream grew without end, and the compliance processor's
# marking of that chain lost every race with the dialer's draws.
DENIED_AGAIN_AFTER = timedelta(minutes=15)
# A draw (a query and a transaction) takes what the group dials in this long at its last
# minute's rate, up to DRAW_AHEAD_MAX records; each is still gated when it is dialled, and a
# pause or stop returns what was drawn and not dialled.
DRAW_AHEAD_S = 5
DRAW_AHEAD_MAX = 50
# How often a group reads when its lists' first personal callback falls due (telephony seconds).
PERSONAL_LOOK_S = 5.0
# How often a group looks for SMS whose delivery report is overdue (telephony seconds).
REPORTS_LOOK_S = 60.0
# A simulated agent reads a preview record this long before it accepts it.
SIMULATED_PREVIEW_S = 5.0
ABANDON_MESSAGE = "This is a call from {caller}. We are sorry we could not connect you; we will call again."


@dataclass(slots=True)
class StepClaim:
    """What one step claimed of the account's budget (:mod:`processors.dialer.budget`): when
    (on the cap's timeline), how many attempts were granted, and how many it made."""

    at: float
    granted: int = 0
    spent: int = 0


class GroupRun:
    def __init__(
        self,
        ports: DialerPorts,
        account_id: UUID,
        group_id: UUID,
        *,
        owner: str,
        budget: AttemptBudget | None = None,
    ):
        self.ports = ports
        self.budget = budget  # the account's cap per channel, shared by its groups (None: no account cap)
        self.claim: StepClaim | None = None  # this step's claim on the account's budget
        self.account_id = account_id
        self.group_id = group_id
        self.owner = owner
        self.calls: dict[UUID, Call] = {}
        self.drawn: deque[Drawn] = deque()
        self.offers: dict[UUID, Drawn] = {}  # preview records offered, by agent
        self.offered_at: dict[UUID, float] = {}
        self.agents: dict[UUID, AgentView] = {}
        # Where the agents read stood (the newest change's log position; None: read them all
        # next), when all were read last, and for which agent group (see _refresh_agents).
        self.agents_seen: int | None = None
        self.agents_read_in = ""
        self.agents_full_at = -1e18
        # Counted again only when they change (most steps change nothing): see _agents_now.
        self.agent_tally: KeptTally[UUID, AgentView, AgentTally] = KeptTally(AgentView, tally_agents)
        self.call_tally: KeptTally[UUID, Call, CallTally] = KeptTally(Call, tally_calls)
        self.free_kept: FreeAgents | None = None  # while no record is offered: see _free
        self.wrap_ups: dict[UUID, tuple[float, float]] = {}  # simulated agents: (began, ends)
        self.placed: deque[float] = deque()  # telephony times of attempts in the last minute
        self.observed = Observations()
        self.group_version = -1
        self.status = "loaded"
        self.dialing = DialingSettings()
        self.session = SessionSettings()
        self.pacing_settings = PacingSettings()
        self.rule = selection.parse("")
        self.list_ids: tuple[UUID, ...] = ()
        self.settings_read_at = -1e18
        self.windows: AbandonWindows | None = None
        self.windows_read_at = -1e18
        self.paced: tuple[str, float, float] | None = None  # (mode, ratio, at) last recorded
        self.decision: pacing.Decision | None = None
        self.started_at: float | None = None  # when this owner first found the group running
        self.seed = pacing.History()
        self.gate_retry_at = -1e18
        self.effects: list[Callable[[], object]] = []  # telephony commands, after the step is stored
        self.unhandled: list[Progress] = []  # progress of a step that was decided again
        self.group_read_at = -1e18
        self.agents_read_at = -1e18
        self.personal_due_at: int | None = None  # epoch seconds: see _personal
        self.personal_read_at = -1e18
        self.outbox = Outbox(ports.channels, ports.links)  # message campaigns (sms, email)
        self.reports_read_at = -1e18

    # -- ownership -----------------------------------------------------------------------

    def take_over(self, now: float) -> None:
        """Settle what a previous owner left: its drawn records (placed: stale; not placed:
        back to the queue), its calls (finished as stale: this process cannot reach them) and the
        agents on them (their calls ended: they wrap up; simulated ones finish it by themselves)."""
        handlers = self.ports.handlers
        self._refresh(now)  # the group's agent group, before its agents are looked up
        for call in self.ports.activity.calls_in_flight(self.group_id):
            handlers.attempts.finished(
                self.account_id,
                call.record_id,
                call.attempt_id,
                call_result=int(CallResult.STALE),
                ring_ms=0,
                talk_ms=0,
            )
        for retrieved in self.ports.records.retrieved(self.group_id):
            handlers.queue.settle_stale(self.account_id, retrieved.record_id, retrieved.attempt_id)
        for row in self.ports.agents.by_group(self.account_id, self._agent_group()):
            if row.campaign_group_id != self.group_id:
                continue
            try:
                if row.state == "on_call" and row.attempt_id is not None:
                    handlers.agents.end_call(self.account_id, row.agent_id, row.attempt_id)
                elif row.state == "reserved":
                    handlers.agents.release(self.account_id, row.agent_id, reason="dialer taken over")
            except DomainError as error:  # changed meanwhile: nothing to settle
                log.info("group %s: agent %s not settled: %s", self.group_id, row.login, error)
        since = self._at(now - 60)
        self.placed.extend(now for _ in range(self.ports.activity.attempts_since(self.group_id, since)))
        self.seed = seed_history(self.ports.activity.counts(self.group_id, self._at(now - HISTORY_WINDOW_S)))

    def idle(self) -> bool:
        """Nothing in flight or held: a stopped group's owner may let it go (once its simulated
        agents have finished their wrap-ups)."""
        return not self.calls and not self.drawn and not self.offers and not self.wrap_ups and not self.outbox.answered

    # -- one step ------------------------------------------------------------------------

    def run_step(self, now: float, progress: list[Progress]) -> bool:
        """One step, its events stored in one transaction (:meth:`EventStore.batch`), then its
        telephony commands. A step that meets a concurrent change (an agent's own "not ready",
        an import rewriting a chain) stores nothing and does nothing: this group's state is put
        back as it was, and the next step decides again with the same progress events."""
        progress = self.unhandled + progress
        self.unhandled = []
        saved = self._snapshot()
        self.effects = []
        self.claim = None
        journal: dict[int, tuple[object, dict[str, object] | None]] = {}
        token = JOURNAL.set(journal)
        try:
            with self.ports.handlers.store.batch():
                self.step(now, progress)
        except BaseException as error:
            if isinstance(error, ConcurrencyConflict):
                log.info("group %s: step met a concurrent change, deciding again: %s", self.group_id, error)
            put_back(journal)
            self._restore(saved)
            self._settle_claim(stored=False)
            self.unhandled = progress
            if isinstance(error, ConcurrencyConflict):
                return False
            raise
        finally:
            JOURNAL.reset(token)
        self._settle_claim(stored=True)
        self.observed.commit()
        effects, self.effects = self.effects, []
        for effect in effects:
            effect()
        return True

    def _snapshot(self) -> tuple[object, ...]:
        return (
            dict(self.calls),
            deque(self.drawn),
            dict(self.offers),
            dict(self.offered_at),
            dict(self.agents),
            dict(self.wrap_ups),
            deque(self.placed),
            self.paced,
            self.started_at,
            self.gate_retry_at,
            list(self.outbox.answered),
        )

    def _restore(self, saved: tuple[object, ...]) -> None:
        (
            self.calls,
            self.drawn,
            self.offers,
            self.offered_at,
            self.agents,
            self.wrap_ups,
            self.placed,
            self.paced,
            self.started_at,
            self.gate_retry_at,
            self.outbox.answered,
        ) = saved  # type: ignore[assignment]
        self.outbox.pending = []  # never sent: the step that made them was not stored
        self.observed.discard()
        self.group_version = -1  # read the settings again: the change may be the group's
        self.agents_seen = None  # and every agent: the views the step refreshed went back

    def step(self, now: float, progress: list[Progress]) -> None:
        self._refresh(now)
        self._refresh_agents(now)
        if self.outbox.answered:
            self.outbox.store_answers(self.ports.handlers, reports=self._delivery_reports())
        if self._delivery_reports() and now - self.reports_read_at >= REPORTS_LOOK_S:
            self._overdue_reports(now)
        for event in progress:
            call = self.calls.get(event.call_id)
            if call is not None:
                self._on_progress(call, event, now)
        self._abandon_overdue(now)
        self._finish_wrap_ups(now)
        self._connect_waiting(now)
        if self.status == "running":
            if self.started_at is None:
                self.started_at = now
            self._dial(now)
        else:
            self._give_back("paused" if self.status == "paused" else "stopped")
        send = self.outbox.send_later(self.session.channel)
        if send is not None:
            self.effects.append(send)

    def next_due(self) -> float | None:
        """The earliest timer of this group (virtual time jumps to it)."""
        # Only a waiting call has a deadline. After a step that changed the calls, they are
        # looked at here rather than counted: the next step's progress would count them again.
        tally = self.call_tally.kept(self.calls)
        calls: Iterable[Call] = self.calls.values() if tally is None else tally.waiting
        times = [c.deadline for c in calls if c.deadline is not None]
        times += [due for _, due in self.wrap_ups.values()]
        times += [at + SIMULATED_PREVIEW_S for at in self.offered_at.values()]
        if self.unhandled or self.outbox.answered:  # a step to decide again, answers to store
            times.append(self.ports.telephony.now())
        return min(times, default=None)

    # -- reading ---------------------------------------------------------------------------

    def _at(self, seconds: float) -> datetime:
        """A telephony time as the store's clock reads it."""
        return self.ports.clock() + timedelta(seconds=seconds - self.ports.telephony.now())

    def _agent_group(self) -> str:
        return self.session.agent_group

    def _refresh(self, now: float) -> None:
        handlers = self.ports.handlers
        if now - self.group_read_at < LOOK_AGAIN_S:
            return
        self.group_read_at = now
        # Loaded, not asked for its version: in the step's batch an unchanged group is the
        # store's kept state (dialstream.store.synced), no query.
        group = handlers.campaigns.group(self.account_id, self.group_id)
        if group.version != self.group_version:
            self.dialing, self.session = handlers.campaigns.group_settings(self.account_id, group)
            self.rule = selection.parse(self.dialing.filtering.selection_rule)
            self.status = "stopped" if group.deleted else group.status
            self.list_ids = group.contact_list_ids
            self.group_version = group.version
        if now - self.settings_read_at >= SETTINGS_REFRESH_S:
            self.pacing_settings = handlers.context.account(self.account_id).settings.pacing
            self.settings_read_at = now
        if now - self.windows_read_at >= WINDOWS_REFRESH_S:
            self.windows = self.ports.activity.abandon_windows(self.group_id, self._at(now))
            self.windows_read_at = now

    def _refresh_agents(self, now: float) -> None:
        if now - self.agents_read_at < LOOK_AGAIN_S:
            return  # what this dialer changed it knows; the agents' own changes can wait that long
        self.agents_read_at = now
        group = self._agent_group()
        full = self.agents_seen is None or group != self.agents_read_in or now - self.agents_full_at >= AGENTS_FULL_READ_S
        rows, seen = self.ports.agents.changes(self.account_id, group, None if full else self.agents_seen)
        self.agents_seen, self.agents_read_in = seen, group
        if full:
            self.agents_full_at = now
            for gone in set(self.agents) - {row.agent_id for row in rows}:
                del self.agents[gone]
        simulator = self.ports.simulated_agents
        for row in rows:
            agent_id = row.agent_id
            view = self.agents.get(agent_id)
            if row.agent_group != group or row.state == "logged_out":  # a change: it left the group
                self.agents.pop(agent_id, None)
                continue
            if view is None:
                view = self.agents[agent_id] = AgentView(row, ready_since=now)
            elif view.local_state is not None and row.version < view.local_version:
                continue  # the read model has not caught up with what this dialer did
            elif view.row is not row or view.local_state is not None:  # else unchanged: one object per stored row
                if row.state == "ready" and view.state != "ready":
                    view.ready_since = now
                view.row, view.local_state = row, None
            # A simulated agent in a wrap-up no one times (its call was another owner's, one
            # that died) finishes it after a wrap-up time from now.
            if simulator is not None and row.simulated and row.state == "wrap_up" and agent_id not in self.wrap_ups:
                self.wrap_ups[agent_id] = (now, now + simulator.wrap_up_s())

    def _set_agent(self, agent_id: UUID, state: str, now: float) -> None:
        view = self.agents.get(agent_id)
        if view is None:
            return
        view.local_state = state
        # Each command stores at least one event: the read model shows it from that version on.
        view.local_version = max(view.local_version, view.row.version) + 1
        if state == "ready":
            view.ready_since = now

    def _ready_agents(self) -> list[dialing.ReadyAgent]:
        free = self._ready()
        kept = self.free_kept
        if kept is not None and kept.free is free and kept.as_ready is not None:
            return kept.as_ready
        agents = [dialing.ReadyAgent(agent_id, view.ready_since) for agent_id, view in free]
        if kept is not None and kept.free is free:
            kept.as_ready = agents
        return agents

    def _ready(self) -> list[tuple[UUID, AgentView]]:
        """The agents ready and free: neither on one of this group's calls nor offered a record."""
        return self._free(self._agents_now().ready)

    def _agents_now(self) -> AgentTally:
        return self.agent_tally.of(self.agents)

    def _calls_now(self) -> CallTally:
        return self.call_tally.of(self.calls)

    def _free(self, ready: list[tuple[UUID, AgentView]]) -> list[tuple[UUID, AgentView]]:
        """Of agents in the ready state, those neither on one of this group's calls nor offered
        a record."""
        if not ready:
            return []
        calls = self._calls_now()
        kept = self.free_kept
        if not self.offers and kept is not None and kept.ready is ready and kept.calls is calls:
            return kept.free
        # Looked up by the ids' integers: a UUID's own hash is a Python call, and a step asks
        # this for every agent, several times.
        busy = calls.agents
        offers = {agent_id.int for agent_id in self.offers}
        free = [(agent_id, view) for agent_id, view in ready if agent_id.int not in busy and agent_id.int not in offers]
        self.free_kept = None if self.offers else FreeAgents(ready, calls, free)
        return free

    # -- telephony progress ------------------------------------------------------------------

    def _on_progress(self, call: Call, event: Progress, now: float) -> None:
        kind = event.kind
        attempts = self.ports.handlers.attempts
        record_id = call.drawn.record.record_id
        if kind in dialing.ANSWERED_BY and call.answered_at is None:
            call.answered_at, call.answered_by = now, dialing.ANSWERED_BY[kind]
            attempts.answered(
                self.account_id,
                record_id,
                call.attempt_id,
                answered_by=call.answered_by,
                ring_ms=_ms(now - call.placed_at),
            )
        if kind == "answered_person":
            if self.dialing.dialing_mode in dialing.AGENTLESS_MODES:
                call.stage = "message"
                self._drop(call)
            elif call.agent_id is not None:
                self._connect(call, call.agent_id, now, reserved=True)
            else:
                call.stage = "waiting"
                call.deadline = dialing.abandon_deadline(now, self.pacing_settings.abandon_call_definition_seconds)
        elif kind in ("answering_machine", "fax"):
            if kind == "answering_machine" and self.dialing.dialing_mode in dialing.AGENTLESS_MODES:
                call.stage = "message"  # a voice-message campaign leaves it on the machine
                self._drop(call)
            else:
                attempt = call.attempt_id
                self.effects.append(lambda: self.ports.telephony.hang_up(attempt))
                self._finish(call, dialing.UNANSWERED_RESULTS[kind], now)
        elif kind in dialing.UNANSWERED_RESULTS:
            self._finish(call, dialing.UNANSWERED_RESULTS[kind], now)
        elif kind in ("remote_hangup", "hung_up"):
            self._ended(call, kind, now)

    def _ended(self, call: Call, kind: str, now: float) -> None:
        """The far end or the dialer ended the call: its result follows from how far it got."""
        if call.stage == "waiting":  # the customer gave up before an agent came
            self._abandon(call, now, message=False)
            self._finish(call, dialing.abandoned_result(False), now)
        elif call.stage == "connected":
            self._finish(call, dialing.connected_result(), now)
        elif call.stage == "dropping":  # the abandon message was played (or cut short)
            self._finish(call, dialing.abandoned_result(True), now)
        elif call.stage == "message":
            by_machine = call.answered_by == "machine"
            self._finish(call, CallResult.ANSWERING_MACHINE if by_machine else CallResult.ANSWER, now)
        elif kind == "remote_hangup":  # cannot happen before an answer; recorded, not lost
            self._finish(call, CallResult.REMOTE_RELEASE, now)

    def _drop(self, call: Call) -> None:
        attempt, message = call.attempt_id, self._message()
        self.effects.append(lambda: self.ports.telephony.drop_with_message(attempt, message))

    def _bridge(self, attempt_id: UUID, agent_id: UUID) -> None:
        if not self.ports.telephony.connect(attempt_id, agent_id):
            # The customer is gone already: the call's end is in the next poll, and finishes it.
            log.info("group %s: attempt %s ended before its connection", self.group_id, attempt_id)

    def _message(self) -> str:
        return ABANDON_MESSAGE.format(caller=self.dialing.caller_id or "us")

    def _abandon(self, call: Call, now: float, *, message: bool) -> None:
        self.ports.handlers.attempts.abandoned(
            self.account_id,
            call.drawn.record.record_id,
            call.attempt_id,
            wait_ms=_ms(now - (call.answered_at or now)),
            message_played=message,
        )

    def _abandon_overdue(self, now: float) -> None:
        for call in self._calls_now().waiting:
            if call.stage == "waiting" and call.deadline is not None and call.deadline <= now:
                self._abandon(call, now, message=True)
                call.stage, call.deadline = "dropping", None
                self._drop(call)

    def _finish(self, call: Call, result: CallResult, now: float) -> None:
        handlers = self.ports.handlers
        record = call.drawn.record
        talk = now - call.connected_at if call.connected_at is not None else 0.0
        ring = (call.answered_at or now) - call.placed_at
        handlers.attempts.finished(
            self.account_id,
            record.record_id,
            call.attempt_id,
            call_result=int(result),
            ring_ms=_ms(ring),
            talk_ms=_ms(talk),
            agent_id=call.agent_id,
        )
        live = call.answered_by == "person"
        self.observed.outcome(now, live, ring)
        if call.agent_id is not None:
            self._release_agent(call, now)
        del self.calls[call.attempt_id]

    def _release_agent(self, call: Call, now: float) -> None:
        agents = self.ports.handlers.agents
        agent_id = call.agent_id
        assert agent_id is not None
        try:
            if call.stage == "connected":
                agents.end_call(self.account_id, agent_id, call.attempt_id)
                self._set_agent(agent_id, "wrap_up", now)
                self.observed.talk(now, now - (call.connected_at or now))
                view = self.agents.get(agent_id)
                if view is not None and view.row.simulated and self.ports.simulated_agents is not None:
                    self.wrap_ups[agent_id] = (now, now + self.ports.simulated_agents.wrap_up_s())
            else:  # reserved for a call that did not reach it
                agents.release(self.account_id, agent_id, reason="call not answered by a person")
                self._set_agent(agent_id, "ready", now)
        except DomainError as error:
            log.info("group %s: agent %s: %s", self.group_id, agent_id, error)

    def _finish_wrap_ups(self, now: float) -> None:
        for agent_id, (began, due) in list(self.wrap_ups.items()):
            if due > now:
                continue
            del self.wrap_ups[agent_id]
            try:
                self.ports.handlers.agents.finish_wrap_up(self.account_id, agent_id)
            except DomainError as error:  # the agent ended it already, or logged out
                log.info("group %s: wrap-up of %s: %s", self.group_id, agent_id, error)
                continue
            self._set_agent(agent_id, "ready", now)
            self.observed.wrap(now, due - began)

    # -- connecting ------------------------------------------------------------------------

    def _connect_waiting(self, now: float) -> None:
        for call in self._calls_now().waiting:
            while (agent := dialing.pick_agent(self._ready_agents())) is not None:
                if self._connect(call, agent.agent_id, now, reserved=False):
                    break

    def _connect(self, call: Call, agent_id: UUID, now: float, *, reserved: bool) -> bool:
        agents = self.ports.handlers.agents
        drawn = call.drawn
        try:
            if not reserved and self.dialing.dialing_mode in dialing.ENGAGE_ON_ANSWER_MODES:
                agents.reserve(
                    self.account_id,
                    agent_id,
                    group_id=self.group_id,
                    record_id=drawn.record.record_id,
                    attempt_id=call.attempt_id,
                    purpose="engage",
                )
            agents.connect_call(
                self.account_id,
                agent_id,
                group_id=self.group_id,
                record_id=drawn.record.record_id,
                attempt_id=call.attempt_id,
            )
        except DomainError as error:  # not ready any more (an agent's own change won)
            log.info("group %s: agent %s not connected: %s", self.group_id, agent_id, error)
            view = self.agents.get(agent_id)
            if view is not None:
                view.local_state, view.local_version = "unavailable", view.row.version + 1
            if reserved:  # the reservation is gone: the call waits for any agent
                call.agent_id = None
                call.stage = "waiting"
                call.deadline = dialing.abandon_deadline(
                    call.answered_at or now, self.pacing_settings.abandon_call_definition_seconds
                )
            return False
        self.ports.handlers.attempts.connected(
            self.account_id,
            drawn.record.record_id,
            call.attempt_id,
            agent_id=agent_id,
            wait_ms=_ms(now - (call.answered_at or now)),
        )
        attempt = call.attempt_id
        self.effects.append(lambda: self._bridge(attempt, agent_id))
        call.agent_id, call.stage, call.deadline, call.connected_at = agent_id, "connected", None, now
        self._set_agent(agent_id, "on_call", now)
        return True

    # -- dialing ---------------------------------------------------------------------------

    def _situation(self, now: float) -> pacing.Situation:
        self.observed.trim(now)
        while self.placed and self.placed[0] <= now - 60:
            self.placed.popleft()
        agents, calls = self._agents_now(), self._calls_now()
        at = self._at(now).timestamp()
        windows = self.windows
        return pacing.Situation(
            ready=len(self._free(agents.ready)),
            on_call=Ages(agents.on_call, at),
            wrap_up=Ages(agents.wrap_up, at),
            reserved=agents.reserved,
            logged_in=agents.logged_in,
            dialing=[now - placed_at for placed_at in calls.dialing],
            waiting=len(calls.waiting),
            connected=calls.connected,
            attempts_last_minute=len(self.placed),
            running_s=now - (self.started_at if self.started_at is not None else now),
            history=self.observed.history(self.seed),
            abandon=windows if windows is not None else pacing.NO_ABANDON_HISTORY,
        )

    def _limits(self) -> pacing.Limits:
        return pacing.limits(self.pacing_settings, self.dialing.pacing, self.session.channel)

    def _dial(self, now: float) -> None:
        if now < self.gate_retry_at:
            return
        if self.session.channel in MESSAGE_CHANNELS:
            self._send_messages(now)
            return
        mode = self.dialing.dialing_mode
        if mode not in dialing.AGENTLESS_MODES:
            self._personal(now)
            if now < self.gate_retry_at:
                return  # the gate cannot answer: nothing more this step
        if dialing.is_preview(mode):
            self._preview(now)
            return
        situation = self._situation(now)
        # Engage-agent-first reserves an agent per call before placing it: paced as progressive.
        paced_as = "progressive" if mode in dialing.ENGAGE_FIRST_MODES else mode
        decision = pacing.decide(paced_as, situation, self._limits())
        if mode in dialing.ENGAGE_FIRST_MODES:
            decision = replace(decision, calls=min(decision.calls, len(self._ready())))
        decision = self._claimed(decision)
        self.decision = decision
        if situation.logged_in or mode in dialing.AGENTLESS_MODES:  # nothing is paced without agents
            self._record_pacing(decision, now)
        if decision.calls > 0:
            self._place(decision.calls, now, engage=mode in dialing.ENGAGE_FIRST_MODES)

    def _send_messages(self, now: float) -> None:
        """An SMS or e-mail campaign: paced as power mode (the profile's calls per minute, under
        the account's attempts-per-minute cap of the channel), whatever its dialing mode says:
        a message needs no agent. One that cannot send says why in its pacing."""
        unusable = self.outbox.unusable(self.session)
        if unusable is not None:
            self._record_pacing(pacing.Decision(0, 0.0, "power", unusable), now)
            return
        decision = self._claimed(pacing.decide("power", self._situation(now), self._limits()))
        self.decision = decision
        self._record_pacing(decision, now)
        if decision.calls > 0:
            self._place(decision.calls, now, engage=False)

    # -- the account's cap ------------------------------------------------------------------

    def _claimed(self, decision: pacing.Decision) -> pacing.Decision:
        """The decision as far as the account's attempts-per-minute cap of the channel allows,
        shared with the account's other groups (:mod:`processors.dialer.budget`)."""
        granted = self._claim(decision.calls)
        if granted < decision.calls:
            return replace(decision, calls=granted, reason="cap_account_attempts_per_minute")
        return decision

    def _claim(self, wanted: int) -> int:
        """Claim up to ``wanted`` attempts from the account's budget for this step."""
        if self.budget is None or wanted <= 0:
            return wanted
        if self.claim is None:
            self.claim = StepClaim(at=self.ports.cap_now())
        channel = self.session.channel
        cap = getattr(self.pacing_settings.max_attempts_per_minute, channel)
        more = self.budget.claim(self.account_id, channel, wanted, cap=cap, at=self.claim.at)
        self.claim.granted += more
        return more

    def _spend(self) -> None:
        """An attempt made: one of this step's claim used."""
        if self.claim is not None:
            self.claim.spent += 1

    def _settle_claim(self, *, stored: bool) -> None:
        """Give back what this step claimed and did not place (all of it if nothing was stored)."""
        claim, self.claim = self.claim, None
        if claim is None or self.budget is None:
            return
        unused = claim.granted - claim.spent if stored else claim.granted
        self.budget.give_back(self.account_id, self.session.channel, unused, at=claim.at)

    def _overdue_reports(self, now: float) -> None:
        """End the SMS whose delivery report has not come in ``report_wait_s``: long after the
        provider stopped trying, it will not come, and the record must not stay drawn."""
        self.reports_read_at = now
        wait = self.ports.report_wait_s
        for message in self.ports.activity.unreported(self.group_id, self._at(now - wait)):
            self.ports.handlers.attempts.finished(
                self.account_id,
                message.record_id,
                message.attempt_id,
                call_result=int(UNREPORTED_RESULT),
                ring_ms=0,
                talk_ms=0,
                detail=f"no delivery report {_duration(wait)} after the provider took the message",
            )

    def _delivery_reports(self) -> bool:
        """Whether the provider reports delivery (SMS with a public URL for its callbacks)."""
        return self.session.channel == "sms" and self.ports.links is not None

    def _place(self, wanted: int, now: float, *, engage: bool) -> None:
        for _ in range(GATE_ROUNDS):
            if wanted <= 0:
                return
            batch = self._take(wanted)
            if not batch:
                return
            verdicts = self._gate(batch, now)
            if now < self.gate_retry_at:
                wanted = 0  # the gate cannot answer: nothing more this step
            for drawn, allowed in zip(batch, verdicts, strict=True):
                if not allowed:
                    continue
                agent_id = None
                if engage:
                    agent_id = self._reserve(drawn, now)
                    if agent_id is None:
                        self.drawn.appendleft(drawn)  # no agent after all: dial it later
                        continue
                self._call(drawn, now, agent_id)
                wanted -= 1

    def _take(self, wanted: int) -> list[Drawn]:
        if len(self.drawn) < wanted:
            self._draw(max(wanted, self._ahead()) - len(self.drawn))
        return [self.drawn.popleft() for _ in range(min(wanted, len(self.drawn)))]

    def _ahead(self) -> int:
        """How many records a draw takes at least: what the group placed in the last
        ``DRAW_AHEAD_S`` at its last minute's rate (the rest wait, drawn, for the next steps)."""
        return min(DRAW_AHEAD_MAX, len(self.placed) * DRAW_AHEAD_S // 60)

    def _held(self) -> set[UUID]:
        held = {d.chain.id for d in self.drawn} | {c.drawn.chain.id for c in self.calls.values()}
        held |= {d.chain.id for d in self.offers.values()}
        return held

    def _grace_s(self) -> int:
        return self.dialing.personal_callback_grace_minutes * 60

    def _draw(self, count: int) -> None:
        candidates = self.ports.records.dialable(
            list(self.list_ids),
            now=self.ports.clock(),
            max_attempts=self.dialing.filtering.max_attempts,
            rule=self.rule,
            sort=self.dialing.filtering.sort,
            limit=count,
            exclude_chains=self._held(),
            callback_grace_s=self._grace_s(),
            agent_group=self._agent_group(),
        )
        if not candidates:
            return
        self.drawn.extend(
            self.ports.handlers.queue.draw(
                self.account_id,
                self.group_id,
                candidates,
                max_attempts=self.dialing.filtering.max_attempts,
                retrieved_by=self.owner,
                callback_grace_s=self._grace_s(),
            )
        )

    def _personal(self, now: float) -> None:
        """Personal callbacks due for agents of the group who are ready and free: each drawn
        for its own agent and, after the gate, placed with that agent reserved (engage first:
        the call has its agent); in preview modes offered to that agent (gated once accepted).
        A callback the gate denies goes back with the gate's next time and reasons, still its
        agent's; one whose agent cannot be reserved after all goes back unused."""
        if now - self.personal_read_at >= PERSONAL_LOOK_S:
            self.personal_due_at = self.ports.records.personal_callbacks_due_at(
                list(self.list_ids), max_attempts=self.dialing.filtering.max_attempts
            )
            self.personal_read_at = now
        clock = self.ports.clock()
        if self.personal_due_at is None or self.personal_due_at > clock.timestamp():
            return
        preview = dialing.is_preview(self.dialing.dialing_mode)
        pull = self.dialing.dialing_mode == "preview"
        ready = [agent_id for agent_id, view in self._ready() if not pull or view.row.preview == "requested"]
        if not ready:
            return
        candidates = self.ports.records.dialable(
            list(self.list_ids),
            now=clock,
            max_attempts=self.dialing.filtering.max_attempts,
            rule=self.rule,
            limit=len(ready),
            exclude_chains=self._held(),
            for_agents=ready,
            agent_group=self._agent_group(),
        )
        if not preview:  # a preview claims its attempt once its agent accepts it
            candidates = candidates[: self._claim(len(candidates))]
        if not candidates:
            return
        drawn = self.ports.handlers.queue.draw(
            self.account_id,
            self.group_id,
            candidates,
            max_attempts=self.dialing.filtering.max_attempts,
            retrieved_by=self.owner,
            callback_grace_s=self._grace_s(),
            for_own_agents=True,
        )
        if preview:
            unused = [d for d in drawn if not self._offer(_own_agent(d), d, now)]
        else:
            unused = []
            verdicts = self._gate(drawn, now, agent_reserved=True) if drawn else []
            for each, allowed in zip(drawn, verdicts, strict=True):
                if not allowed:
                    continue
                agent_id = _own_agent(each)
                if self._reserve_agent(agent_id, each, now):
                    self._call(each, now, agent_id)
                else:
                    unused.append(each)
        if unused:
            self._return(unused, "unused")

    def _gate(self, batch: list[Drawn], now: float, *, agent_reserved: bool | None = None) -> list[bool]:
        """The pre-dial gate, for every record at the moment it is dialled; a denied record goes
        back to the queue with its next allowed time and the reasons. ``agent_reserved``: an
        agent is reserved before the call is placed (None: as the dialing mode does)."""
        verdicts = self.ports.predial.validate_many([self._request(d, agent_reserved) for d in batch])
        allowed = []
        denied: list[Return] = []
        for drawn, verdict in zip(batch, verdicts, strict=True):
            allowed.append(verdict.allowed)
            if verdict.allowed:
                continue
            if any(reason.code in UNANSWERED_CODES for reason in verdict.reasons):
                self.gate_retry_at = now + GATE_RETRY_S
            denied.append(
                Return(
                    drawn.chain.id,
                    drawn.record.chain_n,
                    drawn.attempt_id,
                    dial_sched_time=_epoch(verdict.next_allowed or self.ports.clock() + DENIED_AGAIN_AFTER),
                    detail=denial_detail(verdict.reasons),
                )
            )
        if denied:
            self.ports.handlers.queue.return_drawn(self.account_id, self.group_id, denied, reason="denied")
        return allowed

    def _request(self, drawn: Drawn, agent_reserved: bool | None = None) -> PreDialRequest:
        record, chain = drawn.record, drawn.chain
        return PreDialRequest(
            account_id=self.account_id,
            campaign_group_id=self.group_id,
            channel=self.session.channel,
            client_id=chain.client_id,
            contact_info=record.contact_info,
            contact_info_type=record.contact_info_type,
            record_type=record.record_type,
            # The status it had when this attempt drew it: the retrieval is this attempt's own.
            record_status=int(RecordStatus.READY),
            dial_sched_time=record.dial_sched_time,
            daily_from=record.daily_from,
            daily_till=record.daily_till,
            time_zone=record.time_zone,
            second_time_zone=record.second_time_zone,
            country=chain.contact.country,
            state=chain.contact.state,
            # Engage-agent-first reserves an agent before it places the call; a preview record is
            # gated once its agent accepted it, the agent held for it.
            agent_reserved=self._agent_first() if agent_reserved is None else agent_reserved,
        )

    def _agent_first(self) -> bool:
        return dialing.reserves_agent_first(self.dialing.dialing_mode)

    def _reserve(self, drawn: Drawn, now: float) -> UUID | None:
        for agent in sorted(self._ready_agents(), key=lambda a: a.ready_since):
            if self._reserve_agent(agent.agent_id, drawn, now):
                return agent.agent_id
        return None

    def _reserve_agent(self, agent_id: UUID, drawn: Drawn, now: float) -> bool:
        try:
            self.ports.handlers.agents.reserve(
                self.account_id,
                agent_id,
                group_id=self.group_id,
                record_id=drawn.record.record_id,
                attempt_id=drawn.attempt_id,
                purpose="engage",
            )
        except DomainError:
            self._set_agent(agent_id, "unavailable", now)
            return False
        self._set_agent(agent_id, "reserved", now)
        return True

    def _call(self, drawn: Drawn, now: float, agent_id: UUID | None) -> None:
        record, chain = drawn.record, drawn.chain
        message = self.session.channel in MESSAGE_CHANNELS
        self._spend()
        self.ports.handlers.attempts.make_attempt(
            chain,
            record.chain_n,
            attempt_id=drawn.attempt_id,
            channel=self.session.channel,
            campaign_group_id=self.group_id,
            caller_id="" if message else self.dialing.caller_id,
            mode="power" if message else self.dialing.dialing_mode,
        )
        if message:
            self._compose(drawn, now)
            return
        call = PlaceCall(
            call_id=drawn.attempt_id,
            number=record.contact_info,
            caller_id=self.dialing.caller_id,
            ring_timeout_s=self.dialing.pacing.ring_timeout_seconds,
            amd=self.dialing.pacing.answering_machine_detection,
            list_id=chain.list_id,
        )
        self.effects.append(lambda: self.ports.telephony.place(call))
        self.calls[drawn.attempt_id] = Call(drawn.attempt_id, drawn, placed_at=now, agent_id=agent_id)
        self.placed.append(now)

    # -- preview -----------------------------------------------------------------------------

    def _compose(self, drawn: Drawn, now: float) -> None:
        """The attempt's message, sent once the step is stored; a record its template cannot
        be filled for ends here, as a general error naming the field."""
        self.placed.append(now)
        try:
            self.outbox.pending.append((drawn, self.outbox.compose(drawn, self.session)))
        except TemplateFieldMissing as error:
            self.ports.handlers.attempts.finished(
                self.account_id,
                drawn.record.record_id,
                drawn.attempt_id,
                call_result=int(CallResult.GENERAL_ERROR),
                ring_ms=0,
                talk_ms=0,
                detail=str(error),
            )

    def _preview(self, now: float) -> None:
        """Push preview offers a record to every ready agent; pull preview to the agents that
        asked. An accepted record is gated and dialled with its agent reserved; a skipped one
        goes back to the queue."""
        agents = self.ports.handlers.agents
        for agent_id, drawn in list(self.offers.items()):
            view = self.agents.get(agent_id)
            if view is not None and view.local_state is not None:
                continue  # the read model has not shown the offer yet
            row = view.row if view is not None else None
            if row is None or row.record_id != drawn.record.record_id:  # skipped, or logged out
                del self.offers[agent_id]
                self.offered_at.pop(agent_id, None)
                self._return([drawn], "skipped")
            elif row.state == "reserved" and row.preview == "accepted":
                if not self._claim(1):
                    continue  # the account's cap for this minute is reached: the next step
                del self.offers[agent_id]
                self.offered_at.pop(agent_id, None)
                if self._gate([drawn], now)[0]:
                    self._call(drawn, now, agent_id)
                else:
                    agents.release(self.account_id, agent_id, reason="the record may not be called now")
                    self._set_agent(agent_id, "ready", now)
            elif row.simulated and now - self.offered_at.get(agent_id, now) >= SIMULATED_PREVIEW_S:
                self.offered_at.pop(agent_id, None)
                try:
                    agents.accept_preview(self.account_id, agent_id)
                except DomainError as error:
                    log.info("group %s: simulated agent %s: %s", self.group_id, row.login, error)
        push = self.dialing.dialing_mode == "push_preview"
        for agent in self._ready_agents():
            view = self.agents[agent.agent_id]
            if not push and view.row.preview != "requested":
                continue
            batch = self._take(1)
            if not batch:
                return
            if not self._offer(agent.agent_id, batch[0], now):
                self.drawn.appendleft(batch[0])

    def _offer(self, agent_id: UUID, drawn: Drawn, now: float) -> bool:
        """Offer a drawn record to an agent for preview; whether it was offered."""
        try:
            self.ports.handlers.agents.offer_preview(
                self.account_id,
                agent_id,
                group_id=self.group_id,
                record_id=drawn.record.record_id,
                attempt_id=drawn.attempt_id,
            )
        except DomainError:
            return False
        self.offers[agent_id] = drawn
        self.offered_at[agent_id] = now
        self._set_agent(agent_id, "reserved", now)
        return True

    # -- giving back ---------------------------------------------------------------------------

    def _give_back(self, reason: Returned) -> None:
        if self.drawn:
            self._return(list(self.drawn), reason)
            self.drawn.clear()
        for agent_id, drawn in list(self.offers.items()):
            del self.offers[agent_id]
            try:
                self.ports.handlers.agents.release(self.account_id, agent_id, reason=f"campaign group {reason}")
            except DomainError as error:
                log.info("group %s: offer to %s: %s", self.group_id, agent_id, error)
            self._return([drawn], reason)

    def _return(self, drawn: list[Drawn], reason: Returned) -> None:
        returns = [Return(d.chain.id, d.record.chain_n, d.attempt_id) for d in drawn]
        self.ports.handlers.queue.return_drawn(self.account_id, self.group_id, returns, reason=reason)

    # -- pacing record -----------------------------------------------------------------------------

    def _record_pacing(self, decision: pacing.Decision, now: float) -> None:
        last = self.paced
        if last is not None:
            mode, ratio, at = last
            moved = abs(decision.ratio - ratio) >= 0.1 * max(ratio, 0.1)
            if (mode == decision.mode and not moved) or now - at < PACING_RECORD_EVERY_S:
                return
        self.ports.handlers.campaigns.record_pacing(
            self.account_id, self.group_id, mode=decision.mode, ratio=decision.ratio, reason=decision.reason
        )
        self.paced = (decision.mode, decision.ratio, now)
        self.group_version += 1  # our own event: no need to read the settings again


def _own_agent(drawn: Drawn) -> UUID:
    """The agent of a personal callback drawn for its own agent."""
    agent_id = drawn.record.callback_agent_id
    assert agent_id is not None  # the draw for own agents takes nothing else
    return agent_id


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds:g} s"


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())

