"""Dialing profile: dialing mode, pacing and optimisation, filtering, treatments."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType

from domain import account, selection, treatments
from domain.errors import RuleViolation
from domain.profile import Profile, ProfileKind
from schemas.profiles import (
    Description,
    DialingProfileChanged,
    DialingProfileCreated,
    DialingProfileDeleted,
    DialingSettings,
)
from schemas.settings import NonEmpty

DialingProfile = Profile[DialingSettings]


class CreateDialingProfile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty
    description: Description = ""
    settings: DialingSettings = DialingSettings()


class ChangeDialingProfile(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: NonEmpty | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    settings: DialingSettings | UnsetType = UNSET


def validate(settings: DialingSettings) -> None:
    """The filter is a selection rule: refuse one that does not parse. The treatments are a
    plan the call results can follow: refuse one that is not (see domain.treatments)."""
    selection.parse(settings.filtering.selection_rule, field="settings.filtering.selection_rule")
    problem = treatments.plan_problem(settings.treatments)
    if problem is not None:
        field, detail = problem
        raise RuleViolation(detail, field=f"settings.{field}")


KIND: ProfileKind[DialingSettings] = ProfileKind(
    kind="dialing-profile",
    label="dialing profile",
    created=DialingProfileCreated,
    changed=DialingProfileChanged,
    deleted=DialingProfileDeleted,
    default_of=lambda state: state.default_dialing_profile_id,
    choose_default=account.choose_default_dialing_profile,
    validate=validate,
)
project = KIND.projector()
