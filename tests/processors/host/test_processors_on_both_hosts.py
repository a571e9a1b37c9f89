"""Every processor, one scenario, both hosts (the eventsourcing library's
tests/system_tests/test_runner.py pattern): the import runner, the suppression index
follower, the suppression expiry sweep, the retention sweep and the call results processor each
run one scenario embedded (following the store's log in process, with the embedded suppression
index) and on a real Kafka broker (relay, consumer groups, with a Redis suppression index). Both runs must
give the one outcome written out at the end of this file — the events, the read-model rows
and the index's answers, without random ids and times — so it also says what the right
outcome is. (The compliance processor has its own: test_compliance_hosts.py.)

The scheduled sweeps are wired by the runtime as always, but their schedulers are not
started: the scenario calls the job itself, at a time of its choosing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from dialstream.bootstrap import DEFAULT_ACCOUNT_ID, DIALER, RETENTION, SUPPRESSION_EXPIRY, Runtime
from dialstream.clock import utc_now
from dialstream.store import stored_topic_of
from domain.codes import CallResult
from domain.contact_list import CreateContactList
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.compliance.predial import PreDialRequest
from processors.retention.sweep import SweepReport
from processors.suppression.index import SuppressionQuery
from schemas.base import Event
from schemas.lists import ContactListSettings, Retention, RetentionScope
from schemas.profiles import DialingSettings, Treatment
from schemas.records import RecordTreated
from tests.dialstream.groups import running_group
from tests.imports.support import finished, request, write
from tests.kafka import Broker
from tests.processors.host.both_hosts import (
    Host,
    Names,
    Process,
    events_after,
    follower,
    lookups,
    rows,
    settle,
)
from tests.processors.retention.test_retention import CANCELLED, NOW, READY, UPDATED, chain
from tests.redis import Server

_DATABASES = itertools.count(1)  # a Redis database of its own for each Kafka run (0 is the other tests')


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.integration)])
def host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Host]:
    """Embedded, or Kafka on the session's broker with a Redis database of the test's own."""
    if request.param == "embedded":
        yield Host("embedded", tmp_path / "data")
        return
    broker: Broker = request.getfixturevalue("kafka_broker")
    server: Server = request.getfixturevalue("redis_server")
    url = f"{server.url.rpartition('/')[0]}/{next(_DATABASES)}"
    client = Redis.from_url(url)
    try:
        assert client.dbsize() == 0, f"{url} is in use"
        yield Host("kafka", tmp_path / "data", broker.bootstrap, url)
    finally:
        client.flushdb()
        client.close()


def test_the_import_runner(host: Host) -> None:
    with host.process() as process:
        assert import_scenario(process, host.data_dir.parent) == IMPORTED


def test_the_suppression_index_follower(host: Host) -> None:
    with host.process() as process:
        assert index_scenario(process) == INDEXED


def test_the_suppression_expiry_sweep(host: Host) -> None:
    with host.process(unscheduled=[SUPPRESSION_EXPIRY]) as process:
        assert expiry_scenario(process) == EXPIRED


def test_the_retention_sweep(host: Host) -> None:
    with host.process(unscheduled=[RETENTION]) as process:
        assert retention_scenario(process) == RETAINED


def test_the_call_results_processor(host: Host) -> None:
    with host.process(unscheduled=[DIALER]) as process:  # the scenario dials by hand
        assert results_scenario(process) == RESULTS_OUTCOME


# The import runner -----------------------------------------------------------------------

CONTACTS = (
    "client_id,phone,first_name\n"
    "C1,(312) 555-0101,Ann\n"
    "C2,(312) 555-0102,Bob\n"
    "C1,(312) 555-0111,Ann\n"  # C1 again: its chain is replaced (append and update)
    "C3,not a number,Cy\n"  # rejected
    "C4,(212) 555-0104,Dee\n"
)
ENTRIES = (
    "phone,client_id\n"
    "(646) 555-0199,\n"
    ",X9\n"
    "12,\n"  # rejected: not a phone number
    "(646) 555-0198,X8\n"
)


def import_scenario(process: Process, tmp_path: Path) -> dict[str, Any]:
    """A contact file (good rows, a client id updated, a rejected row) into a contact list and
    an entry file into a suppression list, both run by the import runner."""
    runtime, names = process.runtime, Names()
    names["customers"] = runtime.handlers.lists.create(DEFAULT_ACCOUNT_ID, CreateContactList(name="customers")).id
    names["dnc"] = runtime.handlers.suppression.create_list(DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="dnc")).id
    start = runtime.store.position()
    contacts = request(
        runtime, names.id("customers"), write(tmp_path / "contacts.csv", CONTACTS), append_type="append_and_update"
    )
    entries = request(runtime, names.id("dnc"), write(tmp_path / "dnc.csv", ENTRIES), entries=True)
    names["contacts job"], names["dnc job"] = contacts, entries
    assert finished(runtime, contacts).status == "completed"
    assert finished(runtime, entries).status == "completed"
    settle(runtime)
    return {
        "events": [  # the import runner's (the requests are the test's)
            event for event in events_after(runtime, start, names) if event["event"] != "import_job.requested"
        ],
        "records": rows(
            runtime,
            "records",
            names,
            "list_id, client_id, chain_n, contact_info, record_type, record_status, time_zone, custom, job_id, line",
        ),
        "import_jobs": rows(
            runtime, "import_jobs", names, "id, list_id, status, body", body=("target", "counts", "line", "offset")
        ),
        "import_rejections": rows(runtime, "import_rejections", names, "job_id, line, field, reason, raw"),
        "suppression_lists": rows(runtime, "suppression_lists", names, "name, entry_count, version"),
        "suppression_entries": rows(runtime, "suppression_entries", names, "list_id, kind, value, expires_at"),
    }


# The suppression index follower ----------------------------------------------------------


INDEX_QUERIES = [
    SuppressionQuery("voice", "phone", "+12125550100"),
    SuppressionQuery("voice", "phone", "+12125550101"),
    SuppressionQuery("voice", "phone", "+12125550102"),
    SuppressionQuery("voice", "phone", "+12125550109"),  # never an entry
    SuppressionQuery("voice", "client_id", "C7"),
    SuppressionQuery("sms", "phone", "+12125550100"),
]


def _predial(runtime: Runtime, names: Names) -> dict[str, list[str]]:
    """The suppression reasons pre-dial validation gives for three voice contacts."""
    assert runtime.predial is not None
    contacts = [("+12125550100", "C7"), ("+12125550101", "C1"), ("+12125550109", "C9")]
    verdicts = runtime.predial.validate_many(
        [
            PreDialRequest(account_id=DEFAULT_ACCOUNT_ID, contact_info=phone, client_id=client, time_zone="America/New_York")
            for phone, client in contacts
        ]
    )
    return {
        f"{phone} {client}": sorted(
            f"{names(str(reason.list_id))} {reason.kind}: {names(reason.text)}"
            for reason in verdict.reasons
            if reason.code == "suppressed"
        )
        for (phone, client), verdict in zip(contacts, verdicts, strict=True)
    }


def index_scenario(process: Process) -> dict[str, Any]:
    """Entries added to a voice and an SMS list, then one removed and the SMS list archived:
    what the index answers after each step, and its position at the head of the log."""
    runtime, names = process.runtime, Names()
    suppression = runtime.handlers.suppression
    voice = names["dnc"] = suppression.create_list(
        DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="dnc", required=True)
    ).id
    sms = names["sms opt-out"] = suppression.create_list(
        DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="sms opt-out", channel="sms", required=True)
    ).id
    suppression.add_entries(
        DEFAULT_ACCOUNT_ID,
        voice,
        [
            EntryInput(kind="phone", value="(212) 555-0100"),
            EntryInput(kind="phone", value="+1 212 555 0101"),
            EntryInput(kind="phone", value="212.555.0102"),
            EntryInput(kind="client_id", value="C7"),
        ],
    )
    suppression.add_entries(DEFAULT_ACCOUNT_ID, sms, [EntryInput(kind="phone", value="2125550100")])
    settle(runtime)
    added = lookups(runtime, INDEX_QUERIES, [voice, sms], names)
    predial_added = _predial(runtime, names)

    suppression.remove_entries(DEFAULT_ACCOUNT_ID, voice, [EntryInput(kind="phone", value="(212) 555-0101")])
    suppression.archive_list(DEFAULT_ACCOUNT_ID, sms)
    head = settle(runtime)
    return {
        "added": added,
        "predial added": predial_added,
        "removed": lookups(runtime, INDEX_QUERIES, [voice, sms], names),
        "predial removed": _predial(runtime, names),
        "index at the head": runtime.suppression_index.position() == head == follower(runtime).position,
        "suppression_lists": rows(runtime, "suppression_lists", names, "name, channel, archived, entry_count"),
    }


# The suppression expiry sweep ------------------------------------------------------------


def expiry_scenario(process: Process) -> dict[str, Any]:
    """Entries of a list kept "today" expire at the account's next midnight, a permanent
    list's never: a sweep before that midnight expires nothing, one after it every due entry,
    and one more after that nothing again."""
    runtime, names = process.runtime, Names()
    suppression = runtime.handlers.suppression
    today = names["today"] = suppression.create_list(
        DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="today", required=True, retention_days=0)
    ).id
    forever = names["forever"] = suppression.create_list(
        DEFAULT_ACCOUNT_ID, CreateSuppressionList(name="forever", required=True)
    ).id
    before = utc_now()  # the entries expire at the next midnight after this
    suppression.add_entries(
        DEFAULT_ACCOUNT_ID,
        today,
        [EntryInput(kind="client_id", value=f"C{n}") for n in range(3)] + [EntryInput(kind="phone", value="(212) 555-0150")],
    )
    suppression.add_entries(DEFAULT_ACCOUNT_ID, forever, [EntryInput(kind="client_id", value="C0")])
    start = settle(runtime)
    later = before + timedelta(days=2)
    swept = [
        process.run_job(SUPPRESSION_EXPIRY, before),
        process.run_job(SUPPRESSION_EXPIRY, later),
        process.run_job(SUPPRESSION_EXPIRY, later),
    ]
    settle(runtime)
    return {
        "swept": swept,
        "events": events_after(runtime, start, names),
        "suppression_lists": rows(runtime, "suppression_lists", names, "name, entry_count, version"),
        "suppression_entries": rows(runtime, "suppression_entries", names, "list_id, kind, value, expires_at"),
        "index": lookups(
            runtime,
            [
                SuppressionQuery("voice", "client_id", "C0"),
                SuppressionQuery("voice", "client_id", "C1"),
                SuppressionQuery("voice", "phone", "+12125550150"),
            ],
            [today, forever],
            names,
        ),
    }


# The retention sweep ---------------------------------------------------------------------

def retention_scenario(process: Process) -> dict[str, Any]:
    """Lists kept 30 days in three scopes and a permanent one, each with a finished chain, a
    fresh one, a churned one (all imported long ago) and a finished one imported yesterday:
    the sweep deletes what each list no longer keeps, once."""
    runtime, names = process.runtime, Names()
    lists: list[tuple[str, int | None, RetentionScope, str]] = [
        ("completed", 30, "completed", ""),
        ("all", 30, "all", ""),
        ("churned", 30, "selection", "custom.segment = 'churned'"),
        ("permanent", None, "all", ""),
    ]
    chains: list[Event] = []
    for name, days, scope, rule in lists:
        settings = ContactListSettings(retention=Retention(days=days, scope=scope, selection_rule=rule))
        list_id = names[name] = runtime.handlers.lists.create(
            DEFAULT_ACCOUNT_ID, CreateContactList(name=name, settings=settings)
        ).id
        chains += [
            chain(list_id, DEFAULT_ACCOUNT_ID, "done", UPDATED, CANCELLED),
            chain(list_id, DEFAULT_ACCOUNT_ID, "fresh", READY),
            chain(list_id, DEFAULT_ACCOUNT_ID, "churned", READY, custom={"segment": "churned"}),
            chain(list_id, DEFAULT_ACCOUNT_ID, "recent", UPDATED, at=NOW - timedelta(days=1)),
        ]
    runtime.store.append(chains)
    start = settle(runtime)
    first = process.run_job(RETENTION, NOW)
    settle(runtime)
    again = process.run_job(RETENTION, NOW)
    settle(runtime)
    return {
        "swept": [first, again],
        "events": events_after(runtime, start, names),
        "records": rows(runtime, "records", names, "list_id, client_id, chain_n, record_status"),
    }


# What each scenario gives, on either host ---------------------------------------------------

IMPORTED: dict[str, Any] = {
    "events": [
        {
            "event": "import_job.completed",
            "v": 5,
            "list_id": "customers",
            "counts": {"rows": 5, "imported": 3, "updated": 1, "ignored": 0, "rejected": 1, "flushed": 0, "records": 3, "dropped": 0},
        },
        {
            "event": "import_job.completed",
            "v": 5,
            "list_id": "dnc",
            "counts": {"rows": 4, "imported": 4, "updated": 0, "ignored": 0, "rejected": 1, "flushed": 0, "records": 4, "dropped": 0},
        },
        {
            "event": "import_job.progressed",
            "v": 4,
            "list_id": "customers",
            "line": 6,
            "offset": 134,
            "counts": {"rows": 5, "imported": 3, "updated": 1, "ignored": 0, "rejected": 1, "flushed": 0, "records": 3, "dropped": 0},
        },
        {
            "event": "import_job.progressed",
            "v": 4,
            "list_id": "dnc",
            "line": 5,
            "offset": 58,
            "counts": {"rows": 4, "imported": 4, "updated": 0, "ignored": 0, "rejected": 1, "flushed": 0, "records": 4, "dropped": 0},
        },
        {
            "event": "import_job.row_rejected",
            "v": 3,
            "list_id": "customers",
            "line": 5,
            "reason": "line 5: no valid contact info (phone: 'not a number' is not a phone number)",
            "field": "phone",
            "raw": "C3,not a number,Cy",
        },
        {
            "event": "import_job.row_rejected",
            "v": 3,
            "list_id": "dnc",
            "line": 4,
            "reason": "line 4: phone: '12' is not a valid phone number for US",
            "field": "phone",
            "raw": "12",
        },
        {
            "event": "import_job.started",
            "v": 2,
            "list_id": "customers",
            "columns": ["client_id", "phone", "first_name"],
            "dialect": "delimiter ',' (detected), quote '\"', UTF-8, LF",
            "encoding": "utf-8",
            "data_offset": 27,
            "data_line": 2,
            "fields": [
                {"column": "client_id", "field": "client_id", "contact_info_type": None, "label": "client_id"},
                {"column": "phone", "field": "contact_info", "contact_info_type": 1, "label": "phone"},
                {"column": "first_name", "field": "custom:first_name", "contact_info_type": None, "label": "first_name"},
            ],
            "resumed": False,
        },
        {
            "event": "import_job.started",
            "v": 2,
            "list_id": "dnc",
            "columns": ["phone", "client_id"],
            "dialect": "delimiter ',' (detected), quote '\"', UTF-8, LF",
            "encoding": "utf-8",
            "data_offset": 16,
            "data_line": 2,
            "fields": [
                {"column": "phone", "field": "phone", "contact_info_type": None, "label": ""},
                {"column": "client_id", "field": "client_id", "contact_info_type": None, "label": ""},
            ],
            "resumed": False,
        },
        {
            "event": "record_chain.imported",
            "v": 1,
            "list_id": "customers",
            "client_id": "C1",
            "job_id": "contacts job",
            "line": 2,
            "records": [{"chain_n": 1, "contact_info": "+13125550101", "contact_info_type": 1, "time_zone": "America/Chicago", "time_zone_rule": "device"}],
            "contact": {},
            "custom": {"first_name": "Ann"},
        },
        {
            "event": "record_chain.imported",
            "v": 1,
            "list_id": "customers",
            "client_id": "C2",
            "job_id": "contacts job",
            "line": 3,
            "records": [{"chain_n": 1, "contact_info": "+13125550102", "contact_info_type": 1, "time_zone": "America/Chicago", "time_zone_rule": "device"}],
            "contact": {},
            "custom": {"first_name": "Bob"},
        },
        {
            "event": "record_chain.imported",
            "v": 1,
            "list_id": "customers",
            "client_id": "C4",
            "job_id": "contacts job",
            "line": 6,
            "records": [{"chain_n": 1, "contact_info": "+12125550104", "contact_info_type": 1, "time_zone": "America/New_York", "time_zone_rule": "device"}],
            "contact": {},
            "custom": {"first_name": "Dee"},
        },
        {
            "event": "record_chain.replaced",
            "v": 2,
            "list_id": "customers",
            "client_id": "C1",
            "job_id": "contacts job",
            "line": 4,
            "records": [{"chain_n": 1, "contact_info": "+13125550111", "contact_info_type": 1, "time_zone": "America/Chicago", "time_zone_rule": "device"}],
            "contact": {},
            "custom": {"first_name": "Ann"},
        },
        {
            "event": "suppression_list.entries_added",
            "v": 2,
            "channel": "voice",
            "entries": [
                {"kind": "phone", "value": "+16465550199"},
                {"kind": "client_id", "value": "X9"},
                {"kind": "phone", "value": "+16465550198"},
                {"kind": "client_id", "value": "X8"},
            ],
            "source": "file",
            "job_id": "dnc job",
        },
    ],
    "records": [
        {
            "list_id": "customers",
            "client_id": "C1",
            "chain_n": 1,
            "contact_info": "+13125550111",
            "record_type": 2,
            "record_status": 1,
            "time_zone": "America/Chicago",
            "custom": "{\"first_name\":\"Ann\"}",
            "job_id": "contacts job",
            "line": 4,
        },
        {
            "list_id": "customers",
            "client_id": "C2",
            "chain_n": 1,
            "contact_info": "+13125550102",
            "record_type": 2,
            "record_status": 1,
            "time_zone": "America/Chicago",
            "custom": "{\"first_name\":\"Bob\"}",
            "job_id": "contacts job",
            "line": 3,
        },
        {
            "list_id": "customers",
            "client_id": "C4",
            "chain_n": 1,
            "contact_info": "+12125550104",
            "record_type": 2,
            "record_status": 1,
            "time_zone": "America/New_York",
            "custom": "{\"first_name\":\"Dee\"}",
            "job_id": "contacts job",
            "line": 6,
        },
    ],
    "import_jobs": [
        {
            "id": "contacts job",
            "list_id": "customers",
            "status": "completed",
            "target": "contact_list",
            "counts": {"rows": 5, "imported": 3, "updated": 1, "ignored": 0, "rejected": 1, "flushed": 0, "records": 3, "dropped": 0},
            "line": 6,
            "offset": 134,
        },
        {
            "id": "dnc job",
            "list_id": "dnc",
            "status": "completed",
            "target": "suppression_list",
            "counts": {"rows": 4, "imported": 4, "updated": 0, "ignored": 0, "rejected": 1, "flushed": 0, "records": 4, "dropped": 0},
            "line": 5,
            "offset": 58,
        },
    ],
    "import_rejections": [
        {
            "job_id": "contacts job",
            "line": 5,
            "field": "phone",
            "reason": "line 5: no valid contact info (phone: 'not a number' is not a phone number)",
            "raw": "C3,not a number,Cy",
        },
        {"job_id": "dnc job", "line": 4, "field": "phone", "reason": "line 4: phone: '12' is not a valid phone number for US", "raw": "12"},
    ],
    "suppression_lists": [{"name": "dnc", "entry_count": 4, "version": 2}],
    "suppression_entries": [
        {"list_id": "dnc", "kind": "client_id", "value": "X8", "expires_at": None},
        {"list_id": "dnc", "kind": "client_id", "value": "X9", "expires_at": None},
        {"list_id": "dnc", "kind": "phone", "value": "+16465550198", "expires_at": None},
        {"list_id": "dnc", "kind": "phone", "value": "+16465550199", "expires_at": None},
    ],
}


INDEXED: dict[str, Any] = {
    "added": {
        "voice phone +12125550100": ["dnc phone +12125550100"],
        "voice phone +12125550101": ["dnc phone +12125550101"],
        "voice phone +12125550102": ["dnc phone +12125550102"],
        "voice phone +12125550109": [],
        "voice client_id C7": ["dnc client_id C7"],
        "sms phone +12125550100": ["sms opt-out phone +12125550100"],
    },
    "predial added": {
        "+12125550100 C7": [
            "dnc client_id: the client id C7 is on suppression list dnc (entry <id>), permanently",
            "dnc phone: the phone number +12125550100 is on suppression list dnc (entry <id>), permanently",
        ],
        "+12125550101 C1": ["dnc phone: the phone number +12125550101 is on suppression list dnc (entry <id>), permanently"],
        "+12125550109 C9": [],
    },
    "removed": {
        "voice phone +12125550100": ["dnc phone +12125550100"],
        "voice phone +12125550101": [],
        "voice phone +12125550102": ["dnc phone +12125550102"],
        "voice phone +12125550109": [],
        "voice client_id C7": ["dnc client_id C7"],
        "sms phone +12125550100": [],
    },
    "predial removed": {
        "+12125550100 C7": [
            "dnc client_id: the client id C7 is on suppression list dnc (entry <id>), permanently",
            "dnc phone: the phone number +12125550100 is on suppression list dnc (entry <id>), permanently",
        ],
        "+12125550101 C1": [],
        "+12125550109 C9": [],
    },
    "index at the head": True,
    "suppression_lists": [
        {"name": "dnc", "channel": "voice", "archived": 0, "entry_count": 3},
        {"name": "sms opt-out", "channel": "sms", "archived": 1, "entry_count": 0},
    ],
}


EXPIRED: dict[str, Any] = {
    "swept": [0, 4, 0],
    "events": [
        {
            "event": "suppression_list.entries_expired",
            "v": 3,
            "channel": "voice",
            "entries": [
                {"kind": "client_id", "value": "C0"},
                {"kind": "client_id", "value": "C1"},
                {"kind": "client_id", "value": "C2"},
                {"kind": "phone", "value": "+12125550150"},
            ],
        },
    ],
    "suppression_lists": [{"name": "forever", "entry_count": 1, "version": 2}, {"name": "today", "entry_count": 0, "version": 3}],
    "suppression_entries": [{"list_id": "forever", "kind": "client_id", "value": "C0", "expires_at": None}],
    "index": {"voice client_id C0": ["forever client_id C0"], "voice client_id C1": [], "voice phone +12125550150": []},
}


RETAINED: dict[str, Any] = {
    "swept": [SweepReport(lists=3, deleted=5), SweepReport(lists=3, deleted=0)],
    "events": [
        {
            "event": "record_chain.deleted",
            "v": 2,
            "list_id": "all",
            "client_id": "churned",
            "reason": "retention",
            "job_id": None,
            "detail": "retention 30 days, all",
        },
        {
            "event": "record_chain.deleted",
            "v": 2,
            "list_id": "all",
            "client_id": "done",
            "reason": "retention",
            "job_id": None,
            "detail": "retention 30 days, all",
        },
        {
            "event": "record_chain.deleted",
            "v": 2,
            "list_id": "all",
            "client_id": "fresh",
            "reason": "retention",
            "job_id": None,
            "detail": "retention 30 days, all",
        },
        {
            "event": "record_chain.deleted",
            "v": 2,
            "list_id": "churned",
            "client_id": "churned",
            "reason": "retention",
            "job_id": None,
            "detail": "retention 30 days, selection: custom.segment = 'churned'",
        },
        {
            "event": "record_chain.deleted",
            "v": 2,
            "list_id": "completed",
            "client_id": "done",
            "reason": "retention",
            "job_id": None,
            "detail": "retention 30 days, completed",
        },
    ],
    "records": [
        {"list_id": "all", "client_id": "recent", "chain_n": 1, "record_status": 3},
        {"list_id": "churned", "client_id": "done", "chain_n": 1, "record_status": 3},
        {"list_id": "churned", "client_id": "done", "chain_n": 2, "record_status": 5},
        {"list_id": "churned", "client_id": "fresh", "chain_n": 1, "record_status": 1},
        {"list_id": "churned", "client_id": "recent", "chain_n": 1, "record_status": 3},
        {"list_id": "completed", "client_id": "churned", "chain_n": 1, "record_status": 1},
        {"list_id": "completed", "client_id": "fresh", "chain_n": 1, "record_status": 1},
        {"list_id": "completed", "client_id": "recent", "chain_n": 1, "record_status": 3},
        {"list_id": "permanent", "client_id": "churned", "chain_n": 1, "record_status": 1},
        {"list_id": "permanent", "client_id": "done", "chain_n": 1, "record_status": 3},
        {"list_id": "permanent", "client_id": "done", "chain_n": 2, "record_status": 5},
        {"list_id": "permanent", "client_id": "fresh", "chain_n": 1, "record_status": 1},
        {"list_id": "permanent", "client_id": "recent", "chain_n": 1, "record_status": 3},
    ],
}


# The call results processor ----------------------------------------------------------------

RESULTS_AT = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
RESULTS_PLAN = [  # busy: retry in 30 minutes, once, then the next record of the chain
    Treatment(call_result=CallResult.BUSY, sequence=1, action="retry_in", interval_minutes=30),
    Treatment(call_result=CallResult.BUSY, sequence=2, action="next_in_chain"),
    Treatment(call_result=CallResult.NO_ANSWER, sequence=1, action="next_in_chain"),
]


def results_scenario(process: Process) -> dict[str, Any]:
    """A group whose profile treats busy and no answer dials three chains by hand: the ends of
    their attempts are stored, and the processor updates and treats each record once (a
    result reported again stores nothing)."""
    runtime, names = process.runtime, Names()
    handlers = runtime.handlers
    handlers.clock = lambda: RESULTS_AT
    list_id, group = running_group(
        handlers, DEFAULT_ACCOUNT_ID, dialing=DialingSettings(treatments=RESULTS_PLAN), list_name="customers"
    )
    names["customers"], names["group"] = list_id, group
    runtime.store.append(
        [
            chain(list_id, DEFAULT_ACCOUNT_ID, "busy", READY, READY),
            chain(list_id, DEFAULT_ACCOUNT_ID, "answered", READY, READY),
            chain(list_id, DEFAULT_ACCOUNT_ID, "unanswered", READY),
        ]
    )
    settle(runtime)
    candidates = runtime.records.dialable([list_id], now=RESULTS_AT, max_attempts=10)
    drawn = {
        d.chain.client_id: d
        for d in handlers.queue.draw(DEFAULT_ACCOUNT_ID, group, candidates, max_attempts=10)
    }
    assert sorted(drawn) == ["answered", "busy", "unanswered"]
    start = settle(runtime)
    results = {"busy": CallResult.BUSY, "answered": CallResult.ANSWER, "unanswered": CallResult.NO_ANSWER}
    for client_id, result in results.items():
        d = drawn[client_id]
        handlers.attempts.make_attempt(
            d.chain, 1, attempt_id=d.attempt_id, channel="voice", campaign_group_id=group
        )
        handlers.attempts.finished(
            DEFAULT_ACCOUNT_ID,
            d.record.record_id,
            d.attempt_id,
            call_result=int(result),
            ring_ms=9_000,
            talk_ms=0,
        )
    _wait_for_treatments(runtime, start, 3)
    d = drawn["busy"]  # reported again (a redelivery): the attempt no longer holds the record
    assert not handlers.queue.finish(
        DEFAULT_ACCOUNT_ID, d.record.record_id, d.attempt_id, call_result=int(CallResult.BUSY), call_time=None
    )
    settle(runtime)
    dialable_at = {
        f"{minutes} min": [
            (c.client_id, c.chain_n) for c in runtime.records.dialable([list_id], now=at, max_attempts=10)
        ]
        for minutes in (0, 30)
        if (at := RESULTS_AT + timedelta(minutes=minutes))
    }
    # Half an hour later the busy record is dialled again, busy again: its sequence goes on.
    later = RESULTS_AT + timedelta(minutes=30)
    handlers.clock = lambda: later
    (d,) = handlers.queue.draw(
        DEFAULT_ACCOUNT_ID,
        group,
        runtime.records.dialable([list_id], now=later, max_attempts=10),
        max_attempts=10,
    )
    handlers.attempts.make_attempt(
        d.chain, 1, attempt_id=d.attempt_id, channel="voice", campaign_group_id=group
    )
    handlers.attempts.finished(
        DEFAULT_ACCOUNT_ID,
        d.record.record_id,
        d.attempt_id,
        call_result=int(CallResult.BUSY),
        ring_ms=9_000,
        talk_ms=0,
    )
    _wait_for_treatments(runtime, start, 4)
    settle(runtime)
    return {
        "events": [e for e in events_after(runtime, start, names) if e["event"].startswith("record.")],
        "records": rows(
            runtime,
            "records",
            names,
            "client_id, chain_n, record_type, record_status, call_result, attempt, dial_sched_time",
        ),
        "dialable after the first results": dialable_at,
        "dialable after the second": [
            (c.client_id, c.chain_n) for c in runtime.records.dialable([list_id], now=later, max_attempts=10)
        ],
    }


def _wait_for_treatments(runtime: Runtime, after: int, count: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        treated = runtime.store.read_topics((stored_topic_of(RecordTreated),), after=after, limit=100)
        if len(treated) >= count:
            return
        assert time.monotonic() < deadline, f"{len(treated)} of {count} results treated after 60 s"
        time.sleep(0.05)


RESULTS_OUTCOME: dict[str, Any] = {
    "events": [
        {
            "event": "record.retrieved",
            "v": 5,
            "list_id": "customers",
            "client_id": "busy",
            "chain_n": 1,
            "campaign_group_id": "group",
            "retrieved_by": "",
            "personal_callback": "",
        },
        {
            "event": "record.treated",
            "v": 4,
            "list_id": "customers",
            "client_id": "answered",
            "chain_n": 1,
            "campaign_group_id": "group",
            "call_result": 33,
            "disposition_code": None,
            "action": None,
            "record": {
                "chain_n": 1,
                "record_type": 2,
                "record_status": 3,
                "dial_sched_time": None,
                "attempt": 1,
                "call_result": 33,
            },
            "others": [
                {
                    "chain_n": 2,
                    "record_type": 2,
                    "record_status": 7,
                    "dial_sched_time": None,
                    "attempt": 0,
                    "call_result": 28,
                }
            ],
            "next_chain_n": None,
            "step": None,
            "agent_group": "",
            "reason": "no treatment for answer (33): record updated; chain finished",
        },
        {
            "event": "record.treated",
            "v": 4,
            "list_id": "customers",
            "client_id": "busy",
            "chain_n": 1,
            "campaign_group_id": "group",
            "call_result": 6,
            "disposition_code": None,
            "action": "retry_in",
            "record": {
                "chain_n": 1,
                "record_type": 3,
                "record_status": 1,
                "dial_sched_time": 1773153000,
                "attempt": 1,
                "call_result": 6,
            },
            "others": [],
            "next_chain_n": 1,
            "step": {
                "call_result": 6,
                "action": "retry_in",
                "at": 1773151200,
                "sequence": 1,
                "applied": 1,
                "dial_sched_time": 1773153000,
            },
            "agent_group": "",
            "reason": "busy (6): sequence 1 (retry_in 30 min): retry at 2026-03-10 14:30 UTC",
        },
        {
            "event": "record.treated",
            "v": 4,
            "list_id": "customers",
            "client_id": "unanswered",
            "chain_n": 1,
            "campaign_group_id": "group",
            "call_result": 7,
            "disposition_code": None,
            "action": "next_in_chain",
            "record": {
                "chain_n": 1,
                "record_type": 2,
                "record_status": 3,
                "dial_sched_time": None,
                "attempt": 1,
                "call_result": 7,
            },
            "others": [],
            "next_chain_n": None,
            "step": {
                "call_result": 7,
                "action": "next_in_chain",
                "at": 1773151200,
                "sequence": 1,
                "applied": 1,
            },
            "agent_group": "",
            "reason": "no answer (7): sequence 1 (next_in_chain): no record left to dial; chain finished",
        },
        {
            "event": "record.treated",
            "v": 7,
            "list_id": "customers",
            "client_id": "busy",
            "chain_n": 1,
            "campaign_group_id": "group",
            "call_result": 6,
            "disposition_code": None,
            "action": "next_in_chain",
            "record": {
                "chain_n": 1,
                "record_type": 3,
                "record_status": 3,
                "dial_sched_time": 1773153000,
                "attempt": 2,
                "call_result": 6,
            },
            "others": [],
            "next_chain_n": 2,
            "step": {
                "call_result": 6,
                "action": "next_in_chain",
                "at": 1773153000,
                "sequence": 2,
                "applied": 1,
            },
            "agent_group": "",
            "reason": "busy (6): sequence 2 (next_in_chain): record 2 next",
        },
        {
            "event": "record.updated",
            "v": 3,
            "list_id": "customers",
            "client_id": "answered",
            "chain_n": 1,
            "campaign_group_id": "group",
            "call_result": 33,
            "call_time": 1773151200,
            "attempt": 1,
            "record_status": 3,
        },
        {
            "event": "record.updated",
            "v": 3,
            "list_id": "customers",
            "client_id": "busy",
            "chain_n": 1,
            "campaign_group_id": "group",
            "call_result": 6,
            "call_time": 1773151200,
            "attempt": 1,
            "record_status": 3,
        },
        {
            "event": "record.updated",
            "v": 3,
            "list_id": "customers",
            "client_id": "unanswered",
            "chain_n": 1,
            "campaign_group_id": "group",
            "call_result": 7,
            "call_time": 1773151200,
            "attempt": 1,
            "record_status": 3,
        },
        {
            "event": "record.updated",
            "v": 6,
            "list_id": "customers",
            "client_id": "busy",
            "chain_n": 1,
            "campaign_group_id": "group",
            "call_result": 6,
            "call_time": 1773153000,
            "attempt": 2,
            "record_status": 3,
        },
    ],
    "records": [
        {
            "client_id": "answered",
            "chain_n": 1,
            "record_type": 2,
            "record_status": 3,
            "call_result": 33,
            "attempt": 1,
            "dial_sched_time": None,
        },
        {
            "client_id": "answered",
            "chain_n": 2,
            "record_type": 2,
            "record_status": 7,
            "call_result": 28,
            "attempt": 0,
            "dial_sched_time": None,
        },
        {
            "client_id": "busy",
            "chain_n": 1,
            "record_type": 3,
            "record_status": 3,
            "call_result": 6,
            "attempt": 2,
            "dial_sched_time": 1773153000,
        },
        {
            "client_id": "busy",
            "chain_n": 2,
            "record_type": 2,
            "record_status": 1,
            "call_result": 28,
            "attempt": 0,
            "dial_sched_time": None,
        },
        {
            "client_id": "unanswered",
            "chain_n": 1,
            "record_type": 2,
            "record_status": 3,
            "call_result": 7,
            "attempt": 1,
            "dial_sched_time": None,
        },
    ],
    "dialable after the first results": {"0 min": [], "30 min": [("busy", 1)]},
    "dialable after the second": [("busy", 2)],
}
