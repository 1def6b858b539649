"""Read the audit log for review: filtered browsing, signals of misuse, the half-year report.

Nothing here writes to ``audit_events`` except through :func:`csirt.audit.service.record`, so
the chain stays verifiable. Queries are bounded: browsing is keyset-paginated on ``seq``, the
signal scan reads one day of view and export events, and the report aggregates in SQL.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.audit.models import AuditEvent
from csirt.audit_review.models import ReviewSignal, SignalKind, SignalStatus
from csirt.db import utcnow
from csirt.intake.models import IdentityRequest  # read only: the words behind identity requests

if TYPE_CHECKING:
    from config import Config

# What counts as a view, per category: members of the one enum, each written by a real request
# (tests/audit_review/test_watched_actions.py drives them all).
CASE_VIEW_ACTIONS = frozenset({AuditAction.CASE_VIEW})  # every page, tab and API read of a case
SEALED_VIEW_ACTIONS = frozenset(
    {
        AuditAction.INTAKE_OPEN,  # an officer decrypts a report
        AuditAction.INTAKE_ATTACHMENT_STRIPPED,
        AuditAction.INTAKE_ATTACHMENT_ORIGINAL,
        AuditAction.IDENTITY_VIEW,
        AuditAction.EVIDENCE_DOWNLOAD,  # console or API: the stored bytes themselves
    }
)
VIEW_CATEGORIES: dict[str, frozenset[AuditAction]] = {
    "case": CASE_VIEW_ACTIONS,
    "sealed": SEALED_VIEW_ACTIONS,
}
EXPORT_ACTIONS = frozenset(a for a in AuditAction if a.value.endswith(".export"))
IDENTITY_ACTIONS = frozenset(a for a in AuditAction if a.value.startswith("identity."))
# What the misuse signals read, and what the half-year report counts per user.
WATCHED_ACTIONS = CASE_VIEW_ACTIONS | SEALED_VIEW_ACTIONS | EXPORT_ACTIONS
REVIEWED_ACTIONS = WATCHED_ACTIONS | IDENTITY_ACTIONS
MAX_PAGE = 200


class ReviewError(Exception):
    """Base of audit-review errors shown to the user."""


class SignalNotFoundError(ReviewError):
    """No such signal."""


class SignalClosedError(ReviewError):
    """The signal was already closed."""


class EmptyNoteError(ReviewError):
    """A signal is closed only with a note saying why."""


# --- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalSettings:
    """Thresholds of the misuse signals (``CSIRT_AUDIT_*`` variables override the defaults)."""

    window_minutes: int = 60
    peer_factor: float = 3.0
    peer_minimum: int = 10
    baseline_days: int = 28
    baseline_factor: float = 3.0
    baseline_minimum: int = 20
    work_start: time = time(8, 0)
    work_end: time = time(19, 0)
    work_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    off_hours_minimum: int = 3
    bulk_export_minimum: int = 10
    timezone: str = "Asia/Tokyo"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)

    @classmethod
    def from_config(cls, config: Config) -> SignalSettings:
        """The thresholds set by ``CSIRT_AUDIT_*`` (validated when the config is built)."""
        return cls(
            window_minutes=config.audit_window_minutes,
            peer_factor=config.audit_peer_factor,
            peer_minimum=config.audit_peer_minimum,
            baseline_days=config.audit_baseline_days,
            baseline_factor=config.audit_baseline_factor,
            baseline_minimum=config.audit_baseline_minimum,
            work_start=config.audit_work_start,
            work_end=config.audit_work_end,
            work_days=config.audit_work_days,
            off_hours_minimum=config.audit_off_hours_minimum,
            bulk_export_minimum=config.audit_bulk_export_minimum,
            timezone=config.timezone,
        )

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return local.weekday() in self.work_days and self.work_start <= local.time() < self.work_end


# --- browsing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    """A filter over the audit log; every field is optional."""

    actor: str | None = None
    action: str | None = None  # a prefix: "identity." matches identity.request, .approve, ...
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    case_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.actor:
            where.append(AuditEvent.actor == self.actor)
        if self.action:
            where.append(_starts_with(AuditEvent.action, self.action))
        if self.since is not None:
            where.append(AuditEvent.at >= self.since)
        if self.until is not None:
            where.append(AuditEvent.at < self.until)
        if self.case_id is not None:
            where.append(AuditEvent.case_id == self.case_id)
        if self.object_type:
            where.append(AuditEvent.object_type == self.object_type)
        if self.object_id:
            where.append(AuditEvent.object_id == self.object_id)
        return where


def _starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    condition: ColumnElement[bool] = column.like(escaped + "%", escape="\\")
    return condition


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    next_before: int | None  # pass as ``before`` for the next (older) page


def browse(
    session: Session, query: AuditQuery, *, limit: int = 50, before: int | None = None
) -> AuditPage:
    """Newest first, keyset-paginated on ``seq``: one bounded query per page, no OFFSET."""
    limit = max(1, min(limit, MAX_PAGE))
    statement = select(AuditEvent).where(*query.conditions())
    if before is not None:
        statement = statement.where(AuditEvent.seq < before)
    rows = list(session.scalars(statement.order_by(AuditEvent.seq.desc()).limit(limit + 1)))
    next_before = rows[limit - 1].seq if len(rows) > limit else None
    return AuditPage(rows[:limit], next_before)


# --- signals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One signal as detected (before it is stored)."""

    kind: SignalKind
    subject_id: int | None
    subject_name: str
    period_start: datetime
    period_end: datetime
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        category = self.facts.get("category", "-")
        day = self.period_start.isoformat()
        return f"{self.kind.value}:{category}:{self.subject_id}:{self.subject_name}:{day}"


