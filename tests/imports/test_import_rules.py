"""Imports end to end on a real embedded runtime: append types, numbers, time zones, rejects.

Each test writes its file, imports it through the runner, and reads the records read
model and the job's error report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dialstream.bootstrap import Runtime
from schemas.lists import ContactListSettings, CustomTimeZone, TimeZoneOptions
from tests.imports.support import by_client, new_list, rejections, run_import, running, write

HEADER = "client_id,home_phone,mobile,first_name\n"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("imports")) as started:
        yield started


def zones_list(runtime: Runtime, source: str, **options: object) -> object:
    return new_list(
        runtime,
        ContactListSettings(time_zones=TimeZoneOptions(source=source, **options)),  # type: ignore[arg-type]
    )


# Rows, chains and fields -------------------------------------------------------------------


def test_a_row_with_two_numbers_becomes_a_chain_of_two_records(runtime: Runtime, tmp_path: Path) -> None:
    source = write(tmp_path / "chain.csv", HEADER + "C1,(212) 555-0143,312-555-0199,Ada\n")
    list_id = new_list(runtime)
    job = run_import(runtime, list_id, source)
    assert job.status == "completed", job.reason
    assert (job.counts.rows, job.counts.imported, job.counts.records) == (1, 1, 2)
    chain = by_client(runtime, list_id)["C1"]
    assert [r["chain_n"] for r in chain] == [1, 2]
    assert [r["contact_info"] for r in chain] == ["+12125550143", "+13125550199"]
    assert [r["contact_info_type"] for r in chain] == [1, 4]  # home phone, mobile
    assert [(r["record_type"], r["record_status"], r["call_result"], r["attempt"]) for r in chain] == [
        (2, 1, 28, 0)
    ] * 2
    assert chain[0]["custom"] == {"first_name": "Ada"}
    assert chain[0]["chain_id"] == chain[1]["chain_id"] and chain[0]["record_id"] != chain[1]["record_id"]


def test_quoted_delimiters_embedded_newlines_bom_and_blank_lines(runtime: Runtime, tmp_path: Path) -> None:
    text = (
        "client_id;phone;note\n"
        '"C1";"212 555 0101";"semi; colon"\n'
        "\n"
        '"C2";"212 555 0102";"two\nlines"\n'
        "C3;212 555 0103;plain\n"
    )
    source = write(tmp_path / "bom.csv", "\ufeff" + text, newline="\r\n")
    list_id = new_list(runtime)
    job = run_import(runtime, list_id, source)
    assert job.status == "completed", job.reason
    chains = by_client(runtime, list_id)
    assert set(chains) == {"C1", "C2", "C3"}
    assert chains["C1"][0]["custom"]["note"] == "semi; colon"
    assert (
        chains["C2"][0]["custom"]["note"] == "two\r\nlines"
        or chains["C2"][0]["custom"]["note"] == "two\nlines"
    )
    assert chains["C3"][0]["line"] == 6  # the embedded newline and the blank line count


def test_latin1_file(runtime: Runtime, tmp_path: Path) -> None:
    source = write(tmp_path / "latin1.csv", "client_id,phone,city\nC1,2125550101,Málaga Straße\n", "latin-1")
    list_id = new_list(runtime)
    job = run_import(runtime, list_id, source)
    assert job.status == "completed", job.reason
    assert by_client(runtime, list_id)["C1"][0]["custom"]["city"] == "Málaga Straße"


def test_short_and_long_rows_are_rejected_with_their_lines(runtime: Runtime, tmp_path: Path) -> None:
    source = write(
        tmp_path / "ragged.csv",
        "client_id,phone,name\nC1,2125550101,Ann\nC2,2125550102\nC3,2125550103,Bo,extra\nC4,2125550104,Cy\n",
    )
    list_id = new_list(runtime)
    job = run_import(runtime, list_id, source)
    assert job.status == "completed"
    assert set(by_client(runtime, list_id)) == {"C1", "C4"}
    assert job.counts.rejected == 2
    assert [line for line, *_ in rejections(runtime, job.id)] == [3, 4]


# Append types ------------------------------------------------------------------------------


def test_duplicates_under_each_append_type(runtime: Runtime, tmp_path: Path) -> None:
    first = write(tmp_path / "first.csv", "client_id,phone,v\nA,2125550101,1\nB,2125550102,1\n")
    second = write(
        tmp_path / "second.csv", "client_id,phone,v\nB,2125550202,2\nC,2125550203,2\nC,2125550303,3\n"
    )

    def values(list_id: object) -> dict[str, tuple[str, str]]:
        return {
            c: (r[0]["contact_info"], r[0]["custom"]["v"]) for c, r in by_client(runtime, list_id).items()
        }

    # append only: duplicates (already in the list, or twice in the file) are ignored.
    list_id = new_list(runtime)
    run_import(runtime, list_id, first, append_type="append_only")
    job = run_import(runtime, list_id, second, append_type="append_only")
    assert values(list_id) == {
        "A": ("+12125550101", "1"),
        "B": ("+12125550102", "1"),
        "C": ("+12125550203", "2"),
    }
    assert (job.counts.imported, job.counts.ignored) == (1, 2)
    assert {f for _, f, _, _ in rejections(runtime, job.id)} == {"client_id"}

    # append and update: the later row overwrites.
    list_id = new_list(runtime)
    run_import(runtime, list_id, first, append_type="append_only")
    job = run_import(runtime, list_id, second, append_type="append_and_update")
    assert values(list_id) == {
        "A": ("+12125550101", "1"),
        "B": ("+12125550202", "2"),
        "C": ("+12125550303", "3"),
    }
    assert (job.counts.imported, job.counts.updated, job.counts.ignored) == (1, 2, 0)

    # flush and append: the list holds exactly the new file (first of each client id).
    list_id = new_list(runtime)
    run_import(runtime, list_id, first, append_type="append_only")
    job = run_import(runtime, list_id, second, append_type="flush_and_append")
    assert values(list_id) == {"B": ("+12125550202", "2"), "C": ("+12125550203", "2")}
    assert (job.counts.flushed, job.counts.imported, job.counts.ignored) == (2, 2, 1)

    # new list only: into an empty list, and never into one that holds records.
    list_id = new_list(runtime)
    assert run_import(runtime, list_id, first, append_type="new_list_only").status == "completed"
    again = run_import(runtime, list_id, second, append_type="new_list_only")
    assert again.status == "failed" and "new list only" in again.reason
    assert values(list_id) == {"A": ("+12125550101", "1"), "B": ("+12125550102", "1")}


# Numbers -----------------------------------------------------------------------------------


def test_invalid_and_foreign_numbers(runtime: Runtime, tmp_path: Path) -> None:
    source = write(
        tmp_path / "numbers.csv",
        HEADER
        + "UK,+44 20 7946 0000,,\n"
        + "DE,+49 30 901820,,\n"
        + "BAD,12345,,\n"
        + "TXT,call me,,\n"
        + "HALF,2125550101,999,\n"
        + "NONE,,,\n",
    )
    list_id = new_list(runtime)
    job = run_import(runtime, list_id, source)
    chains = by_client(runtime, list_id)
    assert chains["UK"][0]["contact_info"] == "+442079460000"
    assert chains["UK"][0]["time_zone"] == "Europe/London"
    assert chains["DE"][0]["time_zone"] == "Europe/Berlin"
    assert [r["contact_info"] for r in chains["HALF"]] == ["+12125550101"]  # the bad mobile is left out
    assert set(chains) == {"UK", "DE", "HALF"}
    assert (job.counts.rejected, job.counts.dropped) == (3, 1)
    report = {line: (field, reason) for line, field, reason, _ in rejections(runtime, job.id)}
    assert set(report) == {4, 5, 6, 7}
    assert report[6][0] == "mobile" and "left out" in report[6][1]


# Time zones --------------------------------------------------------------------------------

MAINLAND = {
    "NY": ("212-555-0143", "America/New_York"),
    "CHI": ("312-555-0143", "America/Chicago"),
    "DEN": ("303-555-0143", "America/Denver"),
    "PHX": ("602-555-0143", "America/Phoenix"),
    "LA": ("213-555-0143", "America/Los_Angeles"),
    "HI": ("808-555-0143", "Pacific/Honolulu"),
}


def test_device_zones_mainland_alaska_hawaii_and_toll_free(runtime: Runtime, tmp_path: Path) -> None:
    rows = (
        "".join(f"{c},{n},,\n" for c, (n, _) in MAINLAND.items()) + "AK,907-555-0143,,\nTF,800-555-0143,,\n"
    )
    list_id = zones_list(runtime, "device")
    run_import(runtime, list_id, write(tmp_path / "zones.csv", HEADER + rows))
    chains = by_client(runtime, list_id)
    for client, (_, zone) in MAINLAND.items():
        assert (chains[client][0]["time_zone"], chains[client][0]["time_zone_rule"]) == (zone, "device")
    alaska = chains["AK"][0]
    assert {alaska["time_zone"], alaska["second_time_zone"]} == {"America/Anchorage", "America/Adak"}
    toll_free = chains["TF"][0]
    assert (toll_free["time_zone"], toll_free["time_zone_rule"]) == ("America/New_York", "default")


def test_postal_code_overrides_the_device_under_contact_source(runtime: Runtime, tmp_path: Path) -> None:
    source = write(
        tmp_path / "postal.csv",
        "client_id,phone,postal_code,time_zone\nP1,213-555-0143,10001,\nZ1,213-555-0144,,America/Chicago\n"
        "NO,213-555-0145,,\nBADZONE,213-555-0146,,Mars/Olympus\n",
    )
    list_id = zones_list(runtime, "contact")
    run_import(runtime, list_id, source)
    chains = by_client(runtime, list_id)
    assert (chains["P1"][0]["time_zone"], chains["P1"][0]["time_zone_rule"]) == (
        "America/New_York",
        "postal_code",
    )
    assert (chains["Z1"][0]["time_zone"], chains["Z1"][0]["time_zone_rule"]) == (
        "America/Chicago",
        "contact_zone",
    )
    assert chains["NO"][0]["time_zone_rule"] in ("default", "default_on_error")
    assert chains["BADZONE"][0]["time_zone_rule"] == "default_on_error"


def test_contact_then_device_and_contact_and_device(runtime: Runtime, tmp_path: Path) -> None:
    text = "client_id,phone,postal_code\nP1,213-555-0143,10001\nD1,213-555-0144,\n"
    then_list = zones_list(runtime, "contact_then_device")
    run_import(runtime, then_list, write(tmp_path / "then.csv", text))
    chains = by_client(runtime, then_list)
    assert (chains["P1"][0]["time_zone"], chains["P1"][0]["time_zone_rule"]) == (
        "America/New_York",
        "postal_code",
    )
    assert (chains["D1"][0]["time_zone"], chains["D1"][0]["time_zone_rule"]) == (
        "America/Los_Angeles",
        "device",
    )

    both_list = zones_list(runtime, "contact_and_device")
    run_import(runtime, both_list, write(tmp_path / "both.csv", text))
    both = by_client(runtime, both_list)["P1"][0]
    assert {both["time_zone"], both["second_time_zone"]} == {"America/New_York", "America/Los_Angeles"}


def test_custom_time_zones_win_when_on(runtime: Runtime, tmp_path: Path) -> None:
    custom = [CustomTimeZone(country_code="US", area_code="212", time_zone="America/Chicago")]
    text = "client_id,phone\nC1,212-555-0143\nC2,312-555-0143\n"
    on = zones_list(runtime, "device", use_custom_time_zones=True, custom_time_zones=custom)
    run_import(runtime, on, write(tmp_path / "custom.csv", text))
    chains = by_client(runtime, on)
    assert (chains["C1"][0]["time_zone"], chains["C1"][0]["time_zone_rule"]) == ("America/Chicago", "custom")
    assert chains["C2"][0]["time_zone_rule"] == "device"
    off = zones_list(runtime, "device", use_custom_time_zones=False, custom_time_zones=custom)
    run_import(runtime, off, write(tmp_path / "custom-off.csv", text))
    assert by_client(runtime, off)["C1"][0]["time_zone"] == "America/New_York"


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "empty"),
        ("binary.bin", bytes(range(256)) * 64, "binary"),
        ("noclient.csv", b"name,phone\nAnn,2125550101\n", "client"),
    ],
)
def test_unreadable_files_fail_the_job_clearly(
    runtime: Runtime, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    list_id = new_list(runtime)
    job = run_import(runtime, list_id, path)
    assert job.status == "failed"
    assert expected in job.reason.lower(), job.reason
    assert name in job.reason
    assert by_client(runtime, list_id) == {}
