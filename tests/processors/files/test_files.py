"""The row source of a contact-list import, on real files written into tmp_path.

Delimited and fixed-width files; detection of the delimiter and the encoding; line numbers
and byte offsets (checked against the csv module reading the whole file, with tiny read
blocks so that every block boundary is crossed); resuming from any row; and bad input,
including a 2 GiB file of one line, read with flat memory.
"""

from __future__ import annotations

import contextlib
import csv
import random
import shutil
import sqlite3
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from processors.files import lines as files_lines
from processors.files import source as files
from processors.files.source import (
    Column,
    FileProblem,
    Layout,
    LayoutProblem,
    Opened,
    Row,
    RowProblem,
    last_line,
    open_file,
    read_rows,
)
from processors.files.types import Encoding

BIG_FILE_BYTES = 2 * 1024**3  # the one-line file: 2 GiB of one character, no line break
BIG_FILE_MIN_FREE = 10 * 1024**3  # refuse to write it with less free disk than this
WRITE_BLOCK = 64 * 1024**2
FLAT_MEMORY = 8 * 1024**2  # peak Python allocations allowed while reading it


def write(path: Path, text: str | bytes, encoding: str = "utf-8") -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def read(path: Path, layout: Layout | None = None) -> tuple[Opened, list[Row | RowProblem]]:
    layout = layout or Layout()
    opened = open_file(path, layout)
    return opened, list(read_rows(path, layout, opened))


def values(items: list[Row | RowProblem]) -> list[tuple[int, list[str]] | tuple[int, str]]:
    return [(i.line, i.values) if isinstance(i, Row) else (i.line, i.reason) for i in items]


def problem(path: Path, layout: Layout | None = None) -> FileProblem:
    with pytest.raises(FileProblem) as raised:
        read(path, layout)
    return raised.value


# Delimited files ---------------------------------------------------------------------------


def test_quoted_delimiters_doubled_quotes_and_embedded_newlines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "quoted.csv",
        "id,name,note\n"
        '1,"Smith, Ann","said ""hi"""\n'
        '2,Bob,"two\nlines"\n'
        '3,Cy,"three\r\nlines\nhere"\n'
        "4,Di,plain\n",
    )
    opened, rows = read(path)
    assert opened.columns == ["id", "name", "note"]
    assert (opened.data_line, opened.data_offset) == (2, len(b"id,name,note\n"))
    assert values(rows) == [
        (2, ["1", "Smith, Ann", 'said "hi"']),
        (3, ["2", "Bob", "two\nlines"]),
        (5, ["3", "Cy", "three\r\nlines\nhere"]),
        (8, ["4", "Di", "plain"]),  # the lines inside quotes count
    ]
    assert [last_line(r) for r in rows] == [2, 4, 7, 8]
    assert [r.end_offset for r in rows][-1] == path.stat().st_size


def test_end_offsets_are_just_after_each_row(tmp_path: Path) -> None:
    text = 'a;b\r\n1;"x\r\ny"\r\n\r\n2;z\r\n3;w'
    path = write(tmp_path / "offsets.csv", text)
    _, rows = read(path)
    data = text.encode()
    assert [r.end_offset for r in rows] == [data.index(b"\r\n\r\n") + 2, data.index(b"3;w"), len(data)]


def test_bom_utf8_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", "\ufeffclient_id;ville\r\nC1;Orléans\r\n")
    opened, rows = read(path)
    assert opened.columns == ["client_id", "ville"]
    assert opened.encoding == "utf-8"
    assert opened.data_offset == 3 + len(b"client_id;ville\r\n")
    assert opened.dialect == "delimiter ';' (detected), quote '\"', UTF-8 with BOM, CRLF"
    assert values(rows) == [(2, ["C1", "Orléans"])]


def test_latin1_and_cp1252_files(tmp_path: Path) -> None:
    text = "id,city,street\n1,Málaga,Hauptstraße\n2,Besançon,Rue d'Été\n"
    opened, rows = read(write(tmp_path / "latin1.csv", text, "latin-1"))
    assert opened.encoding == "cp1252"  # auto: not UTF-8; every byte defined in cp1252
    assert values(rows) == [(2, ["1", "Málaga", "Hauptstraße"]), (3, ["2", "Besançon", "Rue d'Été"])]
    assert "cp1252" in opened.dialect

    opened, rows = read(write(tmp_path / "euro.csv", "id,price\n1,5 €\n", "cp1252"))
    assert (opened.encoding, values(rows)) == ("cp1252", [(2, ["1", "5 €"])])

    # 0x81 is undefined in cp1252: Latin-1, where every byte is a character
    opened, rows = read(write(tmp_path / "c1.csv", b"id,v\n1,\x81\xe9\n"))
    assert (opened.encoding, values(rows)) == ("latin-1", [(2, ["1", "\x81é"])])

    layout = Layout(encoding="latin-1")
    opened, rows = read(write(tmp_path / "given.csv", text, "latin-1"), layout)
    assert opened.encoding == "latin-1" and values(rows)[0] == (2, ["1", "Málaga", "Hauptstraße"])


