"""/api/v1/suppression-lists over HTTP: lists (channel, required or optional, retention, unique
names, If-Match, archive), their entries (each channel's kinds, bad input kept apart from good),
lookups answered by the suppression index, and a campaign group's optional lists."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from dialstream.bootstrap import Runtime
from dialstream.store import stored_topic_of
from processors.suppression.embedded_index import EmbeddedSuppressionIndex
from processors.suppression.index import SuppressionEntry, SuppressionKey
from schemas.suppression import (
    SuppressionEntriesAdded,
    SuppressionEntriesExpired,
    SuppressionEntriesRemoved,
    SuppressionListArchived,
)
from tests.gateway import helpers as h
from tests.gateway.conftest import Account

LISTS = "/api/v1/suppression-lists"
ENTRY_EVENTS = (SuppressionEntriesAdded, SuppressionEntriesRemoved, SuppressionEntriesExpired, SuppressionListArchived)
RETENTIONS = [None, 0, 1, 7, 30, 31, 45, 60, 90, 180, 360]


def url(made: dict[str, Any], tail: str = "") -> str:
    return f"{LISTS}/{made['id']}{tail}"


def suppression_list(client: httpx.Client, channel: str = "voice", **fields: Any) -> dict[str, Any]:
    return h.create(client, LISTS, {"name": h.unique("Suppression"), "channel": channel, **fields})


def add(client: httpx.Client, made: dict[str, Any], *pairs: tuple[str, Any]) -> httpx.Response:
    return client.post(url(made, "/entries"), json={"entries": [{"kind": k, "value": v} for k, v in pairs]})


def remove(client: httpx.Client, made: dict[str, Any], *pairs: tuple[str, Any]) -> httpx.Response:
    body = {"entries": [{"kind": k, "value": v} for k, v in pairs]}
    return client.request("DELETE", url(made, "/entries"), json=body)


def lookup(client: httpx.Client, made: dict[str, Any], kind: str, value: str) -> httpx.Response:
    return client.get(url(made, "/entries/lookup"), params={"kind": kind, "value": value})


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# The suppression index of these tests ------------------------------------------------------


class Index:
    """An embedded index in place of the server's, fed from the log by :meth:`sync`."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.index = EmbeddedSuppressionIndex()
        self.index.clear()
        self.position = runtime.store.position()

    def sync(self) -> None:
        """Apply the suppression events stored since the last sync."""
        topics = [stored_topic_of(cls) for cls in ENTRY_EVENTS]
        while batch := self.runtime.store.read_topics(topics, self.position, 1000):
            for position, event in batch:
                self.apply(event)
                self.position = position
        self.position = max(self.position, self.runtime.store.position())

    def apply(self, event: Any) -> None:
        list_id = event.originator_id
        if isinstance(event, SuppressionEntriesAdded):
            self.index.add(
                SuppressionEntry(list_id, event.channel, e.kind, e.value, e.entry_id, e.expires_at)
                for e in event.entries
            )
        elif isinstance(event, SuppressionEntriesRemoved | SuppressionEntriesExpired):
            self.index.remove(SuppressionKey(list_id, event.channel, k.kind, k.value) for k in event.entries)
        elif isinstance(event, SuppressionListArchived):
            self.index.remove_list(list_id)


@pytest.fixture
def index(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Index]:
    ours = Index(runtime)
    monkeypatch.setattr(runtime, "suppression_index", ours.index)
    yield ours


