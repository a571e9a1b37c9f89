"""Handlers of the stored objects of list import: specification files, data mappings and
upload rules; and their loaders, which the import handlers call.

Mixed into :class:`dialstream.handlers.Handlers`, whose attributes and helpers it uses:
``store``, ``clock``, ``new_id``, ``account``, ``_claim``, ``_owned``, ``_expect``, ``_commit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from dialstream.results import Done
from domain import data_mapping, specification_file, upload_rule
from domain.aggregate import existing, pick
from domain.data_mapping import ChangeDataMapping, CreateDataMapping, DataMapping
from domain.specification_file import ChangeSpecificationFile, CreateSpecificationFile, SpecificationFile
from domain.upload_rule import ChangeUploadRule, CreateUploadRule, UploadRule, Uses


class ListRuleHandlers:
    """Create, change and archive specification files, data mappings and upload rules."""

    # Loaders: the object, or NotFound (missing, archived, or another account's) --------

    def specification_file(
        self: Any, account_id: UUID, spec_id: UUID, field: str = "specification_file_id"
    ) -> SpecificationFile:
        state = self.store.load(spec_id, specification_file.project)
        found: SpecificationFile = existing(
            self._owned(state, account_id, specification_file.LABEL, field), specification_file.LABEL, field
        )
        return found

    def data_mapping(
        self: Any, account_id: UUID, mapping_id: UUID, field: str = "data_mapping_id"
    ) -> DataMapping:
        state = self.store.load(mapping_id, data_mapping.project)
        found: DataMapping = existing(
            self._owned(state, account_id, data_mapping.LABEL, field), data_mapping.LABEL, field
        )
        return found

    def upload_rule(self: Any, account_id: UUID, rule_id: UUID, field: str = "upload_rule_id") -> UploadRule:
        state = self.store.load(rule_id, upload_rule.project)
        found: UploadRule = existing(
            self._owned(state, account_id, upload_rule.LABEL, field), upload_rule.LABEL, field
        )
        return found

    # Specification files ---------------------------------------------------------------

    def create_specification_file(self: Any, account_id: UUID, command: CreateSpecificationFile) -> Done:
        self.account(account_id)
        spec_id = self.new_id()
        events = specification_file.create(
            command,
            spec_id=spec_id,
            account_id=account_id,
            claim=self._claim(account_id, specification_file.KIND, command.name),
            now=self.clock(),
        )
        return self._commit(spec_id, events)

    def change_specification_file(
        self: Any,
        account_id: UUID,
        spec_id: UUID,
        command: ChangeSpecificationFile,
        expected_version: int | None = None,
    ) -> Done:
        state = self._owned(
            self.store.load(spec_id, specification_file.project), account_id, specification_file.LABEL
        )
        self._expect(state, expected_version)
        name = pick(command.name, state.name)
        events = specification_file.change(
            state,
            command,
            new_claim=self._claim(account_id, specification_file.KIND, name),
            old_claim=self._claim(account_id, specification_file.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(spec_id, events)

    def archive_specification_file(
        self: Any, account_id: UUID, spec_id: UUID, expected_version: int | None = None
    ) -> Done:
        state = self._owned(
            self.store.load(spec_id, specification_file.project), account_id, specification_file.LABEL
        )
        self._expect(state, expected_version)
        events = specification_file.archive(
            state, claim=self._claim(account_id, specification_file.KIND, state.name), now=self.clock()
        )
        return self._commit(spec_id, events)

    # Data mappings ---------------------------------------------------------------------

    def create_data_mapping(self: Any, account_id: UUID, command: CreateDataMapping) -> Done:
        self.account(account_id)
        mapping_id = self.new_id()
        events = data_mapping.create(
            command,
            mapping_id=mapping_id,
            account_id=account_id,
            claim=self._claim(account_id, data_mapping.KIND, command.name),
            now=self.clock(),
        )
        return self._commit(mapping_id, events)

    def change_data_mapping(
        self: Any,
        account_id: UUID,
        mapping_id: UUID,
        command: ChangeDataMapping,
        expected_version: int | None = None,
    ) -> Done:
        state = self._owned(self.store.load(mapping_id, data_mapping.project), account_id, data_mapping.LABEL)
        self._expect(state, expected_version)
        name = pick(command.name, state.name)
        events = data_mapping.change(
            state,
            command,
            new_claim=self._claim(account_id, data_mapping.KIND, name),
            old_claim=self._claim(account_id, data_mapping.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(mapping_id, events)

    def archive_data_mapping(
        self: Any, account_id: UUID, mapping_id: UUID, expected_version: int | None = None
    ) -> Done:
        state = self._owned(self.store.load(mapping_id, data_mapping.project), account_id, data_mapping.LABEL)
        self._expect(state, expected_version)
        events = data_mapping.archive(
            state, claim=self._claim(account_id, data_mapping.KIND, state.name), now=self.clock()
        )
        return self._commit(mapping_id, events)

    # Upload rules ----------------------------------------------------------------------

    def _rule_uses(self: Any, account_id: UUID, spec_ids: Iterable[Any], mapping_ids: Iterable[Any]) -> Uses:
        """The account's specification files and data mappings among these ids (others' are absent)."""
        specs = {}
        for spec_id in {i for i in spec_ids if isinstance(i, UUID)}:
            state = self.store.load(spec_id, specification_file.project)
            if state is not None and state.account_id == account_id:
                specs[spec_id] = state
        mappings = {}
        for mapping_id in {i for i in mapping_ids if isinstance(i, UUID)}:
            state = self.store.load(mapping_id, data_mapping.project)
            if state is not None and state.account_id == account_id:
                mappings[mapping_id] = state
        return Uses(specs, mappings)

    def create_upload_rule(self: Any, account_id: UUID, command: CreateUploadRule) -> Done:
        self.account(account_id)
        rule_id = self.new_id()
        events = upload_rule.create(
            command,
            rule_id=rule_id,
            account_id=account_id,
            uses=self._rule_uses(account_id, [command.specification_file_id], [command.data_mapping_id]),
            claim=self._claim(account_id, upload_rule.KIND, command.name),
            now=self.clock(),
        )
        return self._commit(rule_id, events)

    def change_upload_rule(
        self: Any,
        account_id: UUID,
        rule_id: UUID,
        command: ChangeUploadRule,
        expected_version: int | None = None,
    ) -> Done:
        state = self._owned(self.store.load(rule_id, upload_rule.project), account_id, upload_rule.LABEL)
        self._expect(state, expected_version)
        name = pick(command.name, state.name)
        uses = self._rule_uses(
            account_id,
            [state.specification_file_id, command.specification_file_id],
            [state.data_mapping_id, command.data_mapping_id],
        )
        events = upload_rule.change(
            state,
            command,
            uses=uses,
            new_claim=self._claim(account_id, upload_rule.KIND, name),
            old_claim=self._claim(account_id, upload_rule.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(rule_id, events)

    def archive_upload_rule(
        self: Any, account_id: UUID, rule_id: UUID, expected_version: int | None = None
    ) -> Done:
        state = self._owned(self.store.load(rule_id, upload_rule.project), account_id, upload_rule.LABEL)
        self._expect(state, expected_version)
        events = upload_rule.archive(
            state,
            uses=self._rule_uses(account_id, [state.specification_file_id], [state.data_mapping_id]),
            claim=self._claim(account_id, upload_rule.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(rule_id, events)
