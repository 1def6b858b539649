"""A case's timeline: validated events (form, JSON, CSV), batch import, filtered keyset pages
with opaque cursors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    BindParameter,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    insert,
    inspect,
    or_,
    select,
)
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import history, search, trail
from csirt.cases.errors import CaseValidationError, EventNotFoundError
from csirt.cases.models import (
    Case,
    Evidence,
    Precision,
    TimelineEvent,
    Visibility,
)
from csirt.dates import in_range, parse_day, parse_instant
from csirt.db import read_rows, utcnow

CATEGORIES = (
    "event",
    "detection",
    "report",
    "action",
    "communication",
    "publication",
    "legal",
    "phase",
    "priority",
)


@dataclass(frozen=True)
class EventInput:
    """A validated timeline event, ready to store."""

    occurred_at: datetime
    precision: str
    title: str
    description: str = ""
    source: str = ""
    actor: str = ""
    category: str = "event"
    visibility: str = Visibility.INTERNAL.value
    evidence_ids: tuple[int, ...] = field(default_factory=tuple)


def parse_when(text: str, zone: Any) -> tuple[datetime, str]:
    """Parse ``YYYY-MM-DD`` (day precision) or an ISO date-time (minute precision).

    A date or a date-time without an offset is read in ``zone``. ValueError if unreadable.
    """
    text = text.strip()
    if not text:
        raise ValueError("required")
    if len(text) == 10:
        day = parse_day(text)
        return in_range(datetime(day.year, day.month, day.day, tzinfo=zone)).astimezone(UTC), "day"
    value = parse_instant(text.replace(" ", "T", 1), zone)
    return value.astimezone(UTC), "minute"


def validate_event(
    data: Mapping[str, Any], zone: Any, *, evidence_ids_allowed: set[int] | None = None
) -> EventInput:
    """Check a timeline event given as strings (form, JSON or CSV); CaseValidationError."""
    errors: dict[str, str] = {}
    occurred_at = utcnow()
    precision = ""
    raw_when = data.get("occurred_at")
    if not isinstance(raw_when, str):
        errors["occurred_at"] = "required: YYYY-MM-DD or an ISO 8601 date and time"
    else:
        try:
            occurred_at, precision = parse_when(raw_when, zone)
        except ValueError:
            errors["occurred_at"] = "required: YYYY-MM-DD or an ISO 8601 date and time"
    raw_precision = data.get("precision") or precision or "minute"
    if not isinstance(raw_precision, str) or raw_precision not in {p.value for p in Precision}:
        errors["precision"] = "month, day, approx or minute"
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        errors["title"] = "required"
    elif len(title.strip()) > 200:
        errors["title"] = "at most 200 characters"
    texts: dict[str, str] = {}
    for name, limit in (("description", 20000), ("source", 100), ("actor", 100)):
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = "must be text"
        elif len(value) > limit:
            errors[name] = f"at most {limit} characters"
        else:
            texts[name] = value
    category = data.get("category") or "event"
    if not isinstance(category, str) or category not in CATEGORIES:
        errors["category"] = "one of " + ", ".join(CATEGORIES)
    visibility = data.get("visibility") or Visibility.INTERNAL.value
    if not isinstance(visibility, str) or visibility not in {v.value for v in Visibility}:
        errors["visibility"] = "internal or public"
    evidence: list[int] = []
    raw_evidence = data.get("evidence_ids") or []
    if isinstance(raw_evidence, str):
        raw_evidence = [part for part in raw_evidence.replace(";", " ").split() if part]
    try:
        evidence = [int(x) for x in raw_evidence]
    except (TypeError, ValueError):
        errors["evidence_ids"] = "a list of evidence ids"
    if evidence and evidence_ids_allowed is not None and not set(evidence) <= evidence_ids_allowed:
        errors["evidence_ids"] = "unknown evidence of this case"
    if errors:
        raise CaseValidationError(errors)
    if raw_precision in ("day", "month"):
        # A day-precision time is kept at the start of that day in the configured zone, a
        # month-precision one at the start of its month.
        local = occurred_at.astimezone(zone)
        day = 1 if raw_precision == "month" else local.day
        occurred_at = datetime(local.year, local.month, day, tzinfo=zone).astimezone(UTC)
    return EventInput(
        occurred_at=occurred_at,
        precision=str(raw_precision),
        title=str(title).strip(),
        description=texts["description"],
        source=texts["source"].strip(),
        actor=texts["actor"].strip(),
        category=str(category),
        visibility=str(visibility),
        evidence_ids=tuple(evidence),
    )


def case_evidence_ids(session: Session, case: Case) -> set[int]:
    """Ids of the case's evidence (links from timeline events must point at these)."""
    return set(session.scalars(select(Evidence.id).where(Evidence.case_id == case.id)))


