"""`flask calendar-load FILE --year YYYY`: load an official calendar year from a CSV file."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from app.context import Services
from app.db import transaction
from app.errors import InvalidInputError
from app.identity.actor import SYSTEM
from app.workdays.store import load_year_file, parse_calendar_file


def _failure(exc: InvalidInputError) -> click.ClickException:
    lines = [exc.message]
    for field, messages in exc.errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            lines.append(f"  {field}: {message}")
    return click.ClickException("\n".join(lines))


def register(app: Flask) -> None:
    @app.cli.command("calendar-load")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--year", type=int, required=True, help="The year the file's rows belong to.")
    @click.option("--source", default=None, help="The notice, e.g. 国办发明电〔2026〕X号.")
    def calendar_load_command(file: Path, year: int, source: str | None) -> None:
        """Load a year's days off and adjusted working weekends (CSV: date,kind[,note])."""
        services: Services = current_app.extensions["corpflow"]
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"cannot read {file}: {exc}") from None
        try:
            off, work = parse_calendar_file(text).get(year, ([], []))
            with transaction(services.sessions) as session:
                load_year_file(session, SYSTEM, year, text, source or f"file {file.name}")
        except InvalidInputError as exc:
            raise _failure(exc) from None
        click.echo(
            f"{year} is official: {len(off)} days off, {len(work)} adjusted working days "
            f"from {file.name}. Running API processes and workers count with it after their "
            "next calendar refresh (restart them if unsure)."
        )
