"""What a case's overview lists of the case's own rows, read in one statement: its tags, the
playbooks applied, its members and its open tasks, and how many related cases and linked
reports it has (each read apart, and only when there are some)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    CompoundSelect,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases.models import Case, CaseLink, CaseMember, CasePlaybook, CaseTag, Task
from csirt.cases.tasks import OPEN_TASK_STATUSES
from csirt.db import read_rows
from csirt.intake.models import Submission


class OpenTask(NamedTuple):
    """An open task as the overview shows it (``tasks.is_overdue`` reads it like a Task)."""

    id: int
    title: str
    status: str
    due_at: datetime | None


@dataclass
class OverviewRows:
    tags: list[str] = field(default_factory=list)  # sorted
    playbook_ids: list[str] = field(default_factory=list)  # in the order applied
    members: list[tuple[str, str]] = field(default_factory=list)  # (name, case role code)
    open_tasks: list[OpenTask] = field(default_factory=list)  # by due date, undated last
    links: int = 0  # related cases (links.related_cases reads them, and whether each is seen)
    reports: int = 0  # linked reports (the intake's handoff.case_reports reads who may know)


_TAG, _PLAYBOOK, _MEMBER, _TASK, _LINKS, _REPORTS = 0, 1, 2, 3, 4, 5
_NEVER = datetime.min.replace(tzinfo=UTC)  # the sort key of an undated task (sorted last)


def _kind(n: int) -> Any:
    return literal_column(str(n), Integer)


# One row per listed item: (kind, order, text, text, text, time). Each NULL is typed, for
# PostgreSQL resolves the types of a UNION two branches at a time. Built once, the case bound at
# execution; ordered by kind, then the order each list had as its own query (tags by the
# database's collation, the others by id; open tasks are then sorted by due date in Python).
_TEXT = cast(null(), String)
_ROWS: CompoundSelect[Any] = union_all(
    select(_kind(_TAG), _kind(0), CaseTag.tag, _TEXT, _TEXT, cast(null(), Task.due_at.type)).where(
        CaseTag.case_id == bindparam("case_id")
    ),
    select(_kind(_PLAYBOOK), CasePlaybook.id, CasePlaybook.playbook_id, _TEXT, _TEXT, null()).where(
        CasePlaybook.case_id == bindparam("case_id")
    ),
    select(_kind(_MEMBER), CaseMember.id, User.display_name, User.username, CaseMember.role, null())
    .join(User, User.id == CaseMember.user_id)
    .where(CaseMember.case_id == bindparam("case_id")),
    select(_kind(_TASK), Task.id, Task.title, Task.status, _TEXT, Task.due_at).where(
        Task.case_id == bindparam("case_id"), Task.status.in_(OPEN_TASK_STATUSES)
    ),
    select(_kind(_LINKS), func.count(), _TEXT, _TEXT, _TEXT, null())
    .select_from(CaseLink)
    .where(CaseLink.case_id == bindparam("case_id")),
    select(_kind(_REPORTS), func.count(), _TEXT, _TEXT, _TEXT, null())
    .select_from(Submission)
    .where(Submission.case_id == bindparam("case_id")),
).order_by(literal_column("1"), literal_column("2"), literal_column("3"))


def overview_rows(session: Session, case: Case) -> OverviewRows:
    """The case's tags, applied playbooks, members and open tasks, and its numbers of related
    cases and linked reports (one statement)."""
    found = OverviewRows()
    rows = read_rows(session, _ROWS, {"case_id": case.id})
    for kind, order, text, other, role, due_at in rows:
        if kind == _TAG:
            found.tags.append(text)
        elif kind == _PLAYBOOK:
            found.playbook_ids.append(text)
        elif kind == _MEMBER:
            found.members.append((text or other, role))
        elif kind == _LINKS:
            found.links = order
        elif kind == _REPORTS:
            found.reports = order
        else:
            found.open_tasks.append(OpenTask(order, text, other, due_at))
    # The tasks page's order (tasks.list_tasks): by due date, undated last, then by id.
    found.open_tasks.sort(key=lambda t: (t.due_at is None, t.due_at or _NEVER))
    return found
