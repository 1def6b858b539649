"""The cases API (bearer token): cases, their timeline and tasks.

Each request body and query string is a model (the schema the OpenAPI document shows); what only
the cases package knows (playbooks, tags, the case's evidence) is checked in the same 422. Lists
page by the one rule of :mod:`csirt.api.pagination`; errors become problems through
:mod:`csirt.api.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from csirt.api import errors
from csirt.api.pagination import PageQuery, items_response, page_response, row_id
from csirt.api.responses import created
from csirt.api.routes import ApiRoutes
from csirt.api.schema import (
    ApiModel,
    ApiOut,
    Id,
    Instant,
    IsoTime,
    read_body_with,
)
from csirt.auth import service as auth_service
from csirt.auth.access import exports
from csirt.auth.permissions import Permission
from csirt.cases import activity, corrections, creation, listing, persons, registry
from csirt.cases.editing import EDITABLE_FIELDS, update_case
from csirt.cases.errors import CaseValidationError
from csirt.cases.lifecycle import change_phase, change_priority
from csirt.cases.models import Case, Phase, Precision, Priority, Visibility
from csirt.cases.need_to_know import get_case_for
from csirt.cases.tagging import case_tags, normalise_tags, set_tags
from csirt.cases.tasks import TASK, add_task, bulk_update_tasks, edit_task, is_overdue, list_tasks
from csirt.cases.timeline import (
    CATEGORIES,
    EVENT,
    TimelineFilters,
    add_event,
    case_evidence_ids,
    correct_event,
    decode_event_cursor,
    list_events,
    validate_event,
)
from csirt.cases.timeline_download import export_response
from csirt.db import get_session, writes
from csirt.i18n import current_lang

bp = Blueprint("api_cases", __name__, url_prefix="/api/v1")
errors.register(bp)

TAGS = ["cases"]
api = ApiRoutes(bp, TAGS[0])


def _open(phase: Phase) -> Phase:
    if phase is Phase.CLOSED:
        raise ValueError("an open phase (close a case in the console, with its checklist)")
    return phase


OpenPhase = Annotated[
    Phase,
    AfterValidator(_open),
    WithJsonSchema({"type": "string", "enum": [p.value for p in Phase if p is not Phase.CLOSED]}),
]

# --- responses (documentation) ------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return list(value or [])


Listed = BeforeValidator(_listed)


class CaseOut(ApiOut):
    id: int
    reference: str
    title: str
    summary: str
    phase: Phase
    outcome: str | None
    priority: Priority
    tlp: str
    aware_at: IsoTime | None
    persons_total: int | None
    persons_total_note: str
    insider: bool
    wrongful_intent: bool
    ongoing: bool
    involved: Annotated[list[str], Listed]
    created_at: IsoTime
    closed_at: IsoTime | None


# Every CaseOut field is a column of the cases table: the case list reads these columns.
CASE_COLUMNS = tuple(CaseOut.model_fields)


def case_items(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """CaseOut's values of each row of :data:`CASE_COLUMNS` without a pydantic round trip per
    row: the columns already hold them (``involved`` aside: no list is an empty one), and orjson
    writes the datetimes as ``IsoTime`` does. tests/cases/test_api_rows.py holds the response
    byte for byte to CaseOut's (``CaseOut.dump``), so a change to CaseOut that this does not
    follow fails there.
    """
    items = [dict(zip(CASE_COLUMNS, row, strict=True)) for row in rows]
    for item in items:
        if item["involved"] is None:
            item["involved"] = []
    return items


class CaseDetail(CaseOut):
    tags: list[str]

    @classmethod
    def dump(cls, row: Any, **values: Any) -> dict[str, Any]:
        return super().dump(row, tags=case_tags(get_session(), row), **values)


class CasePage(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None


class EventOut(ApiOut):
    id: int
    occurred_at: IsoTime
    precision: Precision
    recorded_at: IsoTime
    title: str
    description: str
    source: str
    actor: str
    category: str
    visibility: Visibility
    automatic: bool
    evidence_ids: Annotated[list[int], Listed]


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class ActivityOut(BaseModel):
    id: int = Field(description="the audit log's sequence number")
    at: IsoTime
    actor: str = Field(description="username, or system")
    action: str = Field(description="the audit action")
    kind: Literal[tuple(activity.KINDS)]  # type: ignore[valid-type]
    kind_label: str
    text: str = Field(description="the change in plain words (in the language asked for)")


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    next_cursor: str | None


class TaskOut(ApiOut):
    id: int
    key: str | None
    playbook_id: str | None
    title: str
    description: str
    phase: str
    status: str
    required: bool
    due_at: IsoTime | None
    overdue: bool
    assignees: list[int] = Field(description="user ids")

    @classmethod
    def dump(cls, row: Any, **values: Any) -> dict[str, Any]:
        assignees = [a.user_id for a in row.assignees]
        return super().dump(row, overdue=is_overdue(row), assignees=assignees, **values)


class TaskList(BaseModel):
    items: list[TaskOut]


# --- requests (validate and document) -----------------------------------------------------


class _CaseFields(ApiModel):
    title: str = Field(min_length=1, max_length=200)
    summary: str = ""
    priority: Priority = Priority.P3
    tlp: str = "amber"
    aware_at: Instant | None = None
    insider: bool = False
    wrongful_intent: bool = False
    ongoing: bool = False
    involved: list[str] = Field([])
    tags: list[str] = Field([])


class CaseIn(_CaseFields):
    playbooks: list[str] = Field([], description="playbook ids")


def _no_defaults(schema: dict[str, Any]) -> None:
    for field in schema.get("properties", {}).values():
        field.pop("default", None)  # a field left out is left as it is


class CasePatch(_CaseFields):
    """Only the fields sent change."""

    model_config = ConfigDict(json_schema_extra=_no_defaults)

    title: str = Field("", min_length=1, max_length=200)
    phase: OpenPhase | None = Field(
        None, description="an open phase (close a case in the console, with its checklist)"
    )
    reason: str = Field("", description="why the priority or phase changed")
    persons_total: int | None = Field(
        None,
        ge=0,
        le=persons.MAX_PERSONS,
        description="the number of persons as the organisation states it (documents use it)",
    )
    persons_total_note: str = Field("", max_length=persons.MAX_NOTE)


class CaseListQuery(PageQuery):
    phase: Phase | None = None
    priority: Priority | None = None
    q: str | None = Field(None, description="text search (first 200 characters)")
    tag: str | None = None
    overdue: bool = False


class TimelineQuery(PageQuery):
    category: str | None = None
    visibility: str | None = None
    q: str | None = None


class EventIn(ApiModel):
    occurred_at: str = Field(
        description="YYYY-MM-DD (day precision) or ISO 8601 date-time with offset"
    )
    precision: Precision | None = Field(None, description="default: from occurred_at's form")
    title: str = Field(max_length=200)
    description: str | None = Field(None, max_length=20_000)
    source: str | None = Field(None, max_length=100)
    actor: str | None = Field(None, max_length=100)
    category: Literal[CATEGORIES] = "event"  # type: ignore[valid-type]
    visibility: Visibility = Visibility.INTERNAL
    evidence_ids: list[Id] = Field([])


class ActivityQuery(PageQuery):
    kind: Literal[tuple(activity.KINDS)] | None = Field(  # type: ignore[valid-type]
        None, description="only changes of this kind"
    )
    lang: Literal["ja", "en"] | None = Field(
        None, description="language of the texts (default: the user's, else the server's)"
    )


class TaskIn(ApiModel):
    title: str = Field(max_length=200)
    description: str = ""
    phase: str | None = Field(None, description="default: the case's phase")
    due_at: Instant | None = None
    required: bool = False
    assignees: list[Id] = Field([], description="user ids (members of the case)")


class TaskBulkIn(ApiModel):
    task_ids: list[Id] = Field(min_length=1, max_length=500, description="tasks of this case")
    status: Literal["open", "in_progress", "done"] | None = Field(
        None, description="set on every selected task"
    )
    assignee: str | None = Field(
        None, max_length=150, description="username of a case member to add to every task"
    )


class TaskBulkOut(BaseModel):
    updated: int = Field(description="tasks that changed")
    items: list[TaskOut]


# --- what only the cases package knows ----------------------------------------------------


def _strings(data: dict[str, Any], name: str) -> list[str] | None:
    value = data.get(name)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None  # absent, or a shape the model names


def _known(data: dict[str, Any]) -> dict[str, Any]:
    """Playbooks that exist, normalised tags and a valid stated number of persons."""
    found: dict[str, Any] = {}
    problems: dict[str, str] = {}
    chosen = _strings(data, "playbooks")
    if chosen is not None:
        known = registry.playbooks()
        unknown = [p for p in chosen if p not in known]
        if unknown:
            problems["playbooks"] = "unknown playbook: " + ", ".join(unknown)
        found["playbooks"] = [known[p] for p in chosen if p in known]
    tags = _strings(data, "tags")
    if tags is not None:
        try:
            found["tags"] = normalise_tags(tags)
        except CaseValidationError as exc:
            problems.update(exc.errors)
    problems.update(persons.validate(data))
    if problems:
        raise CaseValidationError(problems)
    return found


def _case(case_id: int) -> Case:
    return get_case_for(get_session(), current_user, case_id)


# --- cases --------------------------------------------------------------------------------


@api.get("/cases", Permission.CASE_VIEW, query=CaseListQuery, ok=CasePage)
def list_cases(query: CaseListQuery) -> ResponseReturnValue:
    """Cases visible to the caller, newest first (keyset pagination)."""
    filters = listing.CaseFilters(
        phase=query.phase.value if query.phase else None,
        priority=query.priority.value if query.priority else None,
        q=(query.q or "").strip()[:200] or None,
        tag=query.tag,
        overdue=query.overdue,
    )
    page = listing.list_case_rows(  # plain rows of CaseOut's columns
        get_session(),
        current_user,
        filters=filters,
        limit=query.limit,
        cursor=query.position("cases", row_id),
        columns=CASE_COLUMNS,
    )
    return items_response("cases", case_items(page.items), page.next_cursor)


@api.post("/cases", Permission.CASE_CREATE, body=CaseIn, checked_by=_known, created=CaseOut)
def create_case(body: CaseIn, checked: dict[str, Any]) -> ResponseReturnValue:
    """Create a case (optionally with playbooks)."""
    session = get_session()
    case = creation.create_case(
        session,
        title=body.title,
        summary=body.summary,
        actor=current_user,
        priority=body.priority,
        tlp=body.tlp,
        aware_at=body.aware_at,
        insider=body.insider,
        wrongful_intent=body.wrongful_intent,
        ongoing=body.ongoing,
        involved=body.involved,
        tags=checked.get("tags", []),
        playbooks=checked.get("playbooks", []),
    )
    session.commit()
    return created(CaseOut.dump(case), location=f"/api/v1/cases/{case.id}")


@api.get("/cases/<int:case_id>", Permission.CASE_VIEW, ok=CaseDetail)
def get_case(case_id: int) -> ResponseReturnValue:
    """One case, with its tags."""
    return jsonify(CaseDetail.dump(_case(case_id)))


@api.patch(
    "/cases/<int:case_id>", Permission.CASE_EDIT, body=CasePatch, checked_by=_known, ok=CaseOut
)
def patch_case(case_id: int, body: CasePatch, checked: dict[str, Any]) -> ResponseReturnValue:
    """Change a case (fields, priority, open phase, tags, stated number of persons)."""
    case = _case(case_id)
    sent = body.model_dump(include=body.model_fields_set)
    session = get_session()
    stated = {k: v for k, v in sent.items() if k in ("persons_total", "persons_total_note")}
    if stated:
        persons.set_persons_total(session, current_user, case, stated)
    update_case(session, case, current_user, {k: sent[k] for k in EDITABLE_FIELDS if k in sent})
    if "tags" in sent:
        set_tags(session, case, checked["tags"], current_user)
    if "priority" in sent:
        change_priority(session, case, body.priority.value, current_user, body.reason)
    if body.phase is not None:
        change_phase(session, case, body.phase, current_user, body.reason)
    session.commit()
    return jsonify(CaseOut.dump(case))


# --- timeline -----------------------------------------------------------------------------


@api.get("/cases/<int:case_id>/timeline", Permission.CASE_VIEW, query=TimelineQuery, ok=EventPage)
def get_timeline(case_id: int, query: TimelineQuery) -> ResponseReturnValue:
    """The case's timeline in time order (keyset pagination)."""
    case = _case(case_id)
    cursor = query.position("events", lambda text: text if decode_event_cursor(text) else None)
    filters = TimelineFilters(category=query.category, visibility=query.visibility, text=query.q)
    page = list_events(get_session(), case, filters, limit=query.limit, cursor=cursor)
    return page_response("events", page.items, EventOut.dump, page.next_cursor)


