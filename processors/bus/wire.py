"""How a stored event travels on Kafka, and how a consumer reads it back.

Key: the aggregate id. Value: the event's msgspec JSON, byte for byte as stored. Headers:
``type`` and ``schema_version`` (decode without sniffing the body), ``event_id``
(aggregate id and version, unique per event) and ``position`` (the event store's log
position, which consumers use to recognise a redelivered event).
"""

from __future__ import annotations

import functools
from typing import NamedTuple
from uuid import UUID

from eventsourcing.persistence import Notification

from dialstream.store import split_topic
from schemas import registry
from schemas.base import Event
from schemas.registry import EventDecodeError

Headers = list[tuple[str, bytes]]


class OutgoingRecord(NamedTuple):
    topic: str  # catalogue name, before any deployment prefix
    key: bytes
    value: bytes
    headers: Headers
    position: int


class Poison(Exception):
    """A record no consumer can turn into an event; it goes to the dead-letter topic.

    ``position`` is its log position when its headers had one (an event of a newer schema
    version, say), so that waiting readers know the partition has moved past it.
    """

    def __init__(self, reason: str, position: int | None = None):
        super().__init__(reason)
        self.position = position


def event_id(aggregate_id: UUID | str, version: int) -> str:
    return f"{aggregate_id}:{version}"


Route = tuple[str, tuple[str, bytes], tuple[str, bytes]]


@functools.lru_cache(maxsize=1024)
def route(stored_topic: str) -> Route:
    """(Kafka topic, type header, version header) of a stored topic ``<tag>/v<version>``."""
    tag, version = split_topic(stored_topic)
    cls = registry.BY_TAG.get(tag)
    if cls is None:
        raise EventDecodeError(tag, version, None, "unknown event type in the event store")
    return cls.TOPIC, ("type", tag.encode()), ("schema_version", str(version).encode())


def kafka_key(originator_id: str) -> bytes:
    """The record key of an aggregate: its id as ``str(UUID)`` spells it, from the id as the
    store holds it (32 hex digits in SQLite, dashed from PostgreSQL). Spelled here rather
    than by SQLite in the relay's read: five substrings joined per row cost it a microsecond
    an event, a tenth of the relay's whole cost."""
    if len(originator_id) == 32:
        h = originator_id.lower()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".encode()
    if len(originator_id) == 36:
        return originator_id.lower().encode()
    return str(UUID(originator_id)).encode()  # braces, a URN: as the library would parse it


def outgoing(notification: Notification) -> OutgoingRecord:
    """The Kafka record for a stored event, without decoding its body."""
    return outgoing_row(
        notification.id,
        str(notification.originator_id),
        notification.originator_version,
        notification.topic,
        notification.state,
    )


def outgoing_row(
    position: int, aggregate_id: str, version: int, stored_topic: str, state: bytes
) -> OutgoingRecord:
    """:func:`outgoing` of a row of :meth:`EventStore.read_outbox`: the same record, byte for byte."""
    topic, type_header, version_header = route(stored_topic)
    key = kafka_key(aggregate_id)
    return OutgoingRecord(
        topic, key, state, record_headers(type_header, version_header, key, version, position), position
    )


def record_headers(
    type_header: tuple[str, bytes], version_header: tuple[str, bytes], key: bytes, version: int, position: int
) -> Headers:
    """A record's headers, given its :func:`route`'s two constant ones (the relay builds its
    records from these parts, without an :class:`OutgoingRecord` per event)."""
    return [
        type_header,
        version_header,
        ("event_id", b"%b:%d" % (key, version)),
        ("position", b"%d" % position),
    ]


def header(headers: Headers | tuple[tuple[str, bytes], ...], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("utf-8", "replace")
    return None


def incoming(headers: Headers | tuple[tuple[str, bytes], ...], value: bytes | None) -> tuple[int, Event]:
    """(log position, event) of a consumed record, or :class:`Poison` saying why not."""
    tag = header(headers, "type")
    version = header(headers, "schema_version")
    position = header(headers, "position")
    if tag is None or version is None or position is None:
        raise Poison("missing header: a Dialstream record has type, schema_version and position")
    try:
        version_number, position_number = int(version), int(position)
    except ValueError:
        raise Poison(f"malformed header: schema_version={version!r} position={position!r}") from None
    if value is None:
        raise Poison("empty value", position_number)
    try:
        return position_number, registry.decode(tag, version_number, value)
    except EventDecodeError as error:
        raise Poison(str(error), position_number) from error
