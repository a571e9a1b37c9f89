"""GET /api/v1/contact-lists/{id}/export over HTTP: columns, selection rules, labels, errors,
and a 100,000-record list streamed in chunks.

Records are stored as chain events appended straight to the event store (what an import
stores), so these tests do not depend on the file importer.
"""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn

from dialstream.bootstrap import Runtime
from domain import record_chain
from gateway import app as gateway_app
from gateway.routes import exports
from schemas.base import Event
from schemas.imports import FieldMap, ImportStarted
from schemas.records import Contact, Record, RecordChainImported
from tests.gateway.conftest import Account, Server
from tests.gateway.helpers import LISTS, assert_problem, create, unique

AT = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
GENESYS = [
    "client_id",
    "contact_info",
    "contact_info_type",
    "record_type",
    "record_status",
    "call_result",
    "attempt",
    "dial_sched_time",
    "call_time",
    "daily_from",
    "daily_till",
    "tz",
    "time_zone_rule",
    "second_time_zone",
    "chain_id",
    "chain_n",
    "record_id",
    "postal_code",
    "country",
    "state",
]


@pytest.fixture(scope="module")
def export_url(server: Server) -> Iterator[str]:
    """The session's server once the exports router is registered in the app; until then an
    app with it, served on the same runtime."""
    if any(router is exports.router for router in gateway_app.ROUTERS):
        yield server.base_url
        return
    app = gateway_app.create_app(server.runtime)
    app.include_router(exports.router)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)
    try:
        yield url
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="module")
def reader(viewer: httpx.Client, export_url: str) -> Iterator[httpx.Client]:
    """The viewer of account A, talking to the server with the export route."""
    with httpx.Client(base_url=export_url, headers=viewer.headers, timeout=60.0) as client:
        yield client


def new_list(client: httpx.Client, name: str | None = None) -> str:
    return str(create(client, LISTS, {"name": name or unique("Export")})["id"])


def a_chain(
    list_id: UUID,
    account: UUID,
    client_id: str,
    phones: list[str],
    *,
    custom: dict[str, str] | None = None,
    contact: Contact | None = None,
    **fields: Any,
) -> RecordChainImported:
    chain = record_chain.chain_id(list_id, client_id)
    return RecordChainImported(
        originator_id=chain,
        originator_version=1,
        timestamp=AT,
        account_id=account,
        list_id=list_id,
        client_id=client_id,
        job_id=uuid4(),
        line=2,
        records=[
            Record(
                record_id=record_chain.record_id(chain, n),
                chain_n=n,
                contact_info=phone,
                contact_info_type=1 if n == 1 else 4,
                time_zone="America/Chicago",
                time_zone_rule="device",
                **fields,
            )
            for n, phone in enumerate(phones, start=1)
        ],
        contact=contact or Contact(),
        custom=custom or {},
    )


def labelled(list_id: UUID, account: UUID, labels: dict[str, str]) -> ImportStarted:
    """What an import records when it starts: the mapping, with the user's labels."""
    return ImportStarted(
        originator_id=uuid4(),
        originator_version=2,
        timestamp=AT,
        account_id=account,
        list_id=list_id,
        runner="test",
        columns=list(labels),
        dialect="excel",
        encoding="utf-8",
        data_offset=0,
        data_line=2,
        fields=[FieldMap(column=name, field=f"custom:{name}", label=label) for name, label in labels.items()],
    )


def store(runtime: Runtime, events: list[Event], *, wait: bool = True) -> None:
    position = runtime.store.append(events)
    if wait:
        assert runtime.wait(position, 60.0)


def rows_of(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))


# The file ----------------------------------------------------------------------------------


