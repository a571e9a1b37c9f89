"""The row source of a contact-list import: an uploaded file on disk, as rows.

I/O at the edge, knowing nothing about records. ``open_file`` reads samples and the header
and says how the file will be read (or why it cannot be); ``read_rows`` streams the rows
from the first data line or from any row's ``end_offset``, in blocks, holding a few MB
whatever the file's size. A row that cannot be read is a :class:`RowProblem` naming its
line, and reading goes on; a file that cannot be read at all is a :class:`FileProblem`.

Lines end at LF, CRLF or a lone CR; ``line`` numbers are physical lines, as an editor
shows them, including blank and skipped lines and the line breaks inside quoted values.

Choices, for people reading the rows:

- Delimited files are parsed by the csv module (strict: text after a closing quote, or a
  quote still open at the end of the file, is a row problem). A row must have as many
  values as there are columns; extra values that are all empty (trailing delimiters) are
  dropped. A line of only spaces and delimiters (",,," as spreadsheets leave) is blank.
- The delimiter, when not given, is the one of , ; TAB | that splits a sample of the file
  most consistently (see :func:`processors.files.detect.detect_delimiter`).
- Encoding "auto": a UTF-8 BOM, or samples that decode as UTF-8 (the first 64 KiB, and when
  that is plain ASCII four more across the file), mean UTF-8; otherwise cp1252, or Latin-1
  when a byte is undefined in cp1252. A line that later fails to decode is a row problem.
- Header names are stripped of surrounding spaces; trailing empty names (trailing
  delimiters) are dropped; an empty or repeated name is a file problem. When the layout
  lists columns and the file has a header, the header is skipped but must have as many
  columns as the layout lists.
- Fixed width: values are sliced by character and stripped of surrounding spaces; a line
  shorter than the last column's end is a row problem; characters past it are ignored.
- A line longer than ``max_line_bytes`` is a row problem (in the header or the lines
  before it, a file problem), read past without being held in memory; so is a row over
  several lines longer than that. A row still open past it at the end of a read block (a
  quote that is never closed) is cut off there, and reading goes on after the cut.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from processors.files.detect import (
    SAMPLE,
    delimiter_name,
    detect_delimiter,
    encoding_name,
    encoding_of,
    line_endings,
    reject_binary,
)
from processors.files.lines import Lines, complete
from processors.files.rows import csv_reason, delimited_rows, fixed_width_rows, plural, poison_for
from processors.files.types import Column, FileProblem, Layout, Opened, Row, RowProblem, last_line

__all__ = [
    "Column",
    "FileProblem",
    "Layout",
    "LayoutProblem",
    "Opened",
    "Row",
    "RowProblem",
    "last_line",
    "open_file",
    "read_rows",
]

ENCODINGS = ("auto", "utf-8", "latin-1", "cp1252")


class LayoutProblem(FileProblem, ValueError):
    """The layout itself is wrong (a specification file that slipped past validation)."""


def check_layout(layout: Layout) -> None:
    def wrong(reason: str) -> LayoutProblem:
        return LayoutProblem(f"the file's specification is wrong: {reason}")

    if layout.format not in ("delimited", "fixed_width"):
        raise wrong(f"format {layout.format!r} is neither 'delimited' nor 'fixed_width'")
    if layout.encoding not in ENCODINGS:
        raise wrong(f"encoding {layout.encoding!r} is not one of {', '.join(ENCODINGS)}")
    if layout.skip_lines < 0 or layout.max_line_bytes < 1:
        raise wrong("skip_lines cannot be negative and max_line_bytes must be positive")
    if len(layout.quote_char) != 1 or layout.quote_char in "\r\n":
        raise wrong(f"the quote character {layout.quote_char!r} must be one character, not a line break")
    delimiter = layout.delimiter
    if delimiter is not None and (
        len(delimiter) != 1 or delimiter in "\r\n" or delimiter == layout.quote_char
    ):
        raise wrong(f"the delimiter {delimiter!r} must be one character, not a line break nor the quote")
    seen: dict[str, int] = {}
    for index, column in enumerate(layout.columns, start=1):
        name = column.name.strip()
        if not name:
            raise wrong(f"column {index} has no name")
        if name in seen:
            raise wrong(f"column {name!r} is listed twice (columns {seen[name]} and {index})")
        seen[name] = index
    if layout.format == "fixed_width":
        if not layout.columns:
            raise wrong("a fixed-width file needs its columns, each with a start and a length")
        for column in layout.columns:
            if column.start < 1 or column.length < 1:
                raise wrong(
                    f"column {column.name!r} needs a start (1-based) and a length of at least 1 "
                    f"(has start {column.start}, length {column.length})"
                )
        ordered = sorted(layout.columns, key=lambda c: c.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.start + before.length:
                raise wrong(
                    f"column {after.name!r} (characters {after.start}-{after.start + after.length - 1}) "
                    f"overlaps column {before.name!r} (characters {before.start}-"
                    f"{before.start + before.length - 1})"
                )
    elif not layout.header and not layout.columns:
        raise wrong("a file without a header line needs its columns listed, in file order")


def open_file(path: Path, layout: Layout) -> Opened:
    """How ``path`` will be read: its columns, dialect, encoding and first data line.

    Reads samples (64 KiB, a few more for the encoding) and the lines up to the header;
    raises FileProblem when the file cannot be read as the layout says.
    """
    check_layout(layout)
    with open(path, "rb") as file:
        fd = file.fileno()
        size = os.fstat(fd).st_size
        if size == 0:
            raise FileProblem("the file is empty")
        head = os.pread(fd, SAMPLE, 0)
        reject_binary(head)
        encoding, bom = encoding_of(fd, head, size, layout.encoding)
        start = 3 if bom else 0
        file.seek(start)
        endings = line_endings(head, whole=size <= len(head))
        return _Opening(file, layout, size, encoding, bom, start, endings).opened()


class _Opening:
    """open_file's walk over the skipped lines and the header, one line at a time."""

    def __init__(
        self, file: BinaryIO, layout: Layout, size: int, encoding: str, bom: bool, start: int, endings: str
    ):
        self.layout, self.size, self.encoding, self.bom, self.endings = layout, size, encoding, bom, endings
        self.fd = file.fileno()
        quote = layout.quote_char
        poison = poison_for(layout.delimiter or ",", quote)
        self.src = Lines(
            file,
            start,
            1,
            encoding,
            layout.max_line_bytes,
            guard=True,
            poison=poison,
            fail_long=True,
        )
        self.lines = chain.from_iterable(self.src.chunks())
        self.unit = 0  # lines taken so far
        self.detected = False  # the delimiter was detected
        self.single = False  # ... and none was found: one column

    def take(self) -> tuple[str, int] | None:
        """The next line and the byte offset where it starts; None at the end of the file."""
        src = self.src
        text = next(self.lines, None)
        if text is None:
            return None
        self.unit += 1
        start = src.ends[self.unit - 1 - src.base]
        src.last[0] = start  # lines taken one by one are never a runaway row
        return text, start

    def end_of(self, unit: int) -> int:
        return self.src.ends[unit - self.src.base]

    def bad(self, first: int, last: int) -> None:
        """FileProblem when one of the lines first..last (taken units) could not be read."""
        for bad in self.src.pending:
            if first <= bad.unit <= last:
                reason = bad.reason.replace(f"line {bad.line} ", f"line {bad.line} (the header) ", 1)
                raise FileProblem(reason, bad.line)

    def opened(self) -> Opened:
        layout = self.layout
        for _ in range(layout.skip_lines):
            if self.take() is None:
                raise FileProblem(
                    f"the file ends within the {plural(layout.skip_lines, 'line')} its specification skips"
                )
        pending = self.src.pending  # skipped lines are not read, whatever they hold
        pending[:] = [bad for bad in pending if bad.unit > self.unit]
        if not layout.header:
            data_offset = self.end_of(self.unit)
            return self._opened(list_names(layout.columns), data_offset, self.unit + 1, None)
        while True:
            taken = self.take()
            if taken is None:
                after = f" after the {plural(layout.skip_lines, 'skipped line')}" if layout.skip_lines else ""
                raise FileProblem(f"the file has no header line: it holds only blank lines{after}")
            text, offset = taken
            if text.strip() or any(bad.unit == self.unit for bad in self.src.pending):
                break
        header_line = self.unit
        self.bad(self.unit, self.unit)
        if layout.format == "fixed_width":
            return self._opened(list_names(layout.columns), self.end_of(self.unit), self.unit + 1, None)
        delimiter = self._delimiter(offset)
        reader = csv.reader(
            chain([text], self.lines), delimiter=delimiter, quotechar=layout.quote_char, strict=True
        )
        try:
            row = next(reader)
        except csv.Error as error:
            self.bad(header_line, header_line + reader.line_num - 1)  # a line of it could not be read
            if self.src.runaway is not None:
                raise FileProblem(
                    f"the header starting on line {header_line} never ends: a quoted value is still open "
                    f"after {self.src.runaway[1] - offset} bytes",
                    header_line,
                ) from None
            reason = csv_reason(error, header_line, reader.line_num)
            raise FileProblem(f"the header cannot be read: {reason}", header_line) from None
        last = header_line + reader.line_num - 1
        self.unit = last
        self.bad(header_line, last)
        names = header_names(row, header_line)
        if layout.columns:
            if len(names) != len(layout.columns):
                raise FileProblem(
                    f"the header (line {header_line}) has {plural(len(names), 'column')}, the specification "
                    f"lists {len(layout.columns)}: " + ", ".join(repr(c.name) for c in layout.columns),
                    header_line,
                )
            names = list_names(layout.columns)
        return self._opened(names, self.end_of(last), last + 1, delimiter)

    def _delimiter(self, offset: int) -> str:
        layout = self.layout
        if layout.delimiter:
            return layout.delimiter
        limit = layout.max_line_bytes
        window = os.pread(self.fd, SAMPLE, offset)
        if complete(window, offset + len(window) >= self.size) == 0 and len(window) == SAMPLE:
            window = os.pread(self.fd, limit + SAMPLE, offset)
        lines = window[: complete(window, offset + len(window) >= self.size)].decode(self.encoding, "replace")
        expected = len(layout.columns) or None
        found = detect_delimiter(lines.splitlines(True), layout.quote_char, expected)
        self.detected = True
        self.single = found is None
        return found or ","

    def _opened(self, names: list[str], data_offset: int, data_line: int, delimiter: str | None) -> Opened:
        layout = self.layout
        if layout.format == "fixed_width":
            how = f"fixed width, {plural(len(names), 'column')}"
            delimiter = ""
        else:
            if delimiter is None:
                delimiter = self._delimiter(data_offset)
            if self.single:
                how = "one column (no delimiter found among , ; tab |)"
            else:
                detected = " (detected)" if self.detected else ""
                how = f"delimiter {delimiter_name(delimiter)}{detected}"
            how += f", quote {layout.quote_char!r}"
        dialect = f"{how}, {encoding_name(self.encoding, self.bom)}, {self.endings}"
        return Opened(names, dialect, self.encoding, data_offset, data_line, self.size, delimiter)


