"""Calling windows: when a record may be called, in its contact's local time.

Three layers decide, each in the local wall-clock time of the contact's zone:

- **Account hours per region** (:class:`CallingRules`): a week of opening hours
  (:class:`Week`, each weekday its own :class:`Hours` or closed) for the default region
  (08:00–21:00 every day unless configured), overridden per country (``"GB"``) and per
  state or province (``"US-FL"``, country and subdivision as in ISO 3166-2). The most
  specific region that sets hours wins whole: Florida's week replaces the US week, which
  replaces the default.
- **Contact dates**: holidays and blocked dates per region (same keys). Dates add up
  rather than override: a Florida contact keeps the default's, the US's and Florida's
  dates. On such a local date the record is not called at all.
- **The record's own window**, ``daily_from`` / ``daily_till`` (seconds since local
  midnight, either may be None: no bound on that side). ``daily_till < daily_from`` is a
  window **across midnight**: from ``daily_from`` to midnight and from midnight to
  ``daily_till``, every day (22:00–02:00 allows 22:00–24:00 and 00:00–02:00; the account
  hours still apply, so with the default hours it allows nothing). ``daily_till ==
  daily_from`` is an empty window: the record is never callable, and every verdict says
  why (it fails closed rather than guess "all day").

A record with two zones (:class:`Target`'s ``second_time_zone``) is callable only when
every layer allows the instant in **both** zones: the safe intersection.

Daylight saving. Instants are aware datetimes (returned in UTC); local times come from
zoneinfo. Each local day's window is one interval of instants from its opening to its
closing, placed where the wall clock reads them, so no instant inside it ever reads a
local time outside ``[opens, closes)``:

- an edge the clock skips (spring forward: 02:30 on 2026-03-08 in New York) is taken at
  the switch, the first instant that reads later than it (03:00 EDT): an opening at
  02:30 opens at 03:00 EDT, and a closing at 02:30 closes there too (the last instant
  inside reads just before 02:00 EST);
- an edge the clock reads twice (fall back: 01:30 on 2026-11-01 in New York) is taken on
  the safe side: an opening at its second reading (01:30 EST), a closing at its first
  (01:30 EDT). Between the two readings the clock reads times before the opening again,
  so a window cannot open at the first one and stay whole.

So on a switch day a window may lose time at an edge, but never holds an instant whose
local time is outside it. (``domain.time_zones.safe_window`` places a skipped edge at the
offset-shifted reading, an hour further in; this module does not: 03:00–03:30 EDT reads
inside a window opening at 02:30.)

Everything here is pure: no clock, store or settings read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

from domain.errors import RuleViolation
from domain.zones import ensure_zone
from schemas.records import Contact, Record

DAY = 86_400  # seconds in a local day as the wall clock counts them
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_REGION = "default"
DEFAULT_HORIZON = timedelta(days=14)

ReasonCode = Literal["holiday", "blocked_date", "weekday_closed", "outside_hours", "daily_window"]
Interval: TypeAlias = tuple[datetime, datetime]  # [start, end) in UTC

# ISO 3166-1 alpha-2, optionally with an ISO 3166-2 subdivision: "GB", "US-FL", "CA-QC".
_REGION_KEY = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Country columns that are not ISO codes but fill contact lists anyway (as domain.time_zones).
_COUNTRY_ALIASES = {"UK": "GB", "USA": "US"}


# --- rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hours:
    """One day's calling hours, ``[opens, closes)`` in seconds since local midnight."""

    opens: int
    closes: int  # up to 24:00 (86 400): open until midnight

    def __post_init__(self) -> None:
        if not 0 <= self.opens < DAY or not 0 < self.closes <= DAY:
            raise RuleViolation(f"calling hours {self} are not times of one day", field="hours")
        if self.opens >= self.closes:
            raise RuleViolation(f"calling hours {self} must open before they close", field="hours")

    @classmethod
    def of(cls, opens: str, closes: str, *, field: str = "hours") -> Hours:
        """From ``"08:00"`` and ``"21:00"`` (``HH:MM[:SS]``; ``"24:00"`` closes at midnight)."""
        start, end = _seconds(opens, field), _seconds(closes, field)
        if start >= end:
            raise RuleViolation(f"calling hours {opens}–{closes} must open before they close", field=field)
        return cls(start, end)

    def __str__(self) -> str:
        return f"{clock(self.opens)}–{clock(self.closes)}"


DEFAULT_HOURS = Hours(8 * 3600, 21 * 3600)  # US TSR / TCPA: 08:00–21:00 local