@pytest.fixture
def frozen(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Stops the handlers' clock at an ISO time (UTC) for the rest of the test."""

    def freeze(at: str) -> None:
        moment = datetime.fromisoformat(at)
        monkeypatch.setattr(runtime.handlers, "clock", lambda: moment)

    return freeze


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


# Lists -------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["voice", "sms", "email"])
@pytest.mark.parametrize("required", [True, False])
def test_create_get_list(supervisor: httpx.Client, viewer: httpx.Client, channel: str, required: bool) -> None:
    name = h.unique("Do not contact")
    made = h.create(
        supervisor,
        LISTS,
        {"name": name, "description": "from the regulator", "channel": channel, "required": required, "retention_days": 90},
    )
    assert made["version"] == 1
    assert (made["name"], made["description"], made["channel"]) == (name, "from the regulator", channel)
    assert (made["required"], made["retention_days"], made["entry_count"]) == (required, 90, 0)
    assert "archived" not in made
    got = h.get(viewer, url(made))
    assert got.json() == made
    assert got.headers["ETag"] == '"1"'
    listed = h.get(viewer, LISTS).json()
    assert made in listed


def test_defaults(supervisor: httpx.Client) -> None:
    made = h.create(supervisor, LISTS, {"name": h.unique("Plain")})
    assert (made["channel"], made["required"], made["retention_days"], made["description"]) == ("voice", False, None, "")


@pytest.mark.parametrize("days", RETENTIONS)
def test_accepted_retention_days(supervisor: httpx.Client, days: int | None) -> None:
    assert suppression_list(supervisor, retention_days=days)["retention_days"] == days


@pytest.mark.parametrize("days", [-1, 32, 44, 100, 361, 365])
def test_refused_retention_days(supervisor: httpx.Client, runtime: Runtime, days: int) -> None:
    made = suppression_list(supervisor)
    before = runtime.store.position()
    name = h.unique("Retained")
    h.assert_problem(supervisor.post(LISTS, json={"name": name, "retention_days": days}), 422, "retention_days")
    h.assert_problem(supervisor.patch(url(made), json={"retention_days": days}), 422, "retention_days")
    assert runtime.store.position() == before
    assert name not in h.names(supervisor, LISTS)
    assert h.get(supervisor, url(made)).json() == made


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"channel": None}, "channel"),
        ({"required": "yes"}, "required"),
        ({"retention_days": "today"}, "retention_days"),
        ({"retention_days": 1.5}, "retention_days"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_list_fields_are_422(supervisor: httpx.Client, runtime: Runtime, body: dict[str, Any], field: str) -> None:
    before = runtime.store.position()
    h.assert_problem(supervisor.post(LISTS, json={"name": h.unique("Bad"), **body}), 422, field)
    assert runtime.store.position() == before


def test_patch_with_if_match_and_stale(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = suppression_list(supervisor)
    tag = h.etag(supervisor, url(made))
    name = h.unique("Renamed")
    response = supervisor.patch(
        url(made), json={"name": name, "required": True, "retention_days": 0}, headers={"If-Match": tag}
    )
    body = ok(response)
    assert (body["name"], body["required"], body["retention_days"], body["version"]) == (name, True, 0, 2)
    assert response.headers["ETag"] == '"2"'
    before = runtime.store.position()
    h.assert_problem(supervisor.patch(url(made), json={"description": "lost"}, headers={"If-Match": tag}), 412, "If-Match")
    assert runtime.store.position() == before
    assert h.get(supervisor, url(made)).json() == body


def test_the_channel_cannot_change(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = suppression_list(supervisor, channel="sms")
    before = runtime.store.position()
    h.assert_problem(supervisor.patch(url(made), json={"channel": "voice"}), 422, "channel")
    h.assert_problem(supervisor.patch(url(made), json={"channel": "pigeon"}), 422, "channel")
    assert runtime.store.position() == before
    assert ok(supervisor.patch(url(made), json={"channel": "sms", "description": "same channel"}))["version"] == 2


def test_names_are_unique_per_account(supervisor: httpx.Client, other_admin: httpx.Client, runtime: Runtime) -> None:
    first = suppression_list(supervisor)
    second = suppression_list(supervisor)
    before = runtime.store.position()
    h.assert_problem(supervisor.post(LISTS, json={"name": "  " + first["name"].upper()}), 409, "name")
    h.assert_problem(supervisor.patch(url(second), json={"name": first["name"].lower()}), 409, "name")
    assert runtime.store.position() == before
    assert h.names(supervisor, LISTS).count(first["name"]) == 1
    # The name of a contact list is another kind of name; another account has its own names.
    h.create(supervisor, h.LISTS, {"name": first["name"]})
    h.create(other_admin, LISTS, {"name": first["name"]})


def test_archive_then_404(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = suppression_list(supervisor)
    h.assert_problem(supervisor.delete(url(made), headers={"If-Match": '"2"'}), 412, "If-Match")
    assert supervisor.delete(url(made), headers={"If-Match": '"1"'}).status_code == 204
    h.assert_problem(supervisor.get(url(made)), 404, "id")
    assert made["id"] not in h.ids(supervisor, LISTS)
    h.assert_problem(supervisor.delete(url(made)), 404)
    h.assert_problem(supervisor.patch(url(made), json={"description": "x"}), 404)
    h.assert_problem(add(supervisor, made, ("client_id", "C1")), 404, "id")
    h.assert_problem(remove(supervisor, made, ("client_id", "C1")), 404, "id")
    h.assert_problem(lookup(supervisor, made, "client_id", "C1"), 404, "id")
    again = h.create(supervisor, LISTS, {"name": made["name"]})
    assert again["id"] != made["id"]


def test_another_accounts_list_is_404(supervisor: httpx.Client, other_admin: httpx.Client, runtime: Runtime) -> None:
    made = suppression_list(supervisor)
    before = runtime.store.position()
    h.assert_problem(other_admin.get(url(made)), 404, "id")
    h.assert_problem(other_admin.patch(url(made), json={"description": "mine"}), 404, "id")
    h.assert_problem(other_admin.delete(url(made)), 404, "id")
    h.assert_problem(add(other_admin, made, ("client_id", "C1")), 404, "id")
    h.assert_problem(remove(other_admin, made, ("client_id", "C1")), 404, "id")
    h.assert_problem(lookup(other_admin, made, "client_id", "C1"), 404, "id")
    assert runtime.store.position() == before
    assert made["id"] not in h.ids(other_admin, LISTS)


def test_viewer_reads_but_does_not_write(viewer: httpx.Client, supervisor: httpx.Client, runtime: Runtime) -> None:
    made = suppression_list(supervisor)
    h.get(viewer, url(made))
    before = runtime.store.position()
    h.assert_problem(viewer.post(LISTS, json={"name": h.unique("Nope")}), 403)
    h.assert_problem(add(viewer, made, ("client_id", "C1")), 403)
    h.assert_problem(remove(viewer, made, ("client_id", "C1")), 403)
    assert runtime.store.position() == before


# Entries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "pairs", "values"),
    [
        ("voice", [("phone", "(312) 555-0143"), ("phone", "+44 20 7946 0958"), ("client_id", "CUST-1")],
         ["+13125550143", "+442079460958", "CUST-1"]),
        ("sms", [("phone", "312.555.0143"), ("client_id", 4711)], ["+13125550143", "4711"]),
        ("email", [("email", "Jane.Doe@Example.com"), ("client_id", "CUST-1")], ["jane.doe@example.com", "CUST-1"]),
    ],
)
def test_each_channel_takes_its_kinds(
    supervisor: httpx.Client, index: Index, channel: str, pairs: list[tuple[str, Any]], values: list[str]
) -> None:
    made = suppression_list(supervisor, channel=channel)
    body = ok(add(supervisor, made, *pairs))
    assert body == {"added": len(values), "rejected": [], "entry_count": len(values)}
    assert h.get(supervisor, url(made)).json()["entry_count"] == len(values)
    index.sync()
    for (kind, raw), value in zip(pairs, values, strict=True):
        found = ok(lookup(supervisor, made, kind, str(raw)))
        assert (found["suppressed"], found["value"], found["channel"]) == (True, value, channel)


def test_adding_again_replaces_and_removing_counts(supervisor: httpx.Client) -> None:
    made = suppression_list(supervisor)
    assert ok(add(supervisor, made, ("phone", "(312) 555-0143"), ("client_id", "A")))["entry_count"] == 2
    again = ok(add(supervisor, made, ("phone", "+1 312 555 0143"), ("phone", "312-555-0143"), ("client_id", "B")))
    assert (again["added"], again["entry_count"]) == (2, 3)
    removed = ok(remove(supervisor, made, ("phone", "3125550143"), ("client_id", "never there")))
    assert removed == {"removed": 2, "rejected": [], "entry_count": 2}
    assert h.get(supervisor, url(made)).json()["entry_count"] == 2


def test_mixed_garbage_keeps_the_valid_entries(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = suppression_list(supervisor)
    response = add(
        supervisor,
        made,
        ("phone", "(312) 555-0143"),
        ("phone", "555-0143"),
        ("fax", "+13125550143"),
        ("client_id", ""),
        ("email", "jane@example.com"),
        ("phone", "call me maybe"),
        ("client_id", "x" * 65),
        ("client_id", "CUST-9"),
    )
    body = ok(response)
    assert (body["added"], body["entry_count"]) == (2, 2)
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "entries[1].value"),
        (2, "entries[2].kind"),
        (3, "entries[3].value"),
        (4, "entries[4].kind"),
        (5, "entries[5].value"),
        (6, "entries[6].value"),
    ]
    first = body["rejected"][0]
    assert (first["kind"], first["value"]) == ("phone", "555-0143")
    assert all(r["reason"] for r in body["rejected"])
    assert "is not a kind of entry" in body["rejected"][1]["reason"]
    assert "e-mail" in body["rejected"][3]["reason"]


@pytest.mark.parametrize(
    ("channel", "pair", "field"),
    [
        ("voice", ("fax", "+13125550143"), "entries[0].kind"),
        ("voice", ("", "+13125550143"), "entries[0].kind"),
        ("voice", ("phone", ""), "entries[0].value"),
        ("voice", ("phone", "12"), "entries[0].value"),
        ("voice", ("phone", "(000) 555-0143"), "entries[0].value"),
        ("voice", ("email", "jane@example.com"), "entries[0].kind"),
        ("sms", ("email", "jane@example.com"), "entries[0].kind"),
        ("email", ("phone", "(312) 555-0143"), "entries[0].kind"),
        ("email", ("email", "jane.example.com"), "entries[0].value"),
        ("email", ("email", " "), "entries[0].value"),
        ("email", ("client_id", "x" * 65), "entries[0].value"),
    ],
)
def test_nothing_valid_is_422_naming_the_field(
    supervisor: httpx.Client, runtime: Runtime, channel: str, pair: tuple[str, str], field: str
) -> None:
    made = suppression_list(supervisor, channel=channel)
    before = runtime.store.position()
    body = h.assert_problem(add(supervisor, made, pair, pair), 422, field)
    assert [r["field"] for r in body["rejected"]] == [field, field.replace("[0]", "[1]")]
    assert body["detail"].startswith("none of the 2 entries is valid")
    h.assert_problem(remove(supervisor, made, pair), 422, field)
    assert runtime.store.position() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entries": []}, "entries"),
        ({}, "entries"),
        ({"entries": [{"kind": "phone"}]}, "entries[0].value"),
        ({"entries": [{"kind": "phone", "value": None}]}, "entries[0].value"),
        ({"entries": [{"kind": "phone", "value": True}]}, "entries[0].value"),
        ({"entries": [{"kind": 7, "value": "C1"}]}, "entries[0].kind"),
        ({"entries": [{"kind": "client_id", "value": "C1", "note": "x"}]}, "entries[0].note"),
        ({"entries": ["+13125550143"]}, "entries[0]"),
        ({"entries": {"kind": "client_id"}}, "entries"),
    ],
)
def test_malformed_bodies_are_422(supervisor: httpx.Client, runtime: Runtime, body: Any, field: str) -> None:
    made = suppression_list(supervisor)
    before = runtime.store.position()
    h.assert_problem(supervisor.post(url(made, "/entries"), json=body), 422, field)
    h.assert_problem(supervisor.request("DELETE", url(made, "/entries"), json=body), 422, field)
    assert runtime.store.position() == before


