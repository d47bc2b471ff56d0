"""Deploy-time translation of the FEEL subset used in DMN cells into corpflow expressions."""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable

from app.workflow.expressions import ExpressionError, compile_expression
from app.workflow.juel import translate_juel
from app.workflow.token_stream import Token, TokenStream

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<number>\d+(?:\.\d+)?|\.\d+)
    |(?P<string>"(?:[^"\\]|\\.)*")
    |(?P<func>date\s+and\s+time|string\s+length|upper\s+case|lower\s+case|starts\s+with
        |ends\s+with)(?=\s*\()
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>\.\.|\*\*|<=|>=|!=|[-+*/=<>()\[\],.?])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\"}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_UNSUPPORTED_WORDS = {"for", "some", "every", "satisfies", "return", "function", "instance", "in"}
_COMPARISON = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ORDERING = ("<", "<=", ">", ">=")


def _call(
    template: str, arity: tuple[int, ...]
) -> tuple[Callable[[list[str]], str], tuple[int, ...]]:
    return (lambda args: template.format(*args, all=", ".join(args))), arity


# FEEL built-in → corpflow expression template, with the argument counts FEEL accepts.
_FUNCTIONS: dict[str, tuple[Callable[[list[str]], str], tuple[int, ...]]] = {
    "date": _call("date({all})", (1, 3)),
    "date and time": _call("datetime({0})", (1,)),
    "duration": _call("duration({0})", (1,)),
    "string length": _call("len({0})", (1,)),
    "contains": _call("contains({0}, {1})", (2,)),
    "upper case": _call("({0}).upper()", (1,)),
    "lower case": _call("({0}).lower()", (1,)),
    "starts with": _call("({0}).startswith({1})", (2,)),
    "ends with": _call("({0}).endswith({1})", (2,)),
    "not": _call("(not {0})", (1,)),
    "abs": _call("abs({0})", (1,)),
    "count": _call("len({0})", (1,)),
    "string": _call("str({0})", (1,)),
    "min": _call("min({all})", tuple(range(1, 50))),
    "max": _call("max({all})", tuple(range(1, 50))),
    "sum": _call("sum({all})", (1,)),
    "now": _call("now()", (0,)),
    "today": _call("today()", (0,)),
}


class _FeelError(Exception):
    """Internal: why a FEEL text cannot be translated."""


def translate_unary_tests(cell: str, input_name: str = "cellInput") -> str:
    """Translate a DMN input entry into a boolean expression over variable `input_name`.

    Empty, `-` and whitespace-only cells match anything (a Modeler-saved `<text> </text>`
    is meant as "any", so it is not treated as a test that never matches).
    """
    text = cell.strip()
    if text in {"", "-"}:
        return "True"
    if not input_name.isidentifier() or input_name.startswith("_"):
        raise ExpressionError(cell, f"invalid input variable name {input_name!r}")
    if text.startswith(("${", "#{")):
        return translate_juel(text)
    return _verified(cell, lambda: _Parser(_tokenize(text), input_name).unary_tests())


def translate_feel_expression(text: str) -> str:
    """Translate a FEEL input expression, output entry or literal expression; empty → None."""
    stripped = text.strip()
    if not stripped:
        return "None"
    if stripped.startswith(("${", "#{")):
        return translate_juel(stripped)
    return _verified(text, lambda: _Parser(_tokenize(stripped), None).whole_expression())


def translate_value_list(text: str) -> list[str]:
    """Translate a DMN `outputValues`/`inputValues` list such as `"a","b"` into expressions."""
    stripped = text.strip()
    if not stripped:
        return []
    parser = _Parser(_tokenize(stripped), None)
    try:
        values = parser.value_list()
    except _FeelError as exc:
        raise ExpressionError(text, f"cannot translate FEEL: {exc}") from None
    for value in values:
        try:
            compile_expression(value)
        except ExpressionError as exc:
            raise ExpressionError(text, f"cannot translate FEEL: {exc.reason}") from None
    return values


