"""SeenChains: never forgets a chain; rarely claims one it was not given."""

from __future__ import annotations

import uuid

from processors.imports.seen_chains import BITS_PER_ROW, SMALLEST_BITS, SeenChains


def _ids(count: int, seed: int) -> list[bytes]:
    namespace = uuid.UUID(int=seed)
    return [uuid.uuid5(namespace, f"client:{n}").bytes for n in range(count)]


def test_every_added_chain_may_be_held() -> None:
    seen = SeenChains(50_000)
    added = _ids(50_000, 1)
    for chain in added:
        seen.add(chain)
    assert all(seen.may_hold(chain) for chain in added)


def test_chains_never_added_are_almost_always_certainly_new() -> None:
    seen = SeenChains(50_000)
    for chain in _ids(50_000, 1):
        seen.add(chain)
    others = _ids(50_000, 2)
    false_positives = sum(seen.may_hold(chain) for chain in others)
    # Three hashes over at least 16 bits per row: about 0.1% expected, 0.5% is a failure.
    assert false_positives < 250


def test_an_empty_filter_holds_nothing() -> None:
    seen = SeenChains(10)
    assert not any(seen.may_hold(chain) for chain in _ids(1000, 3))


def test_more_rows_than_expected_degrade_to_more_questions_not_wrong_answers() -> None:
    seen = SeenChains(1_000)  # the smallest filter, given 20 times its rows
    added = _ids(20 * SMALLEST_BITS // BITS_PER_ROW, 4)
    for chain in added:
        seen.add(chain)
    assert all(seen.may_hold(chain) for chain in added)


def test_size_follows_the_file() -> None:
    assert SeenChains.for_file(0).size_bytes == SMALLEST_BITS // 8
    # 110 MB file: up to ~3.7M rows of 30 bytes, 16 bits each -> 2^26 bits (8 MiB).
    assert SeenChains.for_file(110_000_000).size_bytes == 8 * 1024 * 1024
