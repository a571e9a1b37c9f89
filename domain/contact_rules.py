"""Attempt rules: do not contact a customer, or a device, too often.

A rule reads "do not contact if ``max_attempts`` attempts were made today" (the
contact's local day, from its last local midnight) or "... in the last ``in_last_hours``
hours" (elapsed time: a sliding window, the same length across a daylight-saving switch).
Attempts count across every contact list and channel of the account: the count is keyed
by the customer's client id, by the device (the E.164 number or the e-mail address), or
``both``.

``both`` counts per client id and per device **separately**, and either count reaching the
limit blocks: a customer with three numbers and a phone shared by two customers are both
protected. (A count per client-id-and-device pair is never higher than either alone, so
it would be the weakest reading of the rule.)

A rule is **required** (every campaign group) or optional and then applies to the
campaign groups it names, as the product's "Required" flag does.

History is what an adapter can supply cheaply: the times of earlier attempts per key
(:class:`AttemptHistory`), e.g. a Redis sorted set per client id and per device scored by
epoch seconds, or an indexed SQL table, read from :func:`history_since` on. Attempts
stamped after the instant being checked (clock skew between hosts) count too, the rule
failing closed; "today" still ends at the contact's next local midnight.

Everything here is pure: no clock, store or settings read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from domain.errors import RuleViolation
from domain.zones import ensure_zone

Basis = Literal["client_id", "device", "both"]
Key = Literal["client_id", "device"]
ReasonCode = Literal["attempts_today", "attempts_in_hours"]

BASES: dict[str, tuple[Key, ...]] = {
    "client_id": ("client_id",),
    "device": ("device",),
    "both": ("client_id", "device"),
}
KEY_WORDS: dict[Key, str] = {"client_id": "client id", "device": "device"}
MAX_HOURS = 24 * 366  # a year and a day: longer windows belong to suppression lists


@dataclass(frozen=True)
class AttemptRule:
    """Do not contact if ``max_attempts`` attempts were made today / in the last hours."""

    name: str
    max_attempts: int
    by: Basis = "client_id"
    in_last_hours: int | None = None  # None: today, the contact's local day
    required: bool = True
    campaign_groups: frozenset[str] = frozenset()  # names, for an optional rule

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise RuleViolation("an attempt rule needs a name", field="name")
        if self.max_attempts < 1:
            raise RuleViolation(
                f"rule {self.name!r}: max_attempts must be at least 1, not {self.max_attempts}",
                field="max_attempts",
            )
        if self.by not in BASES:
            raise RuleViolation(
                f"rule {self.name!r}: counts by client_id, device or both, not {self.by!r}", field="by"
            )
        if self.in_last_hours is not None and not 1 <= self.in_last_hours <= MAX_HOURS:
            raise RuleViolation(
                f"rule {self.name!r}: in_last_hours must be 1–{MAX_HOURS}, not {self.in_last_hours}",
                field="in_last_hours",
            )
        if self.required and self.campaign_groups:
            raise RuleViolation(
                f"rule {self.name!r} is required, so it applies to every campaign group; "
                "name campaign groups only for an optional rule",
                field="campaign_groups",
            )

    def applies_to(self, campaign_group: str | None) -> bool:
        return self.required or (campaign_group is not None and campaign_group in self.campaign_groups)

    def describe(self) -> str:
        period = "today" if self.in_last_hours is None else f"in the last {self.in_last_hours} h"
        return f"{self.name!r} (at most {self.max_attempts} per {self.by.replace('_', ' ')} {period})"


class Attempt(NamedTuple):
    """One earlier attempt, as a log of attempts records it."""

    at: datetime
    client_id: str
    device: str


@dataclass(frozen=True)
class AttemptHistory:
    """Times (aware) of earlier attempts to this record's client id and to its device,
    from every list and channel. Older attempts than :func:`history_since` may be left out."""

    client_id: tuple[datetime, ...] = ()
    device: tuple[datetime, ...] = ()

    @classmethod
    def of(cls, attempts: Iterable[Attempt], *, client_id: str, device: str) -> AttemptHistory:
        """From a log of attempts (the embedded adapter's, or a test's)."""
        attempts = list(attempts)
        return cls(
            tuple(a.at for a in attempts if a.client_id == client_id),
            tuple(a.at for a in attempts if a.device == device),
        )

    def times(self, key: Key) -> tuple[datetime, ...]:
        return self.client_id if key == "client_id" else self.device


@dataclass(frozen=True)
class Breach:
    """One rule over its limit for one key."""

    code: ReasonCode
    rule: str
    key: Key
    count: int
    limit: int
    allowed_from: datetime  # UTC: when this rule allows again, if no attempt is made meanwhile
    text: str


@dataclass(frozen=True)
class AttemptVerdict:
    allowed: bool
    reasons: tuple[Breach, ...]
    # UTC: the instant checked when allowed; else when every breached rule allows again
    # (counts only fall while no attempt is made, so the latest of the reasons).
    next_allowed: datetime


def applicable(rules: Iterable[AttemptRule], campaign_group: str | None) -> tuple[AttemptRule, ...]:
    """The rules for a campaign group: the required ones and those naming it."""
    return tuple(rule for rule in rules if rule.applies_to(campaign_group))


def history_since(
    rules: Iterable[AttemptRule], campaign_group: str | None, zone: str, instant: datetime
) -> datetime | None:
    """The earliest attempt time the rules can count at ``instant`` (UTC): an adapter reads
    attempts from here on. None when no rule applies."""
    ensure_zone(zone, "time_zone")
    moment = _utc(instant)
    starts = [_period_start(rule, zone, moment) for rule in applicable(rules, campaign_group)]
    return min(starts, default=None)


def check(
    rules: Iterable[AttemptRule],
    campaign_group: str | None,
    history: AttemptHistory,
    zone: str,
    instant: datetime,
) -> AttemptVerdict:
    """Whether another attempt is allowed at ``instant`` (aware), with every rule it breaks.

    ``zone`` is the contact's time zone (the record's first zone): "today" is its local day.
    """
    ensure_zone(zone, "time_zone")
    moment = _utc(instant)
    times = {key: [_utc(t) for t in history.times(key)] for key in KEY_WORDS}
    reasons: list[Breach] = []
    for rule in applicable(rules, campaign_group):
        for key in BASES[rule.by]:
            breach = _breach(rule, key, times[key], zone, moment)
            if breach is not None:
                reasons.append(breach)
    next_at = max((b.allowed_from for b in reasons), default=moment)
    return AttemptVerdict(allowed=not reasons, reasons=tuple(reasons), next_allowed=next_at)


def _breach(
    rule: AttemptRule, key: Key, times: Sequence[datetime], zone: str, moment: datetime
) -> Breach | None:
    start = _period_start(rule, zone, moment)
    if rule.in_last_hours is None:
        info = ZoneInfo(zone)
        today = moment.astimezone(info).date()
        tomorrow = _midnight(today + timedelta(days=1), info)
        counted = [t for t in times if start <= t < tomorrow]
        if len(counted) < rule.max_attempts:
            return None
        return Breach(
            "attempts_today",
            rule.name,
            key,
            len(counted),
            rule.max_attempts,
            tomorrow,
            f"rule {rule.describe()}: {len(counted)} attempts to this {KEY_WORDS[key]} today "
            f"({today.isoformat()} in {zone}); allowed again from {_local(tomorrow, info)}",
        )
    # An attempt counts while less than the window's length has passed since it.
    counted = sorted(t for t in times if t > start)
    if len(counted) < rule.max_attempts:
        return None
    # Allowed once only max_attempts - 1 of them remain: when the one before those drops out.
    allowed_from = counted[len(counted) - rule.max_attempts] + timedelta(hours=rule.in_last_hours)
    return Breach(
        "attempts_in_hours",
        rule.name,
        key,
        len(counted),
        rule.max_attempts,
        allowed_from,
        f"rule {rule.describe()}: {len(counted)} attempts to this {KEY_WORDS[key]} in the last "
        f"{rule.in_last_hours} h; allowed again from {_local(allowed_from, ZoneInfo(zone))}",
    )


def _period_start(rule: AttemptRule, zone: str, moment: datetime) -> datetime:
    """Attempts after this (today's: at or after) count for the rule at ``moment``."""
    if rule.in_last_hours is not None:
        return moment - timedelta(hours=rule.in_last_hours)
    info = ZoneInfo(zone)
    return _midnight(moment.astimezone(info).date(), info)


def _midnight(day: date, info: ZoneInfo) -> datetime:
    """The first instant (UTC) of a local day. Where the clock skips midnight, fold 0
    reads it with the offset before the switch, which lands on the switch itself."""
    return datetime.combine(day, time(), tzinfo=info).astimezone(UTC)


def _local(instant: datetime, info: ZoneInfo) -> str:
    local = instant.astimezone(info)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone: attempt rules need aware instants")
    return instant.astimezone(UTC)
