"""Alerts: raise (de-duplicated by source reference), list, merge into a case, open a case, ignore.

Every function takes the session explicitly and never commits; every change is audited. An
alert's observables are normalised when it arrives and handed to the case (through the
observables service) when it is merged or opens one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from csirt.alerts import signals
from csirt.alerts.errors import AlertDecidedError, AlertNotFoundError, AlertValidationError
from csirt.alerts.models import Alert, AlertStatus, Severity
from csirt.alerts.observables import hand_to_case, merge_observables, normalise_all
from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases.creation import create_case
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.models import Case, Priority
from csirt.cases.need_to_know import get_case_for
from csirt.catalog import Playbook
from csirt.db import Page, id_page, utcnow

# A new case's priority from the alert's severity (triage adjusts it once data sets are known).
SEVERITY_PRIORITY = {
    Severity.CRITICAL.value: Priority.P2,
    Severity.HIGH.value: Priority.P3,
    Severity.MEDIUM.value: Priority.P3,
    Severity.LOW.value: Priority.P4,
}
MAX_REASON = 500


@dataclass(frozen=True)
class AlertInput:
    """What a source says about an alert (the API body, or a mail)."""

    source: str
    source_ref: str
    type: str
    title: str
    description: str = ""
    severity: str = Severity.MEDIUM.value
    occurred_at: datetime | None = None
    observables: Sequence[dict[str, Any]] = field(default_factory=tuple)


@dataclass(frozen=True)
class Raised:
    alert: Alert
    created: bool  # False: a repeat of an alert already known (counted)


@dataclass(frozen=True)
class AlertFilters:
    status: str | None = None
    source: str | None = None
    severity: str | None = None


def _record(
    session: Session,
    action: AuditAction,
    alert: Alert,
    user: User | None,
    case_id: int | None = None,
    **details: Any,
) -> None:
    where: dict[str, Any] = {"object_type": "alert", "object_id": alert.id, "case_id": case_id}
    audit.record(session, action, actor=audit.actor_of(user), details=details or None, **where)


def _check(data: AlertInput) -> list[dict[str, Any]]:
    errors: dict[str, str] = {}
    for name, limit in (("source", 64), ("source_ref", 255), ("type", 64), ("title", 200)):
        value = getattr(data, name).strip()
        if not value:
            errors[name] = "required"
        elif len(value) > limit:
            errors[name] = f"must be at most {limit} characters"
    if data.severity not in {s.value for s in Severity}:
        errors["severity"] = "must be one of " + ", ".join(s.value for s in Severity)
    observables, bad = normalise_all(data.observables)
    errors.update(bad)
    if errors:
        raise AlertValidationError(errors)
    return observables


def _insert_new(session: Session, values: dict[str, Any]) -> int | None:
    """Insert unless ``(source, source_ref)`` exists (also when another transaction inserts it
    at the same moment: the unique index decides, on SQLite and PostgreSQL alike)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Alert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "source_ref"])
        .returning(Alert.id)
    )
    new_id: int | None = session.execute(statement).scalar_one_or_none()
    return new_id


