"""Suppression list: settings, unique names, entries (validation, expiry, batches) and a
campaign group's choice of optional lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

import msgspec
import pytest

from domain import campaign_group, suppression_list
from domain.errors import NameTaken, NotFound, RuleViolation
from domain.suppression_list import (
    ChangeSuppressionList,
    CreateSuppressionList,
    EntryInput,
    NoValidEntries,
    RejectedEntry,
)
from schemas.suppression import (
    MAX_ENTRIES_PER_EVENT,
    CampaignGroupSuppressionListsSelected,
    SuppressionEntriesAdded,
    SuppressionEntriesExpired,
    SuppressionEntriesRemoved,
    SuppressionEntry,
    SuppressionEntryKey,
    SuppressionListArchived,
    SuppressionListChanged,
    SuppressionListCreated,
)
from tests.domain.builders import (
    ACCOUNT_ID,
    GROUP_ID,
    LIST_2_ID,
    LIST_3_ID,
    LIST_ID,
    NOW,
    OTHER_GROUP_ID,
    a_claim,
    a_group,
    assert_events,
    claim_event,
    ev,
    expected,
    given,
    refused,
    release_event,
    stream,
)

KIND = suppression_list.KIND
NAME = "Do not call"
NEW_YORK = ZoneInfo("America/New_York")
OTHER_ACCOUNT = UUID("0a000000-0000-4000-8000-000000000002")


def a_suppression_list(
    list_id: UUID = LIST_ID,
    name: str = NAME,
    *,
    channel: str = "voice",
    required: bool = False,
    retention_days: int | None = None,
    archived: bool = False,
    account_id: UUID = ACCOUNT_ID,
    entries_events: int = 0,
) -> suppression_list.SuppressionList:
    specs = [
        ev(
            SuppressionListCreated, name=name, description="", channel=channel,
            required=required, retention_days=retention_days,
        )
    ]
    specs += [
        ev(
            SuppressionEntriesAdded, channel=channel, source="api",
            entries=[SuppressionEntry(kind="client_id", value=f"C{i}", entry_id=uuid5(list_id, f"client_id:C{i}"))],
        )
        for i in range(entries_events)
    ]
    if archived:
        specs.append(ev(SuppressionListArchived))
    events = stream(list_id, *specs)
    if account_id != ACCOUNT_ID:
        events = [msgspec.structs.replace(e, account_id=account_id) for e in events]
    state: suppression_list.SuppressionList = given(suppression_list.project, events)
    return state


def create(*, name=NAME, channel="voice", required=False, retention_days=None, claim=None):
    return suppression_list.create(
        CreateSuppressionList(
            name=name, description="National DNC", channel=channel, required=required, retention_days=retention_days
        ),
        list_id=LIST_ID, account_id=ACCOUNT_ID, claim=claim, now=NOW,
    )


def change(command, *, state=None, new_claim=None, old_claim=None):
    return suppression_list.change(
        a_suppression_list() if state is None else state, command,
        new_claim=new_claim, old_claim=old_claim, now=NOW,
    )


def entries(*pairs: tuple[str, str | int]) -> list[EntryInput]:
    return [EntryInput(kind=kind, value=value) for kind, value in pairs]


def add(state, *pairs, now=NOW, zone=NEW_YORK, region="US", source="api", job_id=None):
    return suppression_list.add_entries(
        state, entries(*pairs), source=source, job_id=job_id, region=region, zone=zone, now=now
    )


def entry(kind: str, value: str, expires_at: int | None = None, list_id: UUID = LIST_ID) -> SuppressionEntry:
    return SuppressionEntry(kind=kind, value=value, entry_id=uuid5(list_id, f"{kind}:{value}"), expires_at=expires_at)


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


# Creating, changing, archiving ----------------------------------------------------------


@pytest.mark.parametrize("channel", ["voice", "sms", "email"])
@pytest.mark.parametrize("required", [True, False])
def test_creating_a_list_claims_its_name(channel, required):
    assert_events(
        create(name=" Do  not call ", channel=channel, required=required, retention_days=90),
        [
            claim_event(KIND, NAME, LIST_ID),
            expected(
                LIST_ID, 1, SuppressionListCreated, name=NAME, description="National DNC",
                channel=channel, required=required, retention_days=90,
            ),
        ],
    )


def test_a_list_name_is_unique_per_kind():
    with refused(NameTaken, "name"):
        create(claim=a_claim(KIND, "do NOT call", LIST_2_ID))
    # A contact list of the same name is another kind of name.
    assert create(claim=None)[-1].name == NAME


def test_a_released_name_can_be_claimed_again():
    events = create(claim=a_claim(KIND, NAME, LIST_2_ID, released=True))
    assert events[0].originator_version == 3


@pytest.mark.parametrize("name", ["   ", "x" * 201])
def test_a_list_needs_a_valid_name(name):
    with refused(RuleViolation, "name"):
        create(name=name)


@pytest.mark.parametrize("days", [None, 0, *range(1, 32), 45, 60, 90, 180, 360])
def test_every_retention_choice_is_accepted(days):
    assert create(retention_days=days)[-1].retention_days == days


@pytest.mark.parametrize("days", [-1, 32, 44, 46, 100, 365, 3600])
def test_other_retention_periods_are_refused(days):
    with refused(RuleViolation, "retention_days"):
        create(retention_days=days)
    with refused(RuleViolation, "retention_days"):
        change(ChangeSuppressionList(retention_days=days))


def test_changing_settings():
    events = change(ChangeSuppressionList(description="From the regulator", required=True, retention_days=0))
    assert_events(
        events,
        [
            expected(
                LIST_ID, 2, SuppressionListChanged, name=NAME, description="From the regulator",
                required=True, retention_days=0,
            )
        ],
    )
    state = suppression_list.project(a_suppression_list(), events)
    assert (state.required, state.retention_days, state.version) == (True, 0, 2)


def test_retention_can_become_permanent_again():
    state = a_suppression_list(retention_days=30)
    events = change(ChangeSuppressionList(retention_days=None), state=state)
    assert events[-1].retention_days is None


def test_a_change_that_changes_nothing_records_nothing():
    assert change(ChangeSuppressionList(name=" Do  not call", channel="voice", required=False)) == []


def test_renaming_moves_the_claim():
    events = change(ChangeSuppressionList(name="State DNC"), old_claim=a_claim(KIND, NAME, LIST_ID))
    assert_events(
        events,
        [
            claim_event(KIND, "State DNC", LIST_ID),
            release_event(KIND, NAME, LIST_ID),
            expected(LIST_ID, 2, SuppressionListChanged, name="State DNC", description="", required=False, retention_days=None),
        ],
    )


def test_renaming_to_a_taken_name_is_refused():
    with refused(NameTaken, "name"):
        change(ChangeSuppressionList(name="State DNC"), new_claim=a_claim(KIND, "State DNC", LIST_2_ID))


@pytest.mark.parametrize(("was", "wanted"), [("voice", "sms"), ("sms", "email"), ("email", "voice")])
def test_the_channel_cannot_change(was, wanted):
    with refused(RuleViolation, "channel"):
        change(ChangeSuppressionList(channel=wanted), state=a_suppression_list(channel=was))


def test_archiving_releases_the_name():
    assert_events(
        suppression_list.archive(a_suppression_list(), claim=a_claim(KIND, NAME, LIST_ID), now=NOW),
        [release_event(KIND, NAME, LIST_ID), expected(LIST_ID, 2, SuppressionListArchived)],
    )


def test_an_archived_list_is_gone():
    archived = a_suppression_list(archived=True)
    assert archived.archived and archived.deleted
    with refused(NotFound, "id"):
        suppression_list.archive(archived, claim=None, now=NOW)
    with refused(NotFound, "id"):
        change(ChangeSuppressionList(description="x"), state=archived)
    with refused(NotFound, "id"):
        add(archived, ("client_id", "C1"))
    with refused(NotFound, "id"):
        suppression_list.remove_entries(archived, entries(("client_id", "C1")), region="US", now=NOW)
    assert suppression_list.expire_entries(archived, [SuppressionEntryKey(kind="client_id", value="C1")], now=NOW) == []


def test_a_missing_list_is_not_found():
    with refused(NotFound, "id"):
        add(None, ("client_id", "C1"))
    with refused(NotFound, "id"):
        suppression_list.expire_entries(None, [], now=NOW)


# Entries: what each channel holds, and how values are written ---------------------------


@pytest.mark.parametrize(
    ("channel", "pairs", "stored"),
    [
        (
            "voice",
            [("phone", "(312) 555-0143"), ("phone", "+44 20 7946 0958"), ("client_id", " CUST-0042 ")],
            [("phone", "+13125550143"), ("phone", "+442079460958"), ("client_id", "CUST-0042")],
        ),
        (
            "sms",
            [("phone", "312.555.0143"), ("client_id", 1042)],
            [("phone", "+13125550143"), ("client_id", "1042")],
        ),
        (
            "email",
            [("email", " Jane.Doe@Example.COM "), ("client_id", "cust-0042")],
            [("email", "jane.doe@example.com"), ("client_id", "cust-0042")],
        ),
    ],
)
def test_each_channel_takes_its_kinds_normalised(channel, pairs, stored):
    state = a_suppression_list(channel=channel)
    outcome = add(state, *pairs)
    assert outcome.rejected == []
    assert outcome.accepted == len(stored)
    assert_events(
        outcome.events,
        [
            expected(
                LIST_ID, 2, SuppressionEntriesAdded, channel=channel, source="api",
                entries=[entry(kind, value) for kind, value in stored],
            )
        ],
    )


def test_phone_numbers_are_read_in_the_accounts_country():
    outcome = add(a_suppression_list(), ("phone", "020 7946 0958"), region="GB")
    assert outcome.events[0].entries[0].value == "+442079460958"
    rejected = add(a_suppression_list(), ("phone", "020 7946 0958"), ("client_id", "C1"), region="US").rejected
    assert [r.field for r in rejected] == ["entries[0].value"]


def test_the_entry_id_derives_from_list_kind_and_value():
    first = add(a_suppression_list(), ("phone", "(312) 555-0143")).events[0].entries[0]
    again = add(a_suppression_list(), ("phone", "+1 312 555 0143")).events[0].entries[0]
    other_list = add(a_suppression_list(LIST_2_ID), ("phone", "(312) 555-0143")).events[0].entries[0]
    assert first.entry_id == again.entry_id == uuid5(LIST_ID, "phone:+13125550143")
    assert other_list.entry_id != first.entry_id


def test_a_value_named_twice_in_a_batch_is_added_once():
    outcome = add(a_suppression_list(), ("phone", "(312) 555-0143"), ("phone", "+13125550143"), ("client_id", "C1"))
    assert outcome.accepted == 2
    assert [e.value for e in outcome.events[0].entries] == ["+13125550143", "C1"]


def test_a_file_batch_names_its_job():
    job = UUID("0e000000-0000-4000-8000-000000000001")
    event = add(a_suppression_list(), ("client_id", "C1"), source="file", job_id=job).events[0]
    assert (event.source, event.job_id) == ("file", job)


# Entries: bad input ----------------------------------------------------------------------

BAD = [
    ("voice", "fax", "+13125550143", "kind", "is not a kind of entry"),
    ("voice", "PHONE", "+13125550143", "kind", "is not a kind of entry"),
    ("voice", "email", "jane@example.com", "kind", "not e-mail addresses"),
    ("sms", "email", "jane@example.com", "kind", "not e-mail addresses"),
    ("email", "phone", "(312) 555-0143", "kind", "not phone numbers"),
    ("voice", "phone", "", "value", "empty"),
    ("voice", "phone", "   ", "value", "empty"),
    ("voice", "client_id", "", "value", "empty"),
    ("email", "email", "", "value", "empty"),
    ("voice", "phone", "555-0143", "value", "phone number"),
    ("voice", "phone", "call me", "value", "phone number"),
    ("voice", "phone", "+1 (000) 555-0143", "value", "phone number"),
    ("sms", "phone", "12", "value", "phone number"),
    ("email", "email", "jane.example.com", "value", "not an e-mail address"),
    ("email", "email", "jane@example", "value", "not an e-mail address"),
    ("email", "email", "jane doe@example.com", "value", "not an e-mail address"),
    ("email", "email", "a@" + "b" * 250 + ".com", "value", "not an e-mail address"),
    ("voice", "client_id", "x" * 65, "value", "at most 64"),
]


@pytest.mark.parametrize(("channel", "kind", "value", "field", "words"), BAD)
def test_a_bad_entry_is_reported_and_the_good_ones_kept(channel, kind, value, field, words):
    outcome = add(a_suppression_list(channel=channel), ("client_id", "GOOD-1"), (kind, value), ("client_id", "GOOD-2"))
    assert [e.value for e in outcome.events[0].entries] == ["GOOD-1", "GOOD-2"]
    assert outcome.accepted == 2
    (rejection,) = outcome.rejected
    assert (rejection.index, rejection.kind, rejection.value, rejection.field) == (1, kind, value, f"entries[1].{field}")
    assert words in rejection.reason


def test_a_client_id_of_64_characters_is_fine():
    assert add(a_suppression_list(), ("client_id", "x" * 64)).accepted == 1


def test_a_batch_with_nothing_valid_is_refused_with_every_reason():
    with refused(NoValidEntries, "entries[0].kind") as info:
        add(a_suppression_list(), ("fax", "1"), ("phone", "12"), ("email", "a@b.com"))
    assert [(r.index, r.field) for r in info.value.rejected] == [
        (0, "entries[0].kind"), (1, "entries[1].value"), (2, "entries[2].kind"),
    ]
    assert "none of the 3 entries is valid" in info.value.detail


def test_an_empty_batch_is_refused():
    with refused(RuleViolation, "entries"):
        add(a_suppression_list())
    with refused(RuleViolation, "entries"):
        suppression_list.remove_entries(a_suppression_list(), [], region="US", now=NOW)


def test_mixed_garbage_keeps_what_is_valid():
    outcome = add(
        a_suppression_list(),
        ("phone", "(312) 555-0143"), ("phone", "not a number"), ("fax", "x"), ("client_id", ""),
        ("email", "jane@example.com"), ("client_id", "C-7"), ("phone", "+1 212 555 0123"),
    )
    assert [e.value for e in outcome.events[0].entries] == ["+13125550143", "C-7", "+12125550123"]
    assert [(r.index, r.field) for r in outcome.rejected] == [
        (1, "entries[1].value"), (2, "entries[2].kind"), (3, "entries[3].value"), (4, "entries[4].kind"),
    ]
    assert all(isinstance(r, RejectedEntry) and r.reason for r in outcome.rejected)


# Entries: batches of 5,000 ---------------------------------------------------------------


def test_a_large_batch_is_split_into_events_of_5000():
    count = 2 * MAX_ENTRIES_PER_EVENT + 1
    outcome = add(a_suppression_list(), *[("client_id", f"C{i}") for i in range(count)])
    assert outcome.accepted == count
    assert [len(e.entries) for e in outcome.events] == [MAX_ENTRIES_PER_EVENT, MAX_ENTRIES_PER_EVENT, 1]
    assert [e.originator_version for e in outcome.events] == [2, 3, 4]
    assert [e.value for event in outcome.events for e in event.entries] == [f"C{i}" for i in range(count)]
    assert_events(outcome.events[-1:], outcome.events[-1:])
    removed = suppression_list.remove_entries(
        a_suppression_list(), entries(*[("client_id", f"C{i}") for i in range(count)]), region="US", now=NOW
    )
    assert [len(e.entries) for e in removed.events] == [MAX_ENTRIES_PER_EVENT, MAX_ENTRIES_PER_EVENT, 1]


# Entries: expiry from the list's retention ---------------------------------------------------


def test_permanent_entries_do_not_expire():
    assert add(a_suppression_list(retention_days=None), ("client_id", "C1")).events[0].entries[0].expires_at is None


@pytest.mark.parametrize("days", [*range(1, 32), 45, 60, 90, 180, 360])
def test_n_days_is_n_times_24_hours_after_the_addition(days):
    outcome = add(a_suppression_list(retention_days=days), ("client_id", "C1"))
    assert outcome.events[0].entries[0].expires_at == int(NOW.timestamp()) + days * 86_400


def test_days_count_elapsed_time_across_a_clock_change():
    # 2025-03-09 01:30 EST; a day later it is 02:30 EDT by the wall clock.
    now = datetime(2025, 3, 9, 6, 30, tzinfo=UTC)
    outcome = add(a_suppression_list(retention_days=1), ("client_id", "C1"), now=now)
    assert outcome.events[0].entries[0].expires_at == epoch("2025-03-10T06:30:00+00:00")


@pytest.mark.parametrize(
    ("now", "midnight"),
    [
        # 23:30 EDT on the 13th: "today" ends half an hour later.
        ("2025-03-14T03:30:00+00:00", "2025-03-14T04:00:00+00:00"),
        # 00:30 EDT on the 14th: a new local day, which ends the next midnight.
        ("2025-03-14T04:30:00+00:00", "2025-03-15T04:00:00+00:00"),
        # Exactly midnight: the day that starts now.
        ("2025-03-14T04:00:00+00:00", "2025-03-15T04:00:00+00:00"),
        # Already the 14th in UTC but still the 13th in New York.
        ("2025-03-14T01:00:00+00:00", "2025-03-14T04:00:00+00:00"),
        # Spring forward (2025-03-09, a 23-hour day): midnight EST to midnight EDT.
        ("2025-03-09T05:00:00+00:00", "2025-03-10T04:00:00+00:00"),
        ("2025-03-09T06:59:59+00:00", "2025-03-10T04:00:00+00:00"),
        ("2025-03-09T07:00:00+00:00", "2025-03-10T04:00:00+00:00"),
        # Fall back (2025-11-02, a 25-hour day): midnight EDT to midnight EST.
        ("2025-11-02T04:00:00+00:00", "2025-11-03T05:00:00+00:00"),
        ("2025-11-02T05:30:00+00:00", "2025-11-03T05:00:00+00:00"),
        ("2025-11-02T06:30:00+00:00", "2025-11-03T05:00:00+00:00"),
    ],
)
def test_today_ends_at_the_accounts_next_local_midnight(now, midnight):
    at = datetime.fromisoformat(now)
    outcome = add(a_suppression_list(retention_days=0), ("client_id", "C1"), now=at)
    assert outcome.events[0].entries[0].expires_at == epoch(midnight)


def test_today_in_other_zones():
    now = datetime(2025, 6, 1, 22, 0, tzinfo=UTC)
    tokyo = add(a_suppression_list(retention_days=0), ("client_id", "C1"), now=now, zone=ZoneInfo("Asia/Tokyo"))
    assert tokyo.events[0].entries[0].expires_at == epoch("2025-06-02T15:00:00+00:00")
    utc = add(a_suppression_list(retention_days=0), ("client_id", "C1"), now=now, zone=ZoneInfo("UTC"))
    assert utc.events[0].entries[0].expires_at == epoch("2025-06-02T00:00:00+00:00")


def test_today_where_midnight_is_skipped():
    # Santiago springs forward at 24:00 on 2024-09-07: the 8th starts at 01:00 local (04:00 UTC).
    now = datetime(2024, 9, 7, 20, 0, tzinfo=UTC)
    outcome = add(a_suppression_list(retention_days=0), ("client_id", "C1"), now=now, zone=ZoneInfo("America/Santiago"))
    assert outcome.events[0].entries[0].expires_at == epoch("2024-09-08T04:00:00+00:00")


def test_retention_applies_from_the_change_on():
    state = suppression_list.project(
        a_suppression_list(retention_days=None),
        change(ChangeSuppressionList(retention_days=7)),
    )
    expiry = add(state, ("client_id", "C1")).events[0].entries[0].expires_at
    assert expiry == int((NOW + timedelta(days=7)).timestamp())


# Removing and expiring -----------------------------------------------------------------


def test_removing_entries_names_them_as_stored():
    outcome = suppression_list.remove_entries(
        a_suppression_list(channel="sms"),
        entries(("phone", "(312) 555-0143"), ("client_id", "never-added"), ("email", "x@y.com")),
        region="US", now=NOW,
    )
    assert outcome.accepted == 2
    assert [r.field for r in outcome.rejected] == ["entries[2].kind"]
    assert_events(
        outcome.events,
        [
            expected(
                LIST_ID, 2, SuppressionEntriesRemoved, channel="sms", reason="removed",
                entries=[
                    SuppressionEntryKey(kind="phone", value="+13125550143"),
                    SuppressionEntryKey(kind="client_id", value="never-added"),
                ],
            )
        ],
    )


def test_expiring_entries_in_batches():
    keys = [SuppressionEntryKey(kind="client_id", value=f"C{i}") for i in range(MAX_ENTRIES_PER_EVENT + 2)]
    events = suppression_list.expire_entries(a_suppression_list(), [*keys, keys[0]], now=NOW)
    assert [type(e) for e in events] == [SuppressionEntriesExpired, SuppressionEntriesExpired]
    assert [len(e.entries) for e in events] == [MAX_ENTRIES_PER_EVENT, 2]
    assert_events(events, events)


def test_entries_events_change_only_the_version():
    state = a_suppression_list(entries_events=3)
    assert state.version == 4
    assert (state.name, state.retention_days, state.archived) == (NAME, None, False)


# A campaign group's optional lists -----------------------------------------------------------


def select(list_ids, *, lists=None, channel="voice", group=None):
    return suppression_list.select_suppression_lists(
        a_group() if group is None else group,
        list_ids,
        lists=lists if lists is not None else {LIST_ID: a_suppression_list(), LIST_2_ID: a_suppression_list(LIST_2_ID, "B")},
        channel=channel,
        now=NOW,
    )


def test_selecting_optional_lists():
    events = select([LIST_2_ID, LIST_ID])
    assert_events(
        events, [expected(GROUP_ID, 2, CampaignGroupSuppressionListsSelected, suppression_list_ids=[LIST_2_ID, LIST_ID])]
    )
    group = campaign_group.project(a_group(), events)
    assert group.suppression_list_ids == (LIST_2_ID, LIST_ID)
    assert select([LIST_2_ID, LIST_ID], group=group) == []
    assert_events(
        select([], group=group),
        [expected(GROUP_ID, 3, CampaignGroupSuppressionListsSelected, suppression_list_ids=[])],
    )


def test_selecting_nothing_for_a_group_with_nothing_records_nothing():
    assert select([]) == []


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_lists_of_other_channels_cannot_be_selected(channel):
    lists = {LIST_3_ID: a_suppression_list(LIST_3_ID, channel=channel)}
    with refused(RuleViolation, "suppression_list_ids[0]"):
        select([LIST_3_ID], lists=lists)
    assert select([LIST_3_ID], lists=lists, channel=channel)[0].suppression_list_ids == [LIST_3_ID]


def test_required_lists_are_not_selected():
    lists = {LIST_ID: a_suppression_list(), LIST_3_ID: a_suppression_list(LIST_3_ID, required=True)}
    with refused(RuleViolation, "suppression_list_ids[1]") as info:
        select([LIST_ID, LIST_3_ID], lists=lists)
    assert "required" in info.value.detail


@pytest.mark.parametrize(
    "lists",
    [
        {},
        {LIST_3_ID: a_suppression_list(LIST_3_ID, archived=True)},
        {LIST_3_ID: a_suppression_list(LIST_3_ID, account_id=OTHER_ACCOUNT)},
    ],
    ids=["missing", "archived", "another account's"],
)
def test_missing_archived_or_foreign_lists_are_not_found(lists):
    with refused(NotFound, "suppression_list_ids[0]"):
        select([LIST_3_ID], lists=lists)


def test_a_list_named_twice_is_refused():
    with refused(RuleViolation, "suppression_list_ids"):
        select([LIST_ID, LIST_ID])


def test_a_deleted_group_cannot_select():
    with refused(NotFound, "id"):
        select([LIST_ID], group=a_group(deleted=True))
    with refused(NotFound, "id"):
        select([LIST_ID], group=a_group(OTHER_GROUP_ID, deleted=True))


# Entry files ------------------------------------------------------------------------------

JOB_ID = UUID("0a000000-0000-4000-8000-0000000000f1")


def cells(*rows: tuple[int, str, str]) -> list[suppression_list.FileEntry]:
    return [suppression_list.FileEntry(line=line, column=kind, kind=kind, raw=raw) for line, kind, raw in rows]


def from_file(state, rows, *, present=(), append_type="append_only"):
    checked, rejected = suppression_list.check_file_entries(state, cells(*rows), region="US")
    ids = {entry.entry_id for entry in checked if entry.value in present}
    outcome = suppression_list.add_file_entries(
        state, checked, present=ids, append_type=append_type, job_id=JOB_ID, zone=NEW_YORK, now=NOW
    )
    return outcome, rejected


def test_a_files_cells_are_checked_one_by_one():
    state = a_suppression_list(retention_days=30)
    outcome, rejected = from_file(
        state, [(2, "phone", "(312) 555-0143"), (3, "phone", "555-0143"), (4, "email", "a@b.co"), (5, "client_id", "C9")]
    )
    assert [(cell.line, reason) for cell, reason in rejected] == [
        (3, rejected[0][1]),
        (4, "line 4: email: a voice suppression list holds phone numbers and client ids, not e-mail addresses"),
    ]
    assert rejected[0][1].startswith("line 3: phone: ")
    expiry = int(NOW.timestamp()) + 30 * 86_400
    assert_events(
        outcome.events,
        [
            expected(
                LIST_ID, 2, SuppressionEntriesAdded, channel="voice", source="file", job_id=JOB_ID,
                entries=[entry("phone", "+13125550143", expiry), entry("client_id", "C9", expiry)],
            )
        ],
    )
    assert (outcome.imported, outcome.updated, outcome.ignored) == (2, 0, [])


@pytest.mark.parametrize(
    ("append_type", "imported", "updated", "ignored"),
    [
        ("append_only", 1, 0, 1),
        ("new_list_only", 1, 0, 1),
        ("flush_and_append", 1, 0, 1),
        ("append_and_update", 1, 1, 0),
    ],
)
def test_entries_already_in_the_list_under_each_append_type(append_type, imported, updated, ignored):
    outcome, _ = from_file(
        a_suppression_list(), [(2, "client_id", "OLD"), (3, "client_id", "NEW")],
        present={"OLD"}, append_type=append_type,
    )
    assert (outcome.imported, outcome.updated, len(outcome.ignored)) == (imported, updated, ignored)
    (added,) = outcome.events
    assert [e.value for e in added.entries] == (["OLD", "NEW"] if updated else ["NEW"])
    if ignored:
        assert "already in the list" in outcome.ignored[0][1]


def test_an_entry_named_twice_in_a_file_is_taken_once():
    outcome, _ = from_file(a_suppression_list(), [(2, "phone", "3125550143"), (7, "phone", "+1 312 555 0143")])
    assert outcome.imported == 1
    ((cell, reason),) = outcome.ignored
    assert cell.line == 7 and "named earlier in the file" in reason


def test_a_file_batch_with_nothing_valid_stores_nothing():
    outcome, rejected = from_file(a_suppression_list(), [(2, "phone", "nope")])
    assert outcome.events == [] and len(rejected) == 1


def test_a_flush_removes_the_entries_found():
    events = suppression_list.flush_entries(
        a_suppression_list(), [SuppressionEntryKey(kind="client_id", value="C1")] * 2, now=NOW
    )
    assert_events(
        events,
        [
            expected(
                LIST_ID, 2, SuppressionEntriesRemoved, channel="voice", reason="flush",
                entries=[SuppressionEntryKey(kind="client_id", value="C1")],
            )
        ],
    )