def test_every_record_in_calling_list_columns_then_the_custom_fields(
    reader: httpx.Client, supervisor: httpx.Client, runtime: Runtime, account_a: Account
) -> None:
    name = unique("November arrears")
    list_id = UUID(new_list(supervisor, name))
    account = account_a.id
    store(
        runtime,
        [
            a_chain(
                list_id,
                account,
                "C2",
                ["+13125550102", "+13125550202"],
                custom={"first_name": 'Bob "the" Builder', "balance": "250.75"},
                contact=Contact(postal_code="60601", country="US", state="IL"),
                record_status=3,
                call_result=6,
                attempt=2,
                call_time=1714552200,
                dial_sched_time=1714638600,
                daily_from=9 * 3600,
                daily_till=20 * 3600,
                second_time_zone="America/Denver",
            ),
            a_chain(
                list_id, account, "C1", ["+12125550101"], custom={"notes": "line one\nline two, with a comma"}
            ),
        ],
    )

    response = reader.get(f"{LISTS}/{list_id}/export")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(f'attachment; filename="{name}.csv"')
    rows = rows_of(response)
    assert rows[0] == [*GENESYS, "balance", "first_name", "notes"]
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["client_id"], r["chain_n"]) for r in records] == [("C1", "1"), ("C2", "1"), ("C2", "2")]
    c1, c2, c2b = records
    chain = record_chain.chain_id(list_id, "C2")
    assert c2 == {
        "client_id": "C2",
        "contact_info": "+13125550102",
        "contact_info_type": "1",
        "record_type": "2",
        "record_status": "3",
        "call_result": "6",
        "attempt": "2",
        "dial_sched_time": "1714638600",
        "call_time": "1714552200",
        "daily_from": "32400",
        "daily_till": "72000",
        "tz": "America/Chicago",
        "time_zone_rule": "device",
        "second_time_zone": "America/Denver",
        "chain_id": str(chain),
        "chain_n": "1",
        "record_id": str(record_chain.record_id(chain, 1)),
        "postal_code": "60601",
        "country": "US",
        "state": "IL",
        "balance": "250.75",
        "first_name": 'Bob "the" Builder',
        "notes": "",
    }
    assert c2b["contact_info"] == "+13125550202" and c2b["contact_info_type"] == "4"
    assert c1["notes"] == "line one\nline two, with a comma" and c1["balance"] == ""
    assert c1["record_status"] == "1" and c1["call_result"] == "28" and c1["call_time"] == ""


def test_a_selection_rule_keeps_the_records_it_selects(
    reader: httpx.Client, supervisor: httpx.Client, runtime: Runtime, account_a: Account
) -> None:
    list_id = UUID(new_list(supervisor))
    store(
        runtime,
        [
            a_chain(list_id, account_a.id, "A", ["+13125550101", "+13125550102"], custom={"balance": "100"}),
            a_chain(list_id, account_a.id, "B", ["+13125550103"], custom={"balance": "99.5"}),
            a_chain(list_id, account_a.id, "C", ["+14155550104"], custom={"balance": "n/a"}, attempt=3),
        ],
    )
    rule = "custom.balance >= 99.9 or contact_info starts with '+1415'"

    rows = rows_of(reader.get(f"{LISTS}/{list_id}/export", params={"selection_rule": rule}))

    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("A", "+13125550101"),
        ("A", "+13125550102"),
        ("C", "+14155550104"),
    ]
    only_second = rows_of(reader.get(f"{LISTS}/{list_id}/export", params={"selection_rule": "chain_n = 2"}))
    assert [r[1] for r in only_second[1:]] == ["+13125550102"]
    everything = rows_of(reader.get(f"{LISTS}/{list_id}/export", params={"selection_rule": ""}))
    assert len(everything) == 5


def test_use_labels_heads_custom_fields_with_their_labels(
    reader: httpx.Client, supervisor: httpx.Client, runtime: Runtime, account_a: Account
) -> None:
    list_id = UUID(new_list(supervisor))
    account = account_a.id
    store(
        runtime,
        [
            labelled(list_id, account, {"bal": "Balance due", "seg": "state", "region": ""}),
            a_chain(
                list_id, account, "A", ["+13125550101"], custom={"bal": "12", "seg": "gold", "extra": "x"}
            ),
        ],
    )

    named = rows_of(reader.get(f"{LISTS}/{list_id}/export"))
    with_labels = rows_of(reader.get(f"{LISTS}/{list_id}/export", params={"use_labels": "true"}))

    # Sorted by field name either way: bal, extra (held by a record, never mapped), region, seg.
    assert named[0][len(GENESYS) :] == ["bal", "extra", "region", "seg"]
    # A label that another column already has gets its field name; a blank label is the column's name.
    assert with_labels[0][len(GENESYS) :] == ["Balance due", "extra", "region", "state (seg)"]
    assert named[1][len(GENESYS) :] == with_labels[1][len(GENESYS) :] == ["12", "x", "", "gold"]


def test_an_empty_list_is_the_header_row_alone(reader: httpx.Client, supervisor: httpx.Client) -> None:
    list_id = new_list(supervisor)
    response = reader.get(f"{LISTS}/{list_id}/export")
    assert response.status_code == 200
    assert response.text == ",".join(GENESYS) + "\r\n"


def test_the_export_includes_what_was_just_stored(
    reader: httpx.Client, supervisor: httpx.Client, runtime: Runtime, account_a: Account
) -> None:
    list_id = UUID(new_list(supervisor))
    store(
        runtime, [a_chain(list_id, account_a.id, f"C{i}", ["+13125550101"]) for i in range(200)], wait=False
    )
    assert len(rows_of(reader.get(f"{LISTS}/{list_id}/export"))) == 201


