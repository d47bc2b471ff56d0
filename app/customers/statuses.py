"""The customer lifecycle: statuses, the moves allowed between them, ratings and size classes."""

from __future__ import annotations

STATUSES = ("prospect", "onboarding", "active", "dormant", "exited")
# prospect → onboarding → active → dormant → exited, plus the ways back a bank really takes:
# onboarding sent back to prospect, a dormant customer reactivated, an exited one re-admitted.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "prospect": ("onboarding", "exited"),
    "onboarding": ("active", "prospect", "exited"),
    "active": ("dormant", "exited"),
    "dormant": ("active", "exited"),
    "exited": ("prospect",),
}
# Where a customer created through the API may start; a core system's sync may bring any.
INITIAL = ("prospect", "onboarding")
RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")
# 工信部联企业〔2011〕300号 size classes.
SIZE_CLASSES = ("large", "medium", "small", "micro")


def transition_problem(old: str, new: str) -> str | None:
    if old == new:
        return None
    allowed = TRANSITIONS.get(old, ())
    if new not in allowed:
        return f"cannot go from {old} to {new}; allowed from {old}: {', '.join(allowed)}"
    return None
