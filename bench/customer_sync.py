"""Customer sync benchmark: bulk-upsert records/s through the sync use case on PostgreSQL.

What one run does (against 127.0.0.1 only):

1. Drops and recreates the database ``corpflow_bench_sync``, builds the schema from the models
   (pg_trgm included) and seeds the demo staff and org tree.
2. Baseline: a plain multi-row INSERT of the same rows into ``customer_baseline``, a copy of the
   customer table with the same indexes (``LIKE customer INCLUDING ALL``), batch by batch, one
   commit per batch: what the database alone costs.
3. Sync, create: every record new (``created``), one transaction per batch.
4. Sync, replay: the same batches again (every record ``unchanged``, nothing written).
5. Sync, update: every record with a new name and rating (``updated``, one change row each).

Prints records/s per phase and the ratio to the baseline. Usage:
``.venv/bin/python bench/customer_sync.py [--records 50000] [--batch 1000] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import insert, text
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.customers.sync import sync  # noqa: E402
from app.customers.uscc import check_char  # noqa: E402
from app.db import Base, make_engine, utcnow  # noqa: E402
from app.identity.actor import Actor  # noqa: E402
from app.identity.users import seed_demo_staff  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "corpflow_bench_sync"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
CORE = Actor("ecif", frozenset({"core_system"}))
RMS = ("rm_li", "rm_wu", "rm_ma")


def org_check(body: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


def make_records(count: int) -> list[dict[str, Any]]:
    regions = ("310115", "110105", "440305", "330106", "510107")
    industries = ("C3612", "I6510", "K7010", "F5211", "E4710", "D4411")
    rows = []
    for i in range(count):
        body = f"{i:08d}"
        first17 = f"91{regions[i % 5]}{body}{org_check(body)}"
        rows.append(
            {
                "external_id": f"CIF{i:09d}",
                "uscc": first17 + check_char(first17),
                "name": f"示例{i}号科技有限公司",
                "legal_representative": "张示例",
                "registered_capital": str(1_000_000 + i),
                "industry_code": industries[i % 6],
                "establishment_date": "2012-03-01",
                "size_class": ("large", "medium", "small", "micro")[i % 4],
                "status": "active",
                "risk_rating": "A",
                "rm_id": RMS[i % 3],
            }
        )
    return rows


def recreate_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB_NAME)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))


def timed(
    label: str, batches: list[list[dict[str, Any]]], run: Callable[[list[dict[str, Any]]], None]
) -> float:
    started = time.perf_counter()
    for batch in batches:
        run(batch)
    elapsed = time.perf_counter() - started
    count = sum(len(b) for b in batches)
    rate = count / elapsed
    print(f"{label:<34} {count:>8} records {elapsed:8.2f} s {rate:10.0f} records/s", flush=True)
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    recreate_database()
    import app.models  # noqa: F401

    engine = make_engine(DATABASE_URL)
    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        conn.execute(text("CREATE TABLE customer_baseline (LIKE customer INCLUDING ALL)"))
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions() as session:
        seed_demo_staff(session)
        session.commit()

    records = make_records(args.records)
    batches = [records[i : i + args.batch] for i in range(0, len(records), args.batch)]
    baseline_table = Base.metadata.tables["customer"].to_metadata(
        type(Base.metadata)(), name="customer_baseline"
    )

    def plain_insert(batch: list[dict[str, Any]]) -> None:
        now = utcnow()
        rows = [
            {
                **{k: v for k, v in r.items() if k != "external_id"},
                "id": str(uuid.uuid4()),
                "region_code": r["uscc"][2:8],
                "capital_currency": "CNY",
                "custom": {},
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for r in batch
        ]
        with engine.begin() as conn:
            conn.execute(insert(baseline_table), rows)

    def run_sync(expect: str) -> Callable[[list[dict[str, Any]]], None]:
        def run(batch: list[dict[str, Any]]) -> None:
            with sessions() as session:
                results = sync(session, CORE, "ECIF", batch)
                session.commit()
            wrong = [r for r in results if r.status != expect]
            if wrong:
                raise SystemExit(f"expected {expect}, got {wrong[0]}")

        return run

    figures: dict[str, float] = {}
    figures["baseline_insert"] = timed("baseline: plain INSERT", batches, plain_insert)
    figures["sync_create"] = timed("sync: create", batches, run_sync("created"))
    figures["sync_replay"] = timed("sync: replay (unchanged)", batches, run_sync("unchanged"))
    changed = [
        [{**r, "name": r["name"].replace("科技", "智能"), "risk_rating": "BBB"} for r in b]
        for b in batches
    ]
    figures["sync_update"] = timed("sync: update (2 fields)", changed, run_sync("updated"))
    base = figures["baseline_insert"]
    for name in ("sync_create", "sync_replay", "sync_update"):
        figures[f"{name}_vs_baseline"] = round(figures[name] / base, 3)
        print(f"{name + ' / baseline':<34} {figures[name] / base:8.2f}", flush=True)
    with engine.connect() as conn:
        changes = conn.execute(text("SELECT count(*) FROM customer_change")).scalar()
        customers = conn.execute(text("SELECT count(*) FROM customer")).scalar()
    print(f"customers {customers}, change rows {changes}", flush=True)
    engine.dispose()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
