"""A case's tasks: added by hand or by a playbook, assigned to members, commented, overdue."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import history, signals, trail
from csirt.cases.errors import CaseValidationError, TaskNotFoundError
from csirt.cases.models import Case, Phase, Task, TaskAssignee, TaskComment, TaskStatus
from csirt.cases.need_to_know import member_counts, member_ids
from csirt.db import utcnow
from csirt.i18n import default_lang

OPEN_TASK_STATUSES = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value)


def list_tasks(session: Session, case: Case) -> list[Task]:
    """The case's tasks by due date (assignees, comments and their authors: one query each)."""
    return list(
        session.scalars(
            select(Task)
            .where(Task.case_id == case.id)
            .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
            .options(selectinload(Task.comments).selectinload(TaskComment.author))
        )
    )


def get_task(session: Session, case: Case, task_id: int) -> Task:
    """A task of this case."""
    task = session.get(Task, task_id)
    if task is None or task.case_id != case.id:
        raise TaskNotFoundError(task_id)
    return task


def _check_assignees(session: Session, case: Case, assignee_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(assignee_ids))
    if not set(ids) <= member_ids(session, case):
        raise CaseValidationError({"assignees": "assignees must be members of the case"})
    return ids


def _checked(title: str, phase: str, due_at: datetime | None) -> str:
    """The task's title stripped; CaseValidationError names every bad field."""
    errors: dict[str, str] = {}
    title = title.strip()
    if not title or len(title) > 200:
        errors["title"] = "required, at most 200 characters"
    if phase not in {p.value for p in Phase} or phase == Phase.CLOSED.value:
        errors["phase"] = "unknown phase"
    if due_at is not None and due_at.tzinfo is None:
        errors["due_at"] = "must carry a time zone"
    if errors:
        raise CaseValidationError(errors)
    return title


def add_task(
    session: Session,
    case: Case,
    actor: User | None,
    *,
    title: str,
    description: str = "",
    phase: str = Phase.DETECT.value,
    due_at: datetime | None = None,
    required: bool = False,
    assignee_ids: Iterable[int] = (),
) -> Task:
    """Add a task by hand."""
    title = _checked(title, phase, due_at)
    ids = _check_assignees(session, case, assignee_ids)
    task = Task(
        case_id=case.id,
        title=title,
        description=description,
        phase=phase,
        due_at=due_at,
        required=required,
        status=TaskStatus.OPEN.value,
    )
    session.add(task)
    session.flush()
    for user_id in ids:
        task.assignees.append(TaskAssignee(user_id=user_id))
    trail.record(session, AuditAction.TASK_CREATE, case, actor, task=task.id)
    session.flush()
    if ids:
        signals.task_assigned.send(case, session=session, task=task, user_ids=ids, actor=actor)
    return task


_UNSET: Any = object()


def update_task(
    session: Session,
    case: Case,
    task: Task,
    actor: User | None,
    *,
    status: str | None = None,
    due_at: datetime | None = _UNSET,
    assignee_ids: Iterable[int] | None = None,
    keep_version: bool = True,
) -> None:
    """Change a task's status, due date or assignees; the previous version is kept."""
    before = history.snapshot(task, ("assignees",)) if keep_version else None
    changed: dict[str, Any] = {}
    if status is not None and status != task.status:
        if status not in {s.value for s in TaskStatus}:
            raise CaseValidationError({"status": "unknown status"})
        task.status = status
        task.completed_at = utcnow() if status == TaskStatus.DONE.value else None
        changed["status"] = status
    if due_at is not _UNSET and due_at != task.due_at:
        if due_at is not None and due_at.tzinfo is None:
            raise CaseValidationError({"due_at": "must carry a time zone"})
        task.due_at = due_at
        changed["due_at"] = due_at.isoformat() if due_at else None
    if assignee_ids is not None:
        ids = _check_assignees(session, case, assignee_ids)
        have = {a.user_id: a for a in task.assignees}
        for user_id, row in have.items():
            if user_id not in ids:
                task.assignees.remove(row)
        for user_id in ids:
            if user_id not in have:
                task.assignees.append(TaskAssignee(user_id=user_id))
        if set(ids) != set(have):
            changed["assignees"] = ids
        added = [i for i in ids if i not in have]
    else:
        added = []
    if changed:
        if before is not None:
            history.keep(session, case, TASK.name, task, history.EDIT, actor, data=before)
        trail.record(session, AuditAction.TASK_UPDATE, case, actor, task=task.id, **changed)
        session.flush()
    if added:
        signals.task_assigned.send(case, session=session, task=task, user_ids=added, actor=actor)


# --- corrections: edit with history, soft delete, restore ------------------------------------


TASK = history.Kind(
    name="task",
    model=Task,
    missing=TaskNotFoundError,
    actions=history.Actions(
        AuditAction.TASK_EDIT, AuditAction.TASK_DELETE, AuditAction.TASK_RESTORE
    ),
    audit=trail.record_naming("task"),
    children=("assignees", "comments"),
)
"""Tasks are corrected with history; a deleted task keeps its assignees and comments."""

EDITABLE = ("title", "description", "phase", "due_at", "required")


def edit_task(
    session: Session,
    case: Case,
    actor: User | None,
    task: Task,
    changes: Mapping[str, Any],
    reason: str = "",
) -> Task:
    """Correct a task's title, description, phase, due date, "required" or assignees; the
    previous version is kept (who, when, why). CaseValidationError names every bad field."""
    values = {name: changes.get(name, getattr(task, name)) for name in EDITABLE}
    values["title"] = _checked(str(values["title"] or ""), str(values["phase"]), values["due_at"])
    values["description"] = str(values["description"] or "")
    values["required"] = bool(values["required"])
    assignees = changes.get("assignees")
    if assignees is not None:
        _check_assignees(session, case, assignees)
    history.edit(session, TASK, case, actor, task, lambda row: _assign(row, values), reason)
    if assignees is not None:
        update_task(session, case, task, actor, assignee_ids=assignees, keep_version=False)
    return task


