"""Built-in functions, whitelisted methods, size limits and date helpers of corpflow expressions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from dateutil.relativedelta import relativedelta

# Limits that keep a deployed model from exhausting the worker's memory or CPU.
MAX_INT_BITS = 4096
MAX_WEIGHT = 1_000_000
MAX_ROUND_DIGITS = 100

Function = Callable[..., Any]


class OperationError(Exception):
    """An operator or built-in refused its operands; the message is shown to the model author."""


def type_name(value: object) -> str:
    """Name a value's type in model-author terms rather than Python class names."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, set | frozenset):
        return "set"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, dt.datetime):
        return "date-time"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.timedelta | relativedelta):
        return "duration"
    if isinstance(value, DateHelper):
        return "dateTime()"
    return "object"


def weight(value: object, budget: int = MAX_WEIGHT) -> int:
    """Approximate the memory a value stands for, counting shared references each time.

    Stops counting once `budget` is exceeded, so the walk itself stays cheap.
    """
    total = 0
    stack: list[object] = [value]
    while stack and total <= budget:
        item = stack.pop()
        total += 1
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, int):
            total += item.bit_length() // 64
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return total


def check_weight(value: object, what: str) -> None:
    if weight(value) > MAX_WEIGHT:
        raise OperationError(f"{what} would be too large (limit {MAX_WEIGHT:,} items)")


_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)


def parse_iso_duration(text: str) -> dt.timedelta | relativedelta:
    """Parse an ISO-8601 duration; years/months give a calendar-aware relativedelta."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None or text.strip() in {"P", "-P"} or text.strip().endswith("T"):
        raise OperationError("the value is not an ISO-8601 duration such as PT24H or P3D")
    parts = {k: v for k, v in match.groupdict().items() if v is not None and k != "sign"}
    sign = -1 if match.group("sign") else 1
    seconds = float(parts.pop("seconds", "0").replace(",", "."))
    numbers = {k: int(v) for k, v in parts.items()}
    if max([*numbers.values(), seconds], default=0) > 1_000_000:
        raise OperationError("the duration is out of range")
    days = numbers.get("days", 0) + 7 * numbers.get("weeks", 0)
    delta = dt.timedelta(
        days=days, hours=numbers.get("hours", 0), minutes=numbers.get("minutes", 0), seconds=seconds
    )
    if numbers.get("years") or numbers.get("months"):
        calendar = relativedelta(years=numbers.get("years", 0), months=numbers.get("months", 0))
        return sign * (calendar + delta)
    return sign * delta


def parse_datetime(text: str) -> dt.datetime:
    """Parse an ISO date-time; a value without offset is taken as UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError, TypeError):
        raise OperationError("the value is not an ISO-8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class DateHelper:
    """What JUEL's `dateTime()` returns: an immutable date-time with Joda-style plus/minus."""

    __slots__ = ("value",)

    def __init__(self, value: dt.datetime) -> None:
        self.value = value

    def _shift(self, amount: object, unit: str, sign: int) -> DateHelper:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise OperationError(f"expected a whole number of {unit}, got {type_name(amount)}")
        if abs(amount) > 1_000_000:
            raise OperationError(f"{amount} {unit} is out of range")
        try:
            return DateHelper(self.value + relativedelta(**{unit: sign * amount}))  # type: ignore[arg-type]
        except (OverflowError, ValueError):
            raise OperationError("date out of range") from None

    def __repr__(self) -> str:
        return f"dateTime({self.value.isoformat()})"


def _date_method(unit: str, sign: int) -> Callable[[DateHelper, object], DateHelper]:
    return lambda helper, amount: helper._shift(amount, unit, sign)


DATE_METHODS: dict[str, Callable[..., Any]] = {
    f"{prefix}{unit.capitalize()}": _date_method(unit, sign)
    for prefix, sign in (("plus", 1), ("minus", -1))
    for unit in ("days", "weeks", "months", "years", "hours", "minutes", "seconds")
}
DATE_METHODS["toDate"] = lambda helper: helper.value

STRING_METHODS: dict[str, Callable[..., Any]] = {
    "startswith": str.startswith,
    "endswith": str.endswith,
    "lower": str.lower,
    "upper": str.upper,
    "strip": str.strip,
}
METHOD_NAMES = frozenset(DATE_METHODS) | frozenset(STRING_METHODS)


def call_method(target: object, name: str, args: list[Any]) -> Any:
    """Call a whitelisted method; anything else is refused whatever the target is."""
    if isinstance(target, str) and name in STRING_METHODS:
        if any(not isinstance(a, str | tuple) for a in args):
            raise OperationError(f"{name}() expects string arguments")
        return STRING_METHODS[name](target, *args)
    if isinstance(target, DateHelper) and name in DATE_METHODS:
        return DATE_METHODS[name](target, *args)
    raise OperationError(f"a {type_name(target)} has no method '{name}'")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today() -> dt.date:
    # UTC so that results do not depend on the worker's host time zone.
    return _now().date()


def _date(*args: Any) -> dt.date:
    if len(args) == 1 and isinstance(args[0], dt.datetime):
        return args[0].date()
    if len(args) == 1 and isinstance(args[0], dt.date):
        return args[0]
    try:
        if len(args) == 1 and isinstance(args[0], str):
            return dt.date.fromisoformat(args[0].strip())
        if len(args) == 3 and all(type(a) is int for a in args):
            return dt.date(*args)
    except ValueError:
        pass
    raise OperationError('date() expects an ISO date such as "2024-05-01" or (y, m, d)')


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, DateHelper):
        return value.value
    return parse_datetime(value)