def _event_row(case: Case, actor: User | None, item: EventInput) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "occurred_at": item.occurred_at,
        "precision": item.precision,
        "recorded_at": utcnow(),
        "source": item.source,
        "actor": item.actor,
        "title": item.title,
        "description": item.description,
        "category": item.category,
        "visibility": item.visibility,
        "automatic": False,
        "created_by_id": actor.id if actor else None,
        "evidence_ids": list(item.evidence_ids),
    }


def add_event(session: Session, case: Case, actor: User | None, item: EventInput) -> TimelineEvent:
    """Record one timeline event."""
    row = TimelineEvent(**_event_row(case, actor, item))
    session.add(row)
    session.flush()
    trail.record(session, AuditAction.TIMELINE_ADD, case, actor, event=row.id)
    return row


def add_events(
    session: Session, case: Case, actor: User | None, items: Sequence[EventInput]
) -> int:
    """Record many events in batches of multi-row INSERTs (CSV import)."""
    rows = [_event_row(case, actor, item) for item in items]
    for start in range(0, len(rows), 1000):
        session.execute(insert(TimelineEvent), rows[start : start + 1000])
    trail.record(session, AuditAction.TIMELINE_IMPORT, case, actor, events=len(rows))
    session.flush()
    search.reindex(session, [case.id])  # Core INSERTs: the session hook does not see them
    return len(rows)


@dataclass(frozen=True)
class TimelineFilters:
    category: str | None = None
    visibility: str | None = None
    text: str | None = None


Item = TypeVar("Item")


@dataclass(frozen=True)
class EventPage(Generic[Item]):
    """A page of events (or of their rows) and the cursor of the next page, if any."""

    items: list[Item]
    next_cursor: str | None


def encode_event_cursor(event_row: Any) -> str:
    """An opaque keyset cursor for (occurred_at, id) of an event (or a row with these two)."""
    return f"{event_row.occurred_at.astimezone(UTC).strftime('%Y%m%dT%H%M%S%f')}.{event_row.id}"


def decode_event_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The (occurred_at, id) of a cursor, or None if it is not one."""
    stamp, _sep, ident = cursor.partition(".")
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        return when, int(ident)
    except ValueError:
        return None


# The timeline's statements, built once per shape (whole events or which columns, which filters,
# a cursor or not, a limit or not) with every value bound at execution: building a statement and
# its cache key on every request cost more than reading a page of rows (as cases.listing does).
# Bounded: the shapes are the code's column lists times 32.
_STATEMENTS: dict[tuple[Any, ...], Select[Any]] = {}

# The case's number of events and their version: columns of cases that the database's triggers
# keep (migration 0022); counting the case's index on every page read 10,000 entries of a long
# timeline.
_STATE = select(Case.event_count, Case.events_version).where(Case.id == bindparam("id"))


def _statement(columns: tuple[str, ...] | None, shape: tuple[bool, ...]) -> Select[Any]:
    query = _STATEMENTS.get((columns, *shape))
    if query is not None:
        return query
    category, visibility, text, after, limited = shape
    if columns is None:
        query = select(TimelineEvent)
    else:
        query = select(*(TimelineEvent.__table__.c[name] for name in columns))
    query = query.where(TimelineEvent.case_id == bindparam("case_id"))
    if category:
        query = query.where(TimelineEvent.category == bindparam("category"))
    if visibility:
        query = query.where(TimelineEvent.visibility == bindparam("visibility"))
    if text:
        pattern: BindParameter[str] = bindparam("pattern")
        searched = (
            TimelineEvent.title,
            TimelineEvent.description,
            TimelineEvent.source,
            TimelineEvent.actor,
        )
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in searched)))
    if after:
        when: BindParameter[datetime] = bindparam("when")
        ident: BindParameter[int] = bindparam("ident")
        query = query.where(
            or_(
                TimelineEvent.occurred_at > when,
                and_(TimelineEvent.occurred_at == when, TimelineEvent.id > ident),
            )
        )
    query = query.order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    if limited:
        query = query.limit(bindparam("limit", type_=Integer))
    _STATEMENTS[(columns, *shape)] = query
    return query


def _events_query(
    columns: tuple[str, ...] | None,
    case: Case,
    filters: TimelineFilters | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement of a page of events and its values."""
    filters = filters or TimelineFilters()
    params: dict[str, Any] = {"case_id": case.id}
    if filters.category:
        params["category"] = filters.category
    if filters.visibility:
        params["visibility"] = filters.visibility
    text = (filters.text or "").strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["pattern"] = f"%{escaped}%"
    position = decode_event_cursor(cursor) if cursor else None
    if position is not None:
        params["when"], params["ident"] = position
    if limit is not None:
        params["limit"] = limit + 1
    shape = (
        bool(filters.category),
        bool(filters.visibility),
        bool(text),
        position is not None,
        limit is not None,
    )
    return _statement(columns, shape), params