def test_phones_are_read_in_the_accounts_country(new_account: Callable[[], Account]) -> None:
    account = new_account()
    admin = account.admin
    ok(admin.patch(h.SETTINGS, json={"region": {"country_code": "GB", "time_zone": "Europe/London"}}))
    made = suppression_list(admin)
    body = ok(add(admin, made, ("phone", "020 7946 0958"), ("phone", "(312) 555-0143")))
    assert body["added"] == 1
    assert [r["field"] for r in body["rejected"]] == ["entries[1].value"]


def test_a_large_request_is_stored_in_several_events(supervisor: httpx.Client, runtime: Runtime) -> None:
    made = suppression_list(supervisor)
    before = runtime.store.position()
    body = ok(add(supervisor, made, *[("client_id", f"C{i}") for i in range(12_001)]))
    assert (body["added"], body["entry_count"]) == (12_001, 12_001)
    assert runtime.store.position() - before == 3
    assert h.get(supervisor, url(made)).json()["version"] == 4


# Expiry, as the account's clock sees it ----------------------------------------------------------


def expiry(client: httpx.Client, made: dict[str, Any], index: Index, value: str) -> int | None:
    ok(add(client, made, ("client_id", value)))
    index.sync()
    entry = ok(lookup(client, made, "client_id", value))["entry"]
    assert entry is not None
    result: int | None = entry["expires_at"]
    return result


