"""GET /api/v1/records/{record_id}/dialability over HTTP: records imported from a CSV into a
list of a pristine account, judged by the runtime's own pre-dial gate (the suppression index
that follows the log, the account's compliance settings) with its clock stopped at ``NOW``.

``NOW`` is Tuesday 2026-03-10 13:00 UTC: 09:00 in New York (inside the default calling hours
08:00-21:00), 06:00 in Los Angeles (outside them until 08:00 PDT, 15:00 UTC).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from dialstream.bootstrap import COMPLIANCE, SUPPRESSION_INDEX, Runtime
from domain.record_chain import chain_id, record_id
from domain.suppression_list import CreateSuppressionList, EntryInput
from processors.compliance.predial import PreDialValidator
from processors.compliance.processor import ComplianceProcessor
from processors.suppression.embedded_index import EmbeddedSuppressionIndex
from processors.suppression.index import IndexUnavailable, Matches, SuppressionQuery
from processors.suppression.projection import SuppressionIndexFollower
from schemas.settings import ComplianceSettings, RegionCompliance
from tests.gateway import helpers as h
from tests.gateway.conftest import Account, _open_account

NOW = datetime(2026, 3, 10, 13, tzinfo=UTC)
LA_OPENS = "2026-03-10T15:00:00Z"  # 08:00 PDT
SUPPRESSED_PHONE = "+12125550199"
FILE = (
    "client_id,phone,mobile,record_type\n"
    "NY,(212) 555-0101,(213) 555-0102,2\n"
    "SUP,(212) 555-0199,,2\n"
    "NOCALL,(212) 555-0104,,7\n"
)


def dialability(client: httpx.Client, record: UUID | str, **params: str) -> httpx.Response:
    return client.get(f"/api/v1/records/{record}/dialability", params=params)


def answer(client: httpx.Client, record: UUID | str, **params: str) -> dict[str, Any]:
    response = dialability(client, record, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def codes(reasons: list[dict[str, Any]]) -> list[str]:
    return [reason["code"] for reason in reasons]


def import_file(client: httpx.Client, list_id: str, text: str, **form: str) -> dict[str, Any]:
    response = client.post(
        f"{h.LISTS}/{list_id}/imports", files={"file": ("records.csv", text.encode(), "text/csv")}, data=form
    )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(response.headers["Location"]).json()
        if job["status"] in ("completed", "failed"):
            assert job["status"] == "completed", job
            return job
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def rid(list_id: str, client_id: str, n: int = 1) -> UUID:
    return record_id(chain_id(UUID(list_id), client_id), n)


def settle_index(runtime: Runtime, position: int) -> None:
    """The read models, the suppression index and the compliance processor (which marks the
    records the entries match) have all handled the log up to ``position``."""
    assert runtime.wait(position, 10)
    follower = runtime.services[SUPPRESSION_INDEX]
    assert isinstance(follower, SuppressionIndexFollower)
    assert follower.wait_until(position, 10)
    processor = runtime.services[COMPLIANCE]
    assert isinstance(processor, ComplianceProcessor)
    assert processor.wait_until(position, 10)


@dataclass
class World:
    account: Account
    viewer: httpx.Client
    list_id: str
    group: dict[str, Any]
    template_id: str
    suppression_list_id: UUID
    entry_id: UUID


def fixed_clock_gate(runtime: Runtime) -> PreDialValidator:
    """The runtime's gate as bootstrap builds it, with its clock stopped at NOW."""
    built = runtime.predial
    assert built is not None
    return PreDialValidator(built.index, built.lists, built.settings, clock=lambda: NOW)


@pytest.fixture(scope="module")
def gate(runtime: Runtime) -> Iterator[PreDialValidator]:
    previous = runtime.predial
    runtime.predial = fixed_clock_gate(runtime)
    try:
        yield runtime.predial
    finally:
        runtime.predial = previous


