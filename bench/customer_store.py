"""Customer store at scale: 360 view, search and bulk upsert on 1,000,000 seeded customers.

What one run does (PostgreSQL on 127.0.0.1 only, database ``corpflow_bench_store``):

1. Build: drop and recreate the database, ``alembic upgrade head``, then
   ``flask seed-demo --customers N`` (timed). ``--reuse`` keeps a database built earlier
   (``alembic upgrade head`` still runs, so new indexes arrive; seeding is skipped when the
   store has customers). Then ``VACUUM ANALYZE`` (timed).
2. 360 view, in-process through the use case (``app.customers.overview.overview``, one session
   per call, as a request has): p50/p99 over ``--samples`` random customers, read by their own
   RM (RM scope) and by head office. Baseline: a primary-key SELECT of the same customers
   through the same session machinery; ratio = 360 / baseline. HTTP overhead: a sample of the
   same reads through the Flask test client (``GET /api/v1/customers/{id}/360``, bearer token),
   p50 minus the in-process p50.
3. Search, in-process through ``app.customers.search.find``: a mix of realistic query shapes
   (partial Chinese name, USCC, RM + status, industry prefix, region prefix, custom field,
   paged/sorted with total, an RM's own book), p50/p99 per shape and over the mix, against the
   same primary-key baseline; ``EXPLAIN (ANALYZE, BUFFERS)`` of every statement of the slowest
   shape.
4. Bulk upsert through the sync use case (``app.customers.sync.sync``, batches of 1,000, one
   transaction each): new records, replays (unchanged) and updates; baseline: a plain COPY of
   the same customer rows (customer table only: no source id, assignment or change row) into
   the same 1,000,000-row ``customer`` table, one commit per 1,000, deleted again before the
   sync phases. The synced customers are removed afterwards. Each phase runs once per number in
   ``--sync-clients`` (default 1 and 2): that many client processes, each with its own engine as
   a gunicorn worker has, sending their share of the batches at once; the baseline runs with
   the same number of clients. The target is judged on the largest number.

Usage: ``.venv/bin/python bench/customer_store.py [--customers 1000000] [--reuse]
[--samples 2000] [--searches 100] [--sync-records 20000] [--sync-clients 1,2]
[--parts view,search,upsert] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from credit_throughput import cpu_seconds  # noqa: E402

from app.customers.models import Customer  # noqa: E402
from app.customers.overview import overview  # noqa: E402
from app.customers.search import CustomerQuery, find  # noqa: E402
from app.customers.sync import sync  # noqa: E402
from app.customers.synthetic import SyntheticBank  # noqa: E402
from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.identity.actor import Actor, OrgScope  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "corpflow_bench_store"
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
HEAD_OFFICE = Actor("hq_liu", frozenset({"head_office_credit"}), OrgScope(everything=True))
CORE = Actor("ecif", frozenset({"core_system"}))
TARGETS = {"view_p99_ms": 20.0, "search_p99_ms": 50.0, "upsert_per_s": 5000.0}
ENV = {
    **os.environ,
    "CORPFLOW_DATABASE_URL": DATABASE_URL,
    "CORPFLOW_ENVIRONMENT": "development",
    "CORPFLOW_DEPLOY_ON_STARTUP": "false",
    "CORPFLOW_LOG_LEVEL": "WARNING",
}


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def summary(label: str, ms: list[float], base: float | None = None) -> dict[str, float]:
    p50, p99 = pct(ms, 50), pct(ms, 99)
    ratio = f"  {p50 / base:6.1f}x baseline" if base else ""
    print(f"  {label:<34} n={len(ms):>5}  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms{ratio}")
    return {"p50_ms": round(p50, 3), "p99_ms": round(p99, 3), "n": len(ms)}


def build(count: int, reuse: bool) -> dict[str, float]:
    figures: dict[str, float] = {}
    if not reuse:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DB_NAME)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    bin_dir = ROOT / ".venv" / "bin"
    subprocess.run([bin_dir / "alembic", "upgrade", "head"], cwd=ROOT, env=ENV, check=True)
    with psycopg.connect(DATABASE_URL.replace("+psycopg", ""), autocommit=True) as conn:
        present = conn.execute("SELECT count(*) FROM customer").fetchone()
        if not present or not present[0]:
            started = time.perf_counter()
            subprocess.run(
                [bin_dir / "flask", "--app", "wsgi", "seed-demo", "--customers", str(count),
                 "--chunk", "20000"],
                cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            figures["seed_s"] = round(time.perf_counter() - started, 1)
            print(f"seed-demo --customers {count}: {figures['seed_s']} s", flush=True)
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        figures["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
        print(f"VACUUM ANALYZE: {figures['vacuum_analyze_s']} s", flush=True)
        sizes = conn.execute(
            "SELECT (SELECT count(*) FROM customer), "
            "(SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE relname <> 'customer'), "
            "pg_database_size(current_database())"
        ).fetchone()
        settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                "('shared_buffers', 'work_mem', 'effective_cache_size', 'jit', 'server_version')"
            ).fetchall()
        )
    assert sizes is not None
    figures.update(customers=sizes[0], other_rows=int(sizes[1]), db_bytes=sizes[2])
    print(
        f"store: {sizes[0]:,} customers, {int(sizes[1]):,} other rows, "
        f"{sizes[2] / 2**30:.1f} GiB; PostgreSQL {settings}",
        flush=True,
    )
    return figures


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def baseline(sessions: sessionmaker[Session], ids: list[str]) -> list[float]:
    def one(customer_id: str) -> None:
        with sessions() as session:
            session.execute(select(Customer).where(Customer.id == customer_id)).scalar_one()

    return [timed(lambda i=i: one(i)) for i in ids]  # type: ignore[misc]


def views(sessions: sessionmaker[Session], sample: list[tuple[str, str]]) -> dict[str, Any]:
    print("360 view (in-process, one session per call):", flush=True)
    ids = [cid for cid, _ in sample]
    baseline(sessions, ids[:200])  # warm the pool and the caches a little
    base = summary("baseline: primary-key SELECT", baseline(sessions, ids))
    out: dict[str, Any] = {"baseline": base}
    for label, actor_of in (
        ("rm", lambda rm: Actor(rm, frozenset({"relationship_manager"}))),
        ("head_office", lambda rm: HEAD_OFFICE),
    ):
        ms = []
        client, postgres = time.process_time(), backend_cpu()
        for customer_id, rm in sample:
            with sessions() as session:
                ms.append(timed(lambda: overview(session, actor_of(rm), customer_id)))  # noqa: B023
        out[label] = summary(f"360 as {label}", ms, base["p50_ms"])
        out[label]["client_cpu_ms"] = round((time.process_time() - client) * 1000 / len(ms), 2)
        out[label]["postgres_cpu_ms"] = round(cpu_since(postgres) * 1000 / len(ms), 2)
        print(
            f"  {'':<34} CPU per view: client {out[label]['client_cpu_ms']} ms, PostgreSQL "
            f"{out[label]['postgres_cpu_ms']} ms",
            flush=True,
        )
    return out


def backend_cpu() -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend of the bench database."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB_NAME,)
        ).fetchall()
    return cpu_seconds([int(r[0]) for r in rows])


def cpu_since(before: dict[int, float]) -> float:
    """Backend CPU seconds since `before` (a backend started since counts whole)."""
    return sum(used - before.get(pid, 0.0) for pid, used in backend_cpu().items())


def http_views(app: Any, sample: list[tuple[str, str]], inprocess_p50: float) -> dict[str, Any]:
    client = app.test_client()
    token = client.post("/api/v1/tokens", auth=("hq_liu", "hq-pass")).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    ms = []
    for customer_id, _ in sample:
        started = time.perf_counter()
        response = client.get(f"/api/v1/customers/{customer_id}/360", headers=headers)
        ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    figures = summary("360 over HTTP (Flask test client)", ms)
    figures["overhead_p50_ms"] = round(figures["p50_ms"] - inprocess_p50, 3)
    print(f"  HTTP overhead at p50: {figures['overhead_p50_ms']:.2f} ms", flush=True)
    return figures


def search_shapes(session: Session, n: int) -> dict[str, list[tuple[Actor, CustomerQuery]]]:
    rng = random.Random(7)
    rows = session.execute(
        text("SELECT name, uscc, rm_id FROM customer TABLESAMPLE SYSTEM (1) LIMIT :n"), {"n": n}
    ).all()
    rms = [r[2] for r in rows]
    rm = lambda r: Actor(r, frozenset({"relationship_manager"}))  # noqa: E731
    return {
        "name_partial": [(HEAD_OFFICE, CustomerQuery(name=r[0][2:6])) for r in rows],
        "uscc": [(HEAD_OFFICE, CustomerQuery(uscc=r[1])) for r in rows],
        "rm_status": [(HEAD_OFFICE, CustomerQuery(rm_id=r, status=("active",))) for r in rms],
        "industry_prefix": [
            (HEAD_OFFICE, CustomerQuery(industry=rng.choice(("I65", "C36", "K70", "F52"))))
            for _ in rows
        ],
        "region_prefix": [
            (HEAD_OFFICE, CustomerQuery(region=rng.choice(("3101", "4403", "1101", "33"))))
            for _ in rows
        ],
        "custom_field": [
            (
                HEAD_OFFICE,
                CustomerQuery(custom={"custom.aml_risk_level": rng.choice(("high", "medium"))}),
            )
            for _ in rows
        ],
        "paged_sorted": [
            (
                HEAD_OFFICE,
                CustomerQuery(
                    status=("active",), sort="created", order="desc", offset=50 * rng.randrange(20)
                ),
            )
            for _ in rows
        ],
        "rm_book_as_rm": [(rm(r), CustomerQuery(status=("active", "dormant"))) for r in rms],
    }


def searches(sessions: sessionmaker[Session], n: int, base_ids: list[str]) -> dict[str, Any]:
    print("search (in-process through app.customers.search.find, limit 50, with total):")
    with sessions() as session:
        shapes = search_shapes(session, n)
    base = summary("baseline: primary-key SELECT", baseline(sessions, base_ids))
    out: dict[str, Any] = {"baseline": base}
    every: list[float] = []
    estimated = 0
    for label, queries in shapes.items():
        ms = []
        for actor, query in queries:
            with sessions() as session:
                started = time.perf_counter()
                found = find(session, actor, query)
                ms.append((time.perf_counter() - started) * 1000)
                estimated += not found.total_exact
        out[label] = summary(label, ms, base["p50_ms"])
        every += ms
    out["mix"] = summary("mix (all shapes)", every, base["p50_ms"])
    out["estimated_totals"] = estimated
    slowest = max(shapes, key=lambda k: out[k]["p99_ms"])
    out["slowest"] = slowest
    explain(sessions, *shapes[slowest][0], slowest)
    return out


def explain(
    sessions: sessionmaker[Session], actor: Actor, query: CustomerQuery, label: str
) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement one search of the shape sends."""
    seen: list[tuple[str, Any]] = []
    with sessions() as session:
        engine = session.get_bind()

        def catch(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
            seen.append((statement, params))

        event.listen(engine, "before_cursor_execute", catch)
        try:
            find(session, actor, query)
        finally:
            event.remove(engine, "before_cursor_execute", catch)
        print(f"EXPLAIN of the slowest shape ({label}: {query}):", flush=True)
        for statement, params in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            plan = session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, params
            )
            print("\n".join("    " + row[0] for row in plan), flush=True)


