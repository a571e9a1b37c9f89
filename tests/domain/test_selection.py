"""Selection rules: syntax, precedence, every operator, values, empty fields, errors, SQL."""

from __future__ import annotations

import pickle
import random
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest

from domain import selection
from domain.codes import CallResult, RecordStatus
from domain.errors import RuleViolation
from domain.selection import FIELDS, MAX_DEPTH, MAX_LENGTH, SQL_SAFE_TEXT, SelectionError, parse


def a_record(**fields: Any) -> dict[str, Any]:
    """A record as the records read model holds it; keyword arguments override fields."""
    record: dict[str, Any] = {
        "client_id": "C-1001",
        "contact_info": "+13125550101",
        "contact_info_type": 1,  # home phone
        "record_type": 2,  # general
        "record_status": 1,  # ready
        "call_result": 28,  # unknown call result
        "attempt": 0,
        "dial_sched_time": None,
        "call_time": None,
        "daily_from": 9 * 3600,
        "daily_till": 20 * 3600,
        "time_zone": "America/Chicago",
        "time_zone_rule": "device",
        "chain_n": 1,
        "postal_code": "60601",
        "country": "US",
        "state": "IL",
        "imported_at": "2024-05-01T08:30:00+00:00",
        "custom": {"balance": "250.75", "segment": "Gold", "account": "00417"},
    }
    record.update(fields)
    return record


def matches(rule: str, **fields: Any) -> bool:
    return parse(rule).matches(a_record(**fields))


def error_of(text: str) -> SelectionError:
    with pytest.raises(SelectionError) as info:
        parse(text)
    return info.value


# The empty rule -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_the_empty_rule_selects_every_record(text):
    rule = parse(text)
    assert rule.selects_all
    assert rule.matches(a_record()) and rule.matches({})
    assert str(rule) == ""
    assert rule.fields == frozenset()
    assert rule.to_sql(lambda f: f) == ("1 = 1", [])


def test_a_rule_with_a_condition_does_not_select_all():
    assert not parse("attempt = 0").selects_all


# Precedence and parentheses -------------------------------------------------------------

TRUTH = [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]


def abc(a: int, b: int, c: int) -> dict[str, Any]:
    """A record where condition A is attempt = 1, B is chain_n = 1, C is state = 'IL'."""
    return a_record(attempt=a, chain_n=b, state="IL" if c else "TX")


A, B, C = "attempt = 1", "chain_n = 1", "state = 'IL'"


@pytest.mark.parametrize(
    ("text", "truth"),
    [
        (f"{A} or {B} and {C}", lambda a, b, c: a or (b and c)),
        (f"{A} and {B} or {C}", lambda a, b, c: (a and b) or c),
        (f"({A} or {B}) and {C}", lambda a, b, c: (a or b) and c),
        (f"{A} and ({B} or {C})", lambda a, b, c: a and (b or c)),
        (f"not {A} and {B}", lambda a, b, c: (not a) and b),
        (f"not ({A} and {B})", lambda a, b, c: not (a and b)),
        (f"not {A} or {B} and not {C}", lambda a, b, c: (not a) or (b and not c)),
        (f"not not {A}", lambda a, b, c: a),
        (f"(({A}))", lambda a, b, c: a),
        (f"{A} or {B} or {C}", lambda a, b, c: a or b or c),
        (f"{A} and {B} and {C}", lambda a, b, c: a and b and c),
        (f"not ({A} or {B}) or {C}", lambda a, b, c: (not (a or b)) or c),
        (f"{A} and not ({B} or not {C})", lambda a, b, c: a and not (b or not c)),
    ],
)
def test_not_binds_tighter_than_and_which_binds_tighter_than_or(text, truth):
    rule = parse(text)
    for a, b, c in TRUTH:
        assert rule.matches(abc(a, b, c)) is bool(truth(a, b, c)), (text, a, b, c)
    again = parse(str(rule))  # the normalised text means the same
    for a, b, c in TRUTH:
        assert again.matches(abc(a, b, c)) is rule.matches(abc(a, b, c))


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("(attempt = 1 or chain_n = 1) and state = 'IL'", "(attempt = 1 or chain_n = 1) and state = 'IL'"),
        ("attempt = 1 or (chain_n = 1 and state = 'IL')", "attempt = 1 or chain_n = 1 and state = 'IL'"),
        ("((attempt = 1))", "attempt = 1"),
        ("(attempt = 1 and chain_n = 1) and state = 'IL'", "attempt = 1 and chain_n = 1 and state = 'IL'"),
        ("attempt = 1 or (chain_n = 1 or state = 'IL')", "attempt = 1 or chain_n = 1 or state = 'IL'"),
        ("NOT (attempt = 1)", "not attempt = 1"),
        ("not (attempt = 1 or chain_n = 2)", "not (attempt = 1 or chain_n = 2)"),
        ("ATTEMPT>=1   AND   Record_Type<>2", "attempt >= 1 and record_type != general"),
        ('country = "US"', "country = 'US'"),
        (
            "call_result IN (6, 'No Answer', Answering_Machine)",
            "call_result in (busy, no_answer, answering_machine)",
        ),
        ("state NOT IN ('tx')", "state not in ('tx')"),
        ("custom.Balance BETWEEN 1 and '2'", "custom.Balance between 1 and '2'"),
        ("state Starts  With 'I' or state ENDS with 'L'", "state starts with 'I' or state ends with 'L'"),
        ("state IS NOT EMPTY and country is Empty", "state is not empty and country is empty"),
        ("postal_code = 00417", "postal_code = '00417'"),
        ("attempt = '3'", "attempt = 3"),
    ],
)
def test_str_gives_the_normalised_text_which_parses_back_to_itself(text, normalised):
    rule = parse(text)
    assert str(rule) == normalised
    assert str(parse(normalised)) == normalised
    assert parse(normalised) == rule and hash(parse(normalised)) == hash(rule)


