"""Deploy-time translation of Camunda JUEL (`${...}`) and timer literals to corpflow expressions."""

from __future__ import annotations

import keyword
import re
from typing import ClassVar

from app.workflow.expression_functions import (
    FUNCTIONS,
    OperationError,
    parse_datetime,
    parse_iso_duration,
)
from app.workflow.expressions import ExpressionError, compile_expression
from app.workflow.token_stream import Token, TokenStream

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
    |(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    |(?P<op>->|&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]{}=;])
    """,
    re.VERBOSE,
)
_WORD_OPS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "and": "&&",
    "or": "||",
    "not": "!",
    "div": "/",
    "mod": "%",
}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
# Java String / collection methods users call in JUEL, mapped to corpflow methods or functions.
_STRING_METHODS = {
    "startsWith": "startswith",
    "endsWith": "endswith",
    "toLowerCase": "lower",
    "toUpperCase": "upper",
    "trim": "strip",
}
_DATE_METHODS = {
    f"{p}{u}" for p in ("plus", "minus") for u in ("Days", "Weeks", "Months", "Years", "Hours")
} | {"plusMinutes", "plusSeconds", "minusMinutes", "minusSeconds", "toDate"}
_FUNCTION_METHODS = {"contains": "contains", "isEmpty": "is_empty", "size": "len", "length": "len"}
_JUEL_FUNCTIONS = {"dateTime", "now", "today", "date", "duration"}
_COMPARISONS = ("==", "!=", "<", ">", "<=", ">=")


class _JuelError(Exception):
    """Internal: the reason a JUEL text cannot be translated."""


def translate_juel(text: str) -> str:
    """Translate a Camunda attribute/condition value into a corpflow expression (verified)."""
    stripped = text.strip()
    try:
        result = _translate_template(stripped)
    except _JuelError as exc:
        raise ExpressionError(text, f"cannot translate JUEL: {exc}") from None
    try:
        compile_expression(result)
    except ExpressionError as exc:
        raise ExpressionError(text, f"cannot translate JUEL: {exc.reason}") from None
    return result


def translate_timer(text: str) -> str:
    """Translate a timeDate/timeDuration/timeCycle value: bare ISO literals become strings."""
    stripped = text.strip()
    if "${" in stripped or "#{" in stripped:
        return translate_juel(stripped)
    if not stripped:
        raise ExpressionError(text, "timer definition is empty")
    if not _is_timer_literal(stripped):
        raise ExpressionError(
            text, "not an ISO-8601 duration, date-time, repeating interval or cron expression"
        )
    return repr(stripped)


def translate_collection(text: str) -> str:
    """Translate `camunda:collection`: a variable name or a `${...}` expression."""
    stripped = text.strip()
    if "${" in stripped or "#{" in stripped:
        return translate_juel(stripped)
    if not stripped.isidentifier() or keyword.iskeyword(stripped) or stripped.startswith("_"):
        raise ExpressionError(text, "collection must be a variable name or ${...} expression")
    return stripped


def _is_timer_literal(text: str) -> bool:
    try:
        if text.startswith(("P", "-P")):
            parse_iso_duration(text)
            return True
        if text.startswith("R"):
            parts = text.split("/")
            repeat_ok = re.fullmatch(r"R\d*", parts[0]) is not None
            return repeat_ok and 2 <= len(parts) <= 3 and all(map(_is_timer_literal, parts[1:]))
        parse_datetime(text)
        return True
    except OperationError:
        # Cron (Quartz or Spring: 6-7 fields with seconds, or classic 5).
        return 5 <= len(text.split()) <= 7 and re.fullmatch(r"[\w*?/,#LW \-]+", text) is not None


def _translate_template(text: str) -> str:
    if "${" not in text and "#{" not in text:
        return repr(text.replace("\\${", "${").replace("\\#{", "#{"))
    parts: list[tuple[str, str]] = []
    literal: list[str] = []
    pos = 0
    while pos < len(text):
        if text.startswith(("\\${", "\\#{"), pos):
            literal.append(text[pos + 1 : pos + 3])
            pos += 3
        elif text.startswith(("${", "#{"), pos):
            if literal:
                parts.append(("lit", "".join(literal)))
                literal = []
            tokens, pos = _tokenize(text, pos + 2)
            parts.append(("expr", _Parser(tokens).parse()))
        else:
            literal.append(text[pos])
            pos += 1
    if literal:
        parts.append(("lit", "".join(literal)))
    if len(parts) == 1 and parts[0][0] == "expr":
        return parts[0][1]
    # A composite text ("Hello ${name}") always yields a string, as in JUEL.
    return " + ".join(repr(v) if k == "lit" else f"str({v})" for k, v in parts)


def _tokenize(text: str, pos: int) -> tuple[list[Token], int]:
    """Tokenize from `pos` up to the `}` closing the expression; return tokens and end."""
    tokens: list[Token] = []
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _JuelError(f"unexpected character {text[pos]!r}")
        kind, value = match.lastgroup or "", match.group()
        pos = match.end()
        if kind == "space":
            continue
        if kind == "op" and value == "}":
            tokens.append(Token("end", ""))
            return tokens, pos
        if kind == "op" and value in {"{", "=", ";", "->"}:
            raise _JuelError(f"'{value}' (assignment, lambda or map literal) is not supported")
        if kind == "name" and value in _WORD_OPS:
            kind, value = "op", _WORD_OPS[value]
        tokens.append(Token(kind, value))
    raise _JuelError("missing closing '}'")


def _string_value(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


class _Parser(TokenStream):
    """Recursive descent over JUEL's grammar; output is fully parenthesised Python."""

    def accept(self, *ops: str) -> str | None:
        if self.peek.kind == "op" and self.peek.text in ops:
            return self.take().text
        return None

    def expect(self, op: str) -> None:
        if self.accept(op) is None:
            raise _JuelError(f"expected '{op}' but found {self.peek.text or 'end'!r}")

    def parse(self) -> str:
        if self.peek.kind == "end":
            raise _JuelError("empty expression")
        result = self.ternary()
        if self.peek.kind != "end":
            raise _JuelError(f"unexpected {self.peek.text!r}")
        return result

    def ternary(self) -> str:
        condition = self.binary(0)
        if self.accept("?") is None:
            return condition
        when_true = self.ternary()
        self.expect(":")
        when_false = self.ternary()
        return f"({when_true} if {condition} else {when_false})"

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",),
        ("&&",),
        ("==", "!="),
        ("<", ">", "<=", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    )
    _PYTHON: ClassVar[dict[str, str]] = {"||": "or", "&&": "and"}

    def binary(self, level: int) -> str:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while (op := self.accept(*self._LEVELS[level])) is not None:
            right = self.binary(level + 1)
            left = f"({left} {self._PYTHON.get(op, op)} {right})"
        return left

    def unary(self) -> str:
        if self.accept("!") is not None:
            return f"(not {self.unary()})"
        if self.accept("-") is not None:
            return f"(-{self.unary()})"
        if self.peek.kind == "name" and self.peek.text == "empty":
            self.take()
            return f"is_empty({self.unary()})"
        return self.postfix()

    def postfix(self) -> str:
        if self.peek.kind == "name" and self.peek.text in {"execution", "task"}:
            return self.execution()
        result = self.primary()
        while True:
            if self.accept("[") is not None:
                index = self.ternary()
                self.expect("]")
                result = f"{result}[{index}]"
            elif self.accept(".") is not None:
                name = self.take()
                if name.kind != "name":
                    raise _JuelError("expected a property name after '.'")
                result = self.member(result, name.text)
            else:
                return result

    def member(self, target: str, name: str) -> str:
        if self.peek.text != "(" or self.peek.kind != "op":
            return f"{target}.{self.identifier(name)}"
        if name not in _STRING_METHODS.keys() | _DATE_METHODS | _FUNCTION_METHODS.keys():
            raise _JuelError(f"method call '{name}(…)' (a Java bean call) is not supported")
        args = self.arguments()
        if name in _STRING_METHODS:
            return f"{target}.{_STRING_METHODS[name]}({', '.join(args)})"
        if name in _DATE_METHODS:
            return f"{target}.{name}({', '.join(args)})"
        return f"{_FUNCTION_METHODS[name]}({', '.join([target, *args])})"

    def execution(self) -> str:
        owner = self.take().text
        if owner == "execution" and self.accept(".") is not None:
            method = self.take()
            if method.text == "getVariable" and self.accept("(") is not None:
                name = self.take()
                self.expect(")")
                value = _string_value(name.text) if name.kind == "string" else ""
                if not value.isidentifier():
                    raise _JuelError("execution.getVariable() needs a literal variable name")
                return self.identifier(value)
            raise _JuelError(f"execution.{method.text} is not supported")
        raise _JuelError(f"the '{owner}' object is not available in corpflow expressions")

    def arguments(self) -> list[str]:
        return self.comma_list(self.ternary)

    def identifier(self, name: str) -> str:
        if "$" in name or name.startswith("_") or keyword.iskeyword(name):
            raise _JuelError(f"'{name}' cannot be used as a name")
        return name

    def primary(self) -> str:
        token = self.take()
        if token.kind == "number":
            return repr(float(token.text)) if set(".eE") & set(token.text) else str(int(token.text))
        if token.kind == "string":
            return repr(_string_value(token.text))
        if token.kind == "name":
            if token.text in _LITERALS:
                return _LITERALS[token.text]
            if token.text in {"instanceof", "empty"}:
                raise _JuelError(f"'{token.text}' is not supported here")
            if self.peek.kind == "op" and self.peek.text == "(":
                # JUEL's own date helpers, plus what corpflow registers (workdays, add_workdays).
                if token.text not in _JUEL_FUNCTIONS and token.text not in FUNCTIONS:
                    raise _JuelError(f"function '{token.text}' is not available")
                return f"{token.text}({', '.join(self.arguments())})"
            return self.identifier(token.text)
        if token.kind == "op" and token.text == "(":
            inner = self.ternary()
            self.expect(")")
            return f"({inner})"
        raise _JuelError(f"unexpected {token.text or 'end of expression'!r}")
