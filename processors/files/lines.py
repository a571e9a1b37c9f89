"""Physical lines of a binary file, decoded, in chunks, with the byte offset after each line.

A line ends at LF, CRLF or a lone CR (Python's universal newlines) and keeps its ending, so
the csv module sees quoted line breaks as written. The file is read in ``CHUNK``-byte
blocks; a block's lines are decoded at once when the codec allows it, one by one otherwise.
Memory stays at a few blocks whatever the file holds:

- a line longer than ``limit`` bytes is skipped to its end without being kept, and the
  ``poison`` line stands in for it while ``pending`` carries the problem, so line numbers
  and offsets stay right; for delimited files the poison makes the csv reader fail in any
  state it can be in between lines, so the row holding the line ends there, as a problem;
- a line that does not decode is replaced and reported the same way;
- with ``guard`` (delimited files), a row still open at the end of a block when it has run
  over ``limit`` bytes (an unclosed quote, one value after another) is cut off there by a
  poison line too, and ``runaway`` tells the row loop where the cut row ended. The row loop
  then starts a new reader at the next line.

Reads end at multiples of ``CHUNK`` from the start of the file, so blocks end at the same
places whatever offset reading starts from, and a read resumed after any row cuts a
runaway row where a full read does: resuming gives the rows of a full read, always.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate, repeat
from typing import BinaryIO, NamedTuple

from processors.files.types import FileProblem

CHUNK = 64 * 1024
RAW_BYTES = 800  # enough bytes for the 200 characters a problem shows
RAW_CHARS = 200


# ASCII characters str.splitlines breaks lines at, beside CR and LF; bytes.splitlines does not.
_ALSO_BREAKS = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e")


class Bad(NamedTuple):
    """A line that cannot be read, waiting for the row loop to report it."""

    unit: int  # its number among the lines fed to the current reader (1-based)
    line: int  # its line number in the file
    end: int  # byte offset after it
    reason: str
    raw: str


def lenient(data: bytes, encoding: str) -> str:
    """The first characters of ``data`` for a person to recognise, whatever its bytes."""
    text = data[:RAW_BYTES].decode(encoding, "replace")
    return text.rstrip("\r\n")[:RAW_CHARS]


def complete(buf: bytes, eof: bool) -> int:
    """Length of the part of ``buf`` made of whole lines (a CR at its very end may be the
    first half of a CRLF, so it is not whole until the next byte is known)."""
    if eof:
        return len(buf)
    lf = buf.rfind(b"\n")
    cr = buf.rfind(b"\r", 0, len(buf) - 1)
    return max(lf, cr) + 1


def first_break(data: bytes) -> int:
    """Index just after the first line break of ``data``, or -1; a CR at the very end
    counts as a whole break (the caller looks at the next byte)."""
    lf, cr = data.find(b"\n"), data.find(b"\r")
    if lf < 0 and cr < 0:
        return -1
    if cr < 0 or 0 <= lf < cr:
        return lf + 1
    return cr + 2 if data[cr + 1 : cr + 2] == b"\n" else cr + 1


def describe_decode_error(error: UnicodeDecodeError, encoding: str) -> str:
    byte = error.object[error.start : error.start + 1]
    name = "UTF-8" if encoding == "utf-8" else encoding
    return f"is not valid {name} (byte 0x{byte.hex().upper()} at byte {error.start + 1} of the line)"


class Lines:
    """The lines of ``file`` from byte ``offset`` (whose line number is ``line``), as lists
    of decoded lines, one list per block: feed ``chunks()`` to csv through ``chain``.

    After each list is handed out, ``ends[k]`` is the byte offset after its k-th line
    (``ends[0]`` where the list starts) and ``base`` the number of lines handed out before
    it, counted from the last reader start (``first`` is the file's line number of that
    count's line 1).
    """

    def __init__(
        self,
        file: BinaryIO,
        offset: int,
        line: int,
        encoding: str,
        limit: int,
        *,
        guard: bool = False,
        poison: str = "\n",
        note: str = "",
        fail_long: bool = False,
    ):
        self.file = file
        self.encoding = encoding
        self.limit = limit
        self.offset = offset  # where the next block starts
        self.first = line
        self.fed = 0
        self.base = 0
        self.ends: list[int] = [offset]
        self.pending: list[Bad] = []
        self.guard = guard
        self.poison = poison
        self.note = note  # added to decoding problems: how the encoding was chosen
        self.last = [offset]  # the row loop's: the offset after its last row, where the open row starts
        self.runaway: tuple[int, int] | None = None  # (last line, end offset) of a cut row
        self.fail_long = fail_long  # open_file: a line too long to hold fails the file at once
        self.eof = False
        self.position = offset  # of the file, after the bytes read so far

    def _read(self) -> bytes:
        data = self.file.read(CHUNK - self.position % CHUNK)
        self.position += len(data)
        return data

    def chunks(self) -> Iterator[list[str]]:
        read = self._read
        limit = self.limit
        carry = b""
        while True:
            data = b"" if self.eof else read()
            if not data:
                self.eof = True
            buf = carry + data if carry else data
            if not buf:
                return
            cut = complete(buf, self.eof)
            if cut == 0:
                if len(buf) <= limit:
                    carry = buf
                    continue
                yield from self._guarded()
                carry = self._skip_long(buf)
                yield [self.poison]
                continue
            if cut == len(buf):
                block, carry = buf, b""
            else:
                block, carry = buf[:cut], buf[cut:]
            yield from self._guarded()
            yield self._block(block)

    def _guarded(self) -> Iterator[list[str]]:
        """Before the next list: cut off a row that has been open for too long."""
        if not self.guard or self.offset - self.last[0] <= self.limit:
            return
        start = self.offset
        self.runaway = (self.first + self.fed - 1, start)
        real = self.fed
        self.base, self.ends = self.fed, [start, start]
        self.fed += 1
        yield [self.poison]
        # the row loop has reported the cut row and started a new reader at the next line
        self.first += real
        self.fed = 0
        self.runaway = None

    def _block(self, block: bytes) -> list[str]:
        start = self.offset
        lines: list[str]
        sized: list[bytes] | list[str]
        if block.isascii():  # one byte a character: the lines' lengths are their sizes
            lines = block.decode("latin-1").splitlines(True)
            sized = lines
            ok = not any(c in block for c in _ALSO_BREAKS)  # (searching is far faster than counting)
        else:  # each line decoded alone: its size is known, and it stays one line
            sized = block.splitlines(True)
            encoding = self.encoding
            try:
                if encoding == "utf-8":
                    lines = list(map(bytes.decode, sized))
                else:
                    lines = list(map(str, sized, repeat(encoding)))
            except UnicodeDecodeError:
                lines, ok = [], False
            else:
                ok = True
        if not ok or (len(block) > self.limit and max(map(len, sized)) > self.limit):
            return self._careful(block)
        self.ends = list(accumulate(map(len, sized), initial=start))
        self.offset = self.ends[-1]
        self.base = self.fed
        self.fed += len(lines)
        return lines

    def _careful(self, block: bytes) -> list[str]:
        """One line at a time: the block holds a line too long or not decodable, or
        characters that str.splitlines would break at and bytes.splitlines would not."""
        encoding, limit = self.encoding, self.limit
        self.base = self.fed
        lines: list[str] = []
        ends = [self.offset]
        end = self.offset
        for unit, data in enumerate(block.splitlines(True), start=self.fed + 1):
            end += len(data)
            ends.append(end)
            line = self.first + unit - 1
            if len(data) > limit:
                reason = f"line {line} is longer than {limit} bytes ({len(data)} bytes)"
                self.pending.append(Bad(unit, line, end, reason, lenient(data, encoding)))
                lines.append(self.poison)
                continue
            try:
                lines.append(data.decode(encoding))
            except UnicodeDecodeError as error:
                reason = f"line {line} {describe_decode_error(error, encoding)}{self.note}"
                self.pending.append(Bad(unit, line, end, reason, lenient(data, encoding)))
                lines.append(self.poison)
        self.ends = ends
        self.offset = end
        self.fed += len(lines)
        return lines

    def _skip_long(self, buf: bytes) -> bytes:
        """``buf`` starts a line longer than the limit with no break yet: read on to the
        break without keeping what is read; return the bytes after the break."""
        start = self.offset
        if self.fail_long:
            line = self.first + self.fed
            raise FileProblem(
                f"line {line} is longer than {self.limit} bytes: no line break in its first {len(buf)} bytes",
                line,
            )
        raw = lenient(buf, self.encoding)
        skipped = len(buf)
        rest = b""
        broke = False
        read = self._read
        while True:
            data = read()
            if not data:
                self.eof = True
                break
            at = first_break(data)
            if at < 0:
                skipped += len(data)
                continue
            if at == len(data) and data.endswith(b"\r"):
                more = read()  # a CRLF split between two reads?
                if more:
                    data += more
                    at += more.startswith(b"\n")
                else:
                    self.eof = True
            skipped += at
            rest = data[at:]
            broke = True
            break
        unit = self.fed + 1
        line = self.first + unit - 1
        end = start + skipped
        reason = f"line {line} is longer than {self.limit} bytes ({skipped} bytes"
        reason += ")" if broke else ", with no line break before the end of the file)"
        self.pending.append(Bad(unit, line, end, reason, raw))
        self.base, self.ends = self.fed, [start, end]
        self.fed += 1
        self.offset = end
        return rest
