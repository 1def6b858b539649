"""Who could work on a case: every team member as the ranking sees them (skills, on call,
workload, leave), the skills each role needs, and the ranked suggestions
(:mod:`csirt.teams.suggest` ranks; people in conflict are only listed as excluded)."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.auth.models import UserRole
from csirt.cases.models import Case, CaseMember, CasePlaybook, Phase, Task, TaskAssignee
from csirt.cases.tasks import OPEN_TASK_STATUSES
from csirt.catalog import CASE_ROLES, Playbook
from csirt.db import utcnow
from csirt.intake.models import Submission
from csirt.teams.base import Clock
from csirt.teams.leave import leave_book
from csirt.teams.models import StaffProfile
from csirt.teams.oncall import on_call_now
from csirt.teams.people import list_teams, team_people
from csirt.teams.suggest import DEFAULT_ROLE_SKILLS, Candidate, Suggestions, suggest


def involved_for(session: Session, case: Case) -> list[str]:
    """The case's involved entries plus those of the intake submission(s) it came from."""
    entries = list(case.involved or [])
    for row in session.scalars(select(Submission.involved).where(Submission.case_id == case.id)):
        entries += list(row or [])
    return list(dict.fromkeys(entries))


def workload(session: Session) -> dict[int, tuple[int, int]]:
    """(open tasks assigned, open cases as member) per user id."""
    tasks: dict[int, int] = dict(
        list(
            session.execute(
                select(TaskAssignee.user_id, func.count(TaskAssignee.id))
                .join(Task, Task.id == TaskAssignee.task_id)
                .where(Task.status.in_(OPEN_TASK_STATUSES))
                .group_by(TaskAssignee.user_id)
            ).tuples()
        )
    )
    cases: dict[int, int] = dict(
        list(
            session.execute(
                select(CaseMember.user_id, func.count(func.distinct(CaseMember.case_id)))
                .join(Case, Case.id == CaseMember.case_id)
                .where(Case.phase != Phase.CLOSED.value)
                .group_by(CaseMember.user_id)
            ).tuples()
        )
    )
    return {uid: (tasks.get(uid, 0), cases.get(uid, 0)) for uid in set(tasks) | set(cases)}


def on_duty_user_ids(session: Session, tz: ZoneInfo, now: Clock = utcnow) -> set[int]:
    """Who is on call now for the CSIRT: the first-response teams' on-call person (every team's
    when no team is marked first response). A one-person team's member is not "on call"."""
    teams = list_teams(session)
    duty = [t for t in teams if t.first_response] or teams
    found: set[int] = set()
    for team in duty:
        user = on_call_now(session, team, tz, now)
        if user is not None:
            found.add(user.id)
    return found


def candidates(session: Session, tz: ZoneInfo, now: Clock = utcnow) -> list[Candidate]:
    """Every team member as the ranking sees them: skills, on call, workload, availability."""
    today = now().astimezone(tz).date()
    book = leave_book(session, today, today)
    load = workload(session)
    on_call = on_duty_user_ids(session, tz, now)
    profiles = {p.user_id: p for p in session.scalars(select(StaffProfile))}
    roles: dict[int, list[str]] = {}
    for user_id, role in session.execute(select(UserRole.user_id, UserRole.role)).tuples():
        roles.setdefault(user_id, []).append(role)
    result = []
    for user in team_people(session):
        profile = profiles.get(user.id)
        tasks, cases = load.get(user.id, (0, 0))
        result.append(
            Candidate(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name or "",
                department=user.department,
                skills=frozenset(profile.skills if profile else ()),
                on_call=user.id in on_call,
                open_tasks=tasks,
                open_cases=cases,
                availability_percent=profile.availability_percent if profile else 100,
                on_leave=book.on_leave(user.id, today),
                roles=frozenset(roles.get(user.id, ())),
            )
        )
    return result


def role_skills(
    session: Session, case: Case, playbooks: Mapping[str, Playbook]
) -> dict[str, tuple[str, ...]]:
    """The skills of each role: from the case's ``playbooks`` (the catalog's) naming the role."""
    needed: dict[str, list[str]] = {}
    applied = list(
        session.scalars(select(CasePlaybook.playbook_id).where(CasePlaybook.case_id == case.id))
    )
    if applied:
        for playbook_id in applied:
            playbook = playbooks.get(playbook_id)
            for need in playbook.roles if playbook else ():
                needed.setdefault(need.role, []).extend(need.skills)
    return {
        role: tuple(dict.fromkeys(needed.get(role) or DEFAULT_ROLE_SKILLS[role]))
        for role in CASE_ROLES
    }


def suggestions_for(
    session: Session,
    case: Case,
    tz: ZoneInfo,
    playbooks: Mapping[str, Playbook],
    now: Clock = utcnow,
) -> Suggestions:
    """Ranked suggestions per role for this case; conflicted people are only in ``excluded``."""
    assigned: dict[str, set[int]] = {}
    for member in session.scalars(select(CaseMember).where(CaseMember.case_id == case.id)):
        assigned.setdefault(member.role, set()).add(member.user_id)
    return suggest(
        candidates(session, tz, now),
        role_skills(session, case, playbooks),
        involved_for(session, case),
        assigned=assigned,
    )
