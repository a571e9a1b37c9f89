"""Samples of the specification-file, data-mapping and upload-rule events (schemas.list_rules),
merged into :mod:`tests.schemas.samples`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schemas import list_rules
from schemas.base import Event

SPEC_FILE = UUID("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e")
MAPPING = UUID("2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f")
RULE = UUID("3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e70")

MAPPED = [
    list_rules.MappedField(column="CUST_NO", field="client_id", label="Customer number"),
    list_rules.MappedField(column="HOME_TEL", field="contact_info", contact_info_type=1, label="Home"),
    list_rules.MappedField(column="CELL_TEL", field="contact_info", contact_info_type=4, label="Mobile"),
    list_rules.MappedField(column="ZIP", field="postal_code", label="ZIP"),
    list_rules.MappedField(column="AMOUNT", field="custom:balance", label="Balance due"),
]
SPEC_FIELDS: dict[str, Any] = dict(
    name="Mainframe arrears extract",
    description="Nightly fixed-width file from the billing system",
    format="fixed_width",
    encoding="cp1252",
    delimiter=None,
    quote_char='"',
    header=False,
    skip_lines=1,
    columns=[
        list_rules.SpecColumn(name="CUST_NO", start=1, length=10),
        list_rules.SpecColumn(name="HOME_TEL", start=11, length=15),
        list_rules.SpecColumn(name="CELL_TEL", start=26, length=15),
        list_rules.SpecColumn(name="ZIP", start=41, length=5),
        list_rules.SpecColumn(name="AMOUNT", start=46, length=12),
    ],
    fields=MAPPED,
)
MAPPING_FIELDS: dict[str, Any] = dict(
    name="CRM export",
    description="Header names of the CRM's CSV export",
    fields=[
        list_rules.MappedField(column="Customer", field="client_id", label="Customer"),
        list_rules.MappedField(column="Phone", field="contact_info", contact_info_type=1, label="Phone"),
        list_rules.MappedField(column="Email", field="contact_info", contact_info_type=10, label="Email"),
        list_rules.MappedField(column="Tier", field="custom:tier", label="Tier"),
    ],
)
RULE_FIELDS: dict[str, Any] = dict(
    name="Nightly arrears",
    description="Replace the list with the nightly extract",
    append_type="flush_and_append",
    specification_file_id=SPEC_FILE,
    data_mapping_id=None,
    phone_region="CA",
    default_record_type=2,
    reject_invalid_numbers=True,
)

LIST_RULE_SPECS: dict[type[Event], tuple[UUID, int, dict[str, Any]]] = {
    list_rules.SpecificationFileCreated: (SPEC_FILE, 1, SPEC_FIELDS),
    list_rules.SpecificationFileChanged: (SPEC_FILE, 2, {**SPEC_FIELDS, "skip_lines": 2}),
    list_rules.SpecificationFileReferenced: (SPEC_FILE, 3, dict(by_id=RULE)),
    list_rules.SpecificationFileReleased: (SPEC_FILE, 4, dict(by_id=RULE)),
    list_rules.SpecificationFileArchived: (SPEC_FILE, 5, {}),
    list_rules.DataMappingCreated: (MAPPING, 1, MAPPING_FIELDS),
    list_rules.DataMappingChanged: (MAPPING, 2, {**MAPPING_FIELDS, "description": "Now with e-mail"}),
    list_rules.DataMappingReferenced: (MAPPING, 3, dict(by_id=RULE)),
    list_rules.DataMappingReleased: (MAPPING, 4, dict(by_id=RULE)),
    list_rules.DataMappingArchived: (MAPPING, 5, {}),
    list_rules.UploadRuleCreated: (RULE, 1, RULE_FIELDS),
    list_rules.UploadRuleChanged: (
        RULE,
        2,
        {
            **RULE_FIELDS,
            "specification_file_id": None,
            "data_mapping_id": MAPPING,
            "reject_invalid_numbers": False,
        },
    ),
    list_rules.UploadRuleArchived: (RULE, 3, {}),
}
