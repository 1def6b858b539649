"""``csirt reminders send`` (cron, every minute) and ``csirt reminders digest`` (daily)."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy.orm import Session

from csirt.jobs import job_command
from csirt.notify import intake_events, reminders
from csirt.notify.service import channel_for


@click.group("reminders")
def reminders_group() -> None:
    """Pages, escalations, deadline reminders and the daily digest."""


@job_command(reminders_group, "send")
def send(session: Session) -> str:
    """Page unpaged P1/P2s, escalate unacknowledged pages, remind of tasks, deadlines, reports."""
    from csirt.teams.paging import escalate_due, page_unpaged_p1

    config = current_app.config["CSIRT"]
    channel = channel_for(current_app)
    paged = page_unpaged_p1(session, channel, config.tz)
    escalated = escalate_due(session, channel, config.tz, minutes=config.escalation_minutes)
    sent = reminders.send_due(session, channel)
    reports = intake_events.send_report_due(session, channel)
    return (
        f"paged {len(paged)}, escalated {len(escalated)}, "
        f"task reminders {sent.tasks}, deadline reminders {sent.deadlines}, "
        f"report reminders {reports}"
    )


@job_command(reminders_group, "digest")
def digest(session: Session) -> str:
    """Send today's digest to everyone with something due (once a day)."""
    return f"digests sent: {reminders.send_digest(session, channel_for(current_app))}"
