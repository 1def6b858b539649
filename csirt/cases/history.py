"""Earlier versions of case records, for every record kind in one table (``RecordVersion``).

An edit keeps the record's previous columns; a deletion moves the whole record here (soft
delete: the live tables hold only live rows, so no reader has to filter deleted ones); a restore
puts the record back with its id. Each version says who, when and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases.models import Case, RecordVersion
from csirt.db import Base, UTCDateTime, utcnow

R = TypeVar("R", bound=Base)

EDIT = "edit"
DELETE = "delete"
RESTORE = "restore"
MAX_REASON = 500


def snapshot(row: Base) -> dict[str, Any]:
    """The row's columns as JSON values (instants as ISO 8601)."""
    data: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        data[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return data


def rebuild(model: type[R], data: dict[str, Any]) -> R:
    """A new ``model`` row from a :func:`snapshot` (with its id)."""
    values: dict[str, Any] = {}
    for column in model.__table__.columns:
        if column.key not in data:
            continue
        value = data[column.key]
        if isinstance(value, str) and isinstance(column.type, UTCDateTime):
            value = datetime.fromisoformat(value)
        values[column.key] = value
    return model(**values)


def keep(
    session: Session,
    case: Case,
    kind: str,
    row: Base,
    change: str,
    actor: User | None,
    reason: str = "",
) -> RecordVersion:
    """Keep ``row`` as it is now, before ``change``."""
    version = RecordVersion(
        kind=kind,
        record_id=int(getattr(row, "id")),  # noqa: B009  (every record has an id)
        case_id=case.id,
        change=change,
        data=snapshot(row),
        reason=reason.strip()[:MAX_REASON],
        changed_by_id=actor.id if actor else None,
        changed_at=utcnow(),
    )
    session.add(version)
    return version


def versions(session: Session, case: Case, kind: str, record_id: int) -> list[RecordVersion]:
    """The record's earlier versions, newest first."""
    return list(
        session.scalars(
            select(RecordVersion)
            .where(
                RecordVersion.case_id == case.id,
                RecordVersion.kind == kind,
                RecordVersion.record_id == record_id,
            )
            .order_by(RecordVersion.id.desc())
        )
    )


def deleted(session: Session, case: Case, kind: str, model: type[Base]) -> list[RecordVersion]:
    """The deletions of the case's records of ``kind`` that are still deleted, newest first."""
    table = model.__table__
    live = select(table.c.id).where(table.c.case_id == case.id)
    return list(
        session.scalars(
            select(RecordVersion)
            .where(
                RecordVersion.case_id == case.id,
                RecordVersion.kind == kind,
                RecordVersion.change == DELETE,
                RecordVersion.record_id.not_in(live),
            )
            .order_by(RecordVersion.id.desc())
        )
    )


def last_deletion(session: Session, case: Case, kind: str, record_id: int) -> RecordVersion | None:
    """The latest deletion of the record, if any."""
    return session.scalar(
        select(RecordVersion)
        .where(
            RecordVersion.case_id == case.id,
            RecordVersion.kind == kind,
            RecordVersion.record_id == record_id,
            RecordVersion.change == DELETE,
        )
        .order_by(RecordVersion.id.desc())
        .limit(1)
    )
