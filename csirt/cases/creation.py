"""Opening a case: its reference, its first members and tags, its playbooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import dashboard, signals, trail
from csirt.cases.editing import aware_at_error
from csirt.cases.errors import CaseValidationError
from csirt.cases.models import Case, CaseCounter, CaseMember, CaseTag, Phase, Priority, Tlp
from csirt.cases.playbooks import apply_playbook
from csirt.cases.roles import CaseRole
from csirt.cases.tagging import normalise_tags
from csirt.catalog import Playbook
from csirt.db import utcnow


def next_reference(session: Session, year: int) -> str:
    """Reserve the next ``CSIRT-YYYY-NNNN`` reference (atomic: the counter row is locked)."""
    row = session.execute(
        update(CaseCounter)
        .where(CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
    ).scalar_one_or_none()
    if row is None:
        session.execute(insert(CaseCounter).values(year=year, last=1))
        row = 1
    return f"CSIRT-{year}-{row:04d}"


def create_case(
    session: Session,
    *,
    title: str,
    actor: User | None,
    summary: str = "",
    priority: Priority = Priority.P3,
    aware_at: datetime | None = None,
    insider: bool = False,
    wrongful_intent: bool = False,
    ongoing: bool = False,
    involved: Sequence[str] = (),
    lead: User | None = None,
    tlp: Tlp | str = Tlp.AMBER,
    tags: Sequence[str] = (),
    playbooks: Sequence[Playbook] = (),
    lang: str = "ja",
) -> Case:
    """Create a case in ``detect``; its creator (and lead) become members.

    Chosen playbooks create their tasks at once (due dates counted from ``aware_at``).
    """
    title = title.strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "required"
    elif len(title) > 200:
        errors["title"] = "at most 200 characters"
    aware_problem = aware_at_error(aware_at)
    if aware_problem:
        errors["aware_at"] = aware_problem
    try:
        tlp_value = Tlp(tlp).value
    except ValueError:
        errors["tlp"] = "unknown TLP"
    try:
        priority_value = Priority(priority).value
    except ValueError:
        errors["priority"] = "unknown priority"
    if errors:
        raise CaseValidationError(errors)
    clean_tags = normalise_tags(tags)
    now = utcnow()
    case = Case(
        reference=next_reference(session, now.year),
        title=title,
        summary=summary,
        phase=Phase.DETECT.value,
        priority=priority_value,
        tlp=tlp_value,
        aware_at=aware_at,
        insider=insider,
        wrongful_intent=wrongful_intent,
        ongoing=ongoing,
        involved=[name.strip() for name in involved if name.strip()],
        created_by=actor,
    )
    session.add(case)
    session.flush()
    if actor is not None:
        session.add(CaseMember(case_id=case.id, user_id=actor.id, role=CaseRole.CREATOR))
    if lead is not None:
        session.add(CaseMember(case_id=case.id, user_id=lead.id, role=CaseRole.LEAD))
    for tag in clean_tags:
        session.add(CaseTag(case_id=case.id, tag=tag))
    trail.record(session, AuditAction.CASE_CREATE, case, actor, reference=case.reference)
    dashboard.counts_changed(session)
    for playbook in playbooks:
        apply_playbook(session, case, playbook, actor, lang)
    session.flush()
    signals.case_created.send(case, session=session, actor=actor)
    if priority_value in (Priority.P1.value, Priority.P2.value):
        signals.priority_raised.send(case, session=session, actor=actor, reason="created")
    return case
