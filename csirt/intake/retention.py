"""Retention of unlinked reports: warn before expiry, then purge everything sealed under them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.db import utcnow
from csirt.intake.base import IntakeSettings, hour, record_on_report
from csirt.intake.models import SUBMISSION_PARTS, StaffKeySession, Submission

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
        record_on_report(
            session,
            AuditAction.INTAKE_EXPIRY_WARNING,
            None,
            row.id,
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
        for model in SUBMISSION_PARTS:
            session.execute(delete(model).where(model.submission_id == submission_id))
        session.execute(delete(Submission).where(Submission.id == submission_id))
        record_on_report(session, AuditAction.INTAKE_PURGE, None, submission_id)
    cutoff = now - timedelta(hours=24)
    session.execute(delete(StaffKeySession).where(StaffKeySession.created_at < cutoff))
    return len(ids)


def scrub_files(engine: Engine) -> str:
    """After a purge (committed), leave no copy of deleted rows in the database's files.

    SQLite: ``secure_delete`` already zeroes freed pages of the main file; the WAL still holds
    the pages as they were before the delete, so it is checkpointed and truncated to zero bytes.
    PostgreSQL: dead tuples stay in the table files until VACUUM; backups keep everything until
    they expire (README, "Retention"). Returns a line for the operator.
    """
    if engine.dialect.name == "sqlite":
        # Outside any transaction (a checkpoint cannot run inside one): the raw connection.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
        finally:
            raw.close()
        if busy:
            return "SQLite: the WAL is in use; run `csirt intake purge` again when it is idle."
        return "SQLite: WAL checkpointed and truncated."
    return "PostgreSQL: run VACUUM (FULL) on the intake tables to overwrite freed pages."