@pytest.mark.parametrize(
    ("now", "midnight"),
    [
        ("2025-03-14T03:30:00+00:00", "2025-03-14T04:00:00+00:00"),  # 23:30 EDT: half an hour left
        ("2025-03-14T04:30:00+00:00", "2025-03-15T04:00:00+00:00"),  # 00:30 EDT: a whole new day
        ("2025-03-09T05:30:00+00:00", "2025-03-10T04:00:00+00:00"),  # spring forward: 22.5 hours
        ("2025-11-02T04:30:00+00:00", "2025-11-03T05:00:00+00:00"),  # fall back: 24.5 hours
    ],
)
def test_today_ends_at_the_accounts_local_midnight(
    supervisor: httpx.Client, index: Index, frozen: Callable[[str], None], now: str, midnight: str
) -> None:
    """Account A keeps the default region: America/New_York."""
    frozen(now)
    made = suppression_list(supervisor, retention_days=0)
    assert expiry(supervisor, made, index, "C1") == epoch(midnight)


def test_today_in_the_accounts_own_zone(
    new_account: Callable[[], Account], index: Index, frozen: Callable[[str], None]
) -> None:
    account = new_account()
    ok(account.admin.patch(h.SETTINGS, json={"region": {"country_code": "JP", "time_zone": "Asia/Tokyo"}}))
    frozen("2025-06-01T14:59:59+00:00")  # 23:59:59 in Tokyo
    made = suppression_list(account.admin, retention_days=0)
    assert expiry(account.admin, made, index, "C1") == epoch("2025-06-01T15:00:00+00:00")


