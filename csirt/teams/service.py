"""Teams logic on the database: people, rotations, paging and escalation, assignment.

Every function takes the session explicitly; those that depend on the time take ``now`` (an
injectable clock, ``Callable[[], datetime]``) so tests can freeze it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Role
from csirt.cases.models import Case, CaseMember, CasePlaybook, Phase, Priority, Task, TaskAssignee
from csirt.catalog import ROLES, SKILLS, LocalText, Playbook
from csirt.db import utcnow
from csirt.intake.models import Submission
from csirt.notify import service as notify
from csirt.notify.messages import Kind
from csirt.teams import rotation as rot
from csirt.teams.conflicts import conflict_of
from csirt.teams.models import (
    AckKind,
    Acknowledgement,
    AckStatus,
    Leave,
    OnCallOverride,
    StaffProfile,
    Team,
    TeamMember,
)
from csirt.teams.suggest import (
    DEFAULT_ROLE_SKILLS,
    Candidate,
    Suggestions,
    exclusion_reason,
    suggest,
)

Clock = Callable[[], datetime]
OPEN_TASK = ("open", "in_progress")
SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
DEFAULT_ESCALATION_MINUTES = 15


class TeamError(Exception):
    """Base of team errors shown to the user."""


class TeamNotFoundError(TeamError):
    """No such team."""


class UnknownUserError(TeamError):
    """No active user by that name."""


class InvalidInputError(TeamError):
    """Bad input; ``errors`` names each bad field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class ConflictOfInterestError(TeamError):
    """The person is involved in the case (or in an involved department): not assignable.

    The caller rolls back and records the refusal (``record_refusal``).
    """

    def __init__(self, reason: LocalText, username: str, role: str, kind: str) -> None:
        super().__init__(reason.en)
        self.reason = reason
        self.username = username
        self.role = role
        self.kind = kind


def record_refusal(
    session: Session, case_id: int, error: ConflictOfInterestError, actor: audit.Actor
) -> None:
    """Audit a refused assignment (the reason kind, not the involved entry)."""
    audit.record(
        session,
        AuditAction.CASE_MEMBER_REFUSED,
        actor=actor,
        object_type="case",
        object_id=case_id,
        case_id=case_id,
        details={"user": error.username, "role": error.role, "conflict": error.kind},
    )


class NotAllowedToAssignError(TeamError):
    """Only the case's members and leads assign people (a paged outsider may take it himself)."""


class NothingToAcknowledgeError(TeamError):
    """This person has no pending request on this case."""


def _actor(user: User | None) -> audit.Actor:
    return audit.Actor(user.id, user.username) if user is not None else audit.SYSTEM


# --- teams and people -----------------------------------------------------------------------


def list_teams(session: Session) -> list[Team]:
    """Every team, by name."""
    return list(session.scalars(select(Team).order_by(Team.name)))


def get_team(session: Session, team_id: int) -> Team:
    """The team; TeamNotFoundError if there is none."""
    team = session.get(Team, team_id)
    if team is None:
        raise TeamNotFoundError(team_id)
    return team


def get_user(session: Session, username: str) -> User:
    """The active user by username; UnknownUserError otherwise."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        raise UnknownUserError(username)
    return user


def create_team(
    session: Session,
    *,
    name: str,
    slug: str,
    actor: User | None,
    description: str = "",
    first_response: bool = False,
) -> Team:
    """Create a team; InvalidInputError names bad or taken fields."""
    errors: dict[str, str] = {}
    name = name.strip()
    slug = slug.strip().lower()
    if not name or len(name) > 200:
        errors["name"] = "required, at most 200 characters"
    if not SLUG_RE.fullmatch(slug):
        errors["slug"] = "lowercase letters, digits and hyphens (at most 63)"
    elif session.scalar(select(Team.id).where(Team.slug == slug)) is not None:
        errors["slug"] = "already taken"
    if errors:
        raise InvalidInputError(errors)
    team = Team(name=name, slug=slug, description=description, first_response=first_response)
    session.add(team)
    session.flush()
    audit.record(
        session,
        AuditAction.TEAM_CREATE,
        actor=_actor(actor),
        object_type="team",
        object_id=team.id,
        details={"slug": slug},
    )
    return team


def profile_for(session: Session, user: User) -> StaffProfile:
    """The person's staff profile, created empty on first use."""
    profile = session.scalar(select(StaffProfile).where(StaffProfile.user_id == user.id))
    if profile is None:
        profile = StaffProfile(user_id=user.id, skills=[], availability_percent=100)
        session.add(profile)
        session.flush()
    return profile