@pytest.fixture(scope="module")
def world(
    runtime: Runtime, client_for: Callable[[str | None], httpx.Client], gate: PreDialValidator
) -> World:
    account = _open_account(runtime, client_for, h.unique("Dialability"))
    admin = account.admin
    made = h.chain(admin)
    started = admin.post(f"{h.GROUPS}/{made['group']['id']}/start")
    assert started.status_code == 200, started.text
    import_file(admin, made["list"]["id"], FILE)

    dnc = runtime.handlers.suppression.create_list(
        account.id, CreateSuppressionList(name=h.unique("Internal DNC"), required=True)
    )
    added = runtime.handlers.suppression.add_entries(
        account.id, dnc.id, [EntryInput(kind="phone", value=SUPPRESSED_PHONE)]
    )
    assert not added.rejected
    settle_index(runtime, added.done.position)
    entry = runtime.suppression_index.lookup(
        [SuppressionQuery("voice", "phone", SUPPRESSED_PHONE)], [dnc.id]
    )[0][0].entry_id

    issued = runtime.handlers.accounts.issue_api_key(account.id, "dialability viewer", "viewer")
    assert runtime.wait(issued.position)
    return World(
        account=account,
        viewer=client_for(issued.secret),
        list_id=made["list"]["id"],
        group=made["group"],
        template_id=made["template"]["id"],
        suppression_list_id=dnc.id,
        entry_id=entry,
    )


# Dialable, and why not -----------------------------------------------------------------------


def test_a_record_inside_its_calling_hours_is_dialable_now(world: World) -> None:
    record = rid(world.list_id, "NY", 1)
    body = answer(world.viewer, record)
    assert body["dialable_now"] is True, body
    assert body["reasons"] == [] and body["next_allowed"] is None
    assert body["record_id"] == str(record)
    assert body["list_id"] == world.list_id
    assert (body["client_id"], body["chain_n"], body["contact_info"]) == ("NY", 1, "+12125550101")
    assert body["time_zone"] == "America/New_York" and body["channel"] == "voice"
    assert body["checked_at"] == "2026-03-10T13:00:00Z"
    assert body["groups"] == [
        {
            "campaign_group_id": world.group["id"],
            "name": world.group["name"],
            "status": "running",
            "allowed": True,
            "reasons": [],
            "next_allowed": None,
        }
    ]


def test_outside_the_calling_window_says_when_it_opens(world: World) -> None:
    body = answer(world.account.admin, rid(world.list_id, "NY", 2))
    assert (body["chain_n"], body["contact_info"], body["time_zone"]) == (
        2,
        "+12135550102",
        "America/Los_Angeles",
    )
    assert body["dialable_now"] is False
    assert codes(body["reasons"]) == ["outside_hours"]
    assert body["reasons"][0]["zone"] == "America/Los_Angeles"
    assert "06:00" in body["reasons"][0]["text"]
    assert body["next_allowed"] == LA_OPENS
    (group,) = body["groups"]
    assert group["allowed"] is False and group["next_allowed"] == LA_OPENS
    assert codes(group["reasons"]) == ["outside_hours"]


def test_a_required_suppression_list_blocks_with_no_end(world: World) -> None:
    body = answer(world.viewer, rid(world.list_id, "SUP"))
    assert body["dialable_now"] is False and body["next_allowed"] is None
    # The compliance processor made the record no call; the gate, judging it with its own
    # type, says which entry holds it back now.
    assert body["record_type"] == 7
    mark, reason = body["reasons"]
    assert mark["code"] == "marked_no_call" and mark["previous_type"] == 2
    assert mark["suppressions"] == [
        {
            "list_id": str(world.suppression_list_id),
            "list_name": reason["list_name"],
            "entry_id": str(world.entry_id),
            "kind": "phone",
            "value": SUPPRESSED_PHONE,
        }
    ]
    assert reason["code"] == "suppressed"
    assert reason["list_id"] == str(world.suppression_list_id)
    assert reason["entry_id"] == str(world.entry_id)
    assert reason["kind"] == "phone" and reason["required"] is True
    assert reason["list_name"].startswith("Internal DNC")
    assert SUPPRESSED_PHONE in reason["text"]
    assert body["groups"][0]["reasons"] == [mark, reason]


def test_record_type_no_call_is_never_dialled(world: World) -> None:
    body = answer(world.viewer, rid(world.list_id, "NOCALL"))
    assert body["dialable_now"] is False and body["next_allowed"] is None
    assert body["record_type"] == 7
    assert codes(body["reasons"]) == ["record_type_not_dialable"]
    assert "no call" in body["reasons"][0]["text"]


