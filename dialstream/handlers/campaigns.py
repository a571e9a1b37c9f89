"""Handlers of campaign templates and campaign groups, and a template's effective session
settings. Templates use the account's profiles and groups its contact lists: both concerns are
given to :class:`CampaignHandlers` by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import msgspec
from msgspec import UNSET

from dialstream.handlers.context import Context, expect, owned
from dialstream.handlers.lists import ContactListHandlers
from dialstream.handlers.profiles import ProfileHandlers
from dialstream.results import Done
from dialstream.store import retry_on_conflict
from domain import campaign_group, campaign_template, contact_list, dialing_profile, session_profile
from domain.aggregate import apply_overrides, existing, pick
from domain.campaign_group import CampaignGroup, ChangeCampaignGroup, CreateCampaignGroup
from domain.campaign_template import CampaignTemplate, ChangeCampaignTemplate, CreateCampaignTemplate
from domain.errors import RuleViolation
from domain.profile import Profile
from schemas.base import Event
from schemas.campaigns import DialingOverrides, SessionOverrides
from schemas.profiles import DialingMode, DialingSettings, SessionSettings

TemplateProfiles = dict[UUID, Profile[DialingSettings] | Profile[SessionSettings]]


# A lifecycle command or pacing record on a group that another writer changed meanwhile is
# decided again this many times.
GROUP_ATTEMPTS = 5

class CampaignHandlers:
    def __init__(self, context: Context, *, profiles: ProfileHandlers, lists: ContactListHandlers):
        self.context = context
        self.profiles = profiles
        self.lists = lists

    # Loaders: the object as stored, or NotFound when missing or another account's ---------

    def template(self, account_id: UUID, template_id: UUID, field: str = "id") -> CampaignTemplate:
        state = self.context.store.load(template_id, campaign_template.project)
        return owned(state, account_id, campaign_template.LABEL, field)

    def group(self, account_id: UUID, group_id: UUID) -> CampaignGroup:
        state = self.context.store.load(group_id, campaign_group.project)
        return owned(state, account_id, campaign_group.LABEL)

    # Campaign templates ----------------------------------------------------------------

    def create_template(self, account_id: UUID, command: CreateCampaignTemplate) -> Done:
        owner = self.context.account(account_id)
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
        template_id = self.context.new_id()
        events = campaign_template.create(
            command,
            template_id=template_id,
            account_id=account_id,
            dialing_profile=self.profiles.profile(
                dialing_profile.KIND, account_id, dialing_id, "dialing_profile_id"
            ),
            session_profile=self.profiles.profile(
                session_profile.KIND, account_id, session_id, "session_profile_id"
            ),
            claim=self.context.claim(account_id, campaign_template.KIND, command.name),
            now=self.context.now(),
        )
        return self.context.commit(template_id, events)

    def _template_profiles(self, account_id: UUID, *pairs: tuple[UUID, UUID]) -> TemplateProfiles:
        """The profiles a template change or deletion touches, by id, from (dialing profile id,
        session profile id) pairs: each loaded in turn and checked as the account's."""
        profiles: TemplateProfiles = {}
        for dialing_id, session_id in pairs:
            profiles[dialing_id] = self.profiles.profile(
                dialing_profile.KIND, account_id, dialing_id, "dialing_profile_id"
            )
            profiles[session_id] = self.profiles.profile(
                session_profile.KIND, account_id, session_id, "session_profile_id"
            )
        return profiles

    def change_template(
        self,
        account_id: UUID,
        template_id: UUID,
        command: ChangeCampaignTemplate,
        expected_version: int | None = None,
    ) -> Done:
        state = self.template(account_id, template_id)
        expect(state, expected_version)
        name = pick(command.name, state.name)
        profiles = self._template_profiles(
            account_id,
            (state.dialing_profile_id, state.session_profile_id),
            (
                pick(command.dialing_profile_id, state.dialing_profile_id),
                pick(command.session_profile_id, state.session_profile_id),
            ),
        )
        events = campaign_template.change(
            state,
            command,
            profiles=profiles,
            new_claim=self.context.claim(account_id, campaign_template.KIND, name),
            old_claim=self.context.claim(account_id, campaign_template.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(template_id, events)

    def delete_template(
        self, account_id: UUID, template_id: UUID, expected_version: int | None = None
    ) -> Done:
        state = self.template(account_id, template_id)
        expect(state, expected_version)
        profiles = self._template_profiles(account_id, (state.dialing_profile_id, state.session_profile_id))
        events = campaign_template.delete(
            state,
            profiles=profiles,
            claim=self.context.claim(account_id, campaign_template.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(template_id, events)

    def effective_session(
        self, account_id: UUID, template: CampaignTemplate, overrides: SessionOverrides
    ) -> SessionSettings:
        session = self.profiles.profile(
            session_profile.KIND, account_id, template.session_profile_id, "template_id"
        )
        result: SessionSettings = apply_overrides(
            campaign_template.effective_session(template, session), overrides
        )
        return result

    def effective_dialing(
        self, account_id: UUID, template: CampaignTemplate, overrides: DialingOverrides
    ) -> DialingSettings:
        dialing = self.profiles.profile(
            dialing_profile.KIND, account_id, template.dialing_profile_id, "template_id"
        )
        result: DialingSettings = apply_overrides(
            campaign_template.effective_dialing(template, dialing), overrides
        )
        return result

    def group_settings(self, account_id: UUID, group: CampaignGroup) -> tuple[DialingSettings, SessionSettings]:
        """What a group dials with: its template's profiles with the template's and then the
        group's overrides applied (the group's own agent group wins)."""
        template = self.template(account_id, group.template_id, "template_id")
        dialing = self.effective_dialing(account_id, template, group.dialing_overrides)
        session = self.effective_session(account_id, template, group.session_overrides)
        return dialing, msgspec.structs.replace(session, agent_group=group.agent_group)

    # Campaign groups -------------------------------------------------------------------

    def create_group(self, account_id: UUID, command: CreateCampaignGroup) -> Done:
        template = existing(
            self.template(account_id, command.template_id, "template_id"),
            campaign_template.LABEL,
            "template_id",
        )
        session = self.effective_session(account_id, template, command.session_overrides)
        group_id = self.context.new_id()
        events = campaign_group.create(
            command,
            group_id=group_id,
            account_id=account_id,
            template=template,
            inherited_agent_group=session.agent_group,
            channel=session.channel,
            lists=self.lists.contact_lists(account_id, command.contact_list_ids),
            claim=self.context.claim(account_id, campaign_group.KIND, command.name),
            now=self.context.now(),
        )
        return self.context.commit(group_id, events)

    def change_group(
        self,
        account_id: UUID,
        group_id: UUID,
        command: ChangeCampaignGroup,
        expected_version: int | None = None,
    ) -> Done:
        state = self.group(account_id, group_id)
        expect(state, expected_version)
        template = self.template(account_id, state.template_id)
        session = self.effective_session(
            account_id, template, pick(command.session_overrides, state.session_overrides)
        )
        wanted = pick(command.contact_list_ids, list(state.contact_list_ids))
        lists = self.lists.contact_lists(account_id, wanted)
        for list_id in state.contact_list_ids:
            if list_id not in lists:
                lists[list_id] = self.lists.contact_list(account_id, list_id)
        name = pick(command.name, state.name)
        if command.dialing_overrides is not UNSET:
            campaign_group.check_mode_change(
                state,
                self.effective_dialing(account_id, template, state.dialing_overrides).dialing_mode,
                self.effective_dialing(account_id, template, command.dialing_overrides).dialing_mode,
            )
        events = campaign_group.change(
            state,
            command,
            inherited_agent_group=session.agent_group,
            channel=session.channel,
            lists=lists,
            new_claim=self.context.claim(account_id, campaign_group.KIND, name),
            old_claim=self.context.claim(account_id, campaign_group.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(group_id, events)

    def _decide_on_group(
        self, account_id: UUID, group_id: UUID, decide: Callable[[CampaignGroup], list[Event]], what: str
    ) -> Done:
        """Load the group, decide and store, deciding again after a lost race: a supervisor's
        stop and the dialer's pacing record write the same stream, and neither depends on the
        other, so the loser is decided again on the group as the winner left it."""

        def attempt() -> Done:
            state = self.group(account_id, group_id)
            return self.context.commit(group_id, decide(state))

        done = retry_on_conflict(attempt, attempts=GROUP_ATTEMPTS, what=f"{what} campaign group {group_id}")
        assert done is not None  # attempts >= 1: a result or the last conflict raised
        return done

    def transition_group(self, account_id: UUID, group_id: UUID, action: str) -> Done:
        return self._decide_on_group(
            account_id, group_id, lambda state: campaign_group.transition(state, action, now=self.context.now()), action
        )

    def switch_dialing_mode(self, account_id: UUID, group_id: UUID, mode: DialingMode) -> Done:
        """A supervisor's switch (predictive ⇄ progressive) that takes effect at once."""

        def decide(state: CampaignGroup) -> list[Event]:
            template = self.template(account_id, state.template_id)
            effective = self.effective_dialing(account_id, template, state.dialing_overrides).dialing_mode
            return campaign_group.switch_dialing_mode(state, mode, effective=effective, now=self.context.now())

        return self._decide_on_group(account_id, group_id, decide, "switch the dialing mode of")

    def record_pacing(self, account_id: UUID, group_id: UUID, *, mode: str, ratio: float, reason: str) -> Done:
        """The dialer's pacing of a running group changed (mode or ratio)."""
        return self._decide_on_group(
            account_id,
            group_id,
            lambda state: campaign_group.paced(state, mode=mode, ratio=ratio, reason=reason, now=self.context.now()),
            "record the pacing of",
        )

    def delete_group(self, account_id: UUID, group_id: UUID, expected_version: int | None = None) -> Done:
        state = self.group(account_id, group_id)
        expect(state, expected_version)
        store = self.context.store
        template = store.load(state.template_id, campaign_template.project)
        lists = {
            list_id: found
            for list_id in state.contact_list_ids
            if (found := store.load(list_id, contact_list.project)) is not None
        }
        events = campaign_group.delete(
            state,
            template=template,
            lists=lists,
            claim=self.context.claim(account_id, campaign_group.KIND, state.name),
            now=self.context.now(),
        )
        return self.context.commit(group_id, events)