@dataclass(frozen=True)
class _Event:
    at: datetime
    action: str
    target: str


_ByActor = dict[tuple[int, str], list[_Event]]
"""Events per actor (id and name), in time order."""
_ViewsByCategory = dict[tuple[str, int, str], list[_Event]]
"""View events per category and actor (id and name), in time order."""


@dataclass(frozen=True)
class _Peak:
    count: int
    start: datetime
    end: datetime


def _peak(events: Sequence[_Event], window: timedelta, *, distinct: bool) -> _Peak:
    """The largest number of (distinct) targets within any ``window`` (events sorted by time)."""
    best = _Peak(0, events[0].at, events[0].at)
    inside: deque[_Event] = deque()
    targets: Counter[str] = Counter()
    for event in events:
        inside.append(event)
        targets[event.target] += 1
        while event.at - inside[0].at >= window:
            old = inside.popleft()
            targets[old.target] -= 1
            if targets[old.target] == 0:
                del targets[old.target]
        count = len(targets) if distinct else len(inside)
        if count > best.count:
            best = _Peak(count, inside[0].at, event.at)
    return best


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of a local day, in UTC."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def detect(
    session: Session, *, start: datetime, end: datetime, settings: SignalSettings
) -> list[Finding]:
    """Every signal in [start, end): peers, own baseline, off hours, bulk exports."""
    statement = (
        select(
            AuditEvent.actor_id,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.at,
            AuditEvent.object_type,
            AuditEvent.object_id,
        )
        .where(AuditEvent.at >= start, AuditEvent.at < end, AuditEvent.actor_id.is_not(None))
        .where(AuditEvent.action.in_(WATCHED_ACTIONS))
        .order_by(AuditEvent.at, AuditEvent.seq)
        .execution_options(yield_per=2000)
    )
    views: _ViewsByCategory = defaultdict(list)
    exports: _ByActor = defaultdict(list)
    off_hours: _ByActor = defaultdict(list)
    for actor_id, actor, action, at, object_type, object_id in session.execute(statement):
        event = _Event(at, action, f"{object_type}:{object_id}")
        for category, actions in VIEW_CATEGORIES.items():
            if action in actions:
                views[(category, actor_id, actor)].append(event)
        if action in EXPORT_ACTIONS:
            exports[(actor_id, actor)].append(event)
        if not settings.is_working_time(at):
            off_hours[(actor_id, actor)].append(event)
    found = chain(
        _peer_findings(views, settings),
        _baseline_findings(session, views, start, end, settings),
        _off_hours_findings(off_hours, settings),
        _bulk_export_findings(exports, settings),
    )
    return [
        Finding(kind, actor_id, actor, start, end, facts) for kind, actor_id, actor, facts in found
    ]


