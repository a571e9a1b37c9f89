"""Selection rules: the filter language of contact lists (dialing filters, exports, retention).

A rule is a boolean expression over a record's fields and its custom fields::

    record_status = ready and call_result in (busy, no_answer) and attempt < 3
    country = 'US' and not (state in ('TX', 'FL') or custom.balance <= 100.50)
    imported_at < '2024-05-01' and record_status is not empty

:func:`parse` reads the text once, with a tokenizer and a recursive-descent parser (never
``eval``), checks every field, operator and value, and compiles the rule to nested
closures, so that :meth:`Rule.matches` costs a few dictionary look-ups per record. The
empty text is the rule that selects every record.

Semantics, in short (the README's "Selection rules" section is the user's reference):

- Number fields (the codes, ``attempt``, ``chain_n``, ``dial_sched_time``, ``call_time``,
  ``daily_from``, ``daily_till``) compare numerically. Codes may be written by number or by
  name (``busy``), resolved at parse time; times as epoch seconds or quoted ISO 8601; times
  of day as seconds or quoted ``'HH:MM[:SS]'``.
- Text fields compare as text: ``=``, ``!=``, ``in``, ``contains``, ``starts with`` and
  ``ends with`` ignore case (Unicode case folding); ``<``, ``<=``, ``>``, ``>=`` and
  ``between`` compare code points, case included (meant for ISO dates, postal codes).
- Custom fields (``custom.<name>``) hold text, but compare as numbers when both the field
  and the value read as decimal numbers (``custom.balance > 100`` is numeric). An ordering
  between a number and a non-number is false, never a text comparison.
- An empty field (missing, None or ``''``) satisfies ``is empty`` and nothing else: every
  other comparison on it, ``!=`` and ``not in`` included, is false. (``not attempt = 3`` is
  the negation, so it is true for a record without an attempt count.)

A rule has at most 4000 characters and 50 levels of nesting (parentheses and ``not``).
Errors are :class:`SelectionError` (a ``RuleViolation``, so a 422 naming the field) with the
0-based character position of the fault in the message and in ``position``.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum
from functools import partial
from typing import Any, Final, TypeAlias

from domain.codes import CallResult, ContactInfoType, RecordStatus, RecordType
from domain.errors import RuleViolation
from domain.record_fields import CUSTOM_NAME

MAX_LENGTH: Final = 4000
MAX_DEPTH: Final = 50
CUSTOM_PREFIX: Final = "custom."

# The record fields a rule may read, in the order of the calling-list format.
FIELDS: Final = (
    "client_id",
    "contact_info",
    "contact_info_type",
    "record_type",
    "record_status",
    "call_result",
    "attempt",
    "dial_sched_time",
    "call_time",
    "daily_from",
    "daily_till",
    "time_zone",
    "time_zone_rule",
    "chain_n",
    "postal_code",
    "country",
    "state",
    "imported_at",
)
CODE_FIELDS: Final[dict[str, type[IntEnum]]] = {
    "contact_info_type": ContactInfoType,
    "record_type": RecordType,
    "record_status": RecordStatus,
    "call_result": CallResult,
}
# Field kinds: numbers (code, integer, time, daily), text, custom.
_KIND: Final[dict[str, str]] = {
    **dict.fromkeys(CODE_FIELDS, "code"),
    "attempt": "integer",
    "chain_n": "integer",
    "dial_sched_time": "time",
    "call_time": "time",
    "daily_from": "daily",
    "daily_till": "daily",
    **dict.fromkeys(
        (
            "client_id",
            "contact_info",
            "time_zone",
            "time_zone_rule",
            "postal_code",
            "country",
            "state",
            "imported_at",
        ),
        "text",
    ),
}
_NUMBER_KINDS: Final = frozenset({"code", "integer", "time", "daily"})
_TEXT_OPS: Final = frozenset(
    {"contains", "not contains", "starts with", "not starts with", "ends with", "not ends with"}
)
_OPERATORS: Final = (
    "=, !=, <, <=, >, >=, in, not in, contains, starts with, ends with, is empty, is not empty, between"
)


class SelectionError(RuleViolation):
    """A selection rule that does not parse; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int, *, field: str = "selection_rule"):
        super().__init__(message, field=field)
        self.position = position


