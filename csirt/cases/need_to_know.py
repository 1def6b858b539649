"""Who may see a case: its members (and whoever may see every case), and the loaders that
check it. Every case view loads its case through :func:`get_case_for`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.models import Case, CaseMember
from csirt.cases.roles import CaseRole


def conflicted(session: Session, user: User, case_id: int) -> bool:
    """Whether the case or a report linked to it names the user or their department.

    The decision is the intake's :func:`csirt.intake.conflicts.is_conflicted`, the one rule for
    every role (issue 13, 2): a lead or admin who may see every case still cannot open this one.
    """
    from csirt.intake.conflicts import is_conflicted
    from csirt.intake.models import Submission

    involved = list(session.scalar(select(Case.involved).where(Case.id == case_id)) or [])
    for entries in session.scalars(
        select(Submission.involved).where(Submission.case_id == case_id)
    ):
        involved += list(entries or [])
    return is_conflicted(user, involved)


def can_see(session: Session, user: User, case_id: int) -> bool:
    """Whether ``user`` may see the case (member, or CASE_VIEW_ALL), never when named in it."""
    if conflicted(session, user, case_id):
        return False
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


def visible_clause(user: User) -> Any:
    """A WHERE clause for the cases this user may see (None: every case)."""
    if user.can(Permission.CASE_VIEW_ALL):
        return None
    return exists().where(CaseMember.case_id == Case.id, CaseMember.user_id == user.id)


def find_case_by_reference(session: Session, user: User, reference: str) -> Case:
    """A visible case by its reference (or numeric id)."""
    reference = reference.strip()
    # ASCII digits only ("²".isdigit() is true), and within a 32-bit id column.
    if reference.isascii() and reference.isdigit():
        if len(reference) > 9:
            raise CaseNotFoundError(reference)
        return get_case_for(session, user, int(reference))
    case_id = session.scalar(select(Case.id).where(Case.reference == reference.upper()))
    if case_id is None:
        raise CaseNotFoundError(reference)
    return get_case_for(session, user, case_id)


def members(session: Session, case: Case) -> list[tuple[User, str]]:
    """(user, role) of every member."""
    rows = session.execute(
        select(User, CaseMember.role)
        .join(CaseMember, CaseMember.user_id == User.id)
        .where(CaseMember.case_id == case.id)
        .order_by(CaseMember.id)
    ).all()
    return [(user, role) for user, role in rows]


def member_counts(session: Session, case: Case) -> tuple[int, int]:
    """(distinct members, leads) of a case."""
    members = session.scalar(
        select(func.count(func.distinct(CaseMember.user_id))).where(CaseMember.case_id == case.id)
    )
    leads = session.scalar(
        select(func.count())
        .select_from(CaseMember)
        .where(CaseMember.case_id == case.id, CaseMember.role == CaseRole.LEAD)
    )
    return int(members or 0), int(leads or 0)


def member_ids(session: Session, case: Case) -> set[int]:
    """Ids of the case's members."""
    return set(session.scalars(select(CaseMember.user_id).where(CaseMember.case_id == case.id)))
