"""Recurrence-prevention measures: of a case or organisation-wide, validated, saved (audited),
and adopted from the committee's recommendations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import trail as case_trail
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.models import Case
from csirt.db import utcnow
from csirt.documents import snapshot, trail
from csirt.documents.access import get_case_for_documents, reachable_clause
from csirt.documents.errors import DocumentNotFoundError, DocumentValidationError
from csirt.documents.models import MeasureStatus, PreventionMeasure


def measures_for(session: Session, user: User) -> list[PreventionMeasure]:
    """Organisation-wide measures and those of the cases the user may reach (one query)."""
    reachable = select(Case.id).where(reachable_clause(user))
    condition = or_(PreventionMeasure.case_id.is_(None), PreventionMeasure.case_id.in_(reachable))
    return list(
        session.scalars(
            select(PreventionMeasure)
            .where(condition)
            .order_by(PreventionMeasure.case_id.is_(None).desc(), PreventionMeasure.id)
        )
    )


def measure_cases(session: Session, measures: list[PreventionMeasure]) -> dict[int, Case]:
    """The cases of these measures, by id (one query)."""
    ids = {m.case_id for m in measures if m.case_id is not None}
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(sorted(ids))))}


def get_measure_for(session: Session, user: User, measure_id: int) -> PreventionMeasure:
    """A measure the user may see, or DocumentNotFoundError."""
    measure = session.get(PreventionMeasure, measure_id)
    if measure is None:
        raise DocumentNotFoundError(measure_id)
    if measure.case_id is not None:
        try:
            get_case_for_documents(session, user, measure.case_id)
        except CaseNotFoundError:
            raise DocumentNotFoundError(measure_id) from None
    return measure


@dataclass(frozen=True)
class MeasureInput:
    """Validated fields of a measure."""

    title: str
    owner: str
    due: date | None
    status: str
    evidence: str


def validate_measure(values: Mapping[str, Any]) -> MeasureInput:
    """Check a measure's fields; DocumentValidationError names each bad one."""
    errors = {}
    title = str(values.get("title") or "").strip()
    if not title:
        errors["title"] = "must not be empty"
    elif len(title) > 300:
        errors["title"] = "must be at most 300 characters"
    owner = str(values.get("owner") or "").strip()
    if len(owner) > 200:
        errors["owner"] = "must be at most 200 characters"
    status = str(values.get("status") or MeasureStatus.PLANNED.value)
    if status not in {s.value for s in MeasureStatus}:
        errors["status"] = f"must be one of {', '.join(s.value for s in MeasureStatus)}"
    due = values.get("due")
    if isinstance(due, str):
        try:
            due = date.fromisoformat(due) if due else None
        except ValueError:
            errors["due"] = "must be a date (YYYY-MM-DD)"
            due = None
    if due is not None and not isinstance(due, date):
        errors["due"] = "must be a date (YYYY-MM-DD)"
        due = None
    if errors:
        raise DocumentValidationError(errors)
    return MeasureInput(title, owner, due, status, str(values.get("evidence") or "").strip())


def save_measure(
    session: Session,
    user: User,
    values: MeasureInput,
    *,
    case: Case | None = None,
    measure: PreventionMeasure | None = None,
) -> PreventionMeasure:
    """Create a measure (of a case, or organisation-wide) or update one; audited."""
    if measure is None:
        measure = PreventionMeasure(case_id=case.id if case else None, created_by_id=user.id)
        session.add(measure)
    measure.title = values.title
    measure.owner = values.owner
    measure.due = values.due
    measure.status = values.status
    measure.evidence = values.evidence
    measure.updated_at = utcnow()
    session.flush()
    trail.record(session, user, measure, AuditAction.MEASURE_SAVE, {"status": measure.status})
    return measure


def adopt_recommendations(session: Session, user: User, case: Case) -> list[PreventionMeasure]:
    """Turn the committee's recommendations of the case into planned measures (once each)."""
    context = snapshot.get_context(session, case.id)
    taken = set(
        session.scalars(
            select(PreventionMeasure.recommendation_number).where(
                PreventionMeasure.case_id == case.id,
                PreventionMeasure.recommendation_number.is_not(None),
            )
        )
    )
    created = []
    for i, rec in enumerate(context.recommendations or [], start=1):
        number = int(rec.get("number", i))
        if number in taken:
            continue
        title = str(rec.get("title") or rec.get("text") or "").strip()[:300]
        if not title:
            continue
        measure = PreventionMeasure(
            case_id=case.id,
            title=title,
            owner=str(rec.get("owner", ""))[:200],
            status=MeasureStatus.PLANNED.value,
            evidence="",
            recommendation_number=number,
            created_by_id=user.id,
        )
        session.add(measure)
        created.append(measure)
    session.flush()
    if created:
        numbers = [m.recommendation_number for m in created]
        case_trail.record(
            session, AuditAction.MEASURE_ADOPT_RECOMMENDATIONS, case, user, numbers=numbers
        )
    return created
