"""/api/v1/upload-rules: a specification file or data mapping, an append type, a phone
region, a default record type and what invalid numbers do."""

from __future__ import annotations

from domain.upload_rule import ChangeUploadRule, CreateUploadRule, UploadRule
from gateway.deps import Supervisor
from gateway.routes.resource import Resource
from projections.catalogue import UPLOAD_RULE

resource = Resource(
    prefix="/api/v1/upload-rules",
    tag="upload rules",
    kind=UPLOAD_RULE,
    label="upload rule",
    state_type=UploadRule,
    create=CreateUploadRule,
    change=ChangeUploadRule,
    writer=Supervisor,
    id_name="upload_rule_id",
    create_with=lambda handlers, account_id, command: handlers.list_rules.create_upload_rule(account_id, command),
    change_with=lambda handlers, account_id, rule_id, command, expected: handlers.list_rules.change_upload_rule(
        account_id, rule_id, command, expected_version=expected
    ),
    delete_with=lambda handlers, account_id, rule_id, expected: handlers.list_rules.archive_upload_rule(
        account_id, rule_id, expected_version=expected
    ),
    delete_summary="Archive an upload rule",
)
router = resource.router
