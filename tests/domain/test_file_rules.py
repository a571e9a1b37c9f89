"""Which files a list automation run takes: the document's name operators, "ignore duplicate
files", and transfers still being written."""

from __future__ import annotations

import pytest

from domain import file_rules
from domain.errors import RuleViolation
from schemas.automation import FileRule

DIRECTORY = [
    "Collections_2026-03-10.csv",
    "collections_2026-03-11.CSV",
    "HighRisk_Collections.csv.pgp",
    "payments.csv",
    "Collections_2026-03-12.csv.part",
    "readme.txt",
]


@pytest.mark.parametrize(
    ("operator", "value", "taken"),
    [
        ("equals", "payments.csv", ["payments.csv"]),
        ("equals", "PAYMENTS.CSV", ["payments.csv"]),
        ("equals", "payments", []),
        # The document's example: a CSV file with Collections in its name.
        ("contains", "Collections", ["Collections_2026-03-10.csv", "HighRisk_Collections.csv.pgp", "collections_2026-03-11.CSV"]),
        ("starts_with", "collections_", ["Collections_2026-03-10.csv", "collections_2026-03-11.CSV"]),
        ("ends_with", ".csv", ["Collections_2026-03-10.csv", "collections_2026-03-11.CSV", "payments.csv"]),
        ("ends_with", ".pgp", ["HighRisk_Collections.csv.pgp"]),
        ("glob", "collections_2026-03-1[01].csv", ["Collections_2026-03-10.csv", "collections_2026-03-11.CSV"]),
        ("glob", "*.csv*", ["Collections_2026-03-10.csv", "HighRisk_Collections.csv.pgp", "collections_2026-03-11.CSV", "payments.csv"]),
        ("glob", "?ayments.csv", ["payments.csv"]),
    ],
)
def test_each_operator_selects_names_ignoring_case_and_never_a_transfer_in_progress(
    operator: str, value: str, taken: list[str]
) -> None:
    rule = FileRule(operator=operator, value=value)  # type: ignore[arg-type]
    file_rules.check(rule)
    assert file_rules.to_take(rule, DIRECTORY, processed=()) == taken


def test_duplicates_are_taken_again_unless_ignored() -> None:
    processed = {"payments.csv"}
    left = FileRule(operator="ends_with", value=".csv", after_import="leave")
    assert "payments.csv" in file_rules.to_take(left, DIRECTORY, processed)  # the document's warning
    ignoring = FileRule(operator="ends_with", value=".csv", ignore_duplicates=True)
    assert file_rules.to_take(ignoring, DIRECTORY, processed) == ["Collections_2026-03-10.csv", "collections_2026-03-11.CSV"]
    # Same name and extension only: another extension is another file.
    assert file_rules.to_take(ignoring, ["payments.csv", "payments.txt.csv"], processed) == ["payments.txt.csv"]


def test_the_default_is_delete_after_import() -> None:
    assert FileRule(operator="contains", value="x").after_import == "delete"


@pytest.mark.parametrize(("value", "words"), [("in/leads.csv", "names a path"), (" leads", "space")])
def test_a_rule_that_selects_nothing_sensible_is_refused(value: str, words: str) -> None:
    with pytest.raises(RuleViolation, match=words) as refused:
        file_rules.check(FileRule(operator="contains", value=value))
    assert refused.value.field == "file_rule.value"
