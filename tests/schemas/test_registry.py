"""Encoding and decoding: round trips, errors that name type, version and field, upcasters."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from schemas import registry
from schemas.base import Event
from schemas.profiles import ProfileReleased
from schemas.registry import EventDecodeError, UnknownEventType
from tests.schemas.samples import sample


def payload_of(tag: str, **changes: Any) -> dict[str, Any]:
    """The sample of ``tag`` as a JSON object, with ``changes`` applied at dotted paths."""
    data = json.loads(registry.encode(sample(registry.BY_TAG[tag])))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is DROP:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return data


DROP = object()


def raw(data: Any) -> bytes:
    return json.dumps(data).encode()


# Round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", registry.ALL_EVENTS, ids=lambda cls: cls.tag())
def test_every_event_round_trips_by_tag_and_self_describing(cls):
    event = sample(cls)
    payload = registry.encode(event)

    assert registry.decode(cls.tag(), cls.SCHEMA_VERSION, payload) == event
    assert registry.decode_any(payload) == event
    assert json.loads(payload)["type"] == cls.tag()


def test_tags_are_unique_and_name_their_aggregate():
    tags = [cls.tag() for cls in registry.ALL_EVENTS]

    assert len(tags) == len(set(tags)) == len(registry.BY_TAG)
    assert all(tag.count(".") == 1 and tag == tag.lower() for tag in tags)


def test_a_payload_without_its_type_field_decodes_by_its_known_tag():
    data = payload_of("profile.released")
    del data["type"]

    assert registry.decode("profile.released", 1, raw(data)) == sample(ProfileReleased)


# Errors -------------------------------------------------------------------------------


def decode_error(tag: str, version: int, data: Any) -> EventDecodeError:
    with pytest.raises(EventDecodeError) as info:
        registry.decode(tag, version, data if isinstance(data, bytes) else raw(data))
    return info.value


def assert_names(error: EventDecodeError, tag: str, version: int | None, field: str | None) -> None:
    assert (error.event_type, error.version, error.field) == (tag, version, field)
    assert repr(tag) in str(error)
    assert f"v{version}" in str(error)
    if field:
        assert repr(field) in str(error)


@pytest.mark.parametrize(
    ("tag", "change", "field"),
    [
        ("account.opened", {"settings__pacing__max_attempts_per_minute__voice": "lots"}, "settings.pacing.max_attempts_per_minute.voice"),
        ("account.opened", {"settings__region__country_code": "USA"}, "settings.region.country_code"),
        ("account.opened", {"settings__general__account_name": ""}, "settings.general.account_name"),
        ("campaign_group.created", {"contact_list_ids__1": "not-a-uuid"}, "contact_list_ids[1]"),
        ("dialing_profile.created", {"settings__treatments__0__action": "call_forever"}, "settings.treatments[0].action"),
        ("contact_list.created", {"settings__time_zones__custom_time_zones__1__area_code": "60A"}, "settings.time_zones.custom_time_zones[1].area_code"),
        ("campaign_template.created", {"dialing_overrides__pacing__ring_timeout_seconds": 5}, "dialing_overrides.pacing.ring_timeout_seconds"),
        ("profile.released", {"originator_version": "three"}, "originator_version"),
        ("profile.released", {"timestamp": "yesterday"}, "timestamp"),
    ],
    ids=["nested-type", "nested-pattern", "nested-length", "list-item", "list-of-structs", "deep-list", "override", "base-field", "datetime"],
)
def test_a_wrong_value_names_its_field(tag, change, field):
    error = decode_error(tag, 1, payload_of(tag, **change))

    assert_names(error, tag, 1, field)


def test_an_unknown_nested_field_is_named():
    error = decode_error("account.opened", 1, payload_of("account.opened", settings__general__colour="blue"))

    assert_names(error, "account.opened", 1, "settings.general.colour")
    assert "colour" in error.reason


def test_a_missing_field_is_named():
    error = decode_error("profile.released", 1, payload_of("profile.released", by_id=DROP))

    assert_names(error, "profile.released", 1, "by_id")


def test_a_missing_nested_field_is_named_by_its_full_path():
    data = payload_of("account.opened", settings__general__account_name=DROP)

    error = decode_error("account.opened", 1, data)

    assert_names(error, "account.opened", 1, "settings.general.account_name")


def test_a_payload_of_another_type_is_refused_on_its_type_field():
    error = decode_error("campaign_group.started", 1, payload_of("campaign_group.paused"))

    assert_names(error, "campaign_group.started", 1, "type")


def test_an_unknown_tag_is_named():
    with pytest.raises(UnknownEventType) as info:
        registry.decode("record.teleported", 1, b"{}")

    assert_names(info.value, "record.teleported", 1, None)


def test_a_version_newer_than_this_build_is_refused_on_schema_version():
    error = decode_error("campaign_group.started", 2, payload_of("campaign_group.started", schema_version=2))

    assert_names(error, "campaign_group.started", 2, "schema_version")
    assert "v1" in error.reason


@pytest.mark.parametrize("version", [0, -1])
def test_a_version_older_than_any_known_one_is_a_decode_error(version):
    error = decode_error("campaign_group.started", version, payload_of("campaign_group.started"))

    assert (error.event_type, error.version) == ("campaign_group.started", version)


@pytest.mark.parametrize("payload", [b"", b"not json", b'{"type": "campaign_group.started",', b"\xff\xfe"])
def test_a_payload_that_is_not_json_is_a_decode_error(payload):
    error = decode_error("campaign_group.started", 1, payload)

    assert_names(error, "campaign_group.started", 1, None)


# Self-describing payloads -------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"", b"not json", b"{"])
def test_decode_any_of_not_json(payload):
    with pytest.raises(EventDecodeError) as info:
        registry.decode_any(payload)

    assert (info.value.event_type, info.value.version, info.value.field) == ("?", None, None)
    assert "not JSON" in info.value.reason


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"account.opened"', b"42"])
def test_decode_any_of_json_that_is_not_an_object(payload):
    with pytest.raises(EventDecodeError) as info:
        registry.decode_any(payload)

    assert info.value.event_type == "?"


def test_decode_any_of_an_unknown_tag_names_the_type_field():
    with pytest.raises(UnknownEventType) as info:
        registry.decode_any(raw({"type": "record.teleported", "schema_version": 3}))

    assert_names(info.value, "record.teleported", 3, "type")


def test_decode_any_without_a_type():
    data = payload_of("profile.released")
    del data["type"]

    with pytest.raises(UnknownEventType) as info:
        registry.decode_any(raw(data))

    assert (info.value.event_type, info.value.field) == ("?", "type")


def test_decode_any_names_a_wrong_nested_field():
    data = payload_of("contact_list.created", settings__retention__scope="forever")

    with pytest.raises(EventDecodeError) as info:
        registry.decode_any(raw(data))

    assert_names(info.value, "contact_list.created", 1, "settings.retention.scope")


def test_decode_any_names_a_missing_field():
    with pytest.raises(EventDecodeError) as info:
        registry.decode_any(raw(payload_of("contact_list.assigned", campaign_group_id=DROP)))

    assert_names(info.value, "contact_list.assigned", 1, "campaign_group_id")


def test_decode_any_refuses_a_future_version():
    with pytest.raises(EventDecodeError) as info:
        registry.decode_any(raw(payload_of("campaign_group.stopped", schema_version=7)))

    assert_names(info.value, "campaign_group.stopped", 7, "schema_version")


# Upcasters ----------------------------------------------------------------------------
#
# No event has a second version yet, so these tests pretend ProfileReleased is at v2 (or v3),
# where v1 called the template "template_id" and v2 named it "by_id". monkeypatch restores the
# class version and the upcaster registry after each test.

TAG = "profile.released"


@pytest.fixture
def fake_v2(monkeypatch):
    monkeypatch.setattr(registry, "UPCASTERS", {})
    monkeypatch.setattr(ProfileReleased, "SCHEMA_VERSION", 2)

    @registry.upcaster(TAG, 1)
    def template_id_became_by_id(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["by_id"] = data.pop("template_id")
        return data

    return template_id_became_by_id


def v1_payload(**changes: Any) -> dict[str, Any]:
    data = payload_of(TAG, **changes)
    data["template_id"] = data.pop("by_id")
    return data


def test_the_upcaster_decorator_registers_by_tag_and_version(fake_v2):
    assert {(TAG, 1): fake_v2} == registry.UPCASTERS


def test_a_v1_payload_decodes_through_its_upcaster(fake_v2):
    event = registry.decode(TAG, 1, raw(v1_payload()))

    expected = msgspec.structs.replace(sample(ProfileReleased), schema_version=2)
    assert event == expected


def test_a_self_describing_v1_payload_decodes_through_its_upcaster(fake_v2):
    event = registry.decode_any(raw(v1_payload()))

    assert (event.by_id, event.schema_version) == (sample(ProfileReleased).by_id, 2)


def test_a_self_describing_v1_payload_of_the_same_shape_is_still_upcast(monkeypatch):
    # A new version need not change the shape, only the meaning: here v2 counts
    # originator versions from 0, so v1 payloads must be shifted down by one.
    monkeypatch.setattr(registry, "UPCASTERS", {})
    monkeypatch.setattr(ProfileReleased, "SCHEMA_VERSION", 2)
    registry.upcaster(TAG, 1)(lambda data: {**data, "originator_version": data["originator_version"] - 1})
    payload = registry.encode(sample(ProfileReleased))

    by_tag = registry.decode(TAG, 1, payload)
    self_described = registry.decode_any(payload)

    assert (by_tag.originator_version, by_tag.schema_version) == (3, 2)
    assert self_described == by_tag


def test_a_current_version_payload_skips_the_upcasters(fake_v2):
    data = payload_of(TAG, schema_version=2)

    assert registry.decode(TAG, 2, raw(data)).schema_version == 2


def test_upcasters_run_one_version_at_a_time_in_order(fake_v2, monkeypatch):
    monkeypatch.setattr(ProfileReleased, "SCHEMA_VERSION", 3)
    steps = []

    @registry.upcaster(TAG, 2)
    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        steps.append(("v2->v3", sorted(data)))
        return data

    registry.UPCASTERS[(TAG, 1)] = lambda data: steps.append("v1->v2") or fake_v2(data)

    from_v1 = registry.decode(TAG, 1, raw(v1_payload()))
    from_v2 = registry.decode(TAG, 2, raw(payload_of(TAG, schema_version=2)))

    assert steps[0] == "v1->v2"
    assert steps[1][0] == "v2->v3" and "by_id" in steps[1][1] and "template_id" not in steps[1][1]
    assert steps[2][0] == "v2->v3" and len(steps) == 3
    assert from_v1.schema_version == from_v2.schema_version == 3
    assert from_v1 == from_v2


def test_an_upcast_payload_that_is_still_wrong_names_the_field(fake_v2):
    error = decode_error(TAG, 1, v1_payload(originator_version="three"))

    assert_names(error, TAG, 1, "originator_version")


def test_an_old_payload_that_is_not_json_is_a_decode_error(fake_v2):
    error = decode_error(TAG, 1, b"{not json")

    assert_names(error, TAG, 1, None)


def test_a_missing_upcaster_is_a_decode_error(monkeypatch):
    monkeypatch.setattr(registry, "UPCASTERS", {})
    monkeypatch.setattr(ProfileReleased, "SCHEMA_VERSION", 2)

    error = decode_error(TAG, 1, v1_payload())

    assert (error.event_type, error.version) == (TAG, 1)


def test_faking_a_version_leaves_nothing_behind():
    before = dict(registry.UPCASTERS)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "UPCASTERS", {})
        patch.setattr(ProfileReleased, "SCHEMA_VERSION", 2)
        registry.upcaster(TAG, 1)(lambda data: data)
        assert ProfileReleased.SCHEMA_VERSION == 2

    assert ProfileReleased.SCHEMA_VERSION == Event.SCHEMA_VERSION == 1
    assert "SCHEMA_VERSION" not in vars(ProfileReleased)
    assert before == registry.UPCASTERS
    assert registry.decode(TAG, 1, registry.encode(sample(ProfileReleased))) == sample(ProfileReleased)