def test_auto_encoding_samples_beyond_a_plain_ascii_start(tmp_path: Path) -> None:
    lines = ["id,name\n"] + [f"{n},plain ascii name {n}\n" for n in range(20_000)] + ["20000,Zoë\n"]
    path = write(tmp_path / "late.csv", "".join(lines), "latin-1")
    assert path.stat().st_size > 5 * files.SAMPLE  # the first sample is plain ASCII
    opened, rows = read(path)
    assert opened.encoding == "cp1252"
    assert rows[-1] == Row(20_002, path.stat().st_size, ["20000", "Zoë"])


def test_a_line_that_is_not_utf8_in_a_utf8_file_is_a_row_problem(tmp_path: Path) -> None:
    good = "id,name\n" + "".join(f"{n},Zoë {n}\n" for n in range(7000))  # the first 64 KiB: UTF-8
    bad = b"7000,Zo\xeb\n" + b'7001,"multi\nZo\xeb"\n' + b"7002,ok\n"
    path = write(tmp_path / "mixed.csv", good.encode() + bad)
    assert len(good.encode()) > files.SAMPLE
    opened, rows = read(path)
    assert opened.encoding == "utf-8"
    assert len(rows) == 7003
    alone, inside, after = rows[-3:]
    assert isinstance(alone, RowProblem) and alone.line == 7002
    assert alone.reason.startswith("line 7002 is not valid UTF-8 (byte 0xEB at byte 8 of the line)")
    assert "latin-1" in alone.reason  # how to name the file's encoding
    assert (alone.raw, alone.end_offset) == ("7000,Zo\ufffd", len(good.encode()) + 9)
    assert isinstance(inside, RowProblem)
    assert (inside.line, inside.lines, inside.raw) == (7003, 2, '7001,"multi\nZo\ufffd"')
    assert inside.reason.startswith("lines 7003-7004: line 7004 is not valid UTF-8")
    assert after == Row(7005, path.stat().st_size, ["7002", "ok"])


@pytest.mark.parametrize(
    ("newline", "name"),
    [("\n", "LF"), ("\r\n", "CRLF"), ("\r", "CR")],
)
def test_line_endings(tmp_path: Path, newline: str, name: str) -> None:
    text = newline.join(["a,b", "1,x", "", '2,"y', 'z"', "3,w"]) + newline
    opened, rows = read(write(tmp_path / "endings.csv", text))
    assert opened.dialect.endswith(name)
    assert values(rows) == [(2, ["1", "x"]), (4, ["2", f"y{newline}z"]), (6, ["3", "w"])]


@pytest.mark.parametrize(
    ("encoding", "odd"),
    [("utf-8", "\x0c\x0b\x1c"), ("utf-8", "\u2028\x85"), ("latin-1", "\x85")],
)
def test_characters_str_splitlines_breaks_at_are_not_line_breaks(
    tmp_path: Path, encoding: Encoding, odd: str
) -> None:
    text = f"a,b\n1,x{odd}y\n2,z\n"
    _, rows = read(write(tmp_path / "odd.csv", text, encoding), Layout(encoding=encoding))
    assert values(rows) == [(2, ["1", f"x{odd}y"]), (3, ["2", "z"])]
    assert rows[-1].end_offset == len(text.encode(encoding))


def test_mixed_line_endings(tmp_path: Path) -> None:
    opened, rows = read(write(tmp_path / "mixed.csv", "a,b\r\n1,x\n2,y\r\n3,z\r4,v"))
    assert opened.dialect.endswith("mixed line endings (CRLF 2, LF 1, CR 1)")
    assert values(rows) == [(2, ["1", "x"]), (3, ["2", "y"]), (4, ["3", "z"]), (5, ["4", "v"])]


