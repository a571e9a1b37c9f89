"""A record's dialability, the pure rules: the groups that may dial it, the "no call" mark,
one group's answer, and the record's answer merged from its groups' (given / when / then)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from domain import dialability as rules
from domain import record_chain
from domain.codes import RecordType
from domain.dialability import SuppressionListName
from domain.predial import Reason, Verdict
from domain.record_chain import RecordChain
from schemas.lists import ContactListSettings
from schemas.records import Record, Suppression
from tests.domain.builders import GROUP_ID, LIST_2_ID, LIST_ID, NOW, OTHER_GROUP_ID, a_group, a_list

THIRD_GROUP_ID = UUID("06000000-0000-4000-8000-000000000003")
DNC_ID = UUID("0e000000-0000-4000-8000-000000000001")
STATE_DNC_ID = UUID("0e000000-0000-4000-8000-000000000002")
ENTRY_1 = UUID("0e100000-0000-4000-8000-000000000001")
ENTRY_2 = UUID("0e100000-0000-4000-8000-000000000002")
CHAIN = record_chain.chain_id(LIST_ID, "C1")
NAMES = {DNC_ID: SuppressionListName("National DNC", required=True)}
LATER = NOW + timedelta(hours=3)
MUCH_LATER = NOW + timedelta(days=2)

ALLOWED = Verdict(allowed=True)
OUTSIDE_HOURS = Reason(code="outside_hours", text="outside calling hours", zone="America/New_York", until=LATER)


def a_record(chain_n: int = 1, record_type: int = RecordType.GENERAL) -> Record:
    return Record(
        record_id=record_chain.record_id(CHAIN, chain_n),
        chain_n=chain_n,
        contact_info=f"+1212555011{chain_n}",
        contact_info_type=1,
        record_type=record_type,
        time_zone="America/New_York",
        time_zone_rule="device",
    )


def a_chain(*, suppressions: Sequence[Suppression] = (), previous_types: dict[int, int] | None = None) -> RecordChain:
    """A chain of two records; those in ``previous_types`` were made no call by suppression."""
    previous = previous_types or {}
    return RecordChain(
        id=CHAIN, version=1, account_id=UUID(int=1), created_on=NOW, modified_on=NOW, list_id=LIST_ID,
        client_id="C1",
        records=[a_record(n, RecordType.NO_CALL if n in previous else RecordType.GENERAL) for n in (1, 2)],
        suppressions=list(suppressions),
        previous_types=previous,
    )


def a_match(entry_id: UUID, list_id: UUID = DNC_ID, *, chain_n: int = 1, value: str = "+12125550111") -> Suppression:
    return Suppression(chain_n=chain_n, suppression_list_id=list_id, entry_id=entry_id, kind="phone", value=value)


def suppressed(entry_id: UUID, list_id: UUID = DNC_ID, until: datetime | None = None) -> Reason:
    return Reason(
        code="suppressed", text="on a suppression list", list_id=list_id, entry_id=entry_id, kind="phone", until=until
    )


def denied(*reasons: Reason, next_allowed: datetime | None = None) -> Verdict:
    return Verdict(allowed=False, reasons=list(reasons), next_allowed=next_allowed)


def shown(*verdicts: Verdict) -> list[list[rules.ReasonBody]]:
    """Each verdict's reasons as the API shows them."""
    return [body(verdict) for verdict in verdicts]


def body(verdict: Verdict) -> list[rules.ReasonBody]:
    return [rules.reason_body(reason, NAMES) for reason in verdict.reasons]


def codes(reasons: list[rules.ReasonBody]) -> list[str]:
    return [reason["code"] for reason in reasons]


# Where the record stands --------------------------------------------------------------------


def test_a_list_that_cannot_be_read_has_no_groups_and_fails_closed() -> None:
    where = rules.setting(LIST_ID, None, members=[a_group(status="running")])

    assert where.groups == []
    assert codes(where.reasons) == ["list_unavailable"]
    assert where.reasons[0]["list_id"] == str(LIST_ID)
    assert where.channel == "voice"


def test_an_archived_list_is_never_dialled_whatever_its_groups() -> None:
    archived = a_list(groups=[GROUP_ID], archived=True)

    where = rules.setting(LIST_ID, archived, members=[a_group(status="running")])

    assert where.groups == []
    assert codes(where.reasons) == ["list_archived"]
    assert "'March arrears' is archived" in where.reasons[0]["text"]


