"""/api/v1/specification-files: file layouts (delimited or fixed width) and their mappings."""

from __future__ import annotations

from domain.specification_file import ChangeSpecificationFile, CreateSpecificationFile, SpecificationFile
from gateway.deps import Supervisor
from gateway.routes.resource import Resource
from projections.catalogue import SPECIFICATION_FILE

resource = Resource(
    prefix="/api/v1/specification-files",
    tag="specification files",
    kind=SPECIFICATION_FILE,
    label="specification file",
    state_type=SpecificationFile,
    create=CreateSpecificationFile,
    change=ChangeSpecificationFile,
    writer=Supervisor,
    id_name="specification_file_id",
    create_with=lambda handlers, account_id, command: handlers.list_rules.create_specification_file(account_id, command),
    change_with=lambda handlers, account_id, spec_id, command, expected: handlers.list_rules.change_specification_file(
        account_id, spec_id, command, expected_version=expected
    ),
    delete_with=lambda handlers, account_id, spec_id, expected: handlers.list_rules.archive_specification_file(
        account_id, spec_id, expected_version=expected
    ),
    delete_summary="Archive a specification file (refused while an upload rule uses it)",
)
router = resource.router
