"""``csirt alerts fetch``: the shared mailbox's unseen mails become alerts (cron, every minute)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from csirt.alerts import mailbox, service
from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.db import get_db
from csirt.jobs import job_session


@click.group("alerts")
def alerts_group() -> None:
    """Machine alerts."""


@alerts_group.command("fetch")
@with_appcontext
def fetch() -> None:
    """Turn each unseen mail of the shared mailbox into an alert (IMAP over TLS)."""
    try:
        settings = mailbox.MailboxSettings.from_config(current_app.config["CSIRT"])
    except mailbox.MailboxError as exc:
        raise click.ClickException(str(exc)) from None
    database = get_db()

    def keep(data: service.AlertInput) -> bool:
        # One transaction per mail: committed before the mail is marked seen.
        with database.session() as session:
            return service.raise_alert(session, data, None).created

    # The job's lock (PostgreSQL) is held by this outer transaction for the whole run.
    with job_session("alerts fetch"):
        try:
            result = mailbox.fetch(settings, keep)
        except mailbox.MailboxError as exc:
            raise click.ClickException(str(exc)) from None
        except Exception as exc:  # a database error would quote the mail: its kind only
            raise click.ClickException(f"alerts fetch failed: {type(exc).__name__}") from None
    if result.mails:  # a run that found nothing leaves no audit row (cron runs every minute)
        counts = {"mails": result.mails, "new": result.new, "repeats": result.repeats}
        with database.session() as session:
            audit.record(
                session, AuditAction.ALERT_FETCH, actor=audit.Actor(None, "cli"), details=counts
            )
    click.echo(f"mails {result.mails}, new alerts {result.new}, repeats {result.repeats}")