@pytest.mark.parametrize("days", RETENTIONS)
def test_every_retention_sets_the_expiry(
    supervisor: httpx.Client, index: Index, frozen: Callable[[str], None], days: int | None
) -> None:
    now = "2025-03-08T12:00:00+00:00"  # a day before the spring-forward change
    frozen(now)
    made = suppression_list(supervisor, retention_days=days)
    expected = {
        None: None,
        0: epoch("2025-03-09T05:00:00+00:00"),
    }.get(days, epoch(now) + (days or 0) * 86_400)
    assert expiry(supervisor, made, index, "C1") == expected


def test_a_changed_retention_applies_to_entries_added_from_then_on(
    supervisor: httpx.Client, index: Index, frozen: Callable[[str], None]
) -> None:
    frozen("2025-03-08T12:00:00+00:00")
    made = suppression_list(supervisor, retention_days=7)
    first = expiry(supervisor, made, index, "C1")
    ok(supervisor.patch(url(made), json={"retention_days": None}))
    assert expiry(supervisor, made, index, "C2") is None
    assert ok(lookup(supervisor, made, "client_id", "C1"))["entry"]["expires_at"] == first


# Lookups -----------------------------------------------------------------------------------


def test_lookup_answers_from_the_index(supervisor: httpx.Client, index: Index) -> None:
    made = suppression_list(supervisor)
    other = suppression_list(supervisor)
    ok(add(supervisor, made, ("phone", "(312) 555-0143"), ("client_id", "CUST-1")))
    ok(add(supervisor, other, ("phone", "(212) 555-0123")))
    # Not synced yet: the index does not know.
    assert ok(lookup(supervisor, made, "phone", "(312) 555-0143"))["suppressed"] is False
    index.sync()
    found = ok(lookup(supervisor, made, "phone", "+1 312-555-0143"))
    assert found["suppressed"] is True
    assert found["value"] == "+13125550143"
    assert found["suppression_list_id"] == made["id"]
    assert found["entry"]["expires_at"] is None and found["entry"]["active"] is True
    assert UUID(found["entry"]["entry_id"])
    # Another list's entry is not this list's.
    absent = ok(lookup(supervisor, made, "phone", "(212) 555-0123"))
    assert (absent["suppressed"], absent["entry"]) == (False, None)
    assert ok(lookup(supervisor, made, "client_id", " CUST-1 "))["suppressed"] is True
    assert ok(lookup(supervisor, made, "client_id", "cust-1"))["suppressed"] is False
    ok(remove(supervisor, made, ("phone", "312 555 0143")))
    index.sync()
    assert ok(lookup(supervisor, made, "phone", "3125550143"))["suppressed"] is False


