"""The console dashboard: open cases per priority, deadlines, overdue tasks, mean times.

Its two expensive figures are kept in one :class:`DashboardCache` per app
(``app.extensions``), so that the dashboard does not count every case on every visit:

- open cases per priority (over every case; a user who sees only some cases is counted afresh)
  are reused until a case is added or changes phase or priority. Each entry is stored with the
  database's *generation*, the highest case id and the highest timeline event id (every phase
  or priority change writes an automatic timeline event): two primary-key lookups, read before
  the counts, so a change committed by another process or node is seen on the next visit;
- mean hours to acknowledge and to close, per visibility, are kept five minutes;
- the trends behind the charts (:class:`Trends`: open cases per priority over twelve weeks, median
  and 90th percentile hours to acknowledge and to close per month, obligations due per week for
  the next four weeks, inquiries per day about open cases), per visibility, five minutes too.
  The charts are drawn by :mod:`csirt.cases.charts` (pure) in the visitor's language and their
  HTML kept with the trends they show (:func:`charts_html`).

The threads of a worker that miss a timed figure together wait for one of them to compute it.

On top of that check, invalidation is explicit: the cases service marks a transaction that
adds a case or changes a phase or priority (:func:`counts_changed`), and when that transaction
ends, :func:`after_transaction` (a session hook in ``csirt/wiring.py``) empties the cache of
the current app. That also covers what the generation cannot see on this node, such as a change
whose timeline event got a lower id than one already committed by a concurrent transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from babel.dates import format_skeleton
from flask import Flask, current_app, has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import (
    Select,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases.charts import Chart, Series, ranked_percentile
from csirt.cases.models import Case, Inquiry, Phase, Priority, Task, TimelineEvent
from csirt.cases.need_to_know import visible_clause
from csirt.cases.tasks import OPEN_TASK_STATUSES
from csirt.db import read_rows, utcnow
from csirt.triage.models import OBLIGATION_MET, Obligation

EXTENSION = "csirt.dashboard-cache"
MEAN_CACHE_SECONDS = 300
DEADLINES = 20  # shown on the board: the first due
_CHANGED = "csirt.dashboard-changed"

Generation = tuple[int, int]
Means = tuple[float | None, float | None]


class DashboardCache:
    """The dashboard figures of one app, validated against the database (see the module)."""

    def __init__(self, mean_seconds: float = MEAN_CACHE_SECONDS) -> None:
        self.mean_seconds = mean_seconds
        self._lock = threading.Lock()
        self._counts: tuple[Generation, dict[str, int]] | None = None
        self._timed: dict[tuple[str, bool, int], tuple[datetime, Any]] = {}
        # Per language and visibility: the charts drawn from one Trends object.
        self._charts: dict[tuple[str, bool, int], tuple[Trends, tuple[Chart, ...]]] = {}
        # Per language and visibility: the HTML of one drawn chart set (SVG and tables).
        self._html: dict[tuple[str, bool, int], tuple[tuple[Chart, ...], str]] = {}
        # Per timed figure and visibility: held while it is computed.
        self._computing: dict[tuple[str, bool, int], threading.Lock] = {}

    def invalidate(self) -> None:
        """Forget every figure (a case was added or changed phase or priority)."""
        with self._lock:
            self._counts = None
            self._timed.clear()
            self._charts.clear()
            self._html.clear()

    def charts(self, t: Trends, key: tuple[str, bool, int]) -> tuple[Chart, ...]:
        """The charts of ``t`` in the language of ``key``: drawn once per Trends object."""
        with self._lock:
            hit = self._charts.get(key)
        if hit is not None and hit[0] is t:
            return hit[1]
        drawn = charts(t)
        with self._lock:
            self._charts[key] = (t, drawn)
        return drawn

    def html(
        self, drawn: tuple[Chart, ...], key: tuple[str, bool, int], render: Callable[[], str]
    ) -> str:
        """``render()``, the HTML of the charts ``drawn``, kept as long as they are."""
        with self._lock:
            hit = self._html.get(key)
        if hit is not None and hit[0] is drawn:
            return hit[1]
        html = render()
        with self._lock:
            self._html[key] = (drawn, html)
        return html

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

    def timed(self, name: str, key: tuple[bool, int], now: datetime) -> Any:
        """The figure ``name`` stored for this visibility if younger than ``mean_seconds``."""
        with self._lock:
            hit = self._timed.get((name, *key))
        if hit is None or (now - hit[0]).total_seconds() >= self.mean_seconds:
            return None
        return hit[1]

    def store_timed(self, name: str, key: tuple[bool, int], now: datetime, value: Any) -> None:
        with self._lock:
            self._timed[(name, *key)] = (now, value)

    def computing(self, name: str, key: tuple[bool, int]) -> threading.Lock:
        """The lock held while the figure ``name`` is computed for this visibility: the threads
        of a worker that miss it together wait for one computation instead of each running
        it (at 1,000,000 cases the trends and means take most of a second of the database)."""
        with self._lock:
            return self._computing.setdefault((name, *key), threading.Lock())


T = TypeVar("T")


def _cached(
    cache: DashboardCache | None, name: str, user: User, now: datetime, compute: Callable[[], T]
) -> T:
    """``compute()`` for this user's visibility, kept in ``cache`` for ``mean_seconds``."""
    if cache is None:
        return compute()
    key = _visibility_key(user)
    hit: T | None = cache.timed(name, key, now)
    if hit is None:
        with cache.computing(name, key):
            hit = cache.timed(name, key, now)  # computed meanwhile by another thread?
            if hit is None:
                hit = compute()
                cache.store_timed(name, key, now, hit)
    return hit


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
    obligation: str = ""  # the obligation's kind (legal.yaml), shown by its label


