"""A case's activity: the changes of the case from the audit log, in plain words (ja/en).

Only the actions listed here are shown (an allow-list): changes, not reads, and nothing about
sealed reports or the reporter's identity. No details of an audit row are shown, only who, when
and what kind of change, so no tip text and no sealed data can reach the page. The global audit
log keeps the full detail for auditors.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction as A
from csirt.audit.models import AuditEvent
from csirt.cases.models import Case
from csirt.lang import LocalText as T


def _table() -> tuple[dict[str, T], dict[A, tuple[str, T]]]:
    """The kinds and the shown actions, from ``activity.toml`` (data, not code)."""
    data = tomllib.loads(resources.files(__package__).joinpath("activity.toml").read_text("utf-8"))
    kinds = {key: T(**text) for key, text in data["kinds"].items()}
    shown = {}
    for action, entry in data["actions"].items():
        if entry["kind"] not in kinds:
            raise ValueError(f"activity.toml: {action} has an unknown kind {entry['kind']!r}")
        shown[A(action)] = (entry["kind"], T(ja=entry["ja"], en=entry["en"]))
    return kinds, shown


KINDS, ACTIVITY = _table()
"""The kinds of change by key, and for each shown audit action its kind and plain words."""


@dataclass(frozen=True)
class Activity:
    """One change of a case in plain words."""

    seq: int
    at: datetime
    actor: str
    action: str
    kind: str
    text: T


@dataclass(frozen=True)
class ActivityPage:
    items: list[Activity]
    next_seq: int | None


def actions_of(kind: str | None) -> list[str]:
    """The audit actions shown for ``kind`` (every kind when None)."""
    return [action.value for action, (k, _text) in ACTIVITY.items() if kind in (None, k)]


def case_activity(
    session: Session,
    case: Case,
    *,
    kind: str | None = None,
    limit: int = 50,
    before: int | None = None,
) -> ActivityPage:
    """The case's changes, newest first, keyset-paginated on the audit sequence number."""
    query = select(AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.action).where(
        AuditEvent.case_id == case.id, AuditEvent.action.in_(actions_of(kind))
    )
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    rows = session.execute(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)).all()
    items = []
    for seq, at, actor, action in rows[:limit]:
        kind_of, text = ACTIVITY[A(action)]
        items.append(Activity(seq, at, actor, action, kind_of, text))
    next_seq = items[-1].seq if len(rows) > limit else None
    return ActivityPage(items, next_seq)
