"""Multipart uploads streamed straight to disk, never whole in memory.

The request body is fed chunk by chunk to python-multipart's parser: the ``file`` part
goes to the destination file as it arrives, the other parts (small form fields) are
kept as text. An uploaded file holds personal data: it is created readable by this user
only (0600, in a 0700 directory), and the import runner deletes it once its job is over.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from gateway.problems import Problem

MAX_FIELD_BYTES = 64 * 1024
FILE_PART = "file"
PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700


@dataclass
class Upload:
    file_name: str = ""
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


class _Sink:
    def __init__(self, destination: IO[bytes], max_bytes: int):
        self.destination = destination
        self.max_bytes = max_bytes
        self.upload = Upload()
        self._headers: dict[bytes, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._name = ""
        self._is_file = False
        self._value = bytearray()
        self.files = 0

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._add("_header_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("_header_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _add(self, name: str, data: bytes) -> None:
        setattr(self, name, getattr(self, name) + data)

    def _begin(self) -> None:
        self._headers, self._value, self._name, self._is_file = {}, bytearray(), "", False

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        self._is_file = self._name == FILE_PART
        if self._is_file:
            self.files += 1
            if self.files > 1:
                raise Problem(422, "Invalid upload", "send one file per import", field=FILE_PART)
            self.upload.file_name = Path((filename or b"upload").decode("utf-8", "replace")).name

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.upload.size += end - start
            if self.upload.size > self.max_bytes:
                raise Problem(413, "Upload too large", f"the file is larger than {self.max_bytes} bytes")
            self.destination.write(data[start:end])
        else:
            self._value += data[start:end]
            if len(self._value) > MAX_FIELD_BYTES:
                raise Problem(
                    422, "Invalid upload", f"form field {self._name!r} is too long", field=self._name
                )

    def _end(self) -> None:
        if not self._is_file and self._name:
            self.upload.fields[self._name] = self._value.decode("utf-8", "replace")


async def receive(
    content_type: str | None, body: AsyncIterator[bytes], destination: Path, *, max_bytes: int
) -> Upload:
    """Write the ``file`` part of a multipart body to ``destination``; return what came."""
    kind, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Problem(
            415,
            "Unsupported media type",
            "upload the file as multipart/form-data with a part named 'file'",
        )
    destination.parent.parent.mkdir(parents=True, exist_ok=True)
    destination.parent.mkdir(mode=PRIVATE_DIRECTORY, exist_ok=True)
    destination.parent.chmod(PRIVATE_DIRECTORY)  # whatever the umask
    with open(destination, "wb", opener=_private) as out:
        sink = _Sink(out, max_bytes)
        parser = MultipartParser(boundary, sink.callbacks())
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    if not sink.files:
        raise Problem(422, "Invalid upload", "the upload has no part named 'file'", field=FILE_PART)
    return sink.upload


def _private(path: str, flags: int) -> int:
    fd = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # a file that was already there keeps its mode otherwise
    return fd