def list_names(columns: tuple[Column, ...]) -> list[str]:
    return [c.name.strip() for c in columns]


def header_names(row: list[str], line: int) -> list[str]:
    names = [value.strip() for value in row]
    while names and not names[-1]:
        names.pop()  # trailing delimiters
    if not names:
        raise FileProblem(f"the header (line {line}) names no columns", line)
    seen: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        if not name:
            raise FileProblem(
                f"the header (line {line}) has no name for column {index} "
                f"(between {names[index - 2]!r} and {names[index]!r})",
                line,
            )
        if name in seen:
            raise FileProblem(
                f"the header (line {line}) names column {name!r} twice (columns {seen[name]} and {index})",
                line,
            )
        seen[name] = index
    return names


def read_rows(
    path: Path,
    layout: Layout,
    opened: Opened,
    *,
    start_offset: int | None = None,
    start_line: int | None = None,
) -> Iterator[Row | RowProblem]:
    """The rows of ``path`` as ``open_file`` found it, from the first data line, or from
    ``start_offset`` (a row's ``end_offset``) whose line number is ``start_line``
    (``last_line(row) + 1``): the rows after it, exactly as a full read gives them."""
    if start_offset is None:
        if start_line is not None:
            raise ValueError("start_line goes with start_offset")
        start_offset, start_line = opened.data_offset, opened.data_line
    elif start_line is None or start_line < 1:
        raise ValueError("start_offset needs start_line, the line number of the line starting there")
    if not opened.data_offset <= start_offset <= opened.size:
        raise ValueError(
            f"start_offset {start_offset} is outside the data ({opened.data_offset}..{opened.size})"
        )
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size != opened.size:
            raise FileProblem(f"the file changed since it was opened ({opened.size} bytes, now {size})")
        inside = opened.data_offset < start_offset < size
        if inside and os.pread(file.fileno(), 1, start_offset - 1) not in (b"\n", b"\r"):
            raise ValueError(f"start_offset {start_offset} is not at the start of a line")
    note = ""
    if layout.encoding == "auto" and opened.encoding == "utf-8":
        note = (
            "; the file was taken to be UTF-8 from samples of it "
            "(a specification file can name its encoding: latin-1 or cp1252)"
        )
    if layout.format == "fixed_width":
        return fixed_width_rows(
            path,
            offset=start_offset,
            line=start_line,
            encoding=opened.encoding,
            columns=layout.columns,
            limit=layout.max_line_bytes,
            note=note,
        )
    counted_by = "the header has" if layout.header and not layout.columns else "the specification lists"
    return delimited_rows(
        path,
        offset=start_offset,
        line=start_line,
        encoding=opened.encoding,
        delimiter=opened.delimiter or layout.delimiter or ",",
        quote=layout.quote_char,
        columns=len(opened.columns),
        counted_by=counted_by,
        limit=layout.max_line_bytes,
        note=note,
    )
