"""Upload rules: decisions, validation, and the references they hold on specification
files and data mappings."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain import data_mapping, specification_file, upload_rule
from domain.data_mapping import DataMapping
from domain.errors import NameTaken, NotFound, RuleViolation
from domain.specification_file import SpecificationFile
from domain.upload_rule import ChangeUploadRule, CreateUploadRule, UploadRule, Uses
from schemas.list_rules import (
    DataMappingArchived,
    DataMappingCreated,
    DataMappingReferenced,
    DataMappingReleased,
    MappedField,
    SpecificationFileCreated,
    SpecificationFileReferenced,
    SpecificationFileReleased,
    UploadRuleArchived,
    UploadRuleChanged,
    UploadRuleCreated,
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

RULE_ID = UUID("0f000000-0000-4000-8000-000000000001")
SPEC_ID = UUID("0b000000-0000-4000-8000-00000000000f")
SPEC_2_ID = UUID("0b000000-0000-4000-8000-00000000001f")
MAPPING_ID = UUID("0e000000-0000-4000-8000-000000000001")
KIND = upload_rule.KIND

FIELDS = [
    MappedField(column="ID", field="client_id", label="ID"),
    MappedField(column="TEL", field="contact_info", contact_info_type=1, label="TEL"),
]


def a_spec(spec_id: UUID = SPEC_ID, *used_by: UUID) -> SpecificationFile:
    specs = [
        ev(
            SpecificationFileCreated,
            name=f"Spec {spec_id.int % 100}",
            description="",
            format="delimited",
            encoding="auto",
            delimiter=None,
            quote_char='"',
            header=True,
            skip_lines=0,
            columns=[],
            fields=FIELDS,
        )
    ]
    specs += [ev(SpecificationFileReferenced, by_id=by_id) for by_id in used_by]
    state: SpecificationFile = given(specification_file.project, stream(spec_id, *specs))
    return state


def a_mapping(*used_by: UUID, archived: bool = False) -> DataMapping:
    specs = [ev(DataMappingCreated, name="CRM", description="", fields=FIELDS)]
    specs += [ev(DataMappingReferenced, by_id=by_id) for by_id in used_by]
    if archived:
        specs.append(ev(DataMappingArchived))
    state: DataMapping = given(data_mapping.project, stream(MAPPING_ID, *specs))
    return state


RULE_DEFAULTS: dict[str, Any] = dict(
    append_type="append_only",
    specification_file_id=None,
    data_mapping_id=None,
    phone_region=None,
    default_record_type=2,
    reject_invalid_numbers=True,
)


def a_rule(*, archived: bool = False, **overrides: Any) -> UploadRule:
    specs = [ev(UploadRuleCreated, name="Nightly", description="", **{**RULE_DEFAULTS, **overrides})]
    if archived:
        specs.append(ev(UploadRuleArchived))
    state: UploadRule = given(upload_rule.project, stream(RULE_ID, *specs))
    return state


def uses(*objects: Any) -> Uses:
    return Uses(
        {o.id: o for o in objects if isinstance(o, SpecificationFile)},
        {o.id: o for o in objects if isinstance(o, DataMapping)},
    )


def create(objects: Uses, claim: Any = None, **fields: Any) -> list[Any]:
    return upload_rule.create(
        CreateUploadRule(**{"name": "Nightly", **fields}),
        rule_id=RULE_ID,
        account_id=ACCOUNT_ID,
        uses=objects,
        claim=claim,
        now=NOW,
    )


def change(state: UploadRule, objects: Uses, **fields: Any) -> list[Any]:
    return upload_rule.change(
        state, ChangeUploadRule(**fields), uses=objects, new_claim=None, old_claim=None, now=NOW
    )


# Create ---------------------------------------------------------------------------------


def test_create_references_its_specification_file():
    events = create(
        uses(a_spec()),
        specification_file_id=SPEC_ID,
        append_type="flush_and_append",
        phone_region="GB",
        default_record_type=7,
        reject_invalid_numbers=False,
    )

    assert_events(
        events,
        [
            claim_event(KIND, "Nightly", RULE_ID),
            expected(SPEC_ID, 2, SpecificationFileReferenced, by_id=RULE_ID),
            expected(
                RULE_ID,
                1,
                UploadRuleCreated,
                name="Nightly",
                description="",
                **{
                    **RULE_DEFAULTS,
                    "specification_file_id": SPEC_ID,
                    "append_type": "flush_and_append",
                    "phone_region": "GB",
                    "default_record_type": 7,
                    "reject_invalid_numbers": False,
                },
            ),
        ],
    )


def test_create_with_a_data_mapping_and_defaults():
    events = create(uses(a_mapping()), data_mapping_id=MAPPING_ID)

    assert events[1:] == [
        expected(MAPPING_ID, 2, DataMappingReferenced, by_id=RULE_ID),
        expected(
            RULE_ID,
            1,
            UploadRuleCreated,
            name="Nightly",
            description="",
            **{**RULE_DEFAULTS, "data_mapping_id": MAPPING_ID},
        ),
    ]


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({}, RuleViolation, "specification_file_id"),
        (dict(specification_file_id=SPEC_ID, data_mapping_id=MAPPING_ID), RuleViolation, "data_mapping_id"),
        (dict(specification_file_id=SPEC_2_ID), NotFound, "specification_file_id"),
        (dict(data_mapping_id=SPEC_2_ID), NotFound, "data_mapping_id"),
        (dict(data_mapping_id=MAPPING_ID, phone_region="XX"), RuleViolation, "phone_region"),
    ],
)
def test_create_refuses(fields, error, field):
    with refused(error, field):
        create(uses(a_spec(), a_mapping()), **fields)


def test_create_refuses_an_archived_mapping_and_a_name_in_use():
    with refused(NotFound, "data_mapping_id"):
        create(uses(a_mapping(archived=True)), data_mapping_id=MAPPING_ID)
    with refused(NameTaken, "name"):
        create(uses(a_mapping()), claim=a_claim(KIND, "nightly", UUID(int=3)), data_mapping_id=MAPPING_ID)


def test_the_command_limits():
    for bad in (
        {"append_type": "replace"},
        {"phone_region": "gb"},
        {"default_record_type": 8},
        {"reject_invalid_numbers": "yes"},
    ):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert({"name": "x", **bad}, CreateUploadRule)


# Change ---------------------------------------------------------------------------------


def test_moving_to_another_spec_references_it_and_releases_the_old_one():
    state = a_rule(specification_file_id=SPEC_ID)

    events = change(state, uses(a_spec(SPEC_ID, RULE_ID), a_spec(SPEC_2_ID)), specification_file_id=SPEC_2_ID)

    assert_events(
        events,
        [
            expected(SPEC_2_ID, 2, SpecificationFileReferenced, by_id=RULE_ID),
            expected(SPEC_ID, 3, SpecificationFileReleased, by_id=RULE_ID),
            expected(
                RULE_ID,
                2,
                UploadRuleChanged,
                name="Nightly",
                description="",
                **{**RULE_DEFAULTS, "specification_file_id": SPEC_2_ID},
            ),
        ],
    )


def test_giving_a_data_mapping_moves_the_rule_off_its_spec():
    state = a_rule(specification_file_id=SPEC_ID)

    events = change(state, uses(a_spec(SPEC_ID, RULE_ID), a_mapping()), data_mapping_id=MAPPING_ID)

    assert [type(e) for e in events] == [SpecificationFileReleased, DataMappingReferenced, UploadRuleChanged]
    assert (events[-1].specification_file_id, events[-1].data_mapping_id) == (None, MAPPING_ID)


def test_both_or_neither_is_refused_on_change():
    state = a_rule(specification_file_id=SPEC_ID)
    objects = uses(a_spec(SPEC_ID, RULE_ID), a_mapping())

    with refused(RuleViolation, "data_mapping_id"):
        change(state, objects, specification_file_id=SPEC_ID, data_mapping_id=MAPPING_ID)
    with refused(RuleViolation, "specification_file_id"):
        change(state, objects, specification_file_id=None)


def test_change_of_other_fields_keeps_the_reference():
    state = a_rule(data_mapping_id=MAPPING_ID)

    events = change(state, uses(a_mapping(RULE_ID)), append_type="append_and_update", phone_region="CA")

    assert_events(
        events,
        [
            expected(
                RULE_ID,
                2,
                UploadRuleChanged,
                name="Nightly",
                description="",
                **{
                    **RULE_DEFAULTS,
                    "data_mapping_id": MAPPING_ID,
                    "append_type": "append_and_update",
                    "phone_region": "CA",
                },
            ),
        ],
    )
    assert change(state, uses(a_mapping(RULE_ID)), append_type="append_only", phone_region=None) == []


def test_change_may_clear_the_phone_region():
    state = a_rule(data_mapping_id=MAPPING_ID, phone_region="CA")

    (changed,) = change(state, uses(), phone_region=None)

    assert changed.phone_region is None


def test_rename_claims_and_releases():
    state = a_rule(data_mapping_id=MAPPING_ID)

    events = upload_rule.change(
        state,
        ChangeUploadRule(name="Weekly"),
        uses=uses(),
        new_claim=None,
        old_claim=a_claim(KIND, "Nightly", RULE_ID),
        now=NOW,
    )

    assert events[:2] == [claim_event(KIND, "Weekly", RULE_ID), release_event(KIND, "Nightly", RULE_ID)]


def test_change_of_an_archived_rule_is_not_found():
    with refused(NotFound, "id"):
        change(a_rule(archived=True, data_mapping_id=MAPPING_ID), uses(), description="x")


# Archive, state ---------------------------------------------------------------------------


def test_archive_releases_the_name_and_what_it_uses():
    state = a_rule(data_mapping_id=MAPPING_ID)

    events = upload_rule.archive(
        state, uses=uses(a_mapping(RULE_ID)), claim=a_claim(KIND, "Nightly", RULE_ID), now=NOW
    )

    assert_events(
        events,
        [
            release_event(KIND, "Nightly", RULE_ID),
            expected(MAPPING_ID, 3, DataMappingReleased, by_id=RULE_ID),
            expected(RULE_ID, 2, UploadRuleArchived),
        ],
    )


def test_archive_when_the_mapping_is_gone_still_archives():
    events = upload_rule.archive(a_rule(data_mapping_id=MAPPING_ID), uses=uses(), claim=None, now=NOW)

    assert events == [expected(RULE_ID, 2, UploadRuleArchived)]


def test_state_folds_every_event():
    state = given(
        upload_rule.project,
        stream(
            RULE_ID,
            ev(
                UploadRuleCreated,
                name="A",
                description="",
                **{**RULE_DEFAULTS, "data_mapping_id": MAPPING_ID},
            ),
            ev(
                UploadRuleChanged,
                name="B",
                description="d",
                **{**RULE_DEFAULTS, "specification_file_id": SPEC_ID, "phone_region": "FR"},
            ),
            ev(UploadRuleArchived),
        ),
    )

    assert (state.name, state.specification_file_id, state.data_mapping_id, state.phone_region) == (
        "B",
        SPEC_ID,
        None,
        "FR",
    )
    assert (state.version, state.deleted) == (3, True)
