"""Kill ``dialstream up`` (SIGKILL) while the compliance processor is marking an import's
chains; at the kill the store holds the effects of exactly the batches its tracking position
covers, and after a restart every matching chain has exactly one ``record_chain.suppressed``.

Before the processor host, the position lived in the read models' database, apart from the
events: a kill between the two left effects the position did not cover.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path
from uuid import UUID

import httpx

from dialstream.store import EventStore, store_env, stored_topic_of
from domain import record_chain
from schemas.records import RecordChainImported, RecordChainSuppressed
from tests.imports.test_resume import SECRET, _free_port, _start

ROWS = 40_000
NUMBER = "(212) 555-0143"  # on the required suppression list: every even row has it
SUPPRESSED = stored_topic_of(RecordChainSuppressed)


def _file(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("client_id,phone\n")
        for n in range(ROWS):
            phone = NUMBER if n % 2 == 0 else f"(312) {200 + n // 10_000:03d}-{n % 10_000:04d}"
            out.write(f"C{n:06d},{phone}\n")
    return path


def _suppressed_count(events_file: Path) -> int:
    connection = sqlite3.connect(f"file:{events_file}?mode=ro", uri=True, timeout=30)
    try:
        return int(
            connection.execute("SELECT COUNT(*) FROM stored_events WHERE topic = ?", (SUPPRESSED,)).fetchone()[0]
        )
    except sqlite3.OperationalError:  # the table is not there yet
        return 0
    finally:
        connection.close()


def suppress_and_import(client: httpx.Client, source: Path, list_name: str) -> UUID:
    """A required suppression list holding NUMBER, then ``source`` imported into a new contact
    list (its id is returned): the compliance processor has every even row to mark."""
    made = client.post("/api/v1/suppression-lists", json={"name": "internal dnc", "required": True})
    assert made.status_code == 201, made.text
    added = client.post(
        f"/api/v1/suppression-lists/{made.json()['id']}/entries",
        json={"entries": [{"kind": "phone", "value": NUMBER}]},
    )
    assert added.status_code == 200, added.text
    created = client.post("/api/v1/contact-lists", json={"name": list_name})
    assert created.status_code == 201, created.text
    list_id = UUID(created.json()["id"])
    with source.open("rb") as file:
        uploaded = client.post(
            f"/api/v1/contact-lists/{list_id}/imports", files={"file": ("c.csv", file)}, timeout=60
        )
    assert uploaded.status_code == 202, uploaded.text
    return list_id


def _log(store: EventStore) -> list[tuple[int, object]]:
    found: list[tuple[int, object]] = []
    after = 0
    while batch := store.read(after=after, limit=5000):
        found += batch
        after = batch[-1][0]
    return found


def test_a_kill_inside_a_compliance_pass_neither_loses_nor_repeats_an_effect(tmp_path: Path) -> None:
    source = _file(tmp_path / "contacts.csv")
    data_dir, port, log = tmp_path / "data", _free_port(), tmp_path / "up.log"
    events_file = data_dir / "events.sqlite"
    expected = ROWS // 2
    process = _start(data_dir, port, log)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {SECRET}"}, timeout=60
    )
    try:
        list_id = suppress_and_import(client, source, "crash")

        deadline = time.monotonic() + 240
        while (marked := _suppressed_count(events_file)) < expected // 4:
            assert time.monotonic() < deadline, f"compliance marked only {marked} chains"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert marked < expected, "the kill must land inside the compliance pass"

        at_kill = EventStore(store_env(f"sqlite:///{events_file}"))
        try:
            tracked = at_kill.tracked("compliance")
            logged = _log(at_kill)
        finally:
            at_kill.close()
        assert tracked is not None
        imported = {e.originator_id: p for p, e in logged if isinstance(e, RecordChainImported)}
        suppressed = [e.originator_id for _, e in logged if isinstance(e, RecordChainSuppressed)]
        matching = {record_chain.chain_id(list_id, f"C{n:06d}") for n in range(0, ROWS, 2)}
        covered = {chain for chain in matching if imported.get(chain, tracked + 1) <= tracked}
        assert 0 < len(covered) < expected, "the kill landed between two batches of the pass"
        assert sorted(map(str, suppressed)) == sorted(map(str, covered)), (
            "at the kill, the effects are exactly those of the batches the position covers"
        )

        process = _start(data_dir, port, log)
        deadline = time.monotonic() + 240
        while _suppressed_count(events_file) < expected:
            assert time.monotonic() < deadline, "the restarted processor did not finish the pass"
            time.sleep(0.1)
        time.sleep(1.0)  # long enough for a repeated batch to show
    finally:
        client.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)

    after = EventStore(store_env(f"sqlite:///{events_file}"))
    try:
        logged = _log(after)
    finally:
        after.close()
    suppressed = [e.originator_id for _, e in logged if isinstance(e, RecordChainSuppressed)]
    assert len(suppressed) == len(set(suppressed)) == expected, "each matching chain suppressed exactly once"
    assert set(suppressed) == matching
