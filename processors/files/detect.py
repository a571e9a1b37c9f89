"""What a file is, from samples of it: text or not, its encoding, line endings and delimiter."""

from __future__ import annotations

import codecs
import csv
import os
from collections import Counter

from processors.files.types import FileProblem

SAMPLE = 64 * 1024
MORE_SAMPLES = 4  # when the first sample is plain ASCII, these many more spread over the file
BOM = codecs.BOM_UTF8
DELIMITERS = (",", ";", "\t", "|")

# Files people upload instead of their text export, by their first bytes.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (
        b"PK\x03\x04",
        "binary: a ZIP archive (an Excel .xlsx workbook is one), not text; save the sheet as CSV",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "binary: an Office document (an old Excel .xls workbook?), not text; save the sheet as CSV",
    ),
    (b"\x1f\x8b", "binary: gzip-compressed, not text; decompress it first"),
    (b"BZh", "binary: bzip2-compressed, not text; decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "binary: a 7-Zip archive, not text"),
    (b"Rar!\x1a\x07", "binary: a RAR archive, not text"),
    (b"%PDF-", "binary: a PDF document, not text"),
    (b"\x7fELF", "binary: an executable program (ELF), not text"),
    (b"\xcf\xfa\xed\xfe", "binary: an executable program (Mach-O), not text"),
    (b"\xce\xfa\xed\xfe", "binary: an executable program (Mach-O), not text"),
    (b"\xfe\xed\xfa\xcf", "binary: an executable program (Mach-O), not text"),
    (b"\xfe\xed\xfa\xce", "binary: an executable program (Mach-O), not text"),
    (b"\xca\xfe\xba\xbe", "binary: an executable program (Mach-O universal) or Java class, not text"),
    (b"\x00asm", "binary: a WebAssembly module, not text"),
    (b"SQLite format 3\x00", "binary: an SQLite database, not text; export the table as CSV"),
    (b"\x89PNG\r\n\x1a\n", "binary: a PNG image, not text"),
    (b"\xff\xd8\xff", "binary: a JPEG image, not text"),
    (b"GIF87a", "binary: a GIF image, not text"),
    (b"GIF89a", "binary: a GIF image, not text"),
    (b"\xfd7zXZ\x00", "binary: xz-compressed, not text; decompress it first"),
    (b"\x28\xb5\x2f\xfd", "binary: zstd-compressed, not text; decompress it first"),
    (b"\x00\x00\xfe\xff", "UTF-32 text; save it as UTF-8"),
    (b"\xff\xfe\x00\x00", "UTF-32 text; save it as UTF-8"),
    (b"\xff\xfe", "UTF-16 text (as Excel's 'Unicode Text' saves it); save it as UTF-8 or as CSV"),
    (b"\xfe\xff", "UTF-16 text; save it as UTF-8"),
    (b"-----BEGIN PGP MESSAGE-----", "OpenPGP-encrypted; it must be decrypted before the import"),
)
_CONTROLS = bytes([*range(1, 9), *range(14, 27), *range(28, 32), 127])  # not \t \n \v \f \r, ESC
_TEXT = bytes(b for b in range(256) if b not in _CONTROLS)
_CONTINUATION = bytes(range(0x80, 0xC0))


def reject_binary(head: bytes) -> None:
    """FileProblem when the file's first bytes are not those of a text file."""
    for magic, what in SIGNATURES:
        if head.startswith(magic) and not (magic == b"BZh" and head[4:10] != b"1AY&SY"):
            raise FileProblem(f"the file is {what}")
    if _windows_executable(head):
        raise FileProblem("the file is binary: an executable program (Windows .exe or .dll), not text")
    nul = head.find(b"\x00")
    if nul >= 0:
        if _utf16_without_bom(head):
            raise FileProblem(
                "the file looks like UTF-16 text without a byte order mark (every other byte is NUL); "
                "save it as UTF-8"
            )
        raise FileProblem(
            f"the file is binary, not text: it holds NUL bytes (the first at byte {nul + 1}); "
            "a spreadsheet, archive or encrypted file must be saved or exported as CSV first"
        )
    controls = len(head) - len(head.translate(None, _CONTROLS))
    if controls > len(head) // 10:
        raise FileProblem(
            f"the file is binary, not text: {100 * controls // len(head)}% of its first "
            f"{len(head)} bytes are control characters"
        )


def _windows_executable(head: bytes) -> bool:
    """An MZ header whose pointer (at byte 60) leads to the PE signature: "MZ" alone could
    start a line of text."""
    if not head.startswith(b"MZ") or len(head) < 64:
        return False
    pe = int.from_bytes(head[60:64], "little")
    return head[pe : pe + 4] == b"PE\x00\x00"


