"""The public follow-up of recurrence-prevention measures (the 2015 city announced 21 measures
and never published their progress).

A lead proposes what the public page says about a measure (title, owner department, due date,
status, a public note as evidence of completion and its date); the public-text guard checks the
texts; a SECOND lead approves it (the proposer cannot) and only then it appears. A case's
measures appear only once a lead publishes the case under a public title. Every step is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import trail as case_trail
from csirt.cases.models import Case
from csirt.db import get_or_raise, utcnow
from csirt.documents import measures, snapshot, trail
from csirt.documents.errors import (
    DocumentNotFoundError,
    DocumentValidationError,
    SelfApprovalError,
)
from csirt.documents.guard import ForbiddenTerms, check_public_text, describe
from csirt.documents.models import (
    MeasurePublication,
    MeasurePublicUpdate,
    MeasureStatus,
    PreventionMeasure,
    PublicDecision,
)

FEED_SIZE = 50


def _record(
    session: Session, user: User, action: AuditAction, measure: PreventionMeasure, update: Any
) -> None:
    """Audit a step of a measure's public text."""
    trail.record(session, user, measure, action, {"update": update.id, "status": update.status})


@dataclass(frozen=True)
class PublicInput:
    """What the public page will say about a measure."""

    title: str
    owner: str
    due: date | None
    status: str
    note: str
    done_on: date | None


def _day(values: Mapping[str, Any], key: str, errors: dict[str, str]) -> date | None:
    value = values.get(key)
    if value is None or value == "" or isinstance(value, date):
        return value or None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[key] = "must be a date (YYYY-MM-DD)"
        return None


def read_public(values: Mapping[str, Any], measure: PreventionMeasure) -> PublicInput:
    """The proposal's fields (the measure's own where not given); every bad field named."""
    errors: dict[str, str] = {}
    title = str(values.get("title") or measure.title).strip()
    owner = str(values.get("owner") or measure.owner).strip()
    status = str(values.get("status") or measure.status)
    note = str(values.get("note") or "").strip()
    if len(title) > 300:
        errors["title"] = "must be at most 300 characters"
    if len(owner) > 200:
        errors["owner"] = "must be at most 200 characters"
    if len(note) > 5000:
        errors["note"] = "must be at most 5000 characters"
    if status not in {s.value for s in MeasureStatus}:
        errors["status"] = "must be one of " + ", ".join(s.value for s in MeasureStatus)
    due = _day(values, "due", errors) if "due" in values else measure.due
    done_on = _day(values, "done_on", errors)
    if status == MeasureStatus.DONE.value and not (note and done_on):
        errors.setdefault("note", "a done measure needs a public note and its date")
    if errors:
        raise DocumentValidationError(errors)
    return PublicInput(title, owner, due, status, note, done_on)


def _guard(session: Session, case_id: int | None, texts: Mapping[str, str]) -> None:
    """Refuse texts with a reporter's identity, a case's internal names or contacts."""
    forbidden = ForbiddenTerms()
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is not None:
            forbidden = ForbiddenTerms(sealed_terms=tuple(snapshot.sealed_terms(session, case)))
    findings = check_public_text(texts, forbidden)
    if findings:
        raise DocumentValidationError(
            {"guard": "the public-text guard refused: " + "; ".join(describe(findings))}
        )


def propose(
    session: Session, user: User, measure: PreventionMeasure, values: PublicInput
) -> MeasurePublicUpdate:
    """A lead's proposal of the public text of a measure (pending until a second lead
    approves it); guarded and audited."""
    _guard(
        session,
        measure.case_id,
        {"title": values.title, "owner": values.owner, "note": values.note},
    )
    update = MeasurePublicUpdate(measure_id=measure.id, proposed_by_id=user.id, **asdict(values))
    session.add(update)
    session.flush()
    _record(session, user, AuditAction.MEASURE_PUBLIC_PROPOSE, measure, update)
    return update


def get_update(session: Session, update_id: int) -> MeasurePublicUpdate:
    """A proposal, or DocumentNotFoundError."""
    return get_or_raise(session, MeasurePublicUpdate, update_id, DocumentNotFoundError)


def decide(session: Session, user: User, update: MeasurePublicUpdate, approve: bool) -> None:
    """A second lead approves (it appears on the public page) or rejects a proposal; the
    proposer may not decide it; audited."""
    if update.decision != PublicDecision.PENDING.value:
        raise DocumentValidationError({"decision": "this proposal is already decided"})
    if update.proposed_by_id == user.id:
        raise SelfApprovalError(update.id)
    update.decision = (PublicDecision.APPROVED if approve else PublicDecision.REJECTED).value
    update.decided_by_id = user.id
    update.decided_at = utcnow()
    session.flush()
    action = AuditAction.MEASURE_PUBLIC_APPROVE if approve else AuditAction.MEASURE_PUBLIC_REJECT
    _record(session, user, action, update.measure, update)


def publish_case(session: Session, user: User, case: Case, title: str) -> MeasurePublication:
    """Publish the case's measures under a public title (guarded; audited); an empty title
    withdraws the case from the public page."""
    title = title.strip()
    if len(title) > 200:
        raise DocumentValidationError({"title": "must be at most 200 characters"})
    row = session.get(MeasurePublication, case.id)
    if not title:
        if row is not None:
            session.delete(row)
    else:
        _guard(session, case.id, {"title": title})
        if row is None:
            row = MeasurePublication(case_id=case.id, title=title)
            session.add(row)
        row.title = title
        row.published_by_id = user.id
        row.published_at = utcnow()
    session.flush()
    case_trail.record(session, AuditAction.MEASURE_PUBLICATION, case, user, published=bool(title))
    return row if row is not None else MeasurePublication(case_id=case.id, title="")


