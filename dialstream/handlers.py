"""One handler per command: load the aggregates a decision needs, decide, store atomically.

Handlers hold no rules of their own; the rules are the pure functions of ``domain/``.
Clock and id generator are injected so tests and replays are deterministic.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from dialstream.attempt_handlers import AttemptHandlers
from dialstream.clock import utc_now
from dialstream.import_handlers import ImportHandlers
from dialstream.list_rule_handlers import ListRuleHandlers
from dialstream.results import Done, IssuedKey
from dialstream.store import EventStore
from dialstream.suppression_handlers import SuppressionHandlers
from domain import (
    account,
    campaign_group,
    campaign_template,
    contact_list,
    dialing_profile,
    name_claim,
    session_profile,
)
from domain.account import MIN_API_KEY_LENGTH, Account, UpdateSettings
from domain.aggregate import apply_overrides, existing, pick
from domain.campaign_group import CampaignGroup
from domain.campaign_template import CampaignTemplate
from domain.contact_list import ContactList
from domain.errors import NotFound, RuleViolation, StaleVersion
from domain.name_claim import NameClaim
from domain.profile import Profile, ProfileKind
from domain.zones import ensure_zone
from schemas.base import Event
from schemas.campaigns import SessionOverrides
from schemas.profiles import SessionSettings
from schemas.settings import ComplianceSettings, PublicKey, Role

API_KEY_PREFIX = "dsk_"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()



class Handlers(AttemptHandlers, ImportHandlers, ListRuleHandlers, SuppressionHandlers):
    def __init__(
        self,
        store: EventStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], UUID] = uuid.uuid4,
    ):
        self.store = store
        self.clock = clock
        self.new_id = new_id

    # Loading ---------------------------------------------------------------------------

    def account(self, account_id: UUID) -> Account:
        state = self.store.load(account_id, account.project)
        if state is None:
            raise NotFound("account not found", field="account_id")
        return state

    def _owned(self, state: Any, account_id: UUID, label: str, field: str = "id") -> Any:
        """Another account's object is reported as missing, never shown."""
        if state is None or state.account_id != account_id:
            raise NotFound(f"{label} not found", field=field)
        return state

    @staticmethod
    def _expect(state: Any, expected_version: int | None) -> None:
        """Honour the client's If-Match: refuse to change a version it has not seen."""
        if expected_version is not None and state.version != expected_version:
            raise StaleVersion(
                f"the object is at version {state.version}, not {expected_version}; fetch it again and retry",
                field="If-Match",
            )

    def _claim(self, account_id: UUID, kind: str, name: str) -> NameClaim | None:
        return self.store.load(name_claim.claim_id(account_id, kind, name), name_claim.project)

    def _profile(
        self, kind: ProfileKind[Any], account_id: UUID, profile_id: UUID, field: str = "id"
    ) -> Profile[Any]:
        state = self.store.load(profile_id, kind.projector())
        return self._owned(state, account_id, kind.label, field)

    def _template(self, account_id: UUID, template_id: UUID, field: str = "id") -> CampaignTemplate:
        state = self.store.load(template_id, campaign_template.project)
        return self._owned(state, account_id, "campaign template", field)

    def _group(self, account_id: UUID, group_id: UUID) -> CampaignGroup:
        state = self.store.load(group_id, campaign_group.project)
        return self._owned(state, account_id, "campaign group")

    def _list(self, account_id: UUID, list_id: UUID, field: str = "id") -> ContactList:
        state = self.store.load(list_id, contact_list.project)
        return self._owned(state, account_id, "contact list", field)

    def _lists(self, account_id: UUID, list_ids: Any) -> dict[UUID, ContactList]:
        found = {}
        for index, list_id in enumerate(list_ids):
            found[list_id] = self._list(account_id, list_id, f"contact_list_ids[{index}]")
        return found

    def _commit(self, aggregate_id: UUID, events: list[Event]) -> Done:
        return Done(aggregate_id, self.store.append(events))

    # Account and settings --------------------------------------------------------------

    def open_account(self, name: str, account_id: UUID | None = None) -> Done:
        account_id = account_id or self.new_id()
        return self._commit(
            account_id,
            account.open_account(account_id, account.OpenAccount(name=name), now=self.clock()),
        )

    def update_settings(
        self, account_id: UUID, command: UpdateSettings, expected_version: int | None = None
    ) -> Done:
        for section, fields in (
            ("region", ("time_zone", "reports_time_zone")),
            ("lists", ("default_time_zone", "default_time_zone_on_error")),
        ):
            value = getattr(command, section)
            if value is not msgspec.UNSET:
                for field in fields:
                    ensure_zone(getattr(value, field), f"{section}.{field}")
        state = self.account(account_id)
        self._expect(state, expected_version)
        return self._commit(account_id, account.update_settings(state, command, now=self.clock()))

    def change_compliance_settings(
        self, account_id: UUID, compliance: ComplianceSettings, expected_version: int | None = None
    ) -> Done:
        state = self.account(account_id)
        self._expect(state, expected_version)
        command = account.ChangeComplianceSettings(compliance=compliance)
        return self._commit(account_id, account.change_compliance_settings(state, command, now=self.clock()))

    def import_public_key(self, account_id: UUID, key: PublicKey) -> Done:
        state = self.account(account_id)
        events = account.import_public_key(state, account.ImportPublicKey(key=key), now=self.clock())
        return self._commit(account_id, events)

    def remove_public_key(self, account_id: UUID, fingerprint: str) -> Done:
        state = self.account(account_id)
        events = account.remove_public_key(
            state, account.RemovePublicKey(fingerprint=fingerprint), now=self.clock()
        )
        return self._commit(account_id, events)

    def issue_api_key(
        self,
        account_id: UUID,
        name: str,
        role: Role,
        secret: str | None = None,
        key_id: UUID | None = None,
    ) -> IssuedKey:
        secret = secret or API_KEY_PREFIX + secrets.token_urlsafe(32)
        if len(secret) < MIN_API_KEY_LENGTH:
            raise RuleViolation(f"an API key is at least {MIN_API_KEY_LENGTH} characters", field="secret")
        key_id = key_id or self.new_id()
        state = self.account(account_id)
        command = account.IssueApiKey(
            key_id=key_id,
            name=name,
            role=role,
            secret_sha256=hash_secret(secret),
            prefix=secret[:8],
        )
        position = self.store.append(account.issue_api_key(state, command, now=self.clock()))
        return IssuedKey(key_id, secret, position)

    def revoke_api_key(self, account_id: UUID, key_id: UUID) -> Done:
        state = self.account(account_id)
        events = account.revoke_api_key(state, account.RevokeApiKey(key_id=key_id), now=self.clock())
        return self._commit(key_id, events)

    # Profiles --------------------------------------------------------------------------

    def create_profile(self, kind: ProfileKind[Any], account_id: UUID, command: Any) -> Done:
        profile_id = self.new_id()
        events = kind.create(
            profile_id=profile_id,
            name=command.name,
            description=command.description,
            settings=command.settings,
            account=self.account(account_id),
            claim=self._claim(account_id, kind.kind, command.name),
            now=self.clock(),
        )
        return self._commit(profile_id, events)

    def change_profile(
        self,
        kind: ProfileKind[Any],
        account_id: UUID,
        profile_id: UUID,
        command: Any,
        expected_version: int | None = None,
    ) -> Done:
        state = self._profile(kind, account_id, profile_id)
        self._expect(state, expected_version)
        name = pick(command.name, state.name)
        events = kind.change(
            state,
            name=name,
            description=pick(command.description, state.description),
            settings=pick(command.settings, state.settings),
            new_claim=self._claim(account_id, kind.kind, name),
            old_claim=self._claim(account_id, kind.kind, state.name),
            now=self.clock(),
        )
        return self._commit(profile_id, events)

    def delete_profile(
        self,
        kind: ProfileKind[Any],
        account_id: UUID,
        profile_id: UUID,
        expected_version: int | None = None,
    ) -> Done:
        state = self._profile(kind, account_id, profile_id)
        self._expect(state, expected_version)
        events = kind.delete(
            state,
            account=self.account(account_id),
            claim=self._claim(account_id, kind.kind, state.name),
            now=self.clock(),
        )
        return self._commit(profile_id, events)

    def make_default_profile(self, kind: ProfileKind[Any], account_id: UUID, profile_id: UUID) -> Done:
        state = self._profile(kind, account_id, profile_id)
        events = kind.make_default(state, account=self.account(account_id), now=self.clock())
        return self._commit(profile_id, events)

    # Campaign templates ----------------------------------------------------------------

    def create_template(self, account_id: UUID, command: campaign_template.CreateCampaignTemplate) -> Done:
        owner = self.account(account_id)
        dialing_id = command.dialing_profile_id or owner.default_dialing_profile_id
        session_id = command.session_profile_id or owner.default_session_profile_id
        if dialing_id is None:
            raise RuleViolation(
                "no dialing profile given and the account has no default",
                field="dialing_profile_id",
            )
        if session_id is None:
            raise RuleViolation(
                "no session profile given and the account has no default",
                field="session_profile_id",
            )
        template_id = self.new_id()
        events = campaign_template.create(
            command,
            template_id=template_id,
            account_id=account_id,
            dialing_profile=self._profile(dialing_profile.KIND, account_id, dialing_id, "dialing_profile_id"),
            session_profile=self._profile(session_profile.KIND, account_id, session_id, "session_profile_id"),
            claim=self._claim(account_id, campaign_template.KIND, command.name),
            now=self.clock(),
        )
        return self._commit(template_id, events)

    def _template_profiles(
        self, account_id: UUID, *pairs: tuple[ProfileKind[Any], UUID, str]
    ) -> dict[UUID, Any]:
        return {
            profile_id: self._profile(kind, account_id, profile_id, field)
            for kind, profile_id, field in pairs
        }

    def change_template(
        self,
        account_id: UUID,
        template_id: UUID,
        command: campaign_template.ChangeCampaignTemplate,
        expected_version: int | None = None,
    ) -> Done:
        state = self._template(account_id, template_id)
        self._expect(state, expected_version)
        name = pick(command.name, state.name)
        profiles = self._template_profiles(
            account_id,
            (dialing_profile.KIND, state.dialing_profile_id, "dialing_profile_id"),
            (session_profile.KIND, state.session_profile_id, "session_profile_id"),
            (
                dialing_profile.KIND,
                pick(command.dialing_profile_id, state.dialing_profile_id),
                "dialing_profile_id",
            ),
            (
                session_profile.KIND,
                pick(command.session_profile_id, state.session_profile_id),
                "session_profile_id",
            ),
        )
        events = campaign_template.change(
            state,
            command,
            profiles=profiles,
            new_claim=self._claim(account_id, campaign_template.KIND, name),
            old_claim=self._claim(account_id, campaign_template.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(template_id, events)

    def delete_template(
        self, account_id: UUID, template_id: UUID, expected_version: int | None = None
    ) -> Done:
        state = self._template(account_id, template_id)
        self._expect(state, expected_version)
        profiles = self._template_profiles(
            account_id,
            (dialing_profile.KIND, state.dialing_profile_id, "dialing_profile_id"),
            (session_profile.KIND, state.session_profile_id, "session_profile_id"),
        )
        events = campaign_template.delete(
            state,
            profiles=profiles,
            claim=self._claim(account_id, campaign_template.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(template_id, events)

    def effective_session(
        self, account_id: UUID, template: CampaignTemplate, overrides: SessionOverrides
    ) -> SessionSettings:
        session = self._profile(session_profile.KIND, account_id, template.session_profile_id, "template_id")
        result: SessionSettings = apply_overrides(
            campaign_template.effective_session(template, session), overrides
        )
        return result

    # Campaign groups -------------------------------------------------------------------

    def create_group(self, account_id: UUID, command: campaign_group.CreateCampaignGroup) -> Done:
        template = existing(
            self._template(account_id, command.template_id, "template_id"),
            "campaign template",
            "template_id",
        )
        session = self.effective_session(account_id, template, command.session_overrides)
        group_id = self.new_id()
        events = campaign_group.create(
            command,
            group_id=group_id,
            account_id=account_id,
            template=template,
            inherited_agent_group=session.agent_group,
            channel=session.channel,
            lists=self._lists(account_id, command.contact_list_ids),
            claim=self._claim(account_id, campaign_group.KIND, command.name),
            now=self.clock(),
        )
        return self._commit(group_id, events)

    def change_group(
        self,
        account_id: UUID,
        group_id: UUID,
        command: campaign_group.ChangeCampaignGroup,
        expected_version: int | None = None,
    ) -> Done:
        state = self._group(account_id, group_id)
        self._expect(state, expected_version)
        template = self._template(account_id, state.template_id)
        session = self.effective_session(
            account_id, template, pick(command.session_overrides, state.session_overrides)
        )
        wanted = pick(command.contact_list_ids, list(state.contact_list_ids))
        lists = self._lists(account_id, wanted)
        for list_id in state.contact_list_ids:
            if list_id not in lists:
                lists[list_id] = self._list(account_id, list_id)
        name = pick(command.name, state.name)
        events = campaign_group.change(
            state,
            command,
            inherited_agent_group=session.agent_group,
            channel=session.channel,
            lists=lists,
            new_claim=self._claim(account_id, campaign_group.KIND, name),
            old_claim=self._claim(account_id, campaign_group.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(group_id, events)

    def transition_group(self, account_id: UUID, group_id: UUID, action: str) -> Done:
        state = self._group(account_id, group_id)
        return self._commit(group_id, campaign_group.transition(state, action, now=self.clock()))

    def delete_group(self, account_id: UUID, group_id: UUID, expected_version: int | None = None) -> Done:
        state = self._group(account_id, group_id)
        self._expect(state, expected_version)
        template = self.store.load(state.template_id, campaign_template.project)
        lists = {
            list_id: found
            for list_id in state.contact_list_ids
            if (found := self.store.load(list_id, contact_list.project)) is not None
        }
        events = campaign_group.delete(
            state,
            template=template,
            lists=lists,
            claim=self._claim(account_id, campaign_group.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(group_id, events)

    # Contact lists ---------------------------------------------------------------------

    def create_list(self, account_id: UUID, command: contact_list.CreateContactList) -> Done:
        self.account(account_id)
        list_id = self.new_id()
        events = contact_list.create(
            command,
            list_id=list_id,
            account_id=account_id,
            claim=self._claim(account_id, contact_list.KIND, command.name),
            now=self.clock(),
        )
        return self._commit(list_id, events)

    def change_list(
        self,
        account_id: UUID,
        list_id: UUID,
        command: contact_list.ChangeContactList,
        expected_version: int | None = None,
    ) -> Done:
        state = self._list(account_id, list_id)
        self._expect(state, expected_version)
        name = pick(command.name, state.name)
        events = contact_list.change(
            state,
            command,
            new_claim=self._claim(account_id, contact_list.KIND, name),
            old_claim=self._claim(account_id, contact_list.KIND, state.name),
            now=self.clock(),
        )
        return self._commit(list_id, events)

    def archive_list(self, account_id: UUID, list_id: UUID, expected_version: int | None = None) -> Done:
        state = self._list(account_id, list_id)
        self._expect(state, expected_version)
        events = contact_list.archive(
            state, claim=self._claim(account_id, contact_list.KIND, state.name), now=self.clock()
        )
        return self._commit(list_id, events)
