"""The sections of a case page, each owned by one package and shown as one tab.

A section appears only if its endpoint is registered, so each package adds its own page by
registering the agreed endpoint name; nothing else needs to change.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

CASE_SECTIONS = (
    ("cases.detail", _l("Overview")),
    ("cases.tasks", _l("Tasks")),
    ("cases.timeline", _l("Timeline")),
    ("observables.case_observables", _l("Observables")),
    ("records.datasets", _l("Data sets")),
    ("records.evidence", _l("Evidence")),
    ("records.notes", _l("Notes")),
    ("records.liaison", _l("Liaison")),
    ("records.inquiries", _l("Inquiries")),
    ("triage.panel", _l("Triage")),
    ("teams.case_team", _l("Team")),
    ("documents.case_documents", _l("Documents")),
    ("cases.case_activity", _l("Activity")),
)


def case_sections(case_id: int) -> list[tuple[str, str, str]]:
    """(endpoint, label, url) of every section that is registered on this app."""
    return [
        (endpoint, str(label), url_for(endpoint, case_id=case_id))
        for endpoint, label in CASE_SECTIONS
        if endpoint in current_app.view_functions
    ]
