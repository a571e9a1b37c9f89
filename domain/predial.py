"""Pre-dial validation: the one decision the dialer asks for before every attempt.

:func:`decide` puts together everything that may forbid an attempt now, and answers with
every reason at once:

- **the record**: its type must be dialable (general, campaign or personal rescheduled,
  personal or campaign callback; never "no call", "unknown" or "no record type"), its
  status ready, and its ``dial_sched_time``, when it has one, reached. A callback or a
  rescheduled record must have a ``dial_sched_time``. Callbacks and rescheduled records
  then pass the same gate as first attempts: the calling window, suppression and attempt
  rules apply to them too.
- **suppression**: every entry of the campaign's suppression lists that matches the
  contact's phone number, client id or e-mail address and is active at ``now``
  (:meth:`SuppressionMatch.active_at`) is a reason naming its list and its entry; expired
  entries are ignored.
- **the calling window** (:mod:`domain.calling_windows`): each of its reasons.
- **attempt rules** (:mod:`domain.contact_rules`): each rule breached.
- **an abandoned call** (:class:`AbandonedCallRule`): a voice call to a device whose last
  call was abandoned less than the region's quiet hours ago (the UK's 72 h) is denied, unless
  an agent is reserved for it before it is placed (:func:`abandoned_quiet_hours` says
  whether the rule applies to a call, and with which hours; the caller looks up the
  device's last abandoned call and passes it as ``abandoned``).
- **unanswered questions**: reasons the caller passes as ``unavailable`` when it could not
  get an answer it needed (the suppression index down, settings unreadable). They deny:
  the validation fails closed, no answer, no call.

``next_allowed`` of a denial is the earliest instant at which every reason found is lifted
if nothing changes meanwhile (no attempt made, no entry added): the later of the scheduled
time, the attempt rules' ``allowed_from``, the end of the quiet hours after an abandoned
call and the expiry of the suppressing entries, moved on to the next opening of the calling
window. It is None when some reason has no known end
(a no-call record, a status that is not ready, a permanent entry, no window opening within
the horizon, a question left unanswered).

The second half of this module turns the account's :class:`ComplianceSettings` into the
domain's :class:`~domain.calling_windows.CallingRules`, :class:`AbandonedCallRule` and
:class:`~domain.contact_rules.AttemptRule` list, naming the field at fault, relative to the
settings (``regions.US-FL.hours.weekdays.saturday``), when they are wrong.

Everything here is pure: no clock, index, store or settings read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, get_args
from uuid import UUID

import msgspec
from msgspec import Struct

from domain import calling_windows as windows
from domain import contact_rules
from domain.codes import RecordStatus, RecordType
from domain.errors import RuleViolation
from schemas.records import Record
from schemas.settings import (
    AttemptRuleSettings,
    ComplianceSettings,
    RegionCompliance,
    WeeklyHours,
)

ReasonCode = Literal[
    # the record
    "record_type_not_dialable",
    "record_status_not_ready",
    "scheduled_later",
    "schedule_missing",
    # suppression lists
    "suppressed",
    # the calling window (domain.calling_windows)
    "holiday",
    "blocked_date",
    "weekday_closed",
    "outside_hours",
    "daily_window",
    # attempt rules (domain.contact_rules)
    "attempts_today",
    "attempts_in_hours",
    # a call to the device was abandoned within the quiet hours (AbandonedCallRule)
    "abandoned_recently",
    # no answer: fail closed
    "index_unavailable",
    "settings_unavailable",
    "suppression_lists_unavailable",
    "attempt_history_unavailable",
    "invalid_request",
    "validation_failed",
]
UNAVAILABLE_CODES: frozenset[str] = frozenset(
    {
        "index_unavailable",
        "settings_unavailable",
        "suppression_lists_unavailable",
        "attempt_history_unavailable",
        "invalid_request",
        "validation_failed",
    }
)

DIALABLE_TYPES = frozenset(
    {
        RecordType.GENERAL,
        RecordType.CAMPAIGN_RESCHEDULED,
        RecordType.PERSONAL_RESCHEDULED,
        RecordType.PERSONAL_CALLBACK,
        RecordType.CAMPAIGN_CALLBACK,
    }
)
# Record types that are dialled at their dial_sched_time, which they must have.
SCHEDULED_TYPES = frozenset(
    {
        RecordType.CAMPAIGN_RESCHEDULED,
        RecordType.PERSONAL_RESCHEDULED,
        RecordType.PERSONAL_CALLBACK,
        RecordType.CAMPAIGN_CALLBACK,
    }
)
MAX_ABANDONED_QUIET_HOURS = 720  # 30 days; the UK rule is 72 h


# --- the answer -----------------------------------------------------------------------


class Reason(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One reason not to call now. Details that do not apply are left out of the JSON."""

    code: ReasonCode
    text: str
    # suppression: the list and the entry that match, and what matched
    list_id: UUID | None = None
    entry_id: UUID | None = None
    kind: str | None = None  # phone, client_id or email
    # calling window: the zone and region whose rule closes it ("record": its daily window)
    zone: str | None = None
    region: str | None = None
    # attempt rules: the rule, what it counts by, how many attempts against its limit
    rule: str | None = None
    key: str | None = None  # client_id or device
    count: int | None = None
    limit: int | None = None
    # when this reason alone is lifted (UTC), when known
    until: datetime | None = None


