"""What every change of a document, a prevention measure or the documents' settings leaves
behind: one audit row, by the staff member who made it. (Changes recorded against the case
itself go through `csirt.cases.trail`.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.documents.models import Document, PreventionMeasure


def record(
    session: Session,
    user: User,
    subject: Document | PreventionMeasure | str,
    action: AuditAction,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit an action on a document or a measure (by its case, if it has one), or on the
    documents setting named ``subject`` (the organisation details, the template)."""
    where: tuple[str, int | str, int | None]
    if isinstance(subject, Document):
        where = "document", subject.id, subject.case_id
    elif isinstance(subject, PreventionMeasure):
        where = "measure", subject.id, subject.case_id
    else:
        where = "settings", subject, None
    object_type, object_id, case_id = where
    audit.record_by(session, action, user, object_type, object_id, case_id=case_id, details=details)