def test_line_endings_of_a_file_larger_than_the_sample_say_they_come_from_the_sample(tmp_path: Path) -> None:
    rows = "".join(f"{n},x\r\n" for n in range(20_000))
    path = write(tmp_path / "big.csv", "a,b\r\n" + rows + "20000,y\n20001,z\n")
    assert path.stat().st_size > files.SAMPLE
    opened, _ = read(path)
    assert opened.dialect.endswith(", CRLF (detected in the first 64 KiB)"), opened.dialect

    path = write(tmp_path / "mixed.csv", "a,b\r\n" + "1,x\n2,y\r\n" * 10_000)
    opened, _ = read(path)
    assert "mixed line endings in the first 64 KiB (CRLF " in opened.dialect, opened.dialect


def test_blank_lines_are_neither_rows_nor_problems(tmp_path: Path) -> None:
    text = "\n\n  \na,b,c\n\n1,2,3\n   \n,,\n , ,\t\n\r\n4,5,6\n\n"
    opened, rows = read(write(tmp_path / "blank.csv", text))
    assert opened.data_line == 5
    assert values(rows) == [(6, ["1", "2", "3"]), (11, ["4", "5", "6"])]


def test_rows_with_the_wrong_number_of_values(tmp_path: Path) -> None:
    text = 'a,b,c,d\n1,2,3,4\n1,2,3\n1,2,3,4,5\n1,2,3,4,,\n,2,3,4\n1,2,3,4, \n1,"x\ny",3\n'
    _, rows = read(write(tmp_path / "ragged.csv", text))
    assert values(rows) == [
        (2, ["1", "2", "3", "4"]),
        (3, "line 3 has 3 values, the header has 4 columns"),
        (4, "line 4 has 5 values, the header has 4 columns"),
        (5, ["1", "2", "3", "4"]),  # trailing delimiters only: accepted
        (6, ["", "2", "3", "4"]),
        (7, ["1", "2", "3", "4"]),
        (8, "the row on lines 8-9 has 3 values, the header has 4 columns"),
    ]
    assert [r.raw for r in rows if isinstance(r, RowProblem)] == ["1,2,3", "1,2,3,4,5", '1,"x\ny",3']


@pytest.mark.parametrize(
    ("text", "delimiter", "name"),
    [
        ("id;name;amount\n1;Ann;2,50\n2;Bob;3,75\n", ";", "';'"),
        ("id\tname\tnote\n1\tAnn\ta, b; c\n2\tBob\tx|y\n", "\t", "tab"),
        ("id|name|note\n1|Ann|a,b\n2|Bob|c;d\n", "|", "'|'"),
        ('id,name,note\n1,Ann,"a;b;c"\n2,Bob,"d;e;f"\n', ",", "','"),
        ('"id";"name"\n"1";"Smith, Ann"\n"2";"Doe, Jo"\n', ";", "';'"),
    ],
)
def test_delimiter_detection(tmp_path: Path, text: str, delimiter: str, name: str) -> None:
    opened, rows = read(write(tmp_path / "detect.csv", text))
    assert opened.delimiter == delimiter
    assert opened.dialect.startswith(f"delimiter {name} (detected), quote '\"'")
    assert all(isinstance(r, Row) for r in rows) and len(rows) == 2


def test_a_given_delimiter_is_used_and_a_single_column_is_fine(tmp_path: Path) -> None:
    opened, rows = read(write(tmp_path / "given.csv", "a;b,c\n1;2,3\n"), Layout(delimiter=","))
    assert opened.columns == ["a;b", "c"] and opened.dialect.startswith("delimiter ','")
    assert "(detected)" not in opened.dialect and values(rows) == [(2, ["1;2", "3"])]
    opened, rows = read(write(tmp_path / "one.csv", "phone\n2125550101\n2125550102\n"))
    assert opened.columns == ["phone"] and opened.dialect.startswith("one column")
    assert values(rows) == [(2, ["2125550101"]), (3, ["2125550102"])]


def test_skip_lines_and_header_names(tmp_path: Path) -> None:
    text = "EXPORT 2024-05-01, by the CRM\nrows: 2\n  id , name ,,\n1,Ann,,\n2,Bob\n"
    opened, rows = read(write(tmp_path / "banner.csv", text), Layout(skip_lines=2, delimiter=","))
    assert opened.columns == ["id", "name"]  # stripped; trailing empty names dropped
    assert (opened.data_line, opened.data_offset) == (4, text.index("1,Ann"))
    assert values(rows) == [(4, ["1", "Ann"]), (5, ["2", "Bob"])]


