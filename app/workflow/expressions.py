"""The corpflow expression language: a whitelisted Python subset, interpreted, never eval'd."""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

from app.workflow.expression_functions import (
    FUNCTIONS,
    METHOD_NAMES,
    DateHelper,
    Function,
    OperationError,
    call_method,
    check_weight,
    type_name,
)
from app.workflow.expression_operators import BINARY, COMPARE, apply, is_sequence, operator_text

MAX_SOURCE_LENGTH = 4000
MAX_NODES = 1000
MAX_DEPTH = 60

_Scope = tuple[Mapping[str, Any], Mapping[str, Any]]
_Eval = Callable[[_Scope], Any]
_EMPTY: Mapping[str, Any] = {}


class ExpressionError(ValueError):
    """An expression cannot be compiled or evaluated; names the expression text."""

    def __init__(self, expression: str, reason: str) -> None:
        shown = expression if len(expression) <= 200 else expression[:200] + "…"
        super().__init__(f"{reason} in expression {shown!r}")
        self.expression = expression
        self.reason = reason


class ExpressionEvaluationError(ExpressionError):
    """Evaluation failed at run time (bad operand types, division by zero, limits…)."""


class UnknownVariableError(ExpressionEvaluationError):
    """The expression uses a variable that is not set."""

    def __init__(self, expression: str, name: str) -> None:
        super().__init__(expression, f"unknown variable '{name}'")
        self.name = name


