"""Phone numbers of a contact list: validate, put in E.164, find their time zones.

An import calls :func:`normalise` for every phone column of every row (about two
million numbers for a million-row file), so the work per number is kept to what the
answer needs, and each answer stays exactly what phonenumbers itself would give:

- ``phonenumbers.parse`` is the dearest step (12-16 µs), so plain North American
  numbers ("(212) 555-0123", "+1 212-555-0123", "12125550123"), the bulk of a NANP
  list, skip it: they are read by hand into the (country code, national number) that
  ``parse`` would give. Anything else goes through ``parse``.
- ``is_valid_number`` and ``time_zones_for_number`` each find the number's region
  and type, and finding the region of a +1 number already means typing it against
  the US metadata. Here region and type come out of one pass (:func:`_region_and_type`,
  the same steps as ``region_code_for_number``), validity is "the type is known", and
  the zones of a geographic number are read straight from phonenumbers' prefix table.

- Typing a number is phonenumbers' ``_number_type_helper`` with its patterns compiled
  once per country (:class:`_Typer`): the helper looks each pattern up in a regex cache
  and matches it twice on every call, which was a third of the cost of a number.

Both lean on phonenumbers' internals (the typing order of ``_number_type_helper``,
``_format_nsn`` and two of its country sets). ``tests/domain/test_phones.py`` checks validity, region, E.164,
area code and zones against phonenumbers' public functions on thousands of generated
numbers of many countries, so an upgrade that changes those internals fails there, not
in an import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import phonenumbers
from phonenumbers import (
    NumberParseException,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
    phonenumberutil,
)
from phonenumbers.phonemetadata import REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata
from phonenumbers.phonenumberutil import (
    _GEO_MOBILE_COUNTRIES_WITHOUT_MOBILE_AREA_CODES,
    COUNTRY_CODE_TO_REGION_CODE,
    NON_DIGITS_PATTERN,
    _format_nsn,
    is_number_type_geographical,
)
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

NANP = 1
# What phonenumbers answers when it knows no zone for a number.
UNKNOWN_ZONE = "Etc/Unknown"
# Longer input is refused by phonenumbers too (its _MAX_INPUT_STRING_LENGTH).
MAX_INPUT = 250
# Quoted input in messages is cut, so one runaway cell cannot flood a rejection report.
QUOTE_MAX = 40

# The separators a hand-typed North American number uses; anything else (letters,
# "ext", unicode digits or dashes, IDD prefixes) is left to phonenumbers.parse.
_SEPARATORS = str.maketrans("", "", " -.()")
_HAS_DIGIT = re.compile(r"\d")
_NANP_REGIONS = frozenset(COUNTRY_CODE_TO_REGION_CODE[NANP])
_leading_digits: dict[str, re.Pattern[str]] = {}
# Mexico: a closed dialling plan that still has area codes (missing from the stubs).
_AREA_CODES_WITHOUT_NATIONAL_PREFIX: frozenset[int] = (
    phonenumberutil._COUNTRIES_WITHOUT_NATIONAL_PREFIX_WITH_AREA_CODES  # type: ignore[attr-defined]
)


class Device(NamedTuple):
    """A valid phone number, ready to dial and to place in time."""

    e164: str
    region: str | None  # ISO country of the number ("US", "CA", "GB"); None for +800-style numbers
    area_code: str  # NANP area code, else the geographic area code; "" when there is none
    zones: tuple[str, ...]  # IANA zones of a geographic number; () for toll-free, most mobiles…
    geographic: bool
    number_type: int  # phonenumbers' PhoneNumberType (an SMS list texts only mobile-capable ones)
    extension: str = ""  # kept out of e164: a dialer dials the line, an agent the extension


MOBILE_CAPABLE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def can_text(device: Device) -> bool:
    """Whether ``device`` may be a mobile: phonenumbers types it mobile, or cannot tell a
    mobile from a fixed line by the number (all of North America)."""
    return device.number_type in MOBILE_CAPABLE


class PhoneProblem(NamedTuple):
    reason: str


def normalise(raw: str, default_region: str) -> Device | PhoneProblem:
    """``raw`` as a :class:`Device`, or why it is not a dialable number.

    ``default_region`` is the ISO country a number without ``+`` is read in; a number
    written internationally for another country is valid, and ``region`` says whose.
    """
    text = raw.strip()
    if not text or len(text) > MAX_INPUT or not _HAS_DIGIT.search(text):
        return PhoneProblem(f"{_quote(text)} is not a phone number")
    fast = _plain_nanp(text, default_region)
    if fast is not None:
        return _device(NANP, fast, "", None, text)
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as error:
        return PhoneProblem(_parse_problem(text, default_region, error))
    nsn = phonenumbers.national_significant_number(number)
    # parse always sets a country code; 0 (no such code) would read as invalid.
    return _device(number.country_code or 0, nsn, number.extension or "", number, text)


def _plain_nanp(text: str, default_region: str) -> str | None:
    """The 10-digit national number of a plainly written NANP number, else None.

    Exactly the cases where phonenumbers.parse gives country code 1 and these ten
    digits: an area code starting 2-9, written with or without a leading 1 or +1.
    """
    if len(text) > 32:
        return None
    international = text[0] == "+"
    digits = (text[1:] if international else text).translate(_SEPARATORS)
    if not (digits.isascii() and digits.isdigit()):
        return None
    if not international and default_region not in _NANP_REGIONS:
        return None
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    elif international or len(digits) != 10:
        return None
    return digits if digits[0] in "23456789" else None


def _device(
    country_code: int, nsn: str, extension: str, number: PhoneNumber | None, text: str
) -> Device | PhoneProblem:
    region, kind = _region_and_type(country_code, nsn)
    if kind == PhoneNumberType.UNKNOWN:
        where = phonenumbers.region_code_for_country_code(country_code)
        if where == REGION_CODE_FOR_NON_GEO_ENTITY:
            where = f"+{country_code}"
        return PhoneProblem(f"{_quote(text)} is not a valid phone number for {where}")
    e164 = f"+{country_code}{nsn}"
    geographic = is_number_type_geographical(kind, country_code)
    zones = _zones(e164) if geographic else ()
    area_code = _area_code(country_code, nsn, kind, geographic, region, number)
    iso = None if region == REGION_CODE_FOR_NON_GEO_ENTITY else region
    return Device(e164, iso, area_code, zones, geographic, int(kind), extension)


def _region_and_type(country_code: int, nsn: str) -> tuple[str | None, int]:
    """The number's region and PhoneNumberType, typing the number once.

    phonenumbers.region_code_for_number types the number against each candidate region
    without leading-digit rules (US first for +1) and throws the type away; number_type
    then types it again. This keeps the type of the pass that found the region.
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if regions is None:
        return None, PhoneNumberType.UNKNOWN
    if len(regions) == 1:
        region = regions[0]
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        return region, _type(nsn, metadata)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if _leading(metadata.leading_digits).match(nsn):
                return region, _typer(metadata).type_of(nsn)
            continue
        kind = _typer(metadata).type_of(nsn)
        if kind != PhoneNumberType.UNKNOWN:
            return region, kind
    return None, PhoneNumberType.UNKNOWN