def _verified(original: str, translate: Callable[[], str]) -> str:
    try:
        result = translate()
        compile_expression(result)
    except _FeelError as exc:
        raise ExpressionError(original, f"cannot translate FEEL: {exc}") from None
    except ExpressionError as exc:
        raise ExpressionError(original, f"cannot translate FEEL: {exc.reason}") from None
    return result


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _FeelError(f"unexpected character {text[pos]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind != "space":
            value = " ".join(match.group().split()) if kind == "func" else match.group()
            tokens.append(Token(kind, value))
    tokens.append(Token("end", ""))
    return tokens


def _string_value(token: str) -> str:
    def unescape(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape.startswith("u"):
            return chr(int(escape[1:], 16))
        if escape in _ESCAPES:
            return _ESCAPES[escape]
        raise _FeelError(f"unknown escape '\\{escape}' in string")

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", unescape, token[1:-1])


class _Parser(TokenStream):
    """Recursive descent over the FEEL subset; emits fully parenthesised corpflow source."""

    def __init__(self, tokens: list[Token], input_name: str | None) -> None:
        super().__init__(tokens)
        self.input_name = input_name

    def at(self, text: str, offset: int = 0) -> bool:
        token = self.tokens[min(self.pos + offset, len(self.tokens) - 1)]
        return token.kind in {"op", "name"} and token.text == text

    def accept(self, *texts: str) -> str | None:
        if any(self.at(t) for t in texts):
            return self.take().text
        return None

    def expect(self, text: str) -> None:
        if self.accept(text) is None:
            found = self.peek.text or "end of text"
            raise _FeelError(f"expected '{text}' but found '{found}'")

    def finish(self, result: str) -> str:
        if self.peek.kind != "end":
            raise _FeelError(f"unexpected '{self.peek.text}'")
        return result

    # Unary tests (input entries).

    def unary_tests(self) -> str:
        if any(t.kind == "op" and t.text == "?" for t in self.tokens):
            # feel-scala style `? > 5 and ? < 10`: a boolean expression over the input.
            return self.finish(self.expression())
        if self.at("not") and self.at("(", 1):
            self.take()
            self.take()
            tests, null_sensitive = self.positive_tests()
            self.expect(")")
            guard = f"{self.input_name} is not None and " if null_sensitive else ""
            return self.finish(f"({guard}not {tests})")
        return self.finish(self.positive_tests()[0])

    def positive_tests(self) -> tuple[str, bool]:
        tests = [self.positive_test()]
        while self.accept(",") is not None:
            tests.append(self.positive_test())
        if len(tests) == 1:
            return tests[0]
        return f"({' or '.join(t for t, _ in tests)})", any(n for _, n in tests)

    def positive_test(self) -> tuple[str, bool]:
        subject = self.input_name
        if (op := self.accept(*_ORDERING)) is not None:
            return f"({subject} is not None and {subject} {op} {self.additive()})", True
        if self.peek.text in {"[", "(", "]"} and self.peek.kind == "op":
            interval = self.interval()
            if interval is not None:
                return interval, True
        value = self.additive()
        if value == "None":
            return f"({subject} is None)", False
        return f"({subject} == {value})", False

    def interval(self) -> str | None:
        start = self.pos
        opening = self.take().text
        low = self.additive()
        if self.accept("..") is None:
            self.pos = start
            return None
        high = self.additive()
        closing = self.accept("]", ")", "[")
        if closing is None:
            raise _FeelError("range must end with ']', ')' or '['")
        low_op = "<=" if opening == "[" else "<"
        high_op = "<=" if closing == "]" else "<"
        subject = self.input_name
        return f"({subject} is not None and {low} {low_op} {subject} {high_op} {high})"

    def value_list(self) -> list[str]:
        values = [self.additive()]
        while self.accept(",") is not None:
            values.append(self.additive())
        self.finish("")
        return values

    # Expressions.

    def whole_expression(self) -> str:
        return self.finish(self.expression())

    def expression(self) -> str:
        if self.accept("if") is not None:
            condition = self.expression()
            self.expect("then")
            when_true = self.expression()
            self.expect("else")
            when_false = self.expression()
            return f"({when_true} if {condition} else {when_false})"
        return self.disjunction()

    def disjunction(self) -> str:
        left = self.conjunction()
        while self.accept("or") is not None:
            left = f"({left} or {self.conjunction()})"
        return left

    def conjunction(self) -> str:
        left = self.comparison()
        while self.accept("and") is not None:
            left = f"({left} and {self.comparison()})"
        return left

    def comparison(self) -> str:
        left = self.additive()
        if (op := self.accept(*_COMPARISON)) is not None:
            return f"({left} {_COMPARISON[op]} {self.additive()})"
        if self.accept("between") is not None:
            low = self.additive()
            self.expect("and")
            return f"({low} <= {left} <= {self.additive()})"
        return left

    def additive(self) -> str:
        left = self.multiplicative()
        while (op := self.accept("+", "-")) is not None:
            left = f"({left} {op} {self.multiplicative()})"
        return left

    def multiplicative(self) -> str:
        left = self.power()
        while (op := self.accept("*", "/")) is not None:
            left = f"({left} {op} {self.power()})"
        return left

    def power(self) -> str:
        left = self.unary()
        while self.accept("**") is not None:
            left = f"({left} ** {self.unary()})"
        return left

    def unary(self) -> str:
        if self.accept("-") is not None:
            return f"(-{self.unary()})"
        result = self.primary()
        while self.accept(".") is not None:
            name = self.take()
            if name.kind != "name":
                raise _FeelError("expected a name after '.'")
            result = f"{result}.{self.name(name.text)}"
        return result

    def arguments(self) -> list[str]:
        return self.comma_list(self.expression)

    def name(self, text: str) -> str:
        if text in _UNSUPPORTED_WORDS:
            raise _FeelError(f"FEEL '{text}' expressions are not supported")
        if text.startswith("_") or keyword.iskeyword(text):
            raise _FeelError(f"'{text}' cannot be used as a name")
        return text

    def primary(self) -> str:
        token = self.take()
        if token.kind == "number":
            return token.text if "." not in token.text else repr(float(token.text))
        if token.kind == "string":
            return repr(_string_value(token.text))
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return f"({inner})"
        if token.kind == "op" and token.text == "[":
            items = [] if self.at("]") else [self.expression()]
            while self.accept(",") is not None:
                items.append(self.expression())
            self.expect("]")
            return f"[{', '.join(items)}]"
        if token.kind == "op" and token.text == "?" and self.input_name is not None:
            return self.input_name
        if token.kind in {"name", "func"} and self.at("("):
            return self.function(token.text)
        if token.kind == "name":
            return _LITERALS.get(token.text) or self.name(token.text)
        raise _FeelError(f"unexpected '{token.text or 'end of text'}'")

    def function(self, name: str) -> str:
        entry = _FUNCTIONS.get(name)
        if entry is None:
            raise _FeelError(f"function '{name}' is not supported")
        render, arity = entry
        args = self.arguments()
        if len(args) not in arity:
            raise _FeelError(f"{name}() does not take {len(args)} argument(s)")
        return render(args)
