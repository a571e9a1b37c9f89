"""Handlers of the stored objects of list import: specification files, data mappings and
upload rules; and their loaders, which the import handlers call."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from dialstream.handlers.context import Context, expect, owned
from dialstream.results import Done
from domain import data_mapping, specification_file, upload_rule
from domain.aggregate import existing, pick
from domain.data_mapping import ChangeDataMapping, CreateDataMapping, DataMapping
from domain.specification_file import ChangeSpecificationFile, CreateSpecificationFile, SpecificationFile
from domain.upload_rule import ChangeUploadRule, CreateUploadRule, UploadRule, Uses


class ListRuleHandlers:
    """Create, change and archive specification files, data mappings and upload rules."""

    def __init__(self, context: Context):
        self.context = context

    # Loaders: the object, or NotFound (missing, archived, or another account's) --------

    def specification_file(
        self, account_id: UUID, spec_id: UUID, field: str = "specification_file_id"
    ) -> SpecificationFile:
        state = self.context.store.load(spec_id, specification_file.project)
        return existing(
            owned(state, account_id, specification_file.LABEL, field), specification_file.LABEL, field
        )

    def data_mapping(self, account_id: UUID, mapping_id: UUID, field: str = "data_mapping_id") -> DataMapping:
        state = self.context.store.load(mapping_id, data_mapping.project)
        return existing(owned(state, account_id, data_mapping.LABEL, field), data_mapping.LABEL, field)

    def upload_rule(self, account_id: UUID, rule_id: UUID, field: str = "upload_rule_id") -> UploadRule:
        state = self.context.store.load(rule_id, upload_rule.project)
        return existing(owned(state, account_id, upload_rule.LABEL, field), upload_rule.LABEL, field)

    # Specification files ---------------------------------------------------------------

    def create_specification_file(self, account_id: UUID, command: CreateSpecificationFile) -> Done:
        self.context.account(account_id)
        spec_id = self.context.new_id()
        events = specification_file.create(
            command,
            spec_id=spec_id,
            account_id=account_id,
            claim=self.context.claim(account_id, specification_file.KIND, command.name),
            now=self.context.now(),
        )
        return self.context.commit(spec_id, events)

    def change_specification_file(
        self,
        account_id: UUID,
        spec_id: UUID,
        command: ChangeSpecificationFile,
        expected_version: int | None = None,
    ) -> Done:
        state = owned(
            self.context.store.load(spec_id, specification_file.project), account_id, specification_file.LABEL
        )
        expect(state, expected_version)
        name = pick(command.name, state.name)
        events = specification_file.change(
            state,
            command,
            new_claim=self.context.claim(account_id, specification_file.KIND, name),
            old_claim=self.context.claim(account_id, specification_file.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(spec_id, events)

    def archive_specification_file(
        self, account_id: UUID, spec_id: UUID, expected_version: int | None = None
    ) -> Done:
        state = owned(
            self.context.store.load(spec_id, specification_file.project), account_id, specification_file.LABEL
        )
        expect(state, expected_version)
        events = specification_file.archive(
            state,
            claim=self.context.claim(account_id, specification_file.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(spec_id, events)

    # Data mappings ---------------------------------------------------------------------

    def create_data_mapping(self, account_id: UUID, command: CreateDataMapping) -> Done:
        self.context.account(account_id)
        mapping_id = self.context.new_id()
        events = data_mapping.create(
            command,
            mapping_id=mapping_id,
            account_id=account_id,
            claim=self.context.claim(account_id, data_mapping.KIND, command.name),
            now=self.context.now(),
        )
        return self.context.commit(mapping_id, events)

    def change_data_mapping(
        self,
        account_id: UUID,
        mapping_id: UUID,
        command: ChangeDataMapping,
        expected_version: int | None = None,
    ) -> Done:
        state = owned(self.context.store.load(mapping_id, data_mapping.project), account_id, data_mapping.LABEL)
        expect(state, expected_version)
        name = pick(command.name, state.name)
        events = data_mapping.change(
            state,
            command,
            new_claim=self.context.claim(account_id, data_mapping.KIND, name),
            old_claim=self.context.claim(account_id, data_mapping.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(mapping_id, events)

    def archive_data_mapping(
        self, account_id: UUID, mapping_id: UUID, expected_version: int | None = None
    ) -> Done:
        state = owned(self.context.store.load(mapping_id, data_mapping.project), account_id, data_mapping.LABEL)
        expect(state, expected_version)
        events = data_mapping.archive(
            state, claim=self.context.claim(account_id, data_mapping.KIND, state.name), now=self.context.now()
        )
        return self.context.commit(mapping_id, events)

    # Upload rules ----------------------------------------------------------------------

    def _rule_uses(
        self, account_id: UUID, spec_ids: Iterable[object], mapping_ids: Iterable[object]
    ) -> Uses:
        """The account's specification files and data mappings among these ids (others' are absent;
        so are the None and UNSET of a command that gives none)."""
        store = self.context.store
        specs = {}
        for spec_id in {i for i in spec_ids if isinstance(i, UUID)}:
            spec = store.load(spec_id, specification_file.project)
            if spec is not None and spec.account_id == account_id:
                specs[spec_id] = spec
        mappings = {}
        for mapping_id in {i for i in mapping_ids if isinstance(i, UUID)}:
            mapping = store.load(mapping_id, data_mapping.project)
            if mapping is not None and mapping.account_id == account_id:
                mappings[mapping_id] = mapping
        return Uses(specs, mappings)

    def create_upload_rule(self, account_id: UUID, command: CreateUploadRule) -> Done:
        self.context.account(account_id)
        rule_id = self.context.new_id()
        events = upload_rule.create(
            command,
            rule_id=rule_id,
            account_id=account_id,
            uses=self._rule_uses(account_id, [command.specification_file_id], [command.data_mapping_id]),
            claim=self.context.claim(account_id, upload_rule.KIND, command.name),
            now=self.context.now(),
        )
        return self.context.commit(rule_id, events)

    def change_upload_rule(
        self,
        account_id: UUID,
        rule_id: UUID,
        command: ChangeUploadRule,
        expected_version: int | None = None,
    ) -> Done:
        state = owned(self.context.store.load(rule_id, upload_rule.project), account_id, upload_rule.LABEL)
        expect(state, expected_version)
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
            new_claim=self.context.claim(account_id, upload_rule.KIND, name),
            old_claim=self.context.claim(account_id, upload_rule.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(rule_id, events)

    def archive_upload_rule(
        self, account_id: UUID, rule_id: UUID, expected_version: int | None = None
    ) -> Done:
        state = owned(self.context.store.load(rule_id, upload_rule.project), account_id, upload_rule.LABEL)
        expect(state, expected_version)
        events = upload_rule.archive(
            state,
            uses=self._rule_uses(account_id, [state.specification_file_id], [state.data_mapping_id]),
            claim=self.context.claim(account_id, upload_rule.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(rule_id, events)