def sync_records(count: int) -> list[dict[str, Any]]:
    stamp = int(time.time())
    bank = SyntheticBank(seed=stamp)
    rms = ("rm_li", "rm_wu", "rm_ma")
    return [
        {
            "external_id": f"BENCH{stamp}-{i:07d}",
            "uscc": c.uscc,
            "name": c.name,
            "legal_representative": c.legal_representative.name,
            "registered_capital": str((c.registered_capital * 10_000).quantize(Decimal("0.01"))),
            "industry_code": c.industry_code,
            "establishment_date": c.established_on.isoformat(),
            "size_class": c.size_class,
            "status": c.status,
            "risk_rating": c.risk_rating,
            "rm_id": rms[i % 3],
            "custom": {"aml_risk_level": c.aml_level},
        }
        for i, c in enumerate(bank.companies(count))
    ]


@contextmanager
def baseline_rows(sessions: sessionmaker[Session]) -> Iterator[None]:
    """The baseline's rows (ids starting "BASE-") are removed before sync creates the same
    USCCs."""
    try:
        yield
    finally:
        with sessions() as session:
            session.execute(text("DELETE FROM customer WHERE id >= 'BASE-' AND id < 'BASE.'"))
            session.commit()


_CLIENT_SESSIONS: sessionmaker[Session] | None = None
_COPY_COLUMNS = ("id", "uscc", "name", "industry_code", "region_code", "status", "rm_id",
                 "custom", "version", "created_at", "updated_at", "capital_currency")  # fmt: skip


