"""The row source's vocabulary: how to read a file, what comes out, what can go wrong.

Re-exported by :mod:`processors.files.source`; import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

Encoding = Literal["auto", "utf-8", "latin-1", "cp1252"]


@dataclass(frozen=True)
class Column:
    name: str
    start: int = 0  # fixed width: 1-based position of the first character
    length: int = 0  # fixed width: characters


@dataclass(frozen=True)
class Layout:
    """How to read a file: built from a stored specification file, or left to detection."""

    format: Literal["delimited", "fixed_width"] = "delimited"
    encoding: Encoding = "auto"  # auto: UTF-8 (BOM or not) if it decodes, else cp1252/latin-1
    delimiter: str | None = None  # None: detected among , ; TAB |
    quote_char: str = '"'
    header: bool = True  # the first (non-skipped, non-blank) line names the columns
    skip_lines: int = 0  # physical lines skipped before the header/data (a banner)
    # fixed width: name, start (1-based), length, all required; delimited: the columns in
    # file order, naming them (a header line, when header is true, is then skipped).
    columns: tuple[Column, ...] = ()
    max_line_bytes: int = 1_048_576


class Row(NamedTuple):
    line: int  # 1-based physical line where the row starts (what an editor shows)
    end_offset: int  # byte offset just after the row: where a resumed read starts
    values: list[str]  # field values in column order
    lines: int = 1  # physical lines the row spans (more than 1: quoted line breaks)


class RowProblem(NamedTuple):
    """A row that cannot be read: the import rejects it and goes on."""

    line: int
    end_offset: int
    reason: str  # names the line: "line 7 has 5 values, the header has 4 columns"
    raw: str  # the row's first 200 characters, decoded leniently
    lines: int = 1


def last_line(row: Row | RowProblem) -> int:
    """The last physical line of ``row``: a resumed read starts at the line after it."""
    return row.line + row.lines - 1


class FileProblem(Exception):
    """The file cannot be read at all: the job fails with this reason."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class Opened:
    columns: list[str]  # column names (header or layout), in order
    dialect: str  # for people: "delimiter ';', quote '\"', UTF-8 with BOM, CRLF"
    encoding: str  # the codec actually used: utf-8, cp1252 or latin-1
    data_offset: int  # byte offset of the first data line (after BOM, skipped lines, header)
    data_line: int  # its line number
    size: int  # file size in bytes
    delimiter: str = ""  # the delimiter used (given or detected); "" for fixed width
