"""The dialing queue's handlers on a real event store (SQLite file): a draw stores every
retrieval of one call in one transaction, a chain changed meanwhile costs the others nothing,
two dialers racing for the same chains never retrieve a record twice, and the reports on a
drawn record (return, finish, stale) act once and only for the attempt that drew it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import msgspec
import pytest

from dialstream.handlers import Handlers
from dialstream.handlers.queue import Drawn
from dialstream.store import EventStore, store_env
from domain import (
    call_attempts,
    campaign_group,
    campaign_template,
    contact_list,
    dialing_profile,
    record_chain,
    session_profile,
)
from domain.codes import CallResult, RecordStatus
from domain.dialing_queue import Candidate
from domain.errors import NotFound
from domain.record_chain import RecordChain
from schemas.base import Event
from schemas.profiles import DialingSettings, SessionSettings
from schemas.records import RecordChainImported, RecordChainSuppressed, RecordRetrieved, Suppression
from tests.domain import builders

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
MAX = 3


@pytest.fixture
def path(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.sqlite'}"


@pytest.fixture
def store(path: str) -> Iterator[EventStore]:
    store = EventStore(store_env(path))
    yield store
    store.close()


class Setup:
    """An account with a running group dialling one list of chains, and a second list."""

    def __init__(self, store: EventStore, chains: int = 0, records_per_chain: int = 1):
        self.handlers = Handlers(store, clock=lambda: NOW)
        h = self.handlers
        self.account = h.accounts.open_account("Acme").id
        profile = h.profiles.create(
            dialing_profile.KIND,
            self.account,
            dialing_profile.CreateDialingProfile(name="Progressive", settings=DialingSettings()),
        ).id
        session = h.profiles.create(
            session_profile.KIND,
            self.account,
            session_profile.CreateSessionProfile(name="Voice", settings=SessionSettings(agent_group="Sales")),
        ).id
        template = h.campaigns.create_template(
            self.account,
            campaign_template.CreateCampaignTemplate(
                name="Renewals", dialing_profile_id=profile, session_profile_id=session
            ),
        ).id
        self.list_id = h.lists.create(self.account, contact_list.CreateContactList(name="November")).id
        self.other_list = h.lists.create(self.account, contact_list.CreateContactList(name="December")).id
        self.group = h.campaigns.create_group(
            self.account,
            campaign_group.CreateCampaignGroup(
                name="Renewals Nov", template_id=template, contact_list_ids=[self.list_id]
            ),
        ).id
        h.campaigns.transition_group(self.account, self.group, "start")
        self.chains = self.add_chains(self.list_id, chains, records_per_chain)

    def add_chains(self, list_id: UUID, count: int, records_per_chain: int = 1) -> list[UUID]:
        events = [self.chain_event(list_id, f"C{n:05d}", records_per_chain) for n in range(count)]
        if events:
            self.handlers.store.append(events)
        return [e.originator_id for e in events]

    def chain_event(self, list_id: UUID, client_id: str, records: int) -> RecordChainImported:
        chain_id = record_chain.chain_id(list_id, client_id)
        return RecordChainImported(
            originator_id=chain_id,
            originator_version=1,
            timestamp=NOW - timedelta(days=1),
            account_id=self.account,
            list_id=list_id,
            client_id=client_id,
            job_id=uuid4(),
            line=2,
            records=[
                builders.a_record(chain_id, n, contact_info=f"+121255501{n:02d}")
                for n in range(1, records + 1)
            ],
        )

    def chain(self, chain_id: UUID) -> RecordChain:
        chain = self.handlers.store.load(chain_id, record_chain.project)
        assert chain is not None
        return chain

    def candidates(self, chain_ids: Sequence[UUID], chain_n: int = 1) -> list[Candidate]:
        found = []
        for chain_id in chain_ids:
            chain = self.chain(chain_id)
            record = next(r for r in chain.records if r.chain_n == chain_n)
            found.append(
                Candidate(
                    record_id=record.record_id,
                    chain_id=chain_id,
                    chain_n=chain_n,
                    list_id=chain.list_id,
                    client_id=chain.client_id,
                    contact_info=record.contact_info,
                    contact_info_type=record.contact_info_type,
                    record_type=record.record_type,
                    attempt=record.attempt,
                    dial_sched_time=record.dial_sched_time,
                    time_zone=record.time_zone,
                    second_time_zone=record.second_time_zone,
                )
            )
        return found

    def draw(self, chain_ids: Sequence[UUID], handlers: Handlers | None = None) -> list[Drawn]:
        return (handlers or self.handlers).queue.draw(
            self.account, self.group, self.candidates(chain_ids), max_attempts=MAX, retrieved_by="dialer-1"
        )


def _after_both_decided(
    append: Callable[[Sequence[Event]], int], ready: threading.Barrier, calls: list[int]
) -> Callable[..., int]:
    """``append``, whose first call waits until the other dialer has decided too: both
    decide on the same chain versions before either stores. ``calls`` gets each batch's size."""

    def append_later(events: Sequence[Event]) -> int:
        if not calls:
            ready.wait(timeout=30)
        calls.append(len(events))
        return append(events)

    return append_later