def test_and_chains_longer_than_three_are_evaluated_in_full():
    clauses = [f"attempt != {n}" for n in range(10)]
    all_of, any_of = parse(" and ".join(clauses)), parse(" or ".join(c.replace("!=", "=") for c in clauses))
    assert all_of.matches(a_record(attempt=10)) and not all_of.matches(a_record(attempt=7))
    assert any_of.matches(a_record(attempt=7)) and not any_of.matches(a_record(attempt=10))


def test_keywords_and_field_names_ignore_case():
    assert matches("ATTEMPT = 0 AnD NoT State IS EMPTY oR CoUnTrY = 'x'")
    assert parse("Call_Result = BUSY").fields == {"call_result"}


# Number fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "attempt", "expected"),
    [
        ("attempt = 2", 2, True),
        ("attempt = 2", 3, False),
        ("attempt != 2", 3, True),
        ("attempt <> 2", 2, False),
        ("attempt < 2", 1, True),
        ("attempt < 2", 2, False),
        ("attempt <= 2", 2, True),
        ("attempt <= 2", 3, False),
        ("attempt > 2", 3, True),
        ("attempt > 2", 2, False),
        ("attempt >= 2", 2, True),
        ("attempt >= 2", 1, False),
        ("attempt in (1, 3)", 3, True),
        ("attempt in (1, 3)", 2, False),
        ("attempt not in (1, 3)", 2, True),
        ("attempt not in (1, 3)", 1, False),
        ("attempt between 1 and 3", 1, True),
        ("attempt between 1 and 3", 3, True),
        ("attempt between 1 and 3", 4, False),
        ("attempt between 3 and 1", 2, False),  # an empty range, as in SQL
        ("attempt not between 1 and 3", 4, True),
        ("attempt not between 1 and 3", 2, False),
        ("attempt > -1", 0, True),
        ("attempt is empty", 0, False),
        ("attempt is not empty", 0, True),
    ],
)
def test_number_operators(rule, attempt, expected):
    assert matches(rule, attempt=attempt) is expected


def test_numbers_compare_as_numbers_not_as_text():
    assert matches("attempt > 9", attempt=10)
    assert matches("dial_sched_time < 1000000000", dial_sched_time=999999999)


@pytest.mark.parametrize("value", [3, 3.0, "3", " 3 ", RecordStatus.UPDATED])
def test_a_number_field_accepts_numbers_in_any_numeric_form(value):
    assert matches("attempt = 3", attempt=value)
    assert matches("attempt in (3)", attempt=value)
    assert matches("attempt >= 3", attempt=value)


def test_a_number_field_holding_no_number_matches_only_nothing():
    for rule in ("attempt = 3", "attempt != 3", "attempt < 3", "attempt is empty"):
        assert not matches(rule, attempt="three"), rule
    assert matches("attempt is not empty", attempt="three")


# Codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "fields", "expected"),
    [
        ("call_result in (busy, no_answer)", {"call_result": 6}, True),
        ("call_result in (busy, no_answer)", {"call_result": 7}, True),
        ("call_result in (busy, no_answer)", {"call_result": 28}, False),
        ("call_result = BUSY", {"call_result": CallResult.BUSY}, True),
        ("call_result = 'no answer'", {"call_result": 7}, True),
        ("call_result = 'Answering-Machine'", {"call_result": 9}, True),
        ("call_result = '6'", {"call_result": 6}, True),
        ("record_type = general", {"record_type": 2}, True),
        ("record_type = 2", {"record_type": 2}, True),
        ("record_type != general", {"record_type": 2}, False),
        ("record_status = ready", {"record_status": 1}, True),
        ("record_status = 'stale'", {"record_status": 4}, True),
        ("record_status between ready and stale", {"record_status": 3}, True),
        ("record_status > cancelled", {"record_status": 5}, False),
        ("contact_info_type in (mobile, email)", {"contact_info_type": 10}, True),
        ("contact_info_type = home_phone", {"contact_info_type": 4}, False),
    ],
)
def test_codes_by_name_or_number(rule, fields, expected):
    assert matches(rule, **fields) is expected


def test_code_names_are_resolved_to_numbers_at_parse_time():
    sql = parse("call_result in (busy, no_answer) and record_type = 'general'").to_sql(lambda f: f)
    assert sql is not None
    assert sql[1] == [6, 7, 2]
    assert all(type(p) is int for p in sql[1])