class Verdict(Struct, frozen=True, kw_only=True):
    """Whether the dialer may make the attempt now; if not, every reason, and when it may."""

    allowed: bool
    reasons: list[Reason] = []
    next_allowed: datetime | None = None  # UTC; None when allowed or when no end is known


REASON_CODES: frozenset[str] = frozenset(get_args(ReasonCode))
_DETAIL_SEPARATOR = "; "


def denial_detail(reasons: Iterable[Reason]) -> str:
    """How a denied draw's reasons are written on its ``record.returned`` event:
    ``code: text; code: text`` (read back by :func:`denial_codes`)."""
    return _DETAIL_SEPARATOR.join(f"{reason.code}: {reason.text}" for reason in reasons)


def denial_codes(detail: str) -> list[str]:
    """The reason codes of a :func:`denial_detail`, in order, each once. A part that does not
    start with a known code (a reason's text holding "; ") is text, not a reason."""
    codes: list[str] = []
    for part in detail.split(_DETAIL_SEPARATOR):
        code, colon, _ = part.partition(": ")
        if colon and code in REASON_CODES and code not in codes:
            codes.append(code)
    return codes


@dataclass(frozen=True, slots=True)
class RecordView:
    """What :func:`decide` reads of the record (Genesys codes, :mod:`domain.codes`)."""

    record_type: int
    record_status: int
    dial_sched_time: int | None = None  # UTC epoch seconds

    @classmethod
    def of_record(cls, record: Record) -> RecordView:
        return cls(record.record_type, record.record_status, record.dial_sched_time)


class SuppressionMatch(Protocol):
    """A suppression-list entry that matched (``processors.suppression.index.SuppressionEntry``)."""

    @property
    def list_id(self) -> UUID: ...
    @property
    def entry_id(self) -> UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def expires_at(self) -> int | None: ...

    def active_at(self, now: float) -> bool: ...


# --- abandoned calls ------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """The abandoned-call rule as it applies to one contact: ``hours``, set by ``region``."""

    hours: int
    region: str  # "default", "GB", "US-FL"