def profiles_of(session: Session, user_ids: Iterable[int] | None = None) -> dict[int, StaffProfile]:
    """Existing staff profiles by user id (of these users, or of everyone)."""
    query = select(StaffProfile)
    if user_ids is not None:
        query = query.where(StaffProfile.user_id.in_(list(user_ids)))
    return {p.user_id: p for p in session.scalars(query)}


def check_skills(skills: Iterable[str]) -> list[str]:
    """The skills in catalogue order; InvalidInputError for unknown ones."""
    given = list(skills)
    unknown = [s for s in given if s not in SKILLS]
    if unknown:
        raise InvalidInputError({"skills": f"unknown skills {unknown}; use {list(SKILLS)}"})
    return [s for s in SKILLS if s in given]


def set_profile(
    session: Session,
    user: User,
    *,
    actor: User | None,
    skills: Iterable[str] | None = None,
    department: str | None = None,
    availability_percent: int | None = None,
) -> StaffProfile:
    """Change a person's skills, department or part-time share (audited)."""
    profile = profile_for(session, user)
    changes: dict[str, Any] = {}
    if skills is not None:
        profile.skills = check_skills(skills)
        changes["skills"] = profile.skills
    if department is not None:
        if len(department) > 128:
            raise InvalidInputError({"department": "at most 128 characters"})
        user.department = department.strip() or None
        changes["department"] = user.department
    if availability_percent is not None:
        if not 1 <= availability_percent <= 100:
            raise InvalidInputError({"availability_percent": "between 1 and 100"})
        profile.availability_percent = availability_percent
        changes["availability_percent"] = availability_percent
    session.flush()
    audit.record(
        session,
        AuditAction.STAFF_PROFILE,
        actor=_actor(actor),
        object_type="user",
        object_id=user.id,
        details=changes,
    )
    return profile


def add_member(
    session: Session,
    team: Team,
    user: User,
    *,
    actor: User | None,
    skills: Iterable[str] | None = None,
    department: str | None = None,
) -> TeamMember:
    """Add a person at the end of the team's rotation (and set skills/department if given)."""
    if skills is not None or department is not None:
        set_profile(session, user, actor=actor, skills=skills, department=department)
    else:
        profile_for(session, user)
    existing = session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
    )
    if existing is not None:
        return existing
    last = session.scalar(
        select(func.max(TeamMember.position)).where(TeamMember.team_id == team.id)
    )
    member = TeamMember(team_id=team.id, user_id=user.id, position=(last or 0) + 1)
    session.add(member)
    session.flush()
    session.refresh(team)
    audit.record(
        session,
        AuditAction.TEAM_MEMBER_ADD,
        actor=_actor(actor),
        object_type="team",
        object_id=team.id,
        details={"user": user.username},
    )
    return member


def remove_member(session: Session, team: Team, member_id: int, *, actor: User | None) -> None:
    """Take a person out of the team."""
    member = session.get(TeamMember, member_id)
    if member is None or member.team_id != team.id:
        raise TeamNotFoundError(member_id)
    username = member.user.username
    session.delete(member)
    session.flush()
    session.refresh(team)
    audit.record(
        session,
        AuditAction.TEAM_MEMBER_REMOVE,
        actor=_actor(actor),
        object_type="team",
        object_id=team.id,
        details={"user": username},
    )


def set_rotation(
    session: Session,
    team: Team,
    *,
    start: date | None,
    order: Sequence[int],
    actor: User | None,
) -> None:
    """Set the rotation start and the members' order (member ids, first on call first)."""
    members = {m.id: m for m in team.members}
    unknown = [m for m in order if m not in members]
    if unknown:
        raise InvalidInputError({"order": f"not members of this team: {unknown}"})
    ordered = list(rot.order_for(order)) + [m for m in members if m not in order]
    for position, member_id in enumerate(ordered, start=1):
        members[member_id].position = position
    team.rotation_start = start
    session.flush()
    session.refresh(team)
    audit.record(
        session,
        AuditAction.TEAM_ROTATION,
        actor=_actor(actor),
        object_type="team",
        object_id=team.id,
        details={"start": start.isoformat() if start else None},
    )