@dataclass(frozen=True)
class Week:
    """Calling hours per weekday, Monday first; None closes the day."""

    days: tuple[Hours | None, ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise RuleViolation(f"a week has 7 days, not {len(self.days)}", field="hours")

    @classmethod
    def every_day(cls, hours: Hours | None) -> Week:
        return cls((hours,) * 7)

    @classmethod
    def of(
        cls,
        days: Mapping[str, Hours | None],
        *,
        otherwise: Hours | None = DEFAULT_HOURS,
        field: str = "hours",
    ) -> Week:
        """Named days (``"sunday"`` or ``"sun"``, any case) get their own hours or None
        (closed); the days not named get ``otherwise``."""
        week: list[Hours | None] = [otherwise] * 7
        named: set[int] = set()
        for name, hours in days.items():
            index = _weekday(name, field)
            if index in named:
                raise RuleViolation(f"{WEEKDAYS[index]} is given twice", field=f"{field}.{name}")
            named.add(index)
            week[index] = hours
        return cls(tuple(week))

    def on(self, day: date) -> Hours | None:
        return self.days[day.weekday()]


@dataclass(frozen=True)
class RegionRules:
    """What one region (the default, a country, a state) says.

    ``hours`` None leaves the hours to the next less specific region; dates always apply.
    """

    hours: Week | None = None
    holidays: frozenset[date] = frozenset()
    blocked_dates: frozenset[date] = frozenset()

    @classmethod
    def of(
        cls,
        hours: Week | None = None,
        *,
        holidays: Iterable[date | str] = (),
        blocked_dates: Iterable[date | str] = (),
        field: str = "",
    ) -> RegionRules:
        """Dates as ``date`` or ISO ``YYYY-MM-DD`` text."""
        prefix = f"{field}." if field else ""
        return cls(
            hours,
            frozenset(_date(d, f"{prefix}holidays") for d in holidays),
            frozenset(_date(d, f"{prefix}blocked_dates") for d in blocked_dates),
        )


@dataclass(frozen=True)
class CallingRules:
    """The account's calling hours and contact dates: the default and per-region overrides."""

    default: RegionRules = RegionRules(Week.every_day(DEFAULT_HOURS))
    regions: Mapping[str, RegionRules] = field(default_factory=dict)  # "GB", "US-FL"

    def __post_init__(self) -> None:
        if self.default.hours is None:
            raise RuleViolation("the default region needs calling hours", field="default.hours")
        for key in self.regions:
            if not _REGION_KEY.match(key):
                raise RuleViolation(
                    f"{key!r} is not a region: a country code (GB) or country-state (US-FL), upper case",
                    field=f"regions.{key}",
                )


# --- the contact ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The contact a window is checked for: its zone(s), region and own daily window."""

    time_zone: str
    second_time_zone: str | None = None
    country: str = ""  # ISO code; "UK" and "USA" are understood
    state: str = ""  # "FL" or "US-FL"
    daily_from: int | None = None  # seconds since local midnight; None: from midnight
    daily_till: int | None = None  # None: till midnight; before daily_from: across midnight

    def __post_init__(self) -> None:
        ensure_zone(self.time_zone, "time_zone")
        if self.second_time_zone is not None:
            ensure_zone(self.second_time_zone, "second_time_zone")
        for name in ("daily_from", "daily_till"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= DAY:
                raise RuleViolation(f"{name} {value} is not seconds since midnight (0–86400)", field=name)

    @classmethod
    def of_record(cls, record: Record, contact: Contact) -> Target:
        return cls(
            time_zone=record.time_zone,
            second_time_zone=record.second_time_zone,
            country=contact.country,
            state=contact.state,
            daily_from=record.daily_from,
            daily_till=record.daily_till,
        )

    @property
    def zones(self) -> tuple[str, ...]:
        if self.second_time_zone is None or self.second_time_zone == self.time_zone:
            return (self.time_zone,)
        return (self.time_zone, self.second_time_zone)


# --- verdicts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why an instant is not allowed in one zone."""

    code: ReasonCode
    zone: str
    region: str  # "default", "US", "US-FL", or "record" for the record's daily window
    text: str


@dataclass(frozen=True)
class WindowVerdict:
    allowed: bool
    reasons: tuple[Reason, ...] = ()


def check(rules: CallingRules, target: Target, instant: datetime) -> WindowVerdict:
    """Whether ``target`` may be called at ``instant`` (aware), with every reason it may not."""
    moment = _utc(instant)
    reasons = tuple(reason for zone in target.zones for reason in _reasons(rules, target, zone, moment))
    return WindowVerdict(allowed=not reasons, reasons=reasons)


def next_allowed(
    rules: CallingRules, target: Target, instant: datetime, horizon: timedelta = DEFAULT_HORIZON
) -> datetime | None:
    """The earliest instant (UTC) from ``instant`` on at which :func:`check` allows, or None
    when there is none up to ``instant + horizon`` (inclusive).

    Computed from each day's window edges in every zone, intersected: no minute scanning.
    """
    if horizon < timedelta(0):
        raise ValueError(f"horizon {horizon} is negative")
    start = _utc(instant)
    limit = start + horizon
    zones = iter(target.zones)
    windows = _windows(rules, target, next(zones), start, limit)
    for zone in zones:
        windows = _intersect(windows, _windows(rules, target, zone, start, limit))
    for opens, closes in windows:  # lazily: days after the first window are never computed
        if closes > start:
            earliest = max(opens, start)
            return earliest if earliest <= limit else None
    return None


# --- deciding in one zone -------------------------------------------------------------


@dataclass(frozen=True)
class _Day:
    """What the rules say about one local date of one zone."""

    day: date
    info: ZoneInfo
    hours: Hours | None
    hours_region: str
    holiday_region: str | None
    blocked_region: str | None

    @property
    def closed(self) -> bool:
        return self.hours is None or self.holiday_region is not None or self.blocked_region is not None

    def account_window(self) -> Interval | None:
        if self.hours is None:
            return None
        return (
            edge_instant(self.day, self.hours.opens, self.info, edge="opening"),
            edge_instant(self.day, self.hours.closes, self.info, edge="closing"),
        )

    def record_windows(self, pieces: Sequence[tuple[int, int]]) -> list[Interval]:
        found = [
            (
                edge_instant(self.day, start, self.info, edge="opening"),
                edge_instant(self.day, end, self.info, edge="closing"),
            )
            for start, end in pieces
        ]
        return [(opens, closes) for opens, closes in found if opens < closes]


def _day(regions: Sequence[tuple[str, RegionRules]], info: ZoneInfo, day: date) -> _Day:
    hours_region, region = next((key, r) for key, r in regions if r.hours is not None)
    assert region.hours is not None  # CallingRules guarantees the default has hours
    return _Day(
        day=day,
        info=info,
        hours=region.hours.on(day),
        hours_region=hours_region,
        holiday_region=next((key for key, r in regions if day in r.holidays), None),
        blocked_region=next((key for key, r in regions if day in r.blocked_dates), None),
    )


def _reasons(rules: CallingRules, target: Target, zone: str, moment: datetime) -> Iterator[Reason]:
    info = ZoneInfo(zone)
    local = moment.astimezone(info)
    rule = _day(_regions(rules, target), info, local.date())

    def now() -> str:  # only when there is a reason: formatting costs more than deciding
        return f"it is {local:%A %Y-%m-%d %H:%M} {local.tzname()} in {zone}"

    if rule.holiday_region is not None:
        where = _region_name(rule.holiday_region)
        yield Reason("holiday", zone, rule.holiday_region, f"{now()}: {local:%Y-%m-%d} is a holiday in {where}")
    if rule.blocked_region is not None:
        where = _region_name(rule.blocked_region)
        yield Reason(
            "blocked_date", zone, rule.blocked_region, f"{now()}: {local:%Y-%m-%d} is a blocked date in {where}"
        )
    window = rule.account_window()
    if window is None:
        where = _region_name(rule.hours_region)
        yield Reason(
            "weekday_closed", zone, rule.hours_region, f"{now()}: {where} allows no calls on {local:%A}s"
        )
    elif not window[0] <= moment < window[1]:
        yield Reason(
            "outside_hours",
            zone,
            rule.hours_region,
            f"{now()}, outside the calling hours {rule.hours} of {_region_name(rule.hours_region)}",
        )
    pieces = _daily_pieces(target)
    if pieces is not None and not any(s <= moment < e for s, e in rule.record_windows(pieces)):
        yield Reason(
            "daily_window",
            zone,
            "record",
            f"{now()}, outside the record's daily window {_describe_daily(target)}",
        )


def _windows(
    rules: CallingRules, target: Target, zone: str, start: datetime, limit: datetime
) -> Iterator[Interval]:
    """The allowed intervals of one zone, in order, over the local days from ``start`` to ``limit``."""
    info = ZoneInfo(zone)
    pieces = _daily_pieces(target)
    regions = _regions(rules, target)
    day, last = start.astimezone(info).date(), limit.astimezone(info).date()
    while day <= last:
        rule = _day(regions, info, day)
        account = None if rule.closed else rule.account_window()
        if account is not None:
            yield from [account] if pieces is None else _intersect([account], rule.record_windows(pieces))
        day += timedelta(days=1)


def _intersect(first: Iterable[Interval], second: Iterable[Interval]) -> Iterator[Interval]:
    """The intersection of two ordered sequences of disjoint intervals, in order."""
    left, right = iter(first), iter(second)
    a, b = next(left, None), next(right, None)
    while a is not None and b is not None:
        opens, closes = max(a[0], b[0]), min(a[1], b[1])
        if opens < closes:
            yield (opens, closes)
        if a[1] <= b[1]:
            a = next(left, None)
        else:
            b = next(right, None)


def region_keys(target: Target) -> tuple[str, ...]:
    """The region keys the target falls in, most specific first (``("US-FL", "US")``), the
    default not included: the keys account settings name regions by."""
    country = target.country.strip().upper()
    country = _COUNTRY_ALIASES.get(country, country)
    state = target.state.strip().upper()
    keys: list[str] = []
    if country and state:
        keys.append(state if state.startswith(f"{country}-") else f"{country}-{state}")
    if country:
        keys.append(country)
    return tuple(keys)


def _regions(rules: CallingRules, target: Target) -> list[tuple[str, RegionRules]]:
    """The regions that apply to the target, most specific first, the default last."""
    found = [(key, rules.regions[key]) for key in region_keys(target) if key in rules.regions]
    return [*found, (DEFAULT_REGION, rules.default)]


def _region_name(key: str) -> str:
    return "the default region" if key == DEFAULT_REGION else key


def _daily_pieces(target: Target) -> tuple[tuple[int, int], ...] | None:
    """The record's window as second ranges of one local day; None: no restriction."""
    if target.daily_from is None and target.daily_till is None:
        return None
    start = 0 if target.daily_from is None else target.daily_from
    end = DAY if target.daily_till is None else target.daily_till
    if start < end:
        return ((start, end),)
    if start == end:
        return ()  # empty: never callable (fails closed)
    return ((0, end), (start, DAY))  # across midnight: the morning's end and the evening's start


def _describe_daily(target: Target) -> str:
    start = 0 if target.daily_from is None else target.daily_from
    end = DAY if target.daily_till is None else target.daily_till
    text = f"{clock(start)}–{clock(end)}"
    if start == end:
        return f"{text} (empty: daily_from equals daily_till)"
    return f"{text} (across midnight)" if start > end else text


# --- local wall-clock time to instants ------------------------------------------------


# Pre-dial validation asks for the same few edges (a handful of zones, today) thousands of
# times a second; the answer depends on nothing else.
@lru_cache(maxsize=4096)
def edge_instant(day: date, seconds: int, info: ZoneInfo, *, edge: Literal["opening", "closing"]) -> datetime:
    """The UTC instant at which a window edge ``seconds`` after local midnight of ``day`` falls.

    A wall time the clock skips maps to the switch (the first instant reading later);
    one it reads twice maps to the second reading for an opening, the first for a
    closing (see the module's notes on daylight saving). ``seconds`` may be 86 400: the
    next midnight.
    """
    wall = datetime.combine(day, time()) + timedelta(seconds=seconds)
    first = wall.replace(tzinfo=info, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=info, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first < second:  # read twice: fold 0 is the earlier reading
        return second if edge == "opening" else first
    # Skipped: fold 1 reads with the offset after the switch (lands before it), fold 0
    # with the offset before (lands after it); the switch lies between.
    return _switch(second, first, wall, info)


def _switch(before: datetime, after: datetime, wall: datetime, info: ZoneInfo) -> datetime:
    """The first instant in (before, after] whose wall clock reads ``wall`` or later."""
    low, high = int(before.timestamp()), int(after.timestamp())
    while high - low > 1:  # tz switches fall on whole seconds
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, info).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


# --- parsing and wording --------------------------------------------------------------


def clock(seconds: int) -> str:
    """``HH:MM`` (``HH:MM:SS`` when the seconds matter) of seconds since midnight."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _seconds(text: str, field: str) -> int:
    match = _CLOCK.match(text.strip())
    if match is None:
        raise RuleViolation(f"{text!r} is not a time of day (HH:MM)", field=field)
    hours, minutes, secs = (int(part or 0) for part in match.groups())
    seconds = hours * 3600 + minutes * 60 + secs
    if minutes > 59 or secs > 59 or seconds > DAY:
        raise RuleViolation(f"{text!r} is not a time of day (00:00–24:00)", field=field)
    return seconds


def _weekday(name: str, field: str) -> int:
    folded = name.strip().casefold()
    for index, weekday in enumerate(WEEKDAYS):
        if folded in (weekday, weekday[:3]):
            return index
    raise RuleViolation(f"{name!r} is not a weekday (monday … sunday, or mon … sun)", field=f"{field}.{name}")


def _date(value: date | str, field: str) -> date:
    if isinstance(value, datetime):  # a datetime is a date too, but names an instant
        raise RuleViolation(f"{value.isoformat()} is a date and time, not a date", field=field)
    if isinstance(value, date):
        return value
    text = value.strip()
    try:
        if not _ISO_DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise RuleViolation(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone: calling windows need an aware instant")
    return instant.astimezone(UTC)
