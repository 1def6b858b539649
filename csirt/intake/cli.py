"""``csirt intake purge``: warn about and delete expired submissions for real."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from csirt.db import get_db
from csirt.intake import service, web


@click.group("intake")
def intake_group() -> None:
    """The anonymous intake."""


@intake_group.command("purge")
@with_appcontext
def purge() -> None:
    """Warn officers of submissions about to expire, then delete the expired ones."""
    with get_db().session() as session:
        settings = web.settings(session, current_app._get_current_object())  # type: ignore[attr-defined]
        warned = service.warn_expiring(session, settings)
        deleted = service.purge_expired(session)
        session.commit()
    click.echo(f"warned: {len(warned)}, deleted: {deleted}")
    if get_db().engine.dialect.name == "postgresql":
        click.echo("PostgreSQL: run VACUUM (FULL) on the intake tables to overwrite freed pages.")


def register(app: Flask) -> None:
    """Add the command once, whichever intake module is loaded first."""
    if "intake" not in app.cli.commands:
        app.cli.add_command(intake_group)
