"""The README's shell blocks as one bash script, for ``tests/test_readme.py``.

Every fenced block tagged ``sh`` (or ``bash``) runs, in order, in one shell, so a block may
use the variables of the blocks before it (the tour's ``$K``, ``$J``, ``$API``, ``id``). Two
comments steer the run, and a reader sees both:

- ``# -> 412`` ending a command announces the HTTP status it answers when that is not 2xx;
  the harness fails on any other status, and on a 2xx where one was announced.
- ``# not run by the README test: why`` ending a command leaves that command out; on a line
  of its own at the top of a block it leaves out the block.

The script keeps the README's line numbers (everything that does not run is a blank line),
so bash's own messages and the harness's name the README line at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*(\S*)")
HEADING = re.compile(r"^#{1,6}\s+(.*)")
ANNOUNCED = re.compile(r"^#\s*->\s*([1-5]\d\d)\b")
NOT_RUN = re.compile(r"^#\s*not run by the README test\b")
HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_]\w*)\1")
COMMENT_AFTER = frozenset(" \t;|&()")


@dataclass(frozen=True)
class Command:
    """One complete shell command of a block: its README lines and its closing comment."""

    first: int  # 1-based README line numbers
    last: int
    comment: str  # the comment that ends its last line, "" without one
    comment_only: bool = False  # a line with nothing but a comment

    @property
    def lines(self) -> range:
        return range(self.first, self.last + 1)

    @property
    def announced(self) -> int | None:
        match = ANNOUNCED.match(self.comment)
        return int(match.group(1)) if match else None

    @property
    def not_run(self) -> bool:
        return bool(NOT_RUN.match(self.comment))


@dataclass(frozen=True)
class Block:
    """A fenced ``sh`` block: where it is, under which heading, and its commands."""

    heading: str
    first: int  # the first line inside the fence
    last: int  # the last line inside the fence
    commands: list[Command] = field(default_factory=list)

    @property
    def not_run(self) -> bool:
        """A block whose first line is a lone ``# not run by the README test`` comment."""
        first = self.commands[0] if self.commands else None
        return first is not None and first.comment_only and first.not_run and first.first == self.first

    def describe(self) -> str:
        return f"the block under {self.heading!r} (README.md lines {self.first}-{self.last})"


class ReadmeError(ValueError):
    """The README cannot be turned into a script (an unclosed fence, a block ending mid-command)."""


def shell_blocks(text: str) -> list[Block]:
    """The README's fenced ``sh`` blocks, in order, each split into commands."""
    lines = text.splitlines()
    blocks: list[Block] = []
    heading = "(top)"
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        fence = FENCE.match(line)
        if fence is None:
            title = HEADING.match(line)
            if title:
                heading = title.group(1).strip()
            continue
        marker, language = fence.group(2), fence.group(3)
        start = number + 1  # README line number of the block's first line
        while number < len(lines) and not lines[number].lstrip().startswith(marker):
            number += 1
        if number == len(lines):
            raise ReadmeError(f"README.md line {start - 1}: a fence that is never closed")
        end = number  # README line number of the block's last line
        number += 1
        if language in ("sh", "bash"):
            body = lines[start - 1 : end]
            blocks.append(Block(heading, start, end, list(split_commands(body, start))))
    return blocks


def split_commands(lines: list[str], first: int) -> Iterator[Command]:
    """Group lines into complete commands: a command goes on while a quote, a parenthesis or
    brace, a trailing backslash or a here-document is open. Comment-only lines are commands
    of their own (with no text to run), so a marker on them is seen."""
    start: int | None = None
    quote: str | None = None
    depth = 0
    heredocs: list[str] = []
    comment = ""
    for number, line in enumerate(lines, first):
        if heredocs:
            if line.lstrip("\t") == heredocs[0]:
                heredocs.pop(0)
            if not heredocs and start is not None and quote is None and depth <= 0:
                yield Command(start, number, comment)
                start = None
            continue
        if start is None:
            if not line.strip():
                continue
            start = number
        quote, depth, continued, comment, opened = _scan(line, quote, depth)
        heredocs.extend(opened)
        if quote is None and depth <= 0 and not continued and not heredocs:
            yield Command(start, number, comment, comment_only=start == number and line.lstrip().startswith("#"))
            start = None
    if start is not None:
        raise ReadmeError(f"README.md line {start}: the block ends inside this command (an open quote, "
                          "parenthesis, backslash or here-document)")


def _scan(line: str, quote: str | None, depth: int) -> tuple[str | None, int, bool, str, list[str]]:
    """Read one line as bash would, as far as grouping goes: (open quote, bracket depth,
    ends with a continuation backslash, trailing comment, here-document delimiters opened)."""
    opened: list[str] = []
    index = 0
    while index < len(line):
        char = line[index]
        if quote == "'":
            if char == "'":
                quote = None
        elif quote == '"':
            if char == "\\":
                index += 1
            elif char == '"':
                quote = None
        elif char == "\\":
            if index == len(line) - 1:
                return quote, depth, True, "", opened
            index += 1
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in COMMENT_AFTER):
            return quote, depth, False, line[index:], opened
        elif char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif line.startswith("<<", index) and not line.startswith("<<<", index):
            heredoc = HEREDOC.match(line, index)
            if heredoc:
                opened.append(heredoc.group(2))
                index = heredoc.end()
                continue
        index += 1
    return quote, depth, False, "", opened


@dataclass(frozen=True)
class Script:
    """The runnable part of the README, line for line, and what its commands announce."""

    text: str
    announced: dict[int, int]  # README line -> announced status, for every line of the command
    blocks: list[Block]

    def block_at(self, line: int) -> Block | None:
        return next((block for block in self.blocks if block.first <= line <= block.last), None)

    def command_at(self, line: int) -> Command:
        block = self.block_at(line)
        command = next((c for c in block.commands if line in c.lines), None) if block else None
        if command is None:
            raise LookupError(f"README.md line {line} is in no command")
        return command


def script(text: str) -> Script:
    """Blank out everything that does not run, keeping line numbers; collect announcements."""
    out = [""] * len(text.splitlines())
    announced: dict[int, int] = {}
    blocks = shell_blocks(text)
    source = text.splitlines()
    for block in blocks:
        if block.not_run:
            continue
        for command in block.commands:
            if command.not_run:
                continue
            for line in command.lines:
                out[line - 1] = source[line - 1]
            status = command.announced
            if status is not None:
                announced.update(dict.fromkeys(command.lines, status))
    return Script("\n".join(out) + "\n", announced, blocks)
