"""Tests for translating Camunda JUEL into corpflow expressions."""

from __future__ import annotations

import datetime as dt

import pytest

from app.workflow.expressions import ExpressionError, compile_expression
from app.workflow.juel import translate_collection, translate_juel, translate_timer


@pytest.mark.parametrize(
    ("juel", "python"),
    [
        ("${amount gt 1000000 && !urgent}", "((amount > 1000000) and (not urgent))"),
        ("#{a || b == false}", "(a or (b == False))"),
        ("${a eq 1 and b ne 2 or c lt 3}", "(((a == 1) and (b != 2)) or (c < 3))"),
        ("${a le 1 && b ge 2 && c gt 3}", "(((a <= 1) and (b >= 2)) and (c > 3))"),
        ("${x != null}", "(x != None)"),
        ("${execution.getVariable('x')}", "x"),
        ('${execution.getVariable("x") > 5}', "(x > 5)"),
        ("${ok ? 'yes' : 'no'}", "('yes' if ok else 'no')"),
        ("${a ? b : c ? d : e}", "(b if a else (d if c else e))"),
        ("${empty reviewers}", "is_empty(reviewers)"),
        ("${a div b mod 3}", "((a / b) % 3)"),
        ("${not done}", "(not done)"),
        ("${-x + 1.5}", "((-x) + 1.5)"),
        ("${a.b.c}", "a.b.c"),
        ("${items[0]}", "items[0]"),
        ("${dateTime().plusWeeks(1).toDate()}", "dateTime().plusWeeks(1).toDate()"),
        ("${name.startsWith('A')}", "name.startswith('A')"),
        ("${name.toUpperCase()}", "name.upper()"),
        ("${list.contains('x')}", "contains(list, 'x')"),
        ("${list.size() > 0}", "(len(list) > 0)"),
        ("  ${x}  ", "x"),
        ("credit_reviewer", "'credit_reviewer'"),
        ("", "''"),
        ("Hello ${name}", "'Hello ' + str(name)"),
        ("${a}-${b}", "str(a) + '-' + str(b)"),
        ("\\${x} is literal", "'${x} is literal'"),
    ],
)
def test_juel_translates(juel: str, python: str) -> None:
    assert translate_juel(juel) == python


def test_juel_leaves_operators_inside_strings_alone() -> None:
    result = translate_juel("${note == 'a && b eq c || !d'}")
    assert result == "(note == 'a && b eq c || !d')"
    assert compile_expression(result).evaluate({"note": "a && b eq c || !d"}) is True


def test_juel_double_quoted_string_with_escape() -> None:
    assert translate_juel('${x == "say \\"hi\\""}') == "(x == 'say \"hi\"')"


def test_juel_translation_evaluates_like_camunda() -> None:
    source = translate_juel("${amount le 1000000 && (sector eq 'retail' || !vip)}")
    expression = compile_expression(source)
    assert expression.evaluate({"amount": 10, "sector": "x", "vip": False}) is True
    assert expression.evaluate({"amount": 10, "sector": "x", "vip": True}) is False


def test_juel_due_date_expression_gives_aware_datetime() -> None:
    value = compile_expression(translate_juel("${dateTime().plusDays(3).toDate()}")).evaluate({})
    assert isinstance(value, dt.datetime)
    assert value.tzinfo is not None


@pytest.mark.parametrize(
    ("juel", "reason"),
    [
        ("${notifier.send(execution)}", "Java bean call"),
        ("${execution.setVariable('a', 1)}", "execution.setVariable"),
        ("${execution.getVariable(name)}", "literal variable name"),
        ("${execution}", "'execution' object"),
        ("${task.id}", "'task' object"),
        ("${x -> x + 1}", "lambda"),
        ("${a = 1}", "assignment"),
        ("${x", "missing closing"),
        ("${}", "empty"),
        ("${__import__('os')}", "not available"),
        ("${a.__class__}", "cannot be used"),
        ("${fn:upper(x)}", "unexpected"),
        ("${a @ b}", "unexpected character"),
        ("${class}", "cannot be used"),
    ],
)
def test_juel_rejects_untranslatable(juel: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as info:
        translate_juel(juel)
    assert reason in str(info.value)
    assert info.value.expression == juel


@pytest.mark.parametrize(
    ("timer", "python"),
    [
        ("PT24H", "'PT24H'"),
        ("P2D", "'P2D'"),
        (" R3/PT1H ", "'R3/PT1H'"),
        ("R/P1D", "'R/P1D'"),
        ("2030-01-01T09:00:00Z", "'2030-01-01T09:00:00Z'"),
        ("0 0 9 * * MON-FRI", "'0 0 9 * * MON-FRI'"),
        ("${slaDuration}", "slaDuration"),
    ],
)
def test_juel_timer_literals_become_strings(timer: str, python: str) -> None:
    assert translate_timer(timer) == python


@pytest.mark.parametrize("timer", ["", "banana", "PXYZ", "R3/banana"])
def test_juel_timer_rejects_garbage(timer: str) -> None:
    with pytest.raises(ExpressionError):
        translate_timer(timer)


def test_juel_collection_accepts_name_or_expression() -> None:
    assert translate_collection("reviewers") == "reviewers"
    assert translate_collection("${reviewers}") == "reviewers"
    with pytest.raises(ExpressionError):
        translate_collection("a b")
    with pytest.raises(ExpressionError):
        translate_collection("__class__")