_Found = tuple[SignalKind, int, str, dict[str, Any]]
"""What a detector found in the period: the kind, who (id and name) and the facts."""


def _peer_findings(views: _ViewsByCategory, settings: SignalSettings) -> Iterator[_Found]:
    for category in VIEW_CATEGORIES:
        peaks = {
            (actor_id, actor): _peak(events, settings.window, distinct=True)
            for (cat, actor_id, actor), events in views.items()
            if cat == category
        }
        for (actor_id, actor), peak in peaks.items():
            others = [p.count for key, p in peaks.items() if key != (actor_id, actor)]
            if not others:
                continue  # nobody to compare with
            median = statistics.median(others)
            if peak.count >= settings.peer_minimum and peak.count > settings.peer_factor * median:
                facts = {
                    "category": category,
                    "count": peak.count,
                    "window_minutes": settings.window_minutes,
                    "peer_median": median,
                    "peers": len(others),
                    "factor": settings.peer_factor,
                    "minimum": settings.peer_minimum,
                    "first": peak.start.isoformat(),
                    "last": peak.end.isoformat(),
                }
                yield SignalKind.PEER_VOLUME, actor_id, actor, facts


def _baseline_findings(
    session: Session,
    views: _ViewsByCategory,
    start: datetime,
    end: datetime,
    settings: SignalSettings,
) -> Iterator[_Found]:
    history_start = start - timedelta(days=settings.baseline_days)
    periods = (start - history_start) / (end - start)
    for category, actions in VIEW_CATEGORIES.items():
        rows = session.execute(
            select(AuditEvent.actor_id, func.count())
            .where(
                AuditEvent.action.in_(actions),
                AuditEvent.at >= history_start,
                AuditEvent.at < start,
                AuditEvent.actor_id.is_not(None),
            )
            .group_by(AuditEvent.actor_id)
        ).tuples()
        history: dict[int | None, int] = dict(rows.all())  # a list: Result has .keys()
        for (cat, actor_id, actor), events in views.items():
            past = history.get(actor_id, 0)
            if cat != category or past == 0:
                continue  # no history: the peer signal covers newcomers
            usual = past / periods
            count = len(events)
            if count >= settings.baseline_minimum and count > settings.baseline_factor * usual:
                facts = {
                    "category": category,
                    "count": count,
                    "usual": round(usual, 1),
                    "baseline_days": settings.baseline_days,
                    "factor": settings.baseline_factor,
                    "minimum": settings.baseline_minimum,
                }
                yield SignalKind.BASELINE_VOLUME, actor_id, actor, facts


def _off_hours_findings(off_hours: _ByActor, settings: SignalSettings) -> Iterator[_Found]:
    for (actor_id, actor), events in off_hours.items():
        if len(events) >= settings.off_hours_minimum:
            facts = {
                "count": len(events),
                "work_start": settings.work_start.strftime("%H:%M"),
                "work_end": settings.work_end.strftime("%H:%M"),
                "work_days": sorted(settings.work_days),
                "timezone": settings.timezone,
                "first": events[0].at.isoformat(),
                "last": events[-1].at.isoformat(),
                "minimum": settings.off_hours_minimum,
            }
            yield SignalKind.OFF_HOURS, actor_id, actor, facts


