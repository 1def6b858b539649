"""``csirt evidence migrate``: move evidence files from the instance folder into the database."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from csirt.db import get_db
from csirt.records.blobs import migrate_folder
from csirt.records.storage import FileEvidenceStore


@click.group("evidence")
def evidence_group() -> None:
    """Evidence storage."""


@evidence_group.command("migrate")
@with_appcontext
def evidence_migrate() -> None:
    """Copy every evidence file of <instance>/evidence into the database, verifying each SHA-256.

    Safe to run again (blobs already in the database are skipped). The files are left in place:
    remove the folder after a backup that carries the database.
    """
    folder = FileEvidenceStore(Path(current_app.config["CSIRT"].instance_path) / "evidence")
    with get_db().session() as session:
        if session.get_bind().dialect.name != "postgresql":
            click.echo("evidence: SQLite keeps evidence in the instance folder; nothing to move")
            return
        report = migrate_folder(session, folder)
    click.echo(
        f"evidence: {report.moved} moved into the database, {report.present} already there, "
        f"{len(report.missing)} missing, {len(report.corrupt)} not matching their SHA-256"
    )
    for key in report.missing:
        click.echo(f"missing: {key}", err=True)
    for key in report.corrupt:
        click.echo(f"SHA-256 mismatch (not copied): {key}", err=True)
    if report.missing or report.corrupt:
        sys.exit(1)