def _type(nsn: str, metadata: PhoneMetadata | None) -> int:
    return PhoneNumberType.UNKNOWN if metadata is None else _typer(metadata).type_of(nsn)


# The number types phonenumbers tries, in its order, before fixed line and mobile.
_SPECIAL_TYPES = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)
_Desc = tuple[frozenset[int], Callable[[str], object]]


def _desc(desc: Any) -> _Desc | None:
    """A number description as (possible lengths, full-match test); None if it never matches."""
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length), re.compile(desc.national_number_pattern).fullmatch


def _matches(desc: _Desc | None, nsn: str) -> bool:
    if desc is None:
        return False
    lengths, fullmatch = desc
    return (not lengths or len(nsn) in lengths) and fullmatch(nsn) is not None


class _Typer:
    """``_number_type_helper`` for one country's metadata, its patterns compiled once.

    After the general pattern, the helper tries each type's pattern in turn (the special
    types, then fixed line, then mobile) and takes the first that matches. Here those of
    them whose possible lengths admit the number's are one alternation, compiled once per
    length, which a regex tries in the same order and stops at the first that matches the
    whole number: one match instead of up to eleven (0.9 -> 0.4 µs for a US number).
    """

    def __init__(self, metadata: PhoneMetadata):
        self.general = _desc(metadata.general_desc)
        self.same_mobile_and_fixed = bool(metadata.same_mobile_and_fixed_line_pattern)
        self.mobile = _desc(metadata.mobile)
        candidates = [(kind, getattr(metadata, name)) for name, kind in _SPECIAL_TYPES]
        candidates.append((PhoneNumberType.FIXED_LINE, metadata.fixed_line))
        if not self.same_mobile_and_fixed:
            candidates.append((PhoneNumberType.MOBILE, metadata.mobile))
        self.candidates = [
            (kind, frozenset(desc.possible_length), desc.national_number_pattern)
            for kind, desc in candidates
            if desc is not None and desc.national_number_pattern
        ]
        self.by_length: dict[int, tuple[Callable[[str], re.Match[str] | None], dict[str, int]]] = {}

    def type_of(self, nsn: str) -> int:
        if not _matches(self.general, nsn):
            return PhoneNumberType.UNKNOWN
        alternation = self.by_length.get(len(nsn)) or self._alternation(len(nsn))
        fullmatch, kinds = alternation
        found = fullmatch(nsn)
        if found is None:
            return PhoneNumberType.UNKNOWN
        kind = kinds[found.lastgroup or ""]
        if kind == PhoneNumberType.FIXED_LINE and (self.same_mobile_and_fixed or _matches(self.mobile, nsn)):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return kind

    def _alternation(self, length: int) -> tuple[Callable[[str], re.Match[str] | None], dict[str, int]]:
        admitted = [(kind, pattern) for kind, lengths, pattern in self.candidates if not lengths or length in lengths]
        # Each alternative is a named group around a type's pattern. Groups inside a pattern
        # (phonenumbers' have none) would close before it, so the last group to match names
        # the type.
        kinds = {f"t{i}": kind for i, (kind, _) in enumerate(admitted)}
        pattern = "|".join(f"(?P<t{i}>{p})" for i, (_, p) in enumerate(admitted)) or "(?!)"
        self.by_length[length] = alternation = (re.compile(pattern).fullmatch, kinds)
        return alternation


