"""The suppression_lists read model: lists and exact entry counts, the lists that apply to a
campaign, expired entries, replay equal to live, and nothing applied twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from dialstream.bootstrap import Runtime, build
from dialstream.cli.log import replay
from dialstream.settings import Settings
from domain import campaign_group
from domain.suppression_list import ChangeSuppressionList, CreateSuppressionList, EntryInput
from projections.base import ProjectionStore
from projections.sql import connect
from projections.suppression_lists import TABLES, ExpiredEntry, SuppressionLists
from schemas.suppression import MAX_ENTRIES_PER_EVENT, SuppressionEntryKey
from tests.scenario import build_campaign_structure

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(tmp_path: Path, clock: Clock) -> Iterator[Runtime]:
    # The read models only: the expiry sweep (a processor) runs on the wall clock and would
    # expire, at any moment, the entries these tests date by their own clock.
    runtime = build(Settings(data_dir=tmp_path), workers=[])
    runtime.handlers.clock = clock
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


def settle(runtime: Runtime) -> None:
    assert runtime.wait(runtime.store.position())


def make(runtime: Runtime, account_id: UUID, name: str, **fields: object) -> UUID:
    return runtime.handlers.suppression.create_list(account_id, CreateSuppressionList(name=name, **fields)).id


def clients(*values: str) -> list[EntryInput]:
    return [EntryInput(kind="client_id", value=value) for value in values]


def rows(runtime: Runtime) -> dict[str, list[tuple[object, ...]]]:
    with runtime.views.transaction() as cursor:
        found = {}
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table}")
            found[table] = sorted(tuple(row) for row in cursor.fetchall())
    return found


def count(runtime: Runtime, account_id: UUID, list_id: UUID) -> int:
    row = runtime.suppression_lists.get(account_id, list_id)
    assert row is not None
    return row.entry_count


# Lists -------------------------------------------------------------------------------------


def test_lists_per_account_with_their_settings(runtime: Runtime) -> None:
    handlers = runtime.handlers
    acme = handlers.accounts.open_account("Acme").id
    other = handlers.accounts.open_account("Other").id
    dnc = make(runtime, acme, "National DNC", required=True, retention_days=None)
    texts = make(runtime, acme, "Text opt-outs", channel="sms", retention_days=0)
    mail = make(runtime, acme, "Bounces", channel="email", retention_days=90, description="hard bounces")
    foreign = make(runtime, other, "National DNC", required=True)
    settle(runtime)

    listed = runtime.suppression_lists.list_by_account(acme)
    assert [r.state.name for r in listed] == ["Bounces", "National DNC", "Text opt-outs"]
    by_id = {r.state.id: r.state for r in listed}
    assert (by_id[dnc].channel, by_id[dnc].required, by_id[dnc].retention_days) == ("voice", True, None)
    assert (by_id[texts].channel, by_id[texts].required, by_id[texts].retention_days) == ("sms", False, 0)
    assert (by_id[mail].channel, by_id[mail].description, by_id[mail].retention_days) == ("email", "hard bounces", 90)
    assert runtime.suppression_lists.get(acme, foreign) is None
    assert [r.state.id for r in runtime.suppression_lists.list_by_account(other)] == [foreign]

    handlers.suppression.change_list(acme, dnc, ChangeSuppressionList(name="Federal DNC", required=False))
    handlers.suppression.archive_list(acme, texts)
    settle(runtime)
    changed = runtime.suppression_lists.get(acme, dnc)
    assert changed is not None
    assert (changed.state.name, changed.state.required, changed.state.version) == ("Federal DNC", False, 2)
    assert runtime.suppression_lists.get(acme, texts) is None
    assert [r.state.name for r in runtime.suppression_lists.list_by_account(acme)] == ["Bounces", "Federal DNC"]


# Entry counts ------------------------------------------------------------------------------


def test_the_entry_count_is_exact(runtime: Runtime) -> None:
    handlers = runtime.handlers
    acme = handlers.accounts.open_account("Acme").id
    dnc = make(runtime, acme, "DNC")
    handlers.suppression.add_entries(acme, dnc, clients("A", "B", "C"))
    settle(runtime)
    assert count(runtime, acme, dnc) == 3
    # Two of them again (replaced, not doubled) and one new.
    handlers.suppression.add_entries(acme, dnc, clients("A", "B", "D"))
    settle(runtime)
    assert count(runtime, acme, dnc) == 4
    # One that is there and one that never was.
    handlers.suppression.remove_entries(acme, dnc, clients("A", "never"))
    settle(runtime)
    assert count(runtime, acme, dnc) == 3
    handlers.suppression.expire_entries(
        acme, dnc, [SuppressionEntryKey(kind="client_id", value="B"), SuppressionEntryKey(kind="client_id", value="B")]
    )
    settle(runtime)
    assert count(runtime, acme, dnc) == 2
    handlers.suppression.add_entries(acme, dnc, [EntryInput(kind="phone", value="(312) 555-0143"), *clients("A")])
    settle(runtime)
    assert count(runtime, acme, dnc) == 4
    handlers.suppression.remove_entries(acme, dnc, [EntryInput(kind="phone", value="+1 312 555 0143")])
    settle(runtime)
    assert count(runtime, acme, dnc) == 3


def test_a_large_batch_counts_once_per_entry(runtime: Runtime) -> None:
    handlers = runtime.handlers
    acme = handlers.accounts.open_account("Acme").id
    dnc = make(runtime, acme, "DNC")
    values = [f"C{i}" for i in range(2 * MAX_ENTRIES_PER_EVENT + 3)]
    done = handlers.suppression.add_entries(acme, dnc, clients(*values))
    assert done.accepted == len(values)
    settle(runtime)
    assert count(runtime, acme, dnc) == len(values)
    handlers.suppression.add_entries(acme, dnc, clients(*values[-MAX_ENTRIES_PER_EVENT - 10 :], "new"))
    settle(runtime)
    assert count(runtime, acme, dnc) == len(values) + 1


def test_archiving_drops_the_entries(runtime: Runtime) -> None:
    handlers = runtime.handlers
    acme = handlers.accounts.open_account("Acme").id
    dnc = make(runtime, acme, "DNC", retention_days=1)
    handlers.suppression.add_entries(acme, dnc, clients("A", "B"))
    handlers.suppression.archive_list(acme, dnc)
    settle(runtime)
    assert rows(runtime)["suppression_entries"] == []
    assert runtime.suppression_lists.expired(int((NOW + timedelta(days=2)).timestamp())) == []


# Expired entries ---------------------------------------------------------------------------


def test_expired_entries_soonest_first(runtime: Runtime, clock: Clock) -> None:
    handlers = runtime.handlers
    acme = handlers.accounts.open_account("Acme").id
    today = make(runtime, acme, "Today", retention_days=0)
    week = make(runtime, acme, "Week", retention_days=7)
    forever = make(runtime, acme, "Forever")
    handlers.suppression.add_entries(acme, week, clients("W1"))
    handlers.suppression.add_entries(acme, today, clients("T1", "T2"))
    handlers.suppression.add_entries(acme, forever, clients("F1"))
    settle(runtime)
    # 09:30 UTC is 05:30 in New York: "today" ends at 04:00 UTC on the 15th.
    midnight = int(datetime(2025, 3, 15, 4, 0, tzinfo=UTC).timestamp())
    queries = runtime.suppression_lists
    assert queries.expired(midnight - 1) == []
    assert {(e.list_id, e.value) for e in queries.expired(midnight)} == {(today, "T1"), (today, "T2")}
    assert queries.expired(midnight, limit=1)[0].expires_at == midnight
    in_a_year = int((NOW + timedelta(days=365)).timestamp())
    found = queries.expired(in_a_year)
    assert [e.list_id for e in found] == [today, today, week]
    assert found[-1] == ExpiredEntry(
        account_id=acme, list_id=week, kind="client_id", value="W1", expires_at=int((NOW + timedelta(days=7)).timestamp())
    )
    # Added again later: its expiry starts over.
    clock.now = NOW + timedelta(days=3)
    handlers.suppression.add_entries(acme, week, clients("W1"))
    settle(runtime)
    assert queries.expired(int((NOW + timedelta(days=8)).timestamp())) == queries.expired(midnight)


# The lists that apply ----------------------------------------------------------------------


def test_applicable_lists(runtime: Runtime) -> None:
    handlers = runtime.handlers
    acme = handlers.accounts.open_account("Acme").id
    other = handlers.accounts.open_account("Other").id
    ids = build_campaign_structure(handlers, acme)
    voice_group, voice_group_2 = ids["renewals-nov"], ids["renewals-dec"]
    sms_group = handlers.campaigns.create_group(
        acme,
        campaign_group.CreateCampaignGroup(name="Reminders 2", template_id=ids["reminders"], contact_list_ids=[ids["texts"]]),
    ).id
    federal = make(runtime, acme, "Federal DNC", required=True)
    state_dnc = make(runtime, acme, "State DNC")
    vip = make(runtime, acme, "VIP opt-outs")
    sms_required = make(runtime, acme, "STOP replies", channel="sms", required=True)
    sms_optional = make(runtime, acme, "Text complaints", channel="sms")
    mail_required = make(runtime, acme, "Unsubscribed", channel="email", required=True)
    theirs = make(runtime, other, "Their DNC", required=True)
    handlers.suppression.select_lists(acme, voice_group, [state_dnc, vip])
    handlers.suppression.select_lists(acme, voice_group_2, [vip])
    handlers.suppression.select_lists(acme, sms_group, [sms_optional])
    settle(runtime)

    queries = runtime.suppression_lists

    def applicable(channel: str, group: UUID | None) -> set[UUID]:
        found = queries.applicable(acme, channel, group)
        assert found == sorted(found)
        return set(found)

    assert applicable("voice", None) == {federal}
    assert applicable("voice", voice_group) == {federal, state_dnc, vip}
    assert applicable("voice", voice_group_2) == {federal, vip}
    assert applicable("sms", sms_group) == {sms_required, sms_optional}
    assert applicable("sms", None) == {sms_required}
    assert applicable("email", None) == {mail_required}
    # A group's selections count only on its own channel.
    assert applicable("sms", voice_group) == {sms_required}
    assert queries.applicable(other, "voice", voice_group) == [theirs]
    assert queries.selected(acme, voice_group) == [state_dnc, vip]
    assert queries.selected(other, voice_group) == []

    # Optional made required applies everywhere; archived applies nowhere.
    handlers.suppression.change_list(acme, state_dnc, ChangeSuppressionList(required=True))
    handlers.suppression.archive_list(acme, vip)
    handlers.suppression.archive_list(acme, federal)
    settle(runtime)
    assert applicable("voice", None) == {state_dnc}
    assert applicable("voice", voice_group) == {state_dnc}
    assert applicable("voice", voice_group_2) == {state_dnc}

    # Selecting again replaces; a deleted group's selections go.
    handlers.suppression.select_lists(acme, voice_group_2, [])
    handlers.campaigns.transition_group(acme, sms_group, "start")
    handlers.campaigns.transition_group(acme, sms_group, "stop")
    handlers.campaigns.delete_group(acme, sms_group)
    settle(runtime)
    assert queries.selected(acme, voice_group_2) == []
    assert queries.selected(acme, sms_group) == []
    assert applicable("sms", sms_group) == {sms_required}


# Replay and redelivery ---------------------------------------------------------------------


def _history(runtime: Runtime) -> UUID:
    handlers = runtime.handlers
    acme = handlers.accounts.open_account("Acme").id
    ids = build_campaign_structure(handlers, acme)
    dnc = make(runtime, acme, "DNC", required=True, retention_days=0)
    optional = make(runtime, acme, "Optional", retention_days=30)
    gone = make(runtime, acme, "Gone")
    handlers.suppression.add_entries(acme, dnc, [*clients("A", "B"), EntryInput(kind="phone", value="2125550123")])
    handlers.suppression.add_entries(acme, optional, clients(*(f"O{i}" for i in range(MAX_ENTRIES_PER_EVENT + 5))))
    handlers.suppression.add_entries(acme, gone, clients("G"))
    handlers.suppression.remove_entries(acme, dnc, clients("A", "Z"))
    handlers.suppression.expire_entries(acme, optional, [SuppressionEntryKey(kind="client_id", value="O1")])
    handlers.suppression.archive_list(acme, gone)
    handlers.suppression.select_lists(acme, ids["renewals-dec"], [optional])
    handlers.suppression.change_list(acme, optional, ChangeSuppressionList(name="Optional 2"))
    settle(runtime)
    return acme


def test_replay_yields_the_same_rows_as_the_live_projection(runtime: Runtime, tmp_path: Path) -> None:
    _history(runtime)
    live = rows(runtime)
    assert len(live["suppression_lists"]) == 3
    assert len(live["suppression_entries"]) == 2 + MAX_ENTRIES_PER_EVENT + 4
    assert len(live["suppression_selections"]) == 1

    replica = connect(f"sqlite:///{tmp_path / 'replica.sqlite'}")
    rebuilt = ProjectionStore(replica, [SuppressionLists()])
    rebuilt.apply("suppression_lists", runtime.store.read(after=0, limit=100_000))
    with replica.transaction() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table}")
            assert sorted(tuple(row) for row in cursor.fetchall()) == live[table], table

    replay(runtime, "suppression_lists", progress=False)
    assert rows(runtime) == live
    assert runtime.projections.position("suppression_lists") == runtime.store.position()


def test_a_redelivered_batch_changes_nothing(runtime: Runtime) -> None:
    _history(runtime)
    before = rows(runtime)
    position = runtime.projections.position("suppression_lists")
    assert runtime.projections.apply("suppression_lists", runtime.store.read(after=0, limit=100_000)) == position
    assert rows(runtime) == before


def test_events_applied_twice_by_position_change_nothing(runtime: Runtime, tmp_path: Path) -> None:
    """As a Kafka worker that lost its offsets would: the same events, positions ignored."""
    _history(runtime)
    events = runtime.store.read(after=0, limit=100_000)
    views = connect(f"sqlite:///{tmp_path / 'twice.sqlite'}")
    store = ProjectionStore(views, [SuppressionLists()])
    store.apply("suppression_lists", events)
    projection = SuppressionLists()
    with views.transaction() as cursor:
        cursor.execute("SELECT id, entry_count FROM suppression_lists ORDER BY id")
        once = cursor.fetchall()
        for position, event in events:
            if event.TOPIC in projection.topics:
                projection.apply(cursor, event, position)
        cursor.execute("SELECT id, entry_count FROM suppression_lists ORDER BY id")
        assert cursor.fetchall() == once
    with views.transaction() as cursor:
        cursor.execute("SELECT * FROM suppression_entries")
        assert sorted(tuple(r) for r in cursor.fetchall()) == rows(runtime)["suppression_entries"]
