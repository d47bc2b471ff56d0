"""Customer search: filters on built-in and custom fields, sorting, paging, scoped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    exists,
    func,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from app.customers import custom_fields, scope, uscc
from app.customers.models import Customer, CustomField
from app.errors import InvalidInputError
from app.identity.actor import Actor
from app.lending import categories
from app.lending.models import Loan
from app.org.models import OrgUnit

SORTS: dict[str, Any] = {
    "name": Customer.name,
    "created": Customer.created_at,
    "updated": Customer.updated_at,
    "uscc": Customer.uscc,
}
_OPS = ("eq", "gte", "lte")
_PLAN_EACH_CALL = text("SET LOCAL plan_cache_mode = force_custom_plan")
# Totals are counted exactly up to here, estimated beyond (see `find`).
COUNT_CAP = 1_000


@dataclass(frozen=True)
class CustomerQuery:
    name: str | None = None
    uscc: str | None = None
    rm_id: str | None = None
    team_id: str | None = None
    # A branch matches its sub-branches' (and teams') customers too.
    branch_id: str | None = None
    # Prefixes: "I" a section, "I65" a division; "31" a province, "3101" a prefecture.
    industry: str | None = None
    region: str | None = None
    status: tuple[str, ...] = ()
    risk_rating: tuple[str, ...] = ()
    # Five-category classification (五级分类) of any of the customer's active loans.
    classification: tuple[str, ...] = ()
    # "custom.<key>" = value, "custom.<key>.gte" / ".lte" = bound, as given in the query string.
    custom: Mapping[str, str] = field(default_factory=dict)
    sort: str = "name"
    order: str = "asc"
    limit: int = 50
    offset: int = 0


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class Found:
    """A page of customers and how many match: exact up to COUNT_CAP, else an estimate."""

    customers: list[Customer]
    total: int
    total_exact: bool = True


def search(session: Session, actor: Actor, q: CustomerQuery) -> tuple[list[Customer], int]:
    """The page and the total (see `find` for how the total is counted)."""
    found = find(session, actor, q)
    return found.customers, found.total


def find(session: Session, actor: Actor, q: CustomerQuery) -> Found:
    """A page of the customers `actor` may see that match `q`.

    The total is exact up to COUNT_CAP matches: counting every match of a broad filter over
    a million customers costs more than the page itself, and nobody pages that far. Past
    the cap the total is PostgreSQL's row estimate for the same filter (at least the cap)
    and `total_exact` is False. A short page needs no count at all.
    """
    if q.sort not in SORTS:
        raise InvalidInputError("invalid sort", errors={"sort": f"one of {', '.join(SORTS)}"})
    if session.get_bind().dialect.name == "postgresql":
        # How selective a filter is depends on its values (a rare status, a big RM book): a
        # prepared statement's generic plan was up to 1.6 times slower here than a plan
        # made for the values of each call, so search plans every call.
        session.execute(_PLAN_EACH_CALL)
    column = SORTS[q.sort]
    ordered = column.asc() if q.order == "asc" else column.desc()
    tie = Customer.id.asc() if q.order == "asc" else Customer.id.desc()
    # The page's ids first, then their rows: the id query can be answered from an index
    # alone (ix_customer_name_cover carries the filtered columns), so a filter that keeps
    # one row in thirty costs index entries, not thirty heap reads per customer shown.
    ids = (
        _filtered(session, actor, q, ordered=True)
        .with_only_columns(Customer.id, column)
        .order_by(ordered, tie)
        .limit(q.limit)
        .offset(q.offset)
        .subquery()
    )
    key = ids.c[column.key]
    page = list(
        session.scalars(
            select(Customer)
            .join(ids, ids.c.id == Customer.id)
            .order_by(key.asc() if q.order == "asc" else key.desc(), tie)
        )
    )
    if page and len(page) < q.limit:
        return Found(page, q.offset + len(page))
    return Found(page, *count(session, _filtered(session, actor, q, ordered=False)))


def count(session: Session, query: Select[Any]) -> tuple[int, bool]:
    """(matches, exact): exact up to COUNT_CAP, else the planner's estimate (>= the cap)."""
    capped = select(func.count()).select_from(
        query.with_only_columns(Customer.id).limit(COUNT_CAP + 1).subquery()
    )
    total = int(session.scalar(capped) or 0)
    if total <= COUNT_CAP:
        return total, True
    if session.get_bind().dialect.name != "postgresql":
        return total, False
    plan = session.execute(_Explain(query.with_only_columns(Customer.id))).scalar()
    estimate = int(plan[0]["Plan"]["Plan Rows"]) if plan else 0
    return max(estimate, total), False


