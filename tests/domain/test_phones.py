"""Phone numbers: validity, E.164, region, area code, zones and type, checked against phonenumbers."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers.timezone import time_zones_for_number

from domain.phones import Device, PhoneProblem, can_text, normalise

MAINLAND = [
    ("(212) 555-0123", "America/New_York"),
    ("312-555-0123", "America/Chicago"),
    ("303.555.0123", "America/Denver"),
    ("602 555 0123", "America/Phoenix"),
    ("+1 213 555 0123", "America/Los_Angeles"),
]


def device(raw: str, region: str = "US") -> Device:
    found = normalise(raw, region)
    assert isinstance(found, Device), found
    return found


def problem(raw: str, region: str = "US") -> str:
    found = normalise(raw, region)
    assert isinstance(found, PhoneProblem), found
    return found.reason


@pytest.mark.parametrize(("raw", "zone"), MAINLAND)
def test_a_us_number_in_each_mainland_zone(raw: str, zone: str) -> None:
    found = device(raw)
    assert found.zones == (zone,)
    assert found.region == "US"
    assert found.geographic
    assert found.e164 == "+1" + "".join(c for c in raw if c.isdigit())[-10:]
    assert found.area_code == found.e164[2:5]


def test_alaska_keeps_both_zones_of_its_area_code() -> None:
    found = device("907-555-0123")
    assert set(found.zones) == {"America/Anchorage", "America/Adak"}
    assert found.area_code == "907"


def test_hawaii() -> None:
    assert device("1 (808) 555-0123").zones == ("Pacific/Honolulu",)


def test_a_toll_free_number_is_valid_but_has_no_geography() -> None:
    found = device("1-800-555-0199")
    assert found == Device("+18005550199", "US", "800", (), False, PhoneNumberType.TOLL_FREE)


def test_an_sms_can_reach_a_mobile_or_a_number_that_may_be_one() -> None:
    assert can_text(device("+44 7400 123456"))  # a UK mobile
    assert can_text(device("(212) 555-0143"))  # North America: mobiles and lines share area codes
    assert not can_text(device("+44 20 7946 0018"))  # a London fixed line
    assert not can_text(device("1-800-555-0199"))  # toll free


def test_a_canadian_number_is_canadian() -> None:
    found = device("416-555-0123")
    assert (found.region, found.zones) == ("CA", ("America/Toronto",))


def test_foreign_numbers_written_internationally_are_valid() -> None:
    assert device("+44 20 7946 0018") == Device(
        "+442079460018", "GB", "20", ("Europe/London",), True, PhoneNumberType.FIXED_LINE
    )
    assert device("+49 30 901820") == Device(
        "+4930901820", "DE", "30", ("Europe/Berlin",), True, PhoneNumberType.FIXED_LINE
    )
    assert device("+49 151 23456789") == Device("+4915123456789", "DE", "", (), False, PhoneNumberType.MOBILE)


def test_national_numbers_are_read_in_the_default_region() -> None:
    assert device("020 7946 0018", "GB").e164 == "+442079460018"
    assert device("030 901820", "DE").e164 == "+4930901820"
    # The same digits mean nothing in the UK.
    assert problem("2125550123", "GB") == "'2125550123' is not a valid phone number for GB"


def test_the_extension_stays_out_of_e164() -> None:
    for raw in ("212-555-0123 x45", "212-555-0123 ext. 45", "+1 212 555 0123;ext=45"):
        found = device(raw)
        assert (found.e164, found.extension) == ("+12125550123", "45")


def test_vanity_letters_are_dialled_as_digits() -> None:
    assert device("1-800-FLOWERS").e164 == "+18003569377"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12345", "'12345' is not a valid phone number for US"),
        ("555-0123", "'555-0123' is not a valid phone number for US"),
        ("(012) 555-0123", "'(012) 555-0123' is not a valid phone number for US"),
        ("1", "'1' is not a phone number"),
        ("abc", "'abc' is not a phone number"),
        ("", "'' is not a phone number"),
        ("   ", "'' is not a phone number"),
        ("n/a", "'n/a' is not a phone number"),
        ("+999 1234 5678", "'+999 1234 5678' has no known country code after the +"),
        ("9" * 30, f"'{'9' * 30}' is too long to be a phone number"),
        ("x" * 300, f"'{'x' * 40}…' is not a phone number"),
    ],
)
def test_invalid_numbers_say_why(raw: str, reason: str) -> None:
    assert problem(raw) == reason


def test_a_number_without_country_code_needs_a_real_default_region() -> None:
    assert problem("2125550123", "XX") == (
        "'2125550123' has no +country code and 'XX' is not a country to read it in"
    )
    assert device("+12125550123", "XX").region == "US"


# --- the same answers as phonenumbers -----------------------------------------------

REGIONS = [
    "US", "CA", "PR", "JM", "BS", "DO", "GB", "GG", "JE", "IM", "IE", "DE", "FR", "IT", "ES",
    "PT", "NL", "BE", "CH", "AT", "SE", "NO", "FI", "DK", "PL", "RU", "KZ", "MX", "AR", "BR",
    "CL", "AU", "NZ", "IN", "CN", "JP", "KR", "ID", "ZA", "NG", "EG", "RE", "YT", "GP", "MF",
]  # fmt: skip
TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.VOIP,
    PhoneNumberType.UAN,
]
NANP_FORMATS = [
    "({a}) {b}-{c}",
    "{a}-{b}-{c}",
    "{a}.{b}.{c}",
    "{a}{b}{c}",
    " {a} {b} {c} ",
    "1 {a} {b} {c}",
    "1-{a}-{b}-{c}",
    "1{a}{b}{c}",
    "+1 ({a}) {b}-{c}",
    "+1{a}{b}{c}",
    "+{a}{b}{c}",
    "+1 {a} {b} {c} x12",
    "011 1 {a} {b} {c}",
    "({a}){b}-{c}",
    "1({a}){b}{c}",
]


def reference(raw: str, region: str) -> tuple[object, ...] | None:
    """What phonenumbers' own functions say about ``raw``; None when it is not valid."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    geographic = phonenumbers.is_number_geographical(number)
    zones = time_zones_for_number(number)
    nsn = phonenumbers.national_significant_number(number)
    own = phonenumbers.region_code_for_number(number)
    if number.country_code == 1:
        area_code = nsn[:3]
    else:
        area_code = nsn[: phonenumbers.length_of_geographical_area_code(number)]
    return (
        phonenumbers.format_number(number, PhoneNumberFormat.E164),
        None if own == "001" else own,
        area_code,
        zones if geographic and zones != ("Etc/Unknown",) else (),
        geographic,
        phonenumbers.number_type(number),
        number.extension or "",
    )