def test_many_blank_and_skipped_lines_before_the_header(tmp_path: Path) -> None:
    layout = Layout(skip_lines=3, max_line_bytes=100)  # far fewer bytes than the lines before the header
    text = "banner\n" * 3 + "\n" * 300_000 + "id,v\n1,x\n"
    opened, rows = read(write(tmp_path / "spaced.csv", text), layout)
    assert (opened.columns, opened.data_line) == (["id", "v"], 300_005)
    assert rows == [Row(300_005, len(text), ["1", "x"])]


def test_no_header_with_listed_columns(tmp_path: Path) -> None:
    layout = Layout(header=False, columns=(Column("id"), Column("phone")))
    opened, rows = read(write(tmp_path / "noheader.csv", "1;2125550101\n2;2125550102;x\n"), layout)
    assert opened.columns == ["id", "phone"]
    assert (opened.data_line, opened.data_offset, opened.delimiter) == (1, 0, ";")
    assert values(rows) == [
        (1, ["1", "2125550101"]),
        (2, "line 2 has 3 values, the specification lists 2 columns"),
    ]


def test_listed_columns_rename_a_header_of_the_same_width(tmp_path: Path) -> None:
    layout = Layout(columns=(Column("client_id"), Column("phone")))
    opened, rows = read(write(tmp_path / "renamed.csv", "Kunde,Telefon\n1,2\n"), layout)
    assert opened.columns == ["client_id", "phone"] and values(rows) == [(2, ["1", "2"])]
    reason = problem(write(tmp_path / "wider.csv", "a,b,c\n1,2,3\n"), layout).reason
    assert reason == "the header (line 1) has 3 columns, the specification lists 2: 'client_id', 'phone'"


def test_text_after_a_closing_quote_is_a_row_problem(tmp_path: Path) -> None:
    _, rows = read(write(tmp_path / "bad-quote.csv", 'a,b\n1,"x"y\n2,"z"\n'))
    assert values(rows) == [
        (
            2,
            'line 2: text follows a closing quote before the delimiter (a quote inside a quoted value is written twice: "")',
        ),
        (3, ["2", "z"]),
    ]


def test_an_unterminated_quote_at_the_end_is_a_row_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "open.csv", 'a,b\n1,x\n2,"never closed\nmore\n')
    _, rows = read(path)
    assert rows[0] == Row(2, 8, ["1", "x"])
    assert rows[1] == RowProblem(
        3,
        path.stat().st_size,
        "lines 3-4: a quoted value is not closed before the end of the file",
        '2,"never closed\nmore',
        2,
    )


def test_an_unterminated_quote_in_the_middle_stops_at_the_field_limit(tmp_path: Path) -> None:
    rows_after = "".join(f"{n},v{n}\n" for n in range(30_000))  # > 131072 characters
    _, rows = read(write(tmp_path / "open-middle.csv", 'a,b\n1,"open\n' + rows_after))
    first = rows[0]
    assert isinstance(first, RowProblem) and first.line == 2
    assert "a value is longer than 131072 characters (is a quote not closed?)" in first.reason
    assert all(isinstance(r, Row) for r in rows[1:])  # reading goes on after the problem
    assert rows[-1] == Row(30_002, rows[-1].end_offset, ["29999", "v29999"])


def test_a_row_longer_than_the_limit_over_several_lines_is_a_row_problem(tmp_path: Path) -> None:
    layout = Layout(max_line_bytes=100)
    text = 'a,b\n1,"' + "ab\n" * 40 + '"\n2,"' + "ab\n" * 30 + '"\n3,x\n'
    _, rows = read(write(tmp_path / "tall.csv", text), layout)
    assert values(rows) == [
        (2, "the row on lines 2-42 is longer than 100 bytes (125 bytes)"),
        (43, ["2", "ab\n" * 30]),
        (74, ["3", "x"]),
    ]