class _Explain(Executable, ClauseElement):
    """EXPLAIN (FORMAT JSON) of a statement, its values still bound parameters."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _explain(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + str(compiler.process(element.statement, **kw))


def _filtered(session: Session, actor: Actor, q: CustomerQuery, *, ordered: bool) -> Select[Any]:
    """The customers matching `q`; `ordered` when the rows are read in sort order (the
    region filter then takes the form its name-ordered indexes serve)."""
    query: Select[Any] = select(Customer).where(scope.visible(actor))
    if q.name:
        query = query.where(Customer.name.ilike(_like(q.name.strip()), escape="\\"))
    if q.uscc:
        query = query.where(Customer.uscc == uscc.normalize(q.uscc))
    for column, value in (
        (Customer.rm_id, q.rm_id),
        (Customer.team_id, q.team_id),
    ):
        if value:
            query = query.where(column == value)
    if q.branch_id:
        unit = session.get(OrgUnit, q.branch_id)
        units = (
            select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
            if unit is not None
            else [q.branch_id]
        )
        query = query.where(Customer.branch_id.in_(units))
    if q.industry:
        query = query.where(
            Customer.industry_code.like(_prefix(q.industry.strip().upper()), escape="\\")
        )
    if q.region:
        query = query.where(_region(q.region.strip(), ordered))
    if q.status:
        query = query.where(Customer.status.in_(q.status))
    if q.risk_rating:
        query = query.where(Customer.risk_rating.in_(q.risk_rating))
    if q.classification:
        query = query.where(_classified(q.classification))
    postgres = session.get_bind().dialect.name == "postgresql"
    for clause in _custom_filters(session, actor, q.custom, postgres):
        query = query.where(clause)
    return query


def _classified(wanted: tuple[str, ...]) -> ColumnElement[bool]:
    """The customer has an active loan in one of the `wanted` categories."""
    unknown = sorted(set(wanted) - set(categories.CATEGORIES))
    if unknown:
        raise InvalidInputError(
            "invalid classification",
            errors={
                "classification": f"{', '.join(unknown)}: not one of "
                f"{', '.join(categories.CATEGORIES)}"
            },
        )
    return exists().where(
        Loan.customer_id == Customer.id,
        Loan.status == "active",
        Loan.classification.in_(wanted),
    )


def _region(code: str, ordered: bool) -> ColumnElement[bool]:
    """A province, prefecture or county. In sort order: the expressions of the region-and-
    name indexes; for counting: a range of codes, one index range, not a scan past the codes
    of every province before it."""
    if not code.isdigit() or len(code) not in (2, 4, 6):
        raise InvalidInputError(
            "invalid region",
            errors={"region": "a GB/T 2260 province (31), prefecture (3101) or county (310115)"},
        )
    if len(code) == 6:
        return Customer.region_code == code
    if not ordered:
        # Digit strings: the codes of a prefix lie in [prefix, prefix + 1).
        following = str(int(code) + 1).zfill(len(code))
        if len(following) > len(code):  # "99": nothing follows
            return Customer.region_code >= code
        return (Customer.region_code >= code) & (Customer.region_code < following)
    # Constants in the SQL text, not parameters: a prepared (generic) plan must still see
    # the indexed expression substr(region_code, 1, N).
    level: ColumnElement[Any] = literal_column("2" if len(code) == 2 else "4")
    return func.substr(Customer.region_code, literal_column("1"), level) == code


def _custom_filters(
    session: Session, actor: Actor, args: Mapping[str, str], postgres: bool
) -> list[ColumnElement[bool]]:
    if not args:
        return []
    fields = custom_fields.active(session)
    clauses: list[ColumnElement[bool]] = []
    errors: dict[str, str] = {}
    for name, raw in args.items():
        key, _, op = name.removeprefix("custom.").partition(".")
        op = op or "eq"
        found = fields.get(key)
        if found is None or not custom_fields.may_see(found, actor):
            errors[name] = "no such custom field"
            continue
        if op not in _OPS or (op != "eq" and found.type not in ("number", "integer", "date")):
            errors[name] = "use custom.<key>=value, or .gte/.lte on number, integer or date fields"
            continue
        try:
            value = _typed(found, raw)
        except ValueError as exc:
            errors[name] = str(exc)
            continue
        clauses.append(_clause(found, op, value, postgres))
    if errors:
        raise InvalidInputError("invalid custom-field filter", errors=errors)
    return clauses


def _typed(found: CustomField, raw: str) -> Any:
    if found.type in ("string", "enum"):
        return raw
    if found.type == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ValueError("true or false")
        return raw.lower() == "true"
    if found.type == "date":
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            raise ValueError("a date YYYY-MM-DD") from None
    try:
        return int(raw) if found.type == "integer" else float(raw)
    except ValueError:
        raise ValueError(f"{'a whole number' if found.type == 'integer' else 'a number'}") from None


def _clause(found: CustomField, op: str, value: Any, postgres: bool) -> ColumnElement[bool]:
    if op == "eq" and postgres:
        # JSONB containment: served by the GIN (jsonb_path_ops) index on customer.custom.
        return type_coerce(Customer.custom, JSONB).contains({found.key: value})  # type: ignore[no-any-return]
    element = Customer.custom[found.key]
    typed: Any
    if found.type in ("number",):
        typed = element.as_float()
    elif found.type == "integer":
        typed = element.as_integer()
    elif found.type == "boolean":
        typed = element.as_boolean()
    else:
        typed = element.as_string()
    if op == "gte":
        return typed >= value  # type: ignore[no-any-return]
    if op == "lte":
        return typed <= value  # type: ignore[no-any-return]
    return typed == value  # type: ignore[no-any-return]