def raise_alert(session: Session, data: AlertInput, actor: User | None) -> Raised:
    """A new alert, or the known one with this ``(source, source_ref)`` counted and updated."""
    observables = _check(data)
    now = utcnow()
    source, source_ref = data.source.strip(), data.source_ref.strip()
    new_id = _insert_new(
        session,
        {
            "source": source,
            "source_ref": source_ref,
            "type": data.type.strip(),
            "title": data.title.strip(),
            "description": data.description,
            "severity": data.severity,
            "status": AlertStatus.NEW.value,
            "occurred_at": data.occurred_at,
            "first_seen": now,
            "last_seen": now,
            "count": 1,
            "observables": observables,
            "raised_by_id": actor.id if actor is not None else None,
            "ignore_reason": "",
        },
    )
    if new_id is not None:
        alert = session.get_one(Alert, new_id)
        _record(session, AuditAction.ALERT_RAISE, alert, actor, source=source)
        session.flush()
        signals.raised.send(alert, session=session)
        return Raised(alert, True)
    alert = session.scalars(
        select(Alert)
        .where(Alert.source == source, Alert.source_ref == source_ref)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    known = {(o["type"], o["value"]) for o in alert.observables}
    added = [o for o in observables if (o["type"], o["value"]) not in known]
    alert.count = alert.count + 1
    alert.last_seen = now
    alert.title = data.title.strip()
    alert.description = data.description
    alert.severity = data.severity
    alert.occurred_at = data.occurred_at or alert.occurred_at
    alert.observables = merge_observables(alert.observables, observables)
    _record(session, AuditAction.ALERT_REPEAT, alert, actor, count=alert.count, added=len(added))
    if added and alert.case_id is not None:
        # Already merged: what the repeat brings goes to the case too.
        case = session.get(Case, alert.case_id)
        if case is not None:
            hand_to_case(session, case, actor, alert, added)
    session.flush()
    return Raised(alert, False)


def list_alerts(
    session: Session,
    filters: AlertFilters | None = None,
    *,
    limit: int = 50,
    cursor: int | None = None,
) -> Page[Alert]:
    """Newest first, keyset-paginated on the id (the index on status and id serves the queue)."""
    filters = filters or AlertFilters()
    query = select(Alert)
    if filters.status:
        query = query.where(Alert.status == filters.status)
    if filters.source:
        query = query.where(Alert.source == filters.source)
    if filters.severity:
        query = query.where(Alert.severity == filters.severity)
    return id_page(session, query, Alert.id, limit=limit, cursor=cursor)


def sources(session: Session) -> list[str]:
    """The sources that raised alerts (for the queue's filter)."""
    return list(session.scalars(select(Alert.source).distinct().order_by(Alert.source).limit(100)))


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFoundError(alert_id)
    return alert


def view_alert(session: Session, alert_id: int, actor: User) -> Alert:
    """The alert, its view audited (its observables may be sensitive)."""
    alert = get_alert(session, alert_id)
    _record(session, AuditAction.ALERT_VIEW, alert, actor)
    return alert


def _undecided(session: Session, alert_id: int) -> Alert:
    alert = session.scalars(
        select(Alert)
        .where(Alert.id == alert_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if alert is None:
        raise AlertNotFoundError(alert_id)
    if alert.status != AlertStatus.NEW.value:
        raise AlertDecidedError(f"the alert is {alert.status} already")
    return alert


def _decide(alert: Alert, actor: User, status: AlertStatus) -> None:
    alert.status = status.value
    alert.decided_by_id = actor.id
    alert.decided_at = utcnow()


def merge(session: Session, alert_id: int, case_id: int, actor: User) -> Case:
    """Merge a new alert into a case the actor may see; the case keeps its observables."""
    alert = _undecided(session, alert_id)
    try:
        case = get_case_for(session, actor, case_id)
    except CaseNotFoundError:
        raise AlertValidationError({"case_id": "no such case"}) from None
    _decide(alert, actor, AlertStatus.MERGED)
    alert.case_id = case.id
    _record(session, AuditAction.ALERT_MERGE, alert, actor, case_id=case.id)
    hand_to_case(session, case, actor, alert, alert.observables)
    session.flush()
    return case


def open_case(
    session: Session,
    alert_id: int,
    actor: User,
    *,
    playbook: Playbook | None,
    lang: str = "ja",
) -> Case:
    """Open a case from a new alert (as the console's new-case form does), with a playbook's
    tasks counted from when the alert occurred; the case keeps the alert's observables."""
    alert = _undecided(session, alert_id)
    case = create_case(
        session,
        title=alert.title,
        summary=alert.description,
        actor=actor,
        priority=SEVERITY_PRIORITY.get(alert.severity, Priority.P3),
        aware_at=alert.occurred_at or alert.first_seen,
        playbooks=[playbook] if playbook is not None else [],
        lang=lang,
    )
    _decide(alert, actor, AlertStatus.MERGED)
    alert.case_id = case.id
    _record(
        session,
        AuditAction.ALERT_OPEN_CASE,
        alert,
        actor,
        case_id=case.id,
        playbook=playbook.id if playbook else None,
    )
    hand_to_case(session, case, actor, alert, alert.observables)
    session.flush()
    return case


def ignore(session: Session, alert_id: int, actor: User, reason: str) -> Alert:
    """Ignore a new alert, saying why."""
    reason = " ".join(reason.split())
    if not reason:
        raise AlertValidationError({"reason": "required"})
    if len(reason) > MAX_REASON:
        raise AlertValidationError({"reason": f"must be at most {MAX_REASON} characters"})
    alert = _undecided(session, alert_id)
    _decide(alert, actor, AlertStatus.IGNORED)
    alert.ignore_reason = reason
    _record(session, AuditAction.ALERT_IGNORE, alert, actor)
    session.flush()
    return alert
