"""The suppression-index port: which suppression-list entries match a contact's phone numbers,
client id and e-mail addresses, for the lists a campaign must respect.

Adapters: :mod:`processors.suppression.redis_index` (production, shared by every process) and
:mod:`processors.suppression.embedded_index` (the one-process default). Both are projections of the
event log: they are rebuilt from it at any time, and keep the log position they reached in the
index itself (:meth:`SuppressionIndex.position`).

Contract, the same for both adapters (``tests/processors/suppression/test_suppression_index.py``):

* An entry is identified by its key (list, channel, kind, value); :meth:`~SuppressionIndex.add`
  of an existing key replaces its entry id and expiry, :meth:`~SuppressionIndex.remove` of a
  missing key does nothing. Every write is an overwrite, so replaying events that were already
  applied changes nothing, and a projection may record its position after its writes.
* An index exists from :meth:`~SuppressionIndex.clear` on. Before that — or after its Redis lost
  the data — :meth:`~SuppressionIndex.position` is ``None``, and lookups and writes raise
  :class:`IndexUnavailable`: an index that is not there never answers "not suppressed".
* :meth:`~SuppressionIndex.lookup` answers a whole batch at once and never guesses: it returns
  what the index holds, or raises :class:`IndexUnavailable` (fail closed: no answer, no call).
  Expiry is data: entries come back with ``expires_at`` whether or not it has passed; the
  caller decides with :meth:`SuppressionEntry.active_at`.

Values are compared exactly: phone numbers in E.164 (normalised by the caller), client ids as
given, e-mail addresses lower-cased (entries and queries are lower-cased here).
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, get_args
from uuid import UUID

from schemas.profiles import Channel

Kind = Literal["phone", "client_id", "email"]

CHANNELS: tuple[Channel, ...] = get_args(Channel)
KINDS: tuple[Kind, ...] = get_args(Kind)

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
MAX_EXPIRES_AT = 0xFFFF_FFFE  # 2106-02-07; 0xFFFF_FFFF encodes "permanent"


class IndexUnavailable(RuntimeError):
    """The index cannot answer now (down, too slow, garbled, or not built). ``reason`` says which.

    Callers fail closed: a contact whose suppression is unknown is not contacted."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _check_channel_kind(channel: str, kind: str) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"channel: {channel!r} is not one of {', '.join(CHANNELS)}")
    if kind not in KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")