def test_the_suppression_index_not_answering_is_said_never_guessed(
    world: World, runtime: Runtime, gate: PreDialValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    class DownIndex(EmbeddedSuppressionIndex):
        def lookup(self, queries: Any, list_ids: Any) -> Matches:
            raise IndexUnavailable("Redis at 127.0.0.1:6390 is unreachable: Connection refused")

    down = PreDialValidator(DownIndex(), gate.lists, gate.settings, clock=lambda: NOW)
    monkeypatch.setattr(runtime, "predial", down)
    body = answer(world.viewer, rid(world.list_id, "NY", 1))
    assert body["dialable_now"] is False and body["next_allowed"] is None
    assert codes(body["reasons"]) == ["index_unavailable"]
    assert "Connection refused" in body["reasons"][0]["text"]
    assert body["groups"][0]["allowed"] is False


def test_without_a_gate_there_is_no_answer(
    world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "predial", None)
    h.assert_problem(dialability(world.viewer, rid(world.list_id, "NY", 1)), 503)


# The list and its campaign groups ------------------------------------------------------------


def test_a_list_in_no_campaign_group_is_dialled_by_nothing(world: World) -> None:
    admin = world.account.admin
    alone = h.contact_list(admin)
    import_file(admin, alone["id"], FILE)
    body = answer(world.viewer, rid(alone["id"], "NY", 2))
    assert body["dialable_now"] is False and body["next_allowed"] is None
    assert body["groups"] == []
    # The list-level reason first, then what the gate finds anyway.
    assert codes(body["reasons"]) == ["no_campaign_group", "outside_hours"]
    assert body["reasons"][0]["list_id"] == alone["id"]
    assert alone["name"] in body["reasons"][0]["text"]

    assert admin.delete(f"{h.LISTS}/{alone['id']}").status_code == 204
    archived = answer(world.viewer, rid(alone["id"], "NY", 1))
    assert archived["dialable_now"] is False and archived["next_allowed"] is None
    assert codes(archived["reasons"]) == ["list_archived"]


def test_a_group_that_is_not_running_dials_nothing(world: World) -> None:
    admin = world.account.admin
    contacts = h.contact_list(admin)
    loaded = h.group(admin, world.template_id, [contacts["id"]])
    import_file(admin, contacts["id"], FILE)

    body = answer(world.viewer, rid(contacts["id"], "NY", 1))
    assert body["dialable_now"] is False and body["next_allowed"] is None
    assert codes(body["reasons"]) == ["no_group_running"]
    assert body["reasons"][0]["campaign_group_ids"] == [loaded["id"]]
    assert "is loaded" in body["reasons"][0]["text"]
    (group,) = body["groups"]
    assert (group["status"], group["allowed"], group["next_allowed"]) == ("loaded", False, None)
    assert codes(group["reasons"]) == ["group_not_running"]

    # Outside hours too: both said, and no end (the group does not start by itself).
    la = answer(world.viewer, rid(contacts["id"], "NY", 2))
    assert codes(la["reasons"]) == ["no_group_running", "outside_hours"]
    assert la["next_allowed"] is None
    assert codes(la["groups"][0]["reasons"]) == ["group_not_running", "outside_hours"]

    for action in ("start", "pause"):
        assert admin.post(f"{h.GROUPS}/{loaded['id']}/{action}").status_code == 200
    paused = answer(world.viewer, rid(contacts["id"], "NY", 1))
    assert paused["groups"][0]["status"] == "paused"
    assert "is paused" in paused["reasons"][0]["text"]


def test_one_verdict_per_group_of_the_list(world: World) -> None:
    """The list in two groups: dialable now if one of them may dial it; ?campaign_group_id
    judges the record in one group."""
    admin = world.account.admin
    contacts = h.contact_list(admin)
    running = h.group(admin, world.template_id, [contacts["id"]], name=h.unique("A running"))
    paused = h.group(admin, world.template_id, [contacts["id"]], name=h.unique("B paused"))
    for group, actions in ((running, ("start",)), (paused, ("start", "pause"))):
        for action in actions:
            assert admin.post(f"{h.GROUPS}/{group['id']}/{action}").status_code == 200
    import_file(admin, contacts["id"], FILE)

    body = answer(world.viewer, rid(contacts["id"], "NY", 1))
    assert body["dialable_now"] is True and body["reasons"] == []
    assert [(g["campaign_group_id"], g["allowed"]) for g in body["groups"]] == [
        (running["id"], True),
        (paused["id"], False),
    ]
    assert codes(body["groups"][1]["reasons"]) == ["group_not_running"]

    # Not dialable in either: each reason once, those of one group only naming it.
    la = answer(world.viewer, rid(contacts["id"], "NY", 2))
    assert la["dialable_now"] is False
    assert codes(la["reasons"]) == ["outside_hours", "group_not_running"]
    assert "campaign_group_ids" not in la["reasons"][0], "outside hours blocks both groups"
    assert la["reasons"][1]["campaign_group_id"] == paused["id"]
    assert la["next_allowed"] == LA_OPENS, "the running group may dial it at 08:00 PDT"
    assert [g["next_allowed"] for g in la["groups"]] == [LA_OPENS, None]

    one = answer(world.viewer, rid(contacts["id"], "NY", 1), campaign_group_id=paused["id"])
    assert one["dialable_now"] is False
    assert [g["campaign_group_id"] for g in one["groups"]] == [paused["id"]]
    assert codes(one["reasons"]) == ["no_group_running"]


def test_a_group_that_does_not_dial_the_list(world: World) -> None:
    body = answer(world.viewer, rid(world.list_id, "NY", 1), campaign_group_id=_other_group(world))
    assert body["dialable_now"] is False and body["next_allowed"] is None
    assert codes(body["groups"][0]["reasons"]) == ["list_not_in_group"]
    assert codes(body["reasons"]) == ["list_not_in_group"]


def _other_group(world: World) -> str:
    admin = world.account.admin
    other = h.contact_list(admin)
    made = h.group(admin, world.template_id, [other["id"]])
    assert admin.post(f"{h.GROUPS}/{made['id']}/start").status_code == 200
    return str(made["id"])


# Not found ----------------------------------------------------------------------------------


def test_unknown_records_and_groups_are_404(world: World) -> None:
    h.assert_problem(dialability(world.viewer, uuid4()), 404, "record_id")
    h.assert_problem(dialability(world.viewer, "not-a-uuid"), 422, "record_id")
    missing = dialability(world.viewer, rid(world.list_id, "NY", 1), campaign_group_id=str(uuid4()))
    h.assert_problem(missing, 404, "campaign_group_id")
    # A position past the end of an existing chain is no record either.
    h.assert_problem(dialability(world.viewer, rid(world.list_id, "SUP", 2)), 404, "record_id")


def test_another_accounts_record_is_404(world: World, other_admin: httpx.Client) -> None:
    record = rid(world.list_id, "NY", 1)
    body = h.assert_problem(dialability(other_admin, record), 404, "record_id")
    assert body["detail"] == f"record {record} not found", "the same answer as a record that never was"
    group = dialability(other_admin, record, campaign_group_id=world.group["id"])
    h.assert_problem(group, 404, "record_id")


def test_a_deleted_chain_is_404_saying_so(world: World) -> None:
    admin = world.account.admin
    contacts = h.contact_list(admin)
    import_file(admin, contacts["id"], FILE)
    job = import_file(
        admin, contacts["id"], "client_id,phone\nKEPT,(212) 555-0150\n", append_type="flush_and_append"
    )
    record = rid(contacts["id"], "NY", 2)
    body = h.assert_problem(dialability(world.viewer, record), 404, "record_id")
    assert body["code"] == "chain_deleted" and body["title"] == "Record deleted"
    assert body["deletion_reason"] == "flush" and body["job_id"] == job["id"]
    assert (body["list_id"], body["client_id"], body["chain_n"]) == (contacts["id"], "NY", 2)
    assert body["deleted_at"].endswith("Z")
    assert "flush and append" in body["detail"] and "never dialled" in body["detail"]
    kept = answer(world.viewer, rid(contacts["id"], "KEPT"))
    assert kept["client_id"] == "KEPT"


def test_the_route_is_published(base_url: str) -> None:
    spec = httpx.get(f"{base_url}/openapi.json").json()
    operation = spec["paths"]["/api/v1/records/{record_id}/dialability"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"record_id", "campaign_group_id"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Dialability"}
    fields = spec["components"]["schemas"]["Dialability"]["properties"]
    assert {"record_id", "dialable_now", "checked_at", "next_allowed", "reasons", "groups"} <= set(fields)


# Records the compliance processor made no call -----------------------------------------------


def test_a_mark_from_an_expiring_entry_lifts_with_it(world: World, runtime: Runtime) -> None:
    admin = world.account.admin
    contacts = h.contact_list(admin)
    group = h.group(admin, world.template_id, [contacts["id"]])
    assert admin.post(f"{h.GROUPS}/{group['id']}/start").status_code == 200
    month = runtime.handlers.suppression.create_list(
        world.account.id,
        CreateSuppressionList(name=h.unique("For a month"), required=True, retention_days=30),
    )
    added = runtime.handlers.suppression.add_entries(
        world.account.id, month.id, [EntryInput(kind="phone", value="+12125550177")]
    )
    import_file(admin, contacts["id"], "client_id,phone\nEXP,(212) 555-0177\n")
    settle_index(runtime, max(added.done.position, runtime.store.position()))

    body = answer(world.viewer, rid(contacts["id"], "EXP"))
    assert body["dialable_now"] is False
    assert codes(body["reasons"]) == ["marked_no_call", "suppressed"]
    until = body["reasons"][1]["until"]
    assert until is not None, "an entry kept 30 days has an end"
    # The type comes back when the entry expires; the record is dialled at the next opening
    # of its calling window from then on.
    assert body["next_allowed"] is not None and body["next_allowed"] >= until
    assert body["groups"][0]["next_allowed"] == body["next_allowed"]


def test_a_mark_the_group_does_not_see_has_no_end(world: World, runtime: Runtime) -> None:
    """An optional list selected by one group makes the record no call for every group: in the
    other, the gate finds no entry, and the mark has no known end there."""
    admin = world.account.admin
    contacts = h.contact_list(admin)
    selecting = h.group(admin, world.template_id, [contacts["id"]], name=h.unique("A selects"))
    other = h.group(admin, world.template_id, [contacts["id"]], name=h.unique("B does not"))
    for group in (selecting, other):
        assert admin.post(f"{h.GROUPS}/{group['id']}/start").status_code == 200
    partner = runtime.handlers.suppression.create_list(
        world.account.id, CreateSuppressionList(name=h.unique("Partner DNC"), required=False)
    )
    runtime.handlers.suppression.add_entries(
        world.account.id, partner.id, [EntryInput(kind="phone", value="+12125550188")]
    )
    runtime.handlers.suppression.select_lists(world.account.id, UUID(selecting["id"]), [partner.id])
    import_file(admin, contacts["id"], "client_id,phone\nOPT,(212) 555-0188\n")
    settle_index(runtime, runtime.store.position())

    body = answer(world.viewer, rid(contacts["id"], "OPT"))
    assert body["dialable_now"] is False and body["next_allowed"] is None
    by_group = {g["campaign_group_id"]: g for g in body["groups"]}
    assert codes(by_group[selecting["id"]]["reasons"]) == ["marked_no_call", "suppressed"]
    assert codes(by_group[other["id"]]["reasons"]) == ["marked_no_call"]
    assert by_group[other["id"]]["next_allowed"] is None
    assert codes(body["reasons"]) == ["marked_no_call", "suppressed"]
    assert body["reasons"][1]["campaign_group_ids"] == [selecting["id"]]
    assert "campaign_group_ids" not in body["reasons"][0]


# The abandoned-call quiet hours, judged with the group's dialing mode ---------------------------

GB_FILE = "client_id,phone,country\nGB,+442071838750,GB\n"
GB_NUMBER = "+442071838750"


def test_a_group_that_reserves_its_agent_first_may_call_back_an_abandoned_number(
    world: World, runtime: Runtime, gate: PreDialValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GB rule (72 h) and the number's call abandoned an hour ago: a predictive group may not
    call it again, a progressive group that engages its agent first may (the rule's exception)."""

    def abandoned(account: UUID, devices: Sequence[str], after: datetime) -> dict[str, datetime]:
        return {GB_NUMBER: NOW - timedelta(hours=1)} if GB_NUMBER in devices else {}

    def settings(account: UUID) -> ComplianceSettings:
        return ComplianceSettings(regions={"GB": RegionCompliance(abandoned_quiet_hours=72)})

    judged = PreDialValidator(gate.index, gate.lists, settings, clock=lambda: NOW, abandoned=abandoned)
    monkeypatch.setattr(runtime, "predial", judged)
    admin = world.account.admin
    contacts = h.contact_list(admin)
    predictive = h.group(admin, world.template_id, [contacts["id"]], name=h.unique("A predictive"))
    engage = h.group(
        admin,
        world.template_id,
        [contacts["id"]],
        name=h.unique("B engages first"),
        dialing_overrides={"dialing_mode": "progressive_engage"},
    )
    for group in (predictive, engage):
        assert admin.post(f"{h.GROUPS}/{group['id']}/start").status_code == 200
    job = import_file(admin, contacts["id"], GB_FILE)
    assert job["counts"]["rejected"] == 0, job
    settle_index(runtime, runtime.store.position())

    body = answer(world.viewer, rid(contacts["id"], "GB"))
    by_group = {g["campaign_group_id"]: g for g in body["groups"]}
    assert by_group[predictive["id"]]["allowed"] is False
    assert codes(by_group[predictive["id"]]["reasons"]) == ["abandoned_recently"]
    assert by_group[engage["id"]]["allowed"] is True, by_group[engage["id"]]
    assert body["dialable_now"] is True, "the engaging group may dial it now"
