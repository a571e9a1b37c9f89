"""The compliance processor asks the read models only once they hold its batch. On Kafka the
records read model is a consumer group of its own and may trail the processor: entries added
to a do-not-call list must still find the chains imported before them (a lagging read model
asked first found none, so those chains were never suppressed; CI caught it as two Kafka days
that ended differently)."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, SUPPRESSION_INDEX, build
from dialstream.settings import Settings
from dialstream.store import stored_topic_of
from domain import record_chain
from domain.codes import RecordType
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.compliance.processor import Compliance
from processors.host.processor import Batch
from projections.base import ProjectionStore
from projections.record_suppressions import RecordSuppressionQueries
from projections.records import RecordQueries, Records
from projections.sql import connect
from schemas.records import Contact, Record, RecordChainImported
from schemas.suppression import SuppressionEntriesAdded
from tests.imports.support import ensure_bootstrap_key, new_list


def test_entries_added_find_the_chains_a_trailing_records_read_model_holds_only_after_the_wait(
    tmp_path: Path,
) -> None:
    runtime = build(Settings(data_dir=tmp_path / "data"), workers=[SUPPRESSION_INDEX])
    ensure_bootstrap_key(runtime)
    runtime.start()
    try:
        store, handlers = runtime.store, runtime.handlers
        list_id = new_list(runtime)
        chain_id = record_chain.chain_id(list_id, "C1")
        store.append(
            [
                RecordChainImported(
                    originator_id=chain_id,
                    originator_version=1,
                    timestamp=handlers.clock(),
                    account_id=DEFAULT_ACCOUNT_ID,
                    list_id=list_id,
                    client_id="C1",
                    job_id=uuid4(),
                    line=2,
                    records=[
                        Record(
                            record_id=record_chain.record_id(chain_id, 1),
                            chain_n=1,
                            contact_info="+12125550143",
                            contact_info_type=1,
                            time_zone="America/New_York",
                            time_zone_rule="device",
                        )
                    ],
                    contact=Contact(country="US"),
                )
            ]
        )
        dnc = handlers.suppression.create_list(
            DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="dnc", required=True)
        ).id
        handlers.suppression.add_entries(
            DEFAULT_ACCOUNT_ID, dnc, [EntryInput(kind="phone", value="+12125550143")]
        )
        head = store.position()
        assert runtime.wait(head) and runtime.services[SUPPRESSION_INDEX].wait_until(head, 10)  # type: ignore[attr-defined]

        # A records read model of the processor's own that has applied nothing yet, and
        # catches up to a position only when the processor waits for it.
        trailing = connect(f"sqlite:///{tmp_path / 'trailing.sqlite'}")
        records = ProjectionStore(trailing, [Records()])
        applied = [0]

        def wait_read_models(upto: int, timeout: float) -> bool:
            while applied[0] < upto and (batch := store.read(after=applied[0], limit=1000, upto=upto)):
                records.apply("records", batch)
                applied[0] = batch[-1][0]
            applied[0] = max(applied[0], upto)
            return True

        compliance = Compliance(
            store,
            handlers.compliance,
            runtime.suppression_index,
            runtime.catalogue,
            runtime.suppression_lists,
            RecordQueries(trailing),
            RecordSuppressionQueries(runtime.views),
            wait_read_models,
            clock=handlers.clock,
        )
        added = store.read_topics((stored_topic_of(SuppressionEntriesAdded),), 0, 10)
        position, event = added[-1]
        compliance.handle(Batch(events=[event], upto=position, stopping=lambda: False))

        chain = store.load(chain_id, record_chain.project)
        assert chain is not None and chain.records[0].record_type == RecordType.NO_CALL
        trailing.close()
    finally:
        runtime.stop()
