"""The analytics contract: every Kafka topic and event version, as JSON and as a web page.

``GET /api/v1/events`` lists the topics (what each holds, its message key, partitions,
retention) and, under each, its event types: tag, schema version, docstring and fields, with
the URL of the event's JSON Schema (``GET /api/v1/events/{tag}/v{version}/schema``, the very
document ``dialstream schemas export`` writes). ``GET /events`` is the same catalogue as a
plain server-rendered page, with no script and nothing loaded from another host.

Everything is generated at request time from the schema registry (:mod:`schemas.registry`)
and the topic catalogue (:mod:`schemas.topics`), so a new event or version shows up here the
moment it is registered (each event's entry is kept after the first request that makes it).
:data:`WIRE` states how the outbox relay puts an event on Kafka (:mod:`processors.bus.relay`,
:mod:`processors.bus.wire`); the tests hold it to what :func:`processors.bus.wire.outgoing`
really sends.

Authentication: none, like ``/docs``, ``/redoc`` and ``/openapi.json`` (which ``create_app``
serves without a key): the contract is documentation of the product, the same for every
account, and reveals no account's data.
"""

from __future__ import annotations

import functools
import html
import inspect
import json
import re
import sys
from collections.abc import Iterable
from typing import Any, Literal

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from msgspec import Struct

from dialstream.bootstrap import Runtime
from gateway.deps import RuntimeDep
from gateway.io import doc, respond
from gateway.problems import Problem
from schemas import registry
from schemas.base import Event
from schemas.topics import BY_NAME, CATALOGUE, DEAD_LETTER, FOREVER, TopicSpec, kafka_name

API = "/api/v1/events"
PAGE = "/events"
# Like /docs and /openapi.json: readable without an API key (see the module's docstring), so
# the OpenAPI document says these operations need no bearer token.
NO_KEY: dict[str, Any] = {"security": []}

router = APIRouter(tags=["events"])


# The representation -------------------------------------------------------------------------


class EventField(Struct, frozen=True, kw_only=True):
    name: str
    type: str  # a summary of its JSON Schema: "string (uuid) | null", "object (Pacing)", …
    # Required by the JSON Schema. Dialstream writes every field; one that is not required may
    # be missing from events stored before it was added, and then reads as its default.
    required: bool


class EventType(Struct, frozen=True, kw_only=True):
    tag: str  # the value's "type" field and the record's "type" header
    version: int  # the value's "schema_version" field and the record's "schema_version" header
    description: str  # the event class's docstring ("" when it has none)
    fields: list[EventField]
    schema_url: str  # its JSON Schema document, as `dialstream schemas export` writes it
    schema_id: str  # that document's "$id"
    upcast_from: list[int]  # older versions a consumer of this build can still read


class EventTopic(Struct, frozen=True, kw_only=True):
    name: str  # the topic's name in the catalogue (schemas/topics.py)
    kafka_topic: str  # its name on this deployment's brokers: DIALSTREAM_TOPIC_PREFIX + name
    holds: list[str]  # what its events are about, from the schema modules' docstrings
    key: str  # what the message key (an aggregate id) identifies
    partitions: int  # as `dialstream topics create` makes it
    retention: str  # "forever" or "N days"
    events: list[EventType]


class WireHeader(Struct, frozen=True, kw_only=True):
    name: str
    value: str


class WireFormat(Struct, frozen=True, kw_only=True):
    bus: Literal["kafka", "embedded"]  # what this deployment runs on
    topic_prefix: str  # this deployment's DIALSTREAM_TOPIC_PREFIX ("" when none)
    topic_name: str
    key: str
    partition: str
    value: str
    headers: list[WireHeader]
    timestamp: str
    order: str
    delivery: str
    dead_letter: str


class EventCatalogue(Struct, frozen=True, kw_only=True):
    wire: WireFormat
    topics: list[EventTopic]


