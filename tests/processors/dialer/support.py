"""A dialer lab: a real embedded runtime (SQLite store, read models, suppression index, the
pre-dial gate) with the dialer on the telephony simulator in virtual time.

The runtime's bus runs, so the read models follow the store as in production; between rounds
the lab waits for them to reach the head of the log, so a test reads what the dialer did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

from msgspec import structs

from dialstream.bootstrap import COMPLIANCE, RESULTS, SUPPRESSION_INDEX, Runtime, all_projections, build
from dialstream.settings import Settings
from domain import (
    campaign_group,
    campaign_template,
    contact_list,
    dialing_profile,
    record_chain,
    session_profile,
)
from domain.account import UpdateSettings
from domain.codes import ContactInfoType
from processors.dialer.ports import DialerPorts
from processors.dialer.runner import Dialer
from processors.dialer.virtual import run_virtual, store_clock
from processors.telephony.simulator import CallModel, Rates, SimulatedTelephony, Timings, VirtualClock
from schemas.lists import ContactListSettings
from schemas.profiles import DialingMode, DialingSettings, Filtering, Pacing, SessionSettings, Treatment
from schemas.records import Contact, Record, RecordChainImported
from schemas.settings import PacingSettings
from tests.kafka_support import kafka_settings

# A Tuesday, 14:00 UTC: 10:00 in New York, 07:00 in Los Angeles (before its 08:00 opening): both
# on daylight saving time since 8 March 2026.
EPOCH = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
AGENT_GROUP = "Lab agents"


@dataclass
class Lab:
    runtime: Runtime
    clock: VirtualClock
    model: CallModel
    telephony: SimulatedTelephony
    dialer: Dialer
    account_id: UUID
    lists: dict[str, UUID] = field(default_factory=dict)

    @property
    def handlers(self):  # type: ignore[no-untyped-def]
        return self.runtime.handlers

    def settle(self, *, every_processor: bool = False) -> None:
        """Wait until the call results processor (``every_processor``: the compliance processor
        and the suppression index too) has handled everything stored and the read models hold
        what it stored. (A test that stops Redis stops the index: it waits for the results.)"""
        names = (RESULTS, COMPLIANCE, SUPPRESSION_INDEX) if every_processor else (RESULTS,)
        processors = [self.runtime.services[name] for name in names]
        store = self.runtime.store
        while True:
            head = store.position()
            for processor in processors:
                assert processor.wait_until(head, 10), f"{processor.name} did not reach the head of the log"  # type: ignore[attr-defined]
            assert self.runtime.wait_for_head(10), "the read models did not reach the head of the log"
            if store.position() == head:
                return

    def run_in_lockstep(self, seconds: float) -> None:
        """Run the dialer with every processor and read model caught up before each round, so
        that what it reads does not depend on how fast the host carries the log (the same
        day on two hosts makes the same calls)."""
        store, settled = self.runtime.store, [-1]

        def catch_up() -> None:
            if store.position() != settled[0]:
                self.settle(every_processor=True)
                settled[0] = store.position()

        catch_up()
        run_virtual(self.dialer, self.clock, until=self.clock.now() + seconds, between=catch_up)
        catch_up()

    def run(self, seconds: float, between: Callable[[], None] | None = None) -> None:
        def step() -> None:
            self.settle()
            if between is not None:
                between()

        self.settle()
        run_virtual(self.dialer, self.clock, until=self.clock.now() + seconds, between=step)
        self.settle()

    def kill_dialer(self, group_id: UUID) -> None:
        """The dialer dies: nobody steps it again, and its lease on ``group_id`` runs out
        unreleased. (Run out in the database rather than by a short lease, which on a slow
        machine also runs out while the dialer still lives.)"""
        with self.runtime.dialer_leases.transaction() as cursor:
            cursor.execute("UPDATE leases SET expires_at = 0 WHERE name = ?", (f"dialer:{group_id}",))


def new_dialer(runtime: Runtime, telephony: SimulatedTelephony, model: CallModel, **kwargs) -> Dialer:  # type: ignore[no-untyped-def]
    assert runtime.predial is not None
    ports = DialerPorts(
        handlers=runtime.handlers,
        records=runtime.records,
        agents=runtime.agents,
        activity=runtime.activity,
        catalogue=runtime.catalogue,
        predial=runtime.predial,
        telephony=telephony,
        clock=lambda: runtime.handlers.clock(),
        simulated_agents=model,
        wait_for_head=runtime.wait_for_head,
        channels=runtime.messaging.channels(),
        links=runtime.messaging.links,
    )
    dialer = Dialer(ports, runtime.dialer_leases, **kwargs)
    dialer.discovered_at = -1e18
    return dialer


@contextmanager
def lab(
    tmp_path: Path,
    *,
    seed: int = 1,
    rates: Rates | None = None,
    timings: Timings | None = None,
    suppression_index: str = "embedded",
    pacing: PacingSettings | None = None,
    epoch: datetime = EPOCH,
    kafka: str | None = None,
    account_id: UUID | None = None,
    **settings: str,
) -> Iterator[Lab]:
    """``settings``: more of the process's :class:`Settings` (the message channels);
    ``kafka``: the broker to run the bus, the compliance and the call results processors on
    (topics of the lab's own), rather than embedded; ``account_id``: the account's id (two labs
    with one id have the same agent ids, which break ties between agents ready together)."""
    workers = [SUPPRESSION_INDEX, COMPLIANCE, RESULTS]
    if kafka is None:
        chosen = Settings(data_dir=tmp_path, suppression_index=suppression_index, **settings)
    else:
        chosen = kafka_settings(tmp_path, kafka, suppression_index=suppression_index, **settings)
        workers += [projection.name for projection in all_projections()]  # consumer groups of this process
    runtime = build(chosen, workers=workers)
    clock = VirtualClock()
    runtime.handlers.clock = store_clock(clock, epoch)
    runtime.start()
    try:
        model = CallModel(seed, default_rates=rates or Rates(answer_person=0.3), timings=timings or Timings())
        telephony = SimulatedTelephony(model, clock)
        account_id = runtime.handlers.accounts.open_account("Lab", account_id).id
        if pacing is not None:
            runtime.handlers.accounts.update_settings(account_id, UpdateSettings(pacing=pacing))
        dialer = new_dialer(runtime, telephony, model)
        yield Lab(runtime, clock, model, telephony, dialer, account_id)
        dialer.on_stop()
    finally:
        runtime.stop()


def campaign(
    lab: Lab,
    records: Sequence[tuple[str, str, str]],
    *,
    mode: DialingMode = "progressive",
    agents: int = 5,
    pacing: Pacing | None = None,
    filtering: Filtering | None = None,
    start: bool = True,
    treatments: Sequence[Treatment] = (),
    callback_grace_minutes: int = 15,
    session: SessionSettings | None = None,
) -> UUID:
    """A group dialling ``records`` (client id, E.164 number or e-mail address, IANA zone) in
    one list, with ``agents`` simulated agents logged in and ready."""
    handlers, account = lab.handlers, lab.account_id
    profile = handlers.profiles.create(
        dialing_profile.KIND,
        account,
        dialing_profile.CreateDialingProfile(
            name=f"dialing {uuid4().hex[:6]}",
            settings=DialingSettings(
                dialing_mode=mode,
                caller_id="+12025550100",
                pacing=pacing or Pacing(),
                filtering=filtering or Filtering(),
                treatments=list(treatments),
                personal_callback_grace_minutes=callback_grace_minutes,
            ),
        ),
    ).id
    session_settings = session or SessionSettings(agent_group=AGENT_GROUP)
    session_id = handlers.profiles.create(
        session_profile.KIND,
        account,
        session_profile.CreateSessionProfile(name=f"session {uuid4().hex[:6]}", settings=session_settings),
    ).id
    template = handlers.campaigns.create_template(
        account,
        campaign_template.CreateCampaignTemplate(
            name=f"template {uuid4().hex[:6]}", dialing_profile_id=profile, session_profile_id=session_id
        ),
    ).id
    list_id = handlers.lists.create(
        account,
        contact_list.CreateContactList(
            name=f"list {uuid4().hex[:6]}", settings=ContactListSettings(channel=session_settings.channel)
        ),
    ).id
    lab.runtime.store.append([chain_event(lab, list_id, *record) for record in records])
    group = handlers.campaigns.create_group(
        account,
        campaign_group.CreateCampaignGroup(name=f"group {uuid4().hex[:6]}", template_id=template, contact_list_ids=[list_id]),
    ).id
    for n in range(agents):
        login = f"agent-{n:02d}"
        handlers.agents.log_in(account, login, agent_group=AGENT_GROUP, simulated=True)
        handlers.agents.ready(account, login)
    if start:
        handlers.campaigns.transition_group(account, group, "start")
    lab.settle()
    return group


def chain_event(lab: Lab, list_id: UUID, client_id: str, phone: str, zone: str) -> RecordChainImported:
    chain_id = record_chain.chain_id(list_id, client_id)
    return RecordChainImported(
        originator_id=chain_id,
        originator_version=1,
        timestamp=lab.handlers.clock(),
        account_id=lab.account_id,
        list_id=list_id,
        client_id=client_id,
        job_id=uuid4(),
        line=2,
        records=[
            Record(
                record_id=record_chain.record_id(chain_id, 1),
                chain_n=1,
                contact_info=phone,
                contact_info_type=int(ContactInfoType.EMAIL) if "@" in phone else 1,
                time_zone=zone,
                time_zone_rule="device",
            )
        ],
        contact=Contact(country="US"),
    )


def us_records(count: int, *, zone: str = "America/New_York", area: str = "212", prefix: str = "C") -> list[tuple[str, str, str]]:
    return [(f"{prefix}{n:05d}", f"+1{area}555{n % 10_000:04d}", zone) for n in range(count)]


def replace(settings: Pacing, **changes: object) -> Pacing:
    return structs.replace(settings, **changes)
