"""Time-zone assignment of records, the ZIP table, and calling windows across DST switches."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest
import zipcodes
from phonenumbers.tzdata import TIMEZONE_DATA

from domain import postal_zones
from domain.phones import Device, normalise
from domain.time_zones import Assignment, CustomZones, assign, safe_window
from domain.zones import known_zones
from schemas.lists import CustomTimeZone

DEFAULT = "America/New_York"
ON_ERROR = "America/Chicago"
NO_CUSTOM = CustomZones()
LOS_ANGELES = "+1 213 555 0123"


def phone(raw: str) -> Device:
    found = normalise(raw, "US")
    assert isinstance(found, Device), found
    return found


def zone_of(
    source: str = "device",
    raw: str | None = None,
    *,
    contact_zone: str | None = None,
    postal_code: str | None = None,
    country: str | None = None,
    custom: CustomZones = NO_CUSTOM,
) -> Assignment:
    return assign(
        source=source,
        device=phone(raw) if raw else None,
        contact_zone=contact_zone,
        postal_code=postal_code,
        country=country,
        custom=custom,
        default_zone=DEFAULT,
        default_on_error=ON_ERROR,
    )


def custom(*entries: tuple[str, str, str]) -> CustomZones:
    return CustomZones.of(
        CustomTimeZone(country_code=country, area_code=area, time_zone=zone)
        for country, area, zone in entries
    )


# --- device -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "zone"),
    [
        ("212 555 0123", "America/New_York"),
        ("312 555 0123", "America/Chicago"),
        ("303 555 0123", "America/Denver"),
        ("602 555 0123", "America/Phoenix"),
        (LOS_ANGELES, "America/Los_Angeles"),
        ("808 555 0123", "Pacific/Honolulu"),
    ],
)
def test_device_zone_from_country_and_area_code(raw: str, zone: str) -> None:
    assert zone_of("device", raw) == Assignment(zone, "device")


def test_an_area_code_over_two_zones_keeps_both() -> None:
    # The window is their intersection: Adak (west) opens last, Anchorage closes first.
    assert zone_of("device", "907 555 0123") == Assignment("America/Anchorage", "device", "America/Adak")


def test_a_toll_free_number_takes_the_default_zone() -> None:
    assert zone_of("device", "1 800 555 0199") == Assignment(DEFAULT, "default")


def test_a_mobile_without_geography_takes_its_country_zone_when_the_country_has_one() -> None:
    assert zone_of("device", "+49 151 23456789") == Assignment("Europe/Berlin", "device")
    assert zone_of("device", "+44 7400 123456") == Assignment("Europe/London", "device")


def test_foreign_landlines_take_their_own_zone() -> None:
    assert zone_of("device", "+44 20 7946 0018") == Assignment("Europe/London", "device")
    assert zone_of("device", "+49 30 901820") == Assignment("Europe/Berlin", "device")


def test_a_record_without_a_phone_takes_the_default_zone() -> None:
    assert zone_of("device", None) == Assignment(DEFAULT, "default")


def test_every_zone_phonenumbers_names_is_in_the_tz_database() -> None:
    named = {zone for zones in TIMEZONE_DATA.values() for zone in zones} - {"Etc/Unknown"}
    assert named <= known_zones()


# --- custom entries -----------------------------------------------------------------


def test_custom_entries_win_over_every_source() -> None:
    entries = custom(("US", "213", "America/Phoenix"), ("US", "800", "America/Denver"))
    for source in ("device", "contact", "contact_then_device", "contact_and_device"):
        found = zone_of(source, LOS_ANGELES, postal_code="10001", custom=entries)
        assert found == Assignment("America/Phoenix", "custom")
    assert zone_of("device", "1 800 555 0199", custom=entries) == Assignment("America/Denver", "custom")


def test_the_longest_custom_area_code_wins_and_countries_stay_apart() -> None:
    entries = custom(("US", "213", "America/Phoenix"), ("US", "2135", "America/Denver"), ("CA", "416", "UTC"))
    assert zone_of("device", "+1 213 555 0123", custom=entries).zone == "America/Denver"
    assert zone_of("device", "+1 213 655 0123", custom=entries).zone == "America/Phoenix"
    assert zone_of("device", "+1 416 555 0123", custom=entries).zone == "UTC"
    assert custom(("US", "416", "UTC")).zone_for(phone("+1 416 555 0123")) is None  # a CA number
    assert zone_of("device", "+44 20 7946 0018", custom=custom(("GB", "20", "UTC"))).zone == "UTC"


def test_custom_zones_travel_to_worker_processes() -> None:
    entries = custom(("US", "213", "America/Phoenix"))
    assert pickle.loads(pickle.dumps(entries)) == entries
    assert not NO_CUSTOM
    assert entries


def test_an_unknown_custom_zone_is_an_error() -> None:
    assert zone_of("device", LOS_ANGELES, custom=custom(("US", "213", "Mars/Olympus"))) == Assignment(
        ON_ERROR, "default_on_error"
    )


# --- contact ------------------------------------------------------------------------


def test_a_postal_code_overrides_the_phone_under_the_contact_source() -> None:
    assert zone_of("contact", LOS_ANGELES, postal_code="10001") == Assignment(
        "America/New_York", "postal_code"
    )


@pytest.mark.parametrize(
    ("postal_code", "zone"),
    [
        ("60601", "America/Chicago"),
        ("60601-1234", "America/Chicago"),
        ("94105 1234", "America/Los_Angeles"),
        ("2134", "America/New_York"),  # 02134 after a spreadsheet dropped the zero
        ("99501", "America/Anchorage"),
        ("96813", "Pacific/Honolulu"),
        ("00901", "America/Puerto_Rico"),
        ("85001", "America/Phoenix"),
    ],
)
def test_us_zip_codes(postal_code: str, zone: str) -> None:
    assert zone_of("contact", postal_code=postal_code) == Assignment(zone, "postal_code")


def test_an_explicit_zone_wins_over_the_postal_code() -> None:
    found = zone_of("contact", LOS_ANGELES, contact_zone="America/Denver", postal_code="10001")
    assert found == Assignment("America/Denver", "contact_zone")
    assert zone_of("contact", contact_zone="america/denver").zone == "America/Denver"


@pytest.mark.parametrize(
    ("contact_zone", "postal_code", "country"),
    [
        ("Mars/Olympus_Mons", None, None),
        (None, "99999", None),  # no such ZIP
        (None, "ABC", None),
        (None, None, "Atlantis"),
    ],
)
def test_what_cannot_be_resolved_takes_the_default_on_error(
    contact_zone: str | None, postal_code: str | None, country: str | None
) -> None:
    found = zone_of(
        "contact", LOS_ANGELES, contact_zone=contact_zone, postal_code=postal_code, country=country
    )
    assert found == Assignment(ON_ERROR, "default_on_error")


def test_a_contact_with_nothing_to_go_on_takes_the_default() -> None:
    assert zone_of("contact", LOS_ANGELES) == Assignment(DEFAULT, "default")
    assert zone_of("contact", LOS_ANGELES, country="US") == Assignment(DEFAULT, "default")


def test_a_country_with_one_time_places_the_contact() -> None:
    assert zone_of("contact", country="gb") == Assignment("Europe/London", "contact_zone")
    assert zone_of("contact", country="UK") == Assignment("Europe/London", "contact_zone")
    assert zone_of("contact", country="USA", postal_code="10001").rule == "postal_code"
    assert zone_of("contact", country="DE") == Assignment("Europe/Berlin", "contact_zone")  # and Busingen
    assert zone_of("contact", country="ES").rule == "default"  # the Canaries keep other time


def test_postal_codes_of_other_countries_are_not_read_as_zip_codes() -> None:
    # Berlin's 10115 is not New York's 10115.
    assert zone_of("contact", postal_code="10115", country="DE") == Assignment(
        "Europe/Berlin", "contact_zone"
    )
    # Without a country, a German phone number says the code is not a ZIP; it does not
    # place the contact, whose zone the list asked to read from the contact's own data.
    assert zone_of("contact", "+49 30 901820", postal_code="10115") == Assignment(DEFAULT, "default")


# --- combined sources ---------------------------------------------------------------


def test_contact_then_device_falls_back_to_the_device() -> None:
    assert zone_of("contact_then_device", LOS_ANGELES, postal_code="10001").rule == "postal_code"
    assert zone_of("contact_then_device", LOS_ANGELES) == Assignment("America/Los_Angeles", "device")
    assert zone_of("contact_then_device", LOS_ANGELES, postal_code="99999").rule == "device"
    assert zone_of("contact_then_device", "1 800 555 0199", postal_code="99999").rule == "default_on_error"
    assert zone_of("contact_then_device", "1 800 555 0199").rule == "default"


def test_contact_and_device_keep_both_when_they_disagree() -> None:
    found = zone_of("contact_and_device", LOS_ANGELES, postal_code="10001")
    assert found == Assignment("America/New_York", "postal_code", "America/Los_Angeles")


def test_contact_and_device_keep_one_when_they_agree() -> None:
    found = zone_of("contact_and_device", LOS_ANGELES, postal_code="90012")
    assert found == Assignment("America/Los_Angeles", "postal_code")


def test_contact_and_device_over_three_zones_keep_the_two_that_bound_the_window() -> None:
    found = zone_of("contact_and_device", "907 555 0123", postal_code="10001")
    assert found == Assignment("America/New_York", "postal_code", "America/Adak")


def test_contact_and_device_use_whichever_resolves() -> None:
    assert zone_of("contact_and_device", LOS_ANGELES) == Assignment("America/Los_Angeles", "device")
    assert zone_of("contact_and_device", "1 800 555 0199", postal_code="10001").rule == "postal_code"


def test_an_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError, match="'postal' is not a time-zone source"):
        zone_of("postal", LOS_ANGELES)


# --- the ZIP table ------------------------------------------------------------------


def test_the_zip_table_gives_every_zip_of_the_zipcodes_package_its_zone() -> None:
    """Fails after a zipcodes upgrade until the table is regenerated (see domain.postal_zones)."""
    assert f"zipcodes {zipcodes.__version__}" == postal_zones.SOURCE
    wrong = []
    for entry in zipcodes.list_all():
        expected = entry["timezone"] if entry["timezone"] in known_zones() else None
        if postal_zones.zone_for_zip(int(entry["zip_code"])) != expected:
            wrong.append((entry["zip_code"], entry["timezone"]))
    assert wrong == []


def test_zips_outside_the_table_are_unknown() -> None:
    assert postal_zones.zone_for_zip(0) is None
    assert postal_zones.zone_for_zip(99999) is None
    assert postal_zones.zone_for_zip(9001) is None  # APO (military), no zone


# --- calling windows ----------------------------------------------------------------

EIGHT, NINE_PM = 8 * 3600, 21 * 3600


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "window"),
    [
        # US spring forward: Sunday 8 March 2026, 02:00 EST → 03:00 EDT.
        (utc(2026, 3, 7, 15), (utc(2026, 3, 7, 13), utc(2026, 3, 8, 2))),
        (utc(2026, 3, 8, 15), (utc(2026, 3, 8, 12), utc(2026, 3, 9, 1))),
        # US fall back: Sunday 1 November 2026, 02:00 EDT → 01:00 EST.
        (utc(2026, 10, 31, 15), (utc(2026, 10, 31, 12), utc(2026, 11, 1, 1))),
        (utc(2026, 11, 1, 15), (utc(2026, 11, 1, 13), utc(2026, 11, 2, 2))),
    ],
)
def test_window_of_one_zone_on_both_sides_of_the_switches(
    at: datetime, window: tuple[datetime, datetime]
) -> None:
    assert safe_window(["America/New_York"], EIGHT, NINE_PM, at) == window


def test_window_of_zones_that_switch_on_different_dates() -> None:
    zones = ["America/New_York", "Europe/London"]
    # 10 March: New York is on EDT, London still on GMT.
    assert safe_window(zones, EIGHT, NINE_PM, utc(2026, 3, 10, 14)) == (
        utc(2026, 3, 10, 12),
        utc(2026, 3, 10, 21),
    )
    # 30 March: both on summer time.
    assert safe_window(zones, EIGHT, NINE_PM, utc(2026, 3, 30, 14)) == (
        utc(2026, 3, 30, 12),
        utc(2026, 3, 30, 20),
    )


def test_window_of_the_two_alaska_zones_is_their_intersection() -> None:
    window = safe_window(["America/Anchorage", "America/Adak"], EIGHT, NINE_PM, utc(2026, 1, 15, 20))
    assert window == (utc(2026, 1, 15, 18), utc(2026, 1, 16, 6))


def test_window_edges_on_a_switch_err_on_the_safe_side() -> None:
    zone = ["America/New_York"]
    # 02:30 does not exist on 8 March; the window starts at the later reading (03:30 EDT).
    assert safe_window(zone, 2 * 3600 + 1800, 4 * 3600, utc(2026, 3, 8, 15)) == (
        utc(2026, 3, 8, 7, 30),
        utc(2026, 3, 8, 8),
    )
    # 01:30 happens twice on 1 November; a start takes the second, an end the first.
    assert safe_window(zone, 1 * 3600 + 1800, 3 * 3600, utc(2026, 11, 1, 15)) == (
        utc(2026, 11, 1, 6, 30),
        utc(2026, 11, 1, 8),
    )
    assert safe_window(zone, 0, 1 * 3600 + 1800, utc(2026, 11, 1, 15)) == (
        utc(2026, 11, 1, 4),
        utc(2026, 11, 1, 5, 30),
    )


def test_no_window_when_the_zones_share_no_hour() -> None:
    far_apart = ["Pacific/Kiritimati", "Pacific/Pago_Pago"]  # UTC+14 and UTC-11
    assert safe_window(far_apart, EIGHT, NINE_PM, utc(2026, 6, 1, 12)) is None
    assert safe_window([], EIGHT, NINE_PM, utc(2026, 6, 1, 12)) is None
    assert safe_window(["UTC"], NINE_PM, EIGHT, utc(2026, 6, 1, 12)) is None


def test_a_window_until_midnight() -> None:
    assert safe_window(["UTC"], EIGHT, 24 * 3600, utc(2026, 6, 1, 12)) == (
        utc(2026, 6, 1, 8),
        utc(2026, 6, 2),
    )


def test_a_window_needs_an_aware_moment() -> None:
    with pytest.raises(ValueError, match="aware"):
        safe_window(["UTC"], EIGHT, NINE_PM, datetime(2026, 6, 1, 12))