def _client_start() -> None:
    """In each upsert client process: its own engine and sessions, as a gunicorn worker has."""
    global _CLIENT_SESSIONS
    import app.models  # noqa: F401 - every mapped class, as the app has them

    _CLIENT_SESSIONS = make_sessionmaker(make_engine(DATABASE_URL))


def _plain_copy(sessions: sessionmaker[Session], batch: list[dict[str, Any]]) -> Counter[str]:
    now = datetime.now(UTC)
    statement = f"COPY customer ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
    with sessions() as session:
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for r in batch:
                copy.write_row(
                    ("BASE-" + r["external_id"], r["uscc"], r["name"], r["industry_code"],
                     r["uscc"][2:8], r["status"], r["rm_id"], json.dumps(r["custom"]), 1,
                     now, now, "CNY")
                )  # fmt: skip
        session.commit()
    return Counter({"copied": len(batch)})


def _run_sync(sessions: sessionmaker[Session], batch: list[dict[str, Any]]) -> Counter[str]:
    with sessions() as session:
        results = sync(session, CORE, "BENCH", batch)
        session.commit()
    return Counter(r.status for r in results)


def _client_run(kind: str, batches: list[list[dict[str, Any]]]) -> tuple[Counter[str], float]:
    """The client's share of a phase: record statuses, and the CPU seconds it used."""
    assert _CLIENT_SESSIONS is not None
    run = _plain_copy if kind == "copy" else _run_sync
    statuses: Counter[str] = Counter()
    started = time.process_time()
    for batch in batches:
        statuses += run(_CLIENT_SESSIONS, batch)
    return statuses, time.process_time() - started


