"""Retention of unlinked reports: warn before expiry, then purge everything sealed under them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.db import utcnow
from csirt.intake.base import IntakeSettings, hour, record_event
from csirt.intake.models import (
    IdentityKeyWrap,
    IdentityRequest,
    StaffKeySession,
    Submission,
    SubmissionAttachment,
    SubmissionKeyWrap,
    SubmissionMessage,
)

# --- retention ---------------------------------------------------------------------------------


def warn_expiring(session: Session, settings: IntakeSettings) -> list[int]:
    """Mark (and audit) unlinked submissions that expire within the warning window."""
    soon = utcnow() + timedelta(days=settings.warn_days)
    rows = session.scalars(
        select(Submission).where(
            Submission.case_id.is_(None),
            Submission.expires_at <= soon,
            Submission.expiry_warned_at.is_(None),
        )
    ).all()
    for row in rows:
        row.expiry_warned_at = hour(utcnow())
        record_event(
            session,
            AuditAction.INTAKE_EXPIRY_WARNING,
            actor=audit.SYSTEM,
            object_type="submission",
            object_id=row.id,
            details={"expires_at": row.expires_at.isoformat()},
        )
    return [row.id for row in rows]


def purge_expired(session: Session) -> int:
    """Delete unlinked submissions past their expiry, with everything sealed under them."""
    now = utcnow()
    ids = session.scalars(
        select(Submission.id).where(Submission.case_id.is_(None), Submission.expires_at < now)
    ).all()
    for submission_id in ids:
        for model in (
            IdentityKeyWrap,
            SubmissionAttachment,
            SubmissionMessage,
            SubmissionKeyWrap,
            IdentityRequest,
        ):
            session.execute(delete(model).where(model.submission_id == submission_id))
        session.execute(delete(Submission).where(Submission.id == submission_id))
        record_event(
            session,
            AuditAction.INTAKE_PURGE,
            actor=audit.SYSTEM,
            object_type="submission",
            object_id=submission_id,
        )
    cutoff = now - timedelta(hours=24)
    session.execute(delete(StaffKeySession).where(StaffKeySession.created_at < cutoff))
    return len(ids)