def test_a_list_name_that_is_not_plain_ascii(reader: httpx.Client, supervisor: httpx.Client) -> None:
    list_id = new_list(supervisor, name=f'Liste "été" {uuid4().hex[:6]}')
    response = reader.get(f"{LISTS}/{list_id}/export")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Liste __t__ ')
    assert "filename*=UTF-8''Liste%20%22%C3%A9t%C3%A9%22%20" in disposition


# Errors ------------------------------------------------------------------------------------


def test_another_accounts_list_or_a_missing_one_is_not_found(
    reader: httpx.Client, other_admin: httpx.Client, export_url: str
) -> None:
    theirs = new_list(other_admin)
    assert_problem(reader.get(f"{LISTS}/{theirs}/export"), 404, "list_id")
    assert_problem(reader.get(f"{LISTS}/{uuid4()}/export"), 404, "list_id")
    with httpx.Client(base_url=export_url, headers=other_admin.headers) as owner:
        assert owner.get(f"{LISTS}/{theirs}/export").status_code == 200
    assert_problem(httpx.get(f"{export_url}{LISTS}/{theirs}/export"), 401)


def test_an_archived_list_is_not_found(reader: httpx.Client, supervisor: httpx.Client) -> None:
    list_id = new_list(supervisor)
    assert supervisor.delete(f"{LISTS}/{list_id}").status_code == 204
    assert_problem(reader.get(f"{LISTS}/{list_id}/export"), 404, "list_id")


def test_a_rule_that_does_not_parse_is_refused_before_any_byte(
    reader: httpx.Client, supervisor: httpx.Client
) -> None:
    list_id = new_list(supervisor)
    body = assert_problem(
        reader.get(f"{LISTS}/{list_id}/export", params={"selection_rule": "atempt < 3"}),
        422,
        "selection_rule",
    )
    assert "did you mean attempt" in body["detail"]
    assert_problem(reader.get(f"{LISTS}/{list_id}/export", params={"use_labels": "maybe"}), 422, "use_labels")


# A big list ----------------------------------------------------------------------------------

CHAINS = 50_000  # two records each: 100,000 records


@pytest.fixture(scope="module")
def big_list(supervisor: httpx.Client, runtime: Runtime, account_a: Account) -> UUID:
    list_id = UUID(new_list(supervisor, unique("Big")))
    custom = {"balance": "1234.56", "first_name": "Alexandra", "segment": "gold"}
    for start in range(0, CHAINS, 2000):
        store(
            runtime,
            [
                a_chain(list_id, account_a.id, f"C{i:07d}", [f"+1312{i:07d}", f"+1415{i:07d}"], custom=custom)
                for i in range(start, start + 2000)
            ],
            wait=False,
        )
    assert runtime.wait(runtime.store.position(), 300.0)
    assert runtime.records.counts(list_id) == (CHAINS, 2 * CHAINS)
    return list_id


def test_a_hundred_thousand_records_stream_in_chunks(reader: httpx.Client, big_list: UUID) -> None:
    started = time.perf_counter()
    first_chunk_at = 0.0
    sizes: list[int] = []
    lines = 0
    tail = b""
    with reader.stream("GET", f"{LISTS}/{big_list}/export") as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            if not sizes:
                first_chunk_at = time.perf_counter() - started
            sizes.append(len(chunk))
            lines += chunk.count(b"\n")
            tail = (tail + chunk)[-1000:]
    elapsed = time.perf_counter() - started

    assert lines == 1 + 2 * CHAINS
    last = next(csv.reader([tail.decode().splitlines()[-1]]))
    assert last[:2] == [f"C{CHAINS - 1:07d}", f"+1415{CHAINS - 1:07d}"] and last[15] == "2"
    assert last[-3:] == ["1234.56", "Alexandra", "gold"]
    total = sum(sizes)
    assert len(sizes) > total // (128 * 1024), "sent in chunks, not as one body"
    print(
        f"\nexport of {2 * CHAINS:,} records: {total / 2**20:.1f} MiB in {elapsed:.2f} s "
        f"({2 * CHAINS / elapsed:,.0f} records/s), first chunk after {first_chunk_at * 1000:.0f} ms, "
        f"{len(sizes)} chunks"
    )
    assert first_chunk_at < elapsed / 2, "the first bytes leave before the export is done"


def test_a_big_export_does_not_hold_the_file_in_memory(reader: httpx.Client, big_list: UUID) -> None:
    # The server runs in this process: trace its allocations while the client drops each chunk.
    total = 0
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        with reader.stream(
            "GET", f"{LISTS}/{big_list}/export", params={"selection_rule": "chain_n >= 1"}
        ) as response:
            assert response.status_code == 200
            for chunk in response.iter_raw():
                total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grown = peak - base
    print(f"\nexport of {total / 2**20:.1f} MiB: traced peak {grown / 2**20:.1f} MiB above the start")
    assert total > 15 * 2**20
    assert grown < total / 2, (grown, total)  # pages of records, never the file