def test_every_code_name_of_every_code_field_parses():
    for field, enum in selection.CODE_FIELDS.items():
        for member in enum:
            rule = parse(f"{field} = {member.name.lower()}")
            assert rule.matches({field: int(member)})
            assert str(rule) == f"{field} = {member.name.lower()}"


# Times ----------------------------------------------------------------------------------

MAY_1 = int(datetime(2024, 5, 1, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("value", "epoch"),
    [
        (str(MAY_1), MAY_1),
        ("'2024-05-01'", MAY_1),
        ("'2024-05-01T00:00:00Z'", MAY_1),
        ("'2024-05-01T02:00:00+02:00'", MAY_1),
        ("'2024-05-01 00:00:00+00:00'", MAY_1),
    ],
)
def test_times_are_epoch_seconds_or_quoted_iso_8601(value, epoch):
    rule = parse(f"call_time = {value}")
    assert rule.matches({"call_time": epoch})
    assert not rule.matches({"call_time": epoch + 1})
    assert parse(str(rule)) == rule


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("32400", 32400), ("'09:00'", 32400), ("'9:00:30'", 32430), ("'24:00'", 86400), ("0", 0)],
)
def test_times_of_day_are_seconds_or_quoted_hh_mm(value, seconds):
    assert parse(f"daily_from = {value}").matches({"daily_from": seconds})


def test_imported_at_is_iso_text_that_orders_by_date_prefix():
    assert matches("imported_at < '2024-05-02'")
    assert matches("imported_at >= '2024-05-01'")
    assert not matches("imported_at < '2024-05-01'")
    assert matches("imported_at starts with '2024-05'")
    when = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    assert matches("imported_at between '2024-05-01' and '2024-05-01T09'", imported_at=when)


# Text fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "state", "expected"),
    [
        ("state = 'IL'", "IL", True),
        ("state = 'il'", "IL", True),
        ("state = 'I'", "IL", False),
        ("state != 'il'", "IL", False),
        ("state != 'TX'", "IL", True),
        ("state in ('tx', 'il')", "IL", True),
        ("state in ('tx', 'ca')", "IL", False),
        ("state not in ('tx', 'ca')", "IL", True),
        ("state not in ('TX', 'il')", "IL", False),
        ("state contains 'lin'", "Illinois", True),
        ("state contains 'xyz'", "Illinois", False),
        ("state not contains 'LIN'", "Illinois", False),
        ("state starts with 'ill'", "Illinois", True),
        ("state starts with 'nois'", "Illinois", False),
        ("state not starts with 'x'", "Illinois", True),
        ("state ends with 'NOIS'", "Illinois", True),
        ("state ends with 'ill'", "Illinois", False),
        ("state not ends with 's'", "Illinois", False),
        ("state = 'STRASSE'", "Straße", True),  # Unicode case folding
        ("state < 'J'", "IL", True),
        ("state < 'J'", "KS", False),
        ("state <= 'IL'", "IL", True),
        ("state > 'IL'", "IN", True),
        ("state >= 'in'", "IN", False),  # orderings keep case: 'I' < 'i'
        ("state between 'A' and 'M'", "IL", True),
        ("state between 'A' and 'M'", "NY", False),
        ("state not between 'A' and 'M'", "NY", True),
        ("state is empty", "IL", False),
        ("state is not empty", "IL", True),
    ],
)
def test_text_operators(rule, state, expected):
    assert matches(rule, state=state) is expected


def test_a_number_written_for_a_text_field_is_compared_as_text():
    assert matches("postal_code = 60601")
    assert not matches("postal_code = 60601", postal_code="060601")
    assert matches("postal_code starts with 606")


def test_text_fields_read_non_text_values_as_text():
    assert matches("client_id = '42'", client_id=42)


# Quoting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'plain'", "plain"),
        ('"double"', "double"),
        ("'it''s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'back\\\\slash'", "back\\slash"),
        ("'a \"mixed\" one'", 'a "mixed" one'),
        ("\"a 'mixed' one\"", "a 'mixed' one"),
        ("'  spaces  '", "  spaces  "),
        ("'and or not ( ) , = <'", "and or not ( ) , = <"),
        ("'ünïcødé'", "ünïcødé"),
    ],
)
def test_quoted_strings_and_their_escapes(literal, value):
    rule = parse(f"client_id = {literal}")
    assert rule.matches({"client_id": value})
    assert not rule.matches({"client_id": value + "x"})
    assert parse(str(rule)) == rule