def _bulk_export_findings(exports: _ByActor, settings: SignalSettings) -> Iterator[_Found]:
    for (actor_id, actor), events in exports.items():
        peak = _peak(events, settings.window, distinct=False)
        if peak.count >= settings.bulk_export_minimum:
            facts = {
                "count": peak.count,
                "window_minutes": settings.window_minutes,
                "minimum": settings.bulk_export_minimum,
                "first": peak.start.isoformat(),
                "last": peak.end.isoformat(),
            }
            yield SignalKind.BULK_EXPORT, actor_id, actor, facts


def scan(
    session: Session,
    *,
    settings: SignalSettings,
    actor: audit.Actor,
    days: Iterable[date] | None = None,
    now: datetime | None = None,
) -> list[ReviewSignal]:
    """Detect signals for the given local days (default: yesterday and today); store new ones.

    A finding already stored is updated while open (its numbers may grow during the day) and
    left alone once closed. Each new signal is audited. The caller commits.
    """
    now = now or utcnow()
    if days is None:
        today = now.astimezone(settings.tz).date()
        days = (today - timedelta(days=1), today)
    raised = []
    for day in days:
        start, end = day_bounds(day, settings.tz)
        for finding in detect(session, start=start, end=end, settings=settings):
            existing = session.scalar(
                select(ReviewSignal).where(ReviewSignal.fingerprint == finding.fingerprint)
            )
            if existing is not None:
                if existing.status == SignalStatus.OPEN.value:
                    existing.facts = finding.facts
                continue
            signal = ReviewSignal(
                fingerprint=finding.fingerprint,
                kind=finding.kind.value,
                subject_id=finding.subject_id,
                subject_name=finding.subject_name,
                period_start=finding.period_start,
                period_end=finding.period_end,
                facts=finding.facts,
                status=SignalStatus.OPEN.value,
                close_note="",
            )
            session.add(signal)
            session.flush()
            _audit_signal(session, AuditAction.AUDIT_REVIEW_SIGNAL_RAISE, signal, actor)
            raised.append(signal)
    return raised


def list_signals(
    session: Session, *, status: str | None = SignalStatus.OPEN.value, limit: int = 200
) -> list[ReviewSignal]:
    """Signals, newest first (open ones by default)."""
    statement = select(ReviewSignal).order_by(ReviewSignal.id.desc()).limit(limit)
    if status:
        statement = statement.where(ReviewSignal.status == status)
    return list(session.scalars(statement))


def get_signal(session: Session, signal_id: int) -> ReviewSignal:
    signal = session.get(ReviewSignal, signal_id)
    if signal is None:
        raise SignalNotFoundError(signal_id)
    return signal


def close_signal(
    session: Session, signal_id: int, note: str, *, actor: audit.Actor
) -> ReviewSignal:
    """Close a signal with the reviewer's note; the note goes into the audit log too."""
    signal = get_signal(session, signal_id)
    if signal.status != SignalStatus.OPEN.value:
        raise SignalClosedError(signal_id)
    note = note.strip()
    if not note:
        raise EmptyNoteError(signal_id)
    signal.status = SignalStatus.CLOSED.value
    signal.closed_at = utcnow()
    signal.closed_by_id = actor.id
    signal.close_note = note
    _audit_signal(session, AuditAction.AUDIT_REVIEW_SIGNAL_CLOSE, signal, actor, note=note)
    return signal


def _audit_signal(
    session: Session, action: AuditAction, signal: ReviewSignal, actor: audit.Actor, **more: str
) -> None:
    """Audit a signal raised or closed: its kind and subject (and ``more``, the closing note)."""
    audit.record(
        session,
        action,
        actor=actor,
        object_type="review_signal",
        object_id=signal.id,
        details={"kind": signal.kind, "subject": signal.subject_name, **more},
    )


# --- the half-year review report ---------------------------------------------------------------


@dataclass(frozen=True)
class UserActivity:
    user: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class EventLine:
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    case_id: int | None
    reason: str


@dataclass(frozen=True)
class SignalLine:
    id: int
    kind: str
    subject: str
    period_start: datetime
    facts: dict[str, Any]
    status: str
    close_note: str