@dataclass(frozen=True)
class Dashboard:
    """What the console's start page shows."""

    open_by_priority: dict[str, int]
    deadlines: list[Deadline]
    overdue_tasks: int
    mean_hours_to_acknowledge: float | None
    mean_hours_to_close: float | None
    charts: tuple[Chart, ...] = ()


def _hours_between(session: Session, start: Any, end: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.avg(func.extract("epoch", end - start)) / 3600.0
    return func.avg(func.julianday(end) - func.julianday(start)) * 24.0


def _visibility_key(user: User) -> tuple[bool, int]:
    see_all = user.can(Permission.CASE_VIEW_ALL)
    return (see_all, 0 if see_all else user.id)


def mean_times(
    session: Session,
    user: User,
    now: datetime | None = None,
    *,
    cache: DashboardCache | None = None,
) -> Means:
    """Mean hours to acknowledge and to close over the visible cases (cached five minutes)."""
    now = now or utcnow()

    def compute() -> Means:
        # One pass over the cases for both: an average skips the NULLs of the cases not yet
        # acknowledged or closed.
        query = select(
            _hours_between(session, Case.created_at, Case.acknowledged_at),
            _hours_between(session, Case.created_at, Case.closed_at),
        )
        visible = visible_clause(user)
        if visible is not None:
            query = query.where(visible)
        mtta, mttc = session.execute(query).one()
        return (
            round(float(mtta), 1) if mtta is not None else None,
            round(float(mttc), 1) if mttc is not None else None,
        )

    return _cached(cache, "means", user, now, compute)


# The board's statements, built once with the times bound at execution (building a statement
# and its cache key on each visit cost more than running it); a user who sees only some cases
# gets copies with the visibility clause. A visit runs two: the figures, then the deadlines.
_TASKS_DUE = (
    select(
        literal("task").label("kind"),
        Task.title.label("title"),
        literal("").label("obligation"),
        Task.due_at.label("due_at"),
        Case.id.label("case_id"),
        Case.reference.label("reference"),
    )
    .join(Case, Case.id == Task.case_id)
    .where(Task.status.in_(OPEN_TASK_STATUSES), Task.due_at < bindparam("until"))
    .order_by(Task.due_at)
    .limit(DEADLINES)
)
_OBLIGATIONS_DUE = (
    select(
        literal("obligation").label("kind"),
        Case.title.label("title"),
        Obligation.kind.label("obligation"),
        Obligation.due_at.label("due_at"),
        Case.id.label("case_id"),
        Case.reference.label("reference"),
    )
    # "+ 0": obligations drive and each case is read by its key. Without it SQLite may
    # scan every case and probe obligations per case (7 ms at 100,000 cases, no obligation).
    .join(Case, Case.id == Obligation.case_id + 0)
    .where(
        Obligation.status.not_in(OBLIGATION_MET),
        Obligation.due_at < bindparam("until"),
        # A whistleblower protection window that has ended is nothing to do.
        or_(Obligation.deadline != "window", Obligation.due_at >= bindparam("now")),
    )
    .order_by(Obligation.due_at)
    .limit(DEADLINES)
)
_OVERDUE = (
    select(func.count())
    .select_from(Task)
    .where(Task.status.in_(OPEN_TASK_STATUSES), Task.due_at < bindparam("now"))
)


def _board_statement(visible: Any) -> Select[Any]:
    """One row per deadline (at least one row): the database's generation (the highest case id
    and timeline event id), the number of overdue tasks, then the first tasks and obligations
    due, merged by due time (a task first on a tie); no deadline: NULLs."""
    tasks, obligations, overdue = _TASKS_DUE, _OBLIGATIONS_DUE, _OVERDUE
    if visible is not None:
        tasks, obligations = tasks.where(visible), obligations.where(visible)
        overdue = overdue.join(Case, Case.id == Task.case_id).where(visible)
    figures = select(
        select(func.max(Case.id)).scalar_subquery().label("highest_case"),
        select(func.max(TimelineEvent.id)).scalar_subquery().label("highest_event"),
        overdue.scalar_subquery().label("overdue"),
    ).subquery("figures")
    # Each part keeps its own ORDER BY and LIMIT inside a subquery (SQLite allows neither on
    # the members of a compound select).
    due = union_all(select(tasks.subquery()), select(obligations.subquery())).subquery("due")
    return (
        select(figures, due)
        .select_from(figures.outerjoin(due, true()))
        # "task" sorts after "obligation": descending puts the task first, as the board did.
        .order_by(due.c.due_at, due.c.kind.desc())
        .limit(DEADLINES)
    )


_BOARD = _board_statement(None)


def _open_by_priority(
    session: Session, visible: Any, cache: DashboardCache | None, generation: Generation
) -> dict[str, int]:
    """Open cases per priority; for every case, kept in ``cache`` while ``generation`` (read
    before: never newer than the counts) is the database's."""
    if visible is None and cache is not None:
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
    if visible is None and cache is not None:
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
    visible = visible_clause(user)
    board = _BOARD if visible is None else _board_statement(visible)
    rows = read_rows(session, board, {"now": now, "until": now + timedelta(days=7)}).all()
    highest_case, highest_event, overdue = rows[0][:3]  # the same on every row
    by_priority = _open_by_priority(
        session, visible, cache, (int(highest_case or 0), int(highest_event or 0))
    )
    mtta, mttc = mean_times(session, user, now, cache=cache)
    return Dashboard(
        open_by_priority=by_priority,
        deadlines=[
            Deadline(case_id, reference, title, due_at, kind, due_at < now, obligation)
            for _case, _event, _overdue, kind, title, obligation, due_at, case_id, reference in rows
            if kind is not None  # no deadline: one row of figures, NULLs for the rest
        ],
        overdue_tasks=int(overdue or 0),
        mean_hours_to_acknowledge=mtta,
        mean_hours_to_close=mttc,
        charts=_charts(trends(session, user, now, cache=cache), user, cache),
    )


# --- trends and their charts -----------------------------------------------------------------

WEEKS = 12
MONTHS = 12
OBLIGATION_WEEKS = 4
INQUIRY_DAYS = 30
QUANTILES = (50, 90)
Quantiles = tuple[tuple[float | None, float | None], ...]  # (median, p90) per month


@dataclass(frozen=True)
class Trends:
    """The figures behind the dashboard's charts (UTC weeks, months and days)."""

    week_ends: tuple[datetime, ...]
    open_by_week: dict[str, tuple[int, ...]]  # priority -> open cases at each week's end
    months: tuple[date, ...]  # first day of each month
    acknowledge: Quantiles  # hours from creation to acknowledgement, by month acknowledged
    close: Quantiles  # hours from creation to closing, by month closed
    obligation_weeks: tuple[datetime, ...]  # start of each coming week
    obligations_due: tuple[int, ...]
    inquiry_days: tuple[date, ...]
    inquiries: tuple[int, ...]


def _open_by_week(
    session: Session, visible: Any, ends: list[datetime]
) -> dict[str, tuple[int, ...]]:
    """Open cases per priority at each moment: created by then minus closed by then, summed per
    priority in one pass over the cases open at some point of the window."""

    def open_at(moment: datetime) -> Any:
        created = case((Case.created_at <= moment, 1), else_=0)
        closed = case((Case.closed_at <= moment, 1), else_=0)  # NULL (open): not <= moment
        return func.sum(created - closed)

    query = (
        select(Case.priority, *(open_at(moment) for moment in ends))
        .where(
            Case.created_at <= ends[-1],
            or_(Case.closed_at.is_(None), Case.closed_at > ends[0]),
        )
        .group_by(Case.priority)
    )
    if visible is not None:
        query = query.where(visible)
    found = {row[0]: tuple(int(v or 0) for v in row[1:]) for row in session.execute(query)}
    return {p.value: found.get(p.value, (0,) * len(ends)) for p in Priority}


def _month_starts(now: datetime) -> list[date]:
    year, month = now.year, now.month
    starts = []
    for _step in range(MONTHS):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _hours_and_month(session: Session, start: Any, end: Any) -> tuple[Any, Any]:
    if session.get_bind().dialect.name == "postgresql":
        hours = func.extract("epoch", end - start) / 3600.0
        return hours, func.to_char(func.timezone("UTC", end), "YYYY-MM")
    return (func.julianday(end) - func.julianday(start)) * 24.0, func.strftime("%Y-%m", end)


def _quantiles_by_month(
    session: Session, visible: Any, end_column: Any, months: list[date]
) -> Quantiles:
    """Median and 90th percentile of the hours from creation to ``end_column``, by the month it
    falls in. The database ranks the hours within each month (window functions, on SQLite and
    PostgreSQL alike) and returns only the rows around the two ranks: a few rows per month."""
    since = datetime(months[0].year, months[0].month, 1, tzinfo=UTC)
    hours, month = _hours_and_month(session, Case.created_at, end_column)
    ranked = select(
        month.label("month"),
        hours.label("hours"),
        (func.row_number().over(partition_by=month, order_by=hours) - 1).label("rank"),
        func.count().over(partition_by=month).label("n"),
    ).where(end_column >= since)
    if visible is not None:
        ranked = ranked.where(visible)
    inner = ranked.subquery()
    wanted = []
    for q in QUANTILES:
        low = (inner.c.n - 1) * q // 100  # floor division, rendered for each backend
        wanted += [inner.c.rank == low, inner.c.rank == low + 1]
    rows = session.execute(
        select(inner.c.month, inner.c.rank, inner.c.n, inner.c.hours).where(or_(*wanted))
    )
    by_month: dict[str, tuple[int, dict[int, float]]] = {}
    for key, rank, n, value in rows:
        by_month.setdefault(key, (int(n), {}))[1][int(rank)] = max(float(value), 0.0)
    result = []
    for start in months:
        n, at = by_month.get(f"{start.year:04d}-{start.month:02d}", (0, {}))
        result.append(tuple(_round(ranked_percentile(at, n, q)) for q in QUANTILES))
    return tuple((median, p90) for median, p90 in result)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _obligations_by_week(
    session: Session, visible: Any, now: datetime
) -> tuple[tuple[datetime, ...], tuple[int, ...]]:
    starts = tuple(now + timedelta(weeks=i) for i in range(OBLIGATION_WEEKS))
    query = (
        select(Obligation.due_at)
        .join(Case, Case.id == Obligation.case_id)
        .where(
            Obligation.status.not_in(OBLIGATION_MET),
            Obligation.due_at >= now,
            Obligation.due_at < now + timedelta(weeks=OBLIGATION_WEEKS),
        )
    )
    if visible is not None:
        query = query.where(visible)
    counts = [0] * OBLIGATION_WEEKS
    for (due,) in session.execute(query):
        counts[min((due - now).days // 7, OBLIGATION_WEEKS - 1)] += 1
    return starts, tuple(counts)


def _inquiries_by_day(
    session: Session, visible: Any, today: date
) -> tuple[tuple[date, ...], tuple[int, ...]]:
    days = tuple(today - timedelta(days=INQUIRY_DAYS - 1 - i) for i in range(INQUIRY_DAYS))
    query = (
        select(Inquiry.received_on, func.count())
        .join(Case, Case.id == Inquiry.case_id)
        .where(Case.phase != Phase.CLOSED.value, Inquiry.received_on >= days[0])
        .group_by(Inquiry.received_on)
    )
    if visible is not None:
        query = query.where(visible)
    counts = dict(session.execute(query).tuples().all())
    return days, tuple(int(counts.get(day, 0)) for day in days)


def trends(
    session: Session,
    user: User,
    now: datetime | None = None,
    *,
    cache: DashboardCache | None = None,
) -> Trends:
    """The figures of the charts over the cases this user may see (cached five minutes)."""
    moment = now or utcnow()
    return _cached(cache, "trends", user, moment, lambda: _trends(session, user, moment))


def _trends(session: Session, user: User, now: datetime) -> Trends:
    visible = visible_clause(user)
    ends = [now - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    months = _month_starts(now)
    obligation_weeks, obligations_due = _obligations_by_week(session, visible, now)
    inquiry_days, inquiries = _inquiries_by_day(session, visible, now.date())
    return Trends(
        week_ends=tuple(ends),
        open_by_week=_open_by_week(session, visible, ends),
        months=tuple(months),
        acknowledge=_quantiles_by_month(session, visible, Case.acknowledged_at, months),
        close=_quantiles_by_month(session, visible, Case.closed_at, months),
        obligation_weeks=obligation_weeks,
        obligations_due=obligations_due,
        inquiry_days=inquiry_days,
        inquiries=inquiries,
    )


def _dates(values: tuple[date, ...], skeleton: str) -> tuple[str, ...]:
    locale = str(get_locale() or "ja")
    return tuple(format_skeleton(skeleton, value, locale=locale) for value in values)


def _quantile_chart(
    key: str, title: str, what: str, months: tuple[str, ...], q: Quantiles
) -> Chart:
    return Chart(
        key=key,
        title=title,
        desc=_(
            "Median and 90th percentile of the hours %(what)s, by month, over the last "
            "%(months)d months.",
            what=what,
            months=len(months),
        ),
        category_name=_("Month"),
        categories=months,
        series=(
            Series(_("Median"), tuple(m for m, _p in q), "s-median"),
            Series(_("90th percentile"), tuple(p for _m, p in q), "s-p90"),
        ),
        style="lines",
        unit=_("hours"),
    )


def _charts(t: Trends, user: User, cache: DashboardCache | None) -> tuple[Chart, ...]:
    if cache is None:
        return charts(t)
    return cache.charts(t, (str(get_locale()), *_visibility_key(user)))


def charts_html(
    board: Dashboard,
    user: User,
    cache: DashboardCache | None,
    render: Callable[[tuple[Chart, ...]], str],
) -> str:
    """The HTML of the board's charts, ``render(board.charts)``, made once per drawn chart set
    (language and visibility): each chart's SVG and table were drawn again on every visit."""
    if cache is None:
        return render(board.charts)
    key = (str(get_locale()), *_visibility_key(user))
    return cache.html(board.charts, key, lambda: render(board.charts))


def charts(t: Trends) -> tuple[Chart, ...]:
    """The dashboard's charts in the current language."""
    weeks = _dates(tuple(moment.date() for moment in t.week_ends), "MMMd")
    months = _dates(t.months, "yMMM")
    open_now = sum(counts[-1] for counts in t.open_by_week.values())
    return (
        Chart(
            key="open",
            title=_("Open cases by priority, last %(weeks)d weeks", weeks=len(weeks)),
            desc=_(
                "Stacked bars: the cases open at the end of each week, by their current "
                "priority; %(count)d open now.",
                count=open_now,
            ),
            category_name=_("Week ending"),
            categories=weeks,
            series=tuple(
                Series(p, tuple(float(n) for n in counts), f"s-{p}")
                for p, counts in t.open_by_week.items()
            ),
            unit=_("cases"),
        ),
        _quantile_chart(
            "acknowledge",
            _("Time to acknowledge"),
            _("from a case's creation to its acknowledgement"),
            months,
            t.acknowledge,
        ),
        _quantile_chart(
            "close",
            _("Time to close"),
            _("from a case's creation to its closing"),
            months,
            t.close,
        ),
        Chart(
            key="obligations",
            title=_("Obligations due in the next %(weeks)d weeks", weeks=len(t.obligation_weeks)),
            desc=_(
                "Bars: reports and notices not yet done, by the week they fall due; %(count)d "
                "in all.",
                count=sum(t.obligations_due),
            ),
            category_name=_("Week starting"),
            categories=_dates(tuple(moment.date() for moment in t.obligation_weeks), "MMMd"),
            series=(Series(_("Obligations"), tuple(float(n) for n in t.obligations_due), "s1"),),
            unit=_("items"),
        ),
        Chart(
            key="inquiries",
            title=_("Inquiries per day about open cases"),
            desc=_(
                "Bars: inquiries received each day over the last %(days)d days about cases "
                "still open; %(count)d in all.",
                days=len(t.inquiry_days),
                count=sum(t.inquiries),
            ),
            category_name=_("Day"),
            categories=_dates(t.inquiry_days, "MMMd"),
            series=(Series(_("Inquiries"), tuple(float(n) for n in t.inquiries), "s2"),),
            unit=_("inquiries"),
        ),
    )
