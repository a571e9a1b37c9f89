"""Requesting an import: everything a job decides its rows with is fixed here, once.

The uploaded file is already on disk (the gateway streams it there); the job records
where, with the layout, mapping, append type and time-zone options in force now, so
that a job resumed later, or rerun from the log, decides every row the same way.
The list, the suppression list and the stored list rules come from the concerns given to
:class:`ImportHandlers`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

import msgspec
from msgspec import Struct

from dialstream.handlers.context import Context
from dialstream.handlers.list_rules import ListRuleHandlers
from dialstream.handlers.lists import ContactListHandlers
from dialstream.handlers.suppression import SuppressionHandlers
from dialstream.results import Done
from domain import import_job
from domain.errors import RuleViolation
from domain.specification_file import SpecificationFile
from domain.upload_rule import UploadRule
from schemas.imports import AppendType, FieldMap, FileLayout, ImportTarget, RowRules


class ImportOptions(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the caller chose: an upload rule, or a specification file or data mapping."""

    append_type: AppendType | None = None  # default: the upload rule's, else append only
    upload_rule_id: UUID | None = None
    specification_file_id: UUID | None = None
    data_mapping_id: UUID | None = None


class ImportHandlers:
    def __init__(
        self,
        context: Context,
        *,
        lists: ContactListHandlers,
        list_rules: ListRuleHandlers,
        suppression: SuppressionHandlers,
    ):
        self.context = context
        self.lists = lists
        self.list_rules = list_rules
        self.suppression = suppression

    def request_import(
        self,
        account_id: UUID,
        list_id: UUID,
        *,
        job_id: UUID,
        file_name: str,
        stored_as: str,
        size: int,
        options: ImportOptions,
    ) -> Done:
        contact_list = self.lists.contact_list(account_id, list_id, "list_id")
        account = self.context.account(account_id)

        def rules(rule: UploadRule | None) -> RowRules:
            zones = contact_list.settings.time_zones
            return RowRules(
                append_type=_append_type(options, rule),
                channel=contact_list.settings.channel,
                phone_region=_phone_region(rule, account.settings.region.country_code),
                time_zone_source=zones.source,
                custom_time_zones=list(zones.custom_time_zones) if zones.use_custom_time_zones else [],
                default_time_zone=account.settings.lists.default_time_zone,
                default_time_zone_on_error=account.settings.lists.default_time_zone_on_error,
                default_record_type=rule.default_record_type if rule else 2,
                reject_invalid_numbers=rule.reject_invalid_numbers if rule else True,
            )

        return self._request_file(
            account_id, list_id, job_id, file_name, stored_as, size, options, rules, "contact_list"
        )

    def request_suppression_import(
        self,
        account_id: UUID,
        list_id: UUID,
        *,
        job_id: UUID,
        file_name: str,
        stored_as: str,
        size: int,
        options: ImportOptions,
    ) -> Done:
        """An entry file into a suppression list: its ``phone``, ``client_id`` and ``email``
        columns (by header name, or a data mapping's or specification file's) become entries."""
        state = self.suppression.suppression_list(account_id, list_id, "list_id")
        if state.archived:
            raise RuleViolation("the suppression list is archived; its entries cannot change", field="list_id")
        region = self.context.account(account_id).settings.region

        def rules(rule: UploadRule | None) -> RowRules:
            return RowRules(
                append_type=_append_type(options, rule),
                channel=state.channel,
                phone_region=_phone_region(rule, region.country_code),
                # the zone whose midnight ends a "today" entry, as for entries added by the API
                default_time_zone=region.time_zone,
                default_time_zone_on_error=region.time_zone,
            )

        return self._request_file(
            account_id, list_id, job_id, file_name, stored_as, size, options, rules, "suppression_list"
        )

    def _request_file(
        self,
        account_id: UUID,
        list_id: UUID,
        job_id: UUID,
        file_name: str,
        stored_as: str,
        size: int,
        options: ImportOptions,
        rules: Callable[[UploadRule | None], RowRules],
        target: ImportTarget,
    ) -> Done:
        """Request the job of an uploaded file; ``rules`` makes its row rules from the upload
        rule (None without one)."""
        rule, layout, fields = self._file_options(account_id, options)
        events = import_job.request(
            job_id=job_id,
            account_id=account_id,
            list_id=list_id,
            file_name=file_name,
            stored_as=stored_as,
            size=size,
            layout=layout,
            fields=fields,
            rules=rules(rule),
            upload_rule_id=options.upload_rule_id,
            specification_file_id=_spec_id(options, rule),
            data_mapping_id=_mapping_id(options, rule),
            now=self.context.now(),
            target=target,
        )
        return self.context.commit(job_id, events)

    def _file_options(
        self, account_id: UUID, options: ImportOptions
    ) -> tuple[UploadRule | None, FileLayout, list[FieldMap]]:
        """The upload rule (or None), the file's layout and its column mapping (empty: by header)."""
        if options.upload_rule_id and (options.specification_file_id or options.data_mapping_id):
            raise RuleViolation(
                "an upload rule brings its own specification file or data mapping; give one or the other",
                field="upload_rule_id",
            )
        if options.specification_file_id and options.data_mapping_id:
            raise RuleViolation(
                "give a specification file or a data mapping, not both", field="data_mapping_id"
            )
        rule = self.list_rules.upload_rule(account_id, options.upload_rule_id) if options.upload_rule_id else None
        spec_id, mapping_id = _spec_id(options, rule), _mapping_id(options, rule)
        if spec_id:
            spec = self.list_rules.specification_file(account_id, spec_id)
            return rule, _layout(spec), _fields(spec.fields)
        if mapping_id:
            return rule, FileLayout(), _fields(self.list_rules.data_mapping(account_id, mapping_id).fields)
        return rule, FileLayout(), []


def _append_type(options: ImportOptions, rule: UploadRule | None) -> AppendType:
    """The request's append type, else the upload rule's, else append only."""
    return options.append_type or (rule.append_type if rule else "append_only")


def _phone_region(rule: UploadRule | None, country: str) -> str:
    """The country numbers without one are read in: the upload rule's, else the account's."""
    return rule.phone_region if rule and rule.phone_region else country


def _spec_id(options: ImportOptions, rule: UploadRule | None) -> UUID | None:
    return options.specification_file_id or (rule.specification_file_id if rule else None)


def _mapping_id(options: ImportOptions, rule: UploadRule | None) -> UUID | None:
    return options.data_mapping_id or (rule.data_mapping_id if rule else None)


def _fields(fields: Sequence[object]) -> list[FieldMap]:
    return msgspec.convert(msgspec.to_builtins(fields), list[FieldMap])


def _layout(spec: SpecificationFile) -> FileLayout:
    return msgspec.convert(
        {
            "format": spec.format,
            "encoding": spec.encoding,
            "delimiter": spec.delimiter,
            "quote_char": spec.quote_char,
            "header": spec.header,
            "skip_lines": spec.skip_lines,
            "columns": msgspec.to_builtins(spec.columns),
        },
        FileLayout,
    )
