"""``csirt intake purge`` deletes expired submissions; ``csirt intake doctor`` finds lost keys."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from csirt.db import get_db
from csirt.intake import keyring, retention, web
from csirt.intake.escrow import Escrow
from csirt.intake.models import Submission
from csirt.jobs import job_session


@click.group("intake")
def intake_group() -> None:
    """The anonymous intake."""


@intake_group.command("purge")
@with_appcontext
def purge() -> None:
    """Warn officers of submissions about to expire, then delete the expired ones."""
    with job_session("intake purge") as session:
        settings = web.settings(session, current_app._get_current_object())  # type: ignore[attr-defined]
        warned = retention.warn_expiring(session, settings)
        deleted = retention.purge_expired(session)
        session.commit()
    click.echo(f"warned: {len(warned)}, deleted: {deleted}")
    click.echo(retention.scrub_files(get_db().engine))


@intake_group.command("doctor")
@with_appcontext
def doctor() -> None:
    """List reports that no active staff member can open now (prints nothing when all can)."""
    config = current_app.config["CSIRT"]
    escrow = Escrow.from_config(config)
    with get_db().session() as session:
        status = escrow.status(session)
        problems = [
            _line(row, "no active intake officer holds its key", row.escrow_wrap is not None)
            for row in keyring.unopenable(session)
        ]
        problems += [
            _line(row, "identity: no active custodian holds its key", False)
            for row in keyring.identity_unopenable(session)
        ]
    if status in ("missing_file", "mismatch") and any(p.recoverable for p in problems):
        click.echo(f"escrow: {ESCROW_PROBLEMS[status]} ({escrow.key_file})")
    for problem in problems:
        click.echo(problem.text)
    if problems:
        sys.exit(1)


ESCROW_PROBLEMS = {
    "missing_file": "the organisation key file is missing: restore it from its own backup",
    "mismatch": "the organisation key file does not open the organisation key",
}


@dataclass(frozen=True)
class _Problem:
    text: str
    recoverable: bool


def _line(row: Submission, what: str, escrowed: bool) -> _Problem:
    received = row.received_at.astimezone(UTC).strftime("%Y-%m-%d %H:00Z")
    hint = "; sealed to the organisation key: the next officer with a key pair gets it"
    if not escrowed:
        hint = ""
    return _Problem(f"report {row.id}\treceived {received}\t{row.status}\t{what}{hint}", escrowed)


def register(app: Flask) -> None:
    """Add the command once, whichever intake module is loaded first."""
    if "intake" not in app.cli.commands:
        app.cli.add_command(intake_group)