def retrievals(store: EventStore) -> list[RecordRetrieved]:
    return [e for _, e in store.read(0, limit=100_000) if isinstance(e, RecordRetrieved)]


def counting_appends(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> list[Sequence[Event]]:
    calls: list[Sequence[Event]] = []
    append = store.append

    def counted(events: Sequence[Event]) -> int:
        calls.append(list(events))
        return append(events)

    monkeypatch.setattr(store, "append", counted)
    return calls


# Drawing -------------------------------------------------------------------------------------


def test_a_draw_of_200_candidates_is_one_transaction(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = Setup(store, chains=200)
    before = store.position()
    appends = counting_appends(store, monkeypatch)

    drawn = setup.draw(setup.chains)

    assert len(appends) == 1 and len(appends[0]) == 200
    assert [d.chain.id for d in drawn] == setup.chains  # in the candidates' order
    assert store.position() == before + 200
    assert len({d.attempt_id for d in drawn}) == 200
    for d in drawn:
        stored = setup.chain(d.chain.id)
        assert stored == d.chain
        assert d.record.record_status == RecordStatus.RETRIEVED
        assert stored.retrievals[1].attempt_id == d.attempt_id
        assert stored.retrievals[1].campaign_group_id == setup.group
        assert stored.retrievals[1].retrieved_at == NOW
    assert {e.retrieved_by for e in retrievals(store)} == {"dialer-1"}


def test_a_chain_changed_meanwhile_is_left_out_and_the_others_are_drawn(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = Setup(store, chains=50)
    changed = setup.chains[17]
    append = store.append
    tries: list[int] = []

    def race(events: Sequence[Event]) -> int:
        tries.append(len(events))
        if len(tries) == 1:  # a suppression reaches one chain between the decision and the append
            chain = setup.chain(changed)
            append(
                [
                    RecordChainSuppressed(
                        originator_id=changed,
                        originator_version=chain.version + 1,
                        timestamp=NOW,
                        account_id=setup.account,
                        list_id=setup.list_id,
                        client_id=chain.client_id,
                        suppressions=[
                            Suppression(
                                chain_n=1,
                                suppression_list_id=uuid4(),
                                entry_id=uuid4(),
                                kind="phone",
                                value=chain.records[0].contact_info,
                            )
                        ],
                        previous_types={1: 2},
                    )
                ]
            )
        return append(events)

    monkeypatch.setattr(store, "append", race)
    drawn = setup.draw(setup.chains)

    assert tries == [50, 49]
    assert [d.chain.id for d in drawn] == [c for c in setup.chains if c != changed]
    assert setup.chain(changed).retrievals == {}
    assert all(setup.chain(c).retrievals for c in setup.chains if c != changed)


def test_two_dialers_racing_for_the_same_chains_never_retrieve_a_record_twice(path: str) -> None:
    stores = [EventStore(store_env(path)) for _ in range(2)]
    try:
        setup = Setup(stores[0], chains=300)
        rivals = [setup.handlers, Handlers(stores[1], clock=lambda: NOW)]
        # Overlapping halves, in opposite orders: chains 100-199 are wanted by both.
        wanted = [setup.chains[:200], list(reversed(setup.chains[100:]))]
        candidates = [setup.candidates(w) for w in wanted]
        ready = threading.Barrier(2)
        calls: list[list[int]] = [[], []]
        for store, tries in zip(stores, calls, strict=True):
            store.append = _after_both_decided(store.append, ready, tries)  # type: ignore[method-assign]
        results: list[list[Drawn]] = [[], []]
        errors: list[BaseException] = []

        def dial(n: int) -> None:
            try:
                results[n] = rivals[n].queue.draw(
                    setup.account, setup.group, candidates[n], max_attempts=MAX, retrieved_by=f"dialer-{n}"
                )
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=dial, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []

        # The first to store took its 200; the other conflicted on the 100 both wanted and
        # stored the 100 only it wanted on its second try.
        assert sorted(calls) == [[200], [200, 100]]
        first, second = ({d.chain.id for d in r} for r in results)
        assert first.isdisjoint(second)
        assert first | second == set(setup.chains)  # nothing lost to the race
        events = retrievals(stores[0])
        assert len(events) == 300 and len({e.originator_id for e in events}) == 300
        for n, result in enumerate(results):
            for d in result:
                assert setup.chain(d.chain.id).retrievals[1].attempt_id == d.attempt_id
                assert d.chain.id in wanted[n]
    finally:
        for store in stores:
            store.close()


def test_only_the_chains_next_record_is_drawn_and_once(store: EventStore) -> None:
    setup = Setup(store, chains=3, records_per_chain=2)
    a, b, c = setup.chains
    # A candidate from a lagging read model names record 2 while record 1 is still next.
    late = setup.candidates([a], chain_n=2)
    assert setup.handlers.queue.draw(setup.account, setup.group, late, max_attempts=MAX) == []
    (drawn,) = setup.draw([b])
    assert drawn.record.chain_n == 1
    assert setup.draw([b]) == []  # held: not twice
    # The same chain twice in one batch is drawn once.
    assert [d.chain.id for d in setup.draw([c, c])] == [c]


def test_nothing_is_drawn_for_a_group_not_running_nor_from_a_list_it_does_not_dial(store: EventStore) -> None:
    setup = Setup(store, chains=2)
    elsewhere = setup.add_chains(setup.other_list, 1)
    assert setup.draw(elsewhere) == []
    setup.handlers.campaigns.transition_group(setup.account, setup.group, "pause")
    assert setup.draw(setup.chains) == []
    setup.handlers.campaigns.transition_group(setup.account, setup.group, "resume")
    assert len(setup.draw(setup.chains)) == 2


def test_another_accounts_group_is_not_found(store: EventStore) -> None:
    setup = Setup(store, chains=1)
    stranger = setup.handlers.accounts.open_account("Other").id
    with pytest.raises(NotFound):
        setup.handlers.queue.draw(stranger, setup.group, setup.candidates(setup.chains), max_attempts=MAX)


# Reports on drawn records ---------------------------------------------------------------------


def test_records_are_returned_in_one_transaction_only_by_the_attempts_that_drew_them(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = Setup(store, chains=3)
    drawn = setup.draw(setup.chains)
    appends = counting_appends(store, monkeypatch)
    items = [(d.record.record_id, d.attempt_id) for d in drawn[:2]] + [(drawn[2].record.record_id, uuid4())]
    at = int(NOW.timestamp()) + 600

    returned = setup.handlers.queue.return_records(
        setup.account, setup.group, items, reason="paused", dial_sched_time=at, detail="group paused"
    )

    assert returned == [drawn[0].record.record_id, drawn[1].record.record_id]
    assert len(appends) == 1
    for d in drawn[:2]:
        record = setup.chain(d.chain.id).records[0]
        assert (record.record_status, record.dial_sched_time) == (RecordStatus.READY, at)
    assert setup.chain(drawn[2].chain.id).records[0].record_status == RecordStatus.RETRIEVED
    # Repeated: nothing stored twice; another group's return leaves the record alone.
    assert setup.handlers.queue.return_records(setup.account, setup.group, items, reason="paused") == []
    assert (
        setup.handlers.queue.return_records(
            setup.account, uuid4(), [(drawn[2].record.record_id, drawn[2].attempt_id)], reason="stopped"
        )
        == []
    )
    assert len(appends) == 1


def test_the_end_of_an_attempt_is_stored_once(store: EventStore) -> None:
    setup = Setup(store, chains=1)
    (drawn,) = setup.draw(setup.chains)
    queue = setup.handlers.queue
    called = int(NOW.timestamp())
    assert not queue.finish(setup.account, drawn.record.record_id, uuid4(), call_result=33, call_time=called)
    assert queue.finish(
        setup.account, drawn.record.record_id, drawn.attempt_id, call_result=33, call_time=called
    )
    position = store.position()
    assert not queue.finish(
        setup.account, drawn.record.record_id, drawn.attempt_id, call_result=33, call_time=called
    )
    assert store.position() == position
    record = setup.chain(drawn.chain.id).records[0]
    assert (record.record_status, record.call_result, record.call_time, record.attempt) == (
        RecordStatus.UPDATED,
        33,
        called,
        1,
    )
    stranger = setup.handlers.accounts.open_account("Other").id
    assert not queue.finish(stranger, drawn.record.record_id, drawn.attempt_id, call_result=33, call_time=1)
    assert not queue.finish(setup.account, uuid4(), drawn.attempt_id, call_result=33, call_time=1)


def test_a_stale_record_is_returned_when_its_call_was_not_placed_and_updated_stale_when_it_was(
    store: EventStore,
) -> None:
    setup = Setup(store, chains=2)
    never, placed = setup.draw(setup.chains)
    h = setup.handlers
    h.attempts.make_attempt(
        placed.chain, 1, attempt_id=placed.attempt_id, channel="voice", campaign_group_id=setup.group
    )

    assert h.queue.settle_stale(setup.account, never.record.record_id, never.attempt_id)
    assert h.queue.settle_stale(setup.account, placed.record.record_id, placed.attempt_id)
    position = store.position()
    assert not h.queue.settle_stale(setup.account, placed.record.record_id, placed.attempt_id)
    assert store.position() == position

    returned = setup.chain(never.chain.id).records[0]
    assert (returned.record_status, returned.attempt) == (RecordStatus.READY, 0)
    stale = setup.chain(placed.chain.id).records[0]
    assert (stale.record_status, stale.call_result, stale.attempt) == (
        RecordStatus.STALE,
        CallResult.STALE,
        1,
    )
    # The returned one is drawn again; the stale one never for this draw.
    assert [d.chain.id for d in setup.draw(setup.chains)] == [never.chain.id]


def test_a_record_given_to_an_agent_group_is_drawn_only_by_that_agent_groups_campaign_groups(store: EventStore) -> None:
    setup = Setup(store)
    h = setup.handlers
    template = h.campaigns.group(setup.account, setup.group).template_id
    retention = h.campaigns.create_group(
        setup.account,
        campaign_group.CreateCampaignGroup(
            name="Retention Nov", template_id=template, contact_list_ids=[setup.list_id], agent_group="Retention"
        ),
    ).id
    h.campaigns.transition_group(setup.account, retention, "start")
    chain_id = record_chain.chain_id(setup.list_id, "GIVEN")
    given = setup.chain_event(setup.list_id, "GIVEN", 2)
    given = msgspec.structs.replace(
        given, records=[msgspec.structs.replace(given.records[0], callback_agent_group="Retention"), given.records[1]]
    )
    h.store.append([given])

    assert setup.draw([chain_id]) == [], "Sales may not take it, nor the chain's next record ahead of it"
    (drawn,) = h.queue.draw(setup.account, retention, setup.candidates([chain_id]), max_attempts=MAX)
    assert drawn.record.chain_n == 1 and drawn.record.callback_agent_group == "Retention"


def test_in_a_step_the_attempts_of_the_records_drawn_are_read_with_the_draw(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dialer's step draws records and attempts them: their attempts are read for all of them
    in one statement as they are drawn, not with one query per attempt."""
    setup = Setup(store, chains=5)
    recorder = store.recorder
    reads: list[UUID] = []
    select_stream_after = recorder.select_stream_after  # type: ignore[attr-defined]

    def counted(originator_id: UUID, version: int | None) -> list[tuple[int, str, bytes]]:
        reads.append(originator_id)
        return select_stream_after(originator_id, version)

    monkeypatch.setattr(recorder, "select_stream_after", counted)
    with store.batch():
        drawn = setup.draw(setup.chains)
        reads.clear()
        for each in drawn:
            setup.handlers.attempts.make_attempt(
                each.chain, each.record.chain_n, attempt_id=each.attempt_id, channel="voice", campaign_group_id=setup.group
            )
    assert len(drawn) == 5 and reads == []
    assert all(
        store.load(each.record.record_id, call_attempts.project) is not None for each in drawn
    )  # the attempts were stored
