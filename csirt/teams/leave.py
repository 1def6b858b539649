"""Leave periods: recorded, removed, and read as a :class:`LeaveBook` for a span of days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.teams.base import InvalidInputError, TeamNotFoundError, record
from csirt.teams.models import Leave


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
    record(
        session,
        AuditAction.STAFF_LEAVE,
        actor,
        "user",
        user.id,
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
    record(session, AuditAction.STAFF_LEAVE_DELETE, actor, "user", leave.user_id)


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
