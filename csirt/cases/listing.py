"""The case list: filters and keyset pages over the cases a user may see, with per-page figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases import search
from csirt.cases.models import Case, CaseTag, Phase, Task, TaskAssignee
from csirt.cases.need_to_know import visible_clause
from csirt.cases.tasks import OPEN_TASK_STATUSES
from csirt.db import utcnow
from csirt.i18n import format_time
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


def _overdue_clause(now: datetime) -> Any:
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
    return _page(session, user, False, limit, cursor, filters, phase, priority, now)


def list_case_rows(
    session: Session,
    user: User,
    *,
    limit: int = 50,
    cursor: int | None = None,
    filters: CaseFilters | None = None,
    now: datetime | None = None,
) -> CasePage:
    """The same page as :func:`list_cases` as plain rows of the cases table's columns.

    For callers that only read the columns (the API's and the console's case lists): no ORM
    object, identity map or instance state per row, about a fifth less work per page.
    """
    return _page(session, user, True, limit, cursor, filters, None, None, now)


def _page(
    session: Session,
    user: User,
    as_rows: bool,
    limit: int,
    cursor: int | None,
    filters: CaseFilters | None,
    phase: str | None,
    priority: str | None,
    now: datetime | None,
) -> CasePage:
    filters = filters or CaseFilters(phase=phase, priority=priority)
    query: Select[Any] = select(*Case.__table__.columns) if as_rows else select(Case)
    query = query.order_by(Case.id.desc()).limit(limit + 1)
    visible = visible_clause(user)
    if visible is not None:
        query = query.where(visible)
    if filters.phase:
        query = query.where(Case.phase == filters.phase)
    elif filters.open_only:
        query = query.where(Case.phase != Phase.CLOSED.value)
    if filters.priority:
        query = query.where(Case.priority == filters.priority)
    if filters.tag:
        query = query.where(
            exists().where(CaseTag.case_id == Case.id, CaseTag.tag == filters.tag.strip())
        )
    if filters.assignee_id is not None:
        query = query.where(
            exists().where(
                Task.case_id == Case.id,
                TaskAssignee.task_id == Task.id,
                TaskAssignee.user_id == filters.assignee_id,
            )
        )
    if filters.overdue:
        query = query.where(_overdue_clause(now or utcnow()))
    if filters.q and filters.q.strip():
        query = query.where(search.search_filter(session, filters.q))
    if cursor is not None:
        query = query.where(Case.id < cursor)
    rows = list(session.execute(query) if as_rows else session.scalars(query))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    items = rows[:limit]
    hits = search.hit_sources(session, filters.q, [c.id for c in items]) if filters.q else {}
    return CasePage(items, next_cursor, hits)


def overdue_counts(
    session: Session, case_ids: Sequence[int], now: datetime | None = None
) -> dict[int, int]:
    """Open tasks past their due date per case, for a page of cases (one grouped query)."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(Task.case_id, func.count())
        .where(
            Task.case_id.in_(case_ids),
            Task.status.in_(OPEN_TASK_STATUSES),
            Task.due_at < (now or utcnow()),
        )
        .group_by(Task.case_id)
    )
    return dict(rows.tuples().all())


class ListRow(NamedTuple):
    """One row of the console's case list as it is shown (texts in the reader's language)."""

    id: int
    reference: str
    title: str
    hit: str  # "Found in: タイトル, タイムライン" with a search, else ""
    priority: str
    phase: str
    overdue: str  # "2 overdue", else ""
    tags: list[str]
    created: str


def display_rows(
    page: CasePage, overdue: dict[int, int], tags: dict[int, list[str]]
) -> list[ListRow]:
    """The page's rows with every shown value computed in one pass: the template only writes
    them out (a Jinja call per cell and row was most of the page's cost)."""
    separator = _(", ")
    phases: dict[str, str] = {}  # a handful of phases: each label looked up once
    rows = []
    for c in page.items:
        phase = phases.get(c.phase)
        if phase is None:
            phase = phases[c.phase] = phase_label(c.phase)
        hit = ""
        if page.hits.get(c.id):
            hit = _("Found in: %(where)s", where=separator.join(page.hit_labels(c.id)))
        late = overdue.get(c.id)
        rows.append(
            ListRow(
                c.id,
                c.reference,
                c.title,
                hit,
                c.priority,
                phase,
                _("%(n)d overdue", n=late) if late else "",
                tags.get(c.id, []),
                format_time(c.created_at, "short"),
            )
        )
    return rows
