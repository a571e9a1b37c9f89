"""A supervisor's dialing-mode switch: predictive ⇄ progressive (and power, and the
engage-agent-first variants) take effect while a group runs; a change to or from preview needs
the group stopped first, as in the product."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from dialstream.handlers import Handlers
from dialstream.store import EventStore, store_env
from domain.campaign_group import ChangeCampaignGroup
from domain.errors import InvalidTransition
from schemas.campaigns import DialingOverrides
from tests.scenario import build_campaign_structure


@pytest.fixture
def handlers(tmp_path: Path) -> Iterator[Handlers]:
    store = EventStore(store_env(f"sqlite:///{tmp_path / 'events.sqlite'}"))
    yield Handlers(store)
    store.close()


@pytest.fixture
def running(handlers: Handlers) -> tuple[UUID, UUID]:
    """A running group whose template dials predictive ("Renewals Nov" of the scenario)."""
    account = handlers.accounts.open_account("Acme").id
    ids = build_campaign_structure(handlers, account)
    return account, ids["renewals-nov"]


def mode(handlers: Handlers, account: UUID, group: UUID) -> str:
    state = handlers.campaigns.group(account, group)
    return handlers.campaigns.group_settings(account, state)[0].dialing_mode


def test_predictive_and_progressive_switch_while_the_group_runs(handlers: Handlers, running: tuple[UUID, UUID]) -> None:
    account, group = running
    assert handlers.campaigns.group(account, group).status == "running"
    assert mode(handlers, account, group) == "predictive"
    for wanted in ("progressive", "predictive_engage", "power", "predictive"):
        handlers.campaigns.switch_dialing_mode(account, group, wanted)  # type: ignore[arg-type]
        assert mode(handlers, account, group) == wanted


def test_to_or_from_preview_needs_a_stop(handlers: Handlers, running: tuple[UUID, UUID]) -> None:
    account, group = running
    with pytest.raises(InvalidTransition, match="needs the group stopped first") as refused:
        handlers.campaigns.switch_dialing_mode(account, group, "push_preview")
    assert refused.value.field == "dialing_mode"
    with pytest.raises(InvalidTransition):  # the same through a change of the group's overrides
        handlers.campaigns.change_group(
            account, group, ChangeCampaignGroup(dialing_overrides=DialingOverrides(dialing_mode="preview"))
        )
    handlers.campaigns.transition_group(account, group, "pause")
    with pytest.raises(InvalidTransition):
        handlers.campaigns.switch_dialing_mode(account, group, "preview")
    handlers.campaigns.transition_group(account, group, "stop")
    handlers.campaigns.switch_dialing_mode(account, group, "push_preview")
    handlers.campaigns.transition_group(account, group, "start")
    assert mode(handlers, account, group) == "push_preview"
    with pytest.raises(InvalidTransition):
        handlers.campaigns.switch_dialing_mode(account, group, "progressive")


def test_switching_to_the_mode_it_has_stores_nothing(handlers: Handlers, running: tuple[UUID, UUID]) -> None:
    account, group = running
    handlers.campaigns.switch_dialing_mode(account, group, "progressive")
    version = handlers.campaigns.group(account, group).version
    handlers.campaigns.switch_dialing_mode(account, group, "progressive")
    assert handlers.campaigns.group(account, group).version == version


def test_a_stop_that_races_the_dialers_pacing_record_is_decided_again(
    handlers: Handlers, running: tuple[UUID, UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dialer records its pacing on the group's stream while a supervisor stops it: the
    stop, having lost the race for the next version, is decided again on the group as the
    pacing record left it, rather than failing."""
    account, group = running
    commit = handlers.campaigns.context.commit
    raced = []

    def dialer_first(aggregate_id, events):  # type: ignore[no-untyped-def]
        if not raced:
            raced.append(True)
            handlers.campaigns.record_pacing(account, group, mode="predictive", ratio=1.5, reason="predictive")
        return commit(aggregate_id, events)

    monkeypatch.setattr(handlers.campaigns.context, "commit", dialer_first)
    handlers.campaigns.transition_group(account, group, "stop")
    state = handlers.campaigns.group(account, group)
    assert state.status == "stopped" and raced