def upserts(sessions: sessionmaker[Session], count: int, clients: int) -> dict[str, Any]:
    print(
        f"bulk upsert through the sync use case ({count:,} records, batches of 1,000, "
        f"{clients} client process{'es' if clients > 1 else ''}):"
    )
    records = sync_records(count)
    batches = [records[i : i + 1000] for i in range(0, len(records), 1000)]
    figures: dict[str, Any] = {"clients": clients}
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(clients, mp_context=spawn, initializer=_client_start) as pool:
        # Start every client (imports, engine) before any clock runs.
        list(pool.map(_client_run, ["sync"] * clients, [[]] * clients))

        def measured(label: str, kind: str, work: list[list[dict[str, Any]]]) -> dict[str, Any]:
            return phase(
                label,
                work,
                clients,
                lambda shards: pool.map(_client_run, [kind] * len(shards), shards),
            )

        with baseline_rows(sessions):
            figures["baseline_copy"] = measured("baseline: COPY into customer", "copy", batches)
        figures["create"] = measured("sync: new records", "sync", batches)
        figures["replay"] = measured("sync: replay (unchanged)", "sync", batches)
        changed = [
            [{**r, "name": r["name"] + "（新）", "risk_rating": "BBB"} for r in b] for b in batches
        ]
        figures["update"] = measured("sync: update (2 fields)", "sync", changed)
    base = figures["baseline_copy"]["per_s"]
    for name in ("create", "replay", "update"):
        figures[name]["vs_baseline"] = round(figures[name]["per_s"] / base, 3)
        print(f"  {name + ' / baseline':<34} {figures[name]['vs_baseline']:8.2f}")
    with sessions() as session:
        session.execute(
            text(
                "CREATE TEMP TABLE bench_ids ON COMMIT DROP AS SELECT customer_id AS id "
                "FROM customer_source WHERE source_system = 'BENCH'"
            )
        )
        for table in ("customer_change", "customer_rm_assignment", "customer_source"):
            session.execute(
                text(f"DELETE FROM {table} WHERE customer_id IN (SELECT id FROM bench_ids)")  # noqa: S608
            )
        session.execute(text("DELETE FROM customer WHERE id IN (SELECT id FROM bench_ids)"))
        session.commit()
    return figures


