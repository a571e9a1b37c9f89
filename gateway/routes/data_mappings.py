"""/api/v1/data-mappings: a file's header names mapped to record fields."""

from __future__ import annotations

from domain.data_mapping import ChangeDataMapping, CreateDataMapping, DataMapping
from gateway.deps import Supervisor
from gateway.routes.resource import Resource
from projections.catalogue import DATA_MAPPING

resource = Resource(
    prefix="/api/v1/data-mappings",
    tag="data mappings",
    kind=DATA_MAPPING,
    label="data mapping",
    state_type=DataMapping,
    create=CreateDataMapping,
    change=ChangeDataMapping,
    writer=Supervisor,
    id_name="data_mapping_id",
    create_with=lambda handlers, account_id, command: handlers.list_rules.create_data_mapping(account_id, command),
    change_with=lambda handlers, account_id, mapping_id, command, expected: handlers.list_rules.change_data_mapping(
        account_id, mapping_id, command, expected_version=expected
    ),
    delete_with=lambda handlers, account_id, mapping_id, expected: handlers.list_rules.archive_data_mapping(
        account_id, mapping_id, expected_version=expected
    ),
    delete_summary="Archive a data mapping (refused while an upload rule uses it)",
)
router = resource.router
