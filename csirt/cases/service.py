"""Case logic: creation, need-to-know loading, the keyset-paginated list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, insert, select, update
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases.models import Case, CaseCounter, CaseMember, Phase, Priority
from csirt.db import utcnow


class CaseError(Exception):
    """Base of case errors shown to the user."""


class CaseNotFoundError(CaseError):
    """No such case, or not one this user may see (indistinguishable on purpose)."""


def next_reference(session: Session, year: int) -> str:
    """Reserve the next ``CSIRT-YYYY-NNNN`` reference (atomic: the counter row is locked)."""
    row = session.execute(
        update(CaseCounter)
        .where(CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
    ).scalar_one_or_none()
    if row is None:
        session.execute(insert(CaseCounter).values(year=year, last=1))
        row = 1
    return f"CSIRT-{year}-{row:04d}"


def create_case(
    session: Session,
    *,
    title: str,
    actor: User | None,
    summary: str = "",
    priority: Priority = Priority.P3,
    aware_at: datetime | None = None,
    insider: bool = False,
    wrongful_intent: bool = False,
    ongoing: bool = False,
    involved: Sequence[str] = (),
    lead: User | None = None,
) -> Case:
    """Create a case in ``detect``; its creator (and lead) become members."""
    now = utcnow()
    case = Case(
        reference=next_reference(session, now.year),
        title=title.strip(),
        summary=summary,
        phase=Phase.DETECT.value,
        priority=Priority(priority).value,
        aware_at=aware_at,
        insider=insider,
        wrongful_intent=wrongful_intent,
        ongoing=ongoing,
        involved=list(involved),
        created_by=actor,
    )
    session.add(case)
    session.flush()
    if actor is not None:
        session.add(CaseMember(case_id=case.id, user_id=actor.id, role="creator"))
    if lead is not None:
        session.add(CaseMember(case_id=case.id, user_id=lead.id, role="lead"))
    audit.record(
        session,
        "case.create",
        actor=audit.Actor(actor.id, actor.username) if actor else audit.SYSTEM,
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        details={"reference": case.reference},
    )
    return case


def can_see(session: Session, user: User, case_id: int) -> bool:
    if user.can(Permission.CASE_VIEW_ALL):
        return True
    return bool(
        session.scalar(
            select(exists().where(CaseMember.case_id == case_id, CaseMember.user_id == user.id))
        )
    )


def get_case_for(session: Session, user: User, case_id: int) -> Case:
    """The one loader every case view uses: the case, if this user may see it."""
    case = session.get(Case, case_id)
    if case is None or not can_see(session, user, case_id):
        raise CaseNotFoundError(case_id)
    return case


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    next_cursor: int | None


def list_cases(
    session: Session,
    user: User,
    *,
    phase: str | None = None,
    priority: str | None = None,
    limit: int = 50,
    cursor: int | None = None,
) -> CasePage:
    """Newest first, keyset-paginated on the primary key: no OFFSET, no COUNT."""
    query = select(Case).order_by(Case.id.desc()).limit(limit + 1)
    if not user.can(Permission.CASE_VIEW_ALL):
        query = query.where(
            exists().where(CaseMember.case_id == Case.id, CaseMember.user_id == user.id)
        )
    if phase:
        query = query.where(Case.phase == phase)
    if priority:
        query = query.where(Case.priority == priority)
    if cursor is not None:
        query = query.where(Case.id < cursor)
    rows = list(session.scalars(query))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return CasePage(rows[:limit], next_cursor)
