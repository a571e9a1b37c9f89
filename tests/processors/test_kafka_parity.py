"""Parity: the same log read over the embedded bus and over Kafka gives the same rows."""

from __future__ import annotations

from pathlib import Path

from dialstream.bootstrap import build
from dialstream.settings import Settings
from tests.kafka import Broker
from tests.kafka_support import kafka_settings, projection_rows
from tests.scenario import build_campaign_structure


def test_campaign_structure_projects_identically_embedded_and_on_kafka(
    tmp_path: Path, kafka_broker: Broker
) -> None:
    # One event store, written once, then projected into two read-model databases.
    embedded = build(Settings(data_dir=tmp_path))
    embedded.start()
    account_id = embedded.handlers.open_account("Parity").id
    embedded.handlers.issue_api_key(account_id, "ops", "supervisor")
    build_campaign_structure(embedded.handlers, account_id)
    assert embedded.wait(embedded.store.position())
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
