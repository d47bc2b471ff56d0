"""The token stream the JUEL and FEEL translators' recursive-descent parsers read from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Token:
    kind: str  # "number" | "string" | "name" | "func" | "op" | "end"
    text: str


class TokenStream:
    """Position over a token list ending in an "end" token; parsers add their grammar."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def accept(self, *texts: str) -> str | None:
        raise NotImplementedError

    def expect(self, text: str) -> None:
        raise NotImplementedError

    def comma_list(self, item: Callable[[], str]) -> list[str]:
        """`( item, item, ... )` with the opening parenthesis still ahead."""
        self.expect("(")
        items: list[str] = []
        if self.accept(")") is None:
            items.append(item())
            while self.accept(",") is not None:
                items.append(item())
            self.expect(")")
        return items
