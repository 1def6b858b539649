"""Reminders for cron: due tasks and legal deadlines (each sent once), and the daily digest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases.models import Case, CaseMember, Phase, Task, TaskAssignee
from csirt.cases.roles import STAFFED
from csirt.db import utcnow
from csirt.notify import service
from csirt.notify.messages import Kind, digest_text, format_due
from csirt.triage.models import Obligation

Clock = Callable[[], datetime]
OPEN_TASK = ("open", "in_progress")
OPEN_OBLIGATION = "pending"
# Who hears that a legal obligation falls due: the case's lead and every member who holds a
# case role (not a creator or a committee member given its documents).
DEADLINE_ROLES = tuple(role.value for role in STAFFED)
DEFAULT_WINDOW_HOURS = 24


def obligation_model() -> Any | None:
    """The triage package's Obligation model."""
    return Obligation


def open_obligations(session: Session, case_ids: Sequence[int]) -> list[tuple[Any, Case]]:
    """Pending legal obligations of these cases, soonest first (not ended protection windows)."""
    model = obligation_model()
    if model is None or not case_ids:
        return []
    rows = session.execute(
        select(model, Case)
        .join(Case, Case.id == model.case_id)
        .where(
            model.case_id.in_(list(case_ids)),
            model.status == OPEN_OBLIGATION,
            or_(model.deadline != "window", model.due_at >= utcnow()),
        )
        .order_by(model.due_at)
    ).tuples()
    return list(rows)


@dataclass(frozen=True)
class Sent:
    tasks: int = 0
    deadlines: int = 0


def _remind(
    session: Session,
    channel: service.Channel,
    user: User,
    key: str,
    kind: str,
    case: Case,
    due_at: datetime,
    path: str,
    moment: datetime,
) -> bool:
    if not user.active or service.already_sent(session, key, user.id):
        return False
    service.notify_case(
        session,
        channel,
        user,
        kind,
        case,
        path=path,
        due=format_due(due_at, channel.settings.timezone),
        now=moment,
    )
    service.record_sent(session, key, user.id, moment)
    return True


def _case_people(session: Session, case_id: int, roles: Sequence[str]) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(CaseMember, CaseMember.user_id == User.id)
            .where(CaseMember.case_id == case_id, CaseMember.role.in_(list(roles)))
            .distinct()
        )
    )


def send_due(
    session: Session,
    channel: service.Channel,
    *,
    window_hours: int = DEFAULT_WINDOW_HOURS,
    now: Clock = utcnow,
) -> Sent:
    """Remind of tasks and legal deadlines due within the window (or overdue), once each."""
    moment = now()
    horizon = moment + timedelta(hours=window_hours)
    tasks = 0
    rows = session.execute(
        select(Task, Case)
        .join(Case, Case.id == Task.case_id)
        .where(
            Task.status.in_(OPEN_TASK),
            Task.due_at.is_not(None),
            Task.due_at <= horizon,
            Case.phase != Phase.CLOSED.value,
        )
        .order_by(Task.due_at)
    ).tuples()
    for task, case in rows:
        assert task.due_at is not None
        stage = "overdue" if task.due_at <= moment else "soon"
        people = [a.user for a in task.assignees] or _case_people(session, case.id, ("lead",))
        key = f"task:{task.id}:{task.due_at.isoformat()}:{stage}"
        for user in people:
            tasks += _remind(
                session,
                channel,
                user,
                key,
                Kind.TASK_DUE,
                case,
                task.due_at,
                "/console/my-work",
                moment,
            )
    deadlines = 0
    model = obligation_model()
    if model is not None:
        obligation_rows = session.execute(
            select(model, Case)
            .join(Case, Case.id == model.case_id)
            .where(
                model.status == OPEN_OBLIGATION,
                model.due_at <= horizon,
                # The end of a protection window (wb_protection_window) is nothing to do.
                model.deadline != "window",
                Case.phase != Phase.CLOSED.value,
            )
            .order_by(model.due_at)
        ).tuples()
        for obligation, case in obligation_rows:
            # Once per obligation and person, whether it is due within the window or overdue.
            key = f"obligation:{obligation.id}:due"
            for user in _case_people(session, case.id, DEADLINE_ROLES):
                deadlines += _remind(
                    session,
                    channel,
                    user,
                    key,
                    Kind.DEADLINE_DUE,
                    case,
                    obligation.due_at,
                    "/console/my-work",
                    moment,
                )
    return Sent(tasks, deadlines)


def send_digest(
    session: Session, channel: service.Channel, *, now: Clock = utcnow, horizon_days: int = 7
) -> int:
    """One digest email a day to each person with something due (references only)."""
    moment = now()
    tz = ZoneInfo(channel.settings.timezone)
    today = moment.astimezone(tz).date().isoformat()
    horizon = moment + timedelta(days=horizon_days)
    sent = 0
    for user in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
        key = f"digest:{today}"
        if not user.email or service.already_sent(session, key, user.id):
            continue
        lines = []
        for task, case in session.execute(
            select(Task, Case)
            .join(TaskAssignee, TaskAssignee.task_id == Task.id)
            .join(Case, Case.id == Task.case_id)
            .where(
                TaskAssignee.user_id == user.id,
                Task.status.in_(OPEN_TASK),
                Task.due_at.is_not(None),
                Task.due_at <= horizon,
            )
            .order_by(Task.due_at)
        ).tuples():
            assert task.due_at is not None
            lines.append(f"{case.reference}: {format_due(task.due_at, channel.settings.timezone)}")
        member_of = select(CaseMember.case_id).where(CaseMember.user_id == user.id)
        for obligation, case in open_obligations(session, list(session.scalars(member_of))):
            if obligation.due_at <= horizon:
                lines.append(
                    f"{case.reference}: {format_due(obligation.due_at, channel.settings.timezone)}"
                    " (legal)"
                )
        unread = service.unread_count(session, user.id)
        if not lines and not unread:
            continue
        text = digest_text(
            user.lang or channel.settings.default_lang,
            date_label=today,
            lines=lines,
            unread=unread,
            link=channel.settings.url("/console/my-work"),
        )
        service.deliver(
            session,
            channel,
            user,
            Kind.DIGEST,
            text,
            link="/console/my-work",
            in_app=False,
            now=moment,
        )
        service.record_sent(session, key, user.id, moment)
        sent += 1
    return sent
