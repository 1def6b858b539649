"""The case list: filters and keyset pages over the cases a user may see, with per-page figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import (
    ARRAY,
    CompoundSelect,
    Integer,
    Select,
    any_,
    bindparam,
    exists,
    func,
    inspect,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases import search
from csirt.cases.models import Case, CaseTag, Phase, Task, TaskAssignee
from csirt.cases.need_to_know import visible_clause
from csirt.cases.tasks import OPEN_TASK_STATUSES
from csirt.db import utcnow
from csirt.i18n import Moments
from csirt.labels import phase_label


@dataclass(frozen=True)
class CasePage:
    # Case objects, or rows of the cases table's columns (list_case_rows): both read as c.id...
    items: list[Any]
    next_cursor: int | None
    # With a search: per case of the page, the kinds of text that matched (search.LABELS).
    hits: dict[int, list[str]] = field(default_factory=dict)

    def hit_labels(self, case_id: int) -> list[str]:
        """Where the search found this case, in the user's language (タイトル, タイムライン...)."""
        return [str(search.LABELS[kind]) for kind in self.hits.get(case_id, [])]


@dataclass(frozen=True)
class CaseFilters:
    """What the case list can be narrowed by (None: no filter)."""

    phase: str | None = None
    priority: str | None = None
    q: str | None = None
    tag: str | None = None
    assignee_id: int | None = None
    overdue: bool = False
    open_only: bool = False


def _overdue_clause(now: Any) -> Any:
    """Cases with an open task due before ``now`` (a time, or a bound parameter for one)."""
    return exists().where(
        Task.case_id == Case.id, Task.status.in_(OPEN_TASK_STATUSES), Task.due_at < now
    )


def list_cases(
    session: Session,
    user: User,
    *,
    phase: str | None = None,
    priority: str | None = None,
    limit: int = 50,
    cursor: int | None = None,
    filters: CaseFilters | None = None,
    now: datetime | None = None,
) -> CasePage:
    """Newest first, keyset-paginated on the primary key: no OFFSET, no COUNT."""
    return _page(session, user, None, limit, cursor, filters, phase, priority, now)


_LOADED_COLUMNS = tuple(prop.key for prop in inspect(Case).column_attrs if not prop.deferred)


def list_case_rows(
    session: Session,
    user: User,
    *,
    limit: int = 50,
    cursor: int | None = None,
    filters: CaseFilters | None = None,
    now: datetime | None = None,
    columns: Sequence[str] | None = None,
) -> CasePage:
    """The same page as :func:`list_cases` as plain rows of the cases table's columns.

    For callers that only read the columns (the API's and the console's case lists): no ORM
    object, identity map or instance state per row, about a fifth less work per page.
    ``columns`` names the columns to read, in this order (default: those a ``Case`` loads,
    its deferred counters of timeline events left out, as :func:`list_cases` reads them).
    """
    shape = tuple(columns) if columns is not None else _LOADED_COLUMNS
    return _page(session, user, shape, limit, cursor, filters, None, None, now)


# The list's statements, built once per shape (the columns, who may see what, which filters,
# a cursor or not) with every value bound at execution: building a statement and its cache key
# on every request cost more than reading its 50 rows. Bounded: the viewer is part of the shape
# for users who see only their cases (need_to_know.visible_clause binds their id).
_STATEMENTS: dict[tuple[Any, ...], Select[Any]] = {}
_MAX_STATEMENTS = 1024


def _statement(user: User, columns: tuple[str, ...] | None, shape: tuple[Any, ...]) -> Select[Any]:
    visible = visible_clause(user)
    key = (columns, None if visible is None else user.id, *shape)
    query = _STATEMENTS.get(key)
    if query is not None:
        return query
    phase, open_only, priority, tag, assignee, overdue, after = shape
    if columns is None:
        query = select(Case)
    else:
        query = select(*(Case.__table__.c[name] for name in columns))
    query = query.order_by(Case.id.desc()).limit(bindparam("limit", type_=Integer))
    if visible is not None:
        query = query.where(visible)
    if phase:
        query = query.where(Case.phase == bindparam("phase"))
    elif open_only:
        query = query.where(Case.phase != Phase.CLOSED.value)
    if priority:
        query = query.where(Case.priority == bindparam("priority"))
    if tag:
        query = query.where(
            exists().where(CaseTag.case_id == Case.id, CaseTag.tag == bindparam("tag"))
        )
    if assignee:
        query = query.where(
            exists().where(
                Task.case_id == Case.id,
                TaskAssignee.task_id == Task.id,
                TaskAssignee.user_id == bindparam("assignee_id"),
            )
        )
    if overdue:
        query = query.where(_overdue_clause(bindparam("now")))
    if after:
        query = query.where(Case.id < bindparam("cursor"))
    if len(_STATEMENTS) >= _MAX_STATEMENTS:
        _STATEMENTS.clear()
    _STATEMENTS[key] = query
    return query


