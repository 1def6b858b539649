"""``csirt webhooks send`` (cron, every minute): queue obligations due soon, post due deliveries."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from csirt.db import get_db
from csirt.jobs import job_session
from csirt.webhooks import service


@click.group("webhooks")
def webhooks_group() -> None:
    """Outgoing webhooks."""


@webhooks_group.command("send")
@with_appcontext
def send() -> None:
    """Queue obligations due within a day, then post every delivery that is due (signed)."""
    config = current_app.config["CSIRT"]
    # One node queues the obligations at a time (their event keys are unique).
    with job_session("webhooks send") as session:
        queued = service.enqueue_due_obligations(session)
        session.info.pop(service.QUEUED_KEY, None)  # sent below, not by the after-commit thread
    # Any node may send: each delivery is claimed (leased) before it is posted.
    result = service.send_due(
        get_db().session,
        secret_key=config.secret_key,
        first_retry=timedelta(seconds=config.webhooks_first_retry_s),
    )
    click.echo(
        f"queued {queued} obligation deliveries; sent {result.sent}, "
        f"retrying {result.retrying}, failed {result.failed}"
    )
