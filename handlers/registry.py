"""Handlers by name: the BPMN operation, camunda:class, delegateExpression or expression text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from handlers.context import HandlerContext

Handler = Callable[[Mapping[str, Any], HandlerContext], Mapping[str, Any] | None]

_HANDLERS: dict[str, Handler] = {}


def register(*names: str) -> Callable[[Handler], Handler]:
    def decorate(func: Handler) -> Handler:
        for name in names:
            if name in _HANDLERS and _HANDLERS[name] is not func:
                raise ValueError(f"handler name {name!r} is already registered")
            _HANDLERS[name] = func
        return func

    return decorate


def get(name: str) -> Handler | None:
    _load_builtin()
    return _HANDLERS.get(name)


def names() -> list[str]:
    _load_builtin()
    return sorted(_HANDLERS)


def _load_builtin() -> None:
    # Importing the business modules registers their handlers.
    from handlers import credit, customers, diagnostics, invoice, sla  # noqa: F401
