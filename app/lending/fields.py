"""Reading text, choices, amounts, percentages and dates from input, with clear errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

# Numeric(18, 2): 16 digits before the point.
MAX_AMOUNT = Decimal("9999999999999999.99")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Fields:
    """Collects one message per bad field while a use case reads its input."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, *, max_len: int, required: bool = True) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, str):
            self.fail(name, "must be text")
            return None
        value = value.strip()
        if len(value) > max_len:
            self.fail(name, f"must be at most {max_len} characters")
            return None
        return value

    def choice(self, name: str, allowed: tuple[str, ...], *, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if value not in allowed:
            self.fail(name, f"must be one of {', '.join(allowed)}")
            return allowed[0]
        return str(value)

    def amount(
        self, name: str, *, required: bool = True, allow_zero: bool = False
    ) -> Decimal | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            self.fail(name, "must be a number")
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(name, f"must be a number, got {value!r}")
            return None
        if not number.is_finite():
            self.fail(name, "must be a finite number")
        elif number < 0 or (number == 0 and not allow_zero):
            self.fail(name, "must be zero or more" if allow_zero else "must be more than zero")
        elif number > MAX_AMOUNT:
            self.fail(name, f"must be at most {MAX_AMOUNT}")
        elif number != number.quantize(Decimal("0.01")):
            self.fail(name, "must have at most 2 decimal places")
        else:
            return number.quantize(Decimal("0.01"))
        return None

    def percentage(self, name: str) -> Decimal | None:
        value = self.data.get(name)
        if value is None:
            self.fail(name, "is required")
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(name, f"must be a number, got {value!r}")
            return None
        if isinstance(value, bool) or not number.is_finite() or not 0 < number <= 100:
            self.fail(name, "must be more than 0 and at most 100")
            return None
        if number != number.quantize(Decimal("0.0001")):
            self.fail(name, "must have at most 4 decimal places")
            return None
        return number

    def currency(self, name: str = "currency", *, default: str | None = "CNY") -> str:
        value = self.data.get(name) or default
        if not isinstance(value, str) or not _CURRENCY.match(value):
            self.fail(name, "must be an ISO 4217 code of 3 capital letters, e.g. CNY")
            return "XXX"
        return value

    def day(self, name: str, *, required: bool = True) -> date | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, "is required")
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(name, f"must be a date YYYY-MM-DD, got {value!r}")
            return None

    def whole(self, name: str, *, low: int, high: int, default: int | None = None) -> int | None:
        value = self.data.get(name, default)
        if value is None:
            self.fail(name, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(name, f"must be a whole number from {low} to {high}")
            return None
        return value

    def moment(self, name: str, *, now: datetime) -> datetime | None:
        """An ISO 8601 date-time with its offset; absent: now. Never in the future."""
        value = self.data.get(name)
        if value is None or value == "":
            return now
        if isinstance(value, datetime):
            parsed = value
        else:
            try:
                parsed = datetime.fromisoformat(str(value))
            except ValueError:
                self.fail(name, f"must be an ISO 8601 date-time, got {value!r}")
                return None
        if parsed.tzinfo is None:
            self.fail(name, "must include a UTC offset, e.g. 2026-03-02T10:00:00+08:00")
            return None
        if parsed > now + timedelta(minutes=5):
            self.fail(name, "may not be in the future")
            return None
        return parsed.astimezone(UTC)