def _page(
    session: Session,
    user: User,
    columns: tuple[str, ...] | None,
    limit: int,
    cursor: int | None,
    filters: CaseFilters | None,
    phase: str | None,
    priority: str | None,
    now: datetime | None,
) -> CasePage:
    filters = filters or CaseFilters(phase=phase, priority=priority)
    params: dict[str, Any] = {"limit": limit + 1}
    if filters.phase:
        params["phase"] = filters.phase
    if filters.priority:
        params["priority"] = filters.priority
    if filters.tag:
        params["tag"] = filters.tag.strip()
    if filters.assignee_id is not None:
        params["assignee_id"] = filters.assignee_id
    if filters.overdue:
        params["now"] = now or utcnow()
    if cursor is not None:
        params["cursor"] = cursor
    shape = (
        bool(filters.phase),
        filters.open_only,
        bool(filters.priority),
        bool(filters.tag),
        filters.assignee_id is not None,
        filters.overdue,
        cursor is not None,
    )
    query = _statement(user, columns, shape)
    if filters.q and filters.q.strip():
        query = query.where(search.search_filter(session, filters.q))
    if columns is None:
        rows: list[Any] = list(session.scalars(query, params))
    else:
        rows = list(session.execute(query, params).all())
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    items = rows[:limit]
    hits = search.hit_sources(session, filters.q, [c.id for c in items]) if filters.q else {}
    return CasePage(items, next_cursor, hits)


def overdue_counts(
    session: Session, case_ids: Sequence[int], now: datetime | None = None
) -> dict[int, int]:
    """Open tasks past their due date per case, for a page of cases."""
    return page_figures(session, case_ids, now)[0]


# The page's overdue counts and tags in one statement built once, the values bound at execution
# (two statements with a 50-value IN each, built and keyed anew on every request, cost more
# than their rows): tags as (case, tag, 0) in tag order, open tasks past due as (case, NULL, n).
def _figures(of_page: Callable[[Any], Any]) -> CompoundSelect[Any]:
    return union_all(
        select(CaseTag.case_id, CaseTag.tag, literal_column("0")).where(of_page(CaseTag.case_id)),
        select(Task.case_id, null(), func.count())
        .where(
            of_page(Task.case_id),
            Task.status.in_(OPEN_TASK_STATUSES),
            Task.due_at < bindparam("now"),
        )
        .group_by(Task.case_id),
    ).order_by(literal_column("2"))


# SQLite: an expanding IN (one parameter per id). PostgreSQL: the ids as one array parameter
# (= ANY), the same index scan without writing out and sending ~100 parameters on every list
# (0.3 -> 0.1 ms of a list's CPU at 1,000,000 cases).
_FIGURES = _figures(lambda column: column.in_(bindparam("ids", expanding=True)))
_FIGURES_ARRAY = _figures(lambda column: column == any_(bindparam("ids", type_=ARRAY(Integer))))


def page_figures(
    session: Session, case_ids: Sequence[int], now: datetime | None = None
) -> tuple[dict[int, int], dict[int, list[str]]]:
    """Open tasks past their due date per case and each case's tags (sorted), for a page of
    cases in one statement: what :func:`overdue_counts` and ``tagging.tags_for`` give."""
    overdue: dict[int, int] = {}
    tags: dict[int, list[str]] = {}
    if not case_ids:
        return overdue, tags
    statement = _FIGURES_ARRAY if session.get_bind().dialect.name == "postgresql" else _FIGURES
    rows = session.execute(statement, {"ids": list(case_ids), "now": now or utcnow()})
    for case_id, tag, late in rows:
        if tag is None:
            overdue[case_id] = late
        else:
            tags.setdefault(case_id, []).append(tag)
    return overdue, tags


class ListRow(NamedTuple):
    """One row of the console's case list as it is shown (texts in the reader's language)."""

    href: str  # the case's page
    reference: str
    title: str
    hit: str  # "Found in: タイトル, タイムライン" with a search, else ""
    priority: str
    phase: str
    overdue: str  # "2 overdue", else ""
    tags: list[str]
    created: str


# What the console's list shows of a case, in the order :func:`display_rows` reads it (the
# ``columns`` of :func:`list_case_rows`): no other column is read.
DISPLAY_COLUMNS = ("id", "reference", "title", "priority", "phase", "created_at")


def display_rows(
    page: CasePage, overdue: dict[int, int], tags: dict[int, list[str]], case_url: str = ""
) -> list[ListRow]:
    """The page's rows (of :data:`DISPLAY_COLUMNS`) with every shown value computed in one pass:
    the template only writes them out (a Jinja call per cell and row was most of the page's
    cost). Each row is unpacked once: a row's values by name cost several times as much. A
    case's page is at ``case_url`` followed by its id."""
    moments = Moments()  # the language and zone read once for the page's times
    phases: dict[str, str] = {}  # a handful of phases: each label looked up once
    lateness: dict[int, str] = {}  # "2 overdue": translated once per number on the page
    hits = page.hits
    rows = []
    for case_id, reference, title, priority, phase_code, created_at in page.items:
        phase = phases.get(phase_code)
        if phase is None:
            phase = phases[phase_code] = phase_label(phase_code)
        hit = ""
        if hits.get(case_id):
            hit = _("Found in: %(where)s", where=_(", ").join(page.hit_labels(case_id)))
        late = overdue.get(case_id)
        if late and late not in lateness:
            lateness[late] = _("%(n)d overdue", n=late)
        rows.append(
            ListRow(
                f"{case_url}{case_id}",
                reference,
                title,
                hit,
                priority,
                phase,
                lateness[late] if late else "",
                tags.get(case_id, []),
                moments.time(created_at),
            )
        )
    return rows