def test_a_row_left_open_over_many_values_is_cut_with_flat_memory(tmp_path: Path) -> None:
    """Each line closes a quote and opens the next one: no value reaches the csv module's
    field limit, yet the row never ends. It is cut at the first block end past max_line_bytes,
    where a read resumed after any row cuts it too."""
    layout = Layout(max_line_bytes=10_000)
    path = write(tmp_path / "runaway.csv", 'a,b\n1,"x\n' + 'y","z\n' * 200_000 + 'w"\n2,ok\n')
    tracemalloc.start()
    try:
        _, rows = read(path, layout)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < FLAT_MEMORY
    first = rows[0]
    assert isinstance(first, RowProblem) and first.line == 2
    assert "a quoted value is still open after" in first.reason
    assert first.end_offset < layout.max_line_bytes + 2 * files_lines.CHUNK
    assert rows[-1] == Row(200_004, path.stat().st_size, ["2", "ok"])  # line numbers stay right
    opened = open_file(path, layout)
    for k in (0, 1, len(rows) // 2, len(rows) - 2):
        assert resumed(path, layout, opened, rows[k]) == rows[k + 1 :], k


# Lines too long -----------------------------------------------------------------------------


def test_a_data_line_longer_than_the_limit_is_skipped(tmp_path: Path) -> None:
    layout = Layout(max_line_bytes=1000)
    long_in_block = "1," + "x" * 1500 + "\n"
    long_over_blocks = "2," + "y" * (3 * files_lines.CHUNK) + "\r\n"
    text = (
        "a,b\n" + long_in_block + "3,ok\n" + long_over_blocks + "4,ok\n" + '5,"q\n' + "z" * 1200 + '"\n6,ok'
    )
    path = write(tmp_path / "long.csv", text)
    _, rows = read(path, layout)
    assert values(rows) == [
        (2, "line 2 is longer than 1000 bytes (1503 bytes)"),
        (3, ["3", "ok"]),
        (4, f"line 4 is longer than 1000 bytes ({len(long_over_blocks)} bytes)"),
        (5, ["4", "ok"]),
        (6, "lines 6-7: line 7 is longer than 1000 bytes (1202 bytes)"),
        (8, ["6", "ok"]),
    ]
    assert rows[2].end_offset == text.index("4,ok")
    assert isinstance(rows[0], RowProblem) and rows[0].raw == "1," + "x" * 198


def test_a_header_longer_than_the_limit_is_a_file_problem(tmp_path: Path) -> None:
    header = ",".join(f"c{n}" for n in range(500)) + "\n"
    found = problem(write(tmp_path / "wide.csv", header + "1\n"), Layout(max_line_bytes=1000))
    assert found.reason == f"line 1 (the header) is longer than 1000 bytes ({len(header)} bytes)"
    assert found.line == 1


@pytest.fixture(scope="module")
def one_line_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("one-line")
    free = shutil.disk_usage(folder).free
    if free < BIG_FILE_MIN_FREE:
        pytest.fail(
            f"the one-line file test writes {BIG_FILE_BYTES} bytes and wants {BIG_FILE_MIN_FREE} bytes free "
            f"in {folder}; {free} are free"
        )
    path = folder / "one-line.csv"
    block = b"x" * WRITE_BLOCK
    try:
        with path.open("wb") as out:
            for _ in range(BIG_FILE_BYTES // WRITE_BLOCK):
                out.write(block)
        del block
        yield path
    finally:
        path.unlink(missing_ok=True)


def test_a_2gib_file_of_one_line_fails_at_once_with_flat_memory(one_line_file: Path) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(FileProblem) as raised:
            open_file(one_line_file, Layout())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert raised.value.reason.startswith("line 1 is longer than 1048576 bytes: no line break in its first")
    assert raised.value.line == 1
    assert peak < FLAT_MEMORY


def test_a_2gib_data_line_is_skipped_with_flat_memory(one_line_file: Path) -> None:
    layout = Layout(header=False, columns=(Column("a"),))
    tracemalloc.start()
    try:
        opened = open_file(one_line_file, layout)
        rows = list(read_rows(one_line_file, layout, opened))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == [
        RowProblem(
            1,
            BIG_FILE_BYTES,
            f"line 1 is longer than 1048576 bytes ({BIG_FILE_BYTES} bytes, "
            "with no line break before the end of the file)",
            "x" * 200,
        )
    ]
    assert peak < FLAT_MEMORY


# Fixed width -------------------------------------------------------------------------------

FIXED = (Column("id", 1, 4), Column("phone", 5, 10), Column("name", 16, 8))


def fixed(id_: str, phone: str, name: str) -> str:
    return f"{id_:4}{phone:10} {name:8}"


def test_fixed_width_rows(tmp_path: Path) -> None:
    lines = [
        fixed("ID", "PHONE", "NAME"),
        fixed("0001", "2125550101", "Ann Lee"),
        "",
        fixed("  02", "3125550190", "Bö"),
        "0003" + "3035550190" + " Cy",  # shorter than the last column's end
        " " * 23,
        fixed("0004", "4045550100", "Di Long") + " and more",  # past the last column: ignored
    ]
    path = write(tmp_path / "fixed.txt", "\r\n".join(lines) + "\r\n", "cp1252")
    opened, rows = read(path, Layout(format="fixed_width", columns=FIXED))
    assert opened.columns == ["id", "phone", "name"]
    assert (opened.data_line, opened.data_offset, opened.delimiter) == (2, 25, "")
    assert opened.dialect == "fixed width, 3 columns, cp1252, CRLF"
    assert values(rows) == [
        (2, ["0001", "2125550101", "Ann Lee"]),
        (4, ["02", "3125550190", "Bö"]),
        (5, "line 5 is 17 characters long; the specification's columns need 23"),
        (7, ["0004", "4045550100", "Di Long"]),
    ]
    assert rows[-1].end_offset == path.stat().st_size


def test_fixed_width_without_header_and_one_column(tmp_path: Path) -> None:
    layout = Layout(format="fixed_width", header=False, skip_lines=1, columns=(Column("phone", 3, 5),))
    _, rows = read(write(tmp_path / "one.txt", "banner\nxx12345yy\nxx678\n"), layout)
    assert values(rows) == [
        (2, ["12345"]),
        (3, "line 3 is 5 characters long; the specification's columns need 7"),
    ]


@pytest.mark.parametrize(
    ("layout", "reason"),
    [
        (
            Layout(format="fixed_width", columns=(Column("a", 1, 5), Column("b", 5, 2))),
            "column 'b' (characters 5-6) overlaps column 'a' (characters 1-5)",
        ),
        (Layout(format="fixed_width"), "a fixed-width file needs its columns"),
        (Layout(format="fixed_width", columns=(Column("a", 0, 5),)), "column 'a' needs a start (1-based)"),
        (Layout(header=False), "a file without a header line needs its columns listed"),
        (Layout(columns=(Column("a"), Column("a "))), "column 'a' is listed twice"),
        (Layout(delimiter='"'), "the delimiter '\"' must be one character, not a line break nor the quote"),
    ],
)
def test_a_wrong_layout_is_a_clear_problem(tmp_path: Path, layout: Layout, reason: str) -> None:
    path = write(tmp_path / "any.txt", "a,b\n1,2\n")
    with pytest.raises(LayoutProblem) as raised:
        open_file(path, layout)
    assert raised.value.reason.startswith("the file's specification is wrong: ")
    assert reason in raised.value.reason
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, FileProblem)


# Files that cannot be read -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "layout", "expected"),
    [
        (b"", Layout(), "the file is empty"),
        (
            bytes(range(256)) * 64,
            Layout(),
            "the file is binary, not text: it holds NUL bytes (the first at byte 1)",
        ),
        (
            b"PK\x03\x04" + bytes(300),
            Layout(),
            "the file is binary: a ZIP archive (an Excel .xlsx workbook is one)",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
            Layout(),
            "the file is binary: an Office document",
        ),
        ("a,b\n".encode("utf-16"), Layout(), "the file is UTF-16 text"),
        (
            "a,b\n1,2\n".encode("utf-16-le"),
            Layout(),
            "the file looks like UTF-16 text without a byte order mark",
        ),
        (b"-----BEGIN PGP MESSAGE-----\n\nhQEMA\n", Layout(), "the file is OpenPGP-encrypted"),
        (bytes(range(1, 32)) * 50, Layout(), "the file is binary, not text: 80% of its first 1550 bytes"),
        (
            bytes(range(128, 256)) * 50 + b"\n",
            Layout(),
            "the file is not UTF-8 text and 99% of its sampled bytes are not ASCII",
        ),
        (b"\n\n   \n", Layout(), "the file has no header line: it holds only blank lines"),
        (
            b"banner\n",
            Layout(skip_lines=1),
            "the file has no header line: it holds only blank lines after the 1 skipped line",
        ),
        (
            b'"a,b\n1,2\n',
            Layout(),
            "the header cannot be read: lines 1-2: a quoted value is not closed before the end of the file",
        ),
        (b"a,,b\n1,2,3\n", Layout(), "the header (line 1) has no name for column 2 (between 'a' and 'b')"),
        (b"a, b ,b\n1,2,3\n", Layout(), "the header (line 1) names column 'b' twice (columns 2 and 3)"),
        (b",,\n1,2,3\n", Layout(), "the header (line 1) names no columns"),
        (
            b"a,b\xff\n",
            Layout(encoding="utf-8"),
            "line 1 (the header) is not valid UTF-8 (byte 0xFF at byte 4",
        ),
        (b"\xef\xbb\xbfa,b\n", Layout(encoding="latin-1"), "the file starts with a UTF-8 byte order mark"),
        (
            b"banner\na,b\xff\n1,2\n",
            Layout(skip_lines=1, encoding="utf-8"),
            "line 2 (the header) is not valid UTF-8 (byte 0xFF at byte 4",
        ),
        (b'a,"b\nc\xff"\n1,2\n', Layout(encoding="utf-8"), "line 2 (the header) is not valid UTF-8"),
    ],
)
def test_files_that_cannot_be_read(tmp_path: Path, content: bytes, layout: Layout, expected: str) -> None:
    found = problem(write(tmp_path / "bad.csv", content), layout)
    assert found.reason.startswith(expected), found.reason


