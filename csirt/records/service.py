"""Case records: data sets, evidence and custody, takedowns, notes, liaison, public inquiries.

Every function takes the session explicitly and the case already loaded through
``csirt.cases.need_to_know.get_case_for`` (the need-to-know check); callers commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, tzinfo
from typing import IO, Any, TypeVar

from sqlalchemy import Integer, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import history
from csirt.cases.models import (
    AffectedDataset,
    Case,
    CustodyEntry,
    Evidence,
    Inquiry,
    LiaisonEntry,
    Note,
    TakedownRequest,
)
from csirt.cases.signals import facts_changed, mentioned
from csirt.db import Base, utcnow
from csirt.records.storage import EvidenceStore, StoredBlob
from csirt.records.validation import (
    CustodyInput,
    DatasetInput,
    EvidenceInput,
    InquiryInput,
    LiaisonInput,
    RecordValidationError,
    TakedownAnswer,
    TakedownInput,
    read_dataset,
    read_liaison,
    read_note,
)
from csirt.triage.vocabulary import Vocabulary

# Content types the server recognises from the bytes themselves; the client's claim is ignored.
SNIFF_LEN = 512
CAPTURE_TYPES = frozenset({"text/html", "image/png", "image/jpeg", "application/pdf"})
MAX_CHART_SPAN_DAYS = 400

M = TypeVar("M", bound=Base)

# The object type of each record kind in the audit log.
_OBJECT_TYPES: dict[type, str] = {
    AffectedDataset: "dataset",
    Evidence: "evidence",
    TakedownRequest: "takedown",
    Note: "note",
    LiaisonEntry: "liaison",
    Inquiry: "inquiry",
}


class RecordError(Exception):
    """Base of record errors shown to the user."""


class RecordNotFoundError(RecordError):
    """No such record in this case."""


class NotAuthorError(RecordError):
    """Only a note's author may edit it."""


