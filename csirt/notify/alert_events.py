"""Tell the leads that a machine alert arrived (in-app, and a content-free mail if they want).

The receiver is connected to ``csirt.alerts.signals.raised`` in ``csirt/wiring.py``. A message
names the alert's number and severity and links to it: never its title, text or observables.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.alerts.models import Alert
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.notify import service
from csirt.notify.messages import Kind, alert_text


def alert_path(alert_id: int) -> str:
    return f"/console/alerts/{alert_id}"


def on_alert_raised(sender: Alert, *, session: Session, **_: Any) -> None:
    """Receiver of ``raised``: tell every active person who triages alerts (the leads)."""
    if not has_app_context() or service.MAILER_KEY not in current_app.extensions:
        return  # outside an app nothing can be delivered
    channel = service.channel_for(current_app)
    path = alert_path(sender.id)
    for user in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
        if not user.can(Permission.ALERT_TRIAGE):
            continue
        lang = user.lang or channel.settings.default_lang
        mail = alert_text(sender.id, sender.severity, channel.settings.url(path), lang)
        service.deliver(session, channel, user, Kind.ALERT_NEW, mail, link=path)