# How the relay publishes a stored event (processors/bus/relay.py, processors/bus/wire.py).
WIRE: dict[str, Any] = {
    "topic_name": "``DIALSTREAM_TOPIC_PREFIX`` followed by the topic's name (call-attempts, records, …): "
    "several deployments may share one cluster under different prefixes",
    "key": "the id of the aggregate the event belongs to (its ``originator_id``), as the UTF-8 text of "
    "the UUID in its canonical lower-case, hyphenated form; each topic says which aggregate that is",
    "partition": "murmur2(key) modulo the topic's partition count, as the Java client's default "
    "partitioner picks it: every event of one aggregate is on one partition",
    "value": "a UTF-8 JSON object, the event's msgspec JSON byte for byte as the event store keeps "
    "it: its ``type`` field is the event's tag and ``schema_version`` its schema version; it "
    "validates against that event version's JSON Schema. Every field is written, defaults included",
    "headers": [
        ("type", "the event's tag, as in the value (decode without reading the body)"),
        ("schema_version", "the event's schema version, as decimal ASCII digits"),
        (
            "event_id",
            '"<aggregate id>:<aggregate version>": unique per event, the same on every copy of it',
        ),
        (
            "position",
            "the event's position in the event store's log, as decimal ASCII digits: it increases "
            "along each partition, so a record at or below the last position counted on its "
            "partition is a copy already counted",
        ),
    ],
    "timestamp": "the record's Kafka timestamp is when the relay sent it; when the event happened "
    "is its ``timestamp`` field (RFC 3339, UTC)",
    "order": "the relay publishes in log order with an idempotent producer (acks=all): an "
    "aggregate's events reach its partition in the order they were stored; there is no order "
    "across partitions or topics",
    "delivery": "every stored event is published; a relay restart can, rarely, publish an event "
    "again (and ``dialstream relay --from-position N`` republishes on purpose): count an event "
    "once by its ``event_id`` header, or skip positions already seen on its partition. Event "
    "topics are kept forever: a new consumer group can read the whole history",
}


# Building the catalogue from the registry ---------------------------------------------------

_TOPIC_DOC = re.compile(r"^Topic ``([\w.-]+)``:\s*(.+)$", re.DOTALL)


def schema_url(cls: type[Event]) -> str:
    return f"{API}/{cls.tag()}/v{cls.SCHEMA_VERSION}/schema"


def description(cls: type[Event]) -> str:
    """The event class's own docstring (not one inherited from its base)."""
    return inspect.cleandoc(cls.__doc__) if cls.__doc__ else ""


def fields(document: dict[str, Any]) -> list[EventField]:
    """The top-level fields of an event's JSON Schema, in declaration order."""
    defs: dict[str, Any] = document.get("$defs", {})
    root = _resolve(document, defs)
    required = set(root.get("required", ()))
    return [
        EventField(name=name, type=type_summary(node, defs), required=name in required)
        for name, node in root.get("properties", {}).items()
    ]