def test_an_expired_entry_no_longer_suppresses(supervisor: httpx.Client, index: Index) -> None:
    made = suppression_list(supervisor, retention_days=1)
    list_id = UUID(made["id"])
    index.index.add(
        [SuppressionEntry(list_id, "voice", "client_id", "OLD", UUID(int=1), int(datetime.now(UTC).timestamp()) - 60)]
    )
    found = ok(lookup(supervisor, made, "client_id", "OLD"))
    assert found["suppressed"] is False
    assert found["entry"]["active"] is False


@pytest.mark.parametrize(
    ("channel", "params", "field"),
    [
        ("voice", {"kind": "fax", "value": "1"}, "kind"),
        ("voice", {"kind": "phone", "value": "12"}, "value"),
        ("voice", {"kind": "phone", "value": ""}, "value"),
        ("voice", {"kind": "email", "value": "jane@example.com"}, "kind"),
        ("email", {"kind": "email", "value": "nobody"}, "value"),
        ("voice", {"kind": "phone"}, "value"),
        ("voice", {"value": "+13125550143"}, "kind"),
    ],
)
def test_bad_lookups_are_422(
    supervisor: httpx.Client, index: Index, channel: str, params: dict[str, str], field: str
) -> None:
    made = suppression_list(supervisor, channel=channel)
    h.assert_problem(supervisor.get(url(made, "/entries/lookup"), params=params), 422, field)