def test_an_executable_is_named_as_one(tmp_path: Path) -> None:
    elf = Path(shutil.which("true") or "/bin/true")
    assert elf.read_bytes()[:4] == b"\x7fELF"
    copied = shutil.copyfile(elf, tmp_path / "contacts.csv")
    assert problem(copied).reason == "the file is binary: an executable program (ELF), not text"

    pe = bytearray(512)
    pe[:2], pe[60:64], pe[128:132] = b"MZ", (128).to_bytes(4, "little"), b"PE\x00\x00"
    found = problem(write(tmp_path / "setup.csv", bytes(pe)))
    assert found.reason == "the file is binary: an executable program (Windows .exe or .dll), not text"
    macho = b"\xcf\xfa\xed\xfe" + bytes(300)
    assert "executable program (Mach-O)" in problem(write(tmp_path / "macho.csv", macho)).reason


def test_other_binary_formats_by_their_first_bytes(tmp_path: Path) -> None:
    database = tmp_path / "crm.db"
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE contacts (client_id TEXT, phone TEXT)")
        connection.commit()
    assert problem(database).reason.startswith("the file is binary: an SQLite database, not text")
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    assert problem(write(tmp_path / "logo.csv", png)).reason == "the file is binary: a PNG image, not text"


def test_text_starting_with_mz_is_text(tmp_path: Path) -> None:
    opened, rows = read(write(tmp_path / "mz.csv", "MZ_ID,phone\nMZ1,2125550101\n"))
    assert opened.columns == ["MZ_ID", "phone"] and values(rows) == [(2, ["MZ1", "2125550101"])]


