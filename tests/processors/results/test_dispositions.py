"""Agent dispositions through the call results processor, on a real embedded runtime: a call an
agent talked on is treated once the agent's wrap-up gives its disposition (never before); a
disposition with its own treatment steps uses them, a final one finishes the chain, a "do not
call" one puts the number on the account's required list at once; an agent that logs out in
wrap-up lets the result be treated without one; a code not in the catalogue is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from dialstream.bootstrap import COMPLIANCE, RESULTS, SUPPRESSION_INDEX, Runtime, build
from dialstream.settings import Settings
from dialstream.store import stored_topic_of
from domain import (
    record_chain,
)
from domain.codes import CallResult, RecordStatus, RecordType
from domain.errors import InvalidTransition, RuleViolation
from domain.suppression_list import CreateSuppressionList
from processors.compliance.predial import PreDialRequest
from schemas.profiles import DialingSettings, Treatment
from schemas.records import Record, RecordChainImported, RecordTreated
from schemas.settings import DispositionCode, DispositionSettings
from tests.dialstream.groups import running_group

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York
PLAN = [
    Treatment(disposition_code="CALLBACK", sequence=1, action="retry_in", interval_minutes=60),
    Treatment(call_result=CallResult.ANSWER, sequence=1, action="next_in_chain"),
]
CATALOGUE = DispositionSettings(
    codes=(
        DispositionCode(code="SALE", label="Sale", final=True),
        DispositionCode(code="CALLBACK", label="Call back later"),
        DispositionCode(code="DNC", label="Do not call", final=True, do_not_call="device"),
    )
)


@dataclass
class Setup:
    runtime: Runtime
    account: UUID
    list_id: UUID
    group: UUID
    dnc: UUID

    @property
    def handlers(self):  # type: ignore[no-untyped-def]
        return self.runtime.handlers

    def chain(self, client_id: str) -> record_chain.RecordChain:
        chain = self.runtime.store.load(record_chain.chain_id(self.list_id, client_id), record_chain.project)
        assert chain is not None
        return chain

    def settle(self) -> None:
        results = self.runtime.services[RESULTS]
        while True:
            head = self.runtime.store.position()
            assert results.wait_until(head, 10)  # type: ignore[attr-defined]
            assert self.runtime.wait_for_head(10)
            if self.runtime.store.position() == head:
                return

    def treated(self) -> int:
        return len(self.runtime.store.read_topics((stored_topic_of(RecordTreated),), after=0, limit=1000))

    def talked(self, client_id: str, login: str) -> UUID:
        """Draw the chain's first record, call it, connect the agent, end the call: the agent is
        in wrap-up. The attempt id."""
        handlers, account = self.handlers, self.account
        candidates = [c for c in self.runtime.records.dialable([self.list_id], now=NOW, max_attempts=10) if c.client_id == client_id]
        (drawn,) = handlers.queue.draw(account, self.group, candidates, max_attempts=10)
        record_id, attempt = drawn.record.record_id, drawn.attempt_id
        handlers.attempts.make_attempt(drawn.chain, drawn.record.chain_n, attempt_id=attempt, channel="voice", campaign_group_id=self.group)
        handlers.attempts.answered(account, record_id, attempt, answered_by="person", ring_ms=5_000)
        handlers.agents.connect_call(account, login, group_id=self.group, record_id=record_id, attempt_id=attempt)
        handlers.attempts.connected(account, record_id, attempt, agent_id=handlers.agents.agent(account, login).id, wait_ms=300)
        handlers.attempts.finished(account, record_id, attempt, call_result=int(CallResult.ANSWER), ring_ms=5_000, talk_ms=60_000)
        handlers.agents.end_call(account, login, attempt)
        return attempt


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    runtime = build(Settings(data_dir=tmp_path), workers=[SUPPRESSION_INDEX, COMPLIANCE, RESULTS])
    runtime.handlers.clock = lambda: NOW
    runtime.start()
    try:
        handlers = runtime.handlers
        account = handlers.accounts.open_account("Acme").id
        handlers.accounts.change_disposition_settings(account, CATALOGUE)
        dnc = handlers.suppression.create_list(account, CreateSuppressionList(name="Do not call", required=True)).id
        list_id, group = running_group(handlers, account, dialing=DialingSettings(treatments=PLAN))
        runtime.store.append([_chain(account, list_id, f"C{n}", n) for n in range(1, 6)])
        for login in ("amy", "bob"):
            handlers.agents.log_in(account, login, agent_group="Sales")
            handlers.agents.ready(account, login)
        built = Setup(runtime, account, list_id, group, dnc)
        built.settle()
        yield built
    finally:
        runtime.stop()


def _chain(account: UUID, list_id: UUID, client_id: str, n: int) -> RecordChainImported:
    chain_id = record_chain.chain_id(list_id, client_id)
    return RecordChainImported(
        originator_id=chain_id,
        originator_version=1,
        timestamp=NOW - timedelta(days=1),
        account_id=account,
        list_id=list_id,
        client_id=client_id,
        job_id=UUID(int=1),
        line=n + 1,
        records=[
            Record(
                record_id=record_chain.record_id(chain_id, k),
                chain_n=k,
                contact_info=f"+1212555{n:02d}{k:02d}",
                contact_info_type=1,
                time_zone="America/New_York",
                time_zone_rule="device",
            )
            for k in (1, 2)
        ],
    )


def test_a_talked_call_waits_for_the_wrap_up_and_its_disposition_keys_the_plan(setup: Setup) -> None:
    setup.talked("C1", "amy")
    setup.settle()
    assert setup.treated() == 0  # the agent is wrapping up: the disposition is not known yet
    assert setup.chain("C1").retrievals, "the record stays drawn until its result is applied"

    setup.handlers.agents.finish_wrap_up(setup.account, "amy", disposition_code="CALLBACK")
    setup.settle()
    first = setup.chain("C1").records[0]
    assert (first.record_type, first.record_status, first.dial_sched_time) == (
        RecordType.CAMPAIGN_RESCHEDULED, RecordStatus.READY, int((NOW + timedelta(minutes=60)).timestamp()),
    )
    assert [(s.disposition_code, s.action, s.call_result) for s in first.treatments] == [
        ("CALLBACK", "retry_in", CallResult.ANSWER)
    ]


def test_a_disposition_with_no_steps_falls_back_to_the_result_unless_it_is_final(setup: Setup) -> None:
    setup.talked("C1", "amy")
    setup.talked("C2", "bob")
    setup.handlers.agents.finish_wrap_up(setup.account, "amy", disposition_code="SALE")  # final
    setup.handlers.agents.finish_wrap_up(setup.account, "bob")  # none: the answer's step applies
    setup.settle()
    sale, plain = setup.chain("C1"), setup.chain("C2")
    assert [r.record_status for r in sale.records] == [RecordStatus.UPDATED, RecordStatus.CHAIN_UPDATED]
    assert [r.record_status for r in plain.records] == [RecordStatus.UPDATED, RecordStatus.READY]
    assert plain.records[0].treatments[-1].action == "next_in_chain"


def test_a_do_not_call_disposition_puts_the_number_on_the_required_list(setup: Setup) -> None:
    setup.talked("C3", "amy")
    setup.handlers.agents.finish_wrap_up(setup.account, "amy", disposition_code="DNC")
    setup.settle()
    entries = setup.runtime.suppression_lists.entries_page(setup.dnc)
    assert [(e.kind, e.value) for e in entries] == [("phone", "+12125550301")]
    assert [r.record_status for r in setup.chain("C3").records] == [RecordStatus.UPDATED, RecordStatus.CHAIN_UPDATED]
    gate = setup.runtime.predial
    assert gate is not None
    ask = PreDialRequest(account_id=setup.account, contact_info="+12125550301", time_zone="America/New_York")
    deadline = time.monotonic() + 10  # the gate reads the suppression index, which follows the log
    while (verdict := gate.validate_many([ask])[0]).allowed:
        assert time.monotonic() < deadline, "the number was never denied"
        time.sleep(0.05)
    assert [r.code for r in verdict.reasons] == ["suppressed"]


def test_an_agent_logging_out_in_wrap_up_lets_the_result_be_treated(setup: Setup) -> None:
    setup.talked("C4", "amy")
    setup.settle()
    assert setup.treated() == 0
    setup.handlers.agents.log_out(setup.account, "amy")
    setup.settle()
    record = setup.chain("C4").records[0]
    assert record.record_status == RecordStatus.UPDATED
    assert record.treatments[-1].disposition_code is None


def test_a_code_not_in_the_catalogue_is_refused_naming_the_known_ones(setup: Setup) -> None:
    setup.talked("C5", "amy")
    with pytest.raises(RuleViolation, match="'MAYBE' is not one of the account's disposition codes \\(SALE, CALLBACK, DNC\\)"):
        setup.handlers.agents.finish_wrap_up(setup.account, "amy", disposition_code="MAYBE")
    with pytest.raises(RuleViolation, match="disposition code 'sale' is also codes\\[0\\]"):
        setup.handlers.accounts.change_disposition_settings(
            setup.account,
            DispositionSettings(codes=(DispositionCode(code="SALE", label="a"), DispositionCode(code="sale", label="b"))),
        )


def test_a_disposition_the_attempt_cannot_take_yet_fails_the_wrap_up_and_is_not_lost(setup: Setup) -> None:
    """The agent's call ended before the dialer stored the attempt's end: a wrap-up with a
    disposition is refused (nothing stored, still in wrap-up) rather than dropping the code;
    once the end is stored the same wrap-up goes through and keys the plan."""
    handlers, account = setup.handlers, setup.account
    candidates = [c for c in setup.runtime.records.dialable([setup.list_id], now=NOW, max_attempts=10) if c.client_id == "C1"]
    (drawn,) = handlers.queue.draw(account, setup.group, candidates, max_attempts=10)
    record_id, attempt = drawn.record.record_id, drawn.attempt_id
    handlers.attempts.make_attempt(drawn.chain, 1, attempt_id=attempt, channel="voice", campaign_group_id=setup.group)
    handlers.attempts.answered(account, record_id, attempt, answered_by="person", ring_ms=5_000)
    handlers.agents.connect_call(account, "amy", group_id=setup.group, record_id=record_id, attempt_id=attempt)
    handlers.attempts.connected(account, record_id, attempt, agent_id=handlers.agents.agent(account, "amy").id, wait_ms=300)
    handlers.agents.end_call(account, "amy", attempt)

    with pytest.raises(InvalidTransition, match="wrapped up"):
        handlers.agents.finish_wrap_up(account, "amy", disposition_code="CALLBACK")
    assert handlers.agents.agent(account, "amy").state == "wrap_up"

    handlers.attempts.finished(account, record_id, attempt, call_result=int(CallResult.ANSWER), ring_ms=5_000, talk_ms=60_000)
    handlers.agents.finish_wrap_up(account, "amy", disposition_code="CALLBACK")
    setup.settle()
    assert [(s.disposition_code, s.action) for s in setup.chain("C1").records[0].treatments] == [("CALLBACK", "retry_in")]