def ours(raw: str, region: str) -> tuple[object, ...] | None:
    found = normalise(raw, region)
    return tuple(found) if isinstance(found, Device) else None


def mutated(number: str, rng: random.Random) -> str:
    """The number with some of its last digits replaced: valid or not, like real files."""
    keep = max(1, len(number) - rng.randint(1, 4))
    return number[:keep] + "".join(rng.choice("0123456789") for _ in number[keep:])


def generated_numbers(rng: random.Random) -> list[tuple[str, str]]:
    cases: list[tuple[str, str]] = []
    for region in REGIONS:
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            for _ in range(12):
                changed = phonenumbers.parse(mutated(e164, rng), None)
                for style in (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL):
                    cases.append((phonenumbers.format_number(changed, style), "US"))
                cases.append((phonenumbers.format_number(changed, PhoneNumberFormat.NATIONAL), region))
    for entity in (800, 808, 870, 882, 883):
        example = phonenumbers.example_number_for_non_geo_entity(entity)
        if example is not None:
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            cases += [(mutated(e164, rng), "US") for _ in range(10)]
    return cases


def nanp_numbers(rng: random.Random, count: int) -> list[tuple[str, str]]:
    cases = []
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(10))
        if rng.random() < 0.8:  # mostly plausible numbers: area and exchange codes 2-9
            digits = rng.choice("23456789") + digits[1:3] + rng.choice("23456789") + digits[4:]
        raw = rng.choice(NANP_FORMATS).format(a=digits[:3], b=digits[3:6], c=digits[6:])
        cases.append((raw, rng.choice(["US", "US", "CA", "GB"])))
    return cases


def test_validity_region_area_code_and_zones_are_phonenumbers_own() -> None:
    rng = random.Random(20260308)
    cases = generated_numbers(rng) + nanp_numbers(rng, 3000)
    assert len(cases) > 5000
    mismatches = [(raw, region) for raw, region in cases if ours(raw, region) != reference(raw, region)]
    assert mismatches == []
    valid = [case for case in cases if reference(*case) is not None]
    # The comparison means something only if it saw plenty of both kinds.
    assert 1500 < len(valid) < len(cases) - 1500
    assert len({reference(*case)[1] for case in valid}) > 40  # type: ignore[index]