@api.post("/cases/<int:case_id>/timeline", Permission.CASE_EDIT, body=EventIn, created=EventOut)
def post_event(case_id: int) -> ResponseReturnValue:
    """Add a timeline event."""
    case = _case(case_id)
    session = get_session()
    allowed = case_evidence_ids(session, case)
    zone = current_app.config["CSIRT"].tz
    _body, item = read_body_with(
        EventIn, lambda data: validate_event(data, zone, evidence_ids_allowed=allowed)
    )
    row = add_event(session, case, current_user, item)
    session.commit()
    return created(EventOut.dump(row))


def _correct_event(*args: Any) -> Any:
    return correct_event(*args, current_app.config["CSIRT"].tz)  # type: ignore[call-arg]


# Tasks and timeline events are corrected with history: PATCH, DELETE, restore and history.
for _spec in (
    corrections.ApiKind(TASK, "tasks", "task", "task", TaskOut, TaskIn, edit_task, (TAGS[0],)),
    corrections.ApiKind(
        EVENT, "timeline", "event", "timeline event", EventOut, EventIn, _correct_event, (TAGS[0],)
    ),
):
    corrections.api_routes(bp, _spec, _case)


@writes
@exports
@api.get(
    "/cases/<int:case_id>/timeline.csv",
    Permission.CASE_VIEW,
    responses={
        "200": {
            "description": "CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def get_timeline_csv(case_id: int) -> ResponseReturnValue:
    """The timeline as CSV (UTF-8 with BOM; the import format)."""
    return export_response(_case(case_id))


# --- activity -----------------------------------------------------------------------------


@api.get(
    "/cases/<int:case_id>/activity", Permission.CASE_VIEW, query=ActivityQuery, ok=ActivityPage
)
def get_activity(case_id: int, query: ActivityQuery) -> ResponseReturnValue:
    """The case's changes in plain words, newest first (from the audit log; keyset pagination)."""
    case = _case(case_id)
    before = query.position("activity", row_id)
    page = activity.case_activity(
        get_session(), case, kind=query.kind, limit=query.limit, before=before
    )
    lang = query.lang or current_lang()

    def to_json(item: activity.Activity) -> dict[str, Any]:
        return {
            "id": item.seq,
            "at": item.at.isoformat(),
            "actor": item.actor,
            "action": item.action,
            "kind": item.kind,
            "kind_label": activity.KINDS[item.kind].get(lang),
            "text": item.text.get(lang),
        }

    return page_response("activity", page.items, to_json, page.next_seq)


# --- tasks --------------------------------------------------------------------------------


@api.get("/cases/<int:case_id>/tasks", Permission.CASE_VIEW, ok=TaskList)
def get_tasks(case_id: int) -> ResponseReturnValue:
    """The case's tasks by due date."""
    case = _case(case_id)
    return jsonify(items=[TaskOut.dump(t) for t in list_tasks(get_session(), case)])


@api.post("/cases/<int:case_id>/tasks", Permission.CASE_EDIT, body=TaskIn, created=TaskOut)
def post_task(case_id: int, body: TaskIn) -> ResponseReturnValue:
    """Add a task."""
    case = _case(case_id)
    session = get_session()
    task = add_task(
        session,
        case,
        current_user,
        title=body.title,
        description=body.description,
        phase=body.phase or (case.phase if case.phase != Phase.CLOSED else Phase.DETECT.value),
        due_at=body.due_at,
        required=body.required,
        assignee_ids=body.assignees,
    )
    session.commit()
    return created(TaskOut.dump(task))


@api.post("/cases/<int:case_id>/tasks/bulk", Permission.CASE_EDIT, body=TaskBulkIn, ok=TaskBulkOut)
def post_tasks_bulk(case_id: int, body: TaskBulkIn) -> ResponseReturnValue:
    """Set the status or add an assignee on several tasks (all or nothing)."""
    case = _case(case_id)
    session = get_session()
    assignee_id: int | None = None
    if body.assignee is not None:
        user = auth_service.get_user(session, body.assignee)
        if user is None or not user.active:
            raise CaseValidationError({"assignee": "unknown user"})
        assignee_id = user.id
    if body.status is None and assignee_id is None:
        raise CaseValidationError({"status": "give a status or an assignee"})
    updated = bulk_update_tasks(
        session, case, current_user, body.task_ids, status=body.status, add_assignee_id=assignee_id
    )
    session.commit()
    chosen = set(body.task_ids)
    items = [TaskOut.dump(t) for t in list_tasks(session, case) if t.id in chosen]
    return jsonify(updated=updated, items=items)
