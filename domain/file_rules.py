"""Which files of an SFTP directory a list automation run takes. Pure.

A run lists the directory and takes, in name order, each regular file whose name the rule's
operator and value select (:func:`matches`): ``equals``, ``contains``, ``starts_with``,
``ends_with`` (all ignoring case: a CRM that writes ``LEADS.CSV`` one day and ``leads.csv``
the next sends the same list), or ``glob`` (``*``, ``?`` and ``[...]`` over the whole name,
case ignored too, with :mod:`fnmatch`'s rules). With ``ignore_duplicates`` a name already
processed by an earlier run of the job (the same name and extension) is left alone; without
it, a file left on the server (``after_import`` "leave") is taken again by the next run, as the
document warns. Names ending ``.part`` are never taken: they are transfers still being
written (this system's own uploads end so until complete).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable

from domain.errors import RuleViolation
from schemas.automation import FileRule

IN_TRANSFER_SUFFIX = ".part"


def check(rule: FileRule) -> None:
    """Refuse a rule that can select nothing sensible, naming the field."""
    if "/" in rule.value:
        raise RuleViolation(
            f"{rule.value!r} names a path: the rule selects file names in the job's directory",
            field="file_rule.value",
        )
    if rule.value != rule.value.strip():
        raise RuleViolation(f"{rule.value!r} starts or ends with a space", field="file_rule.value")


def matches(rule: FileRule, name: str) -> bool:
    """Whether the rule selects the file name ``name`` (case ignored)."""
    if name.endswith(IN_TRANSFER_SUFFIX):
        return False
    subject, value = name.casefold(), rule.value.casefold()
    match rule.operator:
        case "equals":
            return subject == value
        case "contains":
            return value in subject
        case "starts_with":
            return subject.startswith(value)
        case "ends_with":
            return subject.endswith(value)
        case "glob":
            return fnmatch.fnmatchcase(subject, value)
    raise ValueError(f"unknown operator {rule.operator!r}")


def to_take(rule: FileRule, names: Iterable[str], processed: Collection[str]) -> list[str]:
    """The files a run takes from ``names`` (the directory's regular files), in name order;
    ``processed``: the names the job's earlier runs took."""
    taken = sorted(name for name in set(names) if matches(rule, name))
    if rule.ignore_duplicates:
        taken = [name for name in taken if name not in processed]
    return taken
