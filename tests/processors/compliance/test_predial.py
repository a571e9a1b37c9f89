"""Pre-dial validation at the edge: one index lookup per batch, each request judged against its
own account's settings and lists, and failing closed — an index that does not answer (a fake
that raises, the embedded index not built, a real Redis stopped in the middle of a run) denies
every request of the batch, and the same validator answers again once the index is back."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain import contact_rules
from domain.predial import Verdict
from processors.compliance.predial import PreDialRequest, PreDialValidator
from processors.suppression.embedded_index import EmbeddedSuppressionIndex
from processors.suppression.index import (
    IndexUnavailable,
    Matches,
    SuppressionEntry,
    SuppressionIndex,
    SuppressionQuery,
)
from processors.suppression.redis_index import RedisSuppressionIndex
from schemas.settings import (
    AttemptRuleSettings,
    CallingHours,
    ComplianceSettings,
    RegionCompliance,
    WeeklyHours,
)
from tests.redis import Server
from tests.redis import running as running_redis

NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)  # Tuesday 11:00 EDT, 15:00 GMT
NEW_YORK = "America/New_York"
ACCOUNT_A = UUID("0a000000-0000-4000-8000-00000000000a")
ACCOUNT_B = UUID("0a000000-0000-4000-8000-00000000000b")
GROUP = UUID("06000000-0000-4000-8000-000000000001")
DNC_A = UUID("00000000-0000-4000-8000-0000000000a1")  # account A, voice
SMS_A = UUID("00000000-0000-4000-8000-0000000000a2")  # account A, sms
EMAIL_A = UUID("00000000-0000-4000-8000-0000000000a3")  # account A, email
GROUP_A = UUID("00000000-0000-4000-8000-0000000000a4")  # account A, voice, the group's optional list
DNC_B = UUID("00000000-0000-4000-8000-0000000000b1")  # account B, voice

SUPPRESSED_PHONE = "+12125550100"
CLEAN_PHONE = "+12125550199"


def entry(list_id: UUID, channel: str, kind: str, value: str, expires_at: int | None = None) -> SuppressionEntry:
    return SuppressionEntry(list_id, channel, kind, value, uuid.uuid5(list_id, f"{kind}:{value}"), expires_at)  # type: ignore[arg-type]


ENTRIES = [
    entry(DNC_A, "voice", "phone", SUPPRESSED_PHONE),
    entry(DNC_A, "voice", "client_id", "CUST-7"),
    entry(DNC_A, "voice", "phone", "+12125550101", expires_at=int(NOW.timestamp()) - 1),  # expired
    entry(SMS_A, "sms", "phone", "+12125550102"),
    entry(EMAIL_A, "email", "email", "jane@example.com"),
    entry(GROUP_A, "voice", "phone", "+12125550103"),
    entry(DNC_B, "voice", "phone", "+12125550104"),
]


def lists(account_id: UUID, channel: str, group_id: UUID | None) -> list[UUID]:
    by_account = {
        (ACCOUNT_A, "voice"): [DNC_A],
        (ACCOUNT_A, "sms"): [SMS_A],
        (ACCOUNT_A, "email"): [EMAIL_A],
        (ACCOUNT_B, "voice"): [DNC_B],
    }
    found = list(by_account.get((account_id, channel), []))
    if account_id == ACCOUNT_A and channel == "voice" and group_id == GROUP:
        found.append(GROUP_A)
    return found


SETTINGS: dict[UUID, ComplianceSettings] = {
    ACCOUNT_A: ComplianceSettings(),
    # Account B: Sunday closed in Florida, and a holiday in Great Britain today.
    ACCOUNT_B: ComplianceSettings(
        regions={
            "US-FL": RegionCompliance(hours=WeeklyHours(daily=CallingHours(opens="08:00", closes="20:00"))),
            "GB": RegionCompliance(holidays=(NOW.date(),)),
        }
    ),
}


def settings(account_id: UUID) -> ComplianceSettings:
    return SETTINGS[account_id]


def request(**fields: Any) -> PreDialRequest:
    values: dict[str, Any] = {
        "account_id": ACCOUNT_A,
        "channel": "voice",
        "client_id": "CUST-1",
        "contact_info": CLEAN_PHONE,
        "contact_info_type": 1,
        "time_zone": NEW_YORK,
        "country": "US",
        "state": "NY",
    }
    values.update(fields)
    return PreDialRequest(**values)


class CountingIndex:
    """A suppression index that counts (and records) its lookups."""

    def __init__(self, inner: SuppressionIndex):
        self.inner = inner
        self.lookups: list[tuple[list[SuppressionQuery], set[UUID]]] = []

    def lookup(self, queries: Sequence[SuppressionQuery], list_ids: Collection[UUID]) -> Matches:
        self.lookups.append((list(queries), set(list_ids)))
        return self.inner.lookup(queries, list_ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class BrokenIndex(EmbeddedSuppressionIndex):
    def __init__(self, error: Exception):
        super().__init__()
        self.error = error
        self.calls = 0

    def lookup(self, queries: Sequence[SuppressionQuery], list_ids: Collection[UUID]) -> Matches:
        self.calls += 1
        raise self.error


@pytest.fixture
def embedded() -> EmbeddedSuppressionIndex:
    index = EmbeddedSuppressionIndex()
    index.clear()
    index.add(ENTRIES)
    return index


@pytest.fixture
def counting(embedded: EmbeddedSuppressionIndex) -> CountingIndex:
    return CountingIndex(embedded)


def validator(index: Any, **options: Any) -> PreDialValidator:
    return PreDialValidator(index, lists, settings, options.pop("attempts", None), lambda: NOW, **options)


def codes(verdict: Verdict) -> list[str]:
    return [reason.code for reason in verdict.reasons]


# --- one batch, one lookup -----------------------------------------------------------------


def test_a_clean_request_is_allowed(counting: CountingIndex) -> None:
    assert validator(counting).validate(request()) == Verdict(allowed=True, reasons=[], next_allowed=None)
    assert len(counting.lookups) == 1


def test_a_batch_asks_the_index_once_for_every_query_of_every_request(counting: CountingIndex) -> None:
    batch = [
        request(contact_info=SUPPRESSED_PHONE),  # phone on A's list
        request(client_id="CUST-7"),  # client id on A's list
        request(contact_info="+12125550101"),  # expired entry
        request(channel="sms", contact_info="+12125550102", contact_info_type=4),
        request(channel="email", contact_info="Jane@Example.com", contact_info_type=10),
        request(contact_info="+12125550103"),  # on the group's list, but no group given
        request(contact_info="+12125550103", campaign_group_id=GROUP),
        request(contact_info="+12125550104"),  # on B's list only
        request(account_id=ACCOUNT_B, contact_info="+12125550104", client_id=""),
        request(account_id=ACCOUNT_B, contact_info=SUPPRESSED_PHONE, client_id="CUST-7"),  # A's entries
        request(),
        request(),
    ]
    verdicts = validator(counting).validate_many(batch)

    assert len(counting.lookups) == 1
    queries, list_ids = counting.lookups[0]
    assert list_ids == {DNC_A, SMS_A, EMAIL_A, GROUP_A, DNC_B}
    assert len(queries) == len(set(queries))  # the same query once
    assert SuppressionQuery("email", "email", "jane@example.com") in queries
    assert [v.allowed for v in verdicts] == [
        False, False, True, False, False, True, False, True, False, True, True, True,
    ]
    denied = [(codes(v), [(r.list_id, r.kind) for r in v.reasons]) for v in verdicts if not v.allowed]
    assert denied == [
        (["suppressed"], [(DNC_A, "phone")]),
        (["suppressed"], [(DNC_A, "client_id")]),
        (["suppressed"], [(SMS_A, "phone")]),
        (["suppressed"], [(EMAIL_A, "email")]),
        (["suppressed"], [(GROUP_A, "phone")]),
        (["suppressed"], [(DNC_B, "phone")]),
    ]
    first = verdicts[0].reasons[0]
    assert first.entry_id == uuid.uuid5(DNC_A, f"phone:{SUPPRESSED_PHONE}")
    assert str(DNC_A) in first.text and str(first.entry_id) in first.text


def test_phone_and_client_id_both_match_as_two_reasons(counting: CountingIndex) -> None:
    verdict = validator(counting).validate(request(contact_info=SUPPRESSED_PHONE, client_id="CUST-7"))
    assert codes(verdict) == ["suppressed", "suppressed"]
    assert {r.kind for r in verdict.reasons} == {"phone", "client_id"}
    assert verdict.next_allowed is None  # permanent entries


def test_each_account_has_its_own_calling_rules(counting: CountingIndex) -> None:
    verdicts = validator(counting).validate_many([
        request(account_id=ACCOUNT_B, time_zone="Europe/London", country="GB", state=""),
        request(account_id=ACCOUNT_A, time_zone="Europe/London", country="GB", state=""),
        request(account_id=ACCOUNT_B, time_zone="Pacific/Honolulu", country="US", state="HI"),  # 05:00 HST
    ])
    assert codes(verdicts[0]) == ["holiday"]
    assert verdicts[0].reasons[0].region == "GB"
    assert verdicts[0].next_allowed == datetime(2026, 3, 11, 8, tzinfo=UTC)  # Wednesday 08:00 GMT
    assert verdicts[1].allowed
    assert codes(verdicts[2]) == ["outside_hours"]
    assert verdicts[2].next_allowed == datetime(2026, 3, 10, 18, tzinfo=UTC)  # 08:00 HST
    assert len(counting.lookups) == 1


def test_record_checks_and_callbacks(counting: CountingIndex) -> None:
    later = int((NOW + timedelta(hours=3)).timestamp())
    verdicts = validator(counting).validate_many([
        request(record_type=7),
        request(record_status=2),
        request(record_type=5, dial_sched_time=later),
        request(record_type=6, dial_sched_time=int(NOW.timestamp()) - 60),
        request(record_type=6, dial_sched_time=int(NOW.timestamp()) - 60, contact_info=SUPPRESSED_PHONE),
    ])
    assert [codes(v) for v in verdicts] == [
        ["record_type_not_dialable"],
        ["record_status_not_ready"],
        ["scheduled_later"],
        [],
        ["suppressed"],
    ]
    assert verdicts[2].next_allowed == NOW + timedelta(hours=3)


def test_an_empty_batch_asks_nothing(counting: CountingIndex) -> None:
    assert validator(counting).validate_many([]) == []
    assert counting.lookups == []


def test_an_invalid_request_is_denied_and_the_others_answered(counting: CountingIndex) -> None:
    verdicts = validator(counting).validate_many([
        request(contact_info="212-555-0100"),
        request(time_zone="Mars/Olympus_Mons"),
        request(account_id=None),
        request(channel="email", contact_info=CLEAN_PHONE),
        request(),
    ])
    assert [codes(v) for v in verdicts] == [["invalid_request"]] * 4 + [[]]
    assert verdicts[0].reasons[0].text.startswith("contact_info: ")
    assert verdicts[1].reasons[0].text.startswith("time_zone: ")
    assert len(counting.lookups) == 1


# --- fail closed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [IndexUnavailable("Redis at 127.0.0.1:1 did not answer within 50 ms"), RuntimeError("boom")],
    ids=["unavailable", "unexpected"],
)
def test_an_index_that_does_not_answer_denies_the_whole_batch(error: Exception) -> None:
    index = BrokenIndex(error)
    checker = validator(index)
    batch = [request(), request(account_id=ACCOUNT_B), request(channel="email", contact_info="a@b.example",
                                                               contact_info_type=10), request(record_type=7)]
    verdicts = checker.validate_many(batch)

    assert index.calls == 1
    assert not any(v.allowed for v in verdicts)
    for verdict in verdicts:
        assert verdict.reasons[0].code == "index_unavailable"
        assert "fail closed" in verdict.reasons[0].text
        assert str(error) in verdict.reasons[0].text
        assert verdict.next_allowed is None
    assert codes(verdicts[3]) == ["index_unavailable", "record_type_not_dialable"]
    assert checker.counters() == {
        "predial_total": 4, "predial_denied_total": 4, "predial_index_unavailable_total": 4,
    }
    assert checker.predial_index_unavailable_total.value == 4

    single = checker.validate(request())
    assert codes(single) == ["index_unavailable"]
    assert checker.predial_index_unavailable_total.value == 5


def test_an_embedded_index_never_built_denies() -> None:
    verdict = validator(EmbeddedSuppressionIndex()).validate(request())
    assert codes(verdict) == ["index_unavailable"]
    assert "not built" in verdict.reasons[0].text


def test_settings_that_cannot_be_read_deny_that_account_only(counting: CountingIndex) -> None:
    def flaky(account_id: UUID) -> ComplianceSettings:
        if account_id == ACCOUNT_B:
            raise ConnectionError("catalogue down")
        return settings(account_id)

    checker = PreDialValidator(counting, lists, flaky, clock=lambda: NOW)
    verdicts = checker.validate_many([request(account_id=ACCOUNT_B), request(), request(account_id=ACCOUNT_B)])
    assert [codes(v) for v in verdicts] == [["settings_unavailable"], [], ["settings_unavailable"]]
    assert "catalogue down" in verdicts[0].reasons[0].text
    assert checker.counters() == {
        "predial_total": 3, "predial_denied_total": 2, "predial_index_unavailable_total": 0,
    }


def test_invalid_stored_settings_deny(counting: CountingIndex) -> None:
    bad = ComplianceSettings(regions={"florida": RegionCompliance()})
    checker = PreDialValidator(counting, lists, lambda _: bad, clock=lambda: NOW)
    verdict = checker.validate(request())
    assert codes(verdict) == ["settings_unavailable"]
    assert "regions.florida" in verdict.reasons[0].text


def test_changed_settings_apply_from_the_next_validation(counting: CountingIndex) -> None:
    """The rules of an account's settings are worked out once per settings object read, so a
    change (a new object from the port) applies at once."""
    current = {"settings": SETTINGS[ACCOUNT_B]}
    checker = PreDialValidator(counting, lists, lambda _: current["settings"], clock=lambda: NOW)
    london = request(account_id=ACCOUNT_B, time_zone="Europe/London", country="GB", state="")
    assert codes(checker.validate(london)) == ["holiday"]
    assert codes(checker.validate(london)) == ["holiday"]
    current["settings"] = ComplianceSettings()
    assert checker.validate(london).allowed


def test_lists_that_cannot_be_read_deny(counting: CountingIndex) -> None:
    def broken(account_id: UUID, channel: str, group_id: UUID | None) -> list[UUID]:
        raise TimeoutError("hierarchy projection timed out")

    verdict = PreDialValidator(counting, broken, settings, clock=lambda: NOW).validate(request())
    assert codes(verdict) == ["suppression_lists_unavailable"]


# --- attempt rules -------------------------------------------------------------------------

RULED = ComplianceSettings(
    attempt_rules=(
        AttemptRuleSettings(name="two in 4 h", max_attempts=2, by="device", in_last_hours=4),
        AttemptRuleSettings(
            name="one a day for Sales", max_attempts=1, required=False, campaign_groups=("Sales",)
        ),
    )
)


def test_attempt_rules_that_apply_without_a_history_deny(counting: CountingIndex) -> None:
    verdict = PreDialValidator(counting, lists, lambda _: RULED, clock=lambda: NOW).validate(request())
    assert codes(verdict) == ["attempt_history_unavailable"]


def test_attempt_rules_count_the_history(counting: CountingIndex) -> None:
    asked: list[tuple[UUID, str, str, datetime]] = []

    def attempts(account_id: UUID, client_id: str, device: str, since: datetime) -> contact_rules.AttemptHistory:
        asked.append((account_id, client_id, device, since))
        if device == SUPPRESSED_PHONE:
            return contact_rules.AttemptHistory(device=(NOW - timedelta(hours=3), NOW - timedelta(hours=1)))
        return contact_rules.AttemptHistory(client_id=(NOW - timedelta(hours=1),))

    checker = PreDialValidator(
        counting, lists, lambda _: RULED, attempts, lambda: NOW,
        group_names=lambda account_id, group_id: "Sales" if group_id == GROUP else None,
    )
    verdicts = checker.validate_many([
        request(),
        request(campaign_group_id=GROUP),
        request(contact_info=SUPPRESSED_PHONE, client_id=""),
    ])
    assert codes(verdicts[0]) == []
    assert codes(verdicts[1]) == ["attempts_today"]
    assert verdicts[1].reasons[0].rule == "one a day for Sales"
    assert codes(verdicts[2]) == ["suppressed", "attempts_in_hours"]
    assert verdicts[2].reasons[1].until == NOW + timedelta(hours=1)
    assert asked[0] == (ACCOUNT_A, "CUST-1", CLEAN_PHONE, NOW - timedelta(hours=4))
    assert asked[1][3] == datetime(2026, 3, 10, 4, tzinfo=UTC)  # today's local midnight comes first


def test_an_attempt_history_that_fails_denies(counting: CountingIndex) -> None:
    def attempts(*_: Any) -> contact_rules.AttemptHistory:
        raise OSError("attempt log unreachable")

    verdict = PreDialValidator(counting, lists, lambda _: RULED, attempts, lambda: NOW).validate(request())
    assert codes(verdict) == ["attempt_history_unavailable"]
    assert "attempt log unreachable" in verdict.reasons[0].text


# --- an abandoned call ----------------------------------------------------------------------

LONDON = "Europe/London"
GB_PHONE = "+441632960123"
GB_OTHER = "+441632960999"
UK_RULE = ComplianceSettings(
    regions={"GB": RegionCompliance(abandoned_quiet_hours=72), "IE": RegionCompliance(abandoned_quiet_hours=24)}
)


def gb(**fields: Any) -> PreDialRequest:
    values: dict[str, Any] = {"contact_info": GB_PHONE, "time_zone": LONDON, "country": "GB", "state": ""}
    values.update(fields)
    return request(**values)


class Abandons:
    """An abandoned-calls port over a fixed log of abandons; records what it was asked."""

    def __init__(self, log: dict[str, list[datetime]]):
        self.log = log
        self.asked: list[tuple[UUID, list[str], datetime]] = []

    def __call__(self, account_id: UUID, devices: Sequence[str], after: datetime) -> dict[str, datetime]:
        self.asked.append((account_id, list(devices), after))
        found = {device: [t for t in self.log.get(device, []) if t > after] for device in devices}
        return {device: max(times) for device, times in found.items() if times}


def test_a_device_abandoned_within_the_quiet_hours_is_denied_unless_an_agent_is_reserved(
    counting: CountingIndex,
) -> None:
    abandons = Abandons({GB_PHONE: [NOW - timedelta(hours=80), NOW - timedelta(hours=2)]})
    checker = PreDialValidator(counting, lists, lambda _: UK_RULE, clock=lambda: NOW, abandoned=abandons)
    verdicts = checker.validate_many([
        gb(),
        gb(agent_reserved=True),
        gb(contact_info=GB_OTHER),
        gb(channel="sms", contact_info_type=4),
        request(contact_info=GB_PHONE),  # a US contact: no region of it sets the rule
    ])
    assert [codes(v) for v in verdicts] == [["abandoned_recently"], [], [], [], []]
    assert verdicts[0].next_allowed == NOW + timedelta(hours=70)  # the last abandon counts
    assert verdicts[0].reasons[0].region == "GB"
    # One question for the batch: only the devices the rule applies to, back 72 h.
    assert abandons.asked == [(ACCOUNT_A, [GB_PHONE, GB_OTHER], NOW - timedelta(hours=72))]


def test_the_lookup_reaches_back_the_longest_quiet_hours_of_the_batch(counting: CountingIndex) -> None:
    abandons = Abandons({GB_PHONE: [NOW - timedelta(hours=30)], GB_OTHER: [NOW - timedelta(hours=30)]})
    checker = PreDialValidator(counting, lists, lambda _: UK_RULE, clock=lambda: NOW, abandoned=abandons)
    ireland = gb(contact_info=GB_OTHER, country="IE", time_zone="Europe/Dublin")
    assert [codes(v) for v in checker.validate_many([ireland])] == [[]]  # 30 h ago: past Ireland's 24 h
    assert abandons.asked[-1][2] == NOW - timedelta(hours=24)
    verdicts = checker.validate_many([ireland, gb()])
    assert [codes(v) for v in verdicts] == [[], ["abandoned_recently"]]
    assert abandons.asked[-1] == (ACCOUNT_A, [GB_PHONE, GB_OTHER], NOW - timedelta(hours=72))
    assert len(abandons.asked) == 2


def test_no_lookup_when_the_rule_applies_to_no_request(counting: CountingIndex) -> None:
    abandons = Abandons({GB_PHONE: [NOW]})
    checker = PreDialValidator(counting, lists, lambda _: UK_RULE, clock=lambda: NOW, abandoned=abandons)
    assert checker.validate_many([gb(agent_reserved=True), request()])[0].allowed
    assert abandons.asked == []


def test_abandoned_calls_that_cannot_be_read_deny_where_the_rule_applies(counting: CountingIndex) -> None:
    def broken(account_id: UUID, devices: Sequence[str], after: datetime) -> dict[str, datetime]:
        raise TimeoutError("views database timed out")

    checker = PreDialValidator(counting, lists, lambda _: UK_RULE, clock=lambda: NOW, abandoned=broken)
    verdicts = checker.validate_many([gb(), gb(agent_reserved=True), request()])
    assert [codes(v) for v in verdicts] == [["attempt_history_unavailable"], [], []]
    assert "views database timed out" in verdicts[0].reasons[0].text
    assert verdicts[0].next_allowed is None

    unwired = PreDialValidator(counting, lists, lambda _: UK_RULE, clock=lambda: NOW)
    verdicts = unwired.validate_many([gb(), gb(agent_reserved=True)])
    assert [codes(v) for v in verdicts] == [["attempt_history_unavailable"], []]
    assert "no attempt history is configured" in verdicts[0].reasons[0].text


def test_quiet_hours_out_of_bounds_in_stored_settings_deny(counting: CountingIndex) -> None:
    bad = ComplianceSettings(regions={"GB": RegionCompliance(abandoned_quiet_hours=0)})
    verdict = PreDialValidator(counting, lists, lambda _: bad, clock=lambda: NOW).validate(gb())
    assert codes(verdict) == ["settings_unavailable"]
    assert "regions.GB.abandoned_quiet_hours" in verdict.reasons[0].text


# --- counters ------------------------------------------------------------------------------


def test_counters_are_safe_across_threads(embedded: EmbeddedSuppressionIndex) -> None:
    checker = validator(embedded)
    batch = [request(), request(contact_info=SUPPRESSED_PHONE)]

    def run() -> None:
        for _ in range(50):
            checker.validate_many(batch)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert checker.counters() == {
        "predial_total": 800, "predial_denied_total": 400, "predial_index_unavailable_total": 0,
    }


def test_requests_decode_strictly() -> None:
    raw = msgspec.json.encode({"contact_info": CLEAN_PHONE, "time_zone": NEW_YORK, "channel": "fax"})
    with pytest.raises(msgspec.ValidationError, match="channel"):
        msgspec.json.decode(raw, type=PreDialRequest)
    raw = msgspec.json.encode({"contact_info": CLEAN_PHONE, "time_zone": NEW_YORK, "agent_reserved": "yes"})
    with pytest.raises(msgspec.ValidationError, match="agent_reserved"):
        msgspec.json.decode(raw, type=PreDialRequest)
    raw = msgspec.json.encode({"contact_info": CLEAN_PHONE, "time_zone": NEW_YORK})
    assert msgspec.json.decode(raw, type=PreDialRequest).agent_reserved is False


# --- a real Redis --------------------------------------------------------------------------


def redis_index(url: str, prefix: str) -> RedisSuppressionIndex:
    # Production timeouts: 50 ms lookups.
    return RedisSuppressionIndex(url, prefix=prefix, buckets=64)


@pytest.fixture
def own_redis() -> Iterator[Server]:
    """A server of this test's own, to stop and start (tests/conftest.py: fault tests do not
    stop the session's shared server)."""
    with running_redis() as server:
        yield server


