"""Which time zone a record is called in, and when every zone of a record allows a call.

The list's time-zone source (``schemas.lists.TimeZoneSource``) picks the rule:

- ``device``: the phone number's zones (country + area code, :mod:`domain.phones`). A
  number with no geography (``+1 800``, most mobiles outside North America) takes the
  zone of its country when the whole country keeps one time (``+49 151…`` →
  Europe/Berlin), else the default zone: a German mobile must not be called at 21:00
  New York time just because the list's default zone is New York.
- ``contact``: the contact's own data: an explicit IANA zone column wins; else its US
  ZIP code (:mod:`domain.postal_zones`); else its country when the country keeps one time.
- ``contact_then_device``: the contact if it resolves, else the device.
- ``contact_and_device``: both; when they disagree the record keeps both zones and may be
  called only when both allow it.

Custom entries (country + area code → zone) win over all of these. A record has at most
two zones, ``zone`` and ``second_zone``; where more apply (an area code spanning several
zones, plus a contact zone) they are the easternmost and westernmost: the day's window
opens last in the westernmost and closes first in the easternmost, so the window of
those two is the window of all.

Rules (``Assignment.rule``, ``schemas.records.TimeZoneRule``): ``custom``, ``device``,
``contact_zone`` (the contact's zone column or country), ``postal_code``, ``default``
(nothing to go on) and ``default_on_error`` (something given could not be resolved: an
unknown zone name, country or ZIP code).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Literal, NamedTuple, TypeAlias
from zoneinfo import ZoneInfo

import phonenumbers

from domain.phones import Device
from domain.postal_zones import ZIP_COUNTRIES, zip5, zone_for_zip
from domain.zones import known_zones
from schemas.lists import CustomTimeZone

FAILED: Literal["failed"] = "failed"
# What a rule finds: a zone, a failure (given but not resolvable), or nothing to go on.
Outcome: TypeAlias = "Assignment | Literal['failed'] | None"

# Zones agree when their UTC offsets agree every three hours over these two years
# (finer would only catch two zones switching on the same night at different hours).
# The tz rules of a country change rarely; move the start forward now and then.
_SAMPLE_FROM = datetime(2025, 1, 1, tzinfo=UTC)
_SAMPLES = range(0, 2 * 366 * 24, 3)  # hours from _SAMPLE_FROM
# Mid-winter and mid-summer instants to order zones east to west (see _bounds).
_ORDER_AT = (datetime(2025, 1, 15, 12, tzinfo=UTC), datetime(2025, 7, 15, 12, tzinfo=UTC))


class Assignment(NamedTuple):
    zone: str
    rule: str  # one of schemas.records.TimeZoneRule
    second_zone: str | None = None


@dataclass(frozen=True)
class CustomZones:
    """A list's custom entries, indexed once per import (and picklable for workers).

    An entry matches a number of its country (the number's ISO region) whose national
    number starts with its area code; the longest matching area code wins, and of two
    entries for the same code the first.
    """

    zones: dict[tuple[str, str], str] = field(default_factory=dict)  # (region, E.164 prefix)
    prefix_lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)  # longest first

    @classmethod
    def of(cls, entries: Iterable[CustomTimeZone]) -> CustomZones:
        zones: dict[tuple[str, str], str] = {}
        lengths: defaultdict[str, set[int]] = defaultdict(set)
        for entry in entries:
            calling_code = phonenumbers.country_code_for_region(entry.country_code)
            if not calling_code:  # not a country phonenumbers knows: matches no number
                continue
            prefix = f"+{calling_code}{entry.area_code}"
            zones.setdefault((entry.country_code, prefix), entry.time_zone)
            lengths[entry.country_code].add(len(prefix))
        return cls(zones, {region: tuple(sorted(ns, reverse=True)) for region, ns in lengths.items()})

    def __bool__(self) -> bool:
        return bool(self.zones)

    def zone_for(self, device: Device) -> str | None:
        if device.region is None:
            return None
        for length in self.prefix_lengths.get(device.region, ()):
            zone = self.zones.get((device.region, device.e164[:length]))
            if zone is not None:
                return zone
        return None


def assign(
    *,
    source: str,
    device: Device | None,
    contact_zone: str | None,
    postal_code: str | None,
    country: str | None,
    custom: CustomZones,
    default_zone: str,
    default_on_error: str,
) -> Assignment:
    """The zone(s) of one record; ``device`` is None for an e-mail record."""
    if custom and device is not None:
        zone = custom.zone_for(device)
        if zone is not None:
            return Assignment(zone, "custom") if zone in known_zones() else _failed(default_on_error)
    if source == "device":
        found = _device(device)
    elif source == "contact":
        found = _contact(contact_zone, postal_code, country, device)
    elif source == "contact_then_device":
        contact = _contact(contact_zone, postal_code, country, device)
        found = contact if isinstance(contact, Assignment) else _either(contact, _device(device))
    elif source == "contact_and_device":
        found = _both(_contact(contact_zone, postal_code, country, device), _device(device))
    else:
        raise ValueError(f"{source!r} is not a time-zone source")
    if isinstance(found, Assignment):
        return found
    return _failed(default_on_error) if found == FAILED else Assignment(default_zone, "default")


def _failed(default_on_error: str) -> Assignment:
    return Assignment(default_on_error, "default_on_error")


def _either(first: Outcome, second: Outcome) -> Outcome:
    if isinstance(second, Assignment):
        return second
    return FAILED if FAILED in (first, second) else None


def _both(contact: Outcome, device: Outcome) -> Outcome:
    if isinstance(contact, Assignment) and isinstance(device, Assignment):
        return _merge(contact, device)
    if isinstance(contact, Assignment):
        return contact
    return _either(contact, device)


def _merge(contact: Assignment, device: Assignment) -> Assignment:
    """Both zones when contact and device disagree: the contact's first, as the rule says."""
    named = (contact.zone, contact.second_zone, device.zone, device.second_zone)
    zones = list(dict.fromkeys(zone for zone in named if zone is not None))
    if len(zones) == 1:
        return contact
    if len(zones) == 2:
        return Assignment(contact.zone, contact.rule, zones[1])
    east, west = _bounds(tuple(zones))
    if contact.zone == west:
        return Assignment(west, contact.rule, east)
    return Assignment(east, contact.rule, west)


# --- device -------------------------------------------------------------------------

_by_zones: dict[tuple[str, ...], Outcome] = {}  # a few hundred keys: phonenumbers' zone sets


def _device(device: Device | None) -> Outcome:
    if device is None:
        return None
    if not device.zones:
        return _country(device.region, "device") if device.region else None
    found = _by_zones.get(device.zones)
    if found is None:
        found = _by_zones[device.zones] = _zones_outcome(device.zones)
    return found


def _zones_outcome(zones: tuple[str, ...]) -> Outcome:
    # phonenumbers may name a zone newer than this machine's tz database.
    if not all(zone in known_zones() for zone in zones):
        return FAILED
    if len(zones) == 1:
        return Assignment(zones[0], "device")
    east, west = _bounds(zones)
    return Assignment(east, "device", west)


def _bounds(zones: tuple[str, ...]) -> tuple[str, str]:
    """The easternmost and westernmost of several zones (ahead of / behind UTC most)."""

    def offset(zone: str) -> float:
        info = ZoneInfo(zone)
        return sum((at.astimezone(info).utcoffset() or timedelta()).total_seconds() for at in _ORDER_AT)

    ordered = sorted(zones, key=offset)
    return ordered[-1], ordered[0]


# --- contact ------------------------------------------------------------------------


def _contact(
    zone: str | None, postal_code: str | None, country: str | None, device: Device | None
) -> Outcome:
    if zone:
        return _named_zone(zone)
    iso = _iso_country(country) if country else None
    if iso == FAILED:
        return FAILED
    postal = _postal(postal_code, iso or (device.region if device else None) or "US") if postal_code else None
    if isinstance(postal, Assignment):
        return postal
    by_country = _country(iso, "contact_zone") if iso else None
    if isinstance(by_country, Assignment):
        return by_country
    return postal


def _named_zone(name: str) -> Outcome:
    name = name.strip()
    if name in known_zones():
        return Assignment(name, "contact_zone")
    # Spreadsheets and people get the case of "America/New_York" wrong; nothing else.
    canonical = _zones_by_folded().get(name.casefold())
    return Assignment(canonical, "contact_zone") if canonical else FAILED


def _iso_country(text: str) -> str | Literal["failed"]:
    iso = text.strip().upper()
    iso = _COUNTRY_ALIASES.get(iso, iso)
    return iso if iso in _country_zones() or iso in ZIP_COUNTRIES else FAILED


# The two spellings that are not ISO 3166 alpha-2 but fill country columns anyway.
_COUNTRY_ALIASES = {"UK": "GB", "USA": "US"}


def _postal(code: str, iso: str) -> Outcome:
    """The zone of a US ZIP code; None for other countries' codes (no table for them)."""
    if iso not in ZIP_COUNTRIES:
        return None
    number = zip5(code)
    zone = zone_for_zip(number) if number is not None else None
    if zone is None:
        return FAILED
    found = _by_zip_zone.get(zone)
    if found is None:
        found = _by_zip_zone[zone] = Assignment(zone, "postal_code")
    return found


_by_zip_zone: dict[str, Assignment] = {}


# --- countries ----------------------------------------------------------------------

_by_country: dict[tuple[str, str], Assignment | None] = {}


def _country(iso: str, rule: str) -> Assignment | None:
    """The zone of a country that keeps one time everywhere, else None."""
    key = (iso, rule)
    if key not in _by_country:
        zone = _single_time(_country_zones().get(iso, ()))
        _by_country[key] = Assignment(zone, rule) if zone else None
    return _by_country[key]


def _single_time(zones: Sequence[str]) -> str | None:
    """The country's main zone when all its zones keep the same time (DE: Berlin, Busingen)."""
    if not zones or not all(zone in known_zones() for zone in zones):
        return None
    infos = [ZoneInfo(zone) for zone in zones[1:]]
    main = ZoneInfo(zones[0])
    for hour in _SAMPLES if infos else ():
        at = _SAMPLE_FROM + timedelta(hours=hour)
        offset = at.astimezone(main).utcoffset()
        if any(at.astimezone(info).utcoffset() != offset for info in infos):
            return None
    return zones[0]


_country_table: dict[str, tuple[str, ...]] = {}


def _country_zones() -> dict[str, tuple[str, ...]]:
    """ISO country → its zones, main zone first, from the tz database's zone.tab."""
    if not _country_table:
        table: defaultdict[str, list[str]] = defaultdict(list)
        text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
        for line in text.splitlines():
            if line and not line.startswith("#"):
                country, _, zone = line.split("\t")[:3]
                table[country].append(zone)
        _country_table.update({country: tuple(zones) for country, zones in table.items()})
    return _country_table


_folded: dict[str, str] = {}


def _zones_by_folded() -> dict[str, str]:
    if not _folded:
        _folded.update({zone.casefold(): zone for zone in known_zones()})
    return _folded


# --- calling windows ----------------------------------------------------------------


def safe_window(
    zones: Sequence[str], daily_from_s: int, daily_till_s: int, at: datetime
) -> tuple[datetime, datetime] | None:
    """The UTC interval of the day of ``at`` in which every zone is inside its window.

    The day is the calendar date of ``at`` in the first zone; each zone's window is
    [daily_from, daily_till) of its own wall clock on that date. A window edge on a
    daylight-saving switch errs on the safe side: a start that the clock skips or
    repeats is taken at its later reading, an end at its earlier one. None when the
    zones share no time that day (or daily_till is not after daily_from).
    """
    if at.tzinfo is None:
        raise ValueError("safe_window needs an aware datetime")
    if not zones or daily_till_s <= daily_from_s:
        return None
    infos = [ZoneInfo(zone) for zone in zones]
    day = at.astimezone(infos[0]).date()
    start = max(_instant(day, daily_from_s, info, latest=True) for info in infos)
    end = min(_instant(day, daily_till_s, info, latest=False) for info in infos)
    return (start, end) if start < end else None


def _instant(day: date, seconds: int, info: ZoneInfo, *, latest: bool) -> datetime:
    wall = datetime.combine(day, time()) + timedelta(seconds=seconds)
    # fold picks the reading of a repeated wall time, and in a skipped one the offset
    # before (fold=0) or after (fold=1) the switch; the two bound the true instant.
    readings = (wall.replace(tzinfo=info, fold=fold).astimezone(UTC) for fold in (0, 1))
    return max(readings) if latest else min(readings)
