"""A case's life: priority, phase, closing (with its checklist). Each change leaves an
automatic timeline event and an audit row, and sends its signal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import closing, dashboard, signals, trail
from csirt.cases.errors import CaseValidationError, ClosingRefusedError, TeamTooSmallError
from csirt.cases.models import Case, ChecklistTick, Phase, Priority
from csirt.cases.need_to_know import member_counts
from csirt.catalog import Playbook
from csirt.db import utcnow

OUTCOMES = ("resolved", "contained_no_harm", "false_positive", "duplicate", "referred")

_E = TypeVar("_E", Priority, Phase)


def _member(enum: type[_E], value: str, field: str) -> str:
    """The value of ``enum`` named ``value``; CaseValidationError on ``field`` otherwise."""
    try:
        return enum(value).value
    except ValueError as exc:
        raise CaseValidationError({field: f"unknown {field}"}) from exc


def _moved(
    session: Session,
    case: Case,
    actor: User | None,
    action: AuditAction,
    field: str,
    change: tuple[str, str],
    reason: str,
) -> None:
    """What a move of ``field`` (priority, phase) from ``old`` to ``new`` leaves: an automatic
    timeline event, an audit row, fresh dashboard counts."""
    old, new = change
    trail.auto_event(session, case, actor, field, f"{field.capitalize()} {old} → {new}", reason)
    trail.record(session, action, case, actor, old=old, new=new, reason=reason)
    dashboard.counts_changed(session)
    session.flush()


def change_priority(
    session: Session, case: Case, priority: str, actor: User | None, reason: str = ""
) -> bool:
    """Set the priority; records an automatic event; P1/P2 from lower sends priority_raised."""
    new = _member(Priority, priority, "priority")
    old = case.priority
    if new == old:
        return False
    case.priority = new
    _moved(session, case, actor, AuditAction.CASE_PRIORITY, "priority", (old, new), reason)
    signals.priority_changed.send(case, session=session, actor=actor, old=old, new=new)
    if new in (Priority.P1.value, Priority.P2.value) and new < old:
        signals.priority_raised.send(case, session=session, actor=actor, reason=reason)
    return True


def check_team_for_phase(session: Session, case: Case, phase: str) -> None:
    """TeamTooSmallError if a P1 case would leave detect without a lead and one more member."""
    if case.priority != Priority.P1.value or case.phase != Phase.DETECT.value:
        return
    if phase == Phase.DETECT.value:
        return
    members, leads = member_counts(session, case)
    if leads < 1 or members < 2:
        raise TeamTooSmallError(
            "a P1 case needs a lead and at least one more member before it leaves detect"
        )


def change_phase(
    session: Session, case: Case, phase: str, actor: User | None, reason: str = ""
) -> bool:
    """Move to another open phase (or reopen a closed case); closing goes through close_case."""
    new = _member(Phase, phase, "phase")
    if new == Phase.CLOSED.value:
        raise CaseValidationError({"phase": "use close_case to close a case"})
    old = case.phase
    if new == old:
        return False
    check_team_for_phase(session, case, new)
    case.phase = new
    if old == Phase.CLOSED.value:
        case.closed_at = None
        case.outcome = None
    if case.acknowledged_at is None and old == Phase.DETECT.value:
        case.acknowledged_at = utcnow()
    _moved(session, case, actor, AuditAction.CASE_PHASE, "phase", (old, new), reason)
    signals.phase_changed.send(case, session=session, actor=actor, reason=reason, old=old)
    return True


def close_case(
    session: Session,
    case: Case,
    actor: User | None,
    outcome: str,
    playbooks: Sequence[Playbook],
    reason: str = "",
) -> None:
    """Close the case if its checklist is complete; ClosingRefusedError lists what is missing."""
    if outcome not in OUTCOMES:
        raise CaseValidationError({"outcome": "choose one of " + ", ".join(OUTCOMES)})
    if case.phase == Phase.CLOSED.value:
        raise CaseValidationError({"phase": "the case is already closed"})
    check_team_for_phase(session, case, Phase.CLOSED.value)
    missing = closing.missing_for_closing(session, case, playbooks)
    if missing:
        raise ClosingRefusedError(missing)
    old = case.phase
    now = utcnow()
    case.phase = Phase.CLOSED.value
    case.outcome = outcome
    case.closed_at = now
    if case.acknowledged_at is None:
        case.acknowledged_at = now
    trail.auto_event(session, case, actor, "phase", f"Phase {old} → closed ({outcome})", reason)
    trail.record(session, AuditAction.CASE_CLOSE, case, actor, old=old, outcome=outcome)
    dashboard.counts_changed(session)
    session.flush()
    signals.phase_changed.send(case, session=session, actor=actor, reason=reason, old=old)


def tick_checklist_item(
    session: Session, case: Case, item: str, actor: User | None, ticked: bool = True
) -> None:
    """Confirm (or withdraw) a manual checklist item ``playbook_id:key``."""
    row = session.scalar(
        select(ChecklistTick).where(ChecklistTick.case_id == case.id, ChecklistTick.item == item)
    )
    if ticked and row is None:
        session.add(
            ChecklistTick(case_id=case.id, item=item, ticked_by_id=actor.id if actor else None)
        )
    elif not ticked and row is not None:
        session.delete(row)
    else:
        return
    trail.record(session, AuditAction.CASE_CHECKLIST, case, actor, item=item, ticked=ticked)
    session.flush()
