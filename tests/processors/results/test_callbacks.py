"""Campaign callbacks agreed at wrap-up, through the call results processor on a real embedded
runtime: the record becomes a campaign callback due at the agreed time in the contact's zone,
and its chain waits for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.codes import CallResult, RecordStatus, RecordType
from domain.errors import RuleViolation
from schemas.agents import CallbackRequest
from tests.processors.results.test_dispositions import NOW, Setup, setup  # noqa: F401 (the fixture)


def test_a_callback_agreed_at_wrap_up_makes_the_record_a_campaign_callback_at_that_local_time(setup: Setup) -> None:  # noqa: F811
    setup.talked("C1", "amy")
    # 10:00 in New York on 11 March (EDT since 8 March) is 14:00 UTC; the plan's step for the
    # answer (next in chain) does not apply: the customer asked to be called back.
    setup.handlers.agents.finish_wrap_up(
        setup.account, "amy", disposition_code="CALLBACK", callback=CallbackRequest(at=datetime(2026, 3, 11, 10, 0))
    )
    setup.settle()
    due = int(datetime(2026, 3, 11, 14, 0, tzinfo=UTC).timestamp())
    first, second = setup.chain("C1").records
    assert (first.record_type, first.record_status, first.dial_sched_time) == (
        RecordType.CAMPAIGN_CALLBACK, RecordStatus.READY, due,
    )
    assert second.record_status == RecordStatus.READY
    (step,) = first.treatments
    assert (step.action, step.call_result, step.disposition_code, step.dial_sched_time) == (
        "campaign_callback", CallResult.ANSWER, "CALLBACK", due,
    )
    before = [(c.client_id, c.chain_n) for c in setup.runtime.records.dialable(
        [setup.list_id], now=datetime(2026, 3, 11, 13, 59, tzinfo=UTC), max_attempts=10
    ) if c.client_id == "C1"]
    at = [(c.client_id, c.chain_n) for c in setup.runtime.records.dialable(
        [setup.list_id], now=datetime(2026, 3, 11, 14, 0, tzinfo=UTC), max_attempts=10
    ) if c.client_id == "C1"]
    assert (before, at) == ([], [("C1", 1)])  # the mobile is not dialled ahead of the callback


def test_a_callback_time_already_passed_is_due_at_once_and_an_offset_is_refused(setup: Setup) -> None:  # noqa: F811
    setup.talked("C2", "amy")
    with pytest.raises(RuleViolation, match="without an offset"):
        setup.handlers.agents.finish_wrap_up(
            setup.account, "amy", callback=CallbackRequest(at=datetime(2026, 3, 11, 10, 0, tzinfo=UTC))
        )
    setup.handlers.agents.finish_wrap_up(setup.account, "amy", callback=CallbackRequest(at=datetime(2026, 3, 9, 10, 0)))
    setup.settle()
    record = setup.chain("C2").records[0]
    assert (record.record_type, record.dial_sched_time) == (RecordType.CAMPAIGN_CALLBACK, int(NOW.timestamp()))
    assert record.treatments[-1].dial_sched_time == int((NOW + timedelta(0)).timestamp())


def test_a_personal_callback_agreed_at_wrap_up_is_the_agents_own_due_at_that_local_time(setup: Setup) -> None:  # noqa: F811
    setup.talked("C3", "amy")
    amy = setup.handlers.agents.agent(setup.account, "amy").id
    setup.handlers.agents.finish_wrap_up(
        setup.account, "amy", callback=CallbackRequest(at=datetime(2026, 3, 11, 10, 0), personal=True)
    )
    setup.settle()
    due = int(datetime(2026, 3, 11, 14, 0, tzinfo=UTC).timestamp())
    first, second = setup.chain("C3").records
    assert (first.record_type, first.record_status, first.dial_sched_time, first.callback_agent_id) == (
        RecordType.PERSONAL_CALLBACK, RecordStatus.READY, due, amy,
    )
    assert second.record_status == RecordStatus.READY
    assert first.treatments[-1].action == "personal_callback"
    records = setup.runtime.records
    at_due = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)
    # Due: Amy's, not anyone's, for the grace period; the mobile waits behind it.
    assert [c.client_id for c in records.dialable([setup.list_id], now=at_due, max_attempts=10, callback_grace_s=900) if c.client_id == "C3"] == []
    assert [(c.chain_n, c.callback_agent_id) for c in records.dialable([setup.list_id], now=at_due, max_attempts=10, for_agents=[amy])] == [(1, amy)]
    after = at_due + timedelta(minutes=15)
    assert [(c.client_id, c.chain_n) for c in records.dialable([setup.list_id], now=after, max_attempts=10, callback_grace_s=900) if c.client_id == "C3"] == [("C3", 1)]
    assert records.personal_callbacks_due_at([setup.list_id]) == due
