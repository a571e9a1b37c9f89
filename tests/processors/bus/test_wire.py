"""The Kafka wire format: a stored event as a record and back, and what counts as poison."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import Notification

from dialstream.store import EventStore, store_env
from processors.bus.wire import Headers, Poison, event_id, header, incoming, kafka_key, outgoing
from schemas import registry, topics
from schemas.lists import ContactListChanged, ContactListCreated
from schemas.registry import EventDecodeError
from tests.kafka_support import append_events, list_events


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    event_store = EventStore(store_env(f"sqlite:///{tmp_path / 'events.sqlite'}"))
    try:
        yield event_store
    finally:
        event_store.close()


@pytest.fixture
def stored(store: EventStore) -> list[Notification]:
    """Two contact lists, each created and renamed once: four stored events."""
    append_events(store, list_events(uuid.uuid4(), lists=2, changes=1))
    notifications = list(store.read_stored(0, 100))
    assert len(notifications) == 4
    return notifications


def test_outgoing_names_topic_key_and_headers_and_keeps_the_stored_bytes(
    store: EventStore, stored: list[Notification]
) -> None:
    events = store.read(0, 100)
    for notification, (position, event) in zip(stored, events, strict=True):
        record = outgoing(notification)
        assert record.topic == type(event).TOPIC == topics.LISTS
        assert record.key == str(notification.originator_id).encode() == str(event.originator_id).encode()
        assert record.value == notification.state  # as stored: the relay never re-encodes
        assert record.value == registry.encode(event)
        assert record.position == notification.id == position
        assert dict(record.headers) == {
            "type": type(event).tag().encode(),
            "schema_version": str(type(event).SCHEMA_VERSION).encode(),
            "event_id": f"{event.originator_id}:{event.originator_version}".encode(),
            "position": str(position).encode(),
        }
        assert [name for name, _ in record.headers] == ["type", "schema_version", "event_id", "position"]
    created, changed = (outgoing(n) for n in stored[:2])
    assert header(created.headers, "type") == ContactListCreated.tag()
    assert header(changed.headers, "type") == ContactListChanged.tag()
    assert created.key == changed.key  # one aggregate: one key, one partition
    assert header(changed.headers, "event_id") == event_id(stored[1].originator_id, 2)


@pytest.mark.parametrize(
    "spelling",
    [
        lambda u: u.hex,
        lambda u: u.hex.upper(),
        str,
        lambda u: str(u).upper(),
        lambda u: f"{{{u}}}",
        lambda u: u.urn,
    ],
)
def test_the_key_is_the_id_as_str_uuid_spells_it_from_any_stored_spelling(spelling: object) -> None:
    for _ in range(200):
        aggregate_id = uuid.uuid4()
        assert kafka_key(spelling(aggregate_id)) == str(aggregate_id).encode()  # type: ignore[operator]


def test_incoming_round_trips_every_stored_event(store: EventStore, stored: list[Notification]) -> None:
    for notification, (position, event) in zip(stored, store.read(0, 100), strict=True):
        record = outgoing(notification)
        assert incoming(record.headers, record.value) == (position, event)
        # Consumers hand over headers as a tuple of pairs.
        assert incoming(tuple(record.headers), record.value) == (position, event)


def test_outgoing_refuses_an_unknown_stored_type(stored: list[Notification]) -> None:
    first = stored[0]
    strange = Notification(
        originator_id=first.originator_id,
        originator_version=first.originator_version,
        topic="contact_list.exploded/v1",
        state=first.state,
        id=first.id,
    )
    with pytest.raises(EventDecodeError, match=r"contact_list\.exploded"):
        outgoing(strange)


def replace(headers: Headers, name: str, value: bytes | None) -> Headers:
    """The headers with one changed (or dropped, for None)."""
    changed = [(k, v) for k, v in headers if k != name]
    if value is not None:
        changed.append((name, value))
    return changed


@pytest.mark.parametrize("missing", ["type", "schema_version", "position"])
def test_a_record_without_a_required_header_is_poison(stored: list[Notification], missing: str) -> None:
    record = outgoing(stored[0])
    with pytest.raises(Poison, match="missing header"):
        incoming(replace(record.headers, missing, None), record.value)


def test_a_record_without_any_header_is_poison(stored: list[Notification]) -> None:
    with pytest.raises(Poison, match="missing header"):
        incoming([], outgoing(stored[0]).value)


def test_event_id_is_informational_not_required(store: EventStore, stored: list[Notification]) -> None:
    record = outgoing(stored[0])
    assert incoming(replace(record.headers, "event_id", None), record.value) == store.read(0, 1)[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("schema_version", b"v1"),
        ("schema_version", b""),
        ("position", b"twelve"),
        ("position", b"1.5"),
        ("position", b"\xff\xfe"),
    ],
)
def test_a_non_numeric_version_or_position_is_poison(
    stored: list[Notification], name: str, value: bytes
) -> None:
    record = outgoing(stored[0])
    with pytest.raises(Poison, match="malformed header"):
        incoming(replace(record.headers, name, value), record.value)


@pytest.mark.parametrize(
    "value", [b"\x00\xffnot json", b"", b"{", b"[]", b'{"type": "contact_list.created"}']
)
def test_bytes_that_are_not_the_event_are_poison(stored: list[Notification], value: bytes) -> None:
    record = outgoing(stored[0])
    with pytest.raises(Poison, match=r"contact_list\.created"):
        incoming(record.headers, value)


def test_an_event_of_another_type_under_this_type_header_is_poison(stored: list[Notification]) -> None:
    """The headers decide the type: a changed body under a created header does not decode."""
    created, changed = outgoing(stored[0]), outgoing(stored[1])
    with pytest.raises(Poison):
        incoming(created.headers, changed.value)


def test_an_unknown_type_is_poison(stored: list[Notification]) -> None:
    record = outgoing(stored[0])
    with pytest.raises(Poison, match="unknown event type"):
        incoming(replace(record.headers, "type", b"contact_list.teleported"), record.value)


def test_a_schema_version_newer_than_this_build_is_poison(stored: list[Notification]) -> None:
    record = outgoing(stored[0])
    assert ContactListCreated.SCHEMA_VERSION < 99
    with pytest.raises(Poison, match="newer than this build understands"):
        incoming(replace(record.headers, "schema_version", b"99"), record.value)


def test_an_older_schema_version_without_upcaster_is_poison(stored: list[Notification]) -> None:
    record = outgoing(stored[0])
    assert (ContactListCreated.tag(), 0) not in registry.UPCASTERS
    with pytest.raises(Poison, match="no upcaster"):
        incoming(replace(record.headers, "schema_version", b"0"), record.value)


def test_a_record_without_value_is_poison(stored: list[Notification]) -> None:
    with pytest.raises(Poison, match="empty value"):
        incoming(outgoing(stored[0]).headers, None)


def test_poison_keeps_the_decode_error_as_its_cause(stored: list[Notification]) -> None:
    record = outgoing(stored[0])
    with pytest.raises(Poison) as caught:
        incoming(record.headers, b"\x00\xffnot json")
    assert isinstance(caught.value.__cause__, EventDecodeError)


def test_every_event_class_names_a_catalogue_topic() -> None:
    """outgoing() takes the topic from the class: it must be one that `topics create` makes."""
    event_topics = set(topics.ALL_TOPICS)
    orphans = {cls.tag(): cls.TOPIC for cls in registry.ALL_EVENTS if cls.TOPIC not in event_topics}
    assert not orphans
