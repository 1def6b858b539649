"""Who is on call: a team's rotation order and start, overrides and swapped weeks, the
calendar (the arithmetic is in :mod:`csirt.teams.rotation`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.db import utcnow
from csirt.teams import rotation as rot
from csirt.teams.base import Clock, InvalidInputError, record
from csirt.teams.leave import leave_book
from csirt.teams.models import OnCallOverride, Team
from csirt.teams.people import list_teams


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
    record(
        session,
        AuditAction.TEAM_ROTATION,
        actor,
        "team",
        team.id,
        details={"start": start.isoformat() if start else None},
    )


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
    record(
        session,
        AuditAction.TEAM_ONCALL_OVERRIDE,
        actor,
        "team",
        team.id,
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