def _audit(
    session: Session,
    action: AuditAction,
    actor: User,
    case: Case,
    row: Any,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit a change of one record of the case (its kind is the object type)."""
    audit.record(
        session,
        action,
        actor=audit.Actor(actor.id, actor.username),
        object_type=_OBJECT_TYPES[type(row)],
        object_id=row.id,
        case_id=case.id,
        details=details,
    )


def _add(
    session: Session,
    case: Case,
    actor: User,
    action: AuditAction,
    row: M,
    details: dict[str, Any] | None = None,
) -> M:
    """Insert a record of the case and audit its creation."""
    session.add(row)
    session.flush()
    _audit(session, action, actor, case, row, details)
    return row


def _fields(data: Any) -> dict[str, Any]:
    """The fields of a validated input (a dataclass named like the record's columns)."""
    return {f.name: getattr(data, f.name) for f in fields(data)}


def merged(row: Any, input_type: type, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The record's fields named by its validated input type, as a form or JSON gives them
    (instants in ISO 8601), with ``changes`` applied: what the shared reader reads again."""
    values: dict[str, Any] = {}
    for item in fields(input_type):
        value = getattr(row, item.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, list | tuple):
            value = list(value)
        values[item.name] = value
    return values | dict(changes)


def _assign(row: Any, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)


def _of_case(session: Session, model: type[M], case: Case, *order_by: Any) -> list[M]:
    """Every record of ``model`` in the case, in the given order."""
    query = select(model).where(model.case_id == case.id)  # type: ignore[attr-defined]
    return list(session.scalars(query.order_by(*order_by)))


def get_record(session: Session, model: type[M], case: Case, record_id: int) -> M:
    """A record of ``model`` that belongs to ``case`` (else RecordNotFoundError)."""
    row = session.get(model, record_id)
    if row is None or getattr(row, "case_id", None) != case.id:
        raise RecordNotFoundError(record_id)
    return row


def page_of(
    session: Session, model: type[M], case: Case, *, limit: int, cursor: int | None
) -> tuple[list[M], int | None]:
    """Rows of a case's collection, newest first, keyset-paginated on the id."""
    column = model.id  # type: ignore[attr-defined]
    query = select(model).where(model.case_id == case.id)  # type: ignore[attr-defined]
    if cursor is not None:
        query = query.where(column < cursor)
    rows = list(session.scalars(query.order_by(column.desc()).limit(limit + 1)))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None  # type: ignore[attr-defined]
    return rows[:limit], next_cursor


def user_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """Display names of the given users (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(wanted))
    )
    return {uid: display or username for uid, display, username in rows}


# --- affected data sets -------------------------------------------------------------------


DATASET_KIND = "dataset"
"""The ``RecordVersion.kind`` of affected data sets."""


def _apply_dataset(row: AffectedDataset, data: DatasetInput) -> None:
    for name, value in _fields(data).items():
        setattr(row, name, list(value) if name == "items" else value)


def _audit_dataset(
    session: Session, case: Case, actor: User, action: AuditAction, row: AffectedDataset
) -> None:
    session.flush()
    _audit(
        session,
        action,
        actor,
        case,
        row,
        {
            "name": row.name,
            "items": list(row.items),
            "persons": row.persons,
            "exposure": row.exposure,
        },
    )


def _tell_triage(session: Session, case: Case, actor: User | None) -> None:
    # Triage reads the data sets: let it re-run in this same transaction.
    facts_changed.send(case, session=session, actor=actor, reason="datasets")


def list_datasets(session: Session, case: Case) -> list[AffectedDataset]:
    """The case's data sets in the order they were added."""
    return _of_case(session, AffectedDataset, case, AffectedDataset.id)


def add_dataset(session: Session, case: Case, actor: User, data: DatasetInput) -> AffectedDataset:
    """Record an affected data set; audited, and triage is told."""
    row = AffectedDataset(case_id=case.id)
    _apply_dataset(row, data)
    session.add(row)
    _audit_dataset(session, case, actor, AuditAction.DATASET_CREATE, row)
    _tell_triage(session, case, actor)
    return row


def _audit_change(
    session: Session, action: AuditAction, case: Case, actor: User | None, row: Any
) -> None:
    """The audit of a correction (``csirt.cases.history``) of one record of the case."""
    assert actor is not None  # records are changed by people
    if isinstance(row, AffectedDataset):
        _audit_dataset(session, case, actor, action, row)
    else:
        _audit(session, action, actor, case, row)


def _kind(name: str, model: type[M], actions: history.Actions, **options: Any) -> history.Kind[M]:
    """A kind of record of this package corrected with history: RecordNotFoundError when it is
    not in the case, each change audited by :func:`_audit_change`."""
    return history.Kind(
        name=name,
        model=model,
        missing=RecordNotFoundError,
        actions=actions,
        audit=_audit_change,
        **options,
    )


DATASET = _kind(
    DATASET_KIND,
    AffectedDataset,
    history.Actions(
        AuditAction.DATASET_UPDATE, AuditAction.DATASET_DELETE, AuditAction.DATASET_RESTORE
    ),
    changed=_tell_triage,
)
"""Data sets are corrected with history; every change re-runs triage."""


def update_dataset(
    session: Session,
    case: Case,
    actor: User,
    dataset_id: int,
    data: DatasetInput,
    reason: str = "",
) -> AffectedDataset:
    """Change a data set; its previous version is kept (who, when, why); audited, and triage
    is told."""
    row = history.get(session, DATASET, case, dataset_id)
    return history.edit(
        session, DATASET, case, actor, row, lambda r: _apply_dataset(r, data), reason
    )


def correct_dataset(
    session: Session,
    case: Case,
    actor: User,
    row: AffectedDataset,
    changes: Mapping[str, Any],
    reason: str,
    vocabulary: Vocabulary,
    zone: tzinfo,
) -> AffectedDataset:
    """Apply the changed fields (as JSON gives them) with history; RecordValidationError."""
    data = read_dataset(merged(row, DatasetInput, changes), vocabulary, zone)
    return update_dataset(session, case, actor, row.id, data, reason)


def delete_dataset(session: Session, case: Case, actor: User, dataset_id: int, reason: str) -> None:
    """Remove a data set with a reason (soft: it moves to its history, a lead may restore it);
    audited, and triage is told."""
    row = history.get(session, DATASET, case, dataset_id)
    history.delete(session, DATASET, case, actor, row, reason)


def restore_dataset(
    session: Session, case: Case, actor: User, dataset_id: int, reason: str = ""
) -> AffectedDataset:
    """Put a deleted data set back with its id (the caller checks the actor is a lead);
    audited, and triage is told."""
    return history.restore(session, DATASET, case, actor, dataset_id, reason)


@dataclass(frozen=True)
class DatasetTotals:
    datasets: int
    persons: int
    any_estimated: bool
    items: tuple[str, ...]  # distinct item keys, in first-seen order
    sensitive_items: tuple[str, ...]


def dataset_totals(rows: Sequence[AffectedDataset], sensitive: frozenset[str]) -> DatasetTotals:
    """Persons summed over the data sets (people may appear in several) and distinct items."""
    items: list[str] = []
    for row in rows:
        items += [key for key in row.items if key not in items]
    return DatasetTotals(
        datasets=len(rows),
        persons=sum(row.persons for row in rows),
        any_estimated=any(row.persons_estimated for row in rows),
        items=tuple(items),
        sensitive_items=tuple(key for key in items if key in sensitive),
    )


# --- evidence and custody ----------------------------------------------------------------


def sniff_content_type(head: bytes) -> str:
    """The content type of a file from its first bytes (never from the client's claim)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta")):
        return "text/html"
    return "application/octet-stream"


def clean_filename(name: str | None) -> str:
    """A display name only (never a path): last path segment, no control characters."""
    if not name:
        return ""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in last if ch.isprintable()).strip().lstrip(".")
    return cleaned[:255]


def add_evidence(
    session: Session,
    store: EvidenceStore,
    case: Case,
    actor: User,
    data: EvidenceInput,
    stream: IO[bytes],
    filename: str | None,
    *,
    via: str = "console",
) -> tuple[Evidence, StoredBlob]:
    """Store an uploaded file (content-addressed) and record it with a ``collected`` entry.

    The caller commits; if that fails it must call :func:`discard_blob` so no orphan file stays.
    """
    head = stream.read(SNIFF_LEN)
    stream.seek(0)
    if not head:
        raise RecordValidationError({"file": "the file is empty"})
    content_type = sniff_content_type(head)
    if data.kind == "web_capture" and content_type not in CAPTURE_TYPES:
        raise RecordValidationError({"file": "a capture must be HTML, PNG, JPEG or PDF"})
    blob = store.put(stream)
    try:
        evidence = Evidence(
            case_id=case.id,
            kind=data.kind,
            title=data.title or clean_filename(filename) or blob.sha256[:12],
            filename=clean_filename(filename),
            content_type=content_type,
            size=blob.size,
            sha256=blob.sha256,
            storage_key=blob.key,
            url=data.url,
            captured_at=data.captured_at,
            description=data.description,
            added_by_id=actor.id,
        )
        session.add(evidence)
        session.flush()
        session.add(
            CustodyEntry(
                evidence_id=evidence.id,
                actor_id=actor.id,
                action="collected",
                note=f"uploaded via {via}; sha256 {blob.sha256}",
            )
        )
        _audit(
            session,
            AuditAction.EVIDENCE_ADD,
            actor,
            case,
            evidence,
            {"sha256": blob.sha256, "size": blob.size, "kind": data.kind},
        )
        session.flush()
    except BaseException:
        discard_blob(session, store, blob)
        raise
    return evidence, blob


def discard_blob(session: Session, store: EvidenceStore, blob: StoredBlob) -> None:
    """Remove a just-created file whose row was not saved (a rollback must precede this)."""
    if not blob.created:
        return
    session.rollback()
    still_used = session.scalar(
        select(func.count()).select_from(Evidence).where(Evidence.storage_key == blob.key)
    )
    if not still_used:
        store.discard(blob)


def list_evidence(session: Session, case: Case) -> list[Evidence]:
    """The case's evidence, oldest first."""
    return _of_case(session, Evidence, case, Evidence.id)


def custody_of(session: Session, evidence: Evidence) -> list[tuple[CustodyEntry, User | None]]:
    """The chain of custody with each entry's actor."""
    query = (
        select(CustodyEntry, User)
        .outerjoin(User, User.id == CustodyEntry.actor_id)
        .where(CustodyEntry.evidence_id == evidence.id)
        .order_by(CustodyEntry.id)
    )
    return [(entry, user) for entry, user in session.execute(query)]


def add_custody(
    session: Session, case: Case, actor: User, evidence_id: int, data: CustodyInput
) -> CustodyEntry:
    """A hand-made custody entry (a transfer or something else), audited."""
    evidence = get_record(session, Evidence, case, evidence_id)
    entry = CustodyEntry(
        evidence_id=evidence.id, actor_id=actor.id, action=data.action, note=data.note
    )
    session.add(entry)
    session.flush()
    _audit(session, AuditAction.EVIDENCE_CUSTODY, actor, case, evidence, {"action": data.action})
    return entry


def open_for_download(
    session: Session, case: Case, actor: User, evidence_id: int, *, via: str = "console"
) -> Evidence:
    """Log a download in the chain of custody and the audit log; return the evidence."""
    evidence = get_record(session, Evidence, case, evidence_id)
    session.add(
        CustodyEntry(
            evidence_id=evidence.id, actor_id=actor.id, action="downloaded", note=f"via {via}"
        )
    )
    _audit(
        session, AuditAction.EVIDENCE_DOWNLOAD, actor, case, evidence, {"sha256": evidence.sha256}
    )
    session.flush()
    return evidence


# --- takedown and search-cache removal requests -------------------------------------------


def list_takedowns(session: Session, case: Case) -> list[TakedownRequest]:
    """The case's takedown and cache-removal requests, oldest first."""
    return _of_case(session, TakedownRequest, case, TakedownRequest.id)


def add_takedown(session: Session, case: Case, actor: User, data: TakedownInput) -> TakedownRequest:
    """Record a request sent to a site operator or search engine."""
    if data.evidence_id is not None:
        try:
            get_record(session, Evidence, case, data.evidence_id)
        except RecordNotFoundError:
            raise RecordValidationError({"evidence_id": "no such evidence in this case"}) from None
    row = TakedownRequest(
        case_id=case.id, **(_fields(data) | {"requested_at": data.requested_at or utcnow()})
    )
    return _add(
        session,
        case,
        actor,
        AuditAction.TAKEDOWN_CREATE,
        row,
        {"kind": row.kind, "status": row.status},
    )


def answer_takedown(
    session: Session, case: Case, actor: User, takedown_id: int, data: TakedownAnswer
) -> TakedownRequest:
    """Record the status and answer of a request."""
    row = get_record(session, TakedownRequest, case, takedown_id)
    answered_at = data.answered_at
    if answered_at is None and data.status != "requested":
        answered_at = utcnow()
    if answered_at is not None and answered_at < row.requested_at:
        raise RecordValidationError({"answered_at": "must not be before the request"})
    row.status = data.status
    row.answer = data.answer
    row.answered_at = answered_at
    session.flush()
    _audit(session, AuditAction.TAKEDOWN_UPDATE, actor, case, row, {"status": row.status})
    return row


# --- notes --------------------------------------------------------------------------------


def list_notes(session: Session, case: Case) -> list[Note]:
    """The case's notes, oldest first."""
    return _of_case(session, Note, case, Note.id)


def add_note(session: Session, case: Case, actor: User, body: str) -> Note:
    """Add a Markdown note."""
    note = Note(case_id=case.id, author_id=actor.id, body=body)
    note = _add(session, case, actor, AuditAction.NOTE_CREATE, note)
    mentioned.send(case, session=session, text=body, path=_notes_path(case), actor=actor)
    return note


NOTE = _kind(
    "note",
    Note,
    history.Actions(AuditAction.NOTE_UPDATE, AuditAction.NOTE_DELETE, AuditAction.NOTE_RESTORE),
)
"""Notes are corrected with history (only by their author)."""


def edit_note(
    session: Session, case: Case, actor: User, note_id: int, body: str, reason: str = ""
) -> Note:
    """Change one's own note (NotAuthorError for anyone else's); the previous text is kept."""
    note = get_record(session, Note, case, note_id)
    if note.author_id != actor.id:
        raise NotAuthorError(note_id)
    previous = note.body
    history.edit(session, NOTE, case, actor, note, lambda row: setattr(row, "body", body), reason)
    mentioned.send(
        case, session=session, text=body, previous=previous, path=_notes_path(case), actor=actor
    )
    return note


def correct_note(
    session: Session,
    case: Case,
    actor: User,
    row: Note,
    changes: Mapping[str, Any],
    reason: str,
    zone: tzinfo,
) -> Note:
    """Apply a changed body (form or JSON) with history; RecordValidationError, NotAuthorError."""
    body = read_note({"body": row.body} | dict(changes), zone)
    return edit_note(session, case, actor, row.id, body, reason)


def _notes_path(case: Case) -> str:
    return f"/console/cases/{case.id}/notes"


# --- liaison ------------------------------------------------------------------------------


def list_liaison(session: Session, case: Case) -> list[LiaisonEntry]:
    """Contacts with outside parties, most recent contact first."""
    return _of_case(session, LiaisonEntry, case, LiaisonEntry.contact_at.desc(), LiaisonEntry.id)


def add_liaison(session: Session, case: Case, actor: User, data: LiaisonInput) -> LiaisonEntry:
    """Record a contact with police, the regulator, JPCERT/CC, a vendor, a lawyer..."""
    row = LiaisonEntry(case_id=case.id, recorded_by_id=actor.id, **_fields(data))
    return _add(
        session, case, actor, AuditAction.LIAISON_CREATE, row, {"party_kind": row.party_kind}
    )


LIAISON = _kind(
    "liaison",
    LiaisonEntry,
    history.Actions(
        AuditAction.LIAISON_UPDATE, AuditAction.LIAISON_DELETE, AuditAction.LIAISON_RESTORE
    ),
)
"""Liaison entries are corrected with history."""


def correct_liaison(
    session: Session,
    case: Case,
    actor: User,
    row: LiaisonEntry,
    changes: Mapping[str, Any],
    reason: str,
    zone: tzinfo,
) -> LiaisonEntry:
    """Apply the changed fields (form or JSON) with history; RecordValidationError."""
    data = read_liaison(merged(row, LiaisonInput, changes), zone)
    return history.edit(
        session, LIAISON, case, actor, row, lambda r: _assign(r, _fields(data)), reason
    )


# --- public inquiries ---------------------------------------------------------------------


def add_inquiry(session: Session, case: Case, actor: User, data: InquiryInput) -> Inquiry:
    """Record a public inquiry."""
    row = Inquiry(
        case_id=case.id,
        recorded_by_id=actor.id,
        answered_at=utcnow() if data.answered else None,
        **_fields(data),
    )
    return _add(session, case, actor, AuditAction.INQUIRY_CREATE, row, {"channel": row.channel})


def mark_answered(session: Session, case: Case, actor: User, inquiry_id: int) -> Inquiry:
    """Mark an inquiry answered (idempotent)."""
    row = get_record(session, Inquiry, case, inquiry_id)
    if not row.answered:
        row.answered = True
        row.answered_at = utcnow()
        session.flush()
        _audit(session, AuditAction.INQUIRY_UPDATE, actor, case, row, {"answered": True})
    return row


@dataclass(frozen=True)
class DayCount:
    day: date
    total: int
    answered: int


def inquiry_counts(session: Session, case: Case) -> list[DayCount]:
    """Inquiries per day received (only days with any), from the (case_id, received_on) index."""
    answered = func.sum(sql_case((Inquiry.answered.is_(True), 1), else_=0)).cast(Integer)
    query = (
        select(Inquiry.received_on, func.count(), answered)
        .where(Inquiry.case_id == case.id)
        .group_by(Inquiry.received_on)
        .order_by(Inquiry.received_on)
    )
    return [
        DayCount(day, int(total), int(done or 0)) for day, total, done in session.execute(query)
    ]


def fill_days(counts: Sequence[DayCount]) -> list[DayCount]:
    """Every day from the first to the last (zeros in between), so gaps show on the chart.

    Over a very long span only the days with inquiries are kept, to bound the chart.
    """
    if not counts:
        return []
    first, last = counts[0].day, counts[-1].day
    if (last - first).days > MAX_CHART_SPAN_DAYS:
        return list(counts)
    by_day = {c.day: c for c in counts}
    return [
        by_day.get(first + timedelta(days=n), DayCount(first + timedelta(days=n), 0, 0))
        for n in range((last - first).days + 1)
    ]


@dataclass(frozen=True)
class ChartBar:
    day: date
    total: int
    answered: int
    y: int
    total_width: int
    answered_width: int


@dataclass(frozen=True)
class Chart:
    bars: list[ChartBar]
    height: int
    bar_x: int
    bar_height: int
    max_width: int
    peak: int


def inquiry_chart(
    counts: Sequence[DayCount], *, max_width: int = 520, row: int = 22, bar_x: int = 120
) -> Chart:
    """Geometry of a horizontal bar chart (one bar per day) for an inline SVG."""
    days = fill_days(counts)
    peak = max((d.total for d in days), default=0)
    bars = [
        ChartBar(
            day=d.day,
            total=d.total,
            answered=d.answered,
            y=i * row,
            total_width=round(d.total * max_width / peak) if peak else 0,
            answered_width=round(d.answered * max_width / peak) if peak else 0,
        )
        for i, d in enumerate(days)
    ]
    return Chart(bars, len(bars) * row, bar_x, row - 6, max_width, peak)
