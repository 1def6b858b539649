"""Case logic: creation, need-to-know loading, lifecycle, playbooks, tasks, timeline, lists.

Every function takes the SQLAlchemy session explicitly and raises a named ``...Error`` for
anything a user can get wrong; views and the API only translate those into pages or problems.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases import closing, search, signals
from csirt.cases.models import (
    Case,
    CaseCounter,
    CaseLink,
    CaseMember,
    CasePlaybook,
    CaseTag,
    ChecklistTick,
    Evidence,
    Phase,
    Precision,
    Priority,
    Task,
    TaskAssignee,
    TaskComment,
    TaskStatus,
    TimelineEvent,
    Tlp,
    Visibility,
)
from csirt.catalog import Playbook
from csirt.dates import in_range, parse_day, parse_instant
from csirt.db import utcnow
from csirt.triage.models import OBLIGATION_MET, Obligation

OUTCOMES = ("resolved", "contained_no_harm", "false_positive", "duplicate", "referred")
OPEN_TASK_STATUSES = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value)
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
MAX_TAGS = 20
MAX_TAG_LENGTH = 64


class CaseError(Exception):
    """Base of case errors shown to the user."""


class CaseNotFoundError(CaseError):
    """No such case, or not one this user may see (indistinguishable on purpose)."""


class CaseValidationError(CaseError):
    """Some fields are invalid; ``errors`` maps each field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class TeamTooSmallError(CaseError):
    """A P1 case cannot leave ``detect`` without a lead and at least one other member."""


class ClosingRefusedError(CaseError):
    """The closing checklist is not complete; ``missing`` says what is left."""

    def __init__(self, missing: Sequence[closing.MissingItem]) -> None:
        super().__init__(", ".join(item.en for item in missing))
        self.missing = list(missing)


class TaskNotFoundError(CaseError):
    """No such task in this case."""


def _actor(user: User | None) -> audit.Actor:
    return audit.Actor(user.id, user.username) if user is not None else audit.SYSTEM


def _record(
    session: Session, action: AuditAction, case: Case, user: User | None, **details: Any
) -> None:
    audit.record(
        session,
        action,
        actor=_actor(user),
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        details=details or None,
    )


# --- creation ------------------------------------------------------------------------------