@dataclass(frozen=True)
class AbandonedCallRule:
    """No voice call to a device within ``hours`` after a call to it was abandoned, unless an
    agent is reserved for the call before it is placed (engage-agent-first): the UK rule
    (Ofcom's persistent-misuse policy: 72 h).

    ``default`` and ``regions`` (keyed as :class:`~domain.calling_windows.CallingRules`'s:
    ``"GB"``, ``"US-FL"``) give the hours where they are set, None or absent where not; the
    most specific region of the contact that sets them wins, as for calling hours. Nowhere
    set: no rule.
    """

    default: int | None = None
    regions: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        places = [("default", self.default), *((f"regions.{key}", h) for key, h in self.regions.items())]
        for where, hours in places:
            if hours is not None and not 1 <= hours <= MAX_ABANDONED_QUIET_HOURS:
                raise RuleViolation(
                    f"abandoned_quiet_hours must be 1–{MAX_ABANDONED_QUIET_HOURS}, not {hours}",
                    field=f"{where}.abandoned_quiet_hours",
                )

    def for_target(self, target: windows.Target) -> QuietHours | None:
        """The hours of the most specific region of ``target`` that sets them, or None."""
        for key in windows.region_keys(target):
            hours = self.regions.get(key)
            if hours is not None:
                return QuietHours(hours, key)
        return None if self.default is None else QuietHours(self.default, windows.DEFAULT_REGION)


@dataclass(frozen=True)
class AbandonedCall:
    """The last abandoned call to the device of a request, and the quiet hours that apply."""

    device: str
    at: datetime  # when it was abandoned (aware)
    quiet: QuietHours

    @property
    def until(self) -> datetime:
        """UTC: from this instant on, the device may be called again without an agent reserved."""
        return _utc(self.at) + timedelta(hours=self.quiet.hours)


def abandoned_quiet_hours(
    rule: AbandonedCallRule, target: windows.Target, *, channel: str, agent_reserved: bool
) -> QuietHours | None:
    """The quiet hours that hold a call to ``target`` back after an abandoned call, or None
    when the rule does not apply to this call: no region of the contact sets it, the call
    has an agent reserved before it is placed, or the channel is not voice (SMS and e-mail
    are never answered live, so never abandoned; the rule is about repeat calls)."""
    if channel != "voice" or agent_reserved:
        return None
    return rule.for_target(target)


def deny(*reasons: Reason) -> Verdict:
    """A denial with no known end (for answers that could not be had)."""
    return Verdict(allowed=False, reasons=list(reasons), next_allowed=None)


# --- deciding -------------------------------------------------------------------------


