"""The case's timeline as a CSV download: the same for the console and the API (audited)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, current_app
from flask_login import current_user

from csirt.audit.actions import AuditAction
from csirt.cases import timeline_csv, trail
from csirt.cases.models import Case
from csirt.cases.timeline import list_events
from csirt.db import get_session


def export_response(case: Case) -> Response:
    """The case's timeline as a streamed CSV download (audited)."""
    session = get_session()
    trail.record(session, AuditAction.TIMELINE_EXPORT, case, current_user)
    session.commit()
    events = list_events(session, case, limit=None).items
    body = timeline_csv.export_text(events, current_app.config["CSIRT"].tz)
    stamp = datetime.now(current_app.config["CSIRT"].tz).strftime("%Y%m%d")
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{case.reference}-timeline-{stamp}.csv"'
        },
    )
