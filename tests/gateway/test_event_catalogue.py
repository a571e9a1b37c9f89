"""The analytics contract served by the gateway: /api/v1/events, each event version's JSON
Schema, and the /events page — every event of the registry under its topic, no key needed
(like /docs), and the wire format it states is the one the relay sends."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from eventsourcing.persistence import Notification

from dialstream.store import stored_topic_of
from processors.bus.wire import outgoing
from schemas import registry
from schemas.attempts import CallAttemptMade
from schemas.topics import BY_NAME, CALL_ATTEMPTS
from tests.gateway import helpers as h

API = "/api/v1/events"


@pytest.fixture(scope="module")
def anonymous(client_for: Callable[[str | None], httpx.Client]) -> httpx.Client:
    return client_for(None)


@pytest.fixture(scope="module")
def contract(anonymous: httpx.Client) -> dict[str, Any]:
    response = anonymous.get(API)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def entries(contract: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Every listed event by tag: (its topic, its entry)."""
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for topic in contract["topics"]:
        for event in topic["events"]:
            assert event["tag"] not in found, f"{event['tag']} listed twice"
            found[event["tag"]] = (topic, event)
    return found


def test_every_event_is_listed_under_its_topic_with_its_version(contract: dict[str, Any]) -> None:
    listed = entries(contract)
    assert set(listed) == set(registry.BY_TAG)
    for cls in registry.ALL_EVENTS:
        topic, event = listed[cls.tag()]
        assert topic["name"] == cls.TOPIC, cls.tag()
        assert event["version"] == cls.SCHEMA_VERSION, cls.tag()
        assert event["schema_url"] == f"{API}/{cls.tag()}/v{cls.SCHEMA_VERSION}/schema"
        # The class's own docstring ("" without one), not its base class's.
        assert event["description"].split() == (cls.__doc__ or "").split(), cls.tag()


def test_every_topic_names_its_key_and_what_it_holds(contract: dict[str, Any]) -> None:
    topics = {topic["name"]: topic for topic in contract["topics"]}
    assert "dead-letter" not in topics, "dead letters are not events to subscribe to"
    assert set(topics) == {cls.TOPIC for cls in registry.ALL_EVENTS}
    for name, topic in topics.items():
        spec = BY_NAME[name]
        assert topic["key"] == spec.key and topic["partitions"] == spec.partitions, name
        assert topic["retention"] == "forever", name
        assert topic["kafka_topic"] == name, "the gateway's server has no topic prefix"
        assert topic["holds"] and all(topic["holds"]), name
    assert topics[CALL_ATTEMPTS]["key"] == "record id"
    assert "attempts made to records" in topics[CALL_ATTEMPTS]["holds"][0]


def test_the_fields_are_the_json_schema_s(contract: dict[str, Any]) -> None:
    for tag, (_, event) in entries(contract).items():
        document = registry.json_schema(registry.BY_TAG[tag])
        root = document["$defs"][document["$ref"].rsplit("/", 1)[-1]]
        assert [f["name"] for f in event["fields"]] == list(root["properties"]), tag
        assert {f["name"] for f in event["fields"] if f["required"]} == set(root["required"]), tag
        assert all(f["type"] for f in event["fields"]), tag
    made = {f["name"]: f for f in entries(contract)["call_attempt.made"][1]["fields"]}
    assert made["type"] == {"name": "type", "type": 'string, always "call_attempt.made"', "required": True}
    assert made["attempt_id"]["type"] == "string (uuid)"
    assert made["campaign_group_id"] == {
        "name": "campaign_group_id",
        "type": "string (uuid) | null",
        "required": False,
    }
    assert made["channel"]["type"] == 'string, one of "email", "sms", "voice"'