def add_leave(
    session: Session,
    user: User,
    starts_on: date,
    ends_on: date,
    *,
    actor: User | None,
    note: str = "",
) -> Leave:
    """Record a leave period (inclusive)."""
    if ends_on < starts_on:
        raise InvalidInputError({"ends_on": "must not be before the first day"})
    leave = Leave(user_id=user.id, starts_on=starts_on, ends_on=ends_on, note=note[:200])
    session.add(leave)
    session.flush()
    audit.record(
        session,
        AuditAction.STAFF_LEAVE,
        actor=_actor(actor),
        object_type="user",
        object_id=user.id,
        details={"from": starts_on.isoformat(), "to": ends_on.isoformat()},
    )
    return leave


def leaves_of(session: Session, user_id: int) -> list[Leave]:
    """A person's leave periods, latest first."""
    return list(
        session.scalars(
            select(Leave).where(Leave.user_id == user_id).order_by(Leave.starts_on.desc())
        )
    )


def delete_leave(session: Session, leave_id: int, *, actor: User | None) -> None:
    """Remove a leave period."""
    leave = session.get(Leave, leave_id)
    if leave is None:
        raise TeamNotFoundError(leave_id)
    session.delete(leave)
    session.flush()
    audit.record(
        session,
        AuditAction.STAFF_LEAVE_DELETE,
        actor=_actor(actor),
        object_type="user",
        object_id=leave.user_id,
    )


@dataclass
class LeaveBook:
    """Leave periods of many people over a span, answering ``on_leave(user_id, day)``."""

    periods: dict[int, list[tuple[date, date]]] = field(default_factory=dict)

    def on_leave(self, user_id: int, day: date) -> bool:
        return any(a <= day <= b for a, b in self.periods.get(user_id, []))

    def until(self, user_id: int, day: date) -> date | None:
        return max((b for a, b in self.periods.get(user_id, []) if a <= day <= b), default=None)


def leave_book(session: Session, first: date, last: date) -> LeaveBook:
    """Every leave overlapping [first, last]."""
    book = LeaveBook()
    rows = session.scalars(select(Leave).where(Leave.starts_on <= last, Leave.ends_on >= first))
    for row in rows:
        book.periods.setdefault(row.user_id, []).append((row.starts_on, row.ends_on))
    return book


# --- on-call --------------------------------------------------------------------------------


def rotation_of(session: Session, team: Team, around: datetime | None = None) -> rot.Rotation:
    """The team's rotation with its overrides (those ending after ``around`` minus 60 days)."""
    members = tuple(m.user_id for m in team.members if m.in_rotation and m.user.active)
    query = select(OnCallOverride).where(OnCallOverride.team_id == team.id)
    if around is not None:
        query = query.where(OnCallOverride.ends_at > around - timedelta(days=60))
    overrides = tuple(
        rot.Override(o.user_id, o.starts_at, o.ends_at, o.reason)
        for o in session.scalars(query.order_by(OnCallOverride.id))
    )
    return rot.Rotation(members, team.rotation_start, overrides)


def on_call_now(session: Session, team: Team, tz: ZoneInfo, now: Clock = utcnow) -> User | None:
    """The person on call for the team right now."""
    moment = now()
    day = moment.astimezone(tz).date()
    book = leave_book(session, day, day)
    shift = rot.on_call(rotation_of(session, team, moment), moment, tz, book.on_leave)
    return session.get(User, shift.user_id) if shift else None


def on_call_user_ids(session: Session, tz: ZoneInfo, now: Clock = utcnow) -> set[int]:
    """Everyone on call for some team right now."""
    found: set[int] = set()
    for team in list_teams(session):
        user = on_call_now(session, team, tz, now)
        if user is not None:
            found.add(user.id)
    return found


def add_override(
    session: Session,
    team: Team,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    *,
    actor: User | None,
    reason: str = "",
) -> OnCallOverride:
    """Put someone on call for the team between two instants."""
    if ends_at <= starts_at:
        raise InvalidInputError({"ends_at": "must be after the start"})
    override = OnCallOverride(
        team_id=team.id, user_id=user.id, starts_at=starts_at, ends_at=ends_at, reason=reason[:200]
    )
    session.add(override)
    session.flush()
    audit.record(
        session,
        AuditAction.TEAM_ONCALL_OVERRIDE,
        actor=_actor(actor),
        object_type="team",
        object_id=team.id,
        details={"user": user.username, "from": starts_at.isoformat(), "to": ends_at.isoformat()},
    )
    return override


