"""The service layer: one handler per command, in one class per concern, built here.

Each handler loads the aggregates a decision needs, decides, and stores atomically; the rules
are the pure functions of ``domain/``. :class:`Handlers` is the composition root of the
concerns: it builds the shared :class:`~dialstream.handlers.context.Context` (store, clock,
id generator, secret box) and gives every concern the context and the other concerns it uses, so callers
name the concern they address (``handlers.accounts.issue_api_key(...)``). Clock and id
generator are injected so tests and replays are deterministic.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from dialstream.clock import utc_now
from dialstream.handlers.accounts import AccountHandlers, KeyMaker
from dialstream.handlers.agents import AgentHandlers
from dialstream.handlers.attempts import AttemptHandlers
from dialstream.handlers.automation import AutomationHandlers
from dialstream.handlers.campaigns import CampaignHandlers
from dialstream.handlers.compliance import ComplianceHandlers
from dialstream.handlers.context import Context
from dialstream.handlers.import_jobs import ImportJobHandlers
from dialstream.handlers.imports import ImportHandlers
from dialstream.handlers.list_rules import ListRuleHandlers
from dialstream.handlers.lists import ContactListHandlers
from dialstream.handlers.profiles import ProfileHandlers
from dialstream.handlers.queue import QueueHandlers
from dialstream.handlers.records import RecordHandlers
from dialstream.handlers.suppression import SuppressionHandlers
from dialstream.secrets import SecretBox
from dialstream.store import EventStore


class Handlers:
    """Every concern's handlers over one store, clock, id generator and secret box; ``keys``
    makes the account's own key pairs (without a box or ``keys``, handlers that need them
    refuse)."""

    def __init__(
        self,
        store: EventStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], UUID] = uuid.uuid4,
        secrets: SecretBox | None = None,
        keys: KeyMaker | None = None,
    ):
        self.store = store
        self.context = Context(store, clock=clock, new_id=new_id, secrets=secrets)
        context = self.context
        self.accounts = AccountHandlers(context, keys=keys)
        self.profiles = ProfileHandlers(context)
        self.lists = ContactListHandlers(context)
        self.campaigns = CampaignHandlers(context, profiles=self.profiles, lists=self.lists)
        self.list_rules = ListRuleHandlers(context)
        self.suppression = SuppressionHandlers(context, campaigns=self.campaigns)
        self.imports = ImportHandlers(
            context, lists=self.lists, list_rules=self.list_rules, suppression=self.suppression
        )
        self.import_jobs = ImportJobHandlers(context)  # what the import runner stores
        self.records = RecordHandlers(context)
        self.attempts = AttemptHandlers(context)
        self.agents = AgentHandlers(context)
        self.queue = QueueHandlers(context, campaigns=self.campaigns)  # the dialing queue: draws, returns, finishes
        self.compliance = ComplianceHandlers(store, clock=context.now)
        self.automation = AutomationHandlers(context)  # list automation jobs and their runs

    @property
    def clock(self) -> Callable[[], datetime]:
        """The clock of every concern; setting it (a test stopping time) sets it for all."""
        return self.context.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.context.clock = clock