def type_summary(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short reading of a JSON Schema node, leading with its JSON type."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        target = defs.get(name, {})
        if "enum" in target or "const" in target:
            return f"{_values(target)} ({name})"
        return f"object ({name})"
    for union in ("anyOf", "oneOf"):
        if union in node:
            return " | ".join(type_summary(option, defs) for option in node[union])
    if "enum" in node or "const" in node:
        return _values(node)
    kind = node.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "array":
        return f"array of {type_summary(node.get('items', {}), defs)}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"object of {type_summary(node['additionalProperties'], defs)}"
    if isinstance(kind, str):
        return f"{kind} ({node['format']})" if "format" in node else kind
    return "any"


def _values(node: dict[str, Any]) -> str:
    values = node["enum"] if "enum" in node else [node["const"]]
    kinds = sorted({_json_type(v) for v in values})
    listed = ", ".join(json.dumps(v) for v in values)
    return f"{' | '.join(kinds)}, {'always' if len(values) == 1 else 'one of'} {listed}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object" if isinstance(value, dict) else "array"


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and "properties" not in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def topic_holds(name: str, events: Iterable[type[Event]]) -> list[str]:
    """What a topic holds: the first paragraph of each schema module that says it is that
    topic's (``Topic ``call-attempts``: the attempts made to records, …``)."""
    holds: list[str] = []
    modules = dict.fromkeys(cls.__module__ for cls in events)
    for module in modules:
        text = inspect.cleandoc(sys.modules[module].__doc__ or "").split("\n\n")[0]
        match = _TOPIC_DOC.match(text)
        if match and match.group(1) == name:
            holds.append(" ".join(match.group(2).split()))
    return holds


@functools.cache
def event_type(cls: type[Event]) -> EventType:
    """One event version's entry: made on the first request that needs it (the registry does
    not change while a process runs), then kept."""
    document = registry.json_schema(cls)
    return EventType(
        tag=cls.tag(),
        version=cls.SCHEMA_VERSION,
        description=description(cls),
        fields=fields(document),
        schema_url=schema_url(cls),
        schema_id=str(document["$id"]),
        upcast_from=sorted(v for (tag, v) in registry.UPCASTERS if tag == cls.tag()),
    )


def _retention(spec: TopicSpec) -> str:
    return "forever" if spec.retention_ms == FOREVER else f"{spec.retention_ms // 86_400_000} days"


def catalogue(runtime: Runtime) -> EventCatalogue:
    prefix = runtime.settings.topic_prefix
    by_topic: dict[str, list[type[Event]]] = {spec.name: [] for spec in CATALOGUE if spec.name != DEAD_LETTER}
    for cls in registry.ALL_EVENTS:
        by_topic.setdefault(cls.TOPIC, []).append(cls)
    topics = []
    for name, events in by_topic.items():
        spec = BY_NAME.get(name, TopicSpec(name, 1, "aggregate id"))
        topics.append(
            EventTopic(
                name=name,
                kafka_topic=kafka_name(name, prefix),
                holds=topic_holds(name, events),
                key=spec.key,
                partitions=spec.partitions,
                retention=_retention(spec),
                events=[event_type(cls) for cls in events],
            )
        )
    dead = BY_NAME[DEAD_LETTER]
    wire = WireFormat(
        bus="kafka" if runtime.settings.bus.startswith("kafka://") else "embedded",
        topic_prefix=prefix,
        topic_name=WIRE["topic_name"],
        key=WIRE["key"],
        partition=WIRE["partition"],
        value=WIRE["value"],
        headers=[WireHeader(name=name, value=value) for name, value in WIRE["headers"]],
        timestamp=WIRE["timestamp"],
        order=WIRE["order"],
        delivery=WIRE["delivery"],
        dead_letter=f"{kafka_name(DEAD_LETTER, prefix)} (kept {_retention(dead)}) holds records "
        "Dialstream's own consumers could not decode, with their origin in headers: not events "
        "to count",
    )
    return EventCatalogue(wire=wire, topics=topics)


# The routes --------------------------------------------------------------------------------


@router.get(
    API,
    summary="The analytics contract: every Kafka topic and event version, with its fields",
    openapi_extra=NO_KEY,
    **doc(response=EventCatalogue),
)
def list_events(runtime: RuntimeDep) -> Response:
    return respond(catalogue(runtime))


@router.get(
    API + "/{tag}/v{version}/schema",
    summary="The JSON Schema of one event version",
    openapi_extra=NO_KEY,
    responses={
        200: {"description": "The JSON Schema (draft 2020-12) document of the event version"},
        404: {"description": "No such event type, or no such version of it"},
    },
)
def event_schema(tag: str, version: str) -> Response:
    cls = registry.BY_TAG.get(tag)
    if cls is None:
        raise Problem(404, "Not found", f"no event type {tag!r}; GET {API} lists them", field="tag")
    if not version.isdigit() or int(version) != cls.SCHEMA_VERSION:
        older = " (older versions are upcast when read; their shapes are not kept)"
        raise Problem(
            404,
            "Not found",
            f"event {tag!r} has no schema version {version!r}: this build's is v{cls.SCHEMA_VERSION}"
            + (older if cls.SCHEMA_VERSION > 1 else ""),
            field="version",
        )
    return Response(
        json.dumps(registry.json_schema(cls), indent=2, sort_keys=True) + "\n",
        # application/json, not application/schema+json: a browser shows it instead of saving it.
        media_type="application/json",
    )


@router.get(PAGE, include_in_schema=False)
def events_page(runtime: RuntimeDep) -> HTMLResponse:
    return HTMLResponse(render(catalogue(runtime)))


# The page ----------------------------------------------------------------------------------

_LITERAL = re.compile(r"(?::[\w.]+:)?``?([^`]+)``?")

STYLE = """
nav ul { columns: 3 16rem; padding-left: 1.2rem; }
section.topic { margin: 2rem 0; }
article.event { background: #fff; border: 1px solid #e2e5ea; border-radius: .4rem; padding: .6rem 1rem;
  margin: 1rem 0; }
article.event h3 { margin: .2rem 0 .4rem; font-size: 1.05rem; }
article.event table { margin-top: .4rem; }
code { font: 13px/1.3 ui-monospace, SFMono-Regular, Menlo, monospace; background: #eceff3;
  padding: 0 .2rem; border-radius: .2rem; }
dl.wire dt { font-weight: 600; margin-top: .5rem; }
dl.wire dd { margin-left: 1.2rem; }
.version { font-size: .85em; padding: .05rem .4rem; border-radius: .6rem; background: #dfe8f7;
  color: #1c4a8a; }
"""


def _text(value: str) -> str:
    """Escaped docstring text with its ``literals`` and :roles:`x` as <code>."""
    return _LITERAL.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(value, quote=False))