def test_utf16_without_a_byte_order_mark_either_way(tmp_path: Path) -> None:
    for codec in ("utf-16-le", "utf-16-be"):
        found = problem(write(tmp_path / f"{codec}.csv", "client_id,phone\nC1,2125550101\n".encode(codec)))
        assert found.reason.startswith("the file looks like UTF-16 text without a byte order mark"), codec


def test_skipping_past_the_end_is_a_file_problem(tmp_path: Path) -> None:
    found = problem(write(tmp_path / "short.csv", "one\ntwo\n"), Layout(skip_lines=3))
    assert found.reason == "the file ends within the 3 lines its specification skips"


def test_a_file_with_only_a_header_has_no_rows(tmp_path: Path) -> None:
    opened, rows = read(write(tmp_path / "header.csv", "a,b"))
    assert (opened.columns, opened.data_offset, rows) == (["a", "b"], 3, [])


def test_a_file_changed_since_it_was_opened(tmp_path: Path) -> None:
    path = write(tmp_path / "changing.csv", "a,b\n1,2\n")
    opened = open_file(path, Layout())
    write(path, "a,b\n1,2\n3,4\n")
    with pytest.raises(FileProblem, match="the file changed since it was opened"):
        read_rows(path, Layout(), opened)


# Resume ------------------------------------------------------------------------------------


def resumed(path: Path, layout: Layout, opened: Opened, after: Row | RowProblem) -> list[Row | RowProblem]:
    return list(
        read_rows(path, layout, opened, start_offset=after.end_offset, start_line=last_line(after) + 1)
    )


def test_resume_after_any_row_gives_the_same_rows(tmp_path: Path) -> None:
    text = (
        "id,note\n"
        '1,"a\nb"\n'  # multi-line row
        "\n"
        "2,x\n"
        '3,"c\r\nd\re"\n'
        "4,y,extra\n"  # problem
        "\r\n"
        '5,"f"\n'
        "6,z"
    )
    path = write(tmp_path / "resume.csv", text)
    layout = Layout()
    opened, rows = read(path, layout)
    assert len(rows) == 6
    for k, row in enumerate(rows):
        assert resumed(path, layout, opened, row) == rows[k + 1 :], k