# Custom fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("custom.balance > 99", "100", True),  # as numbers; as text '100' < '99'
        ("custom.balance < 99", "100", False),
        ("custom.balance > '99'", "100", True),  # a quoted number is still a number
        ("custom.balance = 100", "100.00", True),
        ("custom.balance = 100.5", "100.50", True),
        ("custom.balance = 100", " 100 ", True),
        ("custom.balance = '+100'", "100", True),
        ("custom.balance >= -5", "-5", True),
        ("custom.balance = 100", "1e2", False),  # only plain decimals read as numbers
        ("custom.balance between 10 and 100.5", "100.5", True),
        ("custom.balance between 10 and 100.5", "9.99", False),
        ("custom.balance not between 10 and 100", "9", True),
        ("custom.balance in (1, 2, 3)", "2.0", True),
        ("custom.balance not in (1, 2, 3)", "4", True),
        ("custom.balance != 100", "100.0", False),
        ("custom.balance = 12345678901234567890", "12345678901234567891", False),  # no float rounding
        # Text against text: equality ignores case, orderings do not.
        ("custom.segment = 'gold'", "Gold", True),
        ("custom.segment in ('silver', 'GOLD')", "Gold", True),
        ("custom.segment != 'gold'", "Silver", True),
        ("custom.segment > 'F'", "Gold", True),
        ("custom.segment > 'f'", "Gold", False),
        ("custom.segment contains 'OL'", "Gold", True),
        ("custom.segment starts with 'g'", "Gold", True),
        ("custom.segment ends with 'LD'", "Gold", True),
        ("custom.segment not contains 'x'", "Gold", True),
        ("custom.account contains 41", "00417", True),  # contains is always textual
        # A number is never ordered against a non-number.
        ("custom.balance > 100", "n/a", False),
        ("custom.balance < 100", "n/a", False),
        ("custom.balance between 1 and 'z'", "5", False),
        ("custom.segment > 'A'", "100", False),
        ("custom.balance = 100", "n/a", False),
        ("custom.balance != 100", "n/a", True),
        ("custom.balance is not empty", "n/a", True),
    ],
)
def test_custom_fields_compare_as_numbers_when_both_sides_are_numbers(rule, value, expected):
    field = rule.split()[0].split(".")[1]
    assert parse(rule).matches({"custom": {field: value}}) is expected


def test_custom_field_names_ignore_case_but_prefer_the_exact_spelling():
    assert parse("custom.BALANCE = 5").matches({"custom": {"balance": "5"}})
    assert parse("custom.balance = 5").matches({"custom": {"Balance": "5"}})
    assert parse("custom.Balance = 5").matches({"custom": {"balance": "6", "Balance": "5"}})
    assert parse("CUSTOM.balance = 5").fields == {"custom.balance"}


def test_custom_values_that_are_not_text_are_read_as_text():
    assert parse("custom.n = 5").matches({"custom": {"n": 5}})
    assert parse("custom.n = 5").matches({"custom": {"N": 5}})


# Empty and missing fields ---------------------------------------------------------------

EMPTY_FORMS = [
    pytest.param(lambda name: {}, id="missing"),
    pytest.param(lambda name: {name: None}, id="None"),
    pytest.param(lambda name: {name: ""}, id="empty-text"),
]
COMPARISONS = {
    "attempt": [
        "= 1",
        "!= 1",
        "< 1",
        "<= 1",
        "> 1",
        ">= 1",
        "in (1, 2)",
        "not in (1, 2)",
        "between 0 and 9",
        "not between 0 and 9",
    ],
    "state": [
        "= 'IL'",
        "!= 'IL'",
        "< 'M'",
        "> 'A'",
        "in ('IL')",
        "not in ('IL')",
        "contains 'I'",
        "not contains 'I'",
        "starts with 'I'",
        "not starts with 'I'",
        "ends with 'L'",
        "not ends with 'L'",
        "between 'A' and 'Z'",
        "not between 'A' and 'B'",
    ],
}


@pytest.mark.parametrize("empty", EMPTY_FORMS)
@pytest.mark.parametrize(("field", "comparison"), [(f, c) for f, cs in COMPARISONS.items() for c in cs])
def test_an_empty_field_fails_every_comparison(empty, field, comparison):
    assert not parse(f"{field} {comparison}").matches(empty(field))
    assert parse(f"not {field} {comparison}").matches(empty(field))  # `not` is a plain negation


@pytest.mark.parametrize("empty", EMPTY_FORMS)
@pytest.mark.parametrize("field", ["attempt", "state", "call_time"])
def test_an_empty_field_is_empty(empty, field):
    assert parse(f"{field} is empty").matches(empty(field))
    assert not parse(f"{field} is not empty").matches(empty(field))


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"custom": None},
        {"custom": {}},
        {"custom": {"other": "1"}},
        {"custom": {"balance": ""}},
        {"custom": {"balance": None}},
    ],
)
def test_an_empty_custom_field_is_empty_and_fails_every_comparison(record):
    assert parse("custom.balance is empty").matches(record)
    assert not parse("custom.balance is not empty").matches(record)
    for comparison in [
        "= 1",
        "!= 1",
        "> 1",
        "< 1",
        "in (1)",
        "not in (1)",
        "contains '1'",
        "not contains '1'",
        "between 0 and 2",
    ]:
        assert not parse(f"custom.balance {comparison}").matches(record), comparison


def test_a_blank_but_not_empty_text_is_not_empty():
    assert matches("state is not empty", state=" ")


# Fields ---------------------------------------------------------------------------------


def test_fields_lists_what_the_rule_reads():
    rule = parse("(attempt < 3 or Custom.Balance > 100) and not call_result in (busy) and attempt >= 0")
    assert rule.fields == {"attempt", "custom.Balance", "call_result"}


@pytest.mark.parametrize("field", FIELDS)
def test_every_record_field_is_a_field(field):
    rule = parse(f"{field} is not empty")
    assert rule.fields == {field}
    assert rule.matches(a_record(dial_sched_time=1, call_time=1))