def decide(
    record: RecordView,
    suppression_matches: Iterable[SuppressionMatch],
    window_verdict: windows.WindowVerdict | None,
    attempt_verdict: contact_rules.AttemptVerdict | None,
    now: datetime,
    *,
    window_opens: Callable[[datetime], datetime | None] | None = None,
    unavailable: Sequence[Reason] = (),
    abandoned: AbandonedCall | None = None,
) -> Verdict:
    """Whether the record may be dialled at ``now`` (aware), with every reason it may not.

    ``window_verdict`` is :func:`domain.calling_windows.check` at ``now``; None when it
    could not be checked (then an ``unavailable`` reason says why, or the verdict is a
    denial saying the window was not checked). ``attempt_verdict`` is
    :func:`domain.contact_rules.check` at ``now``, None when no attempt rule applies.
    ``window_opens(instant)`` is when the window next allows from ``instant`` on
    (:func:`domain.calling_windows.next_allowed`); without it a closed window has no known
    end, and a later instant found from the other reasons is not checked against the window.
    ``unavailable`` are reasons an answer is missing: they deny, with no known end.
    ``abandoned`` is the device's last abandoned call when the abandoned-call rule applies
    to this call (:func:`abandoned_quiet_hours`): it denies while its quiet hours last,
    i.e. until ``abandoned.at`` plus the hours (from that instant on it allows).
    """
    moment = _utc(now)
    reasons: list[Reason] = list(unavailable)
    open_ended = bool(unavailable)
    later = moment  # not before: every reason with a known end is lifted from here on

    # The record.
    record_reasons, record_until = _record_reasons(record, moment)
    reasons.extend(record_reasons)
    if record_reasons:
        if record_until is None:
            open_ended = True
        else:
            later = max(later, record_until)

    # Suppression lists.
    epoch = moment.timestamp()
    active = [m for m in suppression_matches if m.active_at(epoch)]
    for match in sorted(active, key=lambda m: (m.list_id, m.kind, m.entry_id)):
        until = None if match.expires_at is None else datetime.fromtimestamp(match.expires_at, UTC)
        if until is None:
            open_ended = True
        else:
            later = max(later, until)
        reasons.append(
            Reason(
                code="suppressed",
                text=_suppressed_text(match, until),
                list_id=match.list_id,
                entry_id=match.entry_id,
                kind=match.kind,
                until=until,
            )
        )

    # The calling window.
    if window_verdict is None:
        if not unavailable:
            reasons.append(
                Reason(code="validation_failed", text="the calling window was not checked: no call")
            )
        open_ended = True
    else:
        for found in window_verdict.reasons:
            reasons.append(
                Reason(code=found.code, text=found.text, zone=found.zone, region=found.region)
            )
        if not window_verdict.allowed and window_opens is None:
            open_ended = True

    # Attempt rules.
    if attempt_verdict is not None and not attempt_verdict.allowed:
        for breach in attempt_verdict.reasons:
            reasons.append(
                Reason(
                    code=breach.code,
                    text=breach.text,
                    rule=breach.rule,
                    key=breach.key,
                    count=breach.count,
                    limit=breach.limit,
                    until=breach.allowed_from,
                )
            )
        later = max(later, _utc(attempt_verdict.next_allowed))

    # An abandoned call to the device (an abandon stamped after now, clock skew between
    # hosts, holds the device back from its own stamp: failing closed).
    if abandoned is not None and abandoned.until > moment:
        later = max(later, abandoned.until)
        reasons.append(
            Reason(
                code="abandoned_recently",
                text=_abandoned_text(abandoned),
                region=abandoned.quiet.region,
                until=abandoned.until,
            )
        )

    if not reasons:
        return Verdict(allowed=True, reasons=[], next_allowed=None)
    if open_ended:
        return Verdict(allowed=False, reasons=reasons, next_allowed=None)
    next_at = later if window_opens is None else window_opens(later)
    return Verdict(allowed=False, reasons=reasons, next_allowed=None if next_at is None else _utc(next_at))


def _record_reasons(record: RecordView, moment: datetime) -> tuple[list[Reason], datetime | None]:
    """The record's reasons, and when they are all lifted (None: not by waiting)."""
    reasons: list[Reason] = []
    open_ended = False
    until: datetime | None = None
    if record.record_type not in DIALABLE_TYPES:
        open_ended = True
        never = " is never dialled" if record.record_type == RecordType.NO_CALL else " is not dialable"
        reasons.append(
            Reason(
                code="record_type_not_dialable",
                text=f"record type {_code_name(RecordType, record.record_type)}{never}",
            )
        )
    if record.record_status != RecordStatus.READY:
        open_ended = True
        reasons.append(
            Reason(
                code="record_status_not_ready",
                text=f"record status {_code_name(RecordStatus, record.record_status)} is not "
                f"{_code_name(RecordStatus, RecordStatus.READY)}",
            )
        )
    kind = _code_name(RecordType, record.record_type)
    if record.dial_sched_time is None:
        if record.record_type in SCHEDULED_TYPES:
            open_ended = True
            reasons.append(
                Reason(
                    code="schedule_missing",
                    text=f"a {kind} record needs its dial_sched_time; it has none",
                )
            )
    else:
        scheduled = datetime.fromtimestamp(record.dial_sched_time, UTC)
        if scheduled > moment:
            until = scheduled
            reasons.append(
                Reason(
                    code="scheduled_later",
                    text=f"the {kind} record is scheduled for {scheduled:%Y-%m-%d %H:%M:%S} UTC "
                    f"(dial_sched_time {record.dial_sched_time}), not yet reached",
                    until=scheduled,
                )
            )
    return reasons, None if open_ended else until


