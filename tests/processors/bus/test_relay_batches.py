"""The relay hands each read to Kafka as one batch per partition (``relay.PartitionBatches``);
a partition's batch that fills up is sent before the next one it starts. With batches of a
few records, one read makes many batches of each partition, and Kafka must still hold every
event once, on its partition, in log order there.
"""

from __future__ import annotations

import asyncio
import uuid
from itertools import groupby
from pathlib import Path

import pytest

from dialstream.store import EventStore, store_env
from processors.bus.kafka_cluster import KafkaConfig, create_topics
from processors.bus.relay import Relay, RelayProgress
from projections.sql import connect
from tests import kafka
from tests.kafka_support import append_events, check_topics_hold_the_log, list_events, read_event_topics

LISTS, CHANGES = 300, 9  # 3,000 events of six partitions of the lists topic: one read of 5,000


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_read_of_many_small_batches_reaches_kafka_whole_and_in_log_order(
    tmp_path: Path, kafka_broker: kafka.Broker
) -> None:
    store = EventStore(store_env(f"sqlite:///{tmp_path / 'events.sqlite'}"))
    views = connect(f"sqlite:///{tmp_path / 'views.sqlite'}")
    config = KafkaConfig(kafka_broker.bootstrap, prefix=f"t{uuid.uuid4().hex[:8]}.")
    try:
        asyncio.run(create_topics(config))
        head = append_events(store, list_events(uuid.uuid4(), LISTS, CHANGES))
        # About two records fill a batch of 1 KiB: each partition gets hundreds of them.
        relay = Relay(store, RelayProgress(views), config, producer_options={"max_batch_size": 1024})
        asyncio.run(relay.run_until(head))
        assert relay.published == head

        records = read_event_topics(config)
        assert len(records) == head
        assert check_topics_hold_the_log(store, records) == 0
        in_kafka_order = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
        for where, on_partition in groupby(in_kafka_order, key=lambda r: (r.topic, r.partition)):
            positions = [r.position for r in on_partition]
            assert positions == sorted(positions), f"{where}: events out of log order"
    finally:
        views.close()
        store.close()