def next_reference(session: Session, year: int) -> str:
    """Reserve the next ``CSIRT-YYYY-NNNN`` reference (atomic: the counter row is locked)."""
    row = session.execute(
        update(CaseCounter)
        .where(CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
    ).scalar_one_or_none()
    if row is None:
        session.execute(insert(CaseCounter).values(year=year, last=1))
        row = 1
    return f"CSIRT-{year}-{row:04d}"


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Trimmed, de-duplicated tags (order kept); CaseValidationError for bad ones."""
    clean: list[str] = []
    for raw in tags:
        tag = " ".join(raw.split())
        if not tag or tag in clean:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise CaseValidationError({"tags": f"a tag is longer than {MAX_TAG_LENGTH} characters"})
        clean.append(tag)
    if len(clean) > MAX_TAGS:
        raise CaseValidationError({"tags": f"at most {MAX_TAGS} tags"})
    return clean


def create_case(
    session: Session,
    *,
    title: str,
    actor: User | None,
    summary: str = "",
    priority: Priority = Priority.P3,
    aware_at: datetime | None = None,
    insider: bool = False,
    wrongful_intent: bool = False,
    ongoing: bool = False,
    involved: Sequence[str] = (),
    lead: User | None = None,
    tlp: Tlp | str = Tlp.AMBER,
    tags: Sequence[str] = (),
    playbooks: Sequence[Playbook] = (),
    lang: str = "ja",
) -> Case:
    """Create a case in ``detect``; its creator (and lead) become members.

    Chosen playbooks create their tasks at once (due dates counted from ``aware_at``).
    """
    title = title.strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "required"
    elif len(title) > 200:
        errors["title"] = "at most 200 characters"
    if aware_at is not None and aware_at.tzinfo is None:
        errors["aware_at"] = "must carry a time zone"
    try:
        tlp_value = Tlp(tlp).value
    except ValueError:
        errors["tlp"] = "unknown TLP"
    try:
        priority_value = Priority(priority).value
    except ValueError:
        errors["priority"] = "unknown priority"
    if errors:
        raise CaseValidationError(errors)
    clean_tags = normalise_tags(tags)
    now = utcnow()
    case = Case(
        reference=next_reference(session, now.year),
        title=title,
        summary=summary,
        phase=Phase.DETECT.value,
        priority=priority_value,
        tlp=tlp_value,
        aware_at=aware_at,
        insider=insider,
        wrongful_intent=wrongful_intent,
        ongoing=ongoing,
        involved=[name.strip() for name in involved if name.strip()],
        created_by=actor,
    )
    session.add(case)
    session.flush()
    if actor is not None:
        session.add(CaseMember(case_id=case.id, user_id=actor.id, role="creator"))
    if lead is not None:
        session.add(CaseMember(case_id=case.id, user_id=lead.id, role="lead"))
    for tag in clean_tags:
        session.add(CaseTag(case_id=case.id, tag=tag))
    audit.record(
        session,
        AuditAction.CASE_CREATE,
        actor=_actor(actor),
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        details={"reference": case.reference},
    )
    for playbook in playbooks:
        apply_playbook(session, case, playbook, actor, lang)
    session.flush()
    if priority_value in (Priority.P1.value, Priority.P2.value):
        signals.priority_raised.send(case, session=session, actor=actor, reason="created")
    return case


# --- need-to-know ---------------------------------------------------------------------------


def can_see(session: Session, user: User, case_id: int) -> bool:
    """Whether ``user`` may see the case (member, or CASE_VIEW_ALL)."""
    if user.can(Permission.CASE_VIEW_ALL):
        return True
    return bool(
        session.scalar(
            select(exists().where(CaseMember.case_id == case_id, CaseMember.user_id == user.id))
        )
    )


def get_case_for(session: Session, user: User, case_id: int) -> Case:
    """The one loader every case view uses: the case, if this user may see it."""
    case = session.get(Case, case_id)
    if case is None or not can_see(session, user, case_id):
        raise CaseNotFoundError(case_id)
    return case


def _visible(user: User) -> Any:
    if user.can(Permission.CASE_VIEW_ALL):
        return None
    return exists().where(CaseMember.case_id == Case.id, CaseMember.user_id == user.id)


# --- the list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    next_cursor: int | None


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
    filters = filters or CaseFilters(phase=phase, priority=priority)
    query = select(Case).order_by(Case.id.desc()).limit(limit + 1)
    visible = _visible(user)
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
        query = query.where(search.search_filter(filters.q))
    if cursor is not None:
        query = query.where(Case.id < cursor)
    rows = list(session.scalars(query))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return CasePage(rows[:limit], next_cursor)


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


def tags_for(session: Session, case_ids: Sequence[int]) -> dict[int, list[str]]:
    """The tags of each case of a page (one query)."""
    if not case_ids:
        return {}
    found: dict[int, list[str]] = {}
    for case_id, tag in session.execute(
        select(CaseTag.case_id, CaseTag.tag)
        .where(CaseTag.case_id.in_(case_ids))
        .order_by(CaseTag.case_id, CaseTag.tag)
    ):
        found.setdefault(case_id, []).append(tag)
    return found


# --- editing ---------------------------------------------------------------------------------

FACT_FIELDS = ("aware_at", "insider", "wrongful_intent", "ongoing", "involved")
EDITABLE_FIELDS = ("title", "summary", "tlp", *FACT_FIELDS)


def update_case(
    session: Session, case: Case, actor: User | None, changes: Mapping[str, Any]
) -> list[str]:
    """Change the given fields; returns the names that changed. Sends facts_changed if needed."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            errors[name] = "cannot be changed here"
        elif name == "title":
            title = str(value).strip()
            if not title or len(title) > 200:
                errors[name] = "required, at most 200 characters"
            clean[name] = title
        elif name == "tlp":
            try:
                clean[name] = Tlp(value).value
            except ValueError:
                errors[name] = "unknown TLP"
        elif name == "aware_at":
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                errors[name] = "must be a date and time with a time zone"
            clean[name] = value
        elif name == "involved":
            clean[name] = [str(v).strip() for v in value if str(v).strip()]
        elif name in ("insider", "wrongful_intent", "ongoing"):
            clean[name] = bool(value)
        else:
            clean[name] = str(value)
    if errors:
        raise CaseValidationError(errors)
    changed = [name for name, value in clean.items() if getattr(case, name) != value]
    for name in changed:
        setattr(case, name, clean[name])
    if not changed:
        return []
    _record(session, AuditAction.CASE_UPDATE, case, actor, fields=changed)
    session.flush()
    facts = [name for name in changed if name in FACT_FIELDS]
    if facts:
        signals.facts_changed.send(
            case, session=session, actor=actor, reason="case fields: " + ", ".join(facts)
        )
    return changed


def _auto_event(
    session: Session, case: Case, actor: User | None, category: str, title: str, text: str = ""
) -> TimelineEvent:
    event_row = TimelineEvent(
        case_id=case.id,
        occurred_at=utcnow(),
        precision=Precision.MINUTE.value,
        source="csirt",
        actor=actor.username if actor else "system",
        title=title,
        description=text,
        category=category,
        visibility=Visibility.INTERNAL.value,
        automatic=True,
        created_by_id=actor.id if actor else None,
        evidence_ids=[],
    )
    session.add(event_row)
    return event_row


def change_priority(
    session: Session, case: Case, priority: str, actor: User | None, reason: str = ""
) -> bool:
    """Set the priority; records an automatic event; P1/P2 from lower sends priority_raised."""
    try:
        new = Priority(priority).value
    except ValueError as exc:
        raise CaseValidationError({"priority": "unknown priority"}) from exc
    old = case.priority
    if new == old:
        return False
    case.priority = new
    _auto_event(session, case, actor, "priority", f"Priority {old} → {new}", reason)
    _record(session, AuditAction.CASE_PRIORITY, case, actor, old=old, new=new, reason=reason)
    session.flush()
    if new in (Priority.P1.value, Priority.P2.value) and new < old:
        signals.priority_raised.send(case, session=session, actor=actor, reason=reason)
    return True


def member_counts(session: Session, case: Case) -> tuple[int, int]:
    """(distinct members, leads) of a case."""
    members = session.scalar(
        select(func.count(func.distinct(CaseMember.user_id))).where(CaseMember.case_id == case.id)
    )
    leads = session.scalar(
        select(func.count())
        .select_from(CaseMember)
        .where(CaseMember.case_id == case.id, CaseMember.role == "lead")
    )
    return int(members or 0), int(leads or 0)


def check_team_for_phase(session: Session, case: Case, phase: str) -> None:
    """TeamTooSmallError if a P1 case would leave detect without a lead and one more member."""
    if case.priority != Priority.P1.value or case.phase != Phase.DETECT.value:
        return
    if phase == Phase.DETECT.value:
        return
    members, leads = member_counts(session, case)
    if leads < 1 or members < 2:
        raise TeamTooSmallError(
            "a P1 case needs a lead and at least one more member before it leaves detect"
        )


def change_phase(
    session: Session, case: Case, phase: str, actor: User | None, reason: str = ""
) -> bool:
    """Move to another open phase (or reopen a closed case); closing goes through close_case."""
    try:
        new = Phase(phase).value
    except ValueError as exc:
        raise CaseValidationError({"phase": "unknown phase"}) from exc
    if new == Phase.CLOSED.value:
        raise CaseValidationError({"phase": "use close_case to close a case"})
    old = case.phase
    if new == old:
        return False
    check_team_for_phase(session, case, new)
    case.phase = new
    if old == Phase.CLOSED.value:
        case.closed_at = None
        case.outcome = None
    if case.acknowledged_at is None and old == Phase.DETECT.value:
        case.acknowledged_at = utcnow()
    _auto_event(session, case, actor, "phase", f"Phase {old} → {new}", reason)
    _record(session, AuditAction.CASE_PHASE, case, actor, old=old, new=new, reason=reason)
    session.flush()
    signals.phase_changed.send(case, session=session, actor=actor, reason=reason, old=old)
    return True


def close_case(
    session: Session,
    case: Case,
    actor: User | None,
    outcome: str,
    playbooks: Sequence[Playbook],
    reason: str = "",
) -> None:
    """Close the case if its checklist is complete; ClosingRefusedError lists what is missing."""
    if outcome not in OUTCOMES:
        raise CaseValidationError({"outcome": "choose one of " + ", ".join(OUTCOMES)})
    if case.phase == Phase.CLOSED.value:
        raise CaseValidationError({"phase": "the case is already closed"})
    check_team_for_phase(session, case, Phase.CLOSED.value)
    missing = closing.missing_for_closing(session, case, playbooks)
    if missing:
        raise ClosingRefusedError(missing)
    old = case.phase
    now = utcnow()
    case.phase = Phase.CLOSED.value
    case.outcome = outcome
    case.closed_at = now
    if case.acknowledged_at is None:
        case.acknowledged_at = now
    _auto_event(session, case, actor, "phase", f"Phase {old} → closed ({outcome})", reason)
    _record(session, AuditAction.CASE_CLOSE, case, actor, old=old, outcome=outcome)
    session.flush()
    signals.phase_changed.send(case, session=session, actor=actor, reason=reason, old=old)


def tick_checklist_item(
    session: Session, case: Case, item: str, actor: User | None, ticked: bool = True
) -> None:
    """Confirm (or withdraw) a manual checklist item ``playbook_id:key``."""
    row = session.scalar(
        select(ChecklistTick).where(ChecklistTick.case_id == case.id, ChecklistTick.item == item)
    )
    if ticked and row is None:
        session.add(
            ChecklistTick(case_id=case.id, item=item, ticked_by_id=actor.id if actor else None)
        )
    elif not ticked and row is not None:
        session.delete(row)
    else:
        return
    _record(session, AuditAction.CASE_CHECKLIST, case, actor, item=item, ticked=ticked)
    session.flush()


def set_tags(session: Session, case: Case, tags: Iterable[str], actor: User | None) -> list[str]:
    """Replace the case's tags."""
    wanted = normalise_tags(tags)
    rows = session.scalars(select(CaseTag).where(CaseTag.case_id == case.id)).all()
    have = {row.tag: row for row in rows}
    for tag, row in have.items():
        if tag not in wanted:
            session.delete(row)
    for tag in wanted:
        if tag not in have:
            session.add(CaseTag(case_id=case.id, tag=tag))
    if set(wanted) != set(have):
        _record(session, AuditAction.CASE_TAGS, case, actor, tags=wanted)
    session.flush()
    return wanted


def case_tags(session: Session, case: Case) -> list[str]:
    """The case's tags, sorted."""
    return list(
        session.scalars(select(CaseTag.tag).where(CaseTag.case_id == case.id).order_by(CaseTag.tag))
    )


def find_case_by_reference(session: Session, user: User, reference: str) -> Case:
    """A visible case by its reference (or numeric id)."""
    reference = reference.strip()
    # ASCII digits only ("²".isdigit() is true), and within a 32-bit id column.
    if reference.isascii() and reference.isdigit():
        if len(reference) > 9:
            raise CaseNotFoundError(reference)
        return get_case_for(session, user, int(reference))
    case_id = session.scalar(select(Case.id).where(Case.reference == reference.upper()))
    if case_id is None:
        raise CaseNotFoundError(reference)
    return get_case_for(session, user, case_id)


def link_cases(
    session: Session, case: Case, other: Case, actor: User | None, note: str = ""
) -> None:
    """Relate two cases (stored in both directions)."""
    if other.id == case.id:
        raise CaseValidationError({"other": "a case cannot be related to itself"})
    for a, b in ((case.id, other.id), (other.id, case.id)):
        if (
            session.scalar(
                select(CaseLink.id).where(CaseLink.case_id == a, CaseLink.other_case_id == b)
            )
            is None
        ):
            session.add(CaseLink(case_id=a, other_case_id=b, note=note[:200]))
    _record(session, AuditAction.CASE_LINK, case, actor, other=other.reference)
    session.flush()


def unlink_cases(session: Session, case: Case, other_id: int, actor: User | None) -> None:
    """Remove a relation in both directions."""
    for row in session.scalars(
        select(CaseLink).where(
            or_(
                and_(CaseLink.case_id == case.id, CaseLink.other_case_id == other_id),
                and_(CaseLink.case_id == other_id, CaseLink.other_case_id == case.id),
            )
        )
    ):
        session.delete(row)
    _record(session, AuditAction.CASE_UNLINK, case, actor, other_id=other_id)
    session.flush()


def related_cases(session: Session, user: User, case: Case) -> list[tuple[Case, str]]:
    """Related cases this user may see, with the link note."""
    rows = session.execute(
        select(Case, CaseLink.note)
        .join(CaseLink, CaseLink.other_case_id == Case.id)
        .where(CaseLink.case_id == case.id)
        .order_by(Case.id)
    ).all()
    return [(other, note) for other, note in rows if can_see(session, user, other.id)]


def members(session: Session, case: Case) -> list[tuple[User, str]]:
    """(user, role) of every member."""
    rows = session.execute(
        select(User, CaseMember.role)
        .join(CaseMember, CaseMember.user_id == User.id)
        .where(CaseMember.case_id == case.id)
        .order_by(CaseMember.id)
    ).all()
    return [(user, role) for user, role in rows]


# --- playbooks --------------------------------------------------------------------------------


def applied_playbook_ids(session: Session, case: Case) -> list[str]:
    """Ids of the playbooks applied to the case, in order."""
    return list(
        session.scalars(
            select(CasePlaybook.playbook_id)
            .where(CasePlaybook.case_id == case.id)
            .order_by(CasePlaybook.id)
        )
    )


def case_playbooks(
    session: Session, case: Case, registry: Mapping[str, Playbook]
) -> list[Playbook]:
    """The applied playbooks that are still in the registry."""
    return [registry[pid] for pid in applied_playbook_ids(session, case) if pid in registry]


def apply_playbook(
    session: Session,
    case: Case,
    playbook: Playbook,
    actor: User | None,
    lang: str = "ja",
) -> list[Task]:
    """Create the playbook's tasks with due dates from aware_at (or now); skip existing keys."""
    if playbook.id in applied_playbook_ids(session, case):
        return []
    existing = set(
        session.scalars(select(Task.key).where(Task.case_id == case.id, Task.key.is_not(None)))
    )
    start = case.aware_at or utcnow()
    created = []
    for template, due_at in playbook.tasks_for(start):
        if template.key in existing:
            continue
        task = Task(
            case_id=case.id,
            key=template.key,
            playbook_id=playbook.id,
            title=template.title.get(lang)[:200],
            description=template.description.get(lang) if template.description else "",
            phase=template.phase,
            role=template.role,
            required=template.required,
            status=TaskStatus.OPEN.value,
            due_at=due_at,
        )
        session.add(task)
        existing.add(template.key)
        created.append(task)
    session.add(
        CasePlaybook(
            case_id=case.id, playbook_id=playbook.id, applied_by_id=actor.id if actor else None
        )
    )
    _record(
        session, AuditAction.CASE_PLAYBOOK, case, actor, playbook=playbook.id, tasks=len(created)
    )
    session.flush()
    return created


# --- tasks ------------------------------------------------------------------------------------


def list_tasks(session: Session, case: Case) -> list[Task]:
    """The case's tasks by due date (assignees loaded in one extra query)."""
    return list(
        session.scalars(
            select(Task)
            .where(Task.case_id == case.id)
            .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        )
    )


def get_task(session: Session, case: Case, task_id: int) -> Task:
    """A task of this case."""
    task = session.get(Task, task_id)
    if task is None or task.case_id != case.id:
        raise TaskNotFoundError(task_id)
    return task


def _member_ids(session: Session, case: Case) -> set[int]:
    return set(session.scalars(select(CaseMember.user_id).where(CaseMember.case_id == case.id)))


def _check_assignees(session: Session, case: Case, assignee_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(assignee_ids))
    if not set(ids) <= _member_ids(session, case):
        raise CaseValidationError({"assignees": "assignees must be members of the case"})
    return ids


def add_task(
    session: Session,
    case: Case,
    actor: User | None,
    *,
    title: str,
    description: str = "",
    phase: str = Phase.DETECT.value,
    due_at: datetime | None = None,
    required: bool = False,
    assignee_ids: Iterable[int] = (),
) -> Task:
    """Add a task by hand."""
    errors: dict[str, str] = {}
    title = title.strip()
    if not title or len(title) > 200:
        errors["title"] = "required, at most 200 characters"
    if phase not in {p.value for p in Phase} or phase == Phase.CLOSED.value:
        errors["phase"] = "unknown phase"
    if due_at is not None and due_at.tzinfo is None:
        errors["due_at"] = "must carry a time zone"
    if errors:
        raise CaseValidationError(errors)
    ids = _check_assignees(session, case, assignee_ids)
    task = Task(
        case_id=case.id,
        title=title,
        description=description,
        phase=phase,
        due_at=due_at,
        required=required,
        status=TaskStatus.OPEN.value,
    )
    session.add(task)
    session.flush()
    for user_id in ids:
        task.assignees.append(TaskAssignee(user_id=user_id))
    _record(session, AuditAction.TASK_CREATE, case, actor, task=task.id)
    session.flush()
    return task


_UNSET: Any = object()


def update_task(
    session: Session,
    case: Case,
    task: Task,
    actor: User | None,
    *,
    status: str | None = None,
    due_at: datetime | None = _UNSET,
    assignee_ids: Iterable[int] | None = None,
) -> None:
    """Change a task's status, due date or assignees."""
    changed: dict[str, Any] = {}
    if status is not None and status != task.status:
        if status not in {s.value for s in TaskStatus}:
            raise CaseValidationError({"status": "unknown status"})
        task.status = status
        task.completed_at = utcnow() if status == TaskStatus.DONE.value else None
        changed["status"] = status
    if due_at is not _UNSET and due_at != task.due_at:
        if due_at is not None and due_at.tzinfo is None:
            raise CaseValidationError({"due_at": "must carry a time zone"})
        task.due_at = due_at
        changed["due_at"] = due_at.isoformat() if due_at else None
    if assignee_ids is not None:
        ids = _check_assignees(session, case, assignee_ids)
        have = {a.user_id: a for a in task.assignees}
        for user_id, row in have.items():
            if user_id not in ids:
                task.assignees.remove(row)
        for user_id in ids:
            if user_id not in have:
                task.assignees.append(TaskAssignee(user_id=user_id))
        if set(ids) != set(have):
            changed["assignees"] = ids
    if changed:
        _record(session, AuditAction.TASK_UPDATE, case, actor, task=task.id, **changed)
        session.flush()


def add_task_comment(
    session: Session, case: Case, task: Task, actor: User | None, body: str
) -> TaskComment:
    """Comment on a task."""
    body = body.strip()
    if not body:
        raise CaseValidationError({"body": "required"})
    comment = TaskComment(task_id=task.id, author_id=actor.id if actor else None, body=body)
    session.add(comment)
    _record(session, AuditAction.TASK_COMMENT, case, actor, task=task.id)
    session.flush()
    return comment


def is_overdue(task: Task, now: datetime | None = None) -> bool:
    """Open and past its due date."""
    return (
        task.status in OPEN_TASK_STATUSES
        and task.due_at is not None
        and task.due_at < (now or utcnow())
    )


# --- timeline ---------------------------------------------------------------------------------


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
        errors["precision"] = "day or minute"
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
    if raw_precision == "day":
        # A day-precision time is kept at the start of that day in the configured zone.
        local = occurred_at.astimezone(zone)
        occurred_at = datetime(local.year, local.month, local.day, tzinfo=zone).astimezone(UTC)
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
    _record(session, AuditAction.TIMELINE_ADD, case, actor, event=row.id)
    return row


def add_events(
    session: Session, case: Case, actor: User | None, items: Sequence[EventInput]
) -> int:
    """Record many events in batches of multi-row INSERTs (CSV import)."""
    rows = [_event_row(case, actor, item) for item in items]
    for start in range(0, len(rows), 1000):
        session.execute(insert(TimelineEvent), rows[start : start + 1000])
    _record(session, AuditAction.TIMELINE_IMPORT, case, actor, events=len(rows))
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class TimelineFilters:
    category: str | None = None
    visibility: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class EventPage:
    items: list[TimelineEvent]
    next_cursor: str | None


def _event_filters(query: Any, filters: TimelineFilters) -> Any:
    if filters.category:
        query = query.where(TimelineEvent.category == filters.category)
    if filters.visibility:
        query = query.where(TimelineEvent.visibility == filters.visibility)
    if filters.text and filters.text.strip():
        pattern = (
            "%"
            + filters.text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        query = query.where(
            or_(
                TimelineEvent.title.ilike(pattern, escape="\\"),
                TimelineEvent.description.ilike(pattern, escape="\\"),
                TimelineEvent.source.ilike(pattern, escape="\\"),
                TimelineEvent.actor.ilike(pattern, escape="\\"),
            )
        )
    return query


def encode_event_cursor(event_row: TimelineEvent) -> str:
    """An opaque keyset cursor for (occurred_at, id)."""
    return f"{event_row.occurred_at.astimezone(UTC).strftime('%Y%m%dT%H%M%S%f')}.{event_row.id}"


def decode_event_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The (occurred_at, id) of a cursor, or None if it is not one."""
    stamp, _sep, ident = cursor.partition(".")
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        return when, int(ident)
    except ValueError:
        return None


def list_events(
    session: Session,
    case: Case,
    filters: TimelineFilters | None = None,
    *,
    limit: int | None = 500,
    cursor: str | None = None,
) -> EventPage:
    """The case's events in time order, keyset-paginated on (occurred_at, id)."""
    query = select(TimelineEvent).where(TimelineEvent.case_id == case.id)
    query = _event_filters(query, filters or TimelineFilters())
    position = decode_event_cursor(cursor) if cursor else None
    if position is not None:
        when, ident = position
        query = query.where(
            or_(
                TimelineEvent.occurred_at > when,
                and_(TimelineEvent.occurred_at == when, TimelineEvent.id > ident),
            )
        )
    query = query.order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    if limit is None:
        return EventPage(list(session.scalars(query)), None)
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = encode_event_cursor(rows[limit - 1]) if len(rows) > limit else None
    return EventPage(rows[:limit], next_cursor)


def count_events(session: Session, case: Case) -> int:
    """How many events the case has (index-only count over the case's events)."""
    return int(
        session.scalar(
            select(func.count()).select_from(TimelineEvent).where(TimelineEvent.case_id == case.id)
        )
        or 0
    )


# --- dashboard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    case_id: int
    reference: str
    title: str
    due_at: datetime
    kind: str  # "task" | "obligation"
    overdue: bool


@dataclass(frozen=True)
class Dashboard:
    open_by_priority: dict[str, int]
    deadlines: list[Deadline]
    overdue_tasks: int
    mean_hours_to_acknowledge: float | None
    mean_hours_to_close: float | None


def _hours_between(session: Session, start: Any, end: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.avg(func.extract("epoch", end - start)) / 3600.0
    return func.avg(func.julianday(end) - func.julianday(start)) * 24.0


_mean_cache: dict[tuple[str, bool, int], tuple[datetime, float | None, float | None]] = {}
MEAN_CACHE_SECONDS = 300


def mean_times(
    session: Session, user: User, now: datetime | None = None, *, cached: bool = True
) -> tuple[float | None, float | None]:
    """Mean hours to acknowledge and to close over the visible cases (cached five minutes)."""
    now = now or utcnow()
    see_all = user.can(Permission.CASE_VIEW_ALL)
    key = (str(session.get_bind().engine.url), see_all, 0 if see_all else user.id)
    hit = _mean_cache.get(key)
    if cached and hit is not None and (now - hit[0]).total_seconds() < MEAN_CACHE_SECONDS:
        return hit[1], hit[2]
    visible = _visible(user)
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
    _mean_cache[key] = (now, *result)
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
    visible = _visible(user)
    if visible is not None:
        query = query.where(visible)
    return [
        Deadline(case_id, reference, f"{title} — {kind}", due, "obligation", due < now)
        for kind, due, case_id, reference, title in session.execute(query)
    ]


# Open-case counts over every case are reused until a case is added or any case changes phase or
# priority (each change writes an automatic timeline event), so the dashboard does not count a
# million rows on every visit. The generation check is two primary-key lookups.
_counts_cache: dict[str, tuple[tuple[int, int], dict[str, int]]] = {}


def _open_by_priority(session: Session, user: User, visible: Any) -> dict[str, int]:
    generation: tuple[int, int] | None = None
    key = str(session.get_bind().engine.url)
    if visible is None:
        generation = (
            int(session.scalar(select(func.max(Case.id))) or 0),
            int(session.scalar(select(func.max(TimelineEvent.id))) or 0),
        )
        hit = _counts_cache.get(key)
        if hit is not None and hit[0] == generation:
            return dict(hit[1])
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
    if generation is not None:
        _counts_cache[key] = (generation, dict(by_priority))
    return by_priority


def dashboard(session: Session, user: User, now: datetime | None = None) -> Dashboard:
    """Open cases per priority, deadlines up to a week ahead, overdue count and mean times."""
    now = now or utcnow()
    until = now + timedelta(days=7)
    visible = _visible(user)
    by_priority = _open_by_priority(session, user, visible)
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
    mtta, mttc = mean_times(session, user, now)
    return Dashboard(
        open_by_priority=by_priority,
        deadlines=deadlines[:20],
        overdue_tasks=int(session.scalar(overdue_query) or 0),
        mean_hours_to_acknowledge=mtta,
        mean_hours_to_close=mttc,
    )