def _paged(rows: list[Item], limit: int | None) -> EventPage[Item]:
    if limit is None or len(rows) <= limit:
        return EventPage(rows, None)
    return EventPage(rows[:limit], encode_event_cursor(rows[limit - 1]))


def list_events(
    session: Session,
    case: Case,
    filters: TimelineFilters | None = None,
    *,
    limit: int | None = 500,
    cursor: str | None = None,
) -> EventPage[TimelineEvent]:
    """The case's events in time order, keyset-paginated on (occurred_at, id)."""
    query, params = _events_query(None, case, filters, limit, cursor)
    return _paged(list(session.scalars(query, params)), limit)


def list_event_rows(
    session: Session,
    case: Case,
    columns: Sequence[str],
    filters: TimelineFilters | None = None,
    *,
    limit: int | None = 500,
    cursor: str | None = None,
) -> EventPage[Row[Any]]:
    """The same page as :func:`list_events` as plain rows of the named columns (``occurred_at``
    and ``id`` among them when a page may follow): no ORM object or instance state per row."""
    query, params = _events_query(tuple(columns), case, filters, limit, cursor)
    return _paged(list(read_rows(session, query, params).all()), limit)


def events_state(session: Session, case: Case) -> tuple[int, int]:
    """The case's number of events and their version (``cases.events_version``: it grows
    whenever any of the case's events is added, changed or removed), kept by the database: as
    the case was loaded with them (need_to_know.get_case_for), else read now."""
    if not {"event_count", "events_version"} & inspect(case).unloaded:
        return case.event_count, case.events_version
    count, version = read_rows(session, _STATE, {"id": case.id}).one()
    return int(count), int(version)


def count_events(session: Session, case: Case) -> int:
    """How many events the case has (``cases.event_count``, kept by the database), read now."""
    return int(read_rows(session, _STATE, {"id": case.id}).one()[0])


# --- corrections: edit with history, soft delete, restore ------------------------------------

KIND = "timeline_event"
"""The ``RecordVersion.kind`` of timeline events."""

EDITABLE = (
    "occurred_at",
    "precision",
    "title",
    "description",
    "source",
    "actor",
    "category",
    "visibility",
    "evidence_ids",
)


def get_event(session: Session, case: Case, event_id: int) -> TimelineEvent:
    """The case's live event; EventNotFoundError otherwise."""
    row = session.get(TimelineEvent, event_id)
    if row is None or row.case_id != case.id:
        raise EventNotFoundError(event_id)
    return row


def event_fields(row: TimelineEvent) -> dict[str, Any]:
    """The event's editable fields as :func:`validate_event` reads them."""
    return {
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "precision": row.precision,
        "title": row.title,
        "description": row.description,
        "source": row.source,
        "actor": row.actor,
        "category": row.category,
        "visibility": row.visibility,
        "evidence_ids": list(row.evidence_ids or []),
    }


def merged_fields(row: TimelineEvent, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The event's fields with ``changes`` applied (a new time without a precision takes the
    precision of its form)."""
    data = event_fields(row)
    if "occurred_at" in changes and "precision" not in changes:
        data.pop("precision")
    data.update({k: v for k, v in changes.items() if k in EDITABLE})
    return data


EVENT = history.Kind(
    name=KIND,
    model=TimelineEvent,
    missing=EventNotFoundError,
    actions=history.Actions(
        AuditAction.TIMELINE_EDIT, AuditAction.TIMELINE_DELETE, AuditAction.TIMELINE_RESTORE
    ),
    audit=trail.record_naming("event"),
)
"""Timeline events are corrected with history (``csirt.cases.history``)."""


def edit_event(
    session: Session,
    case: Case,
    actor: User | None,
    row: TimelineEvent,
    item: EventInput,
    reason: str = "",
) -> TimelineEvent:
    """Change an event; its previous version is kept with who, when and why."""

    def change(event: TimelineEvent) -> None:
        for name in EDITABLE:
            value = getattr(item, name)
            setattr(event, name, list(value) if name == "evidence_ids" else value)

    return history.edit(session, EVENT, case, actor, row, change, reason)


def correct_event(
    session: Session,
    case: Case,
    actor: User | None,
    row: TimelineEvent,
    changes: Mapping[str, Any],
    reason: str,
    zone: Any,
) -> TimelineEvent:
    """Apply the changed fields (strings, as a form or JSON gives them) with history; a new time
    without a precision takes the precision of its form. CaseValidationError if invalid."""
    allowed = case_evidence_ids(session, case)
    item = validate_event(merged_fields(row, changes), zone, evidence_ids_allowed=allowed)
    return edit_event(session, case, actor, row, item, reason)
