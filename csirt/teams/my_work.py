"""A person's own work: open tasks, cases, pending requests and their cases' legal deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases.models import Case, CaseMember, Phase, Task, TaskAssignee
from csirt.cases.tasks import OPEN_TASK_STATUSES
from csirt.teams.models import Acknowledgement, AckStatus


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
            .where(TaskAssignee.user_id == user.id, Task.status.in_(OPEN_TASK_STATUSES))
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
