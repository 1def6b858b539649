"""Relations between cases, stored in both directions; a viewer sees only the cases they may see."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import trail
from csirt.cases.errors import CaseValidationError
from csirt.cases.models import Case, CaseLink
from csirt.cases.need_to_know import visible_ids
from csirt.db import read_rows


def link_cases(
    session: Session, case: Case, other: Case, actor: User | None, note: str = ""
) -> None:
    """Relate two cases (stored in both directions)."""
    if other.id == case.id:
        raise CaseValidationError({"other": "a case cannot be related to itself"})
    for a, b in ((case.id, other.id), (other.id, case.id)):
        if (
            session.scalar(
                select(CaseLink.id).where(CaseLink.case_id == a, CaseLink.other_case_id == b)
            )
            is None
        ):
            session.add(CaseLink(case_id=a, other_case_id=b, note=note[:200]))
    trail.record(session, AuditAction.CASE_LINK, case, actor, other=other.reference)
    session.flush()


def unlink_cases(session: Session, case: Case, other_id: int, actor: User | None) -> None:
    """Remove a relation in both directions."""
    for row in session.scalars(
        select(CaseLink).where(
            or_(
                and_(CaseLink.case_id == case.id, CaseLink.other_case_id == other_id),
                and_(CaseLink.case_id == other_id, CaseLink.other_case_id == case.id),
            )
        )
    ):
        session.delete(row)
    trail.record(session, AuditAction.CASE_UNLINK, case, actor, other_id=other_id)
    session.flush()


class RelatedCase(NamedTuple):
    """What a case's page shows of a related case."""

    id: int
    reference: str
    title: str


_RELATED = (
    select(Case.id, Case.reference, Case.title, CaseLink.note)
    .join(CaseLink, CaseLink.other_case_id == Case.id)
    .where(CaseLink.case_id == bindparam("case_id"))
    .order_by(Case.id)
)


def related_cases(session: Session, user: User, case: Case) -> list[tuple[RelatedCase, str]]:
    """Related cases this user may see, with the link note."""
    rows = read_rows(session, _RELATED, {"case_id": case.id}).all()
    if not rows:
        return []
    visible = visible_ids(session, user, [row.id for row in rows])
    return [
        (RelatedCase(row.id, row.reference, row.title), row.note)
        for row in rows
        if row.id in visible
    ]
