"""Pre-dial validation at the edge: the one function the dialer calls before every attempt.

:class:`PreDialValidator` gathers what :func:`domain.predial.decide` needs — the account's
compliance settings, the suppression lists the campaign must respect, the matching entries
from the suppression index, the calling window, the attempt history — and answers a
:class:`~domain.predial.Verdict` per request.

It **fails closed**: a question it cannot get answered is a reason to deny, never to allow.

- :meth:`~PreDialValidator.validate_many` asks the suppression index **once** for the whole
  batch: every phone number, client id and e-mail address of every request, against the
  union of their lists (each request then keeps the matches of its own lists). If the index
  cannot answer (:class:`~processors.suppression.index.IndexUnavailable`: Redis down, too
  slow, not built — or anything else going wrong in the lookup) every verdict of the batch
  is a denial with the reason ``index_unavailable``, whose text is the index's own account
  of the cause (unreachable, too slow, not built, being rebuilt); the next call asks again,
  so the answers recover by themselves when the index is back.
- The settings, lists, attempts and group-name ports are asked once per account (or per
  account, channel and group) per batch; one that fails denies the requests that needed it
  (``settings_unavailable``, ``suppression_lists_unavailable``,
  ``attempt_history_unavailable``). An attempt rule that applies while no attempt history is
  configured denies too: a rule that cannot be counted is not assumed kept.
- The abandoned-call rule (a region's ``abandoned_quiet_hours``, the UK's 72 h): the
  ``abandoned`` port is asked **once per account per batch** for the last abandoned call of
  every device the rule applies to (voice requests without ``agent_reserved``, in a region
  that sets it), as far back as the longest quiet hours among them. A port that fails, or
  none configured while the rule applies, denies those requests with
  ``attempt_history_unavailable``; requests the rule does not apply to never wait for it.
- A request that is not well formed (:meth:`PreDialRequest.check`) is denied with
  ``invalid_request``; the HTTP route refuses it with 422 before it gets here.

Counters (:class:`Counter`, thread-safe): ``predial_total`` verdicts given,
``predial_denied_total`` of them denials, ``predial_index_unavailable_total`` denials
because the suppression index did not answer (one per request of a failed batch).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from dialstream.clock import utc_now
from domain import calling_windows as windows
from domain import contact_rules
from domain.codes import ContactInfoType
from domain.errors import RuleViolation
from domain.predial import (
    AbandonedCall,
    AbandonedCallRule,
    QuietHours,
    Reason,
    ReasonCode,
    RecordView,
    Verdict,
    abandoned_quiet_hours,
    compliance_rules,
    decide,
    deny,
    rules_for_group,
)
from domain.zones import ensure_zone
from processors.suppression.index import (
    IndexUnavailable,
    Kind,
    SuppressionEntry,
    SuppressionIndex,
    SuppressionQuery,
    normalise_value,
)
from schemas.profiles import Channel
from schemas.settings import ComplianceSettings

log = logging.getLogger(__name__)

DAY = 86_400
ZoneName = Annotated[str, Meta(min_length=1, max_length=64)]

ListsPort = Callable[[UUID, str, UUID | None], list[UUID]]
SettingsPort = Callable[[UUID], ComplianceSettings]
# (account, client id, device, attempts from this instant on) -> the history of both keys
AttemptsPort = Callable[[UUID, str, str, datetime], contact_rules.AttemptHistory]
# (account, campaign group) -> its name, for optional attempt rules that name groups by name
GroupNamesPort = Callable[[UUID, UUID], str | None]
# (account, devices, abandoned after this instant) -> the last abandoned call of each device
# that had one
AbandonedPort = Callable[[UUID, Sequence[str], datetime], Mapping[str, datetime]]


class PreDialRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One attempt the dialer is about to make: the record's fields, the contact's region.

    ``contact_info`` is an E.164 number on the voice and SMS channels, an e-mail address on
    the e-mail channel. ``account_id`` may be left out over HTTP (the API key's account).
    ``agent_reserved``: an agent is reserved for this call before it is placed
    (engage-agent-first), so a live answer cannot be abandoned; the abandoned-call rule
    (a region's ``abandoned_quiet_hours``) then does not hold the call back.
    """

    account_id: UUID | None = None
    campaign_group_id: UUID | None = None
    channel: Channel = "voice"
    client_id: Annotated[str, Meta(max_length=200)] = ""
    contact_info: Annotated[str, Meta(min_length=1, max_length=254)]
    contact_info_type: Annotated[int, Meta(ge=0, le=10)] = 0
    record_type: Annotated[int, Meta(ge=0, le=7)] = 2
    record_status: Annotated[int, Meta(ge=0, le=9)] = 1
    dial_sched_time: Annotated[int, Meta(ge=0)] | None = None  # UTC epoch seconds
    daily_from: Annotated[int, Meta(ge=0, le=DAY)] | None = None  # seconds since local midnight
    daily_till: Annotated[int, Meta(ge=0, le=DAY)] | None = None
    time_zone: ZoneName
    second_time_zone: ZoneName | None = None
    country: Annotated[str, Meta(max_length=8)] = ""  # ISO 3166-1 alpha-2; "UK", "USA" read too
    state: Annotated[str, Meta(max_length=16)] = ""  # "FL" or "US-FL"
    agent_reserved: bool = False  # an agent is reserved for this call before it is placed

    def check(self) -> windows.Target:
        """The contact's calling-window target; :class:`RuleViolation` names the first
        field that is wrong."""
        if self.account_id is None:
            raise RuleViolation("the account is missing", field="account_id")
        if self.channel == "email":
            if self.contact_info_type not in (ContactInfoType.NO_CONTACT_TYPE, ContactInfoType.EMAIL):
                raise RuleViolation(
                    f"contact_info_type {self.contact_info_type} is a phone; the e-mail channel "
                    f"sends to e-mail addresses (10)",
                    field="contact_info_type",
                )
            _value("email", self.contact_info, "contact_info")
        else:
            if self.contact_info_type == ContactInfoType.EMAIL:
                raise RuleViolation(
                    f"contact_info_type 10 is an e-mail address; the {self.channel} channel needs a phone",
                    field="contact_info_type",
                )
            _value("phone", self.contact_info, "contact_info")
        if self.client_id:
            _value("client_id", self.client_id, "client_id")
        return self.target()

    def target(self) -> windows.Target:
        ensure_zone(self.time_zone, "time_zone")
        if self.second_time_zone is not None:
            ensure_zone(self.second_time_zone, "second_time_zone")
        return windows.Target(
            time_zone=self.time_zone,
            second_time_zone=self.second_time_zone,
            country=self.country,
            state=self.state,
            daily_from=self.daily_from,
            daily_till=self.daily_till,
        )

    def record(self) -> RecordView:
        return RecordView(self.record_type, self.record_status, self.dial_sched_time)

    @property
    def device(self) -> str:
        """The device as the index and the attempt history know it."""
        return self.contact_info.lower() if self.channel == "email" else self.contact_info

    def queries(self) -> list[SuppressionQuery]:
        """What to ask the index: the device, and the client id if there is one."""
        kind: Kind = "email" if self.channel == "email" else "phone"
        found = [SuppressionQuery(self.channel, kind, self.contact_info)]
        if self.client_id:
            found.append(SuppressionQuery(self.channel, "client_id", self.client_id))
        return found