def overrides_of(session: Session, team: Team, since: datetime) -> list[OnCallOverride]:
    """The team's overrides that end after ``since``, soonest first."""
    return list(
        session.scalars(
            select(OnCallOverride)
            .where(OnCallOverride.team_id == team.id, OnCallOverride.ends_at > since)
            .order_by(OnCallOverride.starts_at)
        )
    )


def swap_weeks(
    session: Session, team: Team, week_a: date, week_b: date, tz: ZoneInfo, *, actor: User | None
) -> tuple[OnCallOverride, OnCallOverride]:
    """Swap two rotation weeks: each person takes the other's week (stored as two overrides)."""
    rotation = rotation_of(session, team)
    start_a, start_b = rot.week_start(rotation, week_a), rot.week_start(rotation, week_b)
    user_a, user_b = rot.scheduled(rotation, week_a), rot.scheduled(rotation, week_b)
    if start_a is None or start_b is None or user_a is None or user_b is None:
        raise InvalidInputError({"week": "both weeks must be in the rotation"})
    if user_a == user_b:
        raise InvalidInputError({"week": "the same person is on call in both weeks"})

    def span(start: date) -> tuple[datetime, datetime]:
        begin = datetime.combine(start, time(0, 0), tzinfo=tz)
        return begin, begin + timedelta(days=7)

    first = add_override(
        session, team, _user(session, user_b), *span(start_a), actor=actor, reason="swap"
    )
    second = add_override(
        session, team, _user(session, user_a), *span(start_b), actor=actor, reason="swap"
    )
    return first, second


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    assert user is not None
    return user


@dataclass(frozen=True)
class CalendarDay:
    day: date
    user: User | None
    source: str
    scheduled: User | None


def calendar(
    session: Session, team: Team, first: date, count: int, tz: ZoneInfo
) -> list[CalendarDay]:
    """Who is on call (at noon) on each day, with overrides and leave cover."""
    book = leave_book(session, first, first + timedelta(days=count))
    moment = datetime.combine(first, time(0, 0), tzinfo=tz)
    rotation = rotation_of(session, team, moment)
    result = []
    for day, shift in rot.days(rotation, first, count, tz, book.on_leave):
        result.append(
            CalendarDay(
                day,
                session.get(User, shift.user_id) if shift else None,
                shift.source if shift else "",
                session.get(User, shift.scheduled_user_id)
                if shift and shift.scheduled_user_id
                else None,
            )
        )
    return result


# --- calendar feed tokens -------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed_token(session: Session, user: User) -> str:
    """A new calendar feed token for this person (the old one stops working); shown once."""
    token = secrets.token_urlsafe(32)
    profile_for(session, user).feed_token_hash = _token_hash(token)
    session.flush()
    audit.record(
        session,
        AuditAction.STAFF_FEED_TOKEN,
        actor=_actor(user),
        object_type="user",
        object_id=user.id,
    )
    return token


def user_for_feed_token(session: Session, token: str) -> User | None:
    """The active person whose feed token this is."""
    if not token or len(token) > 200:
        return None
    profile = session.scalar(
        select(StaffProfile).where(StaffProfile.feed_token_hash == _token_hash(token))
    )
    if profile is None or not profile.user.active:
        return None
    return profile.user


# --- conflicts and candidates ---------------------------------------------------------------


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
                .where(Task.status.in_(OPEN_TASK))
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