def test_lookup_fails_closed_without_an_index(
    supervisor: httpx.Client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = suppression_list(supervisor)
    monkeypatch.setattr(runtime, "suppression_index", EmbeddedSuppressionIndex())  # never built
    body = h.assert_problem(lookup(supervisor, made, "client_id", "C1"), 503)
    assert "not built" in body["detail"]


def test_the_servers_own_index_follows_the_log(supervisor: httpx.Client, runtime: Runtime) -> None:
    """End to end, without the test index: entries reach the server's index within moments."""
    made = suppression_list(supervisor)
    ok(add(supervisor, made, ("phone", "(312) 555-0143")))
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while datetime.now(UTC) < deadline:
        response = lookup(supervisor, made, "phone", "3125550143")
        if response.status_code == 200 and response.json()["suppressed"]:
            break
        time.sleep(0.02)
    else:
        pytest.fail(f"the server's suppression index did not learn the entry: {response.text}")


# A campaign group's optional lists ------------------------------------------------------------


def select(client: httpx.Client, group: dict[str, Any], ids: list[str], **headers: str) -> httpx.Response:
    return client.put(f"{h.GROUPS}/{group['id']}/suppression-lists", json={"suppression_list_ids": ids}, headers=headers)


def test_a_group_selects_optional_lists(admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime) -> None:
    group = h.chain(admin, supervisor)["group"]
    first, second = suppression_list(supervisor), suppression_list(supervisor)
    required = suppression_list(supervisor, required=True)
    body = ok(select(supervisor, group, [second["id"], first["id"]]))
    assert body["suppression_list_ids"] == [second["id"], first["id"]]
    assert body["version"] == group["version"] + 1
    assert h.get(supervisor, f"{h.GROUPS}/{group['id']}").json()["suppression_list_ids"] == body["suppression_list_ids"]
    applicable = runtime.suppression_lists.applicable(UUID(group["account_id"]), "voice", UUID(group["id"]))
    assert {str(i) for i in applicable} >= {first["id"], second["id"], required["id"]}
    # Again, unchanged: nothing new.
    before = runtime.store.position()
    assert ok(select(supervisor, group, [second["id"], first["id"]]))["version"] == body["version"]
    assert runtime.store.position() == before
    # Stale If-Match, then a fresh one.
    h.assert_problem(select(supervisor, group, [], **{"If-Match": f'"{group["version"]}"'}), 412, "If-Match")
    assert ok(select(supervisor, group, [], **{"If-Match": f'"{body["version"]}"'}))["suppression_list_ids"] == []


def test_what_a_group_cannot_select(
    admin: httpx.Client, supervisor: httpx.Client, other_admin: httpx.Client, runtime: Runtime
) -> None:
    group = h.chain(admin, supervisor)["group"]
    optional = suppression_list(supervisor)
    required = suppression_list(supervisor, required=True)
    texts = suppression_list(supervisor, channel="sms")
    archived = suppression_list(supervisor)
    assert supervisor.delete(url(archived)).status_code == 204
    foreign = suppression_list(other_admin)
    before = runtime.store.position()
    h.assert_problem(select(supervisor, group, [optional["id"], required["id"]]), 422, "suppression_list_ids[1]")
    h.assert_problem(select(supervisor, group, [texts["id"]]), 422, "suppression_list_ids[0]")
    h.assert_problem(select(supervisor, group, [archived["id"]]), 404, "suppression_list_ids[0]")
    h.assert_problem(select(supervisor, group, [foreign["id"]]), 404, "suppression_list_ids[0]")
    h.assert_problem(select(supervisor, group, [str(UUID(int=7))]), 404, "suppression_list_ids[0]")
    h.assert_problem(select(supervisor, group, [optional["id"], optional["id"]]), 422, "suppression_list_ids")
    h.assert_problem(select(supervisor, group, ["not-a-uuid"]), 422, "suppression_list_ids[0]")
    h.assert_problem(select(other_admin, group, [foreign["id"]]), 404, "id")
    h.assert_problem(select(supervisor, {"id": str(UUID(int=9))}, []), 404, "id")
    h.assert_problem(supervisor.put(f"{h.GROUPS}/{group['id']}/suppression-lists", json={}), 422, "suppression_list_ids")
    assert runtime.store.position() == before


def test_an_sms_group_selects_sms_lists(admin: httpx.Client, supervisor: httpx.Client) -> None:
    dialing = h.dialing_profile(supervisor)
    session = h.session_profile(admin, channel="sms")
    template = h.template(supervisor, dialing["id"], session["id"])
    contacts = h.contact_list(supervisor, channel="sms")
    group = h.group(supervisor, template["id"], [contacts["id"]])
    texts = suppression_list(supervisor, channel="sms")
    voice = suppression_list(supervisor, channel="voice")
    assert ok(select(supervisor, group, [texts["id"]]))["suppression_list_ids"] == [texts["id"]]
    h.assert_problem(select(supervisor, group, [voice["id"]]), 422, "suppression_list_ids[0]")


def test_archived_and_deleted_leave_the_applicable_lists(
    admin: httpx.Client, supervisor: httpx.Client, runtime: Runtime
) -> None:
    made = h.chain(admin, supervisor)
    group = made["group"]
    optional = suppression_list(supervisor)
    ok(select(supervisor, group, [optional["id"]]))
    account_id, group_id = UUID(group["account_id"]), UUID(group["id"])
    assert UUID(optional["id"]) in runtime.suppression_lists.applicable(account_id, "voice", group_id)
    assert supervisor.delete(url(optional)).status_code == 204
    assert UUID(optional["id"]) not in runtime.suppression_lists.applicable(account_id, "voice", group_id)
    assert supervisor.delete(f"{h.GROUPS}/{group['id']}").status_code == 204
    assert runtime.suppression_lists.selected(account_id, group_id) == []