# Errors ---------------------------------------------------------------------------------

ALL_FIELDS = ", ".join(FIELDS)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("atempt = 1", "unknown field 'atempt' at position 0 (did you mean attempt?)", 0),
        ("attempt = 1 and Stat = 'IL'", "unknown field 'Stat' at position 16 (did you mean state?)", 16),
        ("zzz = 1", f"unknown field 'zzz' at position 0; the fields are {ALL_FIELDS} and custom.<name>", 0),
        ("record.attempt = 1", "unknown field 'record.attempt' at position 0 (did you mean attempt?)", 0),
        (
            "cust.balance = 1",
            "unknown field 'cust.balance' at position 0; custom fields are written custom.<name>",
            0,
        ),
        ("custom. = 1", "expected a custom field name after 'custom.' at position 7", 7),
        (
            "custom.1st = 1",
            "custom field name '1st' at position 7 must be letters, digits and _ (at most 63), not starting with a digit",
            7,
        ),
        ("call_result >=", "expected a value after '>=' at position 14", 14),
        ("attempt = and chain_n = 1", "expected a value after '=' at position 10, found 'and'", 10),
        ("attempt = (1)", "expected a value after '=' at position 10, found '('", 10),
        ("attempt = abc", "expected a value after '=' at position 10, found 'abc'", 10),
        (
            "country = US",
            "expected a value after '=' at position 10, found 'US': text values are quoted, as in 'US'",
            10,
        ),
        (
            "attempt 3",
            "expected an operator after 'attempt' at position 8, found '3' (" + selection._OPERATORS + ")",
            8,
        ),
        ("attempt", "expected an operator after 'attempt' at position 7 (" + selection._OPERATORS + ")", 7),
        (
            "attempt like 3",
            "expected an operator after 'attempt' at position 8, found 'like' (" + selection._OPERATORS + ")",
            8,
        ),
        ("attempt in 1", "'in' needs a parenthesised list at position 11, as in attempt in (a, b)", 11),
        ("attempt not in 1", "'in' needs a parenthesised list at position 15, as in attempt in (a, b)", 15),
        ("attempt in ()", "expected a value after '(' at position 12, found ')'", 12),
        ("attempt in (1, 2,)", "expected a value after ',' at position 17, found ')'", 17),
        ("attempt in (1 2)", "expected ',' or ')' in the list after '1' at position 14, found '2'", 14),
        ("attempt in (1, 2", "unbalanced parenthesis: '(' at position 11 is never closed", 11),
        ("(attempt = 1", "unbalanced parenthesis: '(' at position 0 is never closed", 0),
        ("((attempt = 1)", "unbalanced parenthesis: '(' at position 0 is never closed", 0),
        ("attempt = 1)", "unbalanced parenthesis: ')' at position 11 has no matching '('", 11),
        (")", "unbalanced parenthesis: ')' at position 0 has no matching '('", 0),
        ("()", "expected a condition (a field, 'not' or '(') after '(' at position 1, found ')'", 1),
        (
            "(attempt = 1 chain_n = 1)",
            "expected 'and', 'or' or ')' after '1' at position 13, found 'chain_n'",
            13,
        ),
        (
            "attempt = 1 chain_n = 1",
            "expected 'and', 'or' or the end of the rule after '1' at position 12, found 'chain_n'",
            12,
        ),
        ("attempt = 1 and", "expected a condition (a field, 'not' or '(') after 'and' at position 15", 15),
        ("and attempt = 1", "expected a condition (a field, 'not' or '(') at position 0, found 'and'", 0),
        (
            "attempt = 1 or or chain_n = 1",
            "expected a condition (a field, 'not' or '(') after 'or' at position 15, found 'or'",
            15,
        ),
        ("not", "expected a condition (a field, 'not' or '(') after 'not' at position 3", 3),
        ("= 1", "expected a condition (a field, 'not' or '(') at position 0, found '='", 0),
        (
            "attempt between 1 3",
            "expected 'and' after the lower bound of 'between' at position 18, found '3'",
            18,
        ),
        ("attempt between 1 and", "expected a value after 'and' at position 21", 21),
        ("state starts 'I'", "expected 'with' after 'starts' at position 13, found 'I'", 13),
        ("state ends", "expected 'with' after 'ends' at position 10", 10),
        ("state is blank", "expected 'empty' or 'not empty' after 'is' at position 9, found 'blank'", 9),
        ("state is not", "expected 'empty' or 'not empty' after 'not' at position 12", 12),
        (
            "state not like 'I'",
            "expected 'in', 'contains', 'starts with', 'ends with' or 'between' after 'not' at position 10, found 'like'",
            10,
        ),
        ("attempt contains 1", "'contains' needs a text field, and attempt is a number, at position 8", 8),
        (
            "call_result starts with 'b'",
            "'starts with' needs a text field, and call_result is a number, at position 12",
            12,
        ),
        (
            "daily_from not ends with 1",
            "'ends with' needs a text field, and daily_from is a number, at position 15",
            15,
        ),
        ("state = ''", "an empty text never matches, at position 8: write state is empty", 8),
        (
            "custom.x in ('a', \"\")",
            "an empty text never matches, at position 18: write custom.x is empty",
            18,
        ),
        ("attempt = 1.5", "expected a whole number for attempt at position 10, found '1.5'", 10),
        ("chain_n = 'one'", "expected a whole number for chain_n at position 10, found 'one'", 10),
        (
            "record_type = 2.5",
            "expected a record_type name or whole-number code at position 14, found '2.5'",
            14,
        ),
        ("call_result = 99", "unknown call_result code 99 at position 14 (the codes are 0 to 53)", 14),
        ("record_status = -1", "unknown record_status code -1 at position 16 (the codes are 0 to 9)", 16),
        (
            "record_status in (ready, stail)",
            "unknown record_status 'stail' at position 25 (did you mean stale?); the record_status names are "
            "no_record_status, ready, retrieved, updated, stale, cancelled, agent_error, chain_updated, "
            "missed_callback, chain_ready",
            25,
        ),
        (
            "record_type = 'nothing like it'",
            "unknown record_type 'nothing like it' at position 14; the record_type names are no_record_type, "
            "unknown, general, campaign_rescheduled, personal_rescheduled, personal_callback, campaign_callback, "
            "no_call",
            14,
        ),
        (
            "call_time < 1.5",
            "expected epoch seconds or a quoted ISO 8601 time for call_time at position 12, found '1.5'",
            12,
        ),
        (
            "call_time < 'yesterday'",
            "expected epoch seconds or an ISO 8601 time for call_time at position 12, found 'yesterday'",
            12,
        ),
        (
            "call_time < '2024-05-01T10:00'",
            "call_time '2024-05-01T10:00' at position 12 needs a UTC offset (e.g. Z or +02:00)",
            12,
        ),
        (
            "daily_from > '9am'",
            "expected a time of day 'HH:MM[:SS]' for daily_from at position 13, found '9am'",
            13,
        ),
        (
            "daily_from > '09:60'",
            "expected a time of day 'HH:MM[:SS]' for daily_from at position 13, found '09:60'",
            13,
        ),
        (
            "daily_till < 90000",
            "daily_till is a time of day, 0 to 86400 seconds, at position 13, found '90000'",
            13,
        ),
        (
            "daily_till < '25:00'",
            "daily_till is a time of day, 0 to 86400 seconds, at position 13, found '25:00'",
            13,
        ),
        ("daily_from > 09:00", "times of day are quoted, as in '09:30', at position 13", 13),
        ("state = 'IL", "unterminated string starting at position 8", 8),
        ('state = "IL\\"', "unterminated string starting at position 8", 8),
        ("state = 'IL\\", "unterminated string starting at position 8", 8),
        (
            "state = 'a\\nb'",
            "unknown escape '\\n' at position 10: only \\\\, \\' and \\\" are escapes (write \\\\ for a backslash)",
            10,
        ),
        ("attempt ! 1", "unexpected character '!' at position 8 (did you mean '!='?)", 8),
        ("attempt = 1 && chain_n = 1", "unexpected character '&' at position 12", 12),
        ("state = ‘IL’", "unexpected character '‘' at position 8", 8),
        ("attempt = 1.2.3", "malformed number '1.2.3' at position 10", 10),
        ("attempt = 1and chain_n = 1", "malformed number '1and' at position 10", 10),
        ("attempt = - 1", "unexpected character '-' at position 10", 10),
    ],
)
def test_error_messages_name_what_was_expected_and_where(text, message, position):
    error = error_of(text)
    assert error.detail == message
    assert str(error) == message
    assert error.position == position
    assert error.field == "selection_rule"


