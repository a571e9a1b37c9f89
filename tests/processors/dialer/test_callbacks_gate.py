"""No callback bypasses the pre-dial gate: a campaign callback falls due at a time its number may
not be called (22:30 in New York, after the 21:00 close); the dialer draws it when due, the gate
refuses it, and it goes back due at the next allowed time with the gate's reasons, still a
campaign callback. (Callbacks are records like any other for the dialer: drawn from the queue,
gated at the moment they are dialled.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from msgspec import structs

from dialstream.store import stored_topic_of
from domain import record_chain
from domain.codes import RecordStatus, RecordType
from schemas.attempts import CallAttemptMade
from schemas.records import RecordRetrieved, RecordReturned
from tests.processors.dialer.support import campaign, chain_event, lab

CALLBACK_AT = datetime(2026, 3, 11, 2, 30, tzinfo=UTC)  # 22:30 on 10 March in New York (EDT)
NEXT_OPENING = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # 08:00 on 11 March in New York


def test_a_campaign_callback_due_outside_calling_hours_is_refused_and_rescheduled_with_why(tmp_path: Path) -> None:
    with lab(tmp_path, epoch=datetime(2026, 3, 11, 2, 29, tzinfo=UTC)) as L:
        group = campaign(L, [], mode="progressive", agents=2)
        list_id = L.handlers.campaigns.group(L.account_id, group).contact_list_ids[0]
        imported = chain_event(L, list_id, "CB1", "+12125550123", "America/New_York")
        callback = structs.replace(
            imported.records[0], record_type=int(RecordType.CAMPAIGN_CALLBACK), dial_sched_time=int(CALLBACK_AT.timestamp())
        )
        L.runtime.store.append([structs.replace(imported, records=[callback])])
        L.settle()

        L.run(180)

        store = L.runtime.store
        drawn = store.read_topics((stored_topic_of(RecordRetrieved),), after=0, limit=100)
        returned = [e for _, e in store.read_topics((stored_topic_of(RecordReturned),), after=0, limit=100)]
        assert len(drawn) == 1 and drawn[0][1].timestamp >= CALLBACK_AT  # drawn once due, not before
        assert not store.read_topics((stored_topic_of(CallAttemptMade),), after=0, limit=1)  # never dialled
        (back,) = returned
        assert (back.reason, back.dial_sched_time) == ("denied", int(NEXT_OPENING.timestamp()))
        assert "calling hours" in back.detail or "outside" in back.detail, back.detail
        chain = store.load(record_chain.chain_id(list_id, "CB1"), record_chain.project)
        assert chain is not None
        record = chain.records[0]
        assert (record.record_type, record.record_status, record.dial_sched_time) == (
            RecordType.CAMPAIGN_CALLBACK, RecordStatus.READY, int(NEXT_OPENING.timestamp()),
        )
