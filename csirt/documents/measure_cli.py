"""``csirt measures remind`` (daily: owners of measures due soon or overdue) and ``csirt measures
report`` (the half-yearly progress report of a case's measures, .docx)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.cases.models import Case
from csirt.catalog.current import current_catalog
from csirt.db import get_db
from csirt.documents.errors import DocumentValidationError
from csirt.documents.measure_reminders import send_measure_reminders
from csirt.documents.measure_report import progress_report
from csirt.documents.service import Environment
from csirt.jobs import job_command
from csirt.notify.service import channel_for


@click.group("measures")
def measures_group() -> None:
    """Recurrence-prevention measures: reminders and the half-yearly report."""


@job_command(measures_group, "remind")
def remind(session: Session) -> str:
    """Remind the owners of measures due within 14 days or overdue (once each; run daily)."""
    today = datetime.now(current_app.config["CSIRT"].tz).date()
    sent = send_measure_reminders(session, channel_for(current_app), today)
    return f"measure reminders: {sent.soon} due soon, {sent.overdue} overdue"


@measures_group.command("report")
@click.option("--case", "case_id", type=int, required=True, help="the case's id")
@click.option("--half", required=True, help="fiscal half-year, e.g. 2026H1 (April-September)")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def report(case_id: int, half: str, lang: str, out: Path) -> None:
    """Write the half-yearly progress report of the case's measures (.docx, a draft)."""
    config = current_app.config["CSIRT"]
    env = Environment(
        config.org_name, config.timezone, config.instance_path, current_catalog().vocabulary
    )
    with get_db().session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise click.ClickException(f"no case {case_id}")
        try:
            data = progress_report(
                session,
                case,
                env,
                half,
                datetime.now(config.tz).date(),
                actor=audit.Actor(None, "cli"),
                lang=lang,
            )
        except DocumentValidationError as error:
            raise click.ClickException("; ".join(error.errors.values())) from None
        session.commit()
    out.write_bytes(data)
    click.echo(f"written {out} ({len(data)} bytes)")
