"""Golden files: every version of every event ever published stays readable.

``golden/<tag>.v<version>.json`` holds one payload per event type and version. Today's
decoders must read every file there, old versions through their upcasters. A golden file
is history: it is written once and never rewritten. To add the files of a new event type
or version, add its sample to :mod:`tests.schemas.samples` and run once::

    DIALSTREAM_WRITE_GOLDEN=1 .venv/bin/pytest tests/schemas

then commit the new files. Without the variable a missing file fails the test.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from schemas import registry
from schemas.base import Event
from tests.schemas.samples import SAMPLED, sample

GOLDEN = Path(__file__).parent / "golden"
WRITE_VARIABLE = "DIALSTREAM_WRITE_GOLDEN"
_NAME = re.compile(r"^(?P<tag>[a-z_.]+)\.v(?P<version>[0-9]+)\.json$")


def golden_path(cls: type[Event], directory: Path = GOLDEN) -> Path:
    return directory / f"{cls.tag()}.v{cls.SCHEMA_VERSION}.json"


def write_golden(cls: type[Event], directory: Path = GOLDEN) -> Path:
    """Write the golden file of ``cls``'s current version from its sample; never overwrite."""
    path = golden_path(cls, directory)
    if path.exists():
        return path
    payload = json.loads(registry.encode(sample(cls)))
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def ensure_golden(cls: type[Event], directory: Path = GOLDEN) -> Path:
    """The golden file of ``cls``; written only when DIALSTREAM_WRITE_GOLDEN=1, else must exist."""
    path = golden_path(cls, directory)
    if not path.exists() and os.environ.get(WRITE_VARIABLE) == "1":
        write_golden(cls, directory)
    assert path.exists(), (
        f"no golden file for {cls.tag()} v{cls.SCHEMA_VERSION} ({path.name}); add a sample to "
        f"tests/schemas/samples.py and run {WRITE_VARIABLE}=1 pytest tests/schemas, then commit it"
    )
    return path


def parse_name(path: Path) -> tuple[str, int]:
    match = _NAME.match(path.name)
    assert match, f"golden file {path.name} is not named <tag>.v<version>.json"
    return match["tag"], int(match["version"])


def kept(golden: Any, current: Any, where: str = "$") -> None:
    """Every value of ``golden`` is still in ``current`` (which may hold more, e.g. new fields)."""
    if isinstance(golden, dict):
        assert isinstance(current, dict), where
        for key, value in golden.items():
            assert key in current, f"{where}.{key} was dropped on decoding"
            kept(value, current[key], f"{where}.{key}")
    elif isinstance(golden, list):
        assert isinstance(current, list) and len(current) == len(golden), where
        for index, (old, new) in enumerate(zip(golden, current, strict=True)):
            kept(old, new, f"{where}[{index}]")
    else:
        assert golden == current, f"{where}: {golden!r} became {current!r}"


GOLDEN_FILES = sorted(GOLDEN.glob("*.json"))


@pytest.mark.parametrize("cls", registry.ALL_EVENTS, ids=lambda cls: cls.tag())
def test_every_event_version_has_a_golden_file(cls):
    ensure_golden(cls)


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda path: path.name)
def test_todays_decoders_read_every_golden_file(path):
    tag, version = parse_name(path)
    payload = path.read_bytes()

    event = registry.decode(tag, version, payload)

    cls = registry.BY_TAG[tag]
    assert type(event) is cls
    assert event.schema_version == cls.SCHEMA_VERSION
    assert registry.decode_any(payload) == event
    if version == cls.SCHEMA_VERSION:
        kept(json.loads(payload), json.loads(registry.encode(event)))


def test_the_golden_directory_holds_files_of_the_current_versions():
    assert {(cls.tag(), cls.SCHEMA_VERSION) for cls in registry.ALL_EVENTS} <= {
        parse_name(path) for path in GOLDEN.glob("*.json")
    }


def test_every_event_class_has_a_sample():
    assert set(registry.ALL_EVENTS) == SAMPLED


def test_the_check_fails_for_an_event_without_a_golden_file(tmp_path, monkeypatch):
    monkeypatch.delenv(WRITE_VARIABLE, raising=False)
    cls = registry.ALL_EVENTS[0]

    with pytest.raises(AssertionError, match=re.escape(f"no golden file for {cls.tag()} v1")):
        ensure_golden(cls, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_the_check_writes_a_missing_file_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv(WRITE_VARIABLE, "1")
    cls = registry.BY_TAG["campaign_group.created"]

    path = ensure_golden(cls, tmp_path)

    assert path == tmp_path / "campaign_group.created.v1.json"
    assert registry.decode("campaign_group.created", 1, path.read_bytes()) == sample(cls)


def test_an_existing_golden_file_is_never_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv(WRITE_VARIABLE, "1")
    cls = registry.BY_TAG["contact_list.archived"]
    path = golden_path(cls, tmp_path)
    path.write_text('{"type": "contact_list.archived", "kept": true}')

    ensure_golden(cls, tmp_path)

    assert path.read_text() == '{"type": "contact_list.archived", "kept": true}'


def test_a_dropped_golden_value_is_detected():
    kept({"a": 1, "b": {"c": [1, 2]}}, {"a": 1, "b": {"c": [1, 2], "d": 3}, "e": 4})
    with pytest.raises(AssertionError, match=r"\$\.b\.c was dropped"):
        kept({"b": {"c": 1}}, {"b": {}})
    with pytest.raises(AssertionError, match=r"\$\.a\[1\]: 2 became 3"):
        kept({"a": [1, 2]}, {"a": [1, 3]})
