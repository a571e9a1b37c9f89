"""The row loops: delimited (the csv module over our own lines) and fixed width.

The delimited loop is the hot path of an import. csv.reader pulls one decoded physical line
at a time from the blocks of :class:`processors.files.lines.Lines` and stops at the end of a
row, so its ``line_num`` after a row is the number of lines that row ended on; the block's
``ends`` table turns that into the byte offset after the row. The common row (one line, as
many values as columns, a first value that is not blank) costs a few comparisons, one index
into ``ends`` and a tuple; everything else (blank lines, ragged rows, lines that cannot be
read, csv errors) takes the slow path.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from processors.files.lines import RAW_BYTES, Lines, lenient
from processors.files.types import Column, Row, RowProblem

if TYPE_CHECKING:
    from _csv import Reader


def span(line: int, lines: int) -> str:
    return f"line {line}" if lines == 1 else f"lines {line}-{line + lines - 1}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def poison_for(delimiter: str, quote: str) -> str:
    """A line that makes a strict csv reader fail in any state it can be in between lines:
    at the start of a row (the first quote opens a value, the second closes it, and text
    follows), or inside a quoted value (the first quote closes it, and text follows)."""
    other = next(c for c in "\x01\x02\x03" if c not in (delimiter, quote))
    return f"{quote}{other}{quote}{other}\n"


def delimited_rows(
    path: Path,
    *,
    offset: int,
    line: int,
    encoding: str,
    delimiter: str,
    quote: str,
    columns: int,
    counted_by: str,
    limit: int,
    note: str,
) -> Iterator[Row | RowProblem]:
    file = open(path, "rb")  # noqa: SIM115 - closed in the finally below, with the generator
    file.seek(offset)
    fd = file.fileno()
    src = Lines(
        file, offset, line, encoding, limit, guard=True, poison=poison_for(delimiter, quote), note=note
    )
    lines = chain.from_iterable(src.chunks())

    def new_reader() -> Reader:
        return csv.reader(lines, delimiter=delimiter, quotechar=quote, strict=True)

    reader = new_reader()
    pending = src.pending
    new, row_type = tuple.__new__, Row
    first = line  # line number of the reader's line 1
    prev_n = 0  # the reader's line count after the last item (row, blank line or problem)
    last = src.last  # [the byte offset after the last item]: shared with src, for its guard
    base, ends, top = 0, src.ends, -1  # the block holding the reader's lines base+1 .. top

    def raw(start: int, end: int) -> str:
        return lenient(os.pread(fd, min(end - start, RAW_BYTES), start), encoding)

    def odd(values: list[str], at: int, count: int, end: int, start: int) -> Row | RowProblem | None:
        if not "".join(values).strip():
            return None  # a blank line, or only spaces and delimiters
        if end - start > limit:  # one line is never, Lines sees to that; quoted line breaks can be
            reason = f"the row on {span(at, count)} is longer than {limit} bytes ({end - start} bytes)"
            return RowProblem(at, end, reason, raw(start, end), count)
        if len(values) > columns and not "".join(values[columns:]).strip():
            values = values[:columns]  # trailing empty values: extra delimiters at the end
        if len(values) == columns:
            return Row(at, end, values, count)
        row = f"line {at}" if count == 1 else f"the row on {span(at, count)}"
        reason = f"{row} has {plural(len(values), 'value')}, {counted_by} {plural(columns, 'column')}"
        return RowProblem(at, end, reason, raw(start, end), count)

    try:
        while True:
            try:
                for values in reader:
                    n = reader.line_num
                    if n > top:
                        base, ends = src.base, src.ends
                        top = base + len(ends) - 1
                    end = ends[n - base]
                    # one line holding the columns (a line that cannot be read never gets here)
                    if n - prev_n == 1 and len(values) == columns and values[0].strip():
                        yield new(row_type, (first + prev_n, end, values, 1))
                    else:
                        item = odd(values, first + prev_n, n - prev_n, end, last[0])
                        if item is not None:
                            yield item
                    prev_n = n
                    last[0] = end
                return
            except csv.Error as error:
                at = first + prev_n
                if src.runaway is not None:  # cut off by Lines: start a new reader at the next line
                    cut_line, end = src.runaway
                    if cut_line >= at:
                        count = cut_line - at + 1
                        reason = (
                            f"{span(at, count)}: a quoted value is still open after {end - last[0]} bytes, "
                            f"more than a row may have ({limit}); is a quote not closed? "
                            f"Reading goes on at line {cut_line + 1}"
                        )
                        yield RowProblem(at, end, reason, raw(last[0], end), count)
                    pending.clear()
                    reader = new_reader()
                    first, prev_n, top = cut_line + 1, 0, -1
                    last[0] = end
                    continue
                n = reader.line_num
                if n > top:
                    base, ends = src.base, src.ends
                    top = base + len(ends) - 1
                end = ends[n - base]
                count = n - prev_n
                bad = pending[0] if pending and pending[0].unit <= n else None
                del pending[: sum(1 for b in pending if b.unit <= n)]
                if bad is None:
                    yield RowProblem(at, end, csv_reason(error, at, count), raw(last[0], end), count)
                elif count == 1:  # a line that cannot be read, alone: its poison line failed the reader
                    yield RowProblem(bad.line, end, bad.reason, bad.raw)
                else:  # ... inside a row (a quoted line break before it): the row ends with it
                    yield RowProblem(at, end, f"{span(at, count)}: {bad.reason}", raw(last[0], end), count)
                prev_n = n
                last[0] = end
    finally:
        file.close()


def csv_reason(error: csv.Error, at: int, count: int) -> str:
    message = str(error)
    where = span(at, count)
    if message == "unexpected end of data":
        return f"{where}: a quoted value is not closed before the end of the file"
    if "expected after" in message:
        return (
            f"{where}: text follows a closing quote before the delimiter "
            '(a quote inside a quoted value is written twice: "")'
        )
    if message.startswith("field larger than field limit"):
        return f"{where}: a value is longer than {csv.field_size_limit()} characters (is a quote not closed?)"
    return f"{where}: {message}"


def fixed_width_rows(
    path: Path,
    *,
    offset: int,
    line: int,
    encoding: str,
    columns: tuple[Column, ...],
    limit: int,
    note: str,
) -> Iterator[Row | RowProblem]:
    with open(path, "rb") as file:
        file.seek(offset)
        yield from _fixed_width(Lines(file, offset, line, encoding, limit, note=note), columns)


def _fixed_width(src: Lines, columns: tuple[Column, ...]) -> Iterator[Row | RowProblem]:
    pending = src.pending
    need = max(c.start + c.length - 1 for c in columns)
    cut = itemgetter(*(slice(c.start - 1, c.start - 1 + c.length) for c in columns))
    one = len(columns) == 1
    strip = str.strip
    new, row_type = tuple.__new__, Row
    for block in src.chunks():
        base, ends = src.base, src.ends
        at = src.first + base
        for i, text in enumerate(block):
            if pending and pending[0].unit == base + i + 1:
                bad = pending.pop(0)
                yield RowProblem(bad.line, bad.end, bad.reason, bad.raw)
                continue
            body = text.rstrip("\r\n")
            if len(body) < need:
                if body and not body.isspace():
                    reason = (
                        f"line {at + i} is {plural(len(body), 'character')} long; "
                        f"the specification's columns need {need}"
                    )
                    yield RowProblem(at + i, ends[i + 1], reason, body[:200])
                continue
            if body.isspace():
                continue
            values = [strip(cut(body))] if one else list(map(strip, cut(body)))
            yield new(row_type, (at + i, ends[i + 1], values, 1))