_typers: dict[tuple[str | None, int | None], _Typer] = {}


def _typer(metadata: PhoneMetadata) -> _Typer:
    key = (metadata.id, metadata.country_code)  # region, or "001" and the calling code
    typer = _typers.get(key)
    if typer is None:
        typer = _typers[key] = _Typer(metadata)
    return typer


def _leading(pattern: str) -> re.Pattern[str]:
    # A few hundred patterns at most (one per region sharing a country code).
    compiled = _leading_digits.get(pattern)
    if compiled is None:
        compiled = _leading_digits[pattern] = re.compile(pattern)
    return compiled


# The longest prefix in phonenumbers' zone table that begins with each 4-digit stem (only
# stems some longer prefix begins with): a +1 number's zones are mostly under its area code
# alone, and looking up the nine lengths down to it was a fifth of the cost of a number.
_STEM = 4


def _longest_by_stem() -> dict[str, int]:
    longest: dict[str, int] = {}
    for prefix in TIMEZONE_DATA:
        if len(prefix) > _STEM:
            stem = prefix[:_STEM]
            longest[stem] = max(longest.get(stem, _STEM), len(prefix))
    return longest


_LONGEST_BY_STEM = _longest_by_stem()


def _zones(e164: str) -> tuple[str, ...]:
    """phonenumbers.timezone.time_zones_for_geographical_number, from the E.164 we have:
    the zones of the longest prefix in its table, tried from the longest that can exist."""
    digits = e164[1:]
    longest = min(_LONGEST_BY_STEM.get(digits[:_STEM], _STEM), TIMEZONE_LONGEST_PREFIX)
    for length in range(longest, 0, -1):
        zones = TIMEZONE_DATA.get(digits[:length])
        if zones is not None:
            return () if zones == (UNKNOWN_ZONE,) else zones
    return ()


def _area_code(
    country_code: int, nsn: str, kind: int, geographic: bool, region: str | None, number: PhoneNumber | None
) -> str:
    if country_code == NANP:
        # Every NANP number, toll-free included, is area code + 7 digits: "+1 800" has
        # area code 800 the way the product's custom entries name it.
        return nsn[:3]
    if not geographic or number is None or region is None:
        return ""
    return nsn[: _geographic_area_code_length(country_code, nsn, kind, region, number)]


def _geographic_area_code_length(
    country_code: int, nsn: str, kind: int, region: str, number: PhoneNumber
) -> int:
    """phonenumbers.length_of_geographical_area_code for a geographic number of known type.

    The library's function types the number twice more (about 40 µs for a UK
    landline); its steps are repeated here with the type already known.
    """
    own = PhoneMetadata.metadata_for_region(region, None)
    if own is None:
        return 0
    # A closed dialling plan (no national prefix) has no area codes, bar Mexico.
    if (
        own.national_prefix is None
        and not number.italian_leading_zero
        and country_code not in _AREA_CODES_WITHOUT_NATIONAL_PREFIX
    ):
        return 0
    if kind == PhoneNumberType.MOBILE and country_code in _GEO_MOBILE_COUNTRIES_WITHOUT_MOBILE_AREA_CODES:
        return 0
    # The area code is the first group of the international format (phonenumbers'
    # length_of_national_destination_code), plus Argentina's mobile "9".
    main = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, main)
    if metadata is None:
        return 0
    formatted = _format_nsn(nsn, metadata, PhoneNumberFormat.INTERNATIONAL)
    groups = NON_DIGITS_PATTERN.split(f"+{country_code} {formatted}")
    if len(groups) <= 3:
        return 0
    if kind == PhoneNumberType.MOBILE and phonenumbers.country_mobile_token(country_code):
        return len(groups[2]) + len(groups[3])
    return len(groups[2])


def _parse_problem(text: str, default_region: str, error: NumberParseException) -> str:
    quoted = _quote(text)
    if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        if text.startswith("+"):
            return f"{quoted} has no known country code after the +"
        return f"{quoted} has no +country code and {default_region!r} is not a country to read it in"
    if error.error_type == NumberParseException.TOO_LONG:
        return f"{quoted} is too long to be a phone number"
    if error.error_type in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
        return f"{quoted} is too short to be a phone number"
    return f"{quoted} is not a phone number"


def _quote(text: str) -> str:
    return repr(text if len(text) <= QUOTE_MAX else text[:QUOTE_MAX] + "…")
