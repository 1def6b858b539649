"""Append to and verify the hash-chained audit log.

Each event's hash covers its content and the previous event's hash, so altering, removing or
reordering any row breaks the chain from that row on. Appends first bump the single ``audit_head``
row, which takes a write lock on both SQLite and PostgreSQL, so concurrent appends cannot fork the
chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.audit.models import AuditEvent, AuditHead
from csirt.db import utcnow

GENESIS_HASH = "0" * 64
HEAD_ID = 1


class AuditChainError(RuntimeError):
    """The audit log cannot be appended to (its head row is missing)."""


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff member, or a named system actor such as ``reporter``."""

    id: int | None
    name: str


SYSTEM = Actor(None, "system")
REPORTER = Actor(None, "reporter")


class Person(Protocol):
    """A staff member as the audit log names them (``csirt.auth.models.User``)."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


def actor_of(person: Person | None) -> Actor:
    """The audit actor for a staff member, or the system when there is none."""
    return Actor(person.id, person.username) if person is not None else SYSTEM


class Entry(NamedTuple):
    """One event of the log as :func:`record` appended it (the columns of an ``AuditEvent``)."""

    seq: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    case_id: int | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


def _canonical(event: Entry | AuditEvent) -> bytes:
    payload = [
        event.seq,
        event.at.isoformat(timespec="microseconds"),
        event.actor_id,
        event.actor,
        event.action,
        event.object_type,
        event.object_id,
        event.case_id,
        event.details,
        event.prev_hash,
    ]
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(event: Entry | AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


# The append's three statements, built once (Core on the tables: a page that audits its view
# paid the ORM's statement construction, instance state and unit-of-work flush on every request).
_HEADS = cast(Table, AuditHead.__table__)
_HEAD = _HEADS.c
_ADVANCE = (
    update(_HEADS)
    .where(_HEAD.id == HEAD_ID)
    .values(seq=_HEAD.seq + 1)
    .returning(_HEAD.seq, _HEAD.last_hash)
)
_APPEND = insert(cast(Table, AuditEvent.__table__))
_SEAL = update(_HEADS).where(_HEAD.id == HEAD_ID).values(last_hash=bindparam("sealed"))
# PostgreSQL: the append and the seal in one statement (a data-modifying WITH), one round trip
# less on every audited request; SQLite has no INSERT inside WITH and no round trips to save.
_EVENTS = cast(Table, AuditEvent.__table__)
_APPENDED = (
    insert(_EVENTS)
    .values({name: bindparam(f"e_{name}", type_=_EVENTS.c[name].type) for name in Entry._fields})
    .returning(_EVENTS.c.hash)
    .cte("appended")
)
_APPEND_AND_SEAL = (
    update(_HEADS)
    .where(_HEAD.id == HEAD_ID)
    .values(last_hash=select(_APPENDED.c.hash).scalar_subquery())
    .add_cte(_APPENDED)
)


def record(
    session: Session,
    action: AuditAction,
    *,
    actor: Actor,
    object_type: str | None = None,
    object_id: str | int | None = None,
    case_id: int | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Entry:
    """Append one event in the caller's transaction (it is kept only if the caller commits).

    ``action`` is an :class:`AuditAction` member: the one list of what the log records.
    """
    if session.autoflush:
        session.flush()  # the caller's pending rows first, as before: the head is locked last
    connection = session.connection()
    row = connection.execute(_ADVANCE).one_or_none()
    if row is None:
        raise AuditChainError("audit_head row is missing: run `csirt db upgrade`")
    seq, prev_hash = row
    entry = Entry(
        seq=seq,
        # Microsecond precision survives every backend, so the hash can be recomputed.
        # Normalised to UTC: the hash covers the ISO text, which must survive a reload.
        at=(at or utcnow()).astimezone(UTC),
        actor_id=actor.id,
        actor=actor.name,
        action=str(action),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        case_id=case_id,
        details=dict(details or {}),
        prev_hash=prev_hash,
        hash="",
    )
    entry = entry._replace(hash=compute_hash(entry))
    if connection.dialect.name == "postgresql":
        connection.execute(_APPEND_AND_SEAL, {f"e_{k}": v for k, v in entry._asdict().items()})
    else:
        connection.execute(_APPEND, entry._asdict())
        connection.execute(_SEAL, {"sealed": entry.hash})
    return entry


def record_by(
    session: Session,
    action: AuditAction,
    person: Person | None,
    object_type: str,
    object_id: str | int,
    *,
    case_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> Entry:
    """:func:`record` an action by a staff member (``None``: the system) on one object."""
    return record(
        session,
        action,
        actor=actor_of(person),
        object_type=object_type,
        object_id=object_id,
        case_id=case_id,
        details=details,
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str = ""


def _events(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> VerifyResult:
    """Walk the chain in order; report the first row that was altered, removed or reordered."""
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return VerifyResult(False, 0, None, "audit_head row is missing")
    head_seq, head_hash = head.seq, head.last_hash
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    for event in _events(session):
        if event.seq != expected_seq:
            return VerifyResult(
                False,
                checked,
                expected_seq,
                f"row {expected_seq} is missing (next row found is {event.seq})",
            )
        if event.prev_hash != prev_hash:
            return VerifyResult(
                False,
                checked,
                event.seq,
                f"row {event.seq} does not follow row {event.seq - 1} (removed or reordered)",
            )
        if compute_hash(event) != event.hash:
            return VerifyResult(False, checked, event.seq, f"row {event.seq} was altered")
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    if checked != head_seq:
        return VerifyResult(
            False,
            checked,
            checked + 1,
            f"the log ends at row {checked} but the head says {head_seq}: rows were removed",
        )
    if prev_hash != head_hash:
        return VerifyResult(False, checked, checked, f"row {checked} differs from the head hash")
    return VerifyResult(True, checked)