def _suppressed_text(match: SuppressionMatch, until: datetime | None) -> str:
    what = {"phone": "phone number", "client_id": "client id", "email": "e-mail address"}.get(
        match.kind, match.kind
    )
    expiry = "permanently" if until is None else f"until {until:%Y-%m-%d %H:%M:%S} UTC"
    return (
        f"the {what} {match.value} is on suppression list {match.list_id} "
        f"(entry {match.entry_id}), {expiry}"
    )


def _abandoned_text(call: AbandonedCall) -> str:
    region = "the default region" if call.quiet.region == windows.DEFAULT_REGION else call.quiet.region
    return (
        f"a call to {call.device} was abandoned at {_utc(call.at):%Y-%m-%d %H:%M:%S} UTC; {region} "
        f"allows no repeat call within {call.quiet.hours} h of an abandoned call unless an agent is "
        f"reserved before it is placed: not before {call.until:%Y-%m-%d %H:%M:%S} UTC"
    )


def _code_name(enum: type[RecordType] | type[RecordStatus], value: int) -> str:
    try:
        name = enum(value).name.lower().replace("_", " ")
    except ValueError:
        return f"{value} (not a known code)"
    return f"{value} ({name})"


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone: pre-dial validation needs an aware instant")
    return instant.astimezone(UTC)


# --- compliance settings to rules -----------------------------------------------------


@contextmanager
def _at(path: str) -> Iterator[None]:
    """Re-raise a rule violation with its field under ``path``."""
    try:
        yield
    except RuleViolation as error:
        inner = error.field or ""
        if inner.startswith(f"{path}.") or inner == path:
            raise
        # The domain constructors name their own fields ("name", "max_attempts"): put the path first.
        raise RuleViolation(error.detail, field=f"{path}.{inner}" if inner else path) from error


def _week(hours: WeeklyHours, path: str) -> windows.Week:
    daily: windows.Hours | None = None
    if hours.daily is not None:
        with _at(f"{path}.daily"):
            daily = windows.Hours.of(hours.daily.opens, hours.daily.closes, field=f"{path}.daily")
    days: dict[str, windows.Hours | None] = {}
    for name, day in hours.weekdays.items():
        field = f"{path}.weekdays.{name}"
        if day is None:
            days[name] = None
            continue
        with _at(field):
            days[name] = windows.Hours.of(day.opens, day.closes, field=field)
    return windows.Week.of(days, otherwise=daily, field=f"{path}.weekdays")


def _region(region: RegionCompliance, path: str, *, default: bool) -> windows.RegionRules:
    week: windows.Week | None = None
    if region.hours is not None:
        week = _week(region.hours, f"{path}.hours")
    elif default:
        week = windows.Week.every_day(windows.DEFAULT_HOURS)
    return windows.RegionRules.of(
        week, holidays=region.holidays, blocked_dates=region.blocked_dates, field=path
    )


def calling_rules(settings: ComplianceSettings) -> windows.CallingRules:
    """The account's calling hours and dates as :class:`~domain.calling_windows.CallingRules`.

    The default region without hours gets 08:00–21:00 every day.
    """
    default = _region(settings.default, "default", default=True)
    regions: dict[str, windows.RegionRules] = {}
    for key, region in settings.regions.items():
        with _at(f"regions.{key}"):
            windows.CallingRules(default, {key: windows.RegionRules()})  # checks the key alone
        regions[key] = _region(region, f"regions.{key}", default=False)
    return windows.CallingRules(default, regions)