def test_resume_rejects_an_offset_inside_a_line(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "a,b\n1,2\n3,4\n")
    opened = open_file(path, Layout())
    with pytest.raises(ValueError, match="not at the start of a line"):
        read_rows(path, Layout(), opened, start_offset=6, start_line=2)
    with pytest.raises(ValueError, match="start_offset needs start_line"):
        read_rows(path, Layout(), opened, start_offset=8)
    assert list(read_rows(path, Layout(), opened, start_offset=8, start_line=3)) == [Row(3, 12, ["3", "4"])]


def _random_file(rng: random.Random, rows: int) -> tuple[str, list[str]]:
    """A CSV file of random rows: quoted delimiters, quotes and line breaks, accents, blank
    lines, every line ending; and the expected header."""
    alphabet = ["a", "b", "é", "ß", "€", " ", ",", '"', "\n", "\r\n", "\r", "日"]
    header = ["id", "name", "note"]
    endings = ["\n", "\r\n", "\r"]
    out = [",".join(header) + "\n"]
    for n in range(rows):
        cells = [f"R{n}"] + [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(2)
        ]
        quoted = [
            f'"{c.replace(chr(34), chr(34) * 2)}"'
            if any(ch in c for ch in ',"\r\n') or rng.random() < 0.1
            else c
            for c in cells
        ]
        out.append(",".join(quoted) + rng.choice(endings))
        if rng.random() < 0.05:
            out.append(rng.choice(endings))  # a blank line (a CR then LF would be one CRLF)
            if out[-1] == "\n" and out[-2].endswith("\r"):
                out[-1] = "\r"
    return "".join(out), header


def _reference(data: bytes, opened: Opened) -> list[Row]:
    """What the rows must be: the csv module over the file's lines, offsets added up."""
    lines = data[opened.data_offset :].splitlines(True)
    ends = [opened.data_offset]
    for line in lines:
        ends.append(ends[-1] + len(line))
    reader = csv.reader((line.decode(opened.encoding) for line in lines), strict=True)
    rows, before = [], 0
    for got in reader:
        if "".join(got).strip():
            rows.append(Row(opened.data_line + before, ends[reader.line_num], got, reader.line_num - before))
        before = reader.line_num
    return rows


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 4096])
def test_every_block_boundary_gives_the_rows_of_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    rng = random.Random(chunk)
    text, header = _random_file(rng, 400)
    path = write(tmp_path / "random.csv", text)
    monkeypatch.setattr(files_lines, "CHUNK", chunk)
    layout = Layout(delimiter=",")
    opened, rows = read(path, layout)
    assert opened.columns == header
    expected = _reference(path.read_bytes(), opened)
    assert rows == expected
    for k in range(0, len(rows), 37):
        assert resumed(path, layout, opened, rows[k]) == rows[k + 1 :]


def test_a_large_file_across_many_blocks_resumes_exactly(tmp_path: Path) -> None:
    rng = random.Random(11)
    text, _ = _random_file(rng, 30_000)
    path = write(tmp_path / "large.csv", text)
    layout = Layout()
    opened, rows = read(path, layout)
    assert opened.delimiter == ","
    assert rows == _reference(path.read_bytes(), opened)
    assert path.stat().st_size > 10 * files_lines.CHUNK
    for k in (0, 1, 2_999, 15_000, len(rows) - 2, len(rows) - 1):
        assert resumed(path, layout, opened, rows[k]) == rows[k + 1 :]


def test_fixed_width_resumes_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files_lines, "CHUNK", 50)
    lines = [
        f"{n:04d}{'2125550' + str(n % 1000).zfill(3):<10} {'Zoë' if n % 3 else 'Al':<8}" for n in range(300)
    ]
    text = "ID  PHONE      NAME\n" + "\n".join(lines[:150]) + "\n\n" + "\r\n".join(lines[150:]) + "\n"
    path = write(tmp_path / "fixed.txt", text)
    layout = Layout(format="fixed_width", columns=FIXED)
    opened, rows = read(path, layout)
    assert len(rows) == 300 and rows[150].line == 153
    assert rows[7] == Row(9, rows[7].end_offset, ["0007", "2125550007", "Zoë"])
    for k in range(0, 300, 29):
        assert resumed(path, layout, opened, rows[k]) == rows[k + 1 :]