def publication(session: Session, case_id: int) -> MeasurePublication | None:
    """The case's publication, if the case is published."""
    return session.get(MeasurePublication, case_id)


def pending(session: Session, measure_ids: list[int]) -> list[MeasurePublicUpdate]:
    """Pending proposals of these measures, oldest first."""
    if not measure_ids:
        return []
    query = select(MeasurePublicUpdate).where(
        MeasurePublicUpdate.measure_id.in_(measure_ids),
        MeasurePublicUpdate.decision == PublicDecision.PENDING.value,
    )
    return list(session.scalars(query.order_by(MeasurePublicUpdate.id)))


# --- the public page --------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicMeasure(PublicInput):
    """A measure as the public page shows it: only approved texts."""

    updated_at: datetime
    overdue: bool


@dataclass(frozen=True)
class PublicCase:
    """A published case (or, with ``case_id`` None, the organisation-wide measures)."""

    case_id: int | None
    title: str
    measures: list[PublicMeasure]

    @property
    def updated_at(self) -> datetime:
        return max(m.updated_at for m in self.measures)


def _latest_approved() -> Any:
    latest = (
        select(func.max(MeasurePublicUpdate.id))
        .where(MeasurePublicUpdate.decision == PublicDecision.APPROVED.value)
        .group_by(MeasurePublicUpdate.measure_id)
    )
    return (
        select(MeasurePublicUpdate, PreventionMeasure.case_id)
        .join(PreventionMeasure, PreventionMeasure.id == MeasurePublicUpdate.measure_id)
        .where(MeasurePublicUpdate.id.in_(latest))
    )


def _public(update: MeasurePublicUpdate, today: date) -> PublicMeasure:
    overdue = (
        update.due is not None and update.due < today and update.status != MeasureStatus.DONE.value
    )
    shown = {name: getattr(update, name) for name in PublicInput.__dataclass_fields__}
    return PublicMeasure(
        **shown, updated_at=update.decided_at or update.proposed_at, overdue=overdue
    )


def public_cases(session: Session, today: date) -> list[PublicCase]:
    """What ``/measures/`` shows: per published case (and organisation-wide), the latest
    approved text of each measure; newest case first."""
    publications = {p.case_id: p.title for p in session.scalars(select(MeasurePublication))}
    grouped: dict[int | None, list[PublicMeasure]] = {}
    for update, case_id in session.execute(
        _latest_approved().order_by(MeasurePublicUpdate.measure_id)
    ):
        if case_id is not None and case_id not in publications:
            continue
        grouped.setdefault(case_id, []).append(_public(update, today))
    found = [
        PublicCase(case_id, publications.get(case_id, "") if case_id else "", measures)
        for case_id, measures in grouped.items()
    ]
    return sorted(found, key=lambda c: (c.case_id is None, -(c.case_id or 0)))


def feed_entries(session: Session, today: date) -> list[tuple[int, str, PublicMeasure]]:
    """Approved updates of published measures, newest first: (update id, case title, measure)."""
    publications = {p.case_id: p.title for p in session.scalars(select(MeasurePublication))}
    query = (
        select(MeasurePublicUpdate, PreventionMeasure.case_id)
        .join(PreventionMeasure, PreventionMeasure.id == MeasurePublicUpdate.measure_id)
        .where(MeasurePublicUpdate.decision == PublicDecision.APPROVED.value)
        .order_by(MeasurePublicUpdate.decided_at.desc(), MeasurePublicUpdate.id.desc())
        .limit(FEED_SIZE * 4)
    )
    entries = []
    for update, case_id in session.execute(query):
        if case_id is not None and case_id not in publications:
            continue
        title = publications.get(case_id, "") if case_id else ""
        entries.append((update.id, title, _public(update, today)))
    return entries[:FEED_SIZE]


# --- the console's view of the public follow-up -----------------------------------------------


@dataclass(frozen=True)
class MeasureRow:
    """A measure with what the public page shows of it and the proposals awaiting a decision."""

    measure: PreventionMeasure
    shown: MeasurePublicUpdate | None
    pending: list[MeasurePublicUpdate]


def overview(
    session: Session, user: User
) -> tuple[list[MeasureRow], dict[int, Case], dict[int, str]]:
    """The measures the user may reach with their public state, their cases, and the public
    titles of the published cases."""
    rows = measures.measures_for(session, user)
    ids = [m.id for m in rows]
    shown: dict[int, MeasurePublicUpdate] = {}
    if ids:
        for update, _case_id in session.execute(
            _latest_approved().where(MeasurePublicUpdate.measure_id.in_(ids))
        ):
            shown[update.measure_id] = update
    waiting: dict[int, list[MeasurePublicUpdate]] = {}
    for update in pending(session, ids):
        waiting.setdefault(update.measure_id, []).append(update)
    cases = measures.measure_cases(session, rows)
    titles = {
        p.case_id: p.title
        for p in session.scalars(
            select(MeasurePublication).where(MeasurePublication.case_id.in_(sorted(cases)))
        )
    }
    found = [MeasureRow(m, shown.get(m.id), waiting.get(m.id, [])) for m in rows]
    return found, cases, titles