@pytest.mark.integration
def test_against_redis_a_batch_is_one_round_trip(redis_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    from redis.connection import Connection

    index = redis_index(redis_server.url, f"test:{uuid.uuid4().hex}:")
    try:
        index.clear()
        index.add(ENTRIES)
        checker = validator(index)
        batch = [request(contact_info=SUPPRESSED_PHONE), request(), request(account_id=ACCOUNT_B, client_id="CUST-7")]
        assert [v.allowed for v in checker.validate_many(batch)] == [False, True, True]  # connected now
        sent: list[int] = []
        original = Connection.send_packed_command

        def counting(self: Connection, command: object, check_health: bool = True) -> None:
            sent.append(1)
            original(self, command, check_health)

        monkeypatch.setattr(Connection, "send_packed_command", counting)
        verdicts = checker.validate_many(batch * 20)
        assert len(sent) == 1
        assert [v.allowed for v in verdicts] == [False, True, True] * 20
    finally:
        index.clear()
        index.close()


@pytest.mark.integration
def test_redis_stopped_in_a_run_denies_every_answer_and_recovers(own_redis: Server) -> None:
    index = redis_index(own_redis.url, "dialstream:suppression:")
    index.clear()
    index.add(ENTRIES)
    checker = validator(index)
    batch = [request(), request(contact_info=SUPPRESSED_PHONE), request(account_id=ACCOUNT_B)]
    expected = [True, False, True]
    stopped_at = 10
    answers: list[list[Verdict]] = []
    try:
        for run in range(20):
            if run == stopped_at:
                own_redis.stop()
            started = time.monotonic()
            answers.append(checker.validate_many(batch))
            assert time.monotonic() - started < 1.0, f"run {run} took too long"

        for run, verdicts in enumerate(answers):
            if run < stopped_at:
                assert [v.allowed for v in verdicts] == expected, run
            else:
                assert not any(v.allowed for v in verdicts), run
                for verdict in verdicts:
                    assert verdict.reasons[0].code == "index_unavailable"
                    assert "unreachable" in verdict.reasons[0].text
                    assert verdict.next_allowed is None
        down = (20 - stopped_at) * len(batch)
        assert checker.predial_index_unavailable_total.value == down
        assert checker.predial_total.value == 20 * len(batch)
        assert checker.predial_denied_total.value == down + stopped_at

        own_redis.start()  # same port, same data: the same validator answers again
        verdicts = checker.validate_many(batch)
        assert [v.allowed for v in verdicts] == expected
        assert verdicts[1].reasons[0].code == "suppressed"
        assert checker.validate(request()).allowed
        assert checker.predial_index_unavailable_total.value == down
    finally:
        index.close()
