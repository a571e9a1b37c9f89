"""Handlers of agents: the agent desktop (through the API, by login) and the dialer (by agent id).

Every command names the agent by its id (a ``UUID``) or by its login (a ``str``, as the API
does); both mean the stream ``domain.agent.agent_id(account_id, login)``. Each loads the agent,
decides with the pure rules of :mod:`domain.agent` and stores the events; two commands on one
agent at once (the desktop going not ready while the dialer reserves it) race for its next
version, and the loser is decided again on the agent as the winner left it. A command the
agent's state does not allow raises :class:`~domain.errors.InvalidTransition` naming the state;
one that changes nothing stores nothing and answers the log's head position.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from dialstream.handlers.context import Context, owned
from dialstream.results import Done
from dialstream.store import retry_on_conflict
from domain import agent, call_attempts, campaign_group
from domain.agent import Agent
from domain.aggregate import existing
from domain.errors import DomainError, RuleViolation
from schemas.agents import AgentWrapUpFinished, CallbackRequest, ReservationPurpose
from schemas.base import Event

log = logging.getLogger(__name__)

# An agent's id, or its login within the account.
AgentRef = UUID | str
# Commands on one agent at once race for its next version; the loser is decided again.
ATTEMPTS = 5


class AgentHandlers:
    def __init__(self, context: Context):
        self.context = context

    # Loader ------------------------------------------------------------------------------

    def agent(self, account_id: UUID, agent_id: AgentRef) -> Agent:
        """The agent as stored; NotFound when it never logged in (or is another account's)."""
        state = self.context.store.load(self._id(account_id, agent_id), agent.project)
        return owned(state, account_id, agent.LABEL, "login")

    @staticmethod
    def _id(account_id: UUID, ref: AgentRef) -> UUID:
        return ref if isinstance(ref, UUID) else agent.agent_id(account_id, ref)

    def _decide(
        self,
        account_id: UUID,
        ref: AgentRef,
        decide: Callable[[Agent], list[Event]],
        what: str,
        callback: CallbackRequest | None = None,
    ) -> Done:
        """Load the agent, decide on it and store, deciding again after a lost race."""

        def attempt() -> Done:
            state = self.agent(account_id, ref)
            events = decide(state)
            return self.context.commit(state.id, [*events, *self._wrapped_up(state, events, callback)])

        stored = retry_on_conflict(attempt, attempts=ATTEMPTS, what=f"{what} agent {ref}")
        assert stored is not None  # attempts >= 1 and no `settled`: a result or the last conflict
        return stored

    def _wrapped_up(self, before: Agent, events: list[Event], callback: CallbackRequest | None) -> list[Event]:
        """When ``events`` end the agent's wrap-up of an attempt (finished, logged out,
        released), the attempt's ``call_attempt.wrapped_up`` with the disposition and callback
        given, stored with them: the call results processor treats a connected call's result
        from it. When the attempt cannot take it (its end not stored yet, a callback time with
        an offset), a disposition or callback would be lost: the command fails and stores
        nothing, so the desktop can say so and send it again. Without either (a log-out, a
        release) there is nothing to lose, and the agent is not held in wrap-up for it."""
        if before.state != "wrap_up" or before.attempt_id is None or before.record_id is None or not events:
            return []
        after = agent.project(before, events)
        if after is not None and after.state == "wrap_up" and after.attempt_id == before.attempt_id:
            return []
        disposition = next((e.disposition_code for e in events if isinstance(e, AgentWrapUpFinished)), None)
        attempts = self.context.store.load(before.record_id, call_attempts.project)
        try:
            return call_attempts.wrapped_up(
                attempts,
                attempt_id=before.attempt_id,
                agent_id=before.id,
                disposition_code=disposition,
                callback_at=None if callback is None else callback.at,
                callback_personal=callback is not None and callback.personal,
                now=self.context.now(),
            )
        except DomainError as error:
            if disposition is not None or callback is not None:
                raise
            log.warning("agent %s: wrap-up of attempt %s not recorded on it: %s", before.login, before.attempt_id, error)
            return []

    # The agent desktop ---------------------------------------------------------------------

    def log_in(
        self, account_id: UUID, login: str, *, agent_group: str, name: str = "", simulated: bool = False
    ) -> Done:
        """Log in to an agent group (the first login makes the agent)."""
        agent.check_login(login)
        agent_id = agent.agent_id(account_id, login)
        self.context.account(account_id)  # the account exists: an agent stream is not made for nothing

        def attempt() -> Done:
            state = self.context.store.load(agent_id, agent.project)
            events = agent.log_in(
                state,
                account_id=account_id,
                login=login,
                agent_group=agent_group,
                name=name,
                simulated=simulated,
                now=self.context.now(),
            )
            return self.context.commit(agent_id, events)

        stored = retry_on_conflict(attempt, attempts=ATTEMPTS, what=f"log in agent {login}")
        assert stored is not None
        return stored

    def log_out(self, account_id: UUID, agent_id: AgentRef) -> Done:
        return self._decide(
            account_id, agent_id, lambda a: agent.log_out(a, now=self.context.now()), "log out"
        )

    def ready(self, account_id: UUID, agent_id: AgentRef) -> Done:
        return self._decide(account_id, agent_id, lambda a: agent.ready(a, now=self.context.now()), "ready")

    def not_ready(self, account_id: UUID, agent_id: AgentRef, reason: str = "") -> Done:
        return self._decide(
            account_id, agent_id, lambda a: agent.not_ready(a, reason, now=self.context.now()), "not ready"
        )

    def request_preview(self, account_id: UUID, agent_id: AgentRef, group_id: UUID) -> Done:
        """Ask for the next record of a campaign group of the agent's agent group (pull preview)."""
        group = existing(
            owned(
                self.context.store.load(group_id, campaign_group.project),
                account_id,
                campaign_group.LABEL,
                "campaign_group_id",
            ),
            campaign_group.LABEL,
            "campaign_group_id",
        )
        return self._decide(
            account_id,
            agent_id,
            lambda a: agent.request_preview(
                a, group_id=group_id, group_agent_group=group.agent_group, now=self.context.now()
            ),
            "preview request of",
        )

    def accept_preview(self, account_id: UUID, agent_id: AgentRef) -> Done:
        return self._decide(
            account_id,
            agent_id,
            lambda a: agent.accept_preview(a, now=self.context.now()),
            "accept preview of",
        )

    def skip_preview(self, account_id: UUID, agent_id: AgentRef) -> Done:
        return self._decide(
            account_id, agent_id, lambda a: agent.skip_preview(a, now=self.context.now()), "skip preview of"
        )

    def finish_wrap_up(
        self,
        account_id: UUID,
        agent_id: AgentRef,
        then: str = "ready",
        reason: str = "",
        *,
        attempt_id: UUID | None = None,
        disposition_code: str | None = None,
        callback: CallbackRequest | None = None,
    ) -> Done:
        """End wrap-up, then ready or not ready, with the disposition the agent gave the call
        (one of the account's disposition codes: another is refused, naming them); the dialer
        names the attempt (for simulated agents) so that a repeat stores nothing. ``callback``:
        the callback agreed with the customer (see :class:`schemas.agents.CallbackRequest`)."""
        if disposition_code is not None:
            catalogue = self.context.account(account_id).settings.dispositions
            if catalogue.find(disposition_code) is None:
                known = ", ".join(c.code for c in catalogue.codes) or "none: see /api/v1/settings/dispositions"
                raise RuleViolation(
                    f"{disposition_code!r} is not one of the account's disposition codes ({known})",
                    field="disposition_code",
                )
        return self._decide(
            account_id,
            agent_id,
            lambda a: agent.finish_wrap_up(
                a, then, reason, attempt_id=attempt_id, disposition_code=disposition_code, now=self.context.now()
            ),
            "finish wrap-up of",
            callback,
        )

    # The dialer ------------------------------------------------------------------------------

    def offer_preview(
        self, account_id: UUID, agent_id: AgentRef, group_id: UUID, record_id: UUID, attempt_id: UUID
    ) -> Done:
        return self._decide(
            account_id,
            agent_id,
            lambda a: agent.offer_preview(
                a, group_id=group_id, record_id=record_id, attempt_id=attempt_id, now=self.context.now()
            ),
            "offer preview to",
        )

    def reserve(
        self,
        account_id: UUID,
        agent_id: AgentRef,
        *,
        group_id: UUID,
        record_id: UUID | None,
        attempt_id: UUID | None,
        purpose: ReservationPurpose,
    ) -> Done:
        return self._decide(
            account_id,
            agent_id,
            lambda a: agent.reserve(
                a,
                group_id=group_id,
                record_id=record_id,
                attempt_id=attempt_id,
                purpose=purpose,
                now=self.context.now(),
            ),
            "reserve",
        )

    def release(
        self, account_id: UUID, agent_id: AgentRef, reason: str = "", *, attempt_id: UUID | None = None
    ) -> Done:
        return self._decide(
            account_id,
            agent_id,
            lambda a: agent.release(a, reason, attempt_id=attempt_id, now=self.context.now()),
            "release",
        )

    def connect_call(
        self, account_id: UUID, agent_id: AgentRef, *, group_id: UUID, record_id: UUID, attempt_id: UUID
    ) -> Done:
        return self._decide(
            account_id,
            agent_id,
            lambda a: agent.connect_call(
                a, group_id=group_id, record_id=record_id, attempt_id=attempt_id, now=self.context.now()
            ),
            "connect",
        )

    def end_call(self, account_id: UUID, agent_id: AgentRef, attempt_id: UUID) -> Done:
        return self._decide(
            account_id,
            agent_id,
            lambda a: agent.end_call(a, attempt_id, now=self.context.now()),
            "end call of",
        )