def _assign(row: Task, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)


def add_task_comment(
    session: Session, case: Case, task: Task, actor: User | None, body: str
) -> TaskComment:
    """Comment on a task."""
    body = body.strip()
    if not body:
        raise CaseValidationError({"body": "required"})
    comment = TaskComment(task_id=task.id, author_id=actor.id if actor else None, body=body)
    session.add(comment)
    trail.record(session, AuditAction.TASK_COMMENT, case, actor, task=task.id)
    session.flush()
    path = f"/console/cases/{case.id}/tasks#task-{task.id}"
    signals.mentioned.send(case, session=session, text=body, path=path, actor=actor)
    return comment


class _Due(Protocol):
    """What :func:`is_overdue` reads of a task (a Task, or a row of its columns)."""

    @property
    def status(self) -> str: ...

    @property
    def due_at(self) -> datetime | None: ...


def is_overdue(task: _Due, now: datetime | None = None) -> bool:
    """Open and past its due date."""
    return (
        task.status in OPEN_TASK_STATUSES
        and task.due_at is not None
        and task.due_at < (now or utcnow())
    )


def bulk_update_tasks(
    session: Session,
    case: Case,
    actor: User | None,
    task_ids: Iterable[int],
    *,
    status: str | None = None,
    add_assignee_id: int | None = None,
) -> int:
    """Set the status and/or add an assignee on several tasks at once: all or nothing.

    Every id is checked before anything changes; one audit row per changed task. Returns the
    number of tasks that changed.
    """
    ids = sorted(set(task_ids))
    errors: dict[str, str] = {}
    if not ids:
        errors["task_ids"] = "select at least one task"
    if status is None and add_assignee_id is None:
        errors["status"] = "choose a status or an assignee"
    if status is not None and status not in {s.value for s in TaskStatus}:
        errors["status"] = "unknown status"
    if add_assignee_id is not None and add_assignee_id not in member_ids(session, case):
        errors["assignee"] = "assignees must be members of the case"
    tasks = (
        list(session.scalars(select(Task).where(Task.case_id == case.id, Task.id.in_(ids))))
        if ids
        else []
    )
    missing = sorted(set(ids) - {t.id for t in tasks})
    if missing:
        errors["task_ids"] = "unknown tasks: " + ", ".join(str(i) for i in missing)
    if errors:
        raise CaseValidationError(errors)
    changed = 0
    for task in tasks:
        assignees = None
        have = [a.user_id for a in task.assignees]
        if add_assignee_id is not None and add_assignee_id not in have:
            assignees = [*have, add_assignee_id]
        if (status is not None and status != task.status) or assignees is not None:
            update_task(session, case, task, actor, status=status, assignee_ids=assignees)
            changed += 1
    return changed


# --- tasks tied to an event --------------------------------------------------------------------

# Playbook task keys (playbooks/incidents/*.yaml) that close themselves when their event happens.
TEAM_TASK_KEY = "form_first_response_team"
REPLY_TASK_KEY = "contact_tipster"

_AUTO_COMMENTS = {
    TEAM_TASK_KEY: {
        "ja": "初動対応チームが編成された（責任者ともう1名のメンバーが事案に加わった）ため、"
        "自動で完了にしました。",
        "en": "Done automatically: the team is formed (a lead and one more member are on the "
        "case).",
    },
    REPLY_TASK_KEY: {
        "ja": "担当者がこの事案に関連する通報の通報者に返信したため、自動で完了にしました。",
        "en": "Done automatically: an officer replied to the reporter of a report linked to "
        "this case.",
    },
}


def team_formed(session: Session, case: Case) -> bool:
    """A lead and at least one more person are members of the case."""
    members, leads = member_counts(session, case)
    return leads >= 1 and members >= 2


def close_tasks_for_event(session: Session, case: Case, key: str) -> int:
    """Mark the case's open tasks with playbook ``key`` done, each with a comment saying why."""
    tasks = list(
        session.scalars(
            select(Task).where(
                Task.case_id == case.id, Task.key == key, Task.status.in_(OPEN_TASK_STATUSES)
            )
        )
    )
    body = _AUTO_COMMENTS[key][default_lang()]
    for task in tasks:
        update_task(session, case, task, None, status=TaskStatus.DONE.value)
        add_task_comment(session, case, task, None, body)
    return len(tasks)


def on_member_added(case: Case, *, session: Session, **_: Any) -> None:
    """A person joined the case: once the team is formed, its forming task is done."""
    if team_formed(session, case):
        close_tasks_for_event(session, case, TEAM_TASK_KEY)


def on_officer_replied(submission: Any, *, session: Session, **_: Any) -> None:
    """An officer answered a report's reporter: its case's task to answer them is done."""
    case_id = getattr(submission, "case_id", None)
    case = session.get(Case, case_id) if case_id is not None else None
    if case is not None:
        close_tasks_for_event(session, case, REPLY_TASK_KEY)


def waiting_for(session: Session, case: Case) -> dict[str, dict[str, int]]:
    """For each event-tied task key: what the case has now (the page says what is missing)."""
    members, leads = member_counts(session, case)
    return {TEAM_TASK_KEY: {"members": members, "leads": leads}, REPLY_TASK_KEY: {}}
