"""Specification files: decisions, layout validation with field paths, and resolve()."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain import specification_file
from domain.data_mapping import ContactIndex, CustomIndex
from domain.errors import InUse, NameTaken, NotFound, RuleViolation
from domain.specification_file import ChangeSpecificationFile, CreateSpecificationFile, SpecificationFile
from schemas.list_rules import (
    MappedField,
    SpecColumn,
    SpecificationFileArchived,
    SpecificationFileChanged,
    SpecificationFileCreated,
    SpecificationFileReferenced,
    SpecificationFileReleased,
)
from tests.domain.builders import (
    ACCOUNT_ID,
    NOW,
    a_claim,
    assert_events,
    claim_event,
    ev,
    expected,
    given,
    refused,
    release_event,
    stream,
)

SPEC_ID = UUID("0b000000-0000-4000-8000-00000000000f")
RULE_ID = UUID("0f000000-0000-4000-8000-000000000001")
KIND = specification_file.KIND

FIELDS = [
    MappedField(column="ID", field="client_id"),
    MappedField(column="TEL", field="contact_info"),
    MappedField(column="AMOUNT", field="custom:amount", label="Amount due"),
]
STORED = [
    MappedField(column="ID", field="client_id", label="ID"),
    MappedField(column="TEL", field="contact_info", contact_info_type=1, label="TEL"),
    MappedField(column="AMOUNT", field="custom:amount", label="Amount due"),
]
FIXED = [
    SpecColumn(name="ID", start=1, length=8),
    SpecColumn(name="TEL", start=9, length=15),
    SpecColumn(name="AMOUNT", start=24, length=10),
]
PLAIN = [SpecColumn(name="ID"), SpecColumn(name="TEL"), SpecColumn(name="AMOUNT")]


def command(**fields: Any) -> CreateSpecificationFile:
    return CreateSpecificationFile(**{"name": "Billing extract", "fields": FIELDS, **fields})


def create(claim: Any = None, **fields: Any) -> list[Any]:
    return specification_file.create(
        command(**fields), spec_id=SPEC_ID, account_id=ACCOUNT_ID, claim=claim, now=NOW
    )


def layout(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        format="delimited",
        encoding="auto",
        delimiter=None,
        quote_char='"',
        header=True,
        skip_lines=0,
        columns=[],
        fields=STORED,
    )
    return {**base, **overrides}


def a_spec(*, used_by: tuple[UUID, ...] = (), archived: bool = False, **overrides: Any) -> SpecificationFile:
    specs = [ev(SpecificationFileCreated, name="Billing extract", description="", **layout(**overrides))]
    specs += [ev(SpecificationFileReferenced, by_id=rule_id) for rule_id in used_by]
    if archived:
        specs.append(ev(SpecificationFileArchived))
    state: SpecificationFile = given(specification_file.project, stream(SPEC_ID, *specs))
    return state


# Create ---------------------------------------------------------------------------------


def test_create_a_delimited_spec_with_defaults():
    events = create()

    assert_events(
        events,
        [
            claim_event(KIND, "Billing extract", SPEC_ID),
            expected(
                SPEC_ID, 1, SpecificationFileCreated, name="Billing extract", description="", **layout()
            ),
        ],
    )


def test_create_a_fixed_width_spec():
    (_, created) = create(format="fixed_width", encoding="cp1252", header=False, skip_lines=2, columns=FIXED)

    assert created == expected(
        SPEC_ID,
        1,
        SpecificationFileCreated,
        name="Billing extract",
        description="",
        **layout(format="fixed_width", encoding="cp1252", header=False, skip_lines=2, columns=FIXED),
    )


@pytest.mark.parametrize(
    ("given_as", "stored"),
    [
        (";", ";"),
        ("\t", "\t"),
        ("tab", "\t"),
        ("TAB", "\t"),
        ("\\t", "\t"),
        ("|", "|"),
        ("~", "~"),
        (None, None),
    ],
)
def test_delimiters(given_as, stored):
    (_, created) = create(delimiter=given_as)

    assert created.delimiter == stored


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        (dict(format="fixed_width"), "columns", "a fixed-width file needs its columns"),
        (
            dict(
                format="fixed_width", header=False, columns=[*FIXED[:2], SpecColumn(name="AMOUNT", length=3)]
            ),
            "columns[2].start",
            "needs its start",
        ),
        (
            dict(format="fixed_width", columns=[*FIXED[:2], SpecColumn(name="AMOUNT", start=30)]),
            "columns[2].length",
            "needs its length",
        ),
        (
            dict(
                format="fixed_width", columns=[FIXED[0], SpecColumn(name="TEL", start=8, length=5), FIXED[2]]
            ),
            "columns[1].start",
            "column 'TEL' (characters 8-12) overlaps column 'ID' (characters 1-8)",
        ),
        (
            dict(
                format="fixed_width", columns=[FIXED[2], FIXED[1], SpecColumn(name="ID", start=30, length=2)]
            ),
            "columns[2].start",
            "column 'ID' (characters 30-31) overlaps column 'AMOUNT' (characters 24-33)",
        ),
        (dict(format="fixed_width", columns=FIXED, delimiter=","), "delimiter", "no delimiter"),
        (dict(header=False), "columns", "without a header line needs its columns"),
        (dict(columns=[*PLAIN, SpecColumn(name="id ")]), "columns[3].name", "listed twice"),
        (
            dict(columns=[PLAIN[0], SpecColumn(name="TEL", start=3), PLAIN[2]]),
            "columns[1].start",
            "fixed-width",
        ),
        (
            dict(columns=[PLAIN[0], PLAIN[1], SpecColumn(name="AMOUNT", length=3)]),
            "columns[2].length",
            "fixed-width",
        ),
        (dict(columns=PLAIN[:2]), "fields[2].column", "'AMOUNT' is not among the specification's columns"),
        (dict(delimiter=";;"), "delimiter", "one character"),
        (dict(delimiter='"'), "delimiter", "quote character"),
        (dict(delimiter="'", quote_char="'"), "delimiter", "quote character"),
        (dict(delimiter="\n"), "delimiter", "line break"),
        (dict(quote_char="\r"), "quote_char", "line break"),
        (dict(fields=FIELDS[:1]), "fields", "contact_info"),
        (dict(fields=[*FIELDS, MappedField(column="X", field="bogus")]), "fields[3].field", "unknown field"),
    ],
)
def test_create_refuses_broken_layouts_naming_the_field(fields, field, says):
    with refused(RuleViolation, field) as info:
        create(**fields)

    assert says in info.value.detail


def test_adjacent_fixed_width_columns_in_any_order_do_not_overlap():
    columns = [FIXED[2], FIXED[0], FIXED[1]]

    (_, created) = create(format="fixed_width", columns=columns)

    assert created.columns == columns


def test_the_command_refuses_out_of_range_values():
    def decode(body: dict[str, Any]) -> Any:
        return msgspec.convert(body, CreateSpecificationFile)

    body = {"name": "x", "fields": [msgspec.to_builtins(f) for f in FIELDS]}
    decode(body)
    for bad, path in [
        ({"skip_lines": 101}, "$.skip_lines"),
        ({"skip_lines": -1}, "$.skip_lines"),
        ({"format": "xml"}, "$.format"),
        ({"encoding": "utf-16"}, "$.encoding"),
        ({"quote_char": "''"}, "$.quote_char"),
        ({"delimiter": ""}, "$.delimiter"),
        ({"columns": [{"name": "A", "start": -1}]}, "$.columns[0].start"),
        ({"fields": [{"column": "", "field": "client_id"}]}, "$.fields[0].column"),
        (
            {"fields": [{"column": "A", "field": "contact_info", "contact_info_type": 11}]},
            "$.fields[0].contact_info_type",
        ),
    ]:
        with pytest.raises(msgspec.ValidationError, match=re.escape(path)):
            decode({**body, **bad})


def test_create_refuses_a_name_in_use():
    with refused(NameTaken, "name"):
        create(claim=a_claim(KIND, "billing EXTRACT", UUID(int=9)))


# Change ---------------------------------------------------------------------------------


def test_change_merges_the_layout_and_validates_the_result():
    state = a_spec()

    events = specification_file.change(
        state,
        ChangeSpecificationFile(format="fixed_width", columns=FIXED, description="now fixed"),
        new_claim=None,
        old_claim=None,
        now=NOW,
    )

    assert_events(
        events,
        [
            expected(
                SPEC_ID,
                2,
                SpecificationFileChanged,
                name="Billing extract",
                description="now fixed",
                **layout(format="fixed_width", columns=FIXED),
            )
        ],
    )


def test_change_that_breaks_the_layout_is_refused():
    with refused(RuleViolation, "columns"):
        specification_file.change(
            a_spec(), ChangeSpecificationFile(header=False), new_claim=None, old_claim=None, now=NOW
        )
    with refused(RuleViolation, "delimiter"):
        specification_file.change(
            a_spec(delimiter=";"),
            ChangeSpecificationFile(format="fixed_width", columns=FIXED),
            new_claim=None,
            old_claim=None,
            now=NOW,
        )


def test_change_may_clear_the_delimiter():
    events = specification_file.change(
        a_spec(delimiter=";"),
        ChangeSpecificationFile(delimiter=None),
        new_claim=None,
        old_claim=None,
        now=NOW,
    )

    assert events[0].delimiter is None


def test_change_renames_and_a_no_op_records_nothing():
    state = a_spec()

    assert (
        specification_file.change(
            state,
            ChangeSpecificationFile(fields=FIELDS, delimiter=None),
            new_claim=None,
            old_claim=None,
            now=NOW,
        )
        == []
    )
    events = specification_file.change(
        state,
        ChangeSpecificationFile(name="Billing v2"),
        new_claim=None,
        old_claim=a_claim(KIND, "Billing extract", SPEC_ID),
        now=NOW,
    )
    assert [type(e).__name__ for e in events] == ["NameClaimed", "NameReleased", "SpecificationFileChanged"]
    assert events[0] == claim_event(KIND, "Billing v2", SPEC_ID)


def test_change_of_an_archived_spec_is_not_found():
    with refused(NotFound, "id"):
        specification_file.change(
            a_spec(archived=True),
            ChangeSpecificationFile(description="x"),
            new_claim=None,
            old_claim=None,
            now=NOW,
        )


# Archive, references, state -----------------------------------------------------------------


def test_archive_releases_the_name():
    events = specification_file.archive(a_spec(), claim=a_claim(KIND, "Billing extract", SPEC_ID), now=NOW)

    assert_events(
        events,
        [release_event(KIND, "Billing extract", SPEC_ID), expected(SPEC_ID, 2, SpecificationFileArchived)],
    )


def test_archive_is_refused_while_an_upload_rule_uses_it():
    with refused(InUse, "id"):
        specification_file.archive(a_spec(used_by=(RULE_ID,)), claim=None, now=NOW)


def test_references():
    state = a_spec(used_by=(RULE_ID,))

    assert specification_file.reference(state, RULE_ID, field="specification_file_id", now=NOW) == []
    assert_events(
        specification_file.release(state, RULE_ID, now=NOW),
        [expected(SPEC_ID, 3, SpecificationFileReleased, by_id=RULE_ID)],
    )
    with refused(NotFound, "specification_file_id"):
        specification_file.reference(None, RULE_ID, field="specification_file_id", now=NOW)
    released = given(
        specification_file.project,
        stream(
            SPEC_ID,
            ev(SpecificationFileCreated, name="Billing extract", description="", **layout()),
            ev(SpecificationFileReferenced, by_id=RULE_ID),
            ev(SpecificationFileReleased, by_id=RULE_ID),
            ev(SpecificationFileChanged, name="B", description="d", **layout(delimiter="|")),
        ),
    )
    assert (released.used_by, released.name, released.delimiter, released.version) == (
        frozenset(),
        "B",
        "|",
        4,
    )


# resolve --------------------------------------------------------------------------------------


def test_resolve_uses_the_specs_columns_when_it_lists_them():
    spec = a_spec(format="fixed_width", header=False, columns=[FIXED[2], FIXED[0], FIXED[1]])

    resolved = specification_file.resolve(spec)

    assert resolved.columns == ("AMOUNT", "ID", "TEL")
    assert (resolved.client_id, resolved.contact_info) == (1, (ContactIndex(2, 1),))
    assert resolved.custom == (CustomIndex(0, "amount", "Amount due"),)


def test_resolve_uses_the_files_header_otherwise():
    spec = a_spec()

    resolved = specification_file.resolve(spec, ["TEL", "AMOUNT", "ID", "Other"])

    assert (resolved.client_id, resolved.contact_info[0].position) == (2, 0)
    with refused(RuleViolation, "columns"):
        specification_file.resolve(spec)
    with refused(RuleViolation, "fields[1].column") as info:
        specification_file.resolve(spec, ["ID", "AMOUNT"])
    assert "no column 'TEL' mapped to contact_info" in info.value.detail
