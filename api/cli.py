"""`flask deploy`, `flask seed-demo`, `flask worker` and `flask init-db`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from app.context import Services
from app.customers import seeding
from app.db import Base, transaction
from app.deployments.deploy import deploy_directories
from app.errors import ConflictError, InvalidInputError
from app.identity.actor import SYSTEM
from app.identity.users import seed_demo_staff
from app.org.demo import DEMO_PLACEMENTS, DEMO_UNITS
from app.workdays.store import load_shipped_years, refresh_calendar


def deploy_models(services: Services) -> None:
    settings = services.settings
    try:
        with transaction(services.sessions) as session:
            result = deploy_directories(
                session, SYSTEM, settings.model_dirs, max_bytes=settings.max_model_bytes
            )
    except IntegrityError:
        # Another process (gunicorn worker) stored the same new version first: read it back.
        with transaction(services.sessions) as session:
            result = deploy_directories(
                session, SYSTEM, settings.model_dirs, max_bytes=settings.max_model_bytes
            )
    for file in result.files:
        for row, created in file.definitions:
            state = "deployed" if created else "unchanged"
            click.echo(f"{state:10} {row.key} v{row.version} ({file.filename})", err=True)
        for warning in file.warnings:
            click.echo(f"warning    {warning.message}", err=True)


def _progress(state: seeding.Progress) -> None:
    click.echo(
        f"  {state.customers:>10,}/{state.target:,} customers  {state.rows:>12,} rows  "
        f"{state.rows_per_s:>9,.0f} rows/s  elapsed {state.elapsed_s:7.1f} s  "
        f"ETA {state.eta_s:7.1f} s",
        err=True,
    )


def seed_customers(services: Services, count: int, seed_value: int, chunk: int) -> None:
    """`seed-demo --customers N`: one commit per chunk (no transaction open for minutes)."""
    click.echo(f"Seeding {count:,} synthetic customers (seed {seed_value}):", err=True)
    with services.sessions() as session:

        def committed(state: seeding.Progress) -> None:
            session.commit()
            _progress(state)

        try:
            state = seeding.seed(
                session, count, seed_value=seed_value, chunk=chunk, after_chunk=committed
            )
        except (ConflictError, InvalidInputError) as exc:
            raise click.ClickException(str(exc)) from None
        except BaseException:
            session.rollback()
            click.echo(
                "Seeding stopped: the chunks committed so far stay; seed again into a new "
                "database.",
                err=True,
            )
            raise
    click.echo(
        f"Seeded {state.customers:,} customers and {state.rows - state.customers:,} related "
        f"rows in {state.elapsed_s:.1f} s:",
        err=True,
    )
    for name, rows in sorted(state.tables.items()):
        click.echo(f"  {name:28} {rows:>12,}", err=True)


def register(app: Flask) -> None:
    @app.cli.command("deploy")
    def deploy_command() -> None:
        """Deploy every model in bpmn/ and dmn/ (new versions only where content changed)."""
        deploy_models(current_app.extensions["corpflow"])

    @app.cli.command("seed-demo")
    @click.option(
        "--customers",
        type=click.IntRange(0, seeding.MAX_CUSTOMERS),
        default=0,
        help="Also write this many synthetic customers with everything around them "
        "(about 11 related rows each) into an empty store.",
    )
    @click.option("--seed", "seed_value", type=int, default=20261129, help="Random seed.")
    @click.option("--chunk", type=click.IntRange(100, 100_000), default=5000,
                  help="Customers per bulk write (and per progress line).")  # fmt: skip
    def seed_demo_command(customers: int, seed_value: int, chunk: int) -> None:
        """Create the demo staff and print their names, groups and passwords; with
        --customers N, also N realistic synthetic customers."""
        services: Services = current_app.extensions["corpflow"]
        with transaction(services.sessions) as session:
            staff = seed_demo_staff(session)
            years = load_shipped_years(session)
        with transaction(services.sessions) as session:
            refresh_calendar(session, services.settings.timezone)
        if years:
            click.echo(f"Official working-day calendar loaded for {', '.join(map(str, years))}")
        click.echo("Demo org tree (unit / kind / name):")
        for unit_id, kind, name, _parent in DEMO_UNITS:
            click.echo(f"  {unit_id:15} {kind:12} {name}")
        click.echo("Demo staff (user / password / groups / unit, role):")
        for user_id, display, groups, password in staff:
            unit, role = DEMO_PLACEMENTS.get(user_id, ("-", "-"))
            place = f"{unit}, {role}" if unit != "-" else "-"
            click.echo(f"  {user_id:15} {password:16} {', '.join(groups):30} {place:20} {display}")
        if customers:
            seed_customers(services, customers, seed_value, chunk)

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Create tables directly (tests and throwaway databases; use alembic elsewhere)."""
        services: Services = current_app.extensions["corpflow"]
        engine = services.sessions.kw["bind"]
        Base.metadata.create_all(engine)

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
    def worker_command(burst: bool) -> None:
        """Run an rq worker on the corpflow queue, with its timer dispatcher (needs Redis)."""
        from redis import Redis
        from rq import Queue, SimpleWorker

        services: Services = current_app.extensions["corpflow"]
        if not services.settings.redis_url:
            raise click.ClickException(
                "set CORPFLOW_REDIS_URL to run an rq worker; without "
                "Redis, jobs run inside the API process"
            )
        services.queue.start_background(services.settings.dispatch_interval_seconds)
        connection = Redis.from_url(services.settings.redis_url)
        # SimpleWorker runs jobs in this process: forking per job would share the database
        # connection pool with the child, and the dispatcher thread lives here anyway.
        SimpleWorker([Queue("corpflow", connection=connection)], connection=connection).work(
            burst=burst, with_scheduler=True
        )