@dataclass(frozen=True)
class ReviewReport:
    year: int
    half: int
    start: datetime
    end: datetime
    timezone: str
    actions: list[str]
    users: list[UserActivity]
    identity_events: list[EventLine]
    exports: list[EventLine]
    signals: list[SignalLine]


def half_year_bounds(year: int, half: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """January-June (half 1) or July-December (half 2) of ``year`` in ``tz``, as UTC."""
    if half not in (1, 2) or not 2000 <= year <= 2999:
        raise ReviewError("half must be 1 or 2 and year between 2000 and 2999")
    start = datetime(year, 1 if half == 1 else 7, 1, tzinfo=tz)
    end = datetime(year, 7, 1, tzinfo=tz) if half == 1 else datetime(year + 1, 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _line(event: AuditEvent, reasons: dict[int, str] | None = None) -> EventLine:
    details = event.details or {}
    reason = details.get("reason") or details.get("note") or ""
    if not reason and reasons and isinstance(details.get("request"), int):
        reason = reasons.get(details["request"], "")
    return EventLine(
        event.seq,
        event.at,
        event.actor,
        event.action,
        event.object_type or "",
        event.object_id or "",
        event.case_id,
        str(reason),
    )


def _identity_reasons(session: Session, events: Sequence[AuditEvent]) -> dict[str, dict[int, str]]:
    """Per action, the words behind each identity request: the officer's reason and good reason
    for a request, the custodian's note for a decision. They live in the request's own row, not
    in the never-deleted log (they may mention the tip), so one query reads those still kept."""
    wanted = {e.details.get("request") for e in events if e.details}
    ids = {i for i in wanted if isinstance(i, int)}
    if not ids:
        return {}
    asked: dict[int, str] = {}
    decided: dict[int, str] = {}
    for row in session.scalars(select(IdentityRequest).where(IdentityRequest.id.in_(ids))):
        asked[row.id] = " / ".join(t for t in (row.reason, row.justification) if t)
        decided[row.id] = row.decision_note
    return {
        AuditAction.IDENTITY_REQUEST: asked,
        AuditAction.IDENTITY_APPROVE: decided,
        AuditAction.IDENTITY_DENY: decided,
    }


def build_report(session: Session, year: int, half: int, tz: ZoneInfo) -> ReviewReport:
    """Views and exports per user, identity requests and decisions, exports, and signals."""
    start, end = half_year_bounds(year, half, tz)
    in_period = (AuditEvent.at >= start, AuditEvent.at < end)
    reviewed = AuditEvent.action.in_(REVIEWED_ACTIONS)
    per_user: dict[str, dict[str, int]] = defaultdict(dict)
    actions: set[str] = set()
    for actor, action, count in session.execute(
        select(AuditEvent.actor, AuditEvent.action, func.count())
        .where(*in_period, reviewed)
        .group_by(AuditEvent.actor, AuditEvent.action)
    ):
        per_user[actor][action] = count
        actions.add(action)
    users = [UserActivity(name, counts) for name, counts in sorted(per_user.items())]
    identity_events = list(
        session.scalars(
            select(AuditEvent)
            .where(*in_period, AuditEvent.action.in_(IDENTITY_ACTIONS))
            .order_by(AuditEvent.seq)
        )
    )
    reasons = _identity_reasons(session, identity_events)
    identity = [_line(e, reasons.get(e.action)) for e in identity_events]
    exports = [
        _line(e)
        for e in session.scalars(
            select(AuditEvent)
            .where(*in_period, AuditEvent.action.in_(EXPORT_ACTIONS))
            .order_by(AuditEvent.seq)
        )
    ]
    signals = [
        SignalLine(
            s.id, s.kind, s.subject_name, s.period_start, dict(s.facts), s.status, s.close_note
        )
        for s in session.scalars(
            select(ReviewSignal)
            .where(ReviewSignal.period_start >= start, ReviewSignal.period_start < end)
            .order_by(ReviewSignal.id)
        )
    ]
    return ReviewReport(
        year, half, start, end, tz.key, sorted(actions), users, identity, exports, signals
    )
