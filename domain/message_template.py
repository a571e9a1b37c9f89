"""Message templates: ``{field}`` placeholders filled from a record's fields. Pure.

A template is the text of an SMS or the subject and body of an e-mail, with placeholders in
Python's format syntax read by the standard library's :class:`string.Formatter`:
``"Hello {first_name}, your balance is {balance}."``. ``{{`` and ``}}`` are literal braces;
a format spec is allowed (``{first_name:.10}``: at most ten characters). Only plain names:
``{}``, ``{0}``, ``{a.b}`` and ``{a[0]}`` are refused, so a template can reach nothing but the
record's values (attribute access would reach Python objects).

The fields of a record (:func:`record_fields`), every value a string:

- the calling-list fields of the record: ``record_id``, ``chain_n``, ``contact_info``,
  ``contact_info_type``, ``record_type``, ``record_status``, ``call_result``, ``attempt``,
  ``dial_sched_time``, ``call_time``, ``daily_from``, ``daily_till`` (numbers, epoch and
  day seconds as stored), ``time_zone`` (the record's zone);
- ``client_id`` of its chain;
- the contact's ``postal_code``, ``country``, ``state``;
- the chain's custom fields by their own name (``custom:first_name`` is ``{first_name}``);
  a custom field named like one above wins, as the list's owner named it on purpose.

A field the record lacks — not one of these, or one this record has no value for (an empty
cell is not imported, an unset time is None) — is a :class:`TemplateFieldMissing` naming the
field, the record and the fields it has: a message with a hole is never sent.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from domain.errors import DomainError
from schemas.records import Contact, Record

_FORMATTER = string.Formatter()

_RECORD_FIELDS = (
    "record_id", "chain_n", "contact_info", "contact_info_type", "record_type", "record_status",
    "call_result", "attempt", "dial_sched_time", "call_time", "daily_from", "daily_till", "time_zone",
)  # fmt: skip
_CONTACT_FIELDS = ("postal_code", "country", "state")


class InvalidTemplate(DomainError):
    """The template's text is not a template: unbalanced braces, or a placeholder that is
    not a plain field name."""

    title = "Invalid message template"


class TemplateFieldMissing(DomainError):
    """A placeholder names a field the record has no value for."""

    title = "Template field missing"


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """An SMS (``body``) or an e-mail (``subject`` and ``body``); both checked when made."""

    body: str
    subject: str = ""

    def __post_init__(self) -> None:
        template_fields(self.subject, part="subject")
        template_fields(self.body, part="body")

    def fields(self) -> tuple[str, ...]:
        """The field names its placeholders use, each once, in order of appearance."""
        names = template_fields(self.subject, part="subject") + template_fields(self.body, part="body")
        return tuple(dict.fromkeys(names))


def template_fields(text: str, *, part: str = "template") -> tuple[str, ...]:
    """The field names of ``text``'s placeholders, in order (repeats kept).

    Raises :class:`InvalidTemplate` naming ``part`` (subject, body) for unbalanced braces or a
    placeholder that is not a plain name."""
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as error:  # "Single '}' encountered in format string", ...
        raise InvalidTemplate(f"the message {part} is not a valid template: {error}", field=part) from None
    names: list[str] = []
    for _literal, name, spec, _conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise InvalidTemplate(
                f"placeholder {{{name}}} in the message {part} is not a field name: "
                "use {field} with letters, digits and _ (write {{ and }} for literal braces)",
                field=part,
            )
        if spec and "{" in spec:
            raise InvalidTemplate(
                f"placeholder {{{name}:{spec}}} in the message {part} nests a placeholder in its format",
                field=part,
            )
        names.append(name)
    return tuple(names)


def fill(text: str, fields: Mapping[str, str], *, record: UUID | str, part: str = "template") -> str:
    """``text`` with each placeholder replaced by the field's value.

    Raises :class:`TemplateFieldMissing` for a field not in ``fields`` (naming it, ``record``
    and the fields there are) and :class:`InvalidTemplate` for a malformed ``text``."""
    for name in template_fields(text, part=part):
        if name not in fields:
            raise TemplateFieldMissing(
                f"template field {name!r} is not a field of record {record} "
                f"(its fields: {', '.join(sorted(fields))})",
                field=name,
            )
    try:
        return _FORMATTER.vformat(text, (), fields)
    except ValueError as error:  # a format spec a string does not take, e.g. {name:d}
        raise InvalidTemplate(f"the message {part} cannot be filled: {error}", field=part) from None


def record_fields(
    record: Record, *, client_id: str, contact: Contact, custom: Mapping[str, str]
) -> dict[str, str]:
    """The fields a template may use for ``record`` of a chain (see the module's docstring):
    only those with a value."""
    fields = {name: value for name in _RECORD_FIELDS if (value := _text(getattr(record, name))) is not None}
    fields["client_id"] = client_id
    for name in _CONTACT_FIELDS:
        if value := getattr(contact, name):
            fields[name] = value
    fields.update({name: value for name, value in custom.items() if value})
    return fields


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
