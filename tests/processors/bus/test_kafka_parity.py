"""Parity: the same log read over the embedded bus and over Kafka gives the same rows."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from dialstream.bootstrap import COMPLIANCE, DIALER, LIST_AUTOMATION, Runtime, build
from dialstream.handlers.queue import Return
from dialstream.settings import Settings
from domain import dialing, record_chain
from domain.dialing_queue import Candidate
from domain.list_automation import CreateListAutomation, SourceInput
from processors.compliance.processor import ComplianceProcessor
from schemas.automation import CronSchedule, FileRule, ImportFileAction, ImportSettings
from tests.imports.support import finished, request
from tests.kafka import Broker
from tests.kafka_support import kafka_settings, projection_rows
from tests.scenario import build_campaign_structure

AUTOMATION_JOB = CreateListAutomation(
    name="Nightly",
    schedule=CronSchedule(cron="0 6 * * *", time_zone="America/New_York"),
    source=SourceInput(
        location="sftp://127.0.0.1:2222/inbox", username="crm", login="password", password="pw"
    ),
    action=ImportFileAction(import_=ImportSettings(files=FileRule(operator="contains", value="leads"))),
)


def test_campaign_structure_projects_identically_embedded_and_on_kafka(
    tmp_path: Path, kafka_broker: Broker
) -> None:
    # One event store, written once, then projected into two read-model databases.
    embedded = build(Settings(data_dir=tmp_path))
    # The calls below are the test's own; a dialer would add more of its own, different each run.
    embedded.services.pop(DIALER)
    embedded.services.pop(LIST_AUTOMATION)  # a run it made would be stored after the rows are read
    embedded.start()
    account_id = embedded.handlers.accounts.open_account("Parity").id
    embedded.handlers.accounts.issue_api_key(account_id, "ops", "supervisor")
    structure = build_campaign_structure(embedded.handlers, account_id, suppression_lists=True)
    # Records, an update, a rejected row and a failed job: every records and import_jobs table.
    list_id = structure["November"]
    source = tmp_path / "contacts.csv"
    # C4's number is on the scenario's required suppression list: the compliance processor marks it.
    source.write_text(
        "client_id,phone,tier\nC1,212-555-0101,gold\nC2,312-555-0102,\nC3,nope,\nC4,312-555-0143,\n"
        "C5,312-555-0105,\nC6,312-555-0106,\n"
    )
    for append_type in ("append_only", "append_and_update"):
        job = finished(
            embedded, request(embedded, list_id, source, append_type=append_type, account_id=account_id)
        )
        assert job.status == "completed", job.reason
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert finished(embedded, request(embedded, list_id, empty, account_id=account_id)).status == "failed"
    # An attempt the dialer reports: the attempt history.
    chain = embedded.store.load(record_chain.chain_id(list_id, "C1"), record_chain.project)
    assert chain is not None
    embedded.handlers.attempts.make_attempt(
        chain, 1, attempt_id=None, channel="voice", campaign_group_id=None
    )
    # A running group's calls as the dialer reports them: agents, the queue, every attempt step.
    dial_a_few(embedded, account_id, structure["renewals-nov"], list_id)
    # A list automation job asked to run now: the job's activity.
    job = embedded.handlers.automation.create(account_id, AUTOMATION_JOB)
    embedded.handlers.automation.run_now(account_id, job.id)
    compliance = embedded.services[COMPLIANCE]
    assert isinstance(compliance, ComplianceProcessor)
    head = -1
    while head != embedded.store.position():  # marking appends events of its own
        head = embedded.store.position()
        assert compliance.wait_until(head, 30) and embedded.wait(head)
    expected = projection_rows(embedded.views)
    embedded.stop()

    settings = kafka_settings(
        tmp_path, kafka_broker.bootstrap, views_url=f"sqlite:///{tmp_path}/kafka-views.sqlite"
    )
    on_kafka = build(settings)
    on_kafka.services.pop(DIALER)  # it would take the running group over and settle its calls
    on_kafka.services.pop(LIST_AUTOMATION)  # it would run the job asked to run
    on_kafka.start()
    try:
        assert on_kafka.catch_up(60)
        assert projection_rows(on_kafka.views) == expected
        assert all(expected.values()), "the scenario should fill every projection table"
    finally:
        on_kafka.stop()


def dial_a_few(runtime: Runtime, account_id: UUID, group_id: UUID, list_id: UUID) -> None:
    """Agents log in, out, ready, not ready, reserved and released, on a call and in wrap-up;
    four records of the running group are drawn: C6 denied by the gate, C1 answered and
    connected to an agent, C2 answered and abandoned with the message, C5 answered by a machine
    and still in flight (drawn, not finished); the group is paced. Fills agent_states,
    group_activity and call_results."""
    handlers, store = runtime.handlers, runtime.store
    agents, attempts, queue = handlers.agents, handlers.attempts, handlers.queue
    for login in ("ann", "bob", "cy", "dan"):
        agents.log_in(account_id, login, agent_group="Sales", name=login.title(), simulated=login == "dan")
    agents.ready(account_id, "ann")
    agents.not_ready(account_id, "bob", "lunch")
    agents.log_out(account_id, "cy")
    agents.ready(account_id, "dan")
    chains = {
        client: store.load(record_chain.chain_id(list_id, client), record_chain.project)
        for client in ("C1", "C2", "C5", "C6")
    }
    candidates = []
    for client, chain in chains.items():
        assert chain is not None, client
        record = chain.records[0]
        candidates.append(
            Candidate(
                record.record_id,
                chain.id,
                record.chain_n,
                list_id,
                client,
                record.contact_info,
                record.contact_info_type,
                record.record_type,
                record.attempt,
                record.dial_sched_time,
                record.time_zone,
                record.second_time_zone,
            )
        )
    drawn = {
        d.chain.client_id: d
        for d in queue.draw(account_id, group_id, candidates, max_attempts=10, retrieved_by="parity#1")
    }
    assert sorted(drawn) == ["C1", "C2", "C5", "C6"]
    # C6: the pre-dial gate denies it at dial time; it goes back with the gate's reasons.
    c6 = drawn.pop("C6")
    queue.return_drawn(
        account_id,
        group_id,
        [Return(c6.chain.id, c6.record.chain_n, c6.attempt_id, detail="outside_hours: it is 07:00 there")],
        reason="denied",
    )
    for d in drawn.values():
        attempts.make_attempt(
            d.chain,
            d.record.chain_n,
            attempt_id=d.attempt_id,
            channel="voice",
            campaign_group_id=group_id,
            caller_id="+13125550100",
            mode="predictive",
        )
    ann = handlers.agents.agent(account_id, "ann").id
    dan = handlers.agents.agent(account_id, "dan").id
    # C1: a live answer, connected to Ann, talked, finished; Ann wraps up and is ready again.
    c1 = drawn["C1"]
    attempts.answered(account_id, c1.record.record_id, c1.attempt_id, answered_by="person", ring_ms=9000)
    agents.connect_call(
        account_id, ann, group_id=group_id, record_id=c1.record.record_id, attempt_id=c1.attempt_id
    )
    attempts.connected(account_id, c1.record.record_id, c1.attempt_id, agent_id=ann, wait_ms=400)
    agents.end_call(account_id, ann, c1.attempt_id)
    result = int(dialing.connected_result())
    attempts.finished(
        account_id,
        c1.record.record_id,
        c1.attempt_id,
        call_result=result,
        ring_ms=9000,
        talk_ms=95_000,
        agent_id=ann,
    )
    queue.finish(account_id, c1.record.record_id, c1.attempt_id, call_result=result, call_time=1_767_000_000)
    agents.finish_wrap_up(account_id, ann)
    # C2: a live answer no agent took in time: abandoned with the message; Dan was reserved
    # for it and released.
    c2 = drawn["C2"]
    agents.reserve(
        account_id,
        dan,
        group_id=group_id,
        record_id=c2.record.record_id,
        attempt_id=c2.attempt_id,
        purpose="engage",
    )
    attempts.answered(account_id, c2.record.record_id, c2.attempt_id, answered_by="person", ring_ms=12_000)
    agents.release(account_id, dan, "the customer hung up")
    attempts.abandoned(account_id, c2.record.record_id, c2.attempt_id, wait_ms=2000, message_played=True)
    result = int(dialing.abandoned_result(True))
    attempts.finished(
        account_id, c2.record.record_id, c2.attempt_id, call_result=result, ring_ms=12_000, talk_ms=0
    )
    queue.finish(account_id, c2.record.record_id, c2.attempt_id, call_result=result, call_time=1_767_000_000)
    # C5: a machine answered; the call is still being released (in flight, the record drawn).
    c5 = drawn["C5"]
    attempts.answered(account_id, c5.record.record_id, c5.attempt_id, answered_by="machine", ring_ms=7000)
    handlers.campaigns.record_pacing(account_id, group_id, mode="predictive", ratio=1.6, reason="parity")