def test_the_first_error_in_the_text_is_reported():
    # The unterminated string comes after the missing value: the parser stops first.
    assert error_of("attempt >= and state = 'x").position == 11


def test_selection_errors_are_rule_violations_naming_the_field():
    error = error_of("atempt = 1")
    assert isinstance(error, RuleViolation)
    with pytest.raises(SelectionError) as info:
        parse("atempt = 1", field="settings.retention.selection_rule")
    assert info.value.field == "settings.retention.selection_rule"
    assert info.value.position == 0


def test_length_limit():
    padding = " " * (MAX_LENGTH - len("attempt = 1"))
    assert parse("attempt = 1" + padding).matches(a_record(attempt=1))
    error = error_of("attempt = 1" + padding + " ")
    assert (
        error.detail == f"a selection rule has at most {MAX_LENGTH} characters, this one has {MAX_LENGTH + 1}"
    )
    assert error.position == MAX_LENGTH


def test_length_limit_allows_a_long_list():
    values = ", ".join(str(n) for n in range(700))
    rule = parse(f"attempt in ({values})")
    assert len(str(rule)) < MAX_LENGTH
    assert rule.matches(a_record(attempt=699)) and not rule.matches(a_record(attempt=700))


def test_nesting_depth_limit_of_parentheses():
    deep = "(" * MAX_DEPTH + "attempt = 1" + ")" * MAX_DEPTH
    assert parse(deep).matches(a_record(attempt=1))
    too_deep = "(" * (MAX_DEPTH + 1) + "attempt = 1" + ")" * (MAX_DEPTH + 1)
    error = error_of(too_deep)
    assert error.detail == f"the rule nests more than {MAX_DEPTH} levels deep at position {MAX_DEPTH}"
    assert error.position == MAX_DEPTH


