"""What every change of a case leaves behind: an audit row and, for phase and priority
changes, an automatic timeline event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases.models import Case, Precision, TimelineEvent, Visibility
from csirt.db import utcnow


def record(
    session: Session, action: AuditAction, case: Case, user: User | None, **details: Any
) -> None:
    """Append the audit row of a change of ``case``."""
    audit.record_by(
        session, action, user, "case", case.id, case_id=case.id, details=details or None
    )


def record_naming(key: str) -> Callable[[Session, AuditAction, Case, User | None, Any], None]:
    """The audit of a change of one of the case's records (a ``history.Kind``'s ``audit``): the
    case's audit row naming the record as ``key=row.id``."""

    def audit_change(
        session: Session, action: AuditAction, case: Case, actor: User | None, row: Any
    ) -> None:
        record(session, action, case, actor, **{key: row.id})

    return audit_change


def auto_event(
    session: Session, case: Case, actor: User | None, category: str, title: str, text: str = ""
) -> TimelineEvent:
    """Add the automatic timeline event of a phase or priority change."""
    event_row = TimelineEvent(
        case_id=case.id,
        occurred_at=utcnow(),
        precision=Precision.MINUTE.value,
        source="csirt",
        actor=actor.username if actor else "system",
        title=title,
        description=text,
        category=category,
        visibility=Visibility.INTERNAL.value,
        automatic=True,
        created_by_id=actor.id if actor else None,
        evidence_ids=[],
    )
    session.add(event_row)
    return event_row
