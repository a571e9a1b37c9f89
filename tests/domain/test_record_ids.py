"""Chain and record ids: a chain's from (list, client id) as uuid5, a record's from (chain, position)."""

from __future__ import annotations

import uuid

import pytest

from domain.record_chain import MAX_CHAIN_LENGTH, chain_candidates, chain_id, name_based_id, record_id

NAMES = ["", "client:C00000001", "client:Müller-Ø", "record:1", "client:" + "x" * 500, "client:日本語", "a\x00b"]


@pytest.mark.parametrize("name", NAMES)
def test_name_based_id_is_uuid5(name: str) -> None:
    for namespace in (uuid.NAMESPACE_URL, uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1), uuid.uuid4()):
        derived = name_based_id(namespace, name)
        assert derived == uuid.uuid5(namespace, name)
        assert derived.version == 5
        assert derived.variant == uuid.RFC_4122


def test_chain_and_record_ids_are_stable_and_distinct() -> None:
    list_id = uuid.UUID("ea32dc60-c000-4f04-8306-d8cdac2b71d4")
    chain = chain_id(list_id, "C1")
    assert chain == uuid.uuid5(list_id, "client:C1")
    assert chain != chain_id(list_id, "C2")
    assert chain != chain_id(uuid.uuid4(), "C1")
    assert record_id(chain, 1) != record_id(chain, 2)
    assert record_id(chain, 1) != chain
    assert record_id(chain, 1).version == 5 and record_id(chain, 1).variant == uuid.RFC_4122


def test_a_record_id_leads_back_to_its_chain_and_position() -> None:
    chain = chain_id(uuid.uuid4(), "C1")
    for n in (1, 2, MAX_CHAIN_LENGTH):
        candidates = chain_candidates(record_id(chain, n))
        assert candidates[chain] == n
        assert len(candidates) == MAX_CHAIN_LENGTH


def test_positions_outside_a_chain_are_refused() -> None:
    chain = chain_id(uuid.uuid4(), "C1")
    for n in (0, MAX_CHAIN_LENGTH + 1):
        with pytest.raises(ValueError):
            record_id(chain, n)