class _UnknownNameError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class Expression:
    """A compiled expression: call `evaluate(variables)`; `names` lists the variables it reads."""

    __slots__ = ("_run", "names", "source")

    def __init__(self, source: str, run: _Eval, names: frozenset[str]) -> None:
        self.source = source
        self.names = names
        self._run = run

    def evaluate(self, variables: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Any:
        """Evaluate against `variables`; `extra` (e.g. DMN's cellInput) shadows them."""
        try:
            result = self._run((variables, extra or _EMPTY))
        except _UnknownNameError as exc:
            raise UnknownVariableError(self.source, exc.name) from None
        except OperationError as exc:
            raise ExpressionEvaluationError(self.source, str(exc)) from None
        except ZeroDivisionError:
            raise ExpressionEvaluationError(self.source, "division by zero") from None
        except (OverflowError, MemoryError):
            raise ExpressionEvaluationError(self.source, "numeric result out of range") from None
        except RecursionError:
            raise ExpressionEvaluationError(self.source, "value nested too deeply") from None
        except Exception:  # a model's error must never surface Python internals
            raise ExpressionEvaluationError(self.source, "evaluation failed") from None
        # JUEL's `${dateTime()}` is accepted wherever a date is; hand out the date itself.
        return result.value if isinstance(result, DateHelper) else result

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def register_function(name: str, fn: Function) -> None:
    """Extension point: make `fn` callable from expressions (e.g. `workdays(n)`)."""
    if not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"invalid expression function name {name!r}")
    FUNCTIONS[name] = fn
    compile_expression.cache_clear()


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    """Parse and whitelist-check `source`; raise ExpressionError for anything not allowed."""
    if not isinstance(source, str):
        raise ExpressionError(repr(source), "expression must be text")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(source, f"expression is longer than {MAX_SOURCE_LENGTH} characters")
    if not source.strip():
        raise ExpressionError(source, "expression is empty")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(source, f"invalid syntax ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(source, "invalid syntax") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionError(source, f"expression has more than {MAX_NODES} parts")
    compiler = _Compiler(source)
    run = compiler.compile(tree.body, 0)
    return Expression(source, run, frozenset(compiler.names))


class _Compiler:
    """Turns a checked AST into nested closures; unknown node types are refused."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.names: set[str] = set()

    def fail(self, reason: str) -> ExpressionError:
        return ExpressionError(self.source, reason)

    def check_name(self, name: str, what: str) -> None:
        if name.startswith("_"):
            raise self.fail(f"{what} '{name}' is not allowed (names may not start with '_')")

    def compile(self, node: ast.expr, depth: int) -> _Eval:
        if depth > MAX_DEPTH:
            raise self.fail("expression is nested too deeply")
        method = getattr(self, f"c_{type(node).__name__.lower()}", None)
        if method is None:
            raise self.fail(f"{_describe(node)} is not allowed")
        result: _Eval = method(node, depth + 1)
        return result

    def c_constant(self, node: ast.Constant, depth: int) -> _Eval:
        value = node.value
        if value is not None and not isinstance(value, bool | int | float | str):
            raise self.fail(f"literal of type {type(value).__name__} is not allowed")
        return lambda scope: value

    def c_name(self, node: ast.Name, depth: int) -> _Eval:
        name = node.id
        self.check_name(name, "name")
        self.names.add(name)

        def run(scope: _Scope) -> Any:
            variables, extra = scope
            if name in extra:
                return extra[name]
            if name in variables:
                return variables[name]
            raise _UnknownNameError(name)

        return run

    def c_attribute(self, node: ast.Attribute, depth: int) -> _Eval:
        key = node.attr
        self.check_name(key, "attribute")
        target = self.compile(node.value, depth)

        def run(scope: _Scope) -> Any:
            value = target(scope)
            if isinstance(value, Mapping):
                if key not in value:
                    raise OperationError(f"map has no key '{key}'")
                return value[key]
            raise OperationError(f"cannot read property '{key}' of a {type_name(value)}")

        return run

    def c_subscript(self, node: ast.Subscript, depth: int) -> _Eval:
        target = self.compile(node.value, depth)
        index = self.compile(node.slice, depth)

        def run(scope: _Scope) -> Any:
            value, key = target(scope), index(scope)
            if isinstance(value, Mapping):
                if key not in value:
                    raise OperationError(f"map has no key {key!r}"[:120])
                return value[key]
            if not is_sequence(value):
                raise OperationError(f"cannot index a {type_name(value)}")
            if isinstance(key, slice) or (isinstance(key, int) and not isinstance(key, bool)):
                try:
                    return value[key]
                except IndexError:
                    raise OperationError(f"index {key} is out of range") from None
            raise OperationError(f"a list index must be a whole number, got {type_name(key)}")

        return run

    def c_slice(self, node: ast.Slice, depth: int) -> _Eval:
        parts = [
            None if p is None else self.compile(p, depth)
            for p in (node.lower, node.upper, node.step)
        ]

        def run(scope: _Scope) -> Any:
            values = [None if p is None else p(scope) for p in parts]
            if any(v is not None and (type(v) is not int) for v in values):
                raise OperationError("slice bounds must be whole numbers")
            return slice(*values)

        return run

    def c_unaryop(self, node: ast.UnaryOp, depth: int) -> _Eval:
        operand = self.compile(node.operand, depth)
        if isinstance(node.op, ast.Not):
            return lambda scope: not operand(scope)
        if isinstance(node.op, ast.USub | ast.UAdd):
            symbol, fn = (
                ("-", operator.neg) if isinstance(node.op, ast.USub) else ("+", operator.pos)
            )

            def run(scope: _Scope) -> Any:
                value = operand(scope)
                if not isinstance(value, int | float) and type_name(value) != "duration":
                    raise OperationError(f"cannot apply unary '{symbol}' to {type_name(value)}")
                return fn(value)

            return run
        raise self.fail(f"operator {operator_text(node.op)} is not allowed")

    def c_binop(self, node: ast.BinOp, depth: int) -> _Eval:
        entry = BINARY.get(type(node.op))
        if entry is None:
            raise self.fail(f"operator {operator_text(node.op)} is not allowed")
        symbol, fn = entry
        left, right = self.compile(node.left, depth), self.compile(node.right, depth)
        return lambda scope: apply(symbol, fn, left(scope), right(scope))

    def c_boolop(self, node: ast.BoolOp, depth: int) -> _Eval:
        values = [self.compile(v, depth) for v in node.values]
        is_and = isinstance(node.op, ast.And)

        def run(scope: _Scope) -> Any:
            result: Any = None
            for value in values:
                result = value(scope)
                if bool(result) != is_and:
                    return result
            return result

        return run

    def c_compare(self, node: ast.Compare, depth: int) -> _Eval:
        operands = [self.compile(n, depth) for n in [node.left, *node.comparators]]
        ops = [COMPARE[type(op)] for op in node.ops]
        for op, left, right in zip(
            node.ops, [node.left, *node.comparators], node.comparators, strict=False
        ):
            if isinstance(op, ast.Is | ast.IsNot) and not any(_is_none(n) for n in (left, right)):
                raise self.fail("'is' / 'is not' may only compare with None")

        def run(scope: _Scope) -> bool:
            left = operands[0](scope)
            for (symbol, fn), operand in zip(ops, operands[1:], strict=True):
                right = operand(scope)
                if not apply(symbol, fn, left, right):
                    return False
                left = right
            return True

        return run

    def c_ifexp(self, node: ast.IfExp, depth: int) -> _Eval:
        test, body, orelse = (self.compile(n, depth) for n in (node.test, node.body, node.orelse))
        return lambda scope: body(scope) if test(scope) else orelse(scope)

    def _elements(self, nodes: list[ast.expr], depth: int) -> list[_Eval]:
        if any(isinstance(n, ast.Starred) for n in nodes):
            raise self.fail("'*' unpacking is not allowed")
        return [self.compile(n, depth) for n in nodes]

    def _display(
        self, nodes: list[ast.expr], depth: int, build: Callable[[list[Any]], Any]
    ) -> _Eval:
        items = self._elements(nodes, depth)

        def run(scope: _Scope) -> Any:
            values = [item(scope) for item in items]
            check_weight(values, "collection")
            try:
                return build(values)
            except TypeError:
                raise OperationError("set elements must be simple values") from None

        return run

    def c_tuple(self, node: ast.Tuple, depth: int) -> _Eval:
        return self._display(node.elts, depth, tuple)

    def c_list(self, node: ast.List, depth: int) -> _Eval:
        return self._display(node.elts, depth, list)

    def c_set(self, node: ast.Set, depth: int) -> _Eval:
        return self._display(node.elts, depth, set)

    def c_dict(self, node: ast.Dict, depth: int) -> _Eval:
        if any(k is None for k in node.keys):
            raise self.fail("'**' unpacking is not allowed")
        keys = [k for k in node.keys if k is not None]
        return self._display([*keys, *node.values], depth, lambda v: _pairs(v, len(keys)))

    def c_call(self, node: ast.Call, depth: int) -> _Eval:
        if node.keywords:
            raise self.fail("keyword arguments are not allowed")
        args = self._elements(node.args, depth)
        func = node.func
        if isinstance(func, ast.Name):
            self.check_name(func.id, "function")
            fn = FUNCTIONS.get(func.id)
            if fn is None:
                raise self.fail(f"unknown function '{func.id}'")
            return self._call(func.id, fn, args)
        if isinstance(func, ast.Attribute):
            self.check_name(func.attr, "method")
            if func.attr not in METHOD_NAMES:
                raise self.fail(f"method '{func.attr}' is not allowed")
            target = self.compile(func.value, depth)
            name = func.attr
            return lambda scope: call_method(target(scope), name, [a(scope) for a in args])
        raise self.fail("only named functions can be called")

    @staticmethod
    def _call(name: str, fn: Function, args: list[_Eval]) -> _Eval:
        def run(scope: _Scope) -> Any:
            values = [a(scope) for a in args]
            try:
                return fn(*values)
            except (OperationError, _UnknownNameError, ZeroDivisionError):
                raise
            except (TypeError, ValueError, AttributeError, KeyError):
                kinds = ", ".join(type_name(v) for v in values)
                raise OperationError(f"invalid arguments for {name}({kinds})") from None

        return run


def _pairs(values: list[Any], count: int) -> dict[Any, Any]:
    return dict(zip(values[:count], values[count:], strict=True))


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


_DESCRIPTIONS = {
    "Lambda": "lambda",
    "ListComp": "a comprehension",
    "SetComp": "a comprehension",
    "DictComp": "a comprehension",
    "GeneratorExp": "a generator expression",
    "JoinedStr": "an f-string",
    "NamedExpr": "':=' assignment",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
    "Starred": "'*' unpacking",
}


def _describe(node: ast.AST) -> str:
    kind = type(node).__name__
    return _DESCRIPTIONS.get(kind, f"syntax '{kind}'")