def test_a_list_in_no_campaign_group_is_dialled_by_nothing() -> None:
    where = rules.setting(LIST_ID, a_list(settings=ContactListSettings(channel="sms")))

    assert codes(where.reasons) == ["no_campaign_group"]
    assert where.channel == "sms"


def test_the_lists_groups_are_judged_by_name_whatever_their_case() -> None:
    zeta = a_group(GROUP_ID, "zeta")
    alpha = a_group(OTHER_GROUP_ID, "alpha")
    beta = a_group(THIRD_GROUP_ID, "Beta")  # before "alpha" by code point, after it by name

    where = rules.setting(LIST_ID, a_list(groups=[GROUP_ID, OTHER_GROUP_ID, THIRD_GROUP_ID]), members=[zeta, alpha, beta])

    assert [(group.name, dials) for group, dials in where.groups] == [("alpha", True), ("Beta", True), ("zeta", True)]
    assert where.reasons == []


def test_the_group_asked_about_is_judged_even_when_it_does_not_dial_the_list() -> None:
    elsewhere = a_group(list_ids=[LIST_2_ID], status="running")

    where = rules.setting(LIST_ID, a_list(groups=[OTHER_GROUP_ID]), asked=elsewhere, members=[a_group(OTHER_GROUP_ID)])

    assert where.groups == [(elsewhere, False)]
    assert where.reasons == []


# The gate's reasons and the "no call" mark -----------------------------------------------------


def test_a_suppressed_reason_names_its_list_when_the_list_is_known() -> None:
    known = rules.reason_body(suppressed(ENTRY_1, until=LATER), NAMES)
    unknown = rules.reason_body(suppressed(ENTRY_2, STATE_DNC_ID), NAMES)

    assert (known["list_name"], known["required"]) == ("National DNC", True)
    assert known["until"] == LATER.isoformat().replace("+00:00", "Z")
    assert "list_name" not in unknown and "required" not in unknown
    assert rules.reason_body(OUTSIDE_HOURS, NAMES) == {
        "code": "outside_hours",
        "text": "outside calling hours",
        "zone": "America/New_York",
        "until": LATER.isoformat().replace("+00:00", "Z"),
    }


def test_a_record_without_a_mark_is_judged_with_its_own_type() -> None:
    chain = a_chain()
    record = chain.records[0]

    assert rules.mark(chain, record, NAMES) is None
    assert rules.judged_type(chain, record) == RecordType.GENERAL


def test_a_record_made_no_call_is_marked_with_its_entries_and_judged_with_the_type_it_had() -> None:
    chain = a_chain(
        suppressions=[a_match(ENTRY_1), a_match(ENTRY_2, STATE_DNC_ID), a_match(ENTRY_1, chain_n=2)],
        previous_types={1: RecordType.CAMPAIGN_RESCHEDULED, 2: RecordType.GENERAL},
    )
    record = chain.records[0]

    mark = rules.mark(chain, record, NAMES)

    assert mark is not None
    assert rules.judged_type(chain, record) == RecordType.CAMPAIGN_RESCHEDULED
    assert mark.previous_type == RecordType.CAMPAIGN_RESCHEDULED
    assert mark.entry_ids == {str(ENTRY_1), str(ENTRY_2)}  # not the other record's
    assert mark.reason["code"] == "marked_no_call"
    assert mark.reason["record_type"] == RecordType.NO_CALL
    assert [entry["list_name"] for entry in mark.reason["suppressions"]] == ["National DNC", None]
    text = mark.reason["text"]
    assert "phone +12125550111 on suppression list 'National DNC'" in text
    assert f"on suppression list {STATE_DNC_ID}" in text  # a list no longer known: its id
    assert f"gets its record type {RecordType.CAMPAIGN_RESCHEDULED} back" in text


def test_a_mark_lifts_with_the_gate_only_when_the_gate_sees_every_entry_behind_it() -> None:
    chain = a_chain(suppressions=[a_match(ENTRY_1), a_match(ENTRY_2)], previous_types={1: RecordType.GENERAL})
    mark = rules.mark(chain, chain.records[0], NAMES)
    assert mark is not None

    assert rules.mark_lifts_with(denied(suppressed(ENTRY_1), suppressed(ENTRY_2)), mark)
    assert not rules.mark_lifts_with(denied(suppressed(ENTRY_1)), mark)
    assert not rules.mark_lifts_with(ALLOWED, mark)