def _duration(value: Any) -> dt.timedelta | relativedelta:
    if isinstance(value, dt.timedelta | relativedelta):
        return value
    return parse_iso_duration(value)


def _round(value: Any, digits: Any = None) -> Any:
    if digits is not None and (type(digits) is not int or abs(digits) > MAX_ROUND_DIGITS):
        raise OperationError(f"round() digits must be a whole number up to {MAX_ROUND_DIGITS}")
    return round(value) if digits is None else round(value, digits)


def _str(value: Any) -> str:
    check_weight(value, "str() result")
    return str(value)


def _int(value: Any) -> int:
    if isinstance(value, str) and len(value) > 1000:
        raise OperationError("int() argument is too long")
    try:
        return int(value)
    except (ValueError, TypeError):
        raise OperationError(f"cannot convert {type_name(value)} to an integer") from None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (ValueError, TypeError):
        raise OperationError(f"cannot convert {type_name(value)} to a number") from None


def _contains(collection: Any, item: Any) -> bool:
    if isinstance(collection, str) and not isinstance(item, str):
        raise OperationError("contains() on a string needs a string to look for")
    if not isinstance(collection, str | list | tuple | set | frozenset | Mapping):
        raise OperationError(f"contains() needs a list or string, got {type_name(collection)}")
    return item in collection


def is_empty(value: Any) -> bool:
    """JUEL `empty`: null, an empty string or an empty collection."""
    if value is None:
        return True
    if isinstance(value, str | list | tuple | set | frozenset | Mapping):
        return len(value) == 0
    return False


def _min_max(fn: Callable[..., Any], name: str) -> Function:
    def run(*args: Any) -> Any:
        try:
            return fn(*args)
        except ValueError:
            raise OperationError(f"{name}() of an empty list") from None

    return run


FUNCTIONS: dict[str, Function] = {
    "len": len,
    "str": _str,
    "int": _int,
    "float": _float,
    "bool": bool,
    "abs": abs,
    "min": _min_max(min, "min"),
    "max": _min_max(max, "max"),
    "round": _round,
    "sum": sum,
    "sorted": sorted,
    "any": any,
    "all": all,
    "now": _now,
    "today": _today,
    "date": _date,
    "datetime": _datetime,
    "duration": _duration,
    "dateTime": lambda: DateHelper(_now()),
    "contains": _contains,
    "is_empty": is_empty,
}
