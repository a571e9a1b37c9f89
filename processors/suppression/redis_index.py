"""The suppression index in Redis (redis-py): shared by every process of a production deployment.

Key layout, under a prefix (default ``dialstream:suppression:``)::

    {prefix}meta            hash   layout -> "dialstream-suppression/1 buckets=N"
                                   position -> the log position the index reached
    {prefix}removing        set    ids (16 bytes) of lists that remove_list is sweeping
    {prefix}b:{hex bucket}  hash   term + list id (16 bytes) -> record        (N buckets)

A *term* is one byte for channel and kind plus the value (or a 16-byte digest of values over
40 bytes), a *record* the entry id (16 bytes) and expiry (4 bytes); see
:mod:`processors.suppression.index`. A term's bucket is CRC-32(term) mod N, so every entry of
one value — whatever its list — is in one small hash, and a lookup of a value in k lists is
one ``HMGET`` of k fields. With N = 2^18 buckets, 10,000,000 entries make hashes of ~40
fields, which Redis keeps as compact listpacks as long as a hash has at most
``hash-max-listpack-entries`` fields (Redis's default 128 is enough up to ~20,000,000
entries; ``compose/redis.sh`` sets 256, enough for ~50,000,000) of at most
``hash-max-listpack-value`` bytes (default 64; a field is at most 58). Measured with
``compose/redis.sh``: 82 bytes of ``used_memory`` per entry at 1,000,000 entries, 67 at
10,000,000; past the listpack limits a hash becomes a hash table at several times the memory.

Every operation is one round trip or a few: :meth:`lookup` is one script that checks the
layout, reads ``SMEMBERS removing`` and does one ``HMGET`` per query; writes are Lua scripts of up to
``write_batch`` entries each that first check the layout, so nothing is written into an
index that is not built. :meth:`remove_list` marks the list as being removed (lookups ignore
it from then on), sweeps every bucket in scripts that look at about ``sweep_fields`` fields
each, then unmarks it: it costs time in proportion to the whole index (seconds at 10,000,000
entries), in steps of a few milliseconds, so lookups are never held up long.

Lookups use their own connections with a short socket timeout (default 50 ms) and one
immediate retry on a broken connection (a restarted server), writes use connections with a
longer timeout. Whatever goes wrong — refused, reset, timed out, an error or garbage for an
answer, a missing or different layout — surfaces as :class:`IndexUnavailable`; redis-py
reconnects on the next call, so the index recovers by itself when Redis is back.

Standalone Redis (or Sentinel-managed) only: the scripts touch keys of many hash slots.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from processors.suppression.index import (
    RECORD_SIZE,
    IndexUnavailable,
    Matches,
    SuppressionEntry,
    SuppressionKey,
    SuppressionQuery,
    check_position,
    decode_record,
    encode_record,
    encode_term,
    term_hash,
)

DEFAULT_PREFIX = "dialstream:suppression:"
DEFAULT_BUCKETS = 1 << 18
LAYOUT_NAME = "dialstream-suppression/1"

T = TypeVar("T")

# KEYS[1] meta; ARGV[1] layout. Returns {1, n} when done, {0, stored layout or ""} otherwise.
_LAYOUT_CHECK = """
local layout = redis.call('HGET', KEYS[1], 'layout')
if layout ~= ARGV[1] then return {0, layout or ''} end
"""

# KEYS[1] meta, KEYS[2] removing, KEYS[3..] the bucket of each query; ARGV[1] layout, ARGV[2]
# k (fields per query), ARGV[3..] k fields per query. Returns {1, lists being removed, the
# records of every query's fields in order (nil where absent)}, or the layout check's {0, ...}.
_LOOKUP = _LAYOUT_CHECK + """
local removing = redis.call('SMEMBERS', KEYS[2])
local k = tonumber(ARGV[2])
local records, n = {}, 0
for i = 3, #KEYS do
  local first = 3 + (i - 3) * k
  local found = redis.call('HMGET', KEYS[i], unpack(ARGV, first, first + k - 1))
  for j = 1, k do
    n = n + 1
    records[n] = found[j]
  end
