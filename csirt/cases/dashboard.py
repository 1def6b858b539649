"""The console dashboard: open cases per priority, deadlines, overdue tasks, mean times.

Its two expensive figures are kept in one :class:`DashboardCache` per app
(``app.extensions``), so that the dashboard does not count every case on every visit:

- open cases per priority (over every case; a user who sees only some cases is counted afresh)
  are reused until a case is added or changes phase or priority. Each entry is stored with the
  database's *generation*, the highest case id and the highest timeline event id (every phase
  or priority change writes an automatic timeline event): two primary-key lookups, read before
  the counts, so a change committed by another process or node is seen on the next visit;
- mean hours to acknowledge and to close, per visibility, are kept five minutes.

On top of that check, invalidation is explicit: the cases service marks a transaction that
adds a case or changes a phase or priority (:func:`counts_changed`), and when that transaction
ends, :func:`after_transaction` (a session hook in ``csirt/wiring.py``) empties the cache of
the current app. That also covers what the generation cannot see on this node, such as a change
whose timeline event got a lower id than one already committed by a concurrent transaction.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases.models import Case, Phase, Priority, Task, TimelineEvent
from csirt.cases.need_to_know import visible_clause
from csirt.cases.tasks import OPEN_TASK_STATUSES
from csirt.db import utcnow
from csirt.triage.models import OBLIGATION_MET, Obligation

EXTENSION = "csirt.dashboard-cache"
MEAN_CACHE_SECONDS = 300
_CHANGED = "csirt.dashboard-changed"

Generation = tuple[int, int]
Means = tuple[float | None, float | None]


class DashboardCache:
    """The dashboard figures of one app, validated against the database (see the module)."""

    def __init__(self, mean_seconds: float = MEAN_CACHE_SECONDS) -> None:
        self.mean_seconds = mean_seconds
        self._lock = threading.Lock()
        self._counts: tuple[Generation, dict[str, int]] | None = None
        self._means: dict[tuple[bool, int], tuple[datetime, Means]] = {}

    def invalidate(self) -> None:
        """Forget every figure (a case was added or changed phase or priority)."""
        with self._lock:
            self._counts = None
            self._means.clear()

    def counts(self, generation: Generation) -> dict[str, int] | None:
        """The open-case counts stored for this generation of the database, if any."""
        with self._lock:
            hit = self._counts
        if hit is None or hit[0] != generation:
            return None
        return dict(hit[1])

    def store_counts(self, generation: Generation, counts: dict[str, int]) -> None:
        with self._lock:
            self._counts = (generation, dict(counts))

    def means(self, key: tuple[bool, int], now: datetime) -> Means | None:
        """The mean times stored for this visibility if younger than ``mean_seconds``."""
        with self._lock:
            hit = self._means.get(key)
        if hit is None or (now - hit[0]).total_seconds() >= self.mean_seconds:
            return None
        return hit[1]

    def store_means(self, key: tuple[bool, int], now: datetime, means: Means) -> None:
        with self._lock:
            self._means[key] = (now, means)


def dashboard_cache(app: Flask) -> DashboardCache:
    """The app's dashboard cache (created on first use)."""
    cache: DashboardCache = app.extensions.setdefault(EXTENSION, DashboardCache())
    return cache


def counts_changed(session: Session) -> None:
    """Mark the session's transaction: it adds a case or changes a phase or priority."""
    session.info[_CHANGED] = True


def after_transaction(session: Session) -> None:
    """Session ``after_commit``/``after_rollback`` hook (csirt/wiring.py): invalidate if marked."""
    if session.info.pop(_CHANGED, False) and has_app_context():
        dashboard_cache(current_app).invalidate()


@dataclass(frozen=True)
class Deadline:
    """A task or obligation due within the week (or overdue)."""

    case_id: int
    reference: str
    title: str
    due_at: datetime
    kind: str  # "task" | "obligation"
    overdue: bool


@dataclass(frozen=True)
class Dashboard:
    """What the console's start page shows."""

    open_by_priority: dict[str, int]
    deadlines: list[Deadline]
    overdue_tasks: int
    mean_hours_to_acknowledge: float | None
    mean_hours_to_close: float | None


