"""The five loan categories (五级分类) and the days-past-due floors that bound them."""

from __future__ import annotations

from collections.abc import Iterable

# Mildest first; 不良 (non-performing) = substandard + doubtful + loss.
CATEGORIES: tuple[str, ...] = ("normal", "special_mention", "substandard", "doubtful", "loss")
LABELS = {
    "normal": "正常",
    "special_mention": "关注",
    "substandard": "次级",
    "doubtful": "可疑",
    "loss": "损失",
}
NON_PERFORMING = frozenset({"substandard", "doubtful", "loss"})
# 《商业银行金融资产风险分类办法》(2023) floors by days past due, to be verified against the
# rule's text before they become more than a default: (more than N days, at least category).
FLOORS: tuple[tuple[int, str], ...] = (
    (360, "loss"),
    (270, "doubtful"),
    (90, "substandard"),
    (0, "special_mention"),
)


def rank(category: str) -> int:
    return CATEGORIES.index(category)


def floor_for(days_overdue: int) -> str:
    """The mildest category a loan overdue by `days_overdue` days may have."""
    for days, category in FLOORS:
        if days_overdue > days:
            return category
    return "normal"


def worst(items: Iterable[str]) -> str | None:
    """The most severe category among `items`; None when there are none."""
    return max(items, key=rank, default=None)
