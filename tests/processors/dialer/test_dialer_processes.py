"""The dialer as processes, killed mid-campaign with SIGKILL.

- Embedded: ``dialstream up`` (the telephony simulator in wall-clock time, SPEED times faster
  than life) runs a progressive group; it is SIGKILLed with calls in flight and records drawn,
  then started again on the same data directory.
- Kafka: two ``dialstream worker dialer`` processes (PostgreSQL store and read models, a
  Redis suppression index; the relay, the projection workers and the call results processor in
  this test process) share
  two running groups; the owner of one is SIGKILLed and the other takes it over once the
  dead owner's lease has run out.

Every check reads the event store (the source of truth), never a dialer's memory: no record
has two attempts (one schedule each: the groups' profiles have no treatments), every record drawn ends updated or
returned, the attempts in flight at the kill end as stale (call result 46, record status 4)
and the records drawn and not dialled go back (reason "stale"), only the dead dialer's owner
drew records before the kill and only the new one after it, the new owner goes on dialling,
and the agents the dead one left on a call or in wrap-up come back (each finishes a wrap-up
after the kill). On Kafka also: the take-over comes within a lease and a discovery round of
the kill (measured and printed), and the survivor paces the group from the read models'
counters rather than from a cold start.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from redis import Redis

from dialstream.bootstrap import (
    DEFAULT_ACCOUNT_ID,
    RESULTS,
    SUPPRESSION_INDEX,
    Runtime,
    all_projections,
    build,
    ensure_bootstrap_key,
)
from dialstream.settings import Settings
from dialstream.store import EventStore, store_env, stored_topic_of
from domain import (
    agent,
    campaign_group,
    campaign_template,
    contact_list,
    dialing_profile,
    pacing,
    record_chain,
    session_profile,
)
from domain.codes import CallResult, RecordStatus
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.dialer.group import seed_history
from processors.dialer.runner import DISCOVER_EVERY_S, LEASE_S
from processors.host.lease import create_table
from schemas.agents import AgentCallConnected, AgentWrapUpFinished
from schemas.attempts import CallAttemptFinished, CallAttemptMade
from schemas.base import Event
from schemas.campaigns import CampaignGroupPaced
from schemas.profiles import DialingMode, DialingSettings, Pacing, SessionSettings
from schemas.records import (
    Contact,
    Record,
    RecordChainImported,
    RecordRetrieved,
    RecordReturned,
    RecordUpdated,
)
from schemas.settings import CallingHours, ComplianceSettings, RegionCompliance, WeeklyHours
from tests.kafka import Broker
from tests.kafka_support import kafka_env, kafka_settings
from tests.processors.dialer.support import us_records
from tests.redis import Server

SECRET = "dsk_dialer-processes-secret-0123456789"
SPEED = 20  # the simulator's calls, talks and wrap-ups take 1/SPEED of their real time
STALE_RESULT = int(CallResult.STALE)  # 46


# Setting a campaign up -------------------------------------------------------------------


def open_all_day(runtime: Runtime, account_id: UUID) -> None:
    """Calling hours 00:00–24:00: the simulator runs on the wall clock, and this test must not
    depend on the hour it runs at (the gate's hours have tests of their own)."""
    runtime.handlers.accounts.change_compliance_settings(
        account_id,
        ComplianceSettings(
            default=RegionCompliance(hours=WeeklyHours(daily=CallingHours(opens="00:00", closes="24:00")))
        ),
    )


def prepare_group(
    runtime: Runtime,
    account_id: UUID,
    *,
    name: str,
    records: Sequence[tuple[str, str, str]],
    agents: int,
    mode: DialingMode = "progressive",
    pacing: Pacing | None = None,
) -> UUID:
    """A running group dialling ``records`` (client id, number, zone) of one list of its own,
    with ``agents`` simulated agents of its own agent group logged in and ready."""
    handlers = runtime.handlers
    agent_group = f"{name} agents"
    profile = handlers.profiles.create(
        dialing_profile.KIND,
        account_id,
        dialing_profile.CreateDialingProfile(
            name=f"{name} dialing",
            settings=DialingSettings(dialing_mode=mode, caller_id="+12025550100", pacing=pacing or Pacing()),
        ),
    ).id
    session = handlers.profiles.create(
        session_profile.KIND,
        account_id,
        session_profile.CreateSessionProfile(name=f"{name} voice", settings=SessionSettings(agent_group=agent_group)),
    ).id
    template = handlers.campaigns.create_template(
        account_id,
        campaign_template.CreateCampaignTemplate(
            name=f"{name} template", dialing_profile_id=profile, session_profile_id=session
        ),
    ).id
    list_id = handlers.lists.create(account_id, contact_list.CreateContactList(name=f"{name} list")).id
    runtime.store.append([chain_event(runtime, account_id, list_id, *record) for record in records])
    group = handlers.campaigns.create_group(
        account_id,
        campaign_group.CreateCampaignGroup(name=name, template_id=template, contact_list_ids=[list_id]),
    ).id
    for n in range(agents):
        login = f"{name.lower()}-{n:02d}"
        handlers.agents.log_in(account_id, login, agent_group=agent_group, simulated=True)
        handlers.agents.ready(account_id, login)
    handlers.campaigns.transition_group(account_id, group, "start")
    return group


def chain_event(runtime: Runtime, account_id: UUID, list_id: UUID, client_id: str, phone: str, zone: str) -> Event:
    chain_id = record_chain.chain_id(list_id, client_id)
    return RecordChainImported(
        originator_id=chain_id,
        originator_version=1,
        timestamp=runtime.handlers.clock(),
        account_id=account_id,
        list_id=list_id,
        client_id=client_id,
        job_id=uuid4(),
        line=2,
        records=[
            Record(
                record_id=record_chain.record_id(chain_id, 1),
                chain_n=1,
                contact_info=phone,
                contact_info_type=1,
                time_zone=zone,
                time_zone_rule="device",
            )
        ],
        contact=Contact(country="US"),
    )


# Reading the outcome from the store ------------------------------------------------------------


@dataclass
class Trail:
    """What the store holds of the dialing, up to ``position`` (the last event read)."""

    position: int
    made: list[CallAttemptMade] = field(default_factory=list)
    finished: list[CallAttemptFinished] = field(default_factory=list)
    retrieved: list[RecordRetrieved] = field(default_factory=list)
    updated: list[RecordUpdated] = field(default_factory=list)
    returned: list[RecordReturned] = field(default_factory=list)
    connected: list[AgentCallConnected] = field(default_factory=list)
    wrapped: list[AgentWrapUpFinished] = field(default_factory=list)
    paced: list[CampaignGroupPaced] = field(default_factory=list)
    at: dict[int, int] = field(default_factory=dict)  # id(event) -> its position

    def of_group(self, group_id: UUID) -> Trail:
        def mine(events: list[Any]) -> list[Any]:
            return [e for e in events if getattr(e, "campaign_group_id", None) == group_id]

        return Trail(
            self.position,
            mine(self.made),
            mine(self.finished),
            mine(self.retrieved),
            mine(self.updated),
            mine(self.returned),
            mine(self.connected),
            self.wrapped,
            [e for e in self.paced if e.originator_id == group_id],
            self.at,
        )

    def after(self, position: int, events: list[Any]) -> list[Any]:
        return [e for e in events if self.at[id(e)] > position]

    @property
    def in_flight(self) -> set[UUID]:
        """Attempts placed and not finished."""
        return {e.attempt_id for e in self.made} - {e.attempt_id for e in self.finished}

    @property
    def drawn_not_dialled(self) -> set[UUID]:
        settled = {e.attempt_id for e in self.updated} | {e.attempt_id for e in self.returned}
        placed = {e.attempt_id for e in self.made}
        return {e.attempt_id for e in self.retrieved} - settled - placed


KINDS: dict[type[Event], str] = {
    CallAttemptMade: "made",
    CallAttemptFinished: "finished",
    RecordRetrieved: "retrieved",
    RecordUpdated: "updated",
    RecordReturned: "returned",
    AgentCallConnected: "connected",
    AgentWrapUpFinished: "wrapped",
    CampaignGroupPaced: "paced",
}


def read_trail(store: EventStore) -> Trail:
    trail = Trail(0)
    topics = tuple({stored_topic_of(cls) for cls in KINDS})
    while batch := store.read_topics(topics, trail.position, 5000):
        for position, event in batch:
            kind = KINDS.get(type(event))
            if kind is not None:
                getattr(trail, kind).append(event)
                trail.at[id(event)] = position
        trail.position = batch[-1][0]
    return trail


@contextmanager
def opened_store(database_url: str) -> Iterator[EventStore]:
    store = EventStore(store_env(database_url))
    try:
        yield store
    finally:
        store.close()


def busy_agents(store: EventStore, account_id: UUID, logins: Sequence[str]) -> set[UUID]:
    """The agents on a call, in wrap-up or reserved, as their streams say now."""
    busy = set()
    for login in logins:
        state = store.load(agent.agent_id(account_id, login), agent.project)
        if state is not None and state.state in ("on_call", "wrap_up", "reserved"):
            busy.add(state.id)
    return busy


def holder_pid(retrieved_by: str) -> int:
    """The process of a dialer's owner string ``host:pid:tag#token``."""
    return int(retrieved_by.split("#")[0].split(":")[1])


def assert_settled(trail: Trail, killed_in_flight: set[UUID], killed_drawn: set[UUID]) -> None:
    """The checks both tests share, on one group's whole trail after the run."""
    # No record dialled twice (one attempt per record: treatments and redials are issue 16).
    records = [e.originator_id for e in trail.made]
    assert len(records) == len(set(records)), "a record was dialled twice"
    # No drawn record lost: each retrieval ended updated (dialled) or returned (not dialled).
    updated = {e.attempt_id: e for e in trail.updated}
    returned = {e.attempt_id: e for e in trail.returned}
    retrieved = {e.attempt_id for e in trail.retrieved}
    assert len(retrieved) == len(trail.retrieved)
    lost = retrieved - set(updated) - set(returned)
    assert not lost, f"{len(lost)} records drawn and never updated or returned"
    assert not set(updated) & set(returned), "a retrieval both updated and returned"
    placed = {e.attempt_id for e in trail.made}
    assert placed <= set(updated), "an attempt placed whose record was never updated"
    assert not placed & set(returned), "a record dialled and then returned to the queue"
    # The calls the dead dialer had in flight: finished stale, their records stale.
    finished = {e.attempt_id: e for e in trail.finished}
    for attempt_id in killed_in_flight:
        assert finished[attempt_id].call_result == STALE_RESULT, finished[attempt_id]
        assert updated[attempt_id].record_status == RecordStatus.STALE, updated[attempt_id]
        assert updated[attempt_id].call_result == STALE_RESULT, updated[attempt_id]
    # Nothing else is stale: only what the dead dialer held.
    stale = {a for a, e in finished.items() if e.call_result == STALE_RESULT}
    assert stale == killed_in_flight
    assert {a for a, e in updated.items() if e.record_status == RecordStatus.STALE} == killed_in_flight
    # Its records drawn and not dialled went back to the queue, saying why.
    for attempt_id in killed_drawn:
        assert returned[attempt_id].reason == "stale", returned[attempt_id]
    assert {a for a, e in returned.items() if e.reason == "stale"} == killed_drawn


def wait_for(until: str, check: Callable[[], bool], timeout: float, logs: Sequence[Path] = ()) -> float:
    """Poll ``check`` until it holds (``until`` says what that means); the seconds it took,
    also printed (pytest shows them with -s or on a failure)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            tails = "".join(f"\n--- {log}:\n{_without_access_log(log)[-4000:]}" for log in logs if log.exists())
            raise AssertionError(f"waited {timeout:.0f} s in vain until {until}{tails}")
        time.sleep(0.1)
    took = time.monotonic() - started
    print(f"{took:5.1f} s until {until}")
    return took


def _without_access_log(log: Path) -> str:
    return "".join(line for line in log.read_text().splitlines(keepends=True) if '"GET /' not in line)


# Embedded: dialstream up, killed and started again ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _up(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DIALSTREAM_DATA_DIR": str(data_dir),
        "DIALSTREAM_PORT": str(port),
        "DIALSTREAM_TELEPHONY": f"simulator:7:x{SPEED}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "dialstream.cli", "up"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("dialstream up did not start:\n" + log.read_text())


@pytest.mark.timeout(180)
def test_a_dialstream_up_killed_mid_campaign_loses_and_doubles_no_record(tmp_path: Path) -> None:
    data_dir, port, log = tmp_path / "data", _free_port(), tmp_path / "up.log"
    # The campaign is set up before the server starts, by a runtime of this process that
    # hosts no processor (no dialer of its own).
    setup = build(Settings(data_dir=data_dir, bootstrap_key=SECRET), workers=[])
    setup.start()
    try:
        account_id, _ = ensure_bootstrap_key(setup)
        assert account_id == DEFAULT_ACCOUNT_ID
        open_all_day(setup, account_id)
        group = prepare_group(setup, account_id, name="Kill", records=us_records(300), agents=10)
        logins = [f"kill-{n:02d}" for n in range(10)]
        assert setup.wait_for_head(30)
        database_url = setup.settings.database_url
    finally:
        setup.stop()

    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {SECRET}"}, timeout=30
    )

    def status() -> Any:
        response = client.get(f"/api/v1/campaign-groups/{group}/status")
        assert response.status_code == 200, response.text
        return response.json()

    first = _up(data_dir, port, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        # Mid-campaign: attempts made, several calls in flight (and their records drawn).
        wait_for(
            "the first process is mid-campaign",
            lambda: (s := status())["last_24h"]["attempts"] >= 40 and s["calls"]["lines"] >= 3,
            60,
            [log],
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        with opened_store(database_url) as store:
            at_kill = read_trail(store)
            busy_at_kill = busy_agents(store, account_id, logins)
        killed_in_flight, killed_drawn = at_kill.in_flight, at_kill.drawn_not_dialled
        print(
            f"at the kill: {len(at_kill.made)} attempts, {len(killed_in_flight)} in flight, "
            f"{len(killed_drawn)} records drawn and not dialled, {len(busy_at_kill)} agents busy"
        )
        assert killed_in_flight, "the kill must land with calls in flight"
        assert len(at_kill.made) < 250, "the kill must land mid-campaign"

        second = _up(data_dir, port, log)
        # The restarted process takes the group over (the dead one's lease runs out first) and
        # dials on: wait for as many new attempts again.
        made_at_kill = len(at_kill.made)
        wait_for(
            "the restarted process has dialled 40 more",
            lambda: status()["last_24h"]["attempts"] >= made_at_kill + 40,
            60,
            [log],
        )
        stopped = client.post(f"/api/v1/campaign-groups/{group}/stop")
        assert stopped.status_code == 200, stopped.text
        # Stopped: what was drawn goes back, the calls in flight end by themselves.
        wait_for(
            "the stopped group's calls have ended",
            lambda: (s := status())["calls"]["lines"] == 0 and s["records"]["retrieved"] == 0,
            60,
            [log],
        )
    finally:
        client.close()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)

    with opened_store(database_url) as store:
        trail = read_trail(store).of_group(group)
    assert_settled(trail, killed_in_flight, killed_drawn)
    # Each process dialled with its own owner: the first before the kill, the second after.
    before = [e for e in trail.retrieved if trail.at[id(e)] <= at_kill.position]
    after = trail.after(at_kill.position, trail.retrieved)
    assert {holder_pid(e.retrieved_by) for e in before} == {first.pid}
    assert second is not None and {holder_pid(e.retrieved_by) for e in after} == {second.pid}
    dialled_after = trail.after(at_kill.position, trail.made)
    assert len(dialled_after) >= 40, "the restarted process dialled on"
    # The agents the dead process left on a call or in wrap-up came back: each finished a
    # wrap-up after the kill, and the group's agents took calls after it.
    wrapped_after = {e.originator_id for e in trail.after(at_kill.position, trail.wrapped)}
    assert busy_at_kill, "some agents were busy at the kill"
    assert busy_at_kill <= wrapped_after, (
        f"{len(busy_at_kill - wrapped_after)} of the {len(busy_at_kill)} agents busy at the kill "
        "never finished a wrap-up after it"
    )
    agents = {agent.agent_id(account_id, login) for login in logins}
    connected_after = {e.originator_id for e in trail.after(at_kill.position, trail.connected)}
    assert connected_after and connected_after <= agents


# Kafka: two dialer workers share the running groups --------------------------------------------

_REDIS_DATABASES = itertools.count(15, -1)  # from the top: tests/processors/host counts up from 1


@pytest.fixture
def redis_url(redis_server: Server) -> Iterator[str]:
    """A Redis database of this test's own on the session's server, emptied afterwards."""
    url = f"{redis_server.url.rpartition('/')[0]}/{next(_REDIS_DATABASES)}"
    client = Redis.from_url(url)
    try:
        assert client.dbsize() == 0, f"{url} is in use"
        yield url
    finally:
        client.flushdb()
        client.close()


def lease_holders(runtime: Runtime, groups: Sequence[UUID]) -> dict[UUID, tuple[str, int, int]]:
    """Each group's dialer lease as the shared database has it: (holder, token, expires_at ms)."""
    names = {f"dialer:{group}": group for group in groups}
    marks = ", ".join("?" for _ in names)
    with runtime.views.transaction() as cursor:
        cursor.execute(f"SELECT name, holder, token, expires_at FROM leases WHERE name IN ({marks})", list(names))
        rows = cursor.fetchall()
    return {names[row[0]]: (str(row[1]), int(row[2]), int(row[3])) for row in rows}


def settled_read_models(runtime: Runtime) -> None:
    head = runtime.store.position()
    assert runtime.wait(head, 60), f"the read models did not reach log position {head}"


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_two_dialer_workers_share_groups_and_one_takes_over_a_killed_owners_group(
    tmp_path: Path, kafka_broker: Broker, fresh_postgres_database: str, redis_url: str
) -> None:
    settings = kafka_settings(
        tmp_path / "data",
        kafka_broker.bootstrap,
        database_url=fresh_postgres_database,
        suppression_index=redis_url,
        bootstrap_key=SECRET,
    )
    # This process relays, keeps every read model and the suppression index (Redis); the
    # dialers are the two workers.
    runtime = build(settings, workers=[p.name for p in all_projections()] + [SUPPRESSION_INDEX, RESULTS])
    env = {**os.environ, **kafka_env(settings), "DIALSTREAM_SUPPRESSION_INDEX": redis_url}
    logs = [tmp_path / "dialer-1.log", tmp_path / "dialer-2.log"]
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker(n: int) -> subprocess.Popen[bytes]:
        worker = subprocess.Popen(
            [sys.executable, "-m", "dialstream.cli", "worker", "dialer"],
            env={**env, "DIALSTREAM_TELEPHONY": f"simulator:{10 + n}:x{SPEED}"},
            stdout=logs[n].open("ab"),
            stderr=subprocess.STDOUT,
        )
        workers.append(worker)
        wait_for(f"dialer worker {n + 1} runs", lambda: "running on" in logs[n].read_text(), 60, logs)
        return worker

    try:
        runtime.start()
        create_table(runtime.views)  # the leases, which the dialers make when they first take a group
        account_id, _ = ensure_bootstrap_key(runtime)
        open_all_day(runtime, account_id)
        # A required do-not-call list: every record is looked up in Redis at dial time.
        dnc = runtime.handlers.suppression.create_list(
            account_id, CreateSuppressionList(name="DNC", channel="voice", required=True)
        ).id
        runtime.handlers.suppression.add_entries(account_id, dnc, [EntryInput(kind="phone", value="+13125550000")])
        start_worker(0)
        # Alpha: predictive, with agents enough to leave the pacing's cold start (100 attempts)
        # within seconds; Beta: progressive, a few agents.
        alpha = prepare_group(
            runtime, account_id, name="Alpha", records=us_records(400, prefix="A"), agents=16, mode="predictive"
        )
        settled_read_models(runtime)
        wait_for("worker 1 owns group Alpha", lambda: alpha in lease_holders(runtime, [alpha]), 30, logs)
        start_worker(1)
        beta = prepare_group(
            runtime, account_id, name="Beta", records=us_records(150, prefix="B", area="312"), agents=4
        )
        groups = [alpha, beta]
        logins = {alpha: [f"alpha-{n:02d}" for n in range(16)], beta: [f"beta-{n:02d}" for n in range(4)]}
        wait_for("a worker owns group Beta", lambda: beta in lease_holders(runtime, groups), 30, logs)

        # Mid-campaign, and warm: Alpha's owner paces it past its cold start, and the read
        # models' counters a new owner would seed its history from are past it too.
        started = runtime.handlers.clock() - timedelta(minutes=1)

        def alpha_attempts() -> int:
            return runtime.activity.counts(alpha, started).attempts

        def alpha_going() -> bool:
            paced = runtime.activity.pacing(alpha)
            return (
                paced is not None
                and paced.reason != "cold_start"
                and not pacing.cold(seed_history(runtime.activity.counts(alpha, started)))
                and runtime.activity.in_flight(alpha).lines >= 3
            )

        wait_for("Alpha is mid-campaign and its pacing warm", alpha_going, 60, logs)
        owners = lease_holders(runtime, groups)
        assert {holder_pid(owners[g][0]) for g in groups} <= {w.pid for w in workers}
        owner = next(w for w in workers if w.pid == holder_pid(owners[alpha][0]))
        survivor = next(w for w in workers if w is not owner)
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
        killed_groups = [g for g in groups if holder_pid(owners[g][0]) == owner.pid]
        at_kill = read_trail(runtime.store)
        busy_at_kill = busy_agents(runtime.store, account_id, logins[alpha])

        # The survivor takes Alpha over once the dead owner's lease has run out, and dials on.
        def taken_over() -> bool:
            holder = lease_holders(runtime, [alpha]).get(alpha)
            return holder is not None and holder_pid(holder[0]) == survivor.pid

        wait_for("the other worker holds Alpha's lease", taken_over, LEASE_S + 30, logs)
        taken_over_after = time.monotonic() - killed_at

        made_at_kill = len(at_kill.of_group(alpha).made)
        wait_for("the survivor has dialled 40 more of Alpha", lambda: alpha_attempts() >= made_at_kill + 40, 60, logs)
        for group in groups:
            runtime.handlers.campaigns.transition_group(account_id, group, "stop")

        def drained() -> bool:
            settled_read_models(runtime)
            return all(
                runtime.activity.in_flight(g).lines == 0 and not runtime.records.retrieved(g) for g in groups
            )

        wait_for("the stopped groups' calls have ended", drained, 60, logs)
        trail = read_trail(runtime.store)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(60)
        runtime.stop()

    alpha_trail, alpha_at_kill = trail.of_group(alpha), at_kill.of_group(alpha)
    paced_after = alpha_trail.after(at_kill.position, alpha_trail.paced)

    # How long the hand-over took, from the kill: the lease (polled here), and from the events'
    # times the first stale settlement, the first record drawn and the first call placed.
    def since_kill(events: list[Any]) -> float:
        return min((e.timestamp - killed_wall).total_seconds() for e in events) if events else float("inf")

    settled_after = since_kill(
        [e for e in alpha_trail.after(at_kill.position, alpha_trail.finished) if e.call_result == STALE_RESULT]
    )
    drawing_after = since_kill(alpha_trail.after(at_kill.position, alpha_trail.retrieved))
    dialling_after = since_kill(alpha_trail.after(at_kill.position, alpha_trail.made))
    print(
        f"Alpha: lease taken over {taken_over_after:.1f} s after the kill, stale calls settled from "
        f"{settled_after:.1f} s, records drawn from {drawing_after:.1f} s, calls placed from "
        f"{dialling_after:.1f} s; at the kill {len(alpha_at_kill.made)} attempts, {len(alpha_at_kill.in_flight)} "
        f"in flight, {len(alpha_at_kill.drawn_not_dialled)} records drawn and not dialled, "
        f"{len(busy_at_kill)} agents busy; the survivor's pacing: "
        + ", ".join(f"{e.mode} {e.ratio:.2f} ({e.reason})" for e in paced_after)
    )

    for group in groups:
        mine, before = trail.of_group(group), at_kill.of_group(group)
        killed = group in killed_groups
        assert_settled(mine, before.in_flight if killed else set(), before.drawn_not_dialled if killed else set())
        # One owner at a time: before the kill one owner (holder and token) drew every record
        # of the group; after it, the survivor alone.
        drawn_before = {e.retrieved_by for e in mine.retrieved if mine.at[id(e)] <= at_kill.position}
        assert len(drawn_before) == 1, drawn_before
        assert {holder_pid(e.retrieved_by) for e in mine.after(at_kill.position, mine.retrieved)} <= {survivor.pid}
        if not killed:  # nothing of it was settled as stale: it never changed hands
            assert not before.in_flight - {e.attempt_id for e in mine.finished}
    assert alpha_at_kill.in_flight, "the kill must land with Alpha's calls in flight"
    # The group's agents survive the hand-over: the survivor connects Alpha's calls to Alpha's
    # agents, and those the dead owner left on a call or in wrap-up come back.
    agents = {agent.agent_id(account_id, login) for login in logins[alpha]}
    connected_after = {e.originator_id for e in alpha_trail.after(at_kill.position, alpha_trail.connected)}
    assert connected_after and connected_after <= agents
    wrapped_after = {e.originator_id for e in trail.after(at_kill.position, trail.wrapped)}
    assert busy_at_kill <= wrapped_after, (
        f"{len(busy_at_kill - wrapped_after)} of the {len(busy_at_kill)} Alpha agents busy at the kill "
        "never finished a wrap-up after it"
    )
    # Its pacing survives: the dead owner paced it warm, and the survivor, whose own history
    # is short of the pacing's minimum for all of this run, starts from the read models'
    # counters: none of its decisions is a cold start again. (A decision a hard cap bound
    # names the cap instead: those say nothing either way.)
    paced_before = [e for e in alpha_trail.paced if alpha_trail.at[id(e)] <= at_kill.position]
    assert paced_before and paced_before[-1].reason != "cold_start", paced_before[-1]
    uncapped = [e for e in paced_after if not e.reason.startswith("cap_")]
    assert uncapped, [(e.mode, e.ratio, e.reason) for e in paced_after]
    assert all(e.reason != "cold_start" for e in uncapped), [(e.mode, e.ratio, e.reason) for e in paced_after]

    # A live owner's groups are not taken from it; a dead one's are, within a lease and a
    # discovery round (and a little for reading the lease row here), and it dials again soon.
    assert LEASE_S - DISCOVER_EVERY_S - 1 <= taken_over_after <= LEASE_S + DISCOVER_EVERY_S + 3
    assert settled_after <= LEASE_S + DISCOVER_EVERY_S + 3
    assert dialling_after <= LEASE_S + DISCOVER_EVERY_S + 10
