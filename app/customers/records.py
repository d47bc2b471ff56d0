"""Built-in customer fields: validation, normalisation and JSON-safe values for the change log."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.customers import codes, statuses, uscc
from app.customers.models import Customer

# Registration and bank data a caller may write directly (rm/team/branch go through
# app.customers.assignments, custom fields through app.customers.custom_fields).
BUILT_IN = (
    "uscc",
    "name",
    "legal_representative",
    "registered_capital",
    "capital_currency",
    "industry_code",
    "region_code",
    "establishment_date",
    "size_class",
    "status",
    "risk_rating",
)
ORG_FIELDS = ("rm_id", "team_id", "branch_id")
_MAX_CAPITAL = Decimal("1e18")


@dataclass
class Checked:
    """Normalised values of the given fields, warnings for the caller, errors by field."""

    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _text(limit: int, required: bool) -> Callable[[Any], Any]:
    def check(raw: Any) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                raise ValueError("is required")
            return None
        if not isinstance(raw, str):
            raise ValueError("must be text")
        value = raw.strip()
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return value

    return check


def _capital(raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise ValueError("must be a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not value.is_finite() or value < 0 or value >= _MAX_CAPITAL:
        raise ValueError("must be a non-negative amount below 10^18")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("must have at most 2 decimal places")
    return value.quantize(Decimal("0.01"))


def _currency(raw: Any) -> str:
    if raw is None or raw == "":
        return "CNY"
    if not isinstance(raw, str) or not re.fullmatch(r"[A-Z]{3}", raw.strip().upper()):
        raise ValueError("must be an ISO 4217 currency code such as CNY")
    return raw.strip().upper()


def _code(problem: Callable[[str], str | None]) -> Callable[[Any], str | None]:
    def check(raw: Any) -> str | None:
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str):
            raise ValueError("must be text")
        value = raw.strip().upper()
        reason = problem(value)
        if reason:
            raise ValueError(reason)
        return value

    return check


def _date(raw: Any) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, date):
        value = raw
    elif isinstance(raw, str):
        try:
            value = date.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError("must be a date YYYY-MM-DD") from None
    else:
        raise ValueError("must be a date YYYY-MM-DD")
    if value > date.today():
        raise ValueError("must not be in the future")
    return value


def _one_of(choices: tuple[str, ...], required: bool = False) -> Callable[[Any], str | None]:
    def check(raw: Any) -> str | None:
        if raw is None or raw == "":
            if required:
                raise ValueError("is required")
            return None
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return str(raw)

    return check


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": _text(200, required=True),
    "legal_representative": _text(100, required=False),
    "registered_capital": _capital,
    "capital_currency": _currency,
    "industry_code": _code(codes.industry_problem),
    "region_code": _code(codes.region_problem),
    "establishment_date": _date,
    "size_class": _one_of(statuses.SIZE_CLASSES),
    "status": _one_of(statuses.STATUSES, required=True),
    "risk_rating": _one_of(statuses.RATINGS),
}


def check(
    data: Mapping[str, Any], current: Customer | None, *, initial: tuple[str, ...] | None = None
) -> Checked:
    """Check the built-in fields present in `data` (all of them when creating).

    `initial` limits the status a new customer may start in; on an update the status must
    follow an allowed transition from the current one.
    """
    out = Checked()
    if current is None or "uscc" in data:
        code = uscc.normalize(str(data.get("uscc") or ""))
        problems = uscc.problems(code)
        if not problems and code[2:4] not in codes.provinces():
            problems = [f"positions 3-4 ({code[2:4]}) are not a GB/T 2260 province code"]
        if problems:
            out.errors["uscc"] = "; ".join(problems)
        else:
            out.values["uscc"] = code
            warning = uscc.org_code_warning(code)
            if warning:
                out.warnings.append(f"uscc: {warning}")
    defaults = {"status": "prospect", "capital_currency": "CNY"} if current is None else {}
    for name, checker in _CHECKS.items():
        if name in data or (current is None and name != "region_code"):
            try:
                out.values[name] = checker(data.get(name, defaults.get(name)))
            except ValueError as exc:
                out.errors[name] = str(exc)
    _check_region(current, out)
    status = out.values.get("status")
    if status and current is None and initial is not None and status not in initial:
        out.errors["status"] = f"a new customer starts as one of {', '.join(initial)}"
    elif status and current is not None:
        problem = statuses.transition_problem(current.status, status)
        if problem:
            out.errors["status"] = problem
    return out


def _check_region(current: Customer | None, out: Checked) -> None:
    """The region defaults to USCC positions 3-8 and must lie in the USCC's province."""
    code = out.values.get("uscc") or (current.uscc if current else None)
    if code is None or "region_code" in out.errors:
        return
    region = out.values.get("region_code")
    if region is None:
        if current is None or "uscc" in out.values or "region_code" in out.values:
            out.values["region_code"] = code[2:8]
        return
    # Central registrations (province 10) may sit anywhere.
    if code[2:4] != "10" and region[:2] != code[2:4]:
        out.errors["region_code"] = (
            f"{region} is not in province {code[2:4]} given by USCC positions 3-8 ({code[2:8]})"
        )


def plain(value: Any) -> Any:
    """A JSON-safe form of a field value, for the change log and comparisons."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def diff(customer: Customer, values: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for every value in `values` that differs from the customer's."""
    changed = []
    for name, new in values.items():
        old, value = plain(getattr(customer, name)), plain(new)
        if old != value:
            changed.append((name, old, value))
    return changed