def _utf16_without_bom(head: bytes) -> bool:
    """Text of mostly ASCII characters as UTF-16: a NUL in nearly every other byte (odd
    bytes little-endian, even bytes big-endian) and almost none in the others, where
    executables and other binary formats have NULs in both."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    many, few = max(even, odd), min(even, odd)
    return many > len(head) // 4 and few * 8 < many


def encoding_of(fd: int, head: bytes, size: int, wanted: str) -> tuple[str, bool]:
    """The codec to read with, and whether a UTF-8 BOM starts the file."""
    bom = head.startswith(BOM)
    if wanted != "auto":
        if bom and wanted != "utf-8":
            raise FileProblem(
                f"the file starts with a UTF-8 byte order mark but its specification says {wanted}; "
                "set the encoding to utf-8 or auto"
            )
        return wanted, bom
    if bom:
        return "utf-8", True
    samples = [head]
    if head.isascii() and size > len(head):  # no evidence yet: look further, up to the end
        last = max(size - SAMPLE, 0)
        samples += [_sample_at(fd, last * k // MORE_SAMPLES) for k in range(1, MORE_SAMPLES + 1)]
    if all(_utf8(s, whole=s is head and size == len(head)) for s in samples):
        return "utf-8", False
    joined = b"".join(samples)
    high = len(joined) - len(joined.translate(None, bytes(range(128, 256))))
    if high > len(joined) * 3 // 10:
        raise FileProblem(
            f"the file is not UTF-8 text and {100 * high // len(joined)}% of its sampled bytes are not ASCII: "
            "it is binary, or text in an encoding other than UTF-8, Latin-1 and cp1252; save it as UTF-8"
        )
    if all(_decodes(s, "cp1252") for s in samples):
        return "cp1252", False
    return "latin-1", False


def _sample_at(fd: int, offset: int) -> bytes:
    data = os.pread(fd, SAMPLE, offset)
    start = 0
    while start < 3 and data[start : start + 1] and data[start] in _CONTINUATION:
        start += 1  # the sample starts inside a UTF-8 sequence
    return data[start:]


def _utf8(data: bytes, *, whole: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=whole)
    except UnicodeDecodeError:
        return False
    return True


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def line_endings(head: bytes, *, whole: bool) -> str:
    """The line endings of ``head``, the first bytes of a file (all of it when ``whole``),
    for people: a sample's counts are not the file's, so they say where they come from."""
    crlf = head.count(b"\r\n")
    lf = head.count(b"\n") - crlf
    cr = head.count(b"\r") - crlf
    found = [(name, n) for name, n in (("CRLF", crlf), ("LF", lf), ("CR", cr)) if n]
    sample = "" if whole else f"the first {len(head) // 1024} KiB"
    if not found:
        return f"no line break in {sample}" if sample else "no line break"
    if len(found) == 1:
        return f"{found[0][0]} (detected in {sample})" if sample else found[0][0]
    counts = ", ".join(f"{name} {n}" for name, n in found)
    return f"mixed line endings in {sample} ({counts})" if sample else f"mixed line endings ({counts})"


def encoding_name(encoding: str, bom: bool) -> str:
    return {"utf-8": "UTF-8", "latin-1": "Latin-1"}.get(encoding, encoding) + (" with BOM" if bom else "")


def delimiter_name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else repr(delimiter)


def detect_delimiter(lines: list[str], quote: str, expected: int | None) -> str | None:
    """The candidate delimiter that splits the sample's rows most consistently into more
    than one value, or None when none does (a one-column file).

    Each candidate parses the sample with the csv module itself, so quoted delimiters and
    quoted line breaks count as they will when the file is read. Ranked by: the column
    count the specification expects, if any; the share of rows having the most common
    count (rows the candidate cannot parse count against it); that count; the order
    , ; TAB |.
    """
    best: tuple[tuple[bool, float, int, int], str] | None = None
    for order, delimiter in enumerate(DELIMITERS):
        counts: list[int] = []
        errors = 0
        reader = csv.reader(lines, delimiter=delimiter, quotechar=quote, strict=True)
        while True:
            try:
                for row in reader:
                    if "".join(row).strip():
                        counts.append(len(row))
                break
            except csv.Error:
                errors += 1
        if not counts:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        key = (mode == expected, round(freq / (len(counts) + errors), 2), mode, -order)
        if best is None or key > best[0]:
            best = (key, delimiter)
    return best[1] if best else None
