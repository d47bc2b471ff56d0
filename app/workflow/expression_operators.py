"""Operators of corpflow expressions, with size limits and author-facing error messages."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from app.workflow.expression_functions import (
    MAX_INT_BITS,
    MAX_WEIGHT,
    OperationError,
    check_weight,
    type_name,
    weight,
)

BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {}
COMPARE: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
    ast.In: ("in", lambda a, b: _membership(a, b)),
    ast.NotIn: ("not in", lambda a, b: not _membership(a, b)),
    ast.Is: ("is", operator.is_),
    ast.IsNot: ("is not", operator.is_not),
}
_ORDERING = frozenset({"<", "<=", ">", ">="})


def is_sequence(value: object) -> bool:
    return isinstance(value, str | list | tuple)


def _add(a: Any, b: Any) -> Any:
    if is_sequence(a) and is_sequence(b):
        check_weight((a, b), "'+' result")
    return a + b


def _mul(a: Any, b: Any) -> Any:
    if is_sequence(b) and isinstance(a, int):
        a, b = b, a
    if is_sequence(a) and isinstance(b, int):
        # Repetition multiplies shared references, so the logical size is weight × count.
        if b > 0 and weight(a) * b > MAX_WEIGHT:
            raise OperationError(f"'*' result would be too large (limit {MAX_WEIGHT:,} items)")
        return a * b
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise OperationError("'*' result is too large")
    return a * b


def _pow(a: Any, b: Any) -> Any:
    big = isinstance(b, int) and (b > MAX_INT_BITS or abs(a).bit_length() * b > MAX_INT_BITS)
    if isinstance(a, int) and b > 0 and a not in (0, 1, -1) and big:
        raise OperationError("'**' result is too large")
    result = a**b
    if isinstance(result, complex):
        raise OperationError("'**' result is not a real number")
    return result


def _numeric(symbol: str, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def run(a: Any, b: Any) -> Any:
        # `%` on a string would be printf formatting, which can allocate without bound.
        if isinstance(a, str) or isinstance(b, str):
            raise OperationError(f"cannot apply '{symbol}' to {type_name(a)} and {type_name(b)}")
        return fn(a, b)

    return run


BINARY.update(
    {
        ast.Add: ("+", _add),
        ast.Sub: ("-", operator.sub),
        ast.Mult: ("*", _mul),
        ast.Div: ("/", _numeric("/", operator.truediv)),
        ast.FloorDiv: ("//", _numeric("//", operator.floordiv)),
        ast.Mod: ("%", _numeric("%", operator.mod)),
        ast.Pow: ("**", _numeric("**", _pow)),
    }
)


def _membership(item: Any, collection: Any) -> bool:
    if isinstance(collection, str) and not isinstance(item, str):
        raise OperationError(f"cannot look for a {type_name(item)} in a string")
    if not isinstance(collection, str | list | tuple | set | frozenset | Mapping):
        raise OperationError(f"'in' needs a list, set, map or string, got {type_name(collection)}")
    return item in collection


def apply(symbol: str, fn: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    if symbol in _ORDERING and (a is None or b is None):
        raise OperationError(f"cannot compare {type_name(a)} with {type_name(b)} using '{symbol}'")
    try:
        return fn(a, b)
    except (OperationError, ZeroDivisionError):
        raise
    except (TypeError, ValueError, AttributeError):
        raise OperationError(
            f"cannot apply '{symbol}' to {type_name(a)} and {type_name(b)}"
        ) from None


SYMBOLS = {
    "Invert": "~",
    "LShift": "<<",
    "RShift": ">>",
    "BitAnd": "&",
    "BitOr": "|",
    "BitXor": "^",
    "MatMult": "@",
}


def operator_text(op: ast.AST) -> str:
    kind = type(op).__name__
    return f"'{SYMBOLS.get(kind, kind)}'"
