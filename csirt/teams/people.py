"""Teams and their people: teams, members in rotation order, staff profiles (skills,
department, part-time share)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.catalog import SKILLS
from csirt.teams.base import InvalidInputError, TeamNotFoundError, UnknownUserError, record
from csirt.teams.models import StaffProfile, Team, TeamMember

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


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
    record(session, AuditAction.TEAM_CREATE, actor, "team", team.id, details={"slug": slug})
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
    record(session, AuditAction.STAFF_PROFILE, actor, "user", user.id, details=changes)
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
    record(
        session,
        AuditAction.TEAM_MEMBER_ADD,
        actor,
        "team",
        team.id,
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
    record(
        session, AuditAction.TEAM_MEMBER_REMOVE, actor, "team", team.id, details={"user": username}
    )


def team_people(session: Session) -> list[User]:
    """Active people who belong to at least one team."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.id.in_(select(TeamMember.user_id)))
            .order_by(User.username)
        )
    )
