"""The account's compliance settings: the command that changes them, checked through the
calling-window and attempt-rule constructors, and the folding of its event."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from domain import account
from domain.errors import RuleViolation
from schemas.base import Event
from schemas.settings import (
    AccountSettings,
    AttemptRuleSettings,
    CallingHours,
    ComplianceSettings,
    ComplianceSettingsChanged,
    RegionCompliance,
    WeeklyHours,
)
from tests.domain.builders import (
    ACCOUNT_ID,
    EARLIER,
    NOW,
    account_history,
    an_account,
    assert_events,
    ev,
    expected,
    given,
    refused,
    stream,
)

FLORIDA = ComplianceSettings(
    regions={
        "US-FL": RegionCompliance(
            hours=WeeklyHours(daily=CallingHours(opens="08:00", closes="20:00"), weekdays={"sunday": None}),
            holidays=(date(2026, 11, 26),),
        )
    },
    attempt_rules=(AttemptRuleSettings(name="three a day", max_attempts=3, by="both"),),
)


def change(settings: ComplianceSettings, state: account.Account | None = None) -> list[Event]:
    command = account.ChangeComplianceSettings(compliance=settings)
    return account.change_compliance_settings(state or an_account(), command, now=NOW)


def test_a_new_account_has_the_standard_hours_and_no_rules() -> None:
    settings = an_account().settings.compliance
    assert settings == ComplianceSettings()
    assert settings.default.hours == WeeklyHours(daily=CallingHours(opens="08:00", closes="21:00"))
    assert settings.regions == {} and settings.attempt_rules == ()


def test_changing_records_one_event() -> None:
    assert_events(change(FLORIDA), [expected(ACCOUNT_ID, 2, ComplianceSettingsChanged, compliance=FLORIDA)])


def test_the_same_settings_again_change_nothing() -> None:
    assert change(ComplianceSettings()) == []
    state = given(
        account.project,
        account_history() + stream(ACCOUNT_ID, ev(ComplianceSettingsChanged, compliance=FLORIDA), start=2),
    )
    assert change(FLORIDA, state) == []


def test_settings_are_stored_normalised() -> None:
    sloppy = ComplianceSettings(
        default=RegionCompliance(hours=None),
        regions={"US-FL": RegionCompliance(hours=WeeklyHours(daily=CallingHours(opens="08:00", closes="20:00"),
                                                             weekdays={"Sun": None}),
                                           holidays=(date(2026, 11, 26), date(2026, 11, 26)))},
        attempt_rules=(AttemptRuleSettings(name="  three a day ", max_attempts=3, by="both"),),
    )
    (event,) = change(sloppy)
    assert isinstance(event, ComplianceSettingsChanged)
    assert event.compliance == FLORIDA


def test_folding_replaces_only_the_compliance_section() -> None:
    history = account_history() + stream(
        ACCOUNT_ID, ev(ComplianceSettingsChanged, compliance=FLORIDA), start=2, when=NOW
    )
    state = given(account.project, history)
    assert state.settings.compliance == FLORIDA
    assert state.version == 2
    assert state.created_on == EARLIER and state.modified_on == NOW
    before = an_account().settings
    assert msgspec.structs.replace(state.settings, compliance=before.compliance) == before


def test_an_old_account_opened_event_reads_with_the_default_compliance() -> None:
    raw = msgspec.json.encode(AccountSettings(general=an_account().settings.general))
    legacy = msgspec.json.decode(raw)
    del legacy["compliance"]
    assert msgspec.convert(legacy, AccountSettings).compliance == ComplianceSettings()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"default": {"hours": {"daily": {"opens": "21:00", "closes": "08:00"}}}}, "default.hours.daily"),
        ({"default": {"hours": {"weekdays": {"caturday": None}}}}, "default.hours.weekdays.caturday"),
        ({"regions": {"gb": {}}}, "regions.gb"),
        ({"regions": {"GB": {"hours": {"weekdays": {"sat": {"opens": "07:00", "closes": "07:00"}}}}}},
         "regions.GB.hours.weekdays.sat"),
        ({"attempt_rules": [{"name": "a", "max_attempts": 1}, {"name": "a", "max_attempts": 2}]},
         "attempt_rules[1].name"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(body: dict[str, object], field: str) -> None:
    settings = msgspec.convert(body, ComplianceSettings)
    with refused(RuleViolation, field):
        change(settings)