def test_each_schema_url_serves_the_registry_s_document(
    contract: dict[str, Any], anonymous: httpx.Client, tmp_path: Path
) -> None:
    """The registry's document (as JSON: its tuples are arrays), byte for byte the file
    `dialstream schemas export` writes for that event version."""
    exported = {path.name: path.read_text() for path in registry.export_json_schemas(tmp_path)}
    for tag, (_, event) in entries(contract).items():
        cls = registry.BY_TAG[tag]
        response = anonymous.get(event["schema_url"])
        assert response.status_code == 200, (tag, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == json.loads(json.dumps(registry.json_schema(cls))), tag
        assert response.text == exported[f"{tag}.v{cls.SCHEMA_VERSION}.json"], tag


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"{API}/no_such.event/v1/schema", "tag"),
        (f"{API}/call_attempt.made/v2/schema", "version"),
        (f"{API}/call_attempt.made/v0/schema", "version"),
        (f"{API}/call_attempt.made/vlatest/schema", "version"),
    ],
)
def test_an_unknown_event_or_version_is_a_404_problem(anonymous: httpx.Client, path: str, field: str) -> None:
    h.assert_problem(anonymous.get(path), 404, field)


def test_the_wire_format_is_what_the_relay_sends(contract: dict[str, Any]) -> None:
    """The headers the page names are the ones on a relayed record, in that order; the key is
    the aggregate id's text and the value the stored JSON."""
    record_id = uuid.uuid4()
    event = CallAttemptMade(
        originator_id=record_id,
        originator_version=4,
        timestamp=datetime.now(UTC),
        account_id=uuid.uuid4(),
        attempt_id=uuid.uuid4(),
        list_id=uuid.uuid4(),
        client_id="C1",
        chain_n=1,
        device="+13125550143",
        channel="voice",
    )
    state = registry.encode(event)
    record = outgoing(Notification(record_id, 4, stored_topic_of(CallAttemptMade), state, 77))
    wire = contract["wire"]
    assert [h["name"] for h in wire["headers"]] == [name for name, _ in record.headers]
    assert dict(record.headers)["type"] == b"call_attempt.made"
    assert dict(record.headers)["schema_version"] == b"1"
    assert dict(record.headers)["event_id"] == f"{record_id}:4".encode()
    assert dict(record.headers)["position"] == b"77"
    assert record.key == str(record_id).encode() and "originator_id" in wire["key"]
    assert record.value == state and "as the event store keeps it" in wire["value"]
    assert record.topic == CALL_ATTEMPTS
    assert wire["bus"] == "embedded" and wire["topic_prefix"] == ""


def test_the_page_lists_every_topic_and_event_and_links_each_schema(
    anonymous: httpx.Client, contract: dict[str, Any]
) -> None:
    response = anonymous.get("/events")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = Page()
    page.feed(response.text)
    page.close()
    assert not page.scripts, "the page needs no JavaScript"
    external = [url for url in page.links if url.startswith(("http:", "https:", "//"))]
    assert not external, external
    for tag, (topic, event) in entries(contract).items():
        assert tag in page.ids, f"no section for {tag}"
        assert event["schema_url"] in page.links, tag
        assert f"#topic-{topic['name']}" in page.links
    for field in entries(contract)["call_attempt.finished"][1]["fields"]:
        assert field["name"] in page.codes
    for url in {u for u in page.links if u.startswith("/") and "#" not in u}:
        assert anonymous.get(url).status_code == 200, url


def test_the_contract_needs_no_key_like_the_api_documentation(base_url: str, viewer: httpx.Client) -> None:
    """Documentation, like /docs and /openapi.json: anyone may read it, a key changes nothing."""
    for path in (API, f"{API}/call_attempt.made/v1/schema", "/events"):
        assert httpx.get(f"{base_url}{path}").status_code == 200, path
        assert viewer.get(path).status_code == 200, path
    spec = httpx.get(f"{base_url}/openapi.json").json()
    assert spec["paths"][API]["get"]["security"] == []
    assert spec["paths"][f"{API}/{{tag}}/v{{version}}/schema"]["get"]["security"] == []
    assert "/events" not in spec["paths"]


class Page(HTMLParser):
    """The page's element ids, link targets, scripts and <code> texts."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: set[str] = set()
        self.scripts: list[str] = []
        self.codes: set[str] = set()
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        for name in ("href", "src"):
            if attributes.get(name):
                self.links.add(str(attributes[name]))
        if tag == "script":
            self.scripts.append(str(attributes.get("src") or "inline"))
        self._in_code = tag == "code"

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.codes.add(data)
