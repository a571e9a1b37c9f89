"""The compliance processor: imported records that match suppression entries become "no call"
with the reason; entries added later mark records in every list; removal restores them."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from dialstream.bootstrap import COMPLIANCE, DEFAULT_ACCOUNT_ID, SUPPRESSION_INDEX, Runtime
from domain import record_chain
from domain.codes import RecordType
from domain.record_chain import RecordChain
from domain.suppression_list import ChangeSuppressionList, CreateSuppressionList, EntryInput
from processors.compliance.processor import ComplianceProcessor
from processors.suppression.projection import SuppressionIndexFollower
from tests.imports.support import by_client, new_list, run_import, running

ROWS = "client_id,home,mobile\nC1,(212) 555-0143,(212) 555-0199\nC2,(312) 555-0100,\nC3,(415) 555-0123,\n"


def settle(runtime: Runtime) -> None:
    head = runtime.store.position()
    follower = runtime.services[SUPPRESSION_INDEX]
    processor = runtime.services[COMPLIANCE]
    assert isinstance(follower, SuppressionIndexFollower) and isinstance(processor, ComplianceProcessor)
    for _ in range(5):  # the processor's own events move the head on
        assert follower.wait_until(head, 10) and processor.wait_until(head, 10)
        assert runtime.wait(head, 10)
        if runtime.store.position() == head:
            return
        head = runtime.store.position()
    raise AssertionError("compliance did not settle")


def import_rows(runtime: Runtime, tmp_path: Path, rows: str = ROWS, name: str = "list.csv") -> UUID:
    source = tmp_path / name
    source.write_text(rows)
    list_id = new_list(runtime)
    job = run_import(runtime, list_id, source)
    assert job.counts.imported == rows.count("\n") - 1
    return list_id


def types(runtime: Runtime, list_id: UUID) -> dict[str, list[int]]:
    return {
        client: [r["record_type"] for r in records] for client, records in by_client(runtime, list_id).items()
    }


def chain(runtime: Runtime, list_id: UUID, client: str) -> RecordChain:
    state = runtime.store.load(record_chain.chain_id(list_id, client), record_chain.project)
    assert state is not None
    return state


def dnc(
    runtime: Runtime, *entries: tuple[str, str], required: bool = True, name: str = "internal dnc"
) -> UUID:
    made = runtime.handlers.suppression.create_list(
        DEFAULT_ACCOUNT_ID, CreateSuppressionList(name=name, required=required)
    )
    if entries:
        runtime.handlers.suppression.add_entries(
            DEFAULT_ACCOUNT_ID, made.id, [EntryInput(kind=k, value=v) for k, v in entries]
        )
    return made.id


GENERAL, NO_CALL = RecordType.GENERAL, RecordType.NO_CALL


def test_imported_records_on_a_required_list_become_no_call_with_the_reason(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        suppression = dnc(runtime, ("phone", "+12125550199"), ("client_id", "C2"))
        settle(runtime)
        list_id = import_rows(runtime, tmp_path)
        settle(runtime)
        assert types(runtime, list_id) == {"C1": [GENERAL, NO_CALL], "C2": [NO_CALL], "C3": [GENERAL]}
        reasons = chain(runtime, list_id, "C1").suppressions
        assert [(m.chain_n, m.suppression_list_id, m.kind, m.value) for m in reasons] == [
            (2, suppression, "phone", "+12125550199")
        ]
        assert chain(runtime, list_id, "C1").previous_types == {2: GENERAL}


def test_entries_added_later_mark_records_in_every_list_and_removal_restores_them(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        first = import_rows(runtime, tmp_path, name="a.csv")
        second = import_rows(runtime, tmp_path, ROWS.replace("C1", "D1"), name="b.csv")
        suppression = dnc(runtime)
        settle(runtime)
        assert types(runtime, first)["C1"] == [GENERAL, GENERAL]
        added = runtime.handlers.suppression.add_entries(
            DEFAULT_ACCOUNT_ID, suppression, [EntryInput(kind="phone", value="(212) 555-0143")]
        )
        assert added.accepted == 1
        settle(runtime)
        assert types(runtime, first)["C1"] == [NO_CALL, GENERAL]
        assert types(runtime, second)["D1"] == [NO_CALL, GENERAL]
        runtime.handlers.suppression.remove_entries(
            DEFAULT_ACCOUNT_ID, suppression, [EntryInput(kind="phone", value="+12125550143")]
        )
        settle(runtime)
        assert types(runtime, first)["C1"] == [GENERAL, GENERAL]
        assert types(runtime, second)["D1"] == [GENERAL, GENERAL]
        assert chain(runtime, first, "C1").suppressions == []


def test_a_record_stays_no_call_while_any_entry_matches_it(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        list_id = import_rows(runtime, tmp_path)
        one = dnc(runtime, ("phone", "+13125550100"), name="one")
        two = dnc(runtime, ("client_id", "C2"), name="two")
        settle(runtime)
        assert types(runtime, list_id)["C2"] == [NO_CALL]
        assert len(chain(runtime, list_id, "C2").suppressions) == 2
        runtime.handlers.suppression.archive_list(DEFAULT_ACCOUNT_ID, one)
        settle(runtime)
        assert types(runtime, list_id)["C2"] == [NO_CALL], "still on list two"
        runtime.handlers.suppression.change_list(
            DEFAULT_ACCOUNT_ID, two, ChangeSuppressionList(required=False)
        )
        settle(runtime)
        assert types(runtime, list_id)["C2"] == [GENERAL], "an optional list no group selects applies nowhere"


def test_an_optional_list_not_selected_marks_nothing(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        dnc(runtime, ("client_id", "C3"), required=False)
        settle(runtime)
        list_id = import_rows(runtime, tmp_path)
        settle(runtime)
        assert types(runtime, list_id)["C3"] == [GENERAL]


def test_a_restart_resumes_where_the_processor_left_off(tmp_path: Path) -> None:
    with running(tmp_path) as runtime:
        dnc(runtime, ("client_id", "C3"))
        settle(runtime)
        list_id = import_rows(runtime, tmp_path)
        settle(runtime)
        marked = runtime.store.position()
    with running(tmp_path) as runtime:
        settle(runtime)
        assert types(runtime, list_id)["C3"] == [NO_CALL]
        assert runtime.store.position() == marked, "nothing decided twice"