def normalise_value(kind: str, value: str) -> str:
    """The value as the index stores it; ``ValueError`` names what is wrong with it."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"value: a {kind} value must be a non-empty string, not {value!r}")
    if "\x00" in value:
        raise ValueError(f"value: {value!r} contains a NUL character")
    if kind == "phone":
        if not E164.fullmatch(value):
            raise ValueError(f"value: {value!r} is not a phone number in E.164 (+ and 2 to 15 digits)")
        return value
    if kind == "email":
        lowered = value.lower()
        if "@" not in lowered or lowered != lowered.strip():
            raise ValueError(f"value: {value!r} is not an e-mail address")
        return lowered
    return value


@dataclass(frozen=True, slots=True)
class SuppressionQuery:
    """One thing to check: a phone number, client id or e-mail address on one channel."""

    channel: Channel
    kind: Kind
    value: str

    def __post_init__(self) -> None:
        _check_channel_kind(self.channel, self.kind)
        object.__setattr__(self, "value", normalise_value(self.kind, self.value))


@dataclass(frozen=True, slots=True)
class SuppressionKey:
    """What identifies an entry: one value of one kind on one channel in one list."""

    list_id: UUID
    channel: Channel
    kind: Kind
    value: str

    def __post_init__(self) -> None:
        _check_channel_kind(self.channel, self.kind)
        if not isinstance(self.list_id, UUID):
            raise ValueError(f"list_id: {self.list_id!r} is not a UUID")
        object.__setattr__(self, "value", normalise_value(self.kind, self.value))


@dataclass(frozen=True, slots=True)
class SuppressionEntry:
    """An entry of a suppression list; ``expires_at`` is UTC epoch seconds, ``None`` = permanent."""

    list_id: UUID
    channel: Channel
    kind: Kind
    value: str
    entry_id: UUID
    expires_at: int | None = None

    def __post_init__(self) -> None:
        _check_channel_kind(self.channel, self.kind)
        if not isinstance(self.list_id, UUID):
            raise ValueError(f"list_id: {self.list_id!r} is not a UUID")
        if not isinstance(self.entry_id, UUID):
            raise ValueError(f"entry_id: {self.entry_id!r} is not a UUID")
        if self.expires_at is not None and (
            not isinstance(self.expires_at, int)
            or isinstance(self.expires_at, bool)
            or not 0 <= self.expires_at <= MAX_EXPIRES_AT
        ):
            raise ValueError(
                f"expires_at: {self.expires_at!r} is not UTC epoch seconds between 0 and {MAX_EXPIRES_AT}"
            )
        object.__setattr__(self, "value", normalise_value(self.kind, self.value))

    @property
    def key(self) -> SuppressionKey:
        return SuppressionKey(self.list_id, self.channel, self.kind, self.value)

    def active_at(self, now: float) -> bool:
        """Whether the entry still suppresses at ``now`` (UTC epoch seconds)."""
        return self.expires_at is None or now < self.expires_at


Matches = list[list[SuppressionEntry]]


def check_position(position: int) -> int:
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise ValueError(f"position: {position!r} is not a log position (an integer from 0)")
    return position


class SuppressionIndex(Protocol):
    def add(self, entries: Iterable[SuppressionEntry]) -> None:
        """Add or replace entries (by key)."""
        ...

    def remove(self, keys: Iterable[SuppressionKey]) -> None:
        """Remove entries by key; missing keys are ignored."""
        ...

    def remove_list(self, list_id: UUID) -> None:
        """Remove every entry of a list."""
        ...

    def lookup(self, queries: Sequence[SuppressionQuery], list_ids: Collection[UUID]) -> Matches:
        """For each query, in order, the entries of the lists ``list_ids`` that match it
        (ordered by list id); raises :class:`IndexUnavailable` rather than answer partly.
        With no queries or no lists nothing can match, and the index is not asked."""
        ...

    def clear(self) -> None:
        """Remove everything and (re)create an empty index at position 0, for a rebuild."""
        ...

    def position(self) -> int | None:
        """The log position recorded with :meth:`set_position`; ``None`` if there is no index."""
        ...

    def set_position(self, position: int) -> None:
        """Record how far into the log the index is; :class:`IndexUnavailable` if there is no index."""
        ...

    def close(self) -> None: ...


# -- the compact encoding both adapters store -------------------------------------------
#
# term   = tag (1 byte: channel and kind) + value code
#          value code = the UTF-8 value when it is at most 40 bytes, else NUL + 16-byte BLAKE2b
#          of it (values never contain NUL), so that every term fits a Redis listpack entry
# record = entry id (16 bytes) + expires_at (4 bytes big-endian, 0xFFFFFFFF = permanent)

_TAGS: dict[tuple[str, str], bytes] = {
    (channel, kind): bytes([ord("a") + 3 * c + k])
    for c, channel in enumerate(CHANNELS)
    for k, kind in enumerate(KINDS)
}
_PERMANENT = 0xFFFF_FFFF
_EXPIRES = struct.Struct(">I")
MAX_RAW_VALUE = 40
RECORD_SIZE = 16 + _EXPIRES.size


def encode_term(channel: str, kind: str, value: str) -> bytes:
    raw = value.encode()
    if len(raw) > MAX_RAW_VALUE:
        raw = b"\x00" + hashlib.blake2b(raw, digest_size=16).digest()
    return _TAGS[channel, kind] + raw


def term_hash(term: bytes) -> int:
    """A stable 32-bit hash of a term (CRC-32), the same in every process."""
    return zlib.crc32(term)


def encode_record(entry_id: UUID, expires_at: int | None) -> bytes:
    return entry_id.bytes + _EXPIRES.pack(_PERMANENT if expires_at is None else expires_at)


def decode_record(record: bytes) -> tuple[UUID, int | None]:
    """Entry id and expiry of a record; ``ValueError`` if it is not one."""
    if len(record) != RECORD_SIZE:
        raise ValueError(f"a record is {RECORD_SIZE} bytes, not {len(record)}")
    (expires_at,) = _EXPIRES.unpack_from(record, 16)
    return UUID(bytes=record[:16]), None if expires_at == _PERMANENT else expires_at
