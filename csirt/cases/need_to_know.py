"""Who may see a case: its members (and whoever may see every case), and the loaders that
check it. Every case view loads its case through :func:`get_case_for`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, select
from sqlalchemy.orm import Session, undefer_group

from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.models import Case, CaseMember
from csirt.cases.roles import CaseRole

# The check reads, in one statement: the names the case and its reports give as involved, and
# whether the user is a member (asked only of those who may not see every case); with the case
# itself for get_case_for. Built once per shape, the values bound at execution.
_CHECKS: dict[tuple[bool, bool, bool], Select[Any]] = {}


def _check_statement(load_case: bool, ask_member: bool, many: bool) -> Select[Any]:
    key = (load_case, ask_member, many)
    query = _CHECKS.get(key)
    if query is None:
        from csirt.intake.models import Submission

        columns: list[Any] = [Case] if load_case else []
        # With the case, its number of events and their version (deferred columns): the
        # timeline page reads them (timeline.events_state), one statement less.
        loaded = [undefer_group("events")] if load_case else []
        columns += [Case.id, Case.involved, Submission.involved]
        if ask_member:
            columns.append(
                exists().where(
                    CaseMember.case_id == Case.id, CaseMember.user_id == bindparam("user_id")
                )
            )
        wanted = (
            Case.id.in_(bindparam("ids", expanding=True)) if many else Case.id == bindparam("id")
        )
        query = _CHECKS[key] = (
            select(*columns)
            .outerjoin(Submission, Submission.case_id == Case.id)
            .where(wanted)
            .options(*loaded)
        )
    return query


def _visible(
    session: Session, user: User, case_ids: Iterable[int], load_case: bool = False
) -> tuple[set[int], dict[int, Case]]:
    """The ids among ``case_ids`` that ``user`` may see, and (``load_case``) the cases found."""
    from csirt.intake.conflicts import is_conflicted

    ids = list(case_ids)
    see_all = user.can(Permission.CASE_VIEW_ALL)
    params: dict[str, Any] = {"ids": ids} if len(ids) != 1 else {"id": ids[0]}
    if not see_all:
        params["user_id"] = user.id
    query = _check_statement(load_case, not see_all, len(ids) != 1)
    first = 1 if load_case else 0
    cases: dict[int, Case] = {}
    involved: dict[int, list[str]] = {}
    member: dict[int, bool] = {}
    for row in session.execute(query, params):
        case_id, case_names, report_names = row[first], row[first + 1], row[first + 2]
        if case_id not in involved:
            if load_case:
                cases[case_id] = row[0]
            involved[case_id] = list(case_names or [])
            member[case_id] = see_all or bool(row[first + 3])
        involved[case_id] += list(report_names or [])
    # The conflict is the intake's one rule for every role (issue 13, 2): a lead or admin who
    # may see every case still cannot open one that names them or their department.
    visible = {
        case_id
        for case_id, names in involved.items()
        if member[case_id] and not is_conflicted(user, names)
    }
    return visible, cases


def can_see(session: Session, user: User, case_id: int) -> bool:
    """Whether ``user`` may see the case (member, or CASE_VIEW_ALL), never when named in it."""
    return case_id in _visible(session, user, [case_id])[0]


def visible_ids(session: Session, user: User, case_ids: Iterable[int]) -> set[int]:
    """The cases among ``case_ids`` that ``user`` may see (:func:`can_see` of each, one query)."""
    ids = list(case_ids)
    return _visible(session, user, ids)[0] if ids else set()


def get_case_for(session: Session, user: User, case_id: int) -> Case:
    """The one loader every case view uses: the case, if this user may see it."""
    visible, cases = _visible(session, user, [case_id], load_case=True)
    if case_id not in visible:
        raise CaseNotFoundError(case_id)
    return cases[case_id]


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
