"""Tests for translating FEEL (DMN cells) into corpflow expressions."""

from __future__ import annotations

import datetime as dt

import pytest

from app.workflow.expressions import ExpressionError, compile_expression
from app.workflow.feel import translate_feel_expression, translate_unary_tests, translate_value_list


def matches(cell: str, value: object, **variables: object) -> bool:
    expression = compile_expression(translate_unary_tests(cell))
    return bool(expression.evaluate(variables, {"cellInput": value}))


@pytest.mark.parametrize(
    ("cell", "hits", "misses"),
    [
        ("", [1, None, "x"], []),
        ("-", [1, None], []),
        ("   ", [1, None], []),
        ("< 5", [4], [5, None]),
        ("<= 8", [8], [9]),
        (">= 1000000", [1000000], [999999]),
        ("> 0", [1], [0]),
        ('"A"', ["A"], ["B", None]),
        ("5", [5, 5.0], [6]),
        ("true", [True], [False]),
        ("null", [None], [0, ""]),
        ('"A","B"', ["A", "B"], ["C"]),
        ("1000, 2000", [1000, 2000], [1500]),
        ("[1..5], > 10", [1, 5, 11], [6, 10, None]),
        ("[1..5]", [1, 5], [0, 6]),
        ("(1..5)", [2, 4], [1, 5]),
        ("]1..5[", [2], [1, 5]),
        ("[1..5)", [1], [5]),
        ("(1..5]", [5], [1]),
        ('not("X")', ["Y", None], ["X"]),
        ('not("X","Y")', ["Z"], ["X", "Y"]),
        ("not(>= 1000)", [999], [1000, None]),
        ("not([1..5])", [0, 6], [3, None]),
        ('"say \\"hi\\""', ['say "hi"'], ["say hi"]),
        ("? > 5 and ? < 10", [6], [5]),
    ],
)
def test_feel_unary_tests_match(cell: str, hits: list[object], misses: list[object]) -> None:
    for value in hits:
        assert matches(cell, value), (cell, value)
    for value in misses:
        assert not matches(cell, value), (cell, value)


def test_feel_unary_tests_date_literals() -> None:
    assert matches('date("2024-01-01")', dt.date(2024, 1, 1))
    moment = dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert matches('date and time("2024-01-01T10:00:00")', moment)
    assert matches('duration("P1D")', dt.timedelta(days=1))
    assert matches('>= date("2024-01-01")', dt.date(2024, 6, 1))


def test_feel_unary_tests_compare_with_variable() -> None:
    assert matches("> limit", 10, limit=5)


def test_feel_unary_tests_custom_input_name() -> None:
    source = translate_unary_tests("< 5", "amountInput")
    assert "amountInput" in source


def test_feel_unary_tests_accept_juel() -> None:
    assert translate_unary_tests("${cellInput > 5}") == "(cellInput > 5)"


@pytest.mark.parametrize(
    "cell",
    [
        "foo(1)",
        "some x in y satisfies x",
        "[1..",
        ">",
        '"a" "b"',
        "__import__('os')",
        "x.__class__",
    ],
)
def test_feel_unary_tests_reject_with_cell_text(cell: str) -> None:
    with pytest.raises(ExpressionError) as info:
        translate_unary_tests(cell)
    assert info.value.expression == cell


@pytest.mark.parametrize(
    ("feel", "expected"),
    [
        ("applicant.age", 30),
        ("amount * 2 + 1", 21),
        ('if amount > 5 then "big" else "small"', "big"),
        ("not(false)", True),
        ('string length("abc")', 3),
        ('upper case("abc")', "ABC"),
        ('lower case("ABC")', "abc"),
        ('contains("abc", "b")', True),
        ('starts with("abc", "a")', True),
        ("amount = 10 and amount != 3", True),
        ("amount between 1 and 10", True),
        ("-3.5", -3.5),
        ("[1, 2, 3]", [1, 2, 3]),
        ('date("2024-01-01")', dt.date(2024, 1, 1)),
        ('date and time("2024-01-01T10:00:00")', dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)),
        ('duration("P1D")', dt.timedelta(days=1)),
        ("null", None),
        ("", None),
        ("${amount}", 10),
    ],
)
def test_feel_expression_translates(feel: str, expected: object) -> None:
    source = translate_feel_expression(feel)
    variables = {"amount": 10, "applicant": {"age": 30}}
    assert compile_expression(source).evaluate(variables) == expected


@pytest.mark.parametrize("feel", ["for x in y return x", "__x", "a.__class__", "foo()", "1 +"])
def test_feel_expression_rejects(feel: str) -> None:
    with pytest.raises(ExpressionError):
        translate_feel_expression(feel)


def test_feel_value_list() -> None:
    assert translate_value_list('"a","b", "c"') == ["'a'", "'b'", "'c'"]
    assert translate_value_list("") == []
