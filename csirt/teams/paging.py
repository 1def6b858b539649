"""Paging the on-call lead of each first-response team when a case becomes P1 or P2, and
escalating to the next in line when a page is not acknowledged."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases.models import Case, Phase, Priority
from csirt.cases.roles import CaseRole
from csirt.db import utcnow
from csirt.notify import service as notify
from csirt.notify.messages import Kind
from csirt.teams import rotation as rot
from csirt.teams.assignment import case_team_path
from csirt.teams.base import Clock, record
from csirt.teams.candidates import involved_for
from csirt.teams.conflicts import conflict_of
from csirt.teams.leave import LeaveBook, leave_book
from csirt.teams.models import AckKind, Acknowledgement, AckStatus, Team
from csirt.teams.oncall import rotation_of

DEFAULT_ESCALATION_MINUTES = 15


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
        role=CaseRole.LEAD,
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
        path=case_team_path(case.id),
        now=moment,
    )
    record(
        session,
        AuditAction.CASE_PAGE if step == 0 else AuditAction.CASE_PAGE_ESCALATE,
        None,
        "case",
        case.id,
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
            record(
                session,
                AuditAction.CASE_PAGE_EXHAUSTED,
                None,
                "case",
                case.id,
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


def on_priority_raised(sender: Case, *, session: Session, **_: Any) -> None:
    """Receiver of ``priority_raised`` (csirt/wiring.py): page the on-call person at once.

    The escalation sweep (``csirt reminders send``) catches whatever this misses.
    """
    if not has_app_context() or notify.MAILER_KEY not in current_app.extensions:
        return  # outside an app nothing can be delivered
    page_on_call(session, notify.channel_for(current_app), sender, current_app.config["CSIRT"].tz)