Record: TypeAlias = Mapping[str, Any]
Matcher: TypeAlias = Callable[[Record], bool]
Number: TypeAlias = int | float | Decimal


# Tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ident, string, number, op, (, ), ",", end
    text: str  # as written, for messages
    value: str  # ident as written; string unescaped; op normalised (<> is !=)
    pos: int


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]*)?")
_NUMBER_RUN = re.compile(r"-?[0-9][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+")
_ESCAPABLE = "\\'\""


class _Lexer:
    """Tokens on demand, so that the first error in the text is the one reported."""

    def __init__(self, text: str, field: str):
        self.text = text
        self.field = field
        self.at = 0
        self._peeked: _Token | None = None

    def error(self, message: str, position: int) -> SelectionError:
        return SelectionError(message, position, field=self.field)

    def peek(self) -> _Token:
        if self._peeked is None:
            self._peeked = self._scan()
        return self._peeked

    def next(self) -> _Token:
        token = self.peek()
        self._peeked = None
        return token

    def _scan(self) -> _Token:
        text, i = self.text, self.at
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            self.at = i
            return _Token("end", "", "", i)
        c = text[i]
        if c in "(),":
            self.at = i + 1
            return _Token(c, c, c, i)
        if c in "=<>!":
            two = text[i : i + 2]
            if two in ("<=", ">=", "!=", "<>"):
                self.at = i + 2
                return _Token("op", two, "!=" if two == "<>" else two, i)
            if c == "!":
                raise self.error(f"unexpected character '!' at position {i} (did you mean '!='?)", i)
            self.at = i + 1
            return _Token("op", c, c, i)
        if c in "'\"":
            return self._string(i)
        if (m := _NUMBER_RUN.match(text, i)) is not None:
            run = m.group()
            if not _NUMBER.fullmatch(run):
                raise self.error(f"malformed number {run!r} at position {i}", i)
            if text.startswith(":", m.end()):
                raise self.error(f"times of day are quoted, as in '09:30', at position {i}", i)
            self.at = m.end()
            return _Token("number", run, run, i)
        if (m := _IDENT.match(text, i)) is not None:
            self.at = m.end()
            return _Token("ident", m.group(), m.group(), i)
        raise self.error(f"unexpected character {c!r} at position {i}", i)

    def _string(self, start: int) -> _Token:
        text, quote = self.text, self.text[start]
        out: list[str] = []
        j = start + 1
        while True:
            if j >= len(text):
                raise self.error(f"unterminated string starting at position {start}", start)
            ch = text[j]
            if ch == "\\":
                if j + 1 >= len(text):
                    raise self.error(f"unterminated string starting at position {start}", start)
                escaped = text[j + 1]
                if escaped not in _ESCAPABLE:
                    raise self.error(
                        f"unknown escape '\\{escaped}' at position {j}: "
                        "only \\\\, \\' and \\\" are escapes (write \\\\ for a backslash)",
                        j,
                    )
                out.append(escaped)
                j += 2
            elif ch == quote:
                if text.startswith(quote, j + 1):  # a doubled quote stands for itself
                    out.append(quote)
                    j += 2
                else:
                    j += 1
                    break
            else:
                out.append(ch)
                j += 1
        self.at = j
        return _Token("string", text[start:j], "".join(out), start)


# Syntax tree ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Lit:
    """A value, converted for its field at parse time."""

    value: int | str  # an int for number fields, the text for text and custom fields
    number: int | Decimal | None  # custom fields: the value as a number when it reads as one
    shown: str  # the normalised form, for str(rule)


@dataclass(frozen=True, slots=True)
class _Cmp:
    field: str
    kind: str
    op: str
    values: tuple[_Lit, ...]


@dataclass(frozen=True, slots=True)
class _Not:
    item: _Node


@dataclass(frozen=True, slots=True)
class _And:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _All:
    pass


_Node: TypeAlias = _Cmp | _Not | _And | _Or | _All


# Parser ---------------------------------------------------------------------------------


