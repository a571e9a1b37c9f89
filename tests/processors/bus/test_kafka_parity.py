"""Parity: the same log read over the embedded bus and over Kafka gives the same rows."""

from __future__ import annotations

from pathlib import Path

from dialstream.bootstrap import COMPLIANCE, build
from dialstream.settings import Settings
from domain import record_chain
from processors.compliance.processor import ComplianceProcessor
from tests.imports.support import finished, request
from tests.kafka import Broker
from tests.kafka_support import kafka_settings, projection_rows
from tests.scenario import build_campaign_structure


def test_campaign_structure_projects_identically_embedded_and_on_kafka(
    tmp_path: Path, kafka_broker: Broker
) -> None:
    # One event store, written once, then projected into two read-model databases.
    embedded = build(Settings(data_dir=tmp_path))
    embedded.start()
    account_id = embedded.handlers.accounts.open_account("Parity").id
    embedded.handlers.accounts.issue_api_key(account_id, "ops", "supervisor")
    structure = build_campaign_structure(embedded.handlers, account_id, suppression_lists=True)
    # Records, an update, a rejected row and a failed job: every records and import_jobs table.
    list_id = structure["November"]
    source = tmp_path / "contacts.csv"
    # C4's number is on the scenario's required suppression list: the compliance processor marks it.
    source.write_text("client_id,phone,tier\nC1,212-555-0101,gold\nC2,312-555-0102,\nC3,nope,\nC4,312-555-0143,\n")
    for append_type in ("append_only", "append_and_update"):
        job = finished(embedded, request(embedded, list_id, source, append_type=append_type, account_id=account_id))
        assert job.status == "completed", job.reason
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert finished(embedded, request(embedded, list_id, empty, account_id=account_id)).status == "failed"
    # An attempt the dialer reports: the attempt history.
    chain = embedded.store.load(record_chain.chain_id(list_id, "C1"), record_chain.project)
    assert chain is not None
    embedded.handlers.attempts.make_attempt(chain, 1, attempt_id=None, channel="voice", campaign_group_id=None)
    compliance = embedded.services[COMPLIANCE]
    assert isinstance(compliance, ComplianceProcessor)
    head = -1
    while head != embedded.store.position():  # marking appends events of its own
        head = embedded.store.position()
        assert compliance.wait_until(head, 30) and embedded.wait(head)
    expected = projection_rows(embedded.views)
    embedded.stop()

    settings = kafka_settings(tmp_path, kafka_broker.bootstrap, views_url=f"sqlite:///{tmp_path}/kafka-views.sqlite")
    on_kafka = build(settings)
    on_kafka.start()
    try:
        assert on_kafka.catch_up(60)
        assert projection_rows(on_kafka.views) == expected
        assert all(expected.values()), "the scenario should fill every projection table"
    finally:
        on_kafka.stop()
