"""/api/v1/specification-files, /api/v1/data-mappings and /api/v1/upload-rules over HTTP:
CRUD, validation naming the field, accounts kept apart, If-Match, names, deletion rules."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest

from dialstream.bootstrap import Runtime
from domain.errors import NotFound
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

SPECS = "/api/v1/specification-files"
MAPPINGS = "/api/v1/data-mappings"
RULES = "/api/v1/upload-rules"

FIELDS = [
    {"column": "CUST", "field": "client_id"},
    {"column": "HOME", "field": "contact_info"},
    {"column": "CELL", "field": "contact_info", "contact_info_type": 4, "label": "Mobile"},
    {"column": "AMOUNT", "field": "custom:balance", "label": "Balance due"},
]
STORED_FIELDS = [
    {"column": "CUST", "field": "client_id", "contact_info_type": None, "label": "CUST"},
    {"column": "HOME", "field": "contact_info", "contact_info_type": 1, "label": "HOME"},
    {"column": "CELL", "field": "contact_info", "contact_info_type": 4, "label": "Mobile"},
    {"column": "AMOUNT", "field": "custom:balance", "contact_info_type": None, "label": "Balance due"},
]
FIXED_COLUMNS = [
    {"name": "CUST", "start": 1, "length": 10},
    {"name": "HOME", "start": 11, "length": 15},
    {"name": "CELL", "start": 26, "length": 15},
    {"name": "AMOUNT", "start": 41, "length": 12},
]


def url(base: str, made: dict[str, Any]) -> str:
    return f"{base}/{made['id']}"


def spec(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return h.create(client, SPECS, {"name": h.unique("Spec"), "fields": FIELDS, **fields})


def mapping(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return h.create(client, MAPPINGS, {"name": h.unique("Mapping"), "fields": FIELDS, **fields})


def rule(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return h.create(client, RULES, {"name": h.unique("Rule"), **fields})


# Specification files ------------------------------------------------------------------


def test_create_get_and_list_a_fixed_width_spec(supervisor: httpx.Client, viewer: httpx.Client) -> None:
    name = h.unique("Billing extract")
    made = h.create(
        supervisor,
        SPECS,
        {
            "name": name,
            "description": "nightly",
            "format": "fixed_width",
            "encoding": "cp1252",
            "header": False,
            "skip_lines": 1,
            "columns": FIXED_COLUMNS,
            "fields": FIELDS,
        },
    )
    assert made["version"] == 1
    assert (made["name"], made["description"], made["format"], made["encoding"]) == (
        name,
        "nightly",
        "fixed_width",
        "cp1252",
    )
    assert (made["delimiter"], made["quote_char"], made["header"], made["skip_lines"]) == (
        None,
        '"',
        False,
        1,
    )
    assert made["columns"] == FIXED_COLUMNS
    assert made["fields"] == STORED_FIELDS
    assert made["used_by"] == []
    assert "archived" not in made
    got = h.get(viewer, url(SPECS, made))
    assert got.json() == made
    assert got.headers["ETag"] == '"1"'
    assert made["id"] in h.ids(viewer, SPECS)


def test_spec_defaults_and_a_tab_delimiter(supervisor: httpx.Client) -> None:
    made = spec(supervisor, delimiter="tab")
    assert (made["format"], made["encoding"], made["delimiter"], made["header"]) == (
        "delimited",
        "auto",
        "\t",
        True,
    )
    assert made["columns"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"skip_lines": 101}, "skip_lines"),
        ({"format": "xml"}, "format"),
        ({"encoding": "utf-16"}, "encoding"),
        ({"quote_char": "''"}, "quote_char"),
        ({"columns": [{"name": "CUST", "start": -1}]}, "columns[0].start"),
        ({"fields": [{"column": "CUST", "field": "client_id", "extra": 1}]}, "fields[0].extra"),
        ({"format": "fixed_width"}, "columns"),
        ({"header": False}, "columns"),
        ({"delimiter": ";;"}, "delimiter"),
        ({"format": "fixed_width", "columns": FIXED_COLUMNS, "delimiter": ","}, "delimiter"),
        (
            {
                "format": "fixed_width",
                "columns": [*FIXED_COLUMNS[:3], {"name": "AMOUNT", "start": 40, "length": 3}],
            },
            "columns[3].start",
        ),
        ({"format": "fixed_width", "columns": [{"name": "CUST", "length": 3}]}, "columns[0].start"),
        ({"columns": [{"name": "CUST"}, {"name": "cust"}]}, "columns[1].name"),
        ({"columns": [{"name": "CUST"}, {"name": "HOME"}, {"name": "CELL"}]}, "fields[3].column"),
        ({"fields": FIELDS[:1]}, "fields"),
        ({"fields": [*FIELDS, {"column": "X", "field": "client_id"}]}, "fields[4].field"),
        ({"fields": [*FIELDS, {"column": "X", "field": "custom:bad name"}]}, "fields[4].field"),
        ({"fields": [*FIELDS, {"column": "HOME", "field": "custom:again"}]}, "fields[4].column"),
        (
            {"fields": [*FIELDS, {"column": "Z", "field": "postal_code", "contact_info_type": 1}]},
            "fields[4].contact_info_type",
        ),
    ],
)
def test_spec_validation_names_the_field(supervisor: httpx.Client, body: dict[str, Any], field: str) -> None:
    response = supervisor.post(SPECS, json={"name": h.unique("Bad spec"), "fields": FIELDS, **body})
    h.assert_problem(response, 422, field)


def test_spec_patch_with_if_match_and_stale(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = spec(supervisor)
    tag = h.etag(supervisor, url(SPECS, made))
    response = supervisor.patch(
        url(SPECS, made),
        json={"format": "fixed_width", "columns": FIXED_COLUMNS, "skip_lines": 3},
        headers={"If-Match": tag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["format"], body["columns"], body["skip_lines"], body["version"]) == (
        "fixed_width",
        FIXED_COLUMNS,
        3,
        2,
    )
    assert response.headers["ETag"] == '"2"'
    before = runtime.store.position()
    stale = supervisor.patch(url(SPECS, made), json={"description": "lost"}, headers={"If-Match": tag})
    h.assert_problem(stale, 412, "If-Match")
    assert runtime.store.position() == before
    broken = supervisor.patch(url(SPECS, made), json={"columns": []})
    h.assert_problem(broken, 422, "columns")
    assert h.get(supervisor, url(SPECS, made)).json() == body


def test_spec_names_are_unique_per_account(supervisor: httpx.Client, other_admin: httpx.Client) -> None:
    made = spec(supervisor)
    again = supervisor.post(SPECS, json={"name": made["name"].upper(), "fields": FIELDS})
    h.assert_problem(again, 409, "name")
    other = spec(supervisor)
    renamed = supervisor.patch(url(SPECS, other), json={"name": f"  {made['name']} "})
    h.assert_problem(renamed, 409, "name")
    # Another account may use the name; the same kind in a data mapping is another namespace.
    spec(other_admin, name=made["name"])
    mapping(supervisor, name=made["name"])


def test_archived_spec_is_gone_and_its_name_free(supervisor: httpx.Client, viewer: httpx.Client) -> None:
    made = spec(supervisor)
    tag = h.etag(supervisor, url(SPECS, made))
    stale = supervisor.delete(url(SPECS, made), headers={"If-Match": '"7"'})
    h.assert_problem(stale, 412, "If-Match")
    assert supervisor.delete(url(SPECS, made), headers={"If-Match": tag}).status_code == 204
    h.assert_problem(viewer.get(url(SPECS, made)), 404)
    h.assert_problem(supervisor.patch(url(SPECS, made), json={"description": "x"}), 404)
    h.assert_problem(supervisor.delete(url(SPECS, made)), 404)
    assert made["id"] not in h.ids(viewer, SPECS)
    spec(supervisor, name=made["name"])


# Data mappings -------------------------------------------------------------------------


def test_data_mapping_crud(supervisor: httpx.Client, viewer: httpx.Client) -> None:
    made = mapping(supervisor, description="CRM export")
    assert (made["fields"], made["description"], made["used_by"], made["version"]) == (
        STORED_FIELDS,
        "CRM export",
        [],
        1,
    )
    assert h.get(viewer, url(MAPPINGS, made)).json() == made
    assert made["id"] in h.ids(viewer, MAPPINGS)
    email = [*FIELDS[:2], {"column": "E-mail", "field": "contact_info"}]
    changed = supervisor.patch(url(MAPPINGS, made), json={"fields": email}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["fields"][2] == {
        "column": "E-mail",
        "field": "contact_info",
        "contact_info_type": 10,
        "label": "E-mail",
    }
    h.assert_problem(
        supervisor.patch(url(MAPPINGS, made), json={"name": "x"}, headers={"If-Match": '"1"'}), 412
    )
    assert supervisor.delete(url(MAPPINGS, made)).status_code == 204
    h.assert_problem(viewer.get(url(MAPPINGS, made)), 404)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ([FIELDS[0]], "fields"),
        (FIELDS[1:], "fields"),
        ([*FIELDS, {"column": "X", "field": "nope"}], "fields[4].field"),
        ([*FIELDS, {"column": "X", "field": "custom:balance"}], "fields[4].field"),
        ([*FIELDS, {"column": "X", "field": "contact_info", "label": "mobile"}], "fields[4].label"),
        (
            [*FIELDS, {"column": "X", "field": "contact_info", "contact_info_type": 11}],
            "fields[4].contact_info_type",
        ),
        ([{"column": "", "field": "client_id"}], "fields[0].column"),
        ("CUST", "fields"),
    ],
)
def test_data_mapping_validation_names_the_field(supervisor: httpx.Client, fields: Any, field: str) -> None:
    response = supervisor.post(MAPPINGS, json={"name": h.unique("Bad mapping"), "fields": fields})
    h.assert_problem(response, 422, field)


def test_data_mapping_needs_its_fields(supervisor: httpx.Client) -> None:
    h.assert_problem(supervisor.post(MAPPINGS, json={"name": h.unique("No fields")}), 422, "fields")


# Upload rules --------------------------------------------------------------------------


def test_upload_rule_with_a_spec_blocks_its_deletion(supervisor: httpx.Client, viewer: httpx.Client) -> None:
    used = spec(supervisor)
    made = rule(
        supervisor,
        specification_file_id=used["id"],
        append_type="flush_and_append",
        phone_region="GB",
        default_record_type=7,
        reject_invalid_numbers=False,
    )
    assert {
        k: made[k]
        for k in (
            "append_type",
            "specification_file_id",
            "data_mapping_id",
            "phone_region",
            "default_record_type",
            "reject_invalid_numbers",
            "version",
        )
    } == {
        "append_type": "flush_and_append",
        "specification_file_id": used["id"],
        "data_mapping_id": None,
        "phone_region": "GB",
        "default_record_type": 7,
        "reject_invalid_numbers": False,
        "version": 1,
    }
    assert made["id"] in h.ids(viewer, RULES)
    now_used = h.get(viewer, url(SPECS, used)).json()
    assert (now_used["used_by"], now_used["version"]) == ([made["id"]], 2)
    refused = supervisor.delete(url(SPECS, used))
    h.assert_problem(refused, 409, "id")
    assert "upload rule" in refused.json()["detail"]
    assert supervisor.delete(url(RULES, made)).status_code == 204
    h.assert_problem(viewer.get(url(RULES, made)), 404)
    assert h.get(viewer, url(SPECS, used)).json()["used_by"] == []
    assert supervisor.delete(url(SPECS, used)).status_code == 204


def test_upload_rule_defaults_and_moving_between_spec_and_mapping(supervisor: httpx.Client) -> None:
    first = mapping(supervisor)
    made = rule(supervisor, data_mapping_id=first["id"])
    assert (made["append_type"], made["phone_region"], made["default_record_type"]) == (
        "append_only",
        None,
        2,
    )
    assert made["reject_invalid_numbers"] is True
    target = spec(supervisor)
    moved = supervisor.patch(
        url(RULES, made), json={"specification_file_id": target["id"]}, headers={"If-Match": '"1"'}
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["specification_file_id"], moved.json()["data_mapping_id"]) == (target["id"], None)
    assert h.get(supervisor, url(MAPPINGS, first)).json()["used_by"] == []
    assert h.get(supervisor, url(SPECS, target)).json()["used_by"] == [made["id"]]
    both = supervisor.patch(
        url(RULES, made), json={"specification_file_id": target["id"], "data_mapping_id": first["id"]}
    )
    h.assert_problem(both, 422, "data_mapping_id")
    neither = supervisor.patch(url(RULES, made), json={"specification_file_id": None})
    h.assert_problem(neither, 422, "specification_file_id")
    h.assert_problem(supervisor.delete(url(SPECS, target)), 409, "id")
    assert supervisor.delete(url(MAPPINGS, first)).status_code == 204


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "specification_file_id"),
        ({"append_type": "replace"}, 422, "append_type"),
        ({"phone_region": "gb"}, 422, "phone_region"),
        ({"phone_region": "XX"}, 422, "phone_region"),
        ({"default_record_type": 9}, 422, "default_record_type"),
        ({"data_mapping_id": "00000000-0000-4000-8000-000000000000"}, 404, "data_mapping_id"),
        ({"specification_file_id": "not-a-uuid"}, 422, "specification_file_id"),
    ],
)
def test_upload_rule_validation(
    supervisor: httpx.Client, body: dict[str, Any], status: int, field: str
) -> None:
    if "phone_region" in body or "append_type" in body or "default_record_type" in body:
        body = {"data_mapping_id": mapping(supervisor)["id"], **body}
    response = supervisor.post(RULES, json={"name": h.unique("Bad rule"), **body})
    h.assert_problem(response, status, field)


def test_upload_rule_cannot_use_an_archived_mapping(supervisor: httpx.Client) -> None:
    gone = mapping(supervisor)
    assert supervisor.delete(url(MAPPINGS, gone)).status_code == 204
    response = supervisor.post(RULES, json={"name": h.unique("Rule"), "data_mapping_id": gone["id"]})
    h.assert_problem(response, 404, "data_mapping_id")


def test_upload_rule_names_are_unique(supervisor: httpx.Client) -> None:
    used = mapping(supervisor)
    made = rule(supervisor, data_mapping_id=used["id"])
    again = supervisor.post(RULES, json={"name": made["name"].lower(), "data_mapping_id": used["id"]})
    h.assert_problem(again, 409, "name")


# Accounts, roles, loaders ------------------------------------------------------------------


def test_another_accounts_objects_are_not_found(supervisor: httpx.Client, account_b: Account) -> None:
    other = account_b.admin
    mine = {SPECS: spec(supervisor), MAPPINGS: mapping(supervisor)}
    mine[RULES] = rule(supervisor, data_mapping_id=mine[MAPPINGS]["id"])
    for base, made in mine.items():
        h.assert_problem(other.get(url(base, made)), 404)
        h.assert_problem(other.patch(url(base, made), json={"description": "x"}), 404)
        h.assert_problem(other.delete(url(base, made)), 404)
        assert made["id"] not in h.ids(other, base)
    response = other.post(
        RULES, json={"name": h.unique("Theirs"), "specification_file_id": mine[SPECS]["id"]}
    )
    h.assert_problem(response, 404, "specification_file_id")
    theirs = rule(other, data_mapping_id=mapping(other)["id"])
    moved = other.patch(url(RULES, theirs), json={"data_mapping_id": mine[MAPPINGS]["id"]})
    h.assert_problem(moved, 404, "data_mapping_id")


def test_viewers_read_and_supervisors_write(viewer: httpx.Client, supervisor: httpx.Client) -> None:
    made = spec(supervisor)
    for base, body in ((SPECS, {"fields": FIELDS}), (MAPPINGS, {"fields": FIELDS}), (RULES, {})):
        h.assert_problem(viewer.post(base, json={"name": h.unique("No"), **body}), 403)
    h.assert_problem(viewer.patch(url(SPECS, made), json={"description": "x"}), 403)
    h.assert_problem(viewer.delete(url(SPECS, made)), 403)


def test_the_loaders_the_import_uses(
    supervisor: httpx.Client, runtime: Runtime, account_a: Account, account_b: Account
) -> None:
    made_spec = spec(supervisor, delimiter=";")
    made_rule = rule(supervisor, specification_file_id=made_spec["id"], phone_region="CA")
    made_mapping = mapping(supervisor)
    handlers = runtime.handlers

    loaded = handlers.list_rules.upload_rule(account_a.id, UUID(made_rule["id"]))
    assert (loaded.specification_file_id, loaded.phone_region) == (UUID(made_spec["id"]), "CA")
    assert handlers.list_rules.specification_file(account_a.id, loaded.specification_file_id).delimiter == ";"
    assert handlers.list_rules.data_mapping(account_a.id, UUID(made_mapping["id"])).fields[1].contact_info_type == 1
    with pytest.raises(NotFound) as info:
        handlers.list_rules.upload_rule(account_b.id, UUID(made_rule["id"]))
    assert info.value.field == "upload_rule_id"
    assert supervisor.delete(url(MAPPINGS, made_mapping)).status_code == 204
    with pytest.raises(NotFound) as info:
        handlers.list_rules.data_mapping(account_a.id, UUID(made_mapping["id"]))
    assert info.value.field == "data_mapping_id"
