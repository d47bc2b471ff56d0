"""Seed a store with N realistic synthetic customers and everything around them, in bulk.

`seed(session, n)` writes, per customer: the record, its ECIF source id, its RM assignment and
its creation change row, legal representative and owners (personal data sealed), positions,
shareholdings, groups and members, facilities, loans with their classification history,
guarantees, interactions, complaints and risk signals (about 11 related rows per customer).
Rows go out in chunks (COPY on PostgreSQL); the caller may commit after each chunk. The store
must have no customers yet. Customers are spread over the demo org: the demo RMs and, for large N,
synthetic RMs (`rm_s0001` ...) placed in the demo teams, each with a book of ~400 customers.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.customers import bulk, changes
from app.customers.models import Customer, CustomField
from app.customers.seed_rows import COLUMNS, Owner, RowMaker
from app.customers.synthetic import SyntheticBank
from app.db import utcnow
from app.errors import ConflictError, InvalidInputError
from app.identity.credentials import hash_password
from app.identity.models import User
from app.identity.users import ensure_group
from app.org.demo import DEMO_PLACEMENTS
from app.org.models import OrgPlacement, OrgUnit
from app.org.units import BRANCH_KINDS
from app.people.cipher import current as cipher
from app.workdays.store import current_calendar

DEMO_RMS = ("rm_li", "rm_wu", "rm_ma")
BOOK_SIZE = 400
MAX_CUSTOMERS = 10_000_000
SOURCE_SYSTEM = "ECIF"
# The password of every synthetic RM, as for the demo RMs (demo data, printed by seed-demo).
SYNTHETIC_RM_PASSWORD = "rm-pass"  # noqa: S105 - published demo password
AML_FIELD = "aml_risk_level"


@dataclass
class Progress:
    """Where a seeding run is: customers and rows written so far, and the elapsed time."""

    customers: int
    target: int
    rows: int
    elapsed_s: float
    tables: Counter[str] = field(default_factory=Counter)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def eta_s(self) -> float:
        if not self.customers:
            return 0.0
        return self.elapsed_s / self.customers * (self.target - self.customers)


def seed(
    session: Session,
    count: int,
    *,
    seed_value: int = 20261129,
    chunk: int = 5000,
    after_chunk: Callable[[Progress], None] | None = None,
) -> Progress:
    """Write `count` customers with their related rows; refuses a store that has customers.

    `after_chunk` is called after each chunk is written (flushed, not committed) with where
    the run is: a caller seeding a large store commits there, so no transaction stays open
    for minutes (the change feed waits for every older transaction of the cluster to end).
    """
    if not 1 <= count <= MAX_CUSTOMERS:
        raise InvalidInputError(
            "invalid customer count", errors={"customers": f"between 1 and {MAX_CUSTOMERS}"}
        )
    existing = session.scalar(select(func.count()).select_from(Customer)) or 0
    if existing:
        raise ConflictError(
            f"the store already has {existing} customers: seeding writes into an empty store "
            "only (use a new database)",
            code="store_not_empty",
        )
    _aml_field(session)
    owners = rm_books(session, count)
    session.flush()
    maker = RowMaker(
        SyntheticBank(seed_value),
        cipher(),
        owners,
        now=utcnow(),
        txid=0,
        source_system=SOURCE_SYSTEM,
        seed=seed_value,
        workdays=current_calendar(),
    )
    state = Progress(0, count, 0, 0.0)
    started = time.perf_counter()

    def flush() -> None:
        rows = maker.take()
        # The feed orders changes by writing transaction: stamp this chunk's.
        tx = changes.txid(session)
        rows["customer_change"] = [(tx, *row[1:]) for row in rows["customer_change"]]
        state.rows += bulk.write(session, COLUMNS, rows)
        state.tables.update({name: len(r) for name, r in rows.items()})
        state.elapsed_s = time.perf_counter() - started
        if after_chunk is not None:
            after_chunk(replace(state, tables=Counter(state.tables)))

    for company in maker.bank.companies(count):
        maker.add(company)
        state.customers += 1
        if state.customers % chunk == 0:
            flush()
    if state.customers % chunk:
        flush()
    return state


def _aml_field(session: Session) -> None:
    """The custom field the seeded customers fill (反洗钱风险等级), defined once."""
    if session.get(CustomField, AML_FIELD) is None:
        session.add(
            CustomField(
                key=AML_FIELD,
                label="反洗钱风险等级 (AML risk level)",
                type="enum",
                enum_values=["low", "medium", "high"],
                sensitivity="C2",
                created_by="seed-demo",
            )
        )


def rm_books(session: Session, count: int) -> list[Owner]:
    """The RMs the customers go to, with their team and branch: the demo RMs, and enough
    synthetic RMs (created here, placed round-robin in the demo RMs' teams) that each
    book holds about BOOK_SIZE customers."""
    wanted = max(len(DEMO_RMS), math.ceil(count / BOOK_SIZE))
    group = ensure_group(session, "relationship_manager")
    teams = [DEMO_PLACEMENTS[rm][0] for rm in DEMO_RMS]
    synthetic = [f"rm_s{n:04d}" for n in range(1, wanted - len(DEMO_RMS) + 1)]
    known = set(session.scalars(select(User.id).where(User.id.in_(synthetic))))
    new = [user_id for user_id in synthetic if user_id not in known]
    password_hash = hash_password(SYNTHETIC_RM_PASSWORD) if new else ""
    for user_id in new:
        user = User(
            id=user_id,
            display_name=f"合成客户经理 {user_id[4:]} (synthetic RM)",
            email=f"{user_id}@bank.example",
            password_hash=password_hash,
        )
        user.groups = [group]
        session.add(user)
    session.flush()  # users before their placements (no ORM relationship orders them)
    for user_id in new:
        home = teams[int(user_id[4:]) % len(teams)]
        session.add(OrgPlacement(user_id=user_id, unit_id=home, role="rm"))
    session.flush()
    rms = [*DEMO_RMS, *synthetic]
    placements = {
        p.user_id: p.unit_id
        for p in session.scalars(select(OrgPlacement).where(OrgPlacement.user_id.in_(rms)))
    }
    units = {u.id: u for u in session.scalars(select(OrgUnit))}
    owners = []
    for rm in rms:
        unit = units.get(placements.get(rm, ""))
        team: str | None = unit.id if unit is not None and unit.kind == "team" else None
        branch: str | None = None
        if unit is not None:
            path = [units[part] for part in unit.path.strip("/").split("/") if part in units]
            branch = next((u.id for u in reversed(path) if u.kind in BRANCH_KINDS), None)
        owners.append(Owner(rm, team, branch))
    return owners
