"""``csirt reminders send`` (cron, every minute) and ``csirt reminders digest`` (daily)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from csirt.jobs import job_session
from csirt.notify import intake_events, reminders
from csirt.notify.service import channel_for


@click.group("reminders")
def reminders_group() -> None:
    """Pages, escalations, deadline reminders and the daily digest."""


@reminders_group.command("send")
@with_appcontext
def send() -> None:
    """Page unpaged P1/P2s, escalate unacknowledged pages, remind of tasks, deadlines, reports."""
    from csirt.teams.paging import escalate_due, page_unpaged_p1

    config = current_app.config["CSIRT"]
    minutes = config.escalation_minutes
    channel = channel_for(current_app)
    with job_session("reminders send") as session:
        paged = page_unpaged_p1(session, channel, config.tz)
        escalated = escalate_due(session, channel, config.tz, minutes=minutes)
        sent = reminders.send_due(session, channel)
        reports = intake_events.send_report_due(session, channel)
    click.echo(
        f"paged {len(paged)}, escalated {len(escalated)}, "
        f"task reminders {sent.tasks}, deadline reminders {sent.deadlines}, "
        f"report reminders {reports}"
    )


@reminders_group.command("digest")
@with_appcontext
def digest() -> None:
    """Send today's digest to everyone with something due (once a day)."""
    channel = channel_for(current_app)
    with job_session("reminders digest") as session:
        count = reminders.send_digest(session, channel)
    click.echo(f"digests sent: {count}")
