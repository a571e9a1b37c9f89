"""Every event type of the contract, its encoders and decoders (built once), and upcasters.

Payloads are msgspec JSON. A stored or published event is identified by its tag and
schema version (``"campaign_group.started"`` v1); decoding an older version runs the
upcasters registered for that tag, one version step at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Union

import msgspec

from schemas import (
    agents,
    attempts,
    automation,
    campaigns,
    imports,
    list_rules,
    lists,
    profiles,
    records,
    settings,
    suppression,
)
from schemas.base import Event

ALL_EVENTS: tuple[type[Event], ...] = (
    *settings.EVENTS,
    *profiles.EVENTS,
    *campaigns.EVENTS,
    *lists.EVENTS,
    *imports.EVENTS,
    *records.EVENTS,
    *list_rules.EVENTS,
    *suppression.EVENTS,
    *attempts.EVENTS,
    *agents.EVENTS,
    *automation.EVENTS,
)
BY_TAG: dict[str, type[Event]] = {cls.tag(): cls for cls in ALL_EVENTS}
if len(BY_TAG) != len(ALL_EVENTS):  # pragma: no cover - guards the contract at import
    raise RuntimeError("two event classes share a tag")

AnyEvent = Union[ALL_EVENTS]  # type: ignore[valid-type]  # noqa: UP007

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# (tag, from_version) -> function turning a from_version payload into from_version + 1.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}

_encoder = msgspec.json.Encoder()
_union_decoder = msgspec.json.Decoder(AnyEvent)
_decoders: dict[str, msgspec.json.Decoder[Any]] = {
    tag: msgspec.json.Decoder(cls) for tag, cls in BY_TAG.items()
}
_raw_decoder = msgspec.json.Decoder(dict[str, Any])
_PATH = re.compile(r"at `\$\.?([^`]*)`")
_NAMED = re.compile(r"(?:unknown|required) field `([^`]+)`")


class EventDecodeError(ValueError):
    """An event payload that does not match its type and version."""

    def __init__(self, event_type: str, version: int | None, field: str | None, reason: str):
        self.event_type = event_type
        self.version = version
        self.field = field
        self.reason = reason
        where = f" field {field!r}" if field else ""
        super().__init__(f"cannot decode event {event_type!r} v{version}{where}: {reason}")


class UnknownEventType(EventDecodeError):
    pass


def upcaster(tag: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function that lifts a payload of ``tag`` by one schema version."""

    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(tag, from_version)] = fn
        return fn

    return register


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


def decode(tag: str, version: int, payload: bytes) -> Event:
    """Decode a payload whose tag and version are known (store and Kafka headers)."""
    cls = BY_TAG.get(tag)
    if cls is None:
        raise UnknownEventType(tag, version, None, "unknown event type")
    try:
        if version == cls.SCHEMA_VERSION:
            return _decoders[tag].decode(payload)
        if version > cls.SCHEMA_VERSION:
            raise EventDecodeError(
                tag,
                version,
                "schema_version",
                f"newer than this build understands (v{cls.SCHEMA_VERSION})",
            )
        data = _raw_decoder.decode(payload)
        for step in range(version, cls.SCHEMA_VERSION):
            lift = UPCASTERS.get((tag, step))
            if lift is None:
                raise EventDecodeError(
                    tag, version, "schema_version", f"no upcaster from v{step} to v{step + 1}"
                )
            data = lift(data)
        data["schema_version"] = cls.SCHEMA_VERSION
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as error:
        raise _decode_error(tag, version, error) from error
    except msgspec.DecodeError as error:
        raise EventDecodeError(tag, version, None, str(error)) from error


def decode_any(payload: bytes) -> Event:
    """Decode a self-describing payload (its ``type`` and ``schema_version`` fields)."""
    try:
        event: Event = _union_decoder.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        try:
            head = _raw_decoder.decode(payload)
        except msgspec.DecodeError:
            raise EventDecodeError("?", None, None, f"not JSON: {error}") from error
        tag = str(head.get("type", "?"))
        version = head.get("schema_version", 1)
        if tag in BY_TAG and isinstance(version, int) and version != BY_TAG[tag].SCHEMA_VERSION:
            return decode(tag, version, payload)
        if tag not in BY_TAG:
            raise UnknownEventType(tag, version, "type", "unknown event type") from error
        if isinstance(error, msgspec.ValidationError):
            raise _decode_error(tag, version, error) from error
        raise EventDecodeError(tag, version, None, str(error)) from error
    if event.schema_version != type(event).SCHEMA_VERSION:
        # Today's shape but another version: upcast (or refuse) as the version says.
        return decode(event.tag(), event.schema_version, payload)
    return event


def field_path(error: msgspec.ValidationError) -> str | None:
    """The dotted path of the field msgspec complains about (``settings.general.account_name``)."""
    message = str(error)
    path = _PATH.search(message)
    named = _NAMED.search(message)
    parts = [p for p in (path.group(1) if path else "", named.group(1) if named else "") if p]
    return ".".join(parts).replace(".[", "[") or None


def _decode_error(tag: str, version: int | None, error: msgspec.ValidationError) -> EventDecodeError:
    return EventDecodeError(tag, version, field_path(error), str(error))


def json_schema(cls: type[Event]) -> dict[str, Any]:
    """A standalone JSON Schema document for one event type and version."""
    (schema,), components = msgspec.json.schema_components([cls], ref_template="#/$defs/{name}")
    document: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:dialstream:event:{cls.tag()}:v{cls.SCHEMA_VERSION}",
        "title": f"{cls.tag()} v{cls.SCHEMA_VERSION}",
        "description": (cls.__doc__ or "").strip() or f"Event {cls.tag()} on topic {cls.TOPIC}.",
        "x-topic": cls.TOPIC,
        "x-schema-version": cls.SCHEMA_VERSION,
    }
    document.update(schema if "$ref" not in schema else {"$ref": schema["$ref"]})
    document["$defs"] = components
    return document


def export_json_schemas(directory: Path, events: Iterable[type[Event]] = ALL_EVENTS) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for cls in events:
        path = directory / f"{cls.tag()}.v{cls.SCHEMA_VERSION}.json"
        path.write_text(json.dumps(json_schema(cls), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
