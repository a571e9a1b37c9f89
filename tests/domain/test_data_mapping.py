"""Data mappings: decisions, the mapping rules, resolve() on a file's columns, default_mapping()."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from domain import data_mapping
from domain.data_mapping import (
    ChangeDataMapping,
    ContactIndex,
    CreateDataMapping,
    CustomIndex,
    DataMapping,
    Resolved,
    default_mapping,
    resolve,
)
from domain.errors import InUse, NameTaken, NotFound, RuleViolation
from schemas.imports import FieldMap
from schemas.list_rules import (
    DataMappingArchived,
    DataMappingChanged,
    DataMappingCreated,
    DataMappingReferenced,
    DataMappingReleased,
    MappedField,
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

MAPPING_ID = UUID("0e000000-0000-4000-8000-000000000001")
RULE_ID = UUID("0f000000-0000-4000-8000-000000000001")
RULE_2_ID = UUID("0f000000-0000-4000-8000-000000000002")
KIND = data_mapping.KIND


def f(column: str, field: str, contact_info_type: int | None = None, label: str = "") -> MappedField:
    return MappedField(column=column, field=field, contact_info_type=contact_info_type, label=label)


GIVEN_FIELDS = [
    f("Customer", "client_id"),
    f("Home", "contact_info"),
    f("Mobile", "contact_info", 4),
    f("Email", "contact_info"),
    f("Balance", "custom:balance", label="Balance due"),
    f("ZIP", "postal_code"),
]
STORED_FIELDS = [
    f("Customer", "client_id", label="Customer"),
    f("Home", "contact_info", 1, "Home"),
    f("Mobile", "contact_info", 4, "Mobile"),
    f("Email", "contact_info", 10, "Email"),
    f("Balance", "custom:balance", label="Balance due"),
    f("ZIP", "postal_code", label="ZIP"),
]


def a_mapping(
    *,
    name: str = "Arrears",
    fields: list[MappedField] | None = None,
    used_by: tuple[UUID, ...] = (),
    archived: bool = False,
) -> DataMapping:
    specs = [ev(DataMappingCreated, name=name, description="", fields=fields or STORED_FIELDS)]
    specs += [ev(DataMappingReferenced, by_id=rule_id) for rule_id in used_by]
    if archived:
        specs.append(ev(DataMappingArchived))
    state: DataMapping = given(data_mapping.project, stream(MAPPING_ID, *specs))
    return state


def create(fields: list[MappedField], name: str = "Arrears", claim: Any = None) -> list[Any]:
    return data_mapping.create(
        CreateDataMapping(name=name, fields=fields),
        mapping_id=MAPPING_ID,
        account_id=ACCOUNT_ID,
        claim=claim,
        now=NOW,
    )


# Create ---------------------------------------------------------------------------------


def test_create_claims_the_name_and_stores_the_fields_filled_in():
    events = create(GIVEN_FIELDS, name="  Arrears   file ")

    assert_events(
        events,
        [
            claim_event(KIND, "Arrears file", MAPPING_ID),
            expected(
                MAPPING_ID, 1, DataMappingCreated, name="Arrears file", description="", fields=STORED_FIELDS
            ),
        ],
    )


def test_create_refuses_a_name_in_use():
    with refused(NameTaken, "name"):
        create(GIVEN_FIELDS, claim=a_claim(KIND, "Arrears", UUID(int=5)))


def test_create_may_take_a_released_name():
    events = create(GIVEN_FIELDS, claim=a_claim(KIND, "Arrears", UUID(int=5), released=True))

    assert events[0] == claim_event(KIND, "Arrears", MAPPING_ID, version=3)


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ([f("C", "client_id"), f("P", "telephone")], "fields[1].field", "unknown field 'telephone'"),
        (
            [f("C", "client_id"), f("P", "contact_info"), f("X", "custom:9x")],
            "fields[2].field",
            "custom field",
        ),
        (
            [f("C", "client_id"), f("P", "contact_info"), f("P", "custom:p")],
            "fields[2].column",
            "mapped twice",
        ),
        (
            [f("C", "client_id"), f("P", "contact_info"), f("D", "client_id")],
            "fields[2].field",
            "two columns",
        ),
        (
            [f("C", "client_id"), f("P", "contact_info"), f("T", "record_type"), f("U", "record_type")],
            "fields[3].field",
            "only contact_info may be mapped from several",
        ),
        (
            [f("C", "client_id", 1), f("P", "contact_info")],
            "fields[0].contact_info_type",
            "contact_info columns only",
        ),
        (
            [
                f("C", "client_id"),
                f("P", "contact_info", label="Phone"),
                f("Q", "contact_info", label="phone "),
            ],
            "fields[2].label",
            "label 'phone' is used twice",
        ),
        ([f("C", "client_id"), f("P", "contact_info"), f("p", "custom:p")], "fields[2].label", "used twice"),
        ([f("P", "contact_info")], "fields", "client_id"),
        ([f("C", "client_id"), f("B", "custom:b")], "fields", "contact_info"),
        ([], "fields", "client_id"),
    ],
)
def test_create_refuses_broken_mappings_naming_the_entry(fields, field, says):
    with refused(RuleViolation, field) as info:
        create(fields)

    assert says in info.value.detail


def test_several_contact_columns_and_all_standard_targets_are_accepted():
    targets = [
        "record_type",
        "record_status",
        "call_result",
        "attempt",
        "dial_sched_time",
        "call_time",
        "daily_from",
        "daily_till",
        "time_zone",
        "postal_code",
        "country",
        "state",
    ]
    fields = [f("C", "client_id"), f("P1", "contact_info"), f("P2", "contact_info", 0)]
    fields += [f(target.upper(), target) for target in targets]

    (_, created) = create(fields)

    assert [m.field for m in created.fields] == ["client_id", "contact_info", "contact_info", *targets]
    assert created.fields[2].contact_info_type == 0


# Change ---------------------------------------------------------------------------------


def test_change_renames_and_remaps():
    state = a_mapping()
    new_fields = [f("Id", "client_id"), f("Cell", "contact_info", 4)]

    events = data_mapping.change(
        state,
        ChangeDataMapping(name="Arrears v2", fields=new_fields),
        new_claim=None,
        old_claim=a_claim(KIND, "Arrears", MAPPING_ID),
        now=NOW,
    )

    assert_events(
        events,
        [
            claim_event(KIND, "Arrears v2", MAPPING_ID),
            release_event(KIND, "Arrears", MAPPING_ID),
            expected(
                MAPPING_ID,
                2,
                DataMappingChanged,
                name="Arrears v2",
                description="",
                fields=[f("Id", "client_id", label="Id"), f("Cell", "contact_info", 4, "Cell")],
            ),
        ],
    )


def test_change_to_what_it_is_records_nothing():
    state = a_mapping()

    events = data_mapping.change(
        state, ChangeDataMapping(name="Arrears", fields=GIVEN_FIELDS), new_claim=None, old_claim=None, now=NOW
    )

    assert events == []


def test_change_validates_the_new_fields():
    with refused(RuleViolation, "fields"):
        data_mapping.change(
            a_mapping(),
            ChangeDataMapping(fields=[f("C", "client_id")]),
            new_claim=None,
            old_claim=None,
            now=NOW,
        )


def test_change_of_an_archived_mapping_is_not_found():
    with refused(NotFound, "id"):
        data_mapping.change(
            a_mapping(archived=True),
            ChangeDataMapping(description="x"),
            new_claim=None,
            old_claim=None,
            now=NOW,
        )


# Archive, references ----------------------------------------------------------------------


def test_archive_releases_the_name():
    events = data_mapping.archive(a_mapping(), claim=a_claim(KIND, "Arrears", MAPPING_ID), now=NOW)

    assert_events(
        events, [release_event(KIND, "Arrears", MAPPING_ID), expected(MAPPING_ID, 2, DataMappingArchived)]
    )


def test_archive_is_refused_while_an_upload_rule_uses_it():
    with refused(InUse, "id") as info:
        data_mapping.archive(a_mapping(used_by=(RULE_ID,)), claim=None, now=NOW)

    assert "1 upload rule" in info.value.detail


def test_references_are_counted_once_and_released():
    state = a_mapping(used_by=(RULE_ID,))

    assert data_mapping.reference(state, RULE_ID, field="data_mapping_id", now=NOW) == []
    assert_events(
        data_mapping.reference(state, RULE_2_ID, field="data_mapping_id", now=NOW),
        [expected(MAPPING_ID, 3, DataMappingReferenced, by_id=RULE_2_ID)],
    )
    assert_events(
        data_mapping.release(state, RULE_ID, now=NOW),
        [expected(MAPPING_ID, 3, DataMappingReleased, by_id=RULE_ID)],
    )
    assert data_mapping.release(state, RULE_2_ID, now=NOW) == []
    with refused(NotFound, "data_mapping_id"):
        data_mapping.reference(a_mapping(archived=True), RULE_ID, field="data_mapping_id", now=NOW)


def test_state_folds_every_event():
    state = given(
        data_mapping.project,
        stream(
            MAPPING_ID,
            ev(DataMappingCreated, name="A", description="d", fields=STORED_FIELDS),
            ev(DataMappingReferenced, by_id=RULE_ID),
            ev(DataMappingReferenced, by_id=RULE_2_ID),
            ev(DataMappingReleased, by_id=RULE_ID),
            ev(DataMappingChanged, name="B", description="e", fields=STORED_FIELDS[:2]),
            ev(DataMappingArchived),
        ),
    )

    assert (state.name, state.description, state.fields) == ("B", "e", STORED_FIELDS[:2])
    assert state.used_by == frozenset({RULE_2_ID})
    assert (state.version, state.archived, state.deleted) == (6, True, True)


# resolve ----------------------------------------------------------------------------------

COLUMNS = ["Customer", "Home", "Balance", "Mobile", "ZIP", "Email"]


def test_resolve_places_every_target_on_the_file():
    resolved = resolve(STORED_FIELDS, COLUMNS)

    assert resolved == Resolved(
        columns=tuple(COLUMNS),
        client_id=0,
        contact_info=(ContactIndex(1, 1), ContactIndex(3, 4), ContactIndex(5, 10)),
        targets={"postal_code": 4},
        custom=(CustomIndex(2, "balance", "Balance due"),),
        labels={"client_id": "Customer", "custom:balance": "Balance due", "postal_code": "ZIP"},
        contact_labels=("Home", "Mobile", "Email"),
    )
    assert resolved.column_of(resolved.contact_info[1].position) == "Mobile"


def test_resolve_takes_a_jobs_field_maps_and_fills_in_defaults():
    fields = [FieldMap(column="id", field="client_id"), FieldMap(column="E-mail 2", field="contact_info")]

    resolved = resolve(fields, ["E-mail 2", "id"])

    assert (resolved.client_id, resolved.contact_info) == (1, (ContactIndex(0, 10),))
    assert resolved.labels == {"client_id": "id"}


def test_resolve_matches_case_and_spaces_when_unambiguous():
    resolved = resolve(STORED_FIELDS, [" customer", "HOME", "balance", "Mobile ", "zip", "EMAIL"])

    assert resolved.client_id == 0 and [c.position for c in resolved.contact_info] == [1, 3, 5]
    # An exact name wins over loose ones; two loose ones are ambiguous.
    assert resolve(STORED_FIELDS, [*COLUMNS, "home"]).contact_info[0].position == 1
    with refused(RuleViolation, "fields[1].column"):
        resolve(STORED_FIELDS, ["Customer", "HOME", "home ", "Balance", "Mobile", "ZIP", "Email"])


def test_resolve_names_every_missing_column_and_the_files_columns():
    with pytest.raises(RuleViolation) as info:
        resolve(STORED_FIELDS, ["Customer", "Home", "Balance", "ZIP"])

    assert info.value.detail == (
        "the file has no column 'Mobile' mapped to contact_info; no column 'Email' mapped to contact_info; "
        "its columns are: 'Customer', 'Home', 'Balance', 'ZIP'"
    )
    assert info.value.field == "fields[2].column"


def test_resolve_refuses_a_column_the_file_holds_twice():
    with refused(RuleViolation, "fields[1].column") as info:
        resolve(STORED_FIELDS, [*COLUMNS, "Home"])

    assert "2 columns named 'Home'" in info.value.detail


def test_resolve_refuses_two_mapped_columns_landing_on_one():
    fields = [f("Id", "client_id"), f("Phone", "contact_info"), f("PHONE", "custom:again")]

    with refused(RuleViolation, "fields[2].column") as info:
        resolve(fields, ["Id", "phone"])

    assert "both the file's column 'phone'" in info.value.detail


def test_resolve_says_what_the_file_has_when_the_mapping_lacks_a_client_id():
    with refused(RuleViolation, "fields") as info:
        resolve(default_mapping(["Name", "Phone"]), ["Name", "Phone"])

    assert info.value.detail == (
        "a mapping needs one column mapped to client_id; the file's columns are: 'Name', 'Phone'"
    )


def test_resolve_applies_the_mapping_rules():
    with refused(RuleViolation, "fields[1].field"):
        resolve([f("Id", "client_id"), f("X", "nonsense"), f("P", "contact_info")], ["Id", "X", "P"])


# default_mapping ----------------------------------------------------------------------------


def test_default_mapping_maps_headers_by_name():
    columns = [
        "Client ID",
        "Phone",
        "phone_2",
        "Mobile Number",
        "Work-Phone",
        "E-mail",
        "Balance Due",
        "Zip",
        "record type",
        "Time Zone",
        "Cell1",
        "Pager",
        "Voice Mail",
        "2nd address",
    ]

    mapped = default_mapping(columns)

    assert [(m.column, m.field, m.contact_info_type) for m in mapped] == [
        ("Client ID", "client_id", None),
        ("Phone", "contact_info", 1),
        ("phone_2", "contact_info", 1),
        ("Mobile Number", "contact_info", 4),
        ("Work-Phone", "contact_info", 2),
        ("E-mail", "contact_info", 10),
        ("Balance Due", "custom:balance_due", None),
        ("Zip", "postal_code", None),
        ("record type", "record_type", None),
        ("Time Zone", "time_zone", None),
        ("Cell1", "contact_info", 4),
        ("Pager", "contact_info", 6),
        ("Voice Mail", "contact_info", 8),
        ("2nd address", "custom:_2nd_address", None),
    ]
    assert all(m.label == m.column for m in mapped)
    assert all(isinstance(m, FieldMap) for m in mapped)
    resolved = resolve(mapped, columns)
    assert len(resolved.contact_info) == 8


def test_default_mapping_keeps_custom_names_valid_and_unique():
    columns = ["id", "phone", "Balance ($)", "balance", "client_id", "Über-Name", "x" * 80, "", "État"]

    mapped = default_mapping(columns)

    assert [m.field for m in mapped] == [
        "custom:id",
        "contact_info",
        "custom:balance",
        "custom:balance_2",
        "client_id",
        "custom:uber_name",
        "custom:" + "x" * 63,
        "custom:etat",
    ]
    resolve(mapped, columns)


def test_default_mapping_maps_a_target_once_and_the_rest_as_custom():
    mapped = default_mapping(["client_id", "Client-ID", "phone", "country", "Country"])

    assert [m.field for m in mapped] == [
        "client_id",
        "custom:client_id",
        "contact_info",
        "country",
        "custom:country",
    ]


def test_default_mapping_leaves_a_repeated_header_to_resolve():
    columns = ["client_id", "Phone", "Phone"]

    mapped = default_mapping(columns)

    assert [m.column for m in mapped] == ["client_id", "Phone"]
    with refused(RuleViolation, "fields[1].column"):
        resolve(mapped, columns)


# for_channel --------------------------------------------------------------------------------


def _fields(mapped: list[FieldMap]) -> list[tuple[str, str, int | None]]:
    return [(m.column, m.field, m.contact_info_type) for m in mapped]


HEADER = ["client_id", "Phone", "Mobile", "E-mail", "email", "Balance"]


def test_on_voice_and_sms_lists_email_columns_become_custom_fields():
    for channel in ("voice", "sms"):
        assert _fields(data_mapping.for_channel(default_mapping(HEADER), channel)) == [
            ("client_id", "client_id", None),
            ("Phone", "contact_info", 1),
            ("Mobile", "contact_info", 4),
            ("E-mail", "custom:e_mail", None),
            ("email", "custom:email", None),
            ("Balance", "custom:balance", None),
        ]


def test_on_an_email_list_phone_columns_become_custom_fields_named_apart_from_the_others():
    mapped = default_mapping([*HEADER, "phone "])  # "phone " is a custom field named "phone" already
    mapped = [m if m.column != "phone " else FieldMap(column="phone ", field="custom:phone") for m in mapped]
    assert _fields(data_mapping.for_channel(mapped, "email")) == [
        ("client_id", "client_id", None),
        ("Phone", "custom:phone_2", None),
        ("Mobile", "custom:mobile", None),
        ("E-mail", "contact_info", 10),
        ("email", "contact_info", 10),
        ("Balance", "custom:balance", None),
        ("phone ", "custom:phone", None),
    ]


def test_an_untyped_contact_column_is_an_address_on_an_email_list_and_what_its_name_says_elsewhere():
    mapped = [
        FieldMap(column="Id", field="client_id"),
        FieldMap(column="Adresse", field="contact_info"),
        FieldMap(column="Courriel", field="contact_info"),
    ]
    assert _fields(data_mapping.for_channel(mapped, "email")) == [
        ("Id", "client_id", None),
        ("Adresse", "contact_info", 10),
        ("Courriel", "contact_info", 10),
    ]
    assert _fields(data_mapping.for_channel(mapped, "voice")) == [
        ("Id", "client_id", None),
        ("Adresse", "contact_info", 1),
        ("Courriel", "custom:courriel", None),
    ]


def test_a_mapping_with_no_device_of_the_channel_is_refused_saying_which():
    with refused(RuleViolation, "fields") as error:
        data_mapping.for_channel(default_mapping(["client_id", "phone", "mobile"]), "email")
    assert "('phone', 'mobile') hold phone numbers" in error.value.detail