def attempt_rules(settings: ComplianceSettings) -> list[contact_rules.AttemptRule]:
    """The account's attempt rules as :class:`~domain.contact_rules.AttemptRule` objects."""
    rules: list[contact_rules.AttemptRule] = []
    seen: set[str] = set()
    for index, rule in enumerate(settings.attempt_rules):
        path = f"attempt_rules[{index}]"
        with _at(path):
            rules.append(_attempt_rule(rule))
        name = rules[-1].name.casefold()
        if name in seen:
            raise RuleViolation(f"there are two attempt rules named {rule.name!r}", field=f"{path}.name")
        seen.add(name)
    return rules


def _attempt_rule(rule: AttemptRuleSettings) -> contact_rules.AttemptRule:
    return contact_rules.AttemptRule(
        name=rule.name.strip(),
        max_attempts=rule.max_attempts,
        by=rule.by,
        in_last_hours=rule.in_last_hours,
        required=rule.required,
        campaign_groups=frozenset(group.strip() for group in rule.campaign_groups),
    )


def abandoned_call_rule(settings: ComplianceSettings) -> AbandonedCallRule:
    """The account's quiet hours after an abandoned call as an :class:`AbandonedCallRule`."""
    return AbandonedCallRule(
        settings.default.abandoned_quiet_hours,
        {
            key: region.abandoned_quiet_hours
            for key, region in settings.regions.items()
            if region.abandoned_quiet_hours is not None
        },
    )


def compliance_rules(
    settings: ComplianceSettings,
) -> tuple[windows.CallingRules, list[contact_rules.AttemptRule], AbandonedCallRule]:
    """All three, checking every field; :class:`RuleViolation` names the first one at fault."""
    return calling_rules(settings), attempt_rules(settings), abandoned_call_rule(settings)


def normalised(settings: ComplianceSettings) -> ComplianceSettings:
    """The settings as stored: weekdays by full lower-case name, the default's hours
    explicit, names trimmed. Call after :func:`compliance_rules` accepted them."""

    def week(hours: WeeklyHours | None) -> WeeklyHours | None:
        if hours is None:
            return None
        days = {_weekday_name(name): day for name, day in hours.weekdays.items()}
        return msgspec.structs.replace(hours, weekdays=days)

    def region(value: RegionCompliance) -> RegionCompliance:
        return msgspec.structs.replace(
            value,
            hours=week(value.hours),
            holidays=tuple(sorted(set(value.holidays))),
            blocked_dates=tuple(sorted(set(value.blocked_dates))),
        )

    default = region(settings.default)
    if default.hours is None:
        default = msgspec.structs.replace(default, hours=WeeklyHours())
    rules = tuple(
        msgspec.structs.replace(
            rule,
            name=rule.name.strip(),
            campaign_groups=tuple(dict.fromkeys(group.strip() for group in rule.campaign_groups)),
        )
        for rule in settings.attempt_rules
    )
    return msgspec.structs.replace(
        settings,
        default=default,
        regions={key: region(value) for key, value in settings.regions.items()},
        attempt_rules=rules,
    )


def _weekday_name(name: str) -> str:
    folded = name.strip().casefold()
    for weekday in windows.WEEKDAYS:
        if folded in (weekday, weekday[:3]):
            return weekday
    raise RuleViolation(f"{name!r} is not a weekday (monday … sunday, or mon … sun)", field="weekdays")


def rules_for_group(
    rules: Iterable[contact_rules.AttemptRule], *group_keys: str | None
) -> list[contact_rules.AttemptRule]:
    """The rules that apply to a campaign group known by any of ``group_keys`` (its id as
    text, its name): the required ones and the optional ones naming it, the latter made
    required so that :func:`domain.contact_rules.check` with no group applies them all."""
    keys = {key for key in group_keys if key}
    found: list[contact_rules.AttemptRule] = []
    for rule in rules:
        if rule.required:
            found.append(rule)
        elif rule.campaign_groups & keys:
            found.append(dataclasses.replace(rule, required=True, campaign_groups=frozenset()))
    return found
