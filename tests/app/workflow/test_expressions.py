"""Tests for the restricted corpflow expression language."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta

from app.workflow.expression_functions import FUNCTIONS
from app.workflow.expressions import (
    ExpressionError,
    ExpressionEvaluationError,
    UnknownVariableError,
    compile_expression,
    register_function,
)


def run(source: str, **variables: object) -> object:
    return compile_expression(source).evaluate(variables)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("7 // 2 + 7 % 2", 4),
        ("2 ** 10", 1024),
        ("amount <= 1000000 and not urgent", True),
        ("1 <= amount <= 5000000", True),
        ("'b' in ('a', 'b')", True),
        ("3 not in [1, 2]", True),
        ("missing_ok is None", True),
        ("'high' if amount > 100 else 'low'", "high"),
        ("applicant.age >= 18", True),
        ("applicant['age']", 30),
        ("[1, 2, 3][1:]", [2, 3]),
        ("{'a': 1}['a']", 1),
        ("len({1, 2})", 2),
        ("name.upper()", "ACME"),
        ("name.startswith('ac')", True),
        ("' x '.strip()", "x"),
        ("contains(['a'], 'a')", True),
        ("sorted([3, 1, 2])", [1, 2, 3]),
        ("min([4, 2]) + max(4, 9) + sum([1, 1]) + abs(-1)", 14),
        ("round(2.567, 2)", 2.57),
        ("int('12') + float('0.5')", 12.5),
        ("any([False, True]) and all([True])", True),
        ("str(5) + 'x'", "5x"),
        ("is_empty('') and is_empty([]) and is_empty(None)", True),
    ],
)
def test_expression_evaluates_whitelisted_syntax(source: str, expected: object) -> None:
    variables = {"amount": 250, "urgent": False, "missing_ok": None, "name": "acme"}
    variables["applicant"] = {"age": 30}  # type: ignore[assignment]
    assert compile_expression(source).evaluate(variables) == expected


def test_expression_and_or_short_circuit() -> None:
    assert run("x is None or x > 3", x=None) is True
    assert run("x is not None and x > 3", x=None) is False


def test_expression_names_lists_free_variables() -> None:
    expression = compile_expression("a + b.c if flag else len(items)")
    assert expression.names == frozenset({"a", "b", "flag", "items"})


def test_expression_extra_shadows_variables() -> None:
    expression = compile_expression("cellInput > 5")
    assert expression.evaluate({"cellInput": 1}, {"cellInput": 10}) is True


def test_expression_compile_is_cached() -> None:
    assert compile_expression("a + 1") is compile_expression("a + 1")


def test_expression_unknown_variable_names_it() -> None:
    with pytest.raises(UnknownVariableError) as info:
        run("amount > 5")
    assert info.value.name == "amount"
    assert "unknown variable 'amount'" in str(info.value)
    assert isinstance(info.value, ExpressionError)


def test_expression_dates_and_durations() -> None:
    assert run("duration('PT24H')") == dt.timedelta(hours=24)
    assert run("duration('P1DT2H')") == dt.timedelta(days=1, hours=2)
    assert run("duration('P2W')") == dt.timedelta(days=14)
    assert run("duration('P1Y2M')") == relativedelta(years=1, months=2)
    assert run("date('2024-05-01')") == dt.date(2024, 5, 1)
    assert run("datetime('2024-05-01T10:00:00')") == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
    assert run("date('2024-05-01') + duration('P3D') == date('2024-05-04')") is True
    assert run("now() > datetime('2020-01-01T00:00:00Z')") is True
    assert isinstance(run("today()"), dt.date)


def test_expression_datetime_helper_methods() -> None:
    result = run("dateTime().plusWeeks(1).minusDays(7).plusHours(1).toDate()")
    assert isinstance(result, dt.datetime)
    assert result.tzinfo is not None
    delta = result - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=59) < delta <= dt.timedelta(hours=1)
    assert isinstance(run("dateTime().plusMonths(1)"), dt.datetime)


def test_expression_register_function_extends_table() -> None:
    register_function("workdays_test", lambda n: n * 2)
    try:
        assert run("workdays_test(3)") == 6
    finally:
        FUNCTIONS.pop("workdays_test")
    with pytest.raises(ValueError, match="invalid"):
        register_function("__bad", lambda: 1)


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('id')",
        "().__class__.__bases__[0].__subclasses__()",
        "x.__class__",
        "getattr(x, '__class__')",
        "[c for c in ()]",
        "{c: 1 for c in ()}",
        "(c for c in ())",
        "lambda: 1",
        "f'{x}'",
        "(y := 1)",
        "x.format(1)",
        "open('/etc/passwd')",
        "eval('1')",
        "_private",
        "~x",
        "x << 2",
        "x is 1",
        "len(*x)",
        "dict(a=1)",
        "1j",
        "b'x'",
        "x = 1",
        "import os",
        "a if",
        "",
        "x" * 4001,
        "+".join(["1"] * 1200),
    ],
)
def test_expression_rejects_at_compile_time(source: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("9**9**9", "too large"),
        ("'a'*10**9", "too large"),
        ("[[1] * 10**5] * 10**5", "too large"),
        ("2 ** 100000", "too large"),
        ("x < 5", "cannot compare null with number"),
        ("5 >= x", "cannot compare number with null"),
        ("'a' < 1", "cannot apply '<' to string and number"),
        ("1 / 0", "division by zero"),
        ("'%s' % 1", "cannot apply '%'"),
        ("len(5)", "invalid arguments for len(number)"),
        ("int('abc')", "cannot convert string"),
        ("m.missing", "no key 'missing'"),
        ("[1][5]", "out of range"),
        ("(-8) ** 0.5", "not a real number"),
        ("round(1.5, 10**9)", "digits"),
        ("duration('banana')", "ISO-8601 duration"),
        ("dateTime().plusDays('x')", "whole number"),
        ("5 .upper()", "no method 'upper'"),
        ("x.name", "cannot read property"),
        ("min([])", "empty"),
    ],
)
def test_expression_runtime_errors_are_clear(source: str, reason: str) -> None:
    expression = compile_expression(source)
    with pytest.raises(ExpressionEvaluationError) as info:
        expression.evaluate({"x": None, "m": {}})
    assert reason in str(info.value)
    assert "Traceback" not in str(info.value)
    assert info.value.expression == source