def team_people(session: Session) -> list[User]:
    """Active people who belong to at least one team."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.id.in_(select(TeamMember.user_id)))
            .order_by(User.username)
        )
    )


def candidates(session: Session, tz: ZoneInfo, now: Clock = utcnow) -> list[Candidate]:
    """Every team member as the ranking sees them: skills, on call, workload, availability."""
    today = now().astimezone(tz).date()
    book = leave_book(session, today, today)
    load = workload(session)
    on_call = on_call_user_ids(session, tz, now)
    profiles = {p.user_id: p for p in session.scalars(select(StaffProfile))}
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
        role: tuple(dict.fromkeys(needed.get(role) or DEFAULT_ROLE_SKILLS[role])) for role in ROLES
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


# --- assignment and acknowledgement ---------------------------------------------------------


def team_path(case_id: int) -> str:
    return f"/console/cases/{case_id}/team"


def may_assign(session: Session, case: Case, actor: User, user: User | None = None) -> bool:
    """Whether ``actor`` may assign ``user`` (anyone, if None) to the case."""
    if actor.has_role(Role.LEAD):
        return True
    member = session.scalar(
        select(CaseMember.id).where(CaseMember.case_id == case.id, CaseMember.user_id == actor.id)
    )
    if member is not None:
        return True
    if user is None or user.id != actor.id:
        return False
    paged = session.scalar(
        select(Acknowledgement.id).where(
            Acknowledgement.case_id == case.id,
            Acknowledgement.user_id == actor.id,
            Acknowledgement.kind == AckKind.PAGE.value,
        )
    )
    return paged is not None


def assign(
    session: Session,
    channel: notify.Channel,
    case: Case,
    user: User,
    role: str,
    *,
    actor: User | None,
    now: Clock = utcnow,
) -> CaseMember:
    """Add a person to the case in a role; refuse anyone in conflict with the case.

    The actor must be a member of the case or a lead (NotAllowedToAssignError); someone paged
    for the case who is neither may only assign himself (taking the case).
    """
    if role not in ROLES:
        raise InvalidInputError({"role": f"must be one of {list(ROLES)}"})
    if actor is not None and not may_assign(session, case, actor, user):
        raise NotAllowedToAssignError(case.id)
    if not user.active:
        raise UnknownUserError(user.username)
    conflict = conflict_of(user, involved_for(session, case))
    if conflict is not None:
        raise ConflictOfInterestError(
            exclusion_reason(conflict.kind, conflict.entry), user.username, role, conflict.kind
        )
    member = session.scalar(
        select(CaseMember).where(
            CaseMember.case_id == case.id, CaseMember.user_id == user.id, CaseMember.role == role
        )
    )
    if member is not None:
        return member
    moment = now()
    member = CaseMember(case_id=case.id, user_id=user.id, role=role, added_at=moment)
    session.add(member)
    session.flush()
    audit.record(
        session,
        AuditAction.CASE_MEMBER_ADD,
        actor=_actor(actor),
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        details={"user": user.username, "role": role},
    )
    if actor is not None and actor.id == user.id:
        _acknowledge_pages(session, case, user, moment)
    else:
        session.add(
            Acknowledgement(
                case_id=case.id,
                user_id=user.id,
                kind=AckKind.ASSIGNMENT.value,
                role=role,
                requested_at=moment,
            )
        )
        notify.notify_case(
            session,
            channel,
            user,
            Kind.ASSIGNMENT,
            case,
            path=team_path(case.id),
            role=role,
            now=moment,
        )
    if actor is not None and actor.id != user.id:
        _acknowledge_pages(session, case, actor, moment)
    session.flush()
    return member


def _acknowledge_pages(session: Session, case: Case, user: User, moment: datetime) -> int:
    """Whoever was paged takes the case: every open page of the case is acknowledged."""
    paged = session.scalar(
        select(Acknowledgement.id).where(
            Acknowledgement.case_id == case.id,
            Acknowledgement.user_id == user.id,
            Acknowledgement.kind == AckKind.PAGE.value,
        )
    )
    if paged is None:
        return 0
    count = 0
    for ack in session.scalars(
        select(Acknowledgement).where(
            Acknowledgement.case_id == case.id,
            Acknowledgement.kind == AckKind.PAGE.value,
            Acknowledgement.status == AckStatus.PENDING.value,
        )
    ):
        ack.status = AckStatus.ACKNOWLEDGED.value
        ack.acknowledged_at = moment
        count += 1
    return count


def pending_for(
    session: Session, case_id: int, user_id: int | None = None
) -> list[Acknowledgement]:
    """Open requests on a case (of one person, if given)."""
    query = select(Acknowledgement).where(
        Acknowledgement.case_id == case_id, Acknowledgement.status == AckStatus.PENDING.value
    )
    if user_id is not None:
        query = query.where(Acknowledgement.user_id == user_id)
    return list(session.scalars(query.order_by(Acknowledgement.id)))


def acknowledgements(session: Session, case_id: int) -> list[Acknowledgement]:
    """Every page and assignment request on a case, oldest first."""
    return list(
        session.scalars(
            select(Acknowledgement)
            .where(Acknowledgement.case_id == case_id)
            .order_by(Acknowledgement.id)
        )
    )


def acknowledge(session: Session, case: Case, user: User, *, now: Clock = utcnow) -> int:
    """Confirm this person has taken up the case; NothingToAcknowledgeError if nothing pends."""
    moment = now()
    mine = pending_for(session, case.id, user.id)
    count = _acknowledge_pages(session, case, user, moment)
    for ack in mine:
        if ack.status == AckStatus.PENDING.value:
            ack.status = AckStatus.ACKNOWLEDGED.value
            ack.acknowledged_at = moment
            count += 1
    if not count:
        raise NothingToAcknowledgeError(case.id)
    if case.acknowledged_at is None:
        case.acknowledged_at = moment
    notify.mark_case_read(session, user.id, case.id, moment)
    audit.record(
        session,
        AuditAction.CASE_ACKNOWLEDGE,
        actor=_actor(user),
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        details={"requests": count},
    )
    session.flush()
    return count


# --- paging and escalation ------------------------------------------------------------------


def first_response_teams(session: Session) -> list[Team]:
    """The teams paged when a case becomes P1 or P2."""
    return list(
        session.scalars(select(Team).where(Team.first_response.is_(True)).order_by(Team.id))
    )


def _pageable(
    session: Session,
    case: Case,
    order: Iterable[int],
    day: date,
    book: LeaveBook,
    skip: set[int],
) -> User | None:
    involved = involved_for(session, case)
    for user_id in order:
        if user_id in skip or book.on_leave(user_id, day):
            continue
        user = session.get(User, user_id)
        if user is None or not user.active or conflict_of(user, involved) is not None:
            continue
        return user
    return None


def _page(
    session: Session,
    channel: notify.Channel,
    case: Case,
    team: Team,
    user: User,
    *,
    step: int,
    moment: datetime,
) -> Acknowledgement:
    ack = Acknowledgement(
        case_id=case.id,
        user_id=user.id,
        kind=AckKind.PAGE.value,
        role="lead",
        team_id=team.id,
        step=step,
        requested_at=moment,
    )
    session.add(ack)
    session.flush()
    notify.notify_case(
        session,
        channel,
        user,
        Kind.PAGE if step == 0 else Kind.ESCALATION,
        case,
        path=team_path(case.id),
        now=moment,
    )
    audit.record(
        session,
        AuditAction.CASE_PAGE if step == 0 else AuditAction.CASE_PAGE_ESCALATE,
        actor=audit.SYSTEM,
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        details={"user": user.username, "team": team.slug, "step": step},
    )
    return ack


# The priorities that page the on-call lead at once (issue: P1 and P2 both need a team now).
PAGED_PRIORITIES = (Priority.P1.value, Priority.P2.value)


def page_on_call(
    session: Session, channel: notify.Channel, case: Case, tz: ZoneInfo, now: Clock = utcnow
) -> list[Acknowledgement]:
    """Page the on-call person of each first-response team about a P1 or P2 (once per case).

    Someone in conflict with the case, on leave or inactive is skipped for the next in line.
    """
    if case.priority not in PAGED_PRIORITIES or case.phase == Phase.CLOSED.value:
        return []
    already = session.scalar(
        select(Acknowledgement.id).where(
            Acknowledgement.case_id == case.id, Acknowledgement.kind == AckKind.PAGE.value
        )
    )
    if already is not None:
        return []
    moment = now()
    day = moment.astimezone(tz).date()
    book = leave_book(session, day, day)
    pages = []
    for team in first_response_teams(session):
        rotation = rotation_of(session, team, moment)
        shift = rot.on_call(rotation, moment, tz, book.on_leave)
        order = [shift.user_id, *rot.after(rotation, shift.user_id)] if shift else []
        user = _pageable(session, case, order, day, book, set())
        if user is not None:
            pages.append(_page(session, channel, case, team, user, step=0, moment=moment))
    return pages


def escalate_due(
    session: Session,
    channel: notify.Channel,
    tz: ZoneInfo,
    *,
    minutes: int = DEFAULT_ESCALATION_MINUTES,
    now: Clock = utcnow,
) -> list[Acknowledgement]:
    """Page the next person for every page not acknowledged within ``minutes``."""
    moment = now()
    cutoff = moment - timedelta(minutes=minutes)
    overdue = list(
        session.scalars(
            select(Acknowledgement)
            .where(
                Acknowledgement.kind == AckKind.PAGE.value,
                Acknowledgement.status == AckStatus.PENDING.value,
                Acknowledgement.requested_at <= cutoff,
            )
            .order_by(Acknowledgement.id)
        )
    )
    day = moment.astimezone(tz).date()
    book = leave_book(session, day, day)
    pages = []
    for ack in overdue:
        ack.status = AckStatus.ESCALATED.value
        case = session.get(Case, ack.case_id)
        team = session.get(Team, ack.team_id) if ack.team_id else None
        if case is None or team is None:
            continue
        tried = set(
            session.scalars(
                select(Acknowledgement.user_id).where(
                    Acknowledgement.case_id == case.id,
                    Acknowledgement.kind == AckKind.PAGE.value,
                    Acknowledgement.team_id == team.id,
                )
            )
        )
        order = rot.after(rotation_of(session, team, moment), ack.user_id)
        user = _pageable(session, case, order, day, book, tried)
        if user is None:
            audit.record(
                session,
                AuditAction.CASE_PAGE_EXHAUSTED,
                actor=audit.SYSTEM,
                object_type="case",
                object_id=case.id,
                case_id=case.id,
                details={"team": team.slug},
            )
            continue
        pages.append(_page(session, channel, case, team, user, step=ack.step + 1, moment=moment))
    session.flush()
    return pages


def page_unpaged_p1(
    session: Session, channel: notify.Channel, tz: ZoneInfo, now: Clock = utcnow
) -> list[Acknowledgement]:
    """Page for open P1/P2 cases nobody was paged about (e.g. raised on the intake host)."""
    paged = select(Acknowledgement.case_id).where(Acknowledgement.kind == AckKind.PAGE.value)
    cases = session.scalars(
        select(Case).where(
            Case.priority.in_(PAGED_PRIORITIES),
            Case.phase == Phase.DETECT.value,
            Case.id.not_in(paged),
        )
    )
    pages: list[Acknowledgement] = []
    for case in cases:
        pages += page_on_call(session, channel, case, tz, now)
    return pages


# --- my work ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyWork:
    tasks: list[tuple[Task, Case]]
    cases: list[tuple[Case, list[str]]]
    pending: list[tuple[Acknowledgement, Case]]
    deadlines: list[tuple[Any, Case]]


def my_work(session: Session, user: User) -> MyWork:
    """A person's open tasks, cases, pending requests and the legal deadlines of their cases."""
    tasks = list(
        session.execute(
            select(Task, Case)
            .join(TaskAssignee, TaskAssignee.task_id == Task.id)
            .join(Case, Case.id == Task.case_id)
            .where(TaskAssignee.user_id == user.id, Task.status.in_(OPEN_TASK))
            .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
            .limit(200)
        ).tuples()
    )
    roles: dict[int, list[str]] = {}
    for member in session.scalars(select(CaseMember).where(CaseMember.user_id == user.id)):
        roles.setdefault(member.case_id, []).append(member.role)
    cases = list(
        session.scalars(
            select(Case)
            .where(Case.id.in_(list(roles)), Case.phase != Phase.CLOSED.value)
            .order_by(Case.priority, Case.id.desc())
        )
    )
    pending = [
        (ack, case)
        for ack, case in session.execute(
            select(Acknowledgement, Case)
            .join(Case, Case.id == Acknowledgement.case_id)
            .where(
                Acknowledgement.user_id == user.id,
                Acknowledgement.status == AckStatus.PENDING.value,
            )
            .order_by(Acknowledgement.id)
        ).tuples()
    ]
    from csirt.notify.reminders import open_obligations

    deadlines = open_obligations(session, [c.id for c in cases])
    return MyWork(tasks, [(c, roles[c.id]) for c in cases], pending, deadlines)


def on_priority_raised(sender: Case, *, session: Session, **_: Any) -> None:
    """Receiver of ``priority_raised`` (csirt/wiring.py): page the on-call person at once.

    The escalation sweep (``csirt reminders send``) catches whatever this misses.
    """
    if not has_app_context() or notify.MAILER_KEY not in current_app.extensions:
        return  # outside an app nothing can be delivered
    page_on_call(session, notify.channel_for(current_app), sender, current_app.config["CSIRT"].tz)