def phase(
    label: str,
    batches: list[list[dict[str, Any]]],
    clients: int,
    run: Callable[[list[list[list[dict[str, Any]]]]], Iterable[tuple[Counter[str], float]]],
) -> dict[str, Any]:
    """Batches dealt round-robin to the clients, which run at once; records/s over the wall
    time of the whole phase, and CPU per record in the clients and in PostgreSQL."""
    statuses: Counter[str] = Counter()
    client_cpu = 0.0
    postgres = backend_cpu()
    started = time.perf_counter()
    for result, used in run([batches[i::clients] for i in range(clients)]):
        statuses += result
        client_cpu += used
    elapsed = time.perf_counter() - started
    count = sum(len(b) for b in batches)
    client_us = round(client_cpu * 1e6 / count)
    postgres_us = round(cpu_since(postgres) * 1e6 / count)
    print(
        f"  {label:<34} {count:>7} records {elapsed:7.2f} s {count / elapsed:9.0f} records/s"
        f"  CPU/record: client {client_us} µs, PostgreSQL {postgres_us} µs  {dict(statuses)}",
        flush=True,
    )
    return {
        "per_s": round(count / elapsed),
        "seconds": round(elapsed, 2),
        "client_cpu_us": client_us,
        "postgres_cpu_us": postgres_us,
        **statuses,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--http-samples", type=int, default=300)
    parser.add_argument("--searches", type=int, default=100, help="queries per search shape")
    parser.add_argument("--sync-records", type=int, default=20_000)
    parser.add_argument(
        "--sync-clients",
        default="1,2",
        help="upsert client processes, one run per number (comma list); the target is judged "
        "on the largest, as the service runs one worker process per core",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--parts", default="view,search,upsert", help="which measurements to run (comma list)"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    figures: dict[str, Any] = {"build": build(args.customers, args.reuse)}
    from api import create_app
    from app.config import Settings

    app = create_app(
        Settings(
            database_url=DATABASE_URL,
            job_mode="eager",
            deploy_on_startup=False,
            log_level="WARNING",
            environment="development",
        )
    )
    sessions: sessionmaker[Session] = app.extensions["corpflow"].sessions
    with sessions() as session:
        sample = [
            (str(r[0]), str(r[1]))
            for r in session.execute(
                text("SELECT id, rm_id FROM customer TABLESAMPLE SYSTEM (1) LIMIT :n"),
                {"n": args.samples},
            )
        ]
    random.Random(1).shuffle(sample)
    checks: dict[str, bool] = {}
    if "view" in parts:
        figures["view"] = views(sessions, sample)
        figures["view"]["http"] = http_views(
            app, sample[: args.http_samples], figures["view"]["head_office"]["p50_ms"]
        )
        for who in ("rm", "head_office"):
            met = figures["view"][who]["p99_ms"] <= TARGETS["view_p99_ms"]
            checks[f"360 p99 ({who}) <= 20 ms"] = met
    if "search" in parts:
        figures["search"] = searches(sessions, args.searches, [c for c, _ in sample[:500]])
        met = figures["search"]["mix"]["p99_ms"] <= TARGETS["search_p99_ms"]
        checks["search p99 (mix) <= 50 ms"] = met
    if "upsert" in parts:
        counts = sorted(int(n) for n in args.sync_clients.split(","))
        figures["upsert"] = {
            f"clients_{n}": upserts(sessions, args.sync_records, n) for n in counts
        }
        judged = figures["upsert"][f"clients_{counts[-1]}"]
        for phase_name in ("create", "replay", "update"):
            met = judged[phase_name]["per_s"] >= TARGETS["upsert_per_s"]
            checks[f"upsert {phase_name} >= 5,000/s ({counts[-1]} clients)"] = met
    print("targets:")
    for name, met in checks.items():
        print(f"  {name:<34} {'met' if met else 'NOT met'}")
    figures["targets_met"] = checks
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    app.extensions["corpflow"].sessions.kw["bind"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
