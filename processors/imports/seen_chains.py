"""The chains an import has written so far, in a few bits per row.

A job into a list that was empty when it started can only meet chains it wrote itself,
so instead of asking the event store about every row it remembers what it wrote. A
dict of client ids grew by 90 MB per million rows; this Bloom filter takes 2 bytes per
row the file could hold and answers "certainly new" or "maybe written": the maybes are
asked of the store, which has the exact answer. Chain ids are SHA-1 derived, so three
slices of the id serve as the filter's three independent hashes.
"""

from __future__ import annotations

# Rows are rarely shorter than this; a file of shorter rows only raises the false
# positive rate (more questions to the store), never gives a wrong answer.
SHORTEST_ROW_BYTES = 30
BITS_PER_ROW = 16
SMALLEST_BITS = 1 << 16
_SLICES = (0, 4, 8)


class SeenChains:
    def __init__(self, expected_rows: int):
        bits = max(SMALLEST_BITS, 1 << (expected_rows * BITS_PER_ROW - 1).bit_length())
        self._mask = bits - 1
        self._bits = bytearray(bits // 8)

    @classmethod
    def for_file(cls, size_bytes: int) -> SeenChains:
        return cls(size_bytes // SHORTEST_ROW_BYTES + 1)

    @property
    def size_bytes(self) -> int:
        return len(self._bits)

    def add(self, chain_id: bytes) -> None:
        bits, mask = self._bits, self._mask
        for start in _SLICES:
            n = int.from_bytes(chain_id[start : start + 4], "little") & mask
            bits[n >> 3] |= 1 << (n & 7)

    def may_hold(self, chain_id: bytes) -> bool:
        """False: this job has certainly not written the chain. True: it may have."""
        bits, mask = self._bits, self._mask
        for start in _SLICES:
            n = int.from_bytes(chain_id[start : start + 4], "little") & mask
            if not bits[n >> 3] & (1 << (n & 7)):
                return False
        return True