class _Parser:
    """rule := [or] end;  or := and ('or' and)*;  and := not ('and' not)*;
    not := 'not' not | '(' or ')' | field operator values"""

    def __init__(self, text: str, field: str):
        self.lexer = _Lexer(text, field)
        self.field = field
        self.depth = 0
        self.prev: _Token | None = None

    # tokens

    def peek(self) -> _Token:
        return self.lexer.peek()

    def next(self) -> _Token:
        self.prev = self.lexer.next()
        return self.prev

    def is_word(self, token: _Token, *words: str) -> bool:
        return token.kind == "ident" and token.value.lower() in words

    def error(self, message: str, position: int) -> SelectionError:
        return SelectionError(message, position, field=self.field)

    def expected(self, what: str, token: _Token, hint: str = "", *, after: str = "") -> SelectionError:
        if not after and self.prev is not None:
            after = _show(self.prev)
        after = f" after {after}" if after else ""
        found = "" if token.kind == "end" else f", found {_show(token)}"
        return self.error(f"expected {what}{after} at position {token.pos}{found}{hint}", token.pos)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"the rule nests more than {MAX_DEPTH} levels deep at position {token.pos}", token.pos
            )

    # grammar

    def rule(self) -> _Node:
        if self.peek().kind == "end":
            return _All()
        node = self.or_()
        token = self.peek()
        if token.kind == ")":
            raise self.error(
                f"unbalanced parenthesis: ')' at position {token.pos} has no matching '('", token.pos
            )
        if token.kind != "end":
            raise self.expected("'and', 'or' or the end of the rule", token)
        return node

    def or_(self) -> _Node:
        items = [self.and_()]
        while self.is_word(self.peek(), "or"):
            self.next()
            items.append(self.and_())
        return items[0] if len(items) == 1 else _Or(_flatten(items, _Or))

    def and_(self) -> _Node:
        items = [self.not_()]
        while self.is_word(self.peek(), "and"):
            self.next()
            items.append(self.not_())
        return items[0] if len(items) == 1 else _And(_flatten(items, _And))

    def not_(self) -> _Node:
        token = self.peek()
        if self.is_word(token, "not"):
            self.enter(token)
            self.next()
            negation = _Not(self.not_())
            self.depth -= 1
            return negation
        if token.kind == "(":
            self.enter(token)
            self.next()
            node = self.or_()
            close = self.peek()
            if close.kind == "end":
                raise self.error(
                    f"unbalanced parenthesis: '(' at position {token.pos} is never closed", token.pos
                )
            if close.kind != ")":
                raise self.expected("'and', 'or' or ')'", close)
            self.next()
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> _Cmp:
        token = self.peek()
        if token.kind == ")" and self.depth == 0:
            raise self.error(
                f"unbalanced parenthesis: ')' at position {token.pos} has no matching '('", token.pos
            )
        if token.kind != "ident" or self.is_word(token, "and", "or"):
            raise self.expected("a condition (a field, 'not' or '(')", token)
        field, kind = self.field_name(token)
        self.next()
        token = self.peek()
        if token.kind == "op":
            self.next()
            return _Cmp(field, kind, token.value, (self.value(field, kind),))
        if token.kind != "ident":
            raise self.expected("an operator", token, f" ({_OPERATORS})")
        word = token.value.lower()
        negated = word == "not"
        if negated:
            self.next()
            token = self.peek()
            word = token.value.lower() if token.kind == "ident" else ""
            if word not in ("in", "contains", "starts", "ends", "between"):
                raise self.expected("'in', 'contains', 'starts with', 'ends with' or 'between'", token)
        prefix = "not " if negated else ""
        if word == "in":
            self.next()
            return _Cmp(field, kind, prefix + "in", self.values(field, kind))
        if word in ("contains", "starts", "ends"):
            op = word if word == "contains" else f"{word} with"
            if kind in _NUMBER_KINDS:
                raise self.error(
                    f"'{op}' needs a text field, and {field} is a number, at position {token.pos}", token.pos
                )
            self.next()
            if word != "contains":
                if not self.is_word(self.peek(), "with"):
                    raise self.expected("'with'", self.peek())
                self.next()
            return _Cmp(field, kind, prefix + op, (self.value(field, kind),))
        if word == "between":
            self.next()
            low = self.value(field, kind)
            if not self.is_word(self.peek(), "and"):
                raise self.expected("'and'", self.peek(), after="the lower bound of 'between'")
            self.next()
            return _Cmp(field, kind, prefix + "between", (low, self.value(field, kind)))
        if word == "is":
            self.next()
            op = "is empty"
            if self.is_word(self.peek(), "not"):
                self.next()
                op = "is not empty"
            if not self.is_word(self.peek(), "empty"):
                raise self.expected("'empty' or 'not empty'", self.peek())
            self.next()
            return _Cmp(field, kind, op, ())
        raise self.expected("an operator", token, f" ({_OPERATORS})")

    def field_name(self, token: _Token) -> tuple[str, str]:
        name = token.value
        lower = name.lower()
        if lower in _KIND:
            return lower, _KIND[lower]
        if lower.startswith(CUSTOM_PREFIX):
            custom = name[len(CUSTOM_PREFIX) :]
            at = token.pos + len(CUSTOM_PREFIX)
            if not custom:
                raise self.error(f"expected a custom field name after 'custom.' at position {at}", at)
            if not CUSTOM_NAME.match(custom):
                raise self.error(
                    f"custom field name {custom!r} at position {at} must be letters, digits and _ "
                    "(at most 63), not starting with a digit",
                    at,
                )
            return CUSTOM_PREFIX + custom, "custom"
        close = difflib.get_close_matches(lower, FIELDS, n=1)
        if close:
            hint = f" (did you mean {close[0]}?)"
        elif "." in name:
            hint = "; custom fields are written custom.<name>"
        else:
            hint = f"; the fields are {', '.join(FIELDS)} and custom.<name>"
        raise self.error(f"unknown field {name!r} at position {token.pos}{hint}", token.pos)

    def values(self, field: str, kind: str) -> tuple[_Lit, ...]:
        open_ = self.peek()
        if open_.kind != "(":
            raise self.error(
                f"'in' needs a parenthesised list at position {open_.pos}, as in {field} in (a, b)", open_.pos
            )
        self.next()
        items = [self.value(field, kind)]
        while True:
            token = self.peek()
            if token.kind == ")":
                self.next()
                return tuple(items)
            if token.kind == "end":
                raise self.error(
                    f"unbalanced parenthesis: '(' at position {open_.pos} is never closed", open_.pos
                )
            if token.kind != ",":
                raise self.expected("',' or ')' in the list", token)
            self.next()
            items.append(self.value(field, kind))

    def value(self, field: str, kind: str) -> _Lit:
        token = self.peek()
        if token.kind not in ("string", "number", "ident"):
            raise self.expected("a value", token)
        if token.kind == "ident":
            if kind == "code" and token.value.lower() in _code_names(CODE_FIELDS[field]):
                self.next()
                return self.code(field, token)
            if self.is_word(token, "and", "or", "not") or kind != "code":
                hint = (
                    "" if kind in _NUMBER_KINDS else f": text values are quoted, as in {_quote(token.value)}"
                )
                raise self.expected("a value", token, hint)
            self.next()
            return self.code(field, token)
        self.next()
        if kind == "code":
            return self.code(field, token)
        if kind in ("integer", "time", "daily"):
            return self.number(field, kind, token)
        text = token.value
        if text == "":
            raise self.error(
                f"an empty text never matches, at position {token.pos}: write {field} is empty", token.pos
            )
        if kind == "text":
            return _Lit(text, None, _quote(text))
        shown = text if token.kind == "number" else _quote(text)
        return _Lit(text, _as_number(text), shown)

    def code(self, field: str, token: _Token) -> _Lit:
        enum = CODE_FIELDS[field]
        text = token.value.strip()
        if token.kind == "number" and not _INTEGER.fullmatch(text):
            raise self.error(
                f"expected a {field} name or whole-number code at position {token.pos}, found {_show(token)}",
                token.pos,
            )
        if _INTEGER.fullmatch(text):
            try:
                member = enum(int(text))
            except ValueError:
                codes = [int(m) for m in enum]
                raise self.error(
                    f"unknown {field} code {text} at position {token.pos} "
                    f"(the codes are {min(codes)} to {max(codes)})",
                    token.pos,
                ) from None
        else:
            key = text.upper().replace(" ", "_").replace("-", "_")
            if key not in enum.__members__:
                names = _code_names(enum)
                close = difflib.get_close_matches(text.lower(), names, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise self.error(
                    f"unknown {field} {text!r} at position {token.pos}{hint}; "
                    f"the {field} names are {', '.join(names)}",
                    token.pos,
                )
            member = enum.__members__[key]
        return _Lit(int(member), None, member.name.lower())

    def number(self, field: str, kind: str, token: _Token) -> _Lit:
        text = token.value
        if _INTEGER.fullmatch(text.strip()):
            value = int(text)
            shown = str(value)
        elif kind == "time" and token.kind == "string":
            value = self.epoch(field, token)
            shown = _quote(text)
        elif kind == "daily" and token.kind == "string":
            value = self.time_of_day(field, token)
            shown = _quote(text)
        else:
            what = {
                "integer": "a whole number",
                "time": "epoch seconds or a quoted ISO 8601 time",
                "daily": "seconds since midnight or a quoted 'HH:MM[:SS]'",
            }[kind]
            raise self.error(
                f"expected {what} for {field} at position {token.pos}, found {_show(token)}", token.pos
            )
        if kind == "daily" and not 0 <= value <= 86400:
            raise self.error(
                f"{field} is a time of day, 0 to 86400 seconds, at position {token.pos}, found {_show(token)}",
                token.pos,
            )
        return _Lit(value, None, shown)

    def epoch(self, field: str, token: _Token) -> int:
        text = token.value.strip()
        try:
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
                moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise self.error(
                f"expected epoch seconds or an ISO 8601 time for {field} at position {token.pos}, "
                f"found {_show(token)}",
                token.pos,
            ) from None
        if moment.tzinfo is None:
            raise self.error(
                f"{field} {_show(token)} at position {token.pos} needs a UTC offset (e.g. Z or +02:00)",
                token.pos,
            )
        return int(moment.timestamp() // 1)

    def time_of_day(self, field: str, token: _Token) -> int:
        parts = token.value.strip().split(":")
        if 2 <= len(parts) <= 3 and all(p.isascii() and p.isdigit() and len(p) <= 2 for p in parts):
            hours, minutes, seconds = (int(p) for p in [*parts, "0"][:3])
            if minutes <= 59 and seconds <= 59:
                return hours * 3600 + minutes * 60 + seconds
        raise self.error(
            f"expected a time of day 'HH:MM[:SS]' for {field} at position {token.pos}, found {_show(token)}",
            token.pos,
        )


def _flatten(items: list[_Node], kind: type[_And] | type[_Or]) -> tuple[_Node, ...]:
    out: list[_Node] = []
    for item in items:
        if isinstance(item, kind):
            out.extend(item.items)
        else:
            out.append(item)
    return tuple(out)


def _show(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the rule"
    text = token.text if len(token.text) <= 40 else token.text[:37] + "..."
    return text if token.kind == "string" else f"'{text}'"


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_NAMES: Final = {enum: [m.name.lower() for m in enum] for enum in CODE_FIELDS.values()}


def _code_names(enum: type[IntEnum]) -> list[str]:
    return _NAMES[enum]


# Normalised text ------------------------------------------------------------------------

_PRECEDENCE: Final = {_Or: 1, _And: 2, _Not: 3, _Cmp: 4, _All: 4}


def _text(node: _Node, context: int = 0) -> str:
    match node:
        case _All():
            return ""
        case _Cmp(field=field, op=op, values=values):
            if op in ("is empty", "is not empty"):
                out = f"{field} {op}"
            elif op.endswith("in"):
                out = f"{field} {op} ({', '.join(v.shown for v in values)})"
            elif op.endswith("between"):
                out = f"{field} {op} {values[0].shown} and {values[1].shown}"
            else:
                out = f"{field} {op} {values[0].shown}"
        case _Not(item=item):
            out = "not " + _text(item, 3)
        case _And(items=items):
            out = " and ".join(_text(i, 2) for i in items)
        case _Or(items=items):
            out = " or ".join(_text(i, 1) for i in items)
    return f"({out})" if _PRECEDENCE[type(node)] < context else out


# Compilation to closures ----------------------------------------------------------------

_NUMERIC_TEXT = re.compile(r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*")
_ORDER: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# The same comparisons with their operands swapped, for partial(_FLIPPED[op], value)(field).
_FLIPPED: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.gt,
    "<=": operator.ge,
    ">": operator.lt,
    ">=": operator.le,
}


def _as_number(text: str) -> int | Decimal | None:
    """A custom field's text as a number: decimal digits, an optional sign and point."""
    if text.isdigit() and text.isascii() and len(text) < 4300:  # the common case, fast
        return int(text)
    m = _NUMERIC_TEXT.fullmatch(text)
    if m is None:
        return None
    digits = m.group(1)
    if "." in digits:
        return Decimal(digits)
    try:
        return int(digits)
    except ValueError:  # beyond int's conversion limit of 4300 digits
        return Decimal(digits)


def _number_of(value: Any) -> Number | None:
    """A number field's value, leniently: None, '' and anything unreadable are no number."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _as_number(value)
    return None


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _custom(record: Record, name: str, folded: str) -> str:
    custom = record.get("custom")
    if not custom:
        return ""
    value = custom.get(name)
    if value is None:
        for key, item in custom.items():  # field names ignore case; the exact spelling wins
            if key.lower() == folded:
                value = item
                break
    return value if type(value) is str else _text_of(value)


def _always(record: Record) -> bool:
    return True


def _compile(node: _Node) -> Matcher:
    match node:
        case _All():
            return _always
        case _Not(item=item):
            inner = _compile(item)
            return lambda r: not inner(r)
        case _And(items=items):
            return _all_of([_compile(i) for i in items])
        case _Or(items=items):
            return _any_of([_compile(i) for i in items])
        case _Cmp(kind=kind):
            if kind in _NUMBER_KINDS:
                return _number_matcher(node)
            if kind == "text":
                return _text_matcher(node)
            return _custom_matcher(node)
    raise AssertionError(node)  # pragma: no cover


def _all_of(fs: list[Matcher]) -> Matcher:
    if len(fs) == 2:
        a, b = fs
        return lambda r: a(r) and b(r)
    if len(fs) == 3:
        a, b, c = fs
        return lambda r: a(r) and b(r) and c(r)

    def all_of(r: Record) -> bool:
        return all(f(r) for f in fs)

    return all_of


def _any_of(fs: list[Matcher]) -> Matcher:
    if len(fs) == 2:
        a, b = fs
        return lambda r: a(r) or b(r)
    if len(fs) == 3:
        a, b, c = fs
        return lambda r: a(r) or b(r) or c(r)

    def any_of(r: Record) -> bool:
        return any(f(r) for f in fs)

    return any_of


def _negated(op: str, test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``not <op>`` tests the value the other way (an empty field still fails both)."""
    if op.startswith("not ") or op == "!=":
        return lambda v: not test(v)
    return test


def _number_matcher(node: _Cmp) -> Matcher:
    name, op = node.field, node.op
    values = [lit.value for lit in node.values]
    if op in ("is empty", "is not empty"):
        want = op == "is empty"
        return lambda r: (r.get(name) in (None, "")) is want
    base = op.removeprefix("not ")
    test: Callable[[Any], bool]
    if base in ("=", "!="):
        test = partial(operator.eq, values[0])
    elif base == "in":
        test = frozenset(values).__contains__
    elif base == "between":
        low, high = values
        test = lambda v: low <= v <= high  # noqa: E731
    else:
        test = partial(_FLIPPED[base], values[0])
    test = _negated(op, test)

    if base == "=" and op == "=":  # the commonest case, inlined
        x = values[0]

        def equals(r: Record) -> bool:
            v = r.get(name)
            if type(v) is int:
                return v == x
            v = _number_of(v)
            return v is not None and v == x

        return equals

    def matches(r: Record) -> bool:
        v = r.get(name)
        if type(v) is int:
            return test(v)
        v = _number_of(v)
        return v is not None and test(v)

    return matches


def _text_test(op: str, values: list[str]) -> Callable[[str], bool]:
    """The test of a non-empty text, case-insensitive except for orderings."""
    base = op.removeprefix("not ")
    folded = [v.casefold() for v in values]
    test: Callable[[str], bool]
    if base in ("=", "!="):
        exact, x = values[0], folded[0]
        test = lambda v: v == exact or v.casefold() == x  # noqa: E731
    elif base == "in":
        xs = frozenset(folded)
        test = lambda v: v.casefold() in xs  # noqa: E731
    elif base == "contains":
        x = folded[0]
        test = lambda v: x in v.casefold()  # noqa: E731
    elif base == "starts with":
        x = folded[0]
        test = lambda v: v.casefold().startswith(x)  # noqa: E731
    elif base == "ends with":
        x = folded[0]
        test = lambda v: v.casefold().endswith(x)  # noqa: E731
    elif base == "between":
        low, high = values
        test = lambda v: low <= v <= high  # noqa: E731
    else:
        test = partial(_FLIPPED[base], values[0])
    return _negated(op, test)


def _text_matcher(node: _Cmp) -> Matcher:
    name, op = node.field, node.op
    if op in ("is empty", "is not empty"):
        want = op == "is empty"
        return lambda r: (not _text_of(r.get(name))) is want
    test = _text_test(op, [str(lit.value) for lit in node.values])

    def matches(r: Record) -> bool:
        v = r.get(name)
        if type(v) is not str:
            v = _text_of(v)
        return v != "" and test(v)

    return matches


def _custom_order(op: str, lit: _Lit) -> Callable[[str, int | Decimal | None], bool]:
    """An ordering of a custom field: numeric when both read as numbers, text when neither."""
    numeric, text = lit.number, str(lit.value)
    compare = _ORDER[op]

    def test(v: str, n: int | Decimal | None) -> bool:
        if numeric is not None:
            return n is not None and compare(n, numeric)
        return n is None and compare(v, text)

    return test


def _custom_test(op: str, lits: tuple[_Lit, ...]) -> Callable[[str], bool]:
    base = op.removeprefix("not ")
    test: Callable[[str], bool]
    if base in ("=", "!=", "in"):
        numbers = frozenset(lit.number for lit in lits if lit.number is not None)
        texts = frozenset(str(lit.value).casefold() for lit in lits)
        if not numbers:
            test = lambda v: v.casefold() in texts  # noqa: E731
        else:

            def test(v: str) -> bool:
                n = _as_number(v)
                if n is not None:
                    return n in numbers  # a number equals no text that is not a number
                return v.casefold() in texts

    elif base == "between":
        above, below = _custom_order(">=", lits[0]), _custom_order("<=", lits[1])

        def test(v: str) -> bool:
            n = _as_number(v)
            return above(v, n) and below(v, n)

    elif base in _ORDER:
        compare, numeric, text = _ORDER[base], lits[0].number, str(lits[0].value)
        if numeric is not None:

            def test(v: str) -> bool:
                n = _as_number(v)
                return n is not None and compare(n, numeric)

        else:
            test = lambda v: compare(v, text) and _as_number(v) is None  # noqa: E731
    else:
        return _text_test(op, [str(lit.value) for lit in lits])
    return _negated(op, test)


def _custom_matcher(node: _Cmp) -> Matcher:
    name = node.field[len(CUSTOM_PREFIX) :]
    folded = name.lower()
    if node.op in ("is empty", "is not empty"):
        want = node.op == "is empty"
        return lambda r: (not _custom(r, name, folded)) is want
    test = _custom_test(node.op, node.values)

    def matches(r: Record) -> bool:
        custom = r.get("custom")
        if custom:  # the common case inlined: the field present, as text
            v = custom.get(name)
            if type(v) is str:
                return v != "" and test(v)
        v = _custom(r, name, folded)
        return v != "" and test(v)

    return matches


# SQL ------------------------------------------------------------------------------------


class _Untranslatable(Exception):
    pass


# Characters that Unicode case folding leaves alone and never produces from another
# character: a text made of these compares the same with and without ignoring case, so
# SQL's exact = and LIKE agree with matches() on it. (Tested over every code point.)
SQL_SAFE_TEXT: Final = frozenset("0123456789 +-.:/#()@,;!?*&$=<>[]{}|~^'\"")


def _sql(node: _Node, column_of: Callable[[str], str | None], params: list[Any]) -> str:
    match node:
        case _All():
            return "1 = 1"
        case _Not(item=item):
            return f"(NOT {_sql(item, column_of, params)})"
        case _And(items=items):
            return "(" + " AND ".join(_sql(i, column_of, params) for i in items) + ")"
        case _Or(items=items):
            return "(" + " OR ".join(_sql(i, column_of, params) for i in items) + ")"
        case _Cmp():
            return _sql_comparison(node, column_of, params)
    raise AssertionError(node)  # pragma: no cover


def _sql_comparison(node: _Cmp, column_of: Callable[[str], str | None], params: list[Any]) -> str:
    if node.kind == "custom":
        raise _Untranslatable
    column = column_of(node.field)
    if column is None:
        raise _Untranslatable
    op, numbers = node.op, node.kind in _NUMBER_KINDS
    if op == "is empty":
        return f"({column} IS NULL)" if numbers else f"({column} IS NULL OR {column} = '')"
    if op == "is not empty":
        return f"({column} IS NOT NULL)" if numbers else f"({column} IS NOT NULL AND {column} <> '')"
    values = [lit.value for lit in node.values]
    present = f"{column} IS NOT NULL"
    if not numbers:
        base = op.removeprefix("not ")
        if base not in ("=", "!=", "in", "contains", "starts with", "ends with"):
            raise _Untranslatable  # orderings of text depend on the database's collation
        if not all(set(str(v)) <= SQL_SAFE_TEXT for v in values):
            raise _Untranslatable  # ignoring case is not portable SQL
        present += f" AND {column} <> ''"
        if base in ("contains", "starts with", "ends with"):
            pattern = {"contains": "%{}%", "starts with": "{}%", "ends with": "%{}"}[base]
            params.append(pattern.format(values[0]))
            like = "NOT LIKE" if op.startswith("not ") else "LIKE"
            return f"({present} AND {column} {like} ?)"
    params.extend(values)
    if op.endswith("in"):
        marks = ", ".join("?" * len(values))
        return f"({present} AND {column} {op.upper()} ({marks}))"
    if op.endswith("between"):
        return f"({present} AND {column} {op.upper()} ? AND ?)"
    return f"({present} AND {column} {'<>' if op == '!=' else op} ?)"


# The rule -------------------------------------------------------------------------------


class Rule:
    """A parsed selection rule: immutable, reusable, and safe to share between threads.

    ``matches(record)`` is the compiled test; ``fields`` the fields it reads (record field
    names, and ``custom.<name>`` for custom fields); ``str(rule)`` the normalised text, which
    parses back to the same rule.
    """

    __slots__ = ("_node", "_text", "fields", "matches")

    matches: Matcher
    fields: frozenset[str]
    _node: _Node
    _text: str

    def __init__(self, node: _Node) -> None:
        setter = object.__setattr__
        setter(self, "_node", node)
        setter(self, "_text", _text(node))
        setter(self, "fields", frozenset(_fields(node)))
        setter(self, "matches", _compile(node))

    @property
    def selects_all(self) -> bool:
        """True for the empty rule, which every record matches."""
        return isinstance(self._node, _All)

    def to_sql(self, column_of: Callable[[str], str | None]) -> tuple[str, list[Any]] | None:
        """The rule as a parameterised SQL condition (``?`` placeholders), or None.

        ``column_of(field)`` names the column (or expression) of a record field, or returns
        None when it has none. The condition selects the same records as :meth:`matches`
        for SQLite and PostgreSQL, given number columns of numbers or NULL. It is None when
        part of the rule cannot be said portably: a custom field, an ordering of text
        (collations differ), or a case-insensitive comparison with a text holding letters.
        """
        params: list[Any] = []
        try:
            condition = _sql(self._node, column_of, params)
        except _Untranslatable:
            return None
        return condition, params

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"selection.parse({self._text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a selection Rule is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a selection Rule is immutable")

    def __reduce__(self) -> tuple[Callable[[str], Rule], tuple[str]]:
        return parse, (self._text,)


def _fields(node: _Node) -> list[str]:
    match node:
        case _Cmp(field=field):
            return [field]
        case _Not(item=item):
            return _fields(item)
        case _And(items=items) | _Or(items=items):
            return [f for i in items for f in _fields(i)]
    return []


def parse(text: str, *, field: str = "selection_rule") -> Rule:
    """The rule of ``text`` (the empty text selects everything).

    Raises :class:`SelectionError`, naming ``field``, when the text is not a valid rule.
    """
    if len(text) > MAX_LENGTH:
        raise SelectionError(
            f"a selection rule has at most {MAX_LENGTH} characters, this one has {len(text)}",
            MAX_LENGTH,
            field=field,
        )
    return Rule(_Parser(text, field).rule())