def _hours_between(session: Session, start: Any, end: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.avg(func.extract("epoch", end - start)) / 3600.0
    return func.avg(func.julianday(end) - func.julianday(start)) * 24.0


def mean_times(
    session: Session,
    user: User,
    now: datetime | None = None,
    *,
    cache: DashboardCache | None = None,
) -> Means:
    """Mean hours to acknowledge and to close over the visible cases (cached five minutes)."""
    now = now or utcnow()
    see_all = user.can(Permission.CASE_VIEW_ALL)
    key = (see_all, 0 if see_all else user.id)
    hit = cache.means(key, now) if cache is not None else None
    if hit is not None:
        return hit
    visible = visible_clause(user)
    ack = select(_hours_between(session, Case.created_at, Case.acknowledged_at)).where(
        Case.acknowledged_at.is_not(None)
    )
    close = select(_hours_between(session, Case.created_at, Case.closed_at)).where(
        Case.closed_at.is_not(None)
    )
    if visible is not None:
        ack, close = ack.where(visible), close.where(visible)
    mtta = session.scalar(ack)
    mttc = session.scalar(close)
    result = (
        round(float(mtta), 1) if mtta is not None else None,
        round(float(mttc), 1) if mttc is not None else None,
    )
    if cache is not None:
        cache.store_means(key, now, result)
    return result


def _obligation_deadlines(
    session: Session, user: User, now: datetime, until: datetime
) -> list[Deadline]:
    query = (
        select(Obligation.kind, Obligation.due_at, Case.id, Case.reference, Case.title)
        .join(Case, Case.id == Obligation.case_id)
        .where(
            Obligation.status.not_in(OBLIGATION_MET),
            Obligation.due_at < until,
            # A whistleblower protection window that has ended is nothing to do.
            or_(Obligation.deadline != "window", Obligation.due_at >= now),
        )
        .order_by(Obligation.due_at)
        .limit(20)
    )
    visible = visible_clause(user)
    if visible is not None:
        query = query.where(visible)
    return [
        Deadline(case_id, reference, f"{title} — {kind}", due, "obligation", due < now)
        for kind, due, case_id, reference, title in session.execute(query)
    ]


def _generation(session: Session) -> Generation:
    return (
        int(session.scalar(select(func.max(Case.id))) or 0),
        int(session.scalar(select(func.max(TimelineEvent.id))) or 0),
    )


def _open_by_priority(
    session: Session, visible: Any, cache: DashboardCache | None
) -> dict[str, int]:
    generation: Generation | None = None
    if visible is None and cache is not None:
        generation = _generation(session)  # before the counts: never newer than they are
        hit = cache.counts(generation)
        if hit is not None:
            return hit
    counts_query = (
        select(Case.priority, func.count())
        .where(Case.phase != Phase.CLOSED.value)
        .group_by(Case.priority)
    )
    if visible is not None:
        counts_query = counts_query.where(visible)
    by_priority = {p.value: 0 for p in Priority}
    for priority, count in session.execute(counts_query):
        by_priority[priority] = count
    if generation is not None and cache is not None:
        cache.store_counts(generation, by_priority)
    return by_priority


def dashboard(
    session: Session,
    user: User,
    now: datetime | None = None,
    *,
    cache: DashboardCache | None = None,
) -> Dashboard:
    """Open cases per priority, deadlines up to a week ahead, overdue count and mean times.

    With ``cache`` (the console passes the app's), the counts and means come from it when valid.
    """
    now = now or utcnow()
    until = now + timedelta(days=7)
    visible = visible_clause(user)
    by_priority = _open_by_priority(session, visible, cache)
    deadline_query = (
        select(Task.title, Task.due_at, Case.id, Case.reference)
        .join(Case, Case.id == Task.case_id)
        .where(Task.status.in_(OPEN_TASK_STATUSES), Task.due_at < until)
        .order_by(Task.due_at)
        .limit(20)
    )
    overdue_query = (
        select(func.count())
        .select_from(Task)
        .where(Task.status.in_(OPEN_TASK_STATUSES), Task.due_at < now)
    )
    if visible is not None:
        deadline_query = deadline_query.where(visible)
        overdue_query = overdue_query.join(Case, Case.id == Task.case_id).where(visible)
    deadlines = [
        Deadline(case_id, reference, title, due, "task", due < now)
        for title, due, case_id, reference in session.execute(deadline_query)
    ]
    deadlines += _obligation_deadlines(session, user, now, until)
    deadlines.sort(key=lambda d: d.due_at)
    mtta, mttc = mean_times(session, user, now, cache=cache)
    return Dashboard(
        open_by_priority=by_priority,
        deadlines=deadlines[:20],
        overdue_tasks=int(session.scalar(overdue_query) or 0),
        mean_hours_to_acknowledge=mtta,
        mean_hours_to_close=mttc,
    )