def test_a_mark_whose_entries_are_gone_never_lifts_with_the_gate() -> None:
    chain = a_chain(previous_types={1: RecordType.GENERAL})
    mark = rules.mark(chain, chain.records[0], NAMES)

    assert mark is not None and mark.entry_ids == frozenset()
    assert "(no longer named)" in mark.reason["text"]
    assert not rules.mark_lifts_with(ALLOWED, mark)


# One group's answer ------------------------------------------------------------------------


def test_a_running_group_the_gate_allows_may_dial_now() -> None:
    answer = rules.group_answer(LIST_ID, a_group(status="running"), True, ALLOWED, None, [])

    assert answer.allowed and answer.reasons == [] and answer.next_allowed is None


def test_a_group_waits_for_the_gates_next_allowed_when_only_the_gate_holds_it_back() -> None:
    verdict = denied(OUTSIDE_HOURS, next_allowed=LATER)

    answer = rules.group_answer(LIST_ID, a_group(status="running"), True, verdict, None, body(verdict))

    assert not answer.allowed
    assert codes(answer.reasons) == ["outside_hours"]
    assert answer.next_allowed == LATER


def test_a_paused_group_does_not_dial_by_itself_whatever_the_gate_says() -> None:
    answer = rules.group_answer(LIST_ID, a_group(status="paused"), True, ALLOWED, None, [])

    assert not answer.allowed
    assert answer.reasons == [
        {
            "code": "group_not_running",
            "text": "campaign group 'Collections Q2 - wave 1' is paused: it dials nothing until it runs",
            "campaign_group_id": str(GROUP_ID),
            "status": "paused",
        }
    ]
    assert answer.next_allowed is None


def test_a_group_that_does_not_dial_the_list_never_will() -> None:
    verdict = denied(OUTSIDE_HOURS, next_allowed=LATER)

    answer = rules.group_answer(LIST_ID, a_group(status="running"), False, verdict, None, body(verdict))

    assert codes(answer.reasons) == ["list_not_in_group", "outside_hours"]
    assert answer.next_allowed is None


def test_a_marked_record_waits_for_its_entries_when_the_gate_sees_them_all() -> None:
    chain = a_chain(suppressions=[a_match(ENTRY_1)], previous_types={1: RecordType.GENERAL})
    mark = rules.mark(chain, chain.records[0], NAMES)
    seen = denied(suppressed(ENTRY_1, until=LATER), next_allowed=LATER)
    unseen = denied(OUTSIDE_HOURS, next_allowed=LATER)  # the entry is gone from the index

    lifting = rules.group_answer(LIST_ID, a_group(status="running"), True, seen, mark, body(seen))
    lasting = rules.group_answer(LIST_ID, a_group(status="running"), True, unseen, mark, body(unseen))

    assert codes(lifting.reasons) == ["marked_no_call", "suppressed"]
    assert lifting.next_allowed == LATER
    assert codes(lasting.reasons) == ["marked_no_call", "outside_hours"]
    assert lasting.next_allowed is None


# The record's answer -----------------------------------------------------------------------


def test_reasons_shared_by_every_group_are_said_once_and_others_name_their_groups() -> None:
    first = rules.GroupAnswer(a_group(GROUP_ID), False, [{"code": "outside_hours", "text": "closed"}], None)
    second = rules.GroupAnswer(
        a_group(OTHER_GROUP_ID),
        False,
        [
            {"code": "outside_hours", "text": "closed"},
            {"code": "attempts_today", "text": "3 of 3"},
            {"code": "group_not_running", "text": "paused", "campaign_group_id": str(OTHER_GROUP_ID)},
        ],
        None,
    )

    merged = rules.merged([first, second], frozenset())
    without = rules.merged([first, second], frozenset({"group_not_running"}))

    assert merged == [
        {"code": "outside_hours", "text": "closed"},
        {"code": "attempts_today", "text": "3 of 3", "campaign_group_ids": [str(OTHER_GROUP_ID)]},
        {"code": "group_not_running", "text": "paused", "campaign_group_id": str(OTHER_GROUP_ID)},
    ]
    assert codes(without) == ["outside_hours", "attempts_today"]