def _paragraphs(value: str) -> str:
    return "".join(f"<p>{_text(' '.join(p.split()))}</p>" for p in value.split("\n\n") if p.strip())


def render(contract: EventCatalogue) -> str:
    e = html.escape
    wire = contract.wire
    on_bus = (
        f"This deployment publishes to Kafka with the topic prefix <code>{e(wire.topic_prefix)}</code>."
        if wire.bus == "kafka" and wire.topic_prefix
        else "This deployment publishes to Kafka with no topic prefix."
        if wire.bus == "kafka"
        else "This deployment runs the embedded bus (no Kafka); on Kafka its events are published "
        "as described here."
    )
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Dialstream — event contract</title>",
        '<link rel="stylesheet" href="/static/dashboard.css">',
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        "  <h1>Dialstream</h1>",
        '  <span class="muted">event contract · topics, event versions and their fields</span>',
        "</header>",
        "<main>",
        "<p>Every change Dialstream stores is an event, and every stored event is published to a "
        "Kafka topic by the outbox relay, in log order. This page lists the topics and the event "
        f'versions on each. The same catalogue as JSON: <a href="{API}"><code>{API}</code></a>; '
        "each event's JSON Schema is linked beside it.</p>",
        f"<p>{on_bus}</p>",
        '<h2 id="wire">On the wire</h2>',
        '<dl class="wire">',
        f"<dt>Topic name</dt><dd>{_text(wire.topic_name)}</dd>",
        f"<dt>Key</dt><dd>{_text(wire.key)}</dd>",
        f"<dt>Partition</dt><dd>{_text(wire.partition)}</dd>",
        f"<dt>Value</dt><dd>{_text(wire.value)}</dd>",
        "<dt>Headers</dt><dd><table><thead><tr><th>Header</th><th>Value (UTF-8)</th></tr></thead><tbody>",
        *(f"<tr><td><code>{e(h.name)}</code></td><td>{_text(h.value)}</td></tr>" for h in wire.headers),
        "</tbody></table></dd>",
        f"<dt>Timestamp</dt><dd>{_text(wire.timestamp)}</dd>",
        f"<dt>Order</dt><dd>{_text(wire.order)}</dd>",
        f"<dt>Delivery</dt><dd>{_text(wire.delivery)}</dd>",
        f"<dt>Dead letters</dt><dd>{_text(wire.dead_letter)}</dd>",
        "</dl>",
        '<nav><h2 id="topics">Topics</h2><ul>',
        *(
            f'<li><a href="#topic-{e(t.name)}">{e(t.name)}</a> '
            f'<span class="muted">({len(t.events)} events)</span></li>'
            for t in contract.topics
        ),
        "</ul></nav>",
    ]
    for topic in contract.topics:
        parts += [
            f'<section class="topic" id="topic-{e(topic.name)}">',
            f"<h2>Topic <code>{e(topic.name)}</code></h2>",
            *(f"<p>{_text(held)}</p>" for held in topic.holds),
            "<table><tbody>",
            f"<tr><th>On the brokers</th><td><code>{e(topic.kafka_topic)}</code></td></tr>",
            f"<tr><th>Key</th><td>{e(topic.key)}</td></tr>",
            f"<tr><th>Partitions</th><td>{topic.partitions}</td></tr>",
            f"<tr><th>Retention</th><td>{e(topic.retention)}</td></tr>",
            "</tbody></table>",
        ]
        for event in topic.events:
            upcast = (
                f'<p class="muted">Older versions read as this one: '
                f"{', '.join(f'v{v}' for v in event.upcast_from)}</p>"
                if event.upcast_from
                else ""
            )
            parts += [
                f'<article class="event" id="{e(event.tag)}">',
                f'<h3><code>{e(event.tag)}</code> <span class="version">v{event.version}</span> '
                f'<a href="{e(event.schema_url)}">JSON Schema</a></h3>',
                _paragraphs(event.description) or '<p class="muted">(no description)</p>',
                upcast,
                "<table><thead><tr><th>Field</th><th>Type</th><th>Required</th></tr></thead><tbody>",
                *(
                    f"<tr><td><code>{e(f.name)}</code></td><td>{e(f.type)}</td>"
                    f"<td>{'yes' if f.required else 'no'}</td></tr>"
                    for f in event.fields
                ),
                "</tbody></table>",
                "</article>",
            ]
        parts.append("</section>")
    parts += [
        "</main>",
        '<footer class="muted">',
        '  <a href="/">Campaigns</a> · <a href="/docs">API documentation</a> · '
        f'<a href="{API}">Event catalogue (JSON)</a>',
        "</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"