def _value(kind: str, value: str, field: str) -> None:
    try:
        normalise_value(kind, value)
    except ValueError as error:
        detail = str(error).removeprefix("value: ")
        raise RuleViolation(detail, field=field) from error


class Counter:
    """A monotonically increasing count, safe to increment from many threads."""

    def __init__(self, name: str):
        self.name = name
        self._value = 0
        self._lock = threading.Lock()

    def inc(self, amount: int = 1) -> None:
        with self._lock:
            self._value += amount

    @property
    def value(self) -> int:
        with self._lock:
            return self._value

    def __repr__(self) -> str:
        return f"Counter({self.name}={self.value})"


@dataclass
class _Account:
    """What a batch needs of one account, asked once."""

    calling: windows.CallingRules | None = None
    attempt_rules: list[contact_rules.AttemptRule] | None = None
    abandoned: AbandonedCallRule | None = None
    problem: Reason | None = None


@dataclass
class _Pending:
    """A request that got as far as the index lookup."""

    request: PreDialRequest
    account: _Account
    target: windows.Target
    list_ids: frozenset[UUID]
    queries: list[int]  # indexes into the batch's queries
    unavailable: list[Reason]
    quiet: QuietHours | None = None  # the abandoned-call rule's hours, when it applies


class PreDialValidator:
    """Answers "may the dialer make this attempt now?" — fail closed."""

    def __init__(
        self,
        index: SuppressionIndex,
        lists: ListsPort,
        settings: SettingsPort,
        attempts: AttemptsPort | None = None,
        clock: Callable[[], datetime] = utc_now,
        *,
        group_names: GroupNamesPort | None = None,
        horizon: timedelta = windows.DEFAULT_HORIZON,
        abandoned: AbandonedPort | None = None,
    ):
        self.index = index
        self.lists = lists
        self.settings = settings
        self.attempts = attempts
        self.clock = clock
        self.group_names = group_names
        self.horizon = horizon
        self.abandoned = abandoned
        self.predial_total = Counter("predial_total")
        self.predial_denied_total = Counter("predial_denied_total")
        self.predial_index_unavailable_total = Counter("predial_index_unavailable_total")
        # The rules of each account's settings as last read: worked out again only when the
        # settings port hands over another object (it keeps the object while they are unchanged).
        self._rules: dict[UUID, tuple[ComplianceSettings, _Account]] = {}

    def counters(self) -> dict[str, int]:
        return {
            counter.name: counter.value
            for counter in (self.predial_total, self.predial_denied_total, self.predial_index_unavailable_total)
        }

    def validate(self, request: PreDialRequest) -> Verdict:
        return self.validate_many([request])[0]

    def validate_many(self, requests: Sequence[PreDialRequest]) -> list[Verdict]:
        """One verdict per request, in order; one index lookup for the whole batch."""
        if not requests:
            return []
        now = self.clock().astimezone(UTC)
        verdicts: list[Verdict | None] = [None] * len(requests)
        accounts: dict[UUID, _Account] = {}
        lists: dict[tuple[UUID, str, UUID | None], list[UUID] | Reason] = {}
        queries: dict[SuppressionQuery, int] = {}
        pending: dict[int, _Pending] = {}

        for position, request in enumerate(requests):
            try:
                target = request.check()
            except RuleViolation as problem:
                verdicts[position] = deny(
                    Reason(code="invalid_request", text=f"{problem.field}: {problem.detail}")
                )
                continue
            assert request.account_id is not None  # check() says so
            account = accounts.get(request.account_id)
            if account is None:
                account = accounts[request.account_id] = self._account(request.account_id)
            unavailable: list[Reason] = []
            if account.problem is not None:
                unavailable.append(account.problem)
            key = (request.account_id, request.channel, request.campaign_group_id)
            if key not in lists:
                lists[key] = self._lists(*key)
            found = lists[key]
            if isinstance(found, Reason):
                unavailable.append(found)
                list_ids: frozenset[UUID] = frozenset()
            else:
                list_ids = frozenset(found)
            slots = [queries.setdefault(query, len(queries)) for query in request.queries()]
            quiet = None
            if account.abandoned is not None:
                quiet = abandoned_quiet_hours(
                    account.abandoned, target, channel=request.channel, agent_reserved=request.agent_reserved
                )
            pending[position] = _Pending(request, account, target, list_ids, slots, unavailable, quiet)

        matches, index_problem = self._lookup(list(queries), list(pending.values()))
        abandons = self._abandons(pending.values(), now)
        # A batch's records share a few zones and regions: each window is checked once.
        windows_seen: dict[tuple[UUID, windows.Target], windows.WindowVerdict] = {}
        for position, item in pending.items():
            verdicts[position] = self._verdict(item, matches, index_problem, abandons, now, windows_seen)

        answered = [verdict for verdict in verdicts if verdict is not None]
        assert len(answered) == len(requests)
        denied = sum(1 for verdict in answered if not verdict.allowed)
        self.predial_total.inc(len(answered))
        self.predial_denied_total.inc(denied)
        if index_problem is not None:
            self.predial_index_unavailable_total.inc(len(pending))
        return answered

    # -- the ports ------------------------------------------------------------------------

    def _account(self, account_id: UUID) -> _Account:
        try:
            settings = self.settings(account_id)
        except Exception as error:  # any failure is "no answer": deny
            log.warning("pre-dial: compliance settings of account %s unavailable: %r", account_id, error)
            return _Account(problem=_unavailable("settings_unavailable", "compliance settings", error))
        kept = self._rules.get(account_id)
        if kept is not None and kept[0] is settings:
            return kept[1]
        try:
            calling, rules, abandoned = compliance_rules(settings)
        except RuleViolation as error:
            text = f"the account's compliance settings are invalid at {error.field}: {error.detail}"
            account = _Account(problem=Reason(code="settings_unavailable", text=f"{text}; no call"))
        else:
            account = _Account(calling=calling, attempt_rules=rules, abandoned=abandoned)
        self._rules[account_id] = (settings, account)
        return account

    def _lists(self, account_id: UUID, channel: str, group_id: UUID | None) -> list[UUID] | Reason:
        try:
            return list(self.lists(account_id, channel, group_id))
        except Exception as error:
            log.warning("pre-dial: suppression lists of account %s unavailable: %r", account_id, error)
            return _unavailable("suppression_lists_unavailable", "the campaign's suppression lists", error)

    def _lookup(
        self, queries: list[SuppressionQuery], pending: Sequence[_Pending]
    ) -> tuple[list[list[SuppressionEntry]], Reason | None]:
        if not pending:
            return [], None
        union: frozenset[UUID] = frozenset().union(*(item.list_ids for item in pending))
        try:
            found = self.index.lookup(queries, union)
            if len(found) != len(queries):
                raise IndexUnavailable(f"the suppression index answered {len(found)} of {len(queries)} queries")
        except IndexUnavailable as error:
            log.warning("pre-dial: suppression index unavailable: %s", error.reason)
            # The adapters' reasons name the index and the cause ("... in Redis at HOST:PORT is
            # unreachable: connection refused", "... is being rebuilt from the event log").
            return [], Reason(code="index_unavailable", text=f"{error.reason}: fail closed, no call")
        except Exception as error:  # never allow without an answer
            log.exception("pre-dial: suppression index lookup failed")
            return [], Reason(
                code="index_unavailable",
                text=f"the suppression index lookup failed ({type(error).__name__}: {error}): "
                "fail closed, no call",
            )
        return found, None

    def _history(
        self, request: PreDialRequest, rules: list[contact_rules.AttemptRule], now: datetime
    ) -> contact_rules.AttemptHistory | Reason:
        assert request.account_id is not None
        since = contact_rules.history_since(rules, None, request.time_zone, now)
        assert since is not None  # there are rules
        if self.attempts is None:
            return Reason(
                code="attempt_history_unavailable",
                text="attempt rules apply but no attempt history is configured: no call",
            )
        try:
            return self.attempts(request.account_id, request.client_id, request.device, since)
        except Exception as error:
            log.warning("pre-dial: attempt history unavailable: %r", error)
            return _unavailable("attempt_history_unavailable", "the attempt history", error)

    def _abandons(
        self, pending: Iterable[_Pending], now: datetime
    ) -> dict[UUID, Mapping[str, datetime] | Reason]:
        """The last abandoned call of every device the abandoned-call rule applies to, asked
        once per account: back to the longest quiet hours of the account's requests."""
        devices: dict[UUID, set[str]] = {}
        hours: dict[UUID, int] = {}
        for item in pending:
            if item.quiet is None:
                continue
            account_id = item.request.account_id
            assert account_id is not None  # check() says so
            devices.setdefault(account_id, set()).add(item.request.device)
            hours[account_id] = max(hours.get(account_id, 0), item.quiet.hours)
        found: dict[UUID, Mapping[str, datetime] | Reason] = {}
        for account_id, wanted in devices.items():
            if self.abandoned is None:
                found[account_id] = Reason(
                    code="attempt_history_unavailable",
                    text="the abandoned-call rule applies but no attempt history is configured: no call",
                )
                continue
            try:
                found[account_id] = self.abandoned(
                    account_id, sorted(wanted), now - timedelta(hours=hours[account_id])
                )
            except Exception as error:  # any failure is "no answer": deny
                log.warning("pre-dial: abandoned calls of account %s unavailable: %r", account_id, error)
                found[account_id] = _unavailable(
                    "attempt_history_unavailable", "the abandoned calls of the attempt history", error
                )
        return found

    def _group_name(self, request: PreDialRequest) -> str | None:
        if self.group_names is None or request.campaign_group_id is None:
            return None
        assert request.account_id is not None
        return self.group_names(request.account_id, request.campaign_group_id)

    # -- one verdict ----------------------------------------------------------------------

    def _verdict(
        self,
        item: _Pending,
        matches: list[list[SuppressionEntry]],
        index_problem: Reason | None,
        abandons: dict[UUID, Mapping[str, datetime] | Reason],
        now: datetime,
        windows_seen: dict[tuple[UUID, windows.Target], windows.WindowVerdict],
    ) -> Verdict:
        try:
            return self._decide(item, matches, index_problem, abandons, now, windows_seen)
        except Exception as error:  # a verdict we cannot reach is a denial
            log.exception("pre-dial: validation failed")
            return deny(*item.unavailable, _unavailable("validation_failed", "the validation", error))

    def _decide(
        self,
        item: _Pending,
        matches: list[list[SuppressionEntry]],
        index_problem: Reason | None,
        abandons: dict[UUID, Mapping[str, datetime] | Reason],
        now: datetime,
        windows_seen: dict[tuple[UUID, windows.Target], windows.WindowVerdict],
    ) -> Verdict:
        request, account = item.request, item.account
        unavailable = list(item.unavailable)
        if index_problem is not None:
            unavailable.insert(0, index_problem)
            found: list[SuppressionEntry] = []
        else:
            found = [
                entry for slot in item.queries for entry in matches[slot] if entry.list_id in item.list_ids
            ]

        window: windows.WindowVerdict | None = None
        window_opens: Callable[[datetime], datetime | None] | None = None
        attempt: contact_rules.AttemptVerdict | None = None
        if account.calling is not None:
            assert request.account_id is not None  # check() says so
            key = (request.account_id, item.target)
            window = windows_seen.get(key)
            if window is None:
                window = windows_seen[key] = windows.check(account.calling, item.target, now)
            window_opens = _opening(account.calling, item.target, self.horizon)

        if account.attempt_rules:
            group = None if request.campaign_group_id is None else str(request.campaign_group_id)
            try:
                name = self._group_name(request)
            except Exception as error:
                unavailable.append(_unavailable("settings_unavailable", "the campaign group's name", error))
                name = None
            rules = rules_for_group(account.attempt_rules, group, name)
            if rules:
                history = self._history(request, rules, now)
                if isinstance(history, Reason):
                    unavailable.append(history)
                else:
                    attempt = contact_rules.check(rules, None, history, request.time_zone, now)

        abandoned: AbandonedCall | None = None
        if item.quiet is not None:
            assert request.account_id is not None  # check() says so
            last = abandons[request.account_id]
            if isinstance(last, Reason):
                unavailable.append(last)
            elif (at := last.get(request.device)) is not None:
                abandoned = AbandonedCall(request.device, at, item.quiet)

        return decide(
            request.record(),
            found,
            window,
            attempt,
            now,
            window_opens=window_opens,
            unavailable=unavailable,
            abandoned=abandoned,
        )


def _opening(
    rules: windows.CallingRules, target: windows.Target, horizon: timedelta
) -> Callable[[datetime], datetime | None]:
    def opens(at: datetime) -> datetime | None:
        return windows.next_allowed(rules, target, at, horizon)

    return opens


def _unavailable(code: ReasonCode, what: str, error: BaseException) -> Reason:
    return Reason(
        code=code,
        text=f"{what} could not be read ({type(error).__name__}: {error}): fail closed, no call",
    )