def test_one_group_that_may_dial_now_makes_the_record_dialable_now() -> None:
    where = rules.setting(
        LIST_ID,
        a_list(groups=[GROUP_ID, OTHER_GROUP_ID]),
        members=[a_group(GROUP_ID, "A", status="running"), a_group(OTHER_GROUP_ID, "B", status="running")],
    )
    closed = denied(OUTSIDE_HOURS, next_allowed=LATER)

    answer = rules.outcome(LIST_ID, where, None, [ALLOWED, closed], shown(ALLOWED, closed))

    assert answer.dialable_now
    assert answer.reasons == [] and answer.next_allowed is None
    assert [group.allowed for group in answer.groups] == [True, False]


def test_a_record_no_group_may_dial_now_next_may_at_the_earliest_groups_instant() -> None:
    where = rules.setting(
        LIST_ID,
        a_list(groups=[GROUP_ID, OTHER_GROUP_ID]),
        members=[a_group(GROUP_ID, "A", status="running"), a_group(OTHER_GROUP_ID, "B", status="running")],
    )
    soon = denied(OUTSIDE_HOURS, next_allowed=LATER)
    late = denied(OUTSIDE_HOURS, suppressed(ENTRY_1, until=MUCH_LATER), next_allowed=MUCH_LATER)

    answer = rules.outcome(LIST_ID, where, None, [soon, late], shown(soon, late))

    assert not answer.dialable_now
    assert answer.next_allowed == LATER
    assert codes(answer.reasons) == ["outside_hours", "suppressed"]
    assert answer.reasons[1]["campaign_group_ids"] == [str(OTHER_GROUP_ID)]


def test_when_no_group_runs_the_record_says_so_once_and_has_no_next_instant() -> None:
    where = rules.setting(
        LIST_ID,
        a_list(groups=[GROUP_ID, OTHER_GROUP_ID]),
        members=[a_group(GROUP_ID, "A", status="paused"), a_group(OTHER_GROUP_ID, "B", status="loaded")],
    )
    closed = denied(OUTSIDE_HOURS, next_allowed=LATER)

    answer = rules.outcome(LIST_ID, where, None, [closed, closed], shown(closed, closed))

    assert codes(answer.reasons) == ["no_group_running", "outside_hours"]
    assert answer.reasons[0]["text"] == "no campaign group dialling this record is running ('A' is paused, 'B' is loaded)"
    assert answer.reasons[0]["campaign_group_ids"] == [str(GROUP_ID), str(OTHER_GROUP_ID)]
    assert codes(answer.groups[0].reasons) == ["group_not_running", "outside_hours"]
    assert answer.next_allowed is None and not answer.dialable_now


def test_a_list_level_reason_blocks_the_record_even_when_the_gate_allows() -> None:
    where = rules.setting(LIST_ID, a_list(groups=[GROUP_ID]), asked=a_group(status="running"))
    unavailable = rules.setting(LIST_ID, None, asked=a_group(status="running"))

    answer = rules.outcome(LIST_ID, unavailable, None, [ALLOWED], shown(ALLOWED))

    assert rules.outcome(LIST_ID, where, None, [ALLOWED], shown(ALLOWED)).dialable_now
    assert not answer.dialable_now
    assert codes(answer.reasons) == ["list_unavailable"]
    assert answer.groups[0].allowed  # the group alone would
    assert answer.next_allowed is None


def test_a_record_nothing_dials_still_says_what_the_gate_and_the_mark_say() -> None:
    chain = a_chain(suppressions=[a_match(ENTRY_1)], previous_types={1: RecordType.GENERAL})
    mark = rules.mark(chain, chain.records[0], NAMES)
    where = rules.setting(LIST_ID, a_list())
    verdict = denied(suppressed(ENTRY_1), next_allowed=None)

    answer = rules.outcome(LIST_ID, where, mark, [verdict], shown(verdict))

    assert codes(answer.reasons) == ["no_campaign_group", "marked_no_call", "suppressed"]
    assert answer.reasons[2]["list_name"] == "National DNC"
    assert answer.groups == [] and answer.next_allowed is None and not answer.dialable_now
