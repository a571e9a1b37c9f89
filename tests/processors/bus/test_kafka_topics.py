"""`dialstream topics create` on a real broker: the catalogue's topics with their partitions
and retention, one line per topic, idempotent; and a clear refusal without a Kafka bus."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from dialstream.cli import main
from schemas.topics import CATALOGUE, DAY_MS, DEAD_LETTER, FOREVER, kafka_name
from tests.kafka import Broker

# DescribeConfigs' config_source: set on the topic itself, not inherited from the broker.
DYNAMIC_TOPIC_CONFIG = 1


@pytest.fixture
def prefix(monkeypatch: pytest.MonkeyPatch) -> str:
    value = f"t{uuid.uuid4().hex[:10]}."
    monkeypatch.setenv("DIALSTREAM_TOPIC_PREFIX", value)
    monkeypatch.delenv("DIALSTREAM_BUS", raising=False)
    return value


def create(bootstrap: str, data_dir: Path) -> int:
    return main(["topics", "create", "--bus", f"kafka://{bootstrap}", "--data-dir", str(data_dir)])


async def describe(bootstrap: str, prefix: str) -> dict[str, dict[str, Any]]:
    """Every topic under ``prefix``: its partitions and its topic-level configuration."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-topics")
    await admin.start()
    try:
        names = sorted(t for t in await admin.list_topics() if t.startswith(prefix))
        if not names:
            return {}
        described = await admin.describe_topics(names)
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
        topics: dict[str, dict[str, Any]] = {}
        for topic in described:
            assert topic["error_code"] == 0, topic
            topics[topic["topic"]] = {"partitions": sorted(p["partition"] for p in topic["partitions"])}
        for response in responses:
            for resource in response.to_object()["resources"]:
                assert resource["error_code"] == 0, resource
                topics[resource["resource_name"]]["configs"] = {
                    entry["config_names"]: (entry["config_value"], entry["config_source"])
                    for entry in resource["config_entries"]
                }
        return topics
    finally:
        await admin.close()


def printed_lines(capsys: pytest.CaptureFixture[str]) -> dict[str, list[str]]:
    lines = capsys.readouterr().out.splitlines()
    by_topic = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert len(by_topic) == len(lines), lines
    return by_topic


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_topics_create_makes_the_catalogue_and_a_second_run_changes_nothing(
    kafka_broker: Broker, prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert create(kafka_broker.bootstrap, tmp_path) == 0
    lines = printed_lines(capsys)
    assert list(lines) == [kafka_name(spec.name, prefix) for spec in CATALOGUE]
    # And the store's and read models' tables, for services that start together.
    assert (tmp_path / "events.sqlite").exists() and (tmp_path / "views.sqlite").exists()
    for spec in CATALOGUE:
        fields = lines[kafka_name(spec.name, prefix)]
        assert fields[1] == f"{spec.partitions} partitions"
        assert fields[2] == ("retention forever" if spec.retention_ms == FOREVER else "retention 30 days")
        assert fields[3] == f"key: {spec.key}"
        assert fields[4] == "created"

    topics = asyncio.run(describe(kafka_broker.bootstrap, prefix))
    assert set(topics) == {kafka_name(spec.name, prefix) for spec in CATALOGUE}
    for spec in CATALOGUE:
        topic = topics[kafka_name(spec.name, prefix)]
        assert topic["partitions"] == list(range(spec.partitions)), spec.name
        configs = topic["configs"]
        assert configs["retention.ms"] == (str(spec.retention_ms), DYNAMIC_TOPIC_CONFIG), spec.name
        assert configs["cleanup.policy"] == (spec.cleanup_policy, DYNAMIC_TOPIC_CONFIG), spec.name
    # The contract's numbers, as the design states them: event topics forever, dead letters 30 days.
    dead_letter = topics[kafka_name(DEAD_LETTER, prefix)]["configs"]
    assert dead_letter["retention.ms"][0] == str(30 * DAY_MS)
    assert topics[kafka_name("records", prefix)]["configs"]["retention.ms"][0] == "-1"

    assert create(kafka_broker.bootstrap, tmp_path) == 0
    again = printed_lines(capsys)
    assert list(again) == list(lines)
    assert {fields[4] for fields in again.values()} == {"exists"}
    assert [fields[:4] for fields in again.values()] == [fields[:4] for fields in lines.values()]
    assert asyncio.run(describe(kafka_broker.bootstrap, prefix)) == topics


async def _precreate(bootstrap: str, topic: NewTopic) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-topics")
    await admin.start()
    try:
        await admin.create_topics([topic])
        for _ in range(100):  # until the broker's metadata lists it
            if topic.name in await admin.list_topics():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{topic.name} was not created")
    finally:
        await admin.close()


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_topics_create_only_adds_what_is_missing(
    kafka_broker: Broker, prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator's own topic of the same name is left exactly as it is."""
    mine = kafka_name("settings", prefix)
    own = NewTopic(mine, 2, 1, topic_configs={"retention.ms": str(DAY_MS)})
    asyncio.run(_precreate(kafka_broker.bootstrap, own))
    before = asyncio.run(describe(kafka_broker.bootstrap, prefix))[mine]

    assert create(kafka_broker.bootstrap, tmp_path) == 0
    lines = printed_lines(capsys)
    assert lines[mine][4] == "exists with 2 partitions on the cluster"  # the catalogue says 1
    assert {fields[4] for name, fields in lines.items() if name != mine} == {"created"}
    topics = asyncio.run(describe(kafka_broker.bootstrap, prefix))
    assert topics[mine] == before
    assert topics[mine]["partitions"] == [0, 1]
    assert len(topics) == len(CATALOGUE)


@pytest.mark.parametrize("bus", [None, "embedded"])
@pytest.mark.parametrize("command", [["topics", "create"], ["relay"], ["worker", "catalogue"]])
def test_kafka_commands_refuse_clearly_without_a_kafka_bus(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str], bus: str | None
) -> None:
    monkeypatch.delenv("DIALSTREAM_BUS", raising=False)
    argv = [*command, "--data-dir", str(tmp_path)] + (["--bus", bus] if bus else [])
    with pytest.raises(SystemExit) as refused:
        main(argv)
    message = str(refused.value.code)
    assert f"dialstream {command[0]}: needs the Kafka bus" in message
    assert "DIALSTREAM_BUS=kafka://host:port" in message
    assert "'embedded'" in message
    assert not any(tmp_path.iterdir()), "a refused command must not create anything"


def test_the_bus_flag_overrides_a_kafka_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIALSTREAM_BUS", "kafka://127.0.0.1:9")
    with pytest.raises(SystemExit, match="needs the Kafka bus"):
        main(["topics", "create", "--bus", "embedded", "--data-dir", str(tmp_path)])
