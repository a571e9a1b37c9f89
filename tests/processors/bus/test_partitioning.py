"""The relay's partitioner is Kafka's default one: murmur2 of the key, as the Java client
computes it, so that any Kafka client finds an aggregate's events where the relay put them."""

from __future__ import annotations

import random
import uuid

import pytest
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from processors.bus.kafka_cluster import murmur2, partition_for


@pytest.mark.parametrize(
    ("key", "partition"),
    # The Java client's DefaultPartitioner over 1,000 partitions (kafka-python's test vectors).
    [(b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566), (b"\x00 ", 742)],
)
def test_the_java_clients_partitions(key: bytes, partition: int) -> None:
    partition_for.cache_clear()
    assert partition_for(key, 1000) == partition


def test_the_same_hash_as_aiokafka_for_keys_of_every_length() -> None:
    rng = random.Random(20261204)
    keys = [str(uuid.UUID(int=rng.getrandbits(128))).encode() for _ in range(20_000)]
    keys += [rng.randbytes(length) for length in range(300) for _ in range(20)]
    keys += [b"\xff" * length for length in range(300)]
    for key in keys:
        assert murmur2(key) & 0x7FFFFFFF == aiokafka_murmur2(key) & 0x7FFFFFFF, key