def test_nesting_depth_limit_counts_not_and_parentheses_together():
    assert parse("not (" * 25 + "attempt = 1" + ")" * 25).matches(a_record(attempt=2))
    assert parse("not " * MAX_DEPTH + "attempt = 1").matches(a_record(attempt=1))
    error = error_of("not " * (MAX_DEPTH + 1) + "attempt = 1")
    assert error.position == 4 * MAX_DEPTH
    error = error_of("not (" * 25 + "(attempt = 1)" + ")" * 25)
    assert error.position == 5 * 25


def test_many_clauses_within_the_length_limit_do_not_recurse_deeply():
    text = " or ".join(f"attempt = {n}" for n in range(200))
    rule = parse(text)
    assert rule.matches(a_record(attempt=199))
    nested = "(" * 40 + " and ".join(["attempt >= 0"] * 200) + ")" * 40
    assert parse(nested).matches(a_record())


# The Rule object ------------------------------------------------------------------------


def test_a_rule_is_immutable_reusable_and_picklable():
    rule = parse("call_result in (busy, no_answer) and custom.balance > 100")
    with pytest.raises(AttributeError):
        rule.matches = lambda r: True
    with pytest.raises(AttributeError):
        rule.fields = frozenset()
    copy = pickle.loads(pickle.dumps(rule))
    assert copy == rule
    record = a_record(call_result=6, custom={"balance": "150"})
    assert rule.matches(record) and copy.matches(record) and rule.matches(record)
    assert repr(rule) == "selection.parse('call_result in (busy, no_answer) and custom.balance > 100')"


# SQL ------------------------------------------------------------------------------------


def identity(field: str) -> str:
    return field


@pytest.mark.parametrize(
    "text",
    [
        "custom.balance > 100",
        "attempt = 1 and custom.balance is empty",
        "state < 'M'",
        "imported_at between '2024' and '2025'",
        "state = 'IL'",
        "country in ('US', '1')",
        "contact_info contains 'x'",
        "not state starts with 'é'",
    ],
)
def test_to_sql_gives_none_for_what_it_cannot_say_portably(text):
    assert parse(text).to_sql(identity) is None


def test_to_sql_gives_none_when_a_field_has_no_column():
    rule = parse("attempt = 1 or postal_code = '606'")
    assert rule.to_sql(lambda f: None if f == "postal_code" else f) is None
    assert rule.to_sql(identity) is not None


def test_to_sql_uses_the_callers_columns_and_placeholders():
    sql = parse("record_status = ready and call_result in (busy, no_answer) and not attempt >= 3").to_sql(
        lambda f: f"r.{f}"
    )
    assert sql == (
        "((r.record_status IS NOT NULL AND r.record_status = ?) "
        "AND (r.call_result IS NOT NULL AND r.call_result IN (?, ?)) "
        "AND (NOT (r.attempt IS NOT NULL AND r.attempt >= ?)))",
        [1, 6, 7, 3],
    )


def test_to_sql_translates_text_without_letters():
    sql = parse("postal_code starts with '606' and contact_info contains '+1 312' and state is empty").to_sql(
        identity
    )
    assert sql == (
        "((postal_code IS NOT NULL AND postal_code <> '' AND postal_code LIKE ?) "
        "AND (contact_info IS NOT NULL AND contact_info <> '' AND contact_info LIKE ?) "
        "AND (state IS NULL OR state = ''))",
        ["606%", "%+1 312%"],
    )


def test_sql_safe_characters_are_untouched_by_case_folding_and_never_produced_by_it():
    for code in range(0x110000):
        char = chr(code)
        folded = char.casefold()
        if char in SQL_SAFE_TEXT:
            assert folded == char, hex(code)
        else:
            assert not set(folded) & SQL_SAFE_TEXT, hex(code)
    assert not {"%", "_", "\\"} & SQL_SAFE_TEXT  # LIKE's wildcards and PostgreSQL's escape


NUMBER_COLUMNS = {
    "contact_info_type": [0, 1, 4, 10],
    "record_type": [2, 3, 7],
    "record_status": [0, 1, 4, 9],
    "call_result": [6, 7, 9, 28],
    "attempt": [None, 0, 1, 2, 5],
    "chain_n": [1, 2, 3],
    "dial_sched_time": [None, MAY_1 - 1, MAY_1, MAY_1 + 3600],
    "call_time": [None, MAY_1, MAY_1 + 60],
    "daily_from": [None, 0, 32400, 86400],
    "daily_till": [None, 64800, 72000],
}
TEXTS = [
    None,
    "",
    " ",
    "123",
    "1234",
    "12-34",
    "+1 312",
    "A123",
    "a123",
    "É12",
    "\u212a9",
    "ß",
    "(1)",
    "1:2",
    "x@y.z",
]
TEXT_COLUMNS = {
    name: TEXTS for name in ("client_id", "contact_info", "postal_code", "country", "state", "time_zone")
}
SAFE_VALUES = ["1", "12", "123", "1234", "3", "-", "+1", " ", "(1)", "1:2", "@", "."]
NUMBER_OPS = [
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "between",
    "not between",
    "is empty",
    "is not empty",
]
TEXT_OPS = [
    "=",
    "!=",
    "in",
    "not in",
    "contains",
    "not contains",
    "starts with",
    "not starts with",
    "ends with",
    "not ends with",
    "is empty",
    "is not empty",
]


