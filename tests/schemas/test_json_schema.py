"""Exported JSON Schemas: one standalone document per event type and version.

``jsonschema`` is not a dependency, so the documents are checked by structure and the
golden payloads by :func:`conforms`, a small validator for the keywords msgspec emits.
When ``jsonschema`` happens to be installed, it validates as well.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from schemas import registry, topics
from tests.schemas.test_golden import golden_path

DRAFT = "https://json-schema.org/draft/2020-12/schema"
JSON_TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
    "integer": int, "number": (int, float),
}


def resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/$defs/"), ref
    name = ref.removeprefix("#/$defs/")
    assert name in document["$defs"], f"{ref} does not resolve"
    return document["$defs"][name]  # type: ignore[no-any-return]


def conforms(value: Any, schema: dict[str, Any], document: dict[str, Any], where: str = "$") -> None:
    """Assert ``value`` satisfies ``schema`` (the subset of JSON Schema that msgspec emits)."""
    if "$ref" in schema:
        conforms(value, resolve(document, schema["$ref"]), document, where)
    if "anyOf" in schema:
        failures = []
        for option in schema["anyOf"]:
            try:
                conforms(value, option, document, where)
                break
            except AssertionError as failure:
                failures.append(str(failure))
        else:
            raise AssertionError(f"{where}: matches no anyOf option: {failures}")
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "type" in schema:
        python_type = JSON_TYPES[schema["type"]]
        is_bool = isinstance(value, bool)
        assert isinstance(value, python_type) and (schema["type"] == "boolean" or not is_bool), (
            f"{where}: {value!r} is not {schema['type']}"
        )
    if isinstance(value, str):
        assert len(value) >= schema.get("minLength", 0), f"{where}: too short"
        assert len(value) <= schema.get("maxLength", len(value)), f"{where}: too long"
        if "pattern" in schema:
            assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert value >= schema.get("minimum", value), f"{where}: below minimum"
        assert value <= schema.get("maximum", value), f"{where}: above maximum"
        assert value > schema.get("exclusiveMinimum", value - 1), f"{where}: not above exclusiveMinimum"
    if isinstance(value, dict):
        for name in schema.get("required", []):
            assert name in value, f"{where}: required {name!r} missing"
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                conforms(item, properties[name], document, f"{where}.{name}")
            elif isinstance(schema.get("additionalProperties"), dict):
                conforms(item, schema["additionalProperties"], document, f"{where}.{name}")
            else:
                assert schema.get("additionalProperties", True) is not False, f"{where}: unexpected {name!r}"
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            conforms(item, schema["items"], document, f"{where}[{index}]")


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, tuple[Path, dict[str, Any]]]:
    directory = tmp_path_factory.mktemp("schemas") / "events"
    paths = registry.export_json_schemas(directory)
    return {path.name: (path, json.loads(path.read_text())) for path in paths}


def document_of(exported, cls) -> dict[str, Any]:
    return exported[f"{cls.tag()}.v{cls.SCHEMA_VERSION}.json"][1]


EVENTS = pytest.mark.parametrize("cls", registry.ALL_EVENTS, ids=lambda cls: cls.tag())


def test_one_file_per_event_type_and_version(exported, tmp_path_factory):
    names = {f"{cls.tag()}.v{cls.SCHEMA_VERSION}.json" for cls in registry.ALL_EVENTS}

    assert set(exported) == names
    assert len(exported) == len(registry.ALL_EVENTS)
    directory = {path.parent for path, _ in exported.values()}
    assert len(directory) == 1
    assert {path.name for path in next(iter(directory)).iterdir()} == names


@EVENTS
def test_each_document_is_a_standalone_json_schema(exported, cls):
    document = document_of(exported, cls)

    assert document["$schema"] == DRAFT
    assert document["$id"] == f"urn:dialstream:event:{cls.tag()}:v{cls.SCHEMA_VERSION}"
    assert document["title"] == f"{cls.tag()} v{cls.SCHEMA_VERSION}"
    assert document["description"]
    assert document["x-topic"] == cls.TOPIC
    assert document["x-topic"] in topics.ALL_TOPICS
    assert document["x-schema-version"] == cls.SCHEMA_VERSION
    for ref in refs(document):
        resolve(document, ref)


@EVENTS
def test_each_document_requires_its_type_tag(exported, cls):
    document = document_of(exported, cls)

    root = resolve(document, document["$ref"])

    assert root["type"] == "object"
    assert root["properties"]["type"] == {"enum": [cls.tag()]}
    assert {"type", "originator_id", "originator_version", "timestamp", "account_id"} <= set(root["required"])


def test_ids_are_unique_and_topics_are_the_contracts(exported):
    documents = [document for _, document in exported.values()]

    assert len({document["$id"] for document in documents}) == len(documents)
    assert {document["x-topic"] for document in documents} <= set(topics.ALL_TOPICS)
    assert len(topics.ALL_TOPICS) == len(set(topics.ALL_TOPICS)) == 9


@EVENTS
def test_the_golden_payload_conforms_to_its_schema(exported, cls):
    document = document_of(exported, cls)
    payload = json.loads(golden_path(cls).read_bytes())

    assert payload["type"] == cls.tag()
    conforms(payload, document, document)
    if importlib.util.find_spec("jsonschema") is not None:  # pragma: no cover - not a dependency
        import jsonschema

        jsonschema.validate(payload, document)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"type": "contact_list.changed"}, "not in"),
        ({"settings": {"channel": "fax"}}, "not in"),
        ({"settings": {"retention": {"days": "ninety"}}}, "matches no anyOf"),
        ({"settings": {"time_zones": {"custom_time_zones": [{"country_code": "usa", "area_code": "1", "time_zone": "UTC"}]}}}, "!~"),
        ({"settings": {"surprise": True}}, "unexpected 'surprise'"),
        ({"name": None}, "is not string"),
    ],
)
def test_the_checker_rejects_payloads_the_schema_forbids(exported, change, complaint):
    cls = registry.BY_TAG["contact_list.created"]
    document = document_of(exported, cls)
    payload = {**json.loads(golden_path(cls).read_bytes()), **change}

    with pytest.raises(AssertionError, match=re.escape(complaint)):
        conforms(payload, document, document)


def test_a_payload_without_its_type_tag_does_not_conform(exported):
    cls = registry.BY_TAG["campaign_group.started"]
    document = document_of(exported, cls)
    payload = json.loads(golden_path(cls).read_bytes())
    del payload["type"]

    with pytest.raises(AssertionError, match="required 'type' missing"):
        conforms(payload, document, document)


def test_exporting_a_subset_into_a_new_directory(tmp_path):
    cls = registry.BY_TAG["campaign_group.started"]

    (path,) = registry.export_json_schemas(tmp_path / "a" / "b", [cls])

    assert path == tmp_path / "a" / "b" / "campaign_group.started.v1.json"
    assert json.loads(path.read_text()) == registry.json_schema(cls)
    assert path.read_text().endswith("}\n")
