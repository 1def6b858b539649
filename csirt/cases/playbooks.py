"""Incident playbooks applied to a case: which ones, and the tasks they create."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import trail
from csirt.cases.models import Case, CasePlaybook, Task, TaskStatus
from csirt.cases.tasks import TEAM_TASK_KEY, close_tasks_for_event, team_formed
from csirt.catalog import Playbook
from csirt.db import utcnow


def applied_playbook_ids(session: Session, case: Case) -> list[str]:
    """Ids of the playbooks applied to the case, in order."""
    return list(
        session.scalars(
            select(CasePlaybook.playbook_id)
            .where(CasePlaybook.case_id == case.id)
            .order_by(CasePlaybook.id)
        )
    )


def case_playbooks(
    session: Session,
    case: Case,
    registry: Mapping[str, Playbook],
    applied: Sequence[str] | None = None,
) -> list[Playbook]:
    """The applied playbooks that are still in the registry (``applied``: their ids, when the
    caller has read them already)."""
    if applied is None:
        applied = applied_playbook_ids(session, case)
    return [registry[pid] for pid in applied if pid in registry]


def apply_playbook(
    session: Session,
    case: Case,
    playbook: Playbook,
    actor: User | None,
    lang: str = "ja",
) -> list[Task]:
    """Create the playbook's tasks with due dates from aware_at (or now); skip existing keys."""
    if playbook.id in applied_playbook_ids(session, case):
        return []
    existing = set(
        session.scalars(select(Task.key).where(Task.case_id == case.id, Task.key.is_not(None)))
    )
    start = case.aware_at or utcnow()
    created = []
    for template, due_at in playbook.tasks_for(start):
        if template.key in existing:
            continue
        task = Task(
            case_id=case.id,
            key=template.key,
            playbook_id=playbook.id,
            title=template.title.get(lang)[:200],
            description=template.description.get(lang) if template.description else "",
            phase=template.phase,
            role=template.role,
            required=template.required,
            status=TaskStatus.OPEN.value,
            due_at=due_at,
        )
        session.add(task)
        existing.add(template.key)
        created.append(task)
    session.add(
        CasePlaybook(
            case_id=case.id, playbook_id=playbook.id, applied_by_id=actor.id if actor else None
        )
    )
    trail.record(
        session, AuditAction.CASE_PLAYBOOK, case, actor, playbook=playbook.id, tasks=len(created)
    )
    session.flush()
    if team_formed(session, case):  # formed before the playbook came: its forming task is done
        close_tasks_for_event(session, case, TEAM_TASK_KEY)
    return created