def random_value(rng: random.Random, field: str) -> str:
    if field in NUMBER_COLUMNS:
        if field in selection.CODE_FIELDS and rng.random() < 0.5:
            enum = selection.CODE_FIELDS[field]
            return rng.choice([m.name.lower() for m in enum])
        if field in selection.CODE_FIELDS:
            return str(rng.choice([int(m) for m in selection.CODE_FIELDS[field]]))
        extra = [3, 43200] if field.startswith("daily") else [-1, 3]
        return str(rng.choice([v for v in NUMBER_COLUMNS[field] if v is not None] + extra))
    return selection._quote(rng.choice(SAFE_VALUES))


def random_comparison(rng: random.Random) -> str:
    field = rng.choice([*NUMBER_COLUMNS, *TEXT_COLUMNS])
    op = rng.choice(NUMBER_OPS if field in NUMBER_COLUMNS else TEXT_OPS)
    if op.startswith("is"):
        return f"{field} {op}"
    if op.endswith("in"):
        return f"{field} {op} ({', '.join(random_value(rng, field) for _ in range(rng.randint(1, 3)))})"
    if op.endswith("between"):
        return f"{field} {op} {random_value(rng, field)} and {random_value(rng, field)}"
    return f"{field} {op} {random_value(rng, field)}"


def random_rule(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth >= 3 or roll < 0.4:
        return random_comparison(rng)
    if roll < 0.55:
        return f"not {random_rule(rng, depth + 1)}"
    joiner = rng.choice([" and ", " or "])
    return "(" + joiner.join(random_rule(rng, depth + 1) for _ in range(rng.randint(2, 4))) + ")"


def random_records(rng: random.Random, count: int) -> list[dict[str, Any]]:
    columns = {**NUMBER_COLUMNS, **TEXT_COLUMNS}
    return [{name: rng.choice(values) for name, values in columns.items()} for _ in range(count)]


RULES = [parse(random_rule(random.Random(seed))) for seed in range(1500)]
RECORDS = random_records(random.Random(20240501), 400)
COLUMNS = [*NUMBER_COLUMNS, *TEXT_COLUMNS]


def expected_ids(rule: selection.Rule) -> set[int]:
    return {i for i, record in enumerate(RECORDS) if rule.matches(record)}


def test_the_generated_rules_are_translatable_and_select_something_but_not_everything():
    assert all(rule.to_sql(identity) is not None for rule in RULES)
    assert all(parse(str(rule)) == rule for rule in RULES)
    assert sum(0 < len(expected_ids(rule)) < len(RECORDS) for rule in RULES) > len(RULES) // 3


def test_to_sql_selects_the_same_records_as_matches_in_sqlite():
    db = sqlite3.connect(":memory:")
    numbers = ", ".join(f"{n} INTEGER" for n in NUMBER_COLUMNS)
    texts = ", ".join(f"{n} TEXT" for n in TEXT_COLUMNS)
    db.execute(f"CREATE TABLE records (id INTEGER PRIMARY KEY, {numbers}, {texts})")
    db.executemany(
        f"INSERT INTO records (id, {', '.join(COLUMNS)}) VALUES (?, {', '.join('?' * len(COLUMNS))})",
        [(i, *(r[n] for n in COLUMNS)) for i, r in enumerate(RECORDS)],
    )
    for rule in [parse(""), *RULES]:
        where, params = rule.to_sql(lambda f: f'"{f}"') or ("", [])
        found = {row[0] for row in db.execute(f"SELECT id FROM records WHERE {where}", params)}
        assert found == expected_ids(rule), (str(rule), where, params)
    db.close()


@pytest.mark.integration
def test_to_sql_selects_the_same_records_as_matches_in_postgresql(fresh_postgres_database):
    import psycopg

    with psycopg.connect(fresh_postgres_database, autocommit=True) as db:
        # A linguistic collation where the server has one, so that nothing translated
        # depends on the collation (the test database's default is often C).
        icu = db.execute("SELECT 1 FROM pg_collation WHERE collname = 'en-x-icu'").fetchone()
        collate = ' COLLATE "en-x-icu"' if icu else ""
        numbers = ", ".join(f"{n} BIGINT" for n in NUMBER_COLUMNS)
        texts = ", ".join(f"{n} TEXT{collate}" for n in TEXT_COLUMNS)
        db.execute(f"CREATE TABLE records (id INTEGER PRIMARY KEY, {numbers}, {texts})")
        with db.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO records (id, {', '.join(COLUMNS)}) VALUES (%s, {', '.join(['%s'] * len(COLUMNS))})",
                [(i, *(r[n] for n in COLUMNS)) for i, r in enumerate(RECORDS)],
            )
        for rule in [parse(""), *RULES]:
            where, params = rule.to_sql(lambda f: f'"{f}"') or ("", [])
            where = where.replace("?", "%s")
            found = {row[0] for row in db.execute(f"SELECT id FROM records WHERE {where}", params)}
            assert found == expected_ids(rule), (str(rule), where, params)