end
return {1, removing, records}
"""

# KEYS[2..]: buckets; ARGV[2..]: per bucket, its fields and records in one string: for each,
# the field's length (1 byte), the field and the record (20 bytes).
_ADD = _LAYOUT_CHECK + """
for k = 2, #KEYS do
  local blob = ARGV[k]
  local at = 1
  while at <= #blob do
    local n = string.byte(blob, at)
    redis.call('HSET', KEYS[k], string.sub(blob, at + 1, at + n), string.sub(blob, at + n + 1, at + n + 20))
    at = at + n + 21
  end
end
return {1, #KEYS - 1}
"""

# KEYS[2..]: buckets; ARGV[2..]: per bucket, its fields in one string: for each, the field's
# length (1 byte) and the field.
_REMOVE = _LAYOUT_CHECK + """
for k = 2, #KEYS do
  local blob = ARGV[k]
  local at = 1
  while at <= #blob do
    local n = string.byte(blob, at)
    redis.call('HDEL', KEYS[k], string.sub(blob, at + 1, at + n))
    at = at + n + 1
  end
end
return {1, #KEYS - 1}
"""

# KEYS[2]: the removing set; ARGV[2]: list id; ARGV[3]: 1 to mark, 0 to unmark.
_MARK = _LAYOUT_CHECK + """
if ARGV[3] == '1' then redis.call('SADD', KEYS[2], ARGV[2]) else redis.call('SREM', KEYS[2], ARGV[2]) end
return {1, 0}
"""

# KEYS[2..]: buckets; ARGV[2]: list id. Removes the fields that end with the list id;
# returns how many fields it looked at.
_SWEEP = _LAYOUT_CHECK + """
local list = ARGV[2]
local scanned = 0
for k = 2, #KEYS do
  local fields = redis.call('HKEYS', KEYS[k])
  scanned = scanned + #fields
  for i = 1, #fields do
    if string.sub(fields[i], -16) == list then
      redis.call('HDEL', KEYS[k], fields[i])
    end
  end
end
return {1, scanned}
"""

# ARGV[2]: position.
_SET_POSITION = _LAYOUT_CHECK + """
redis.call('HSET', KEYS[1], 'position', ARGV[2])
return {1, 0}
"""


def _cause(error: BaseException) -> str:
    """The operating system's words for a failed connection ("connection refused"), which
    redis-py wraps in "Error 111 connecting to HOST:PORT. Connection refused."; else its message."""
    seen = error.__cause__ or error.__context__
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror[:1].lower() + seen.strerror[1:]
        seen = seen.__cause__ or seen.__context__
    return str(error)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class RedisSuppressionIndex:
    """The suppression index in the Redis at ``url`` (``redis://host:port/db``)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        buckets: int = DEFAULT_BUCKETS,
        lookup_timeout: float = 0.05,
        write_timeout: float = 5.0,
        connect_timeout: float = 1.0,
        write_batch: int = 1_000,
        sweep_fields: int = 2_000,
    ):
        if buckets < 1:
            raise ValueError(f"buckets: {buckets} is not a positive number")
        parts = urlsplit(url)
        self.url, self.prefix = url, prefix
        self.address = f"{parts.hostname}:{parts.port or 6379}"
        self.buckets = buckets
        self.lookup_timeout = lookup_timeout
        self.write_timeout = write_timeout
        self.write_batch = write_batch
        self.sweep_fields = sweep_fields
        self.layout = f"{LAYOUT_NAME} buckets={buckets}".encode()
        self._prefix = prefix.encode()
        self._meta = self._prefix + b"meta"
        self._removing = self._prefix + b"removing"
        # One immediate retry on a broken connection (a server that restarted since the
        # connection was opened); none on a timeout, which has already used the time.
        self._reader = redis.Redis(connection_pool=redis.ConnectionPool.from_url(
            url,
            socket_timeout=lookup_timeout,
            socket_connect_timeout=lookup_timeout,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        ))
        self._writer = redis.Redis(connection_pool=redis.ConnectionPool.from_url(
            url,
            socket_timeout=write_timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        ))
        self._add = self._writer.register_script(_ADD)
        self._remove = self._writer.register_script(_REMOVE)
        self._mark = self._writer.register_script(_MARK)
        self._sweep = self._writer.register_script(_SWEEP)
        self._set_position = self._writer.register_script(_SET_POSITION)
        self._lookup = self._reader.register_script(_LOOKUP)

    def bucket_key(self, term: bytes) -> bytes:
        return b"%sb:%x" % (self._prefix, term_hash(term) % self.buckets)

    # -- errors ---------------------------------------------------------------------------

    def _unavailable(self, error: BaseException, timeout: float) -> IndexUnavailable:
        where = f"the suppression index in Redis at {self.address}"
        if isinstance(error, RedisTimeoutError):
            reason = f"{where} did not answer within {timeout * 1000:.0f} ms"
        elif isinstance(error, RedisConnectionError):
            reason = f"{where} is unreachable: {_cause(error)}"
        elif isinstance(error, ResponseError):
            reason = f"{where} answered with an error: {error}"
        else:
            reason = f"{where} failed: {type(error).__name__}: {error}"
        return IndexUnavailable(reason)

    def _garbage(self, what: str) -> IndexUnavailable:
        return IndexUnavailable(f"Redis at {self.address} answered {what}, not a suppression index")

    def _layout_problem(self, stored: object) -> IndexUnavailable:
        if stored in (None, b""):
            return IndexUnavailable(
                f"the suppression index under {self._prefix.decode()!r} in Redis at {self.address} is "
                f"not built (never cleared, or Redis lost its data); rebuild it from the log"
            )
        if isinstance(stored, bytes):
            return IndexUnavailable(
                f"the suppression index under {self._prefix.decode()!r} in Redis at {self.address} has "
                f"layout {stored.decode(errors='replace')!r}, not {self.layout.decode()!r}; rebuild it"
            )
        return self._garbage(f"{stored!r} for the layout")

    def _run(self, script: Any, keys: list[bytes], args: list[bytes | int | str]) -> int:
        """Run a write script that starts with the layout check; return its count."""
        try:
            result = script(keys=[self._meta, *keys], args=[self.layout, *args], client=self._writer)
        except (RedisError, OSError) as error:
            raise self._unavailable(error, self.write_timeout) from error
        if not (isinstance(result, list) and len(result) == 2):
            raise self._garbage(f"{result!r} to a script")
        ok, value = result
        if ok != 1:
            raise self._layout_problem(value)
        if not isinstance(value, int):
            raise self._garbage(f"{value!r} to a script")
        return value

    # -- writes ---------------------------------------------------------------------------

    def add(self, entries: Iterable[SuppressionEntry]) -> None:
        for chunk in _chunks(entries, self.write_batch):
            by_bucket: dict[bytes, dict[bytes, bytes]] = {}
            for entry in chunk:
                term = encode_term(entry.channel, entry.kind, entry.value)
                by_bucket.setdefault(self.bucket_key(term), {})[term + entry.list_id.bytes] = (
                    encode_record(entry.entry_id, entry.expires_at)
                )
            self._run(self._add, list(by_bucket), [
                b"".join(b"%c%s%s" % (len(field), field, record) for field, record in fields.items())
                for fields in by_bucket.values()
            ])

    def remove(self, keys: Iterable[SuppressionKey]) -> None:
        for chunk in _chunks(keys, self.write_batch):
            by_bucket: dict[bytes, set[bytes]] = {}
            for key in chunk:
                term = encode_term(key.channel, key.kind, key.value)
                by_bucket.setdefault(self.bucket_key(term), set()).add(term + key.list_id.bytes)
            self._run(self._remove, list(by_bucket), [
                b"".join(b"%c%s" % (len(field), field) for field in fields) for fields in by_bucket.values()
            ])

    def _bucket_keys(self, start: int, end: int) -> Iterator[bytes]:
        return (b"%sb:%x" % (self._prefix, bucket) for bucket in range(start, end))

    def remove_list(self, list_id: UUID) -> None:
        self._run(self._mark, [self._removing], [list_id.bytes, 1])
        # Steps of about ``sweep_fields`` fields each (a few milliseconds of Redis's time):
        # the number of buckets per step follows how full the last ones were.
        start, size = 0, 256
        while start < self.buckets:
            end = min(start + size, self.buckets)
            scanned = self._run(self._sweep, list(self._bucket_keys(start, end)), [list_id.bytes])
            start = end
            size = max(1, min(4096, size * self.sweep_fields // max(scanned, 1)))
        self._run(self._mark, [self._removing], [list_id.bytes, 0])

    def clear(self) -> None:
        try:
            stored = self._writer.hget(self._meta, "layout")
            buckets = self.buckets
            if isinstance(stored, bytes) and stored.startswith(LAYOUT_NAME.encode() + b" buckets="):
                old = stored.rpartition(b"=")[2]
                if old.isdigit():
                    buckets = max(buckets, int(old))
            # Without its meta key the index is "not built": lookups fail from here on.
            self._writer.delete(self._meta)
            for chunk in _chunks(self._bucket_keys(0, buckets), 64 * 1024):
                with self._writer.pipeline(transaction=False) as pipe:
                    for keys in _chunks(chunk, 1024):
                        pipe.unlink(*keys)
                    pipe.execute()
            self._writer.unlink(self._removing)
            self._writer.hset(self._meta, mapping={"layout": self.layout, "position": 0})
        except (RedisError, OSError) as error:
            raise self._unavailable(error, self.write_timeout) from error

    def set_position(self, position: int) -> None:
        self._run(self._set_position, [], [check_position(position)])

    def position(self) -> int | None:
        try:
            layout, position = self._writer.hmget(self._meta, ["layout", "position"])
        except (RedisError, OSError) as error:
            raise self._unavailable(error, self.write_timeout) from error
        if layout is None:
            return None
        if layout != self.layout:
            raise self._layout_problem(layout)
        if not isinstance(position, bytes) or not position.isdigit():
            raise self._garbage(f"{position!r} for the position")
        return int(position)

    # -- lookups --------------------------------------------------------------------------

    def lookup(self, queries: Sequence[SuppressionQuery], list_ids: Collection[UUID]) -> Matches:
        if not queries or not list_ids:
            return [[] for _ in queries]
        lists = sorted(set(list_ids))
        suffixes = [list_id.bytes for list_id in lists]
        keys: list[bytes] = [self._meta, self._removing]
        fields: list[bytes | int | str] = [self.layout, len(lists)]
        for query in queries:
            term = encode_term(query.channel, query.kind, query.value)
            keys.append(self.bucket_key(term))
            fields.extend(term + suffix for suffix in suffixes)
        # One script, not a pipeline of an HMGET per query: redis-py's cost of packing and
        # parsing each command was most of a batch's time in Python.
        try:
            answer = self._lookup(keys=keys, args=fields, client=self._reader)
        except (RedisError, OSError) as error:
            raise self._unavailable(error, self.lookup_timeout) from error
        if not (isinstance(answer, list) and len(answer) in (2, 3)):
            raise self._garbage(f"{answer!r} to the lookup script")
        if answer[0] != 1:
            raise self._layout_problem(answer[1])
        _, removing, records = answer
        if not isinstance(removing, list) or not isinstance(records, list):
            raise self._garbage(f"{answer!r} to the lookup script")
        if len(records) != len(queries) * len(lists):
            raise self._garbage(f"{len(records)} records for {len(queries)} queries in {len(lists)} lists")
        removed = set(removing)
        results: Matches = []
        for at, query in enumerate(queries):
            matches: list[SuppressionEntry] = []
            for offset, list_id in enumerate(lists):
                record = records[at * len(lists) + offset]
                if record is None or list_id.bytes in removed:
                    continue
                if not isinstance(record, bytes) or len(record) != RECORD_SIZE:
                    raise self._garbage(f"{record!r} for an entry")
                entry_id, expires_at = decode_record(record)
                matches.append(SuppressionEntry(
                    list_id, query.channel, query.kind, query.value, entry_id, expires_at,
                ))
            results.append(matches)
        return results

    def patient(self, lookup_timeout: float) -> RedisSuppressionIndex:
        """The same index, with connections of its own whose lookups wait ``lookup_timeout``:
        for a processor that looks up whole batches in the background, where the pre-dial gate
        at dial time wants an answer in 50 ms or none."""
        return RedisSuppressionIndex(
            self.url,
            prefix=self.prefix,
            buckets=self.buckets,
            lookup_timeout=lookup_timeout,
            write_timeout=self.write_timeout,
            write_batch=self.write_batch,
            sweep_fields=self.sweep_fields,
        )

    def close(self) -> None:
        self._reader.close()
        self._writer.close()
        self._reader.connection_pool.disconnect()
        self._writer.connection_pool.disconnect()
