"""The cases API (bearer token): cases, their timeline and tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from csirt.api.openapi import operation
from csirt.api.problems import problem, validation_problem
from csirt.auth.access import exports, requires
from csirt.auth.permissions import Permission
from csirt.cases import creation, listing, registry
from csirt.cases.editing import EDITABLE_FIELDS, update_case
from csirt.cases.errors import CaseNotFoundError, CaseValidationError, TeamTooSmallError
from csirt.cases.lifecycle import change_phase, change_priority
from csirt.cases.models import Case, Phase, Priority, Task, TimelineEvent
from csirt.cases.need_to_know import get_case_for
from csirt.cases.tagging import case_tags, normalise_tags, set_tags
from csirt.cases.tasks import add_task, is_overdue, list_tasks
from csirt.cases.timeline import (
    CATEGORIES,
    TimelineFilters,
    add_event,
    case_evidence_ids,
    list_events,
    validate_event,
)
from csirt.cases.views import export_response
from csirt.dates import parse_instant
from csirt.db import get_session, writes

bp = Blueprint("api_cases", __name__, url_prefix="/api/v1")

TAGS = ["cases"]
CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "reference": {"type": "string"},
        "title": {"type": "string"},
        "summary": {"type": "string"},
        "phase": {"type": "string", "enum": [p.value for p in Phase]},
        "outcome": {"type": "string", "nullable": True},
        "priority": {"type": "string", "enum": [p.value for p in Priority]},
        "tlp": {"type": "string"},
        "aware_at": {"type": "string", "format": "date-time", "nullable": True},
        "insider": {"type": "boolean"},
        "wrongful_intent": {"type": "boolean"},
        "ongoing": {"type": "boolean"},
        "involved": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string", "format": "date-time"},
        "closed_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}
CASE_INPUT: dict[str, Any] = {
    "type": "object",
    "required": ["title"],
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "summary": {"type": "string"},
        "priority": {"type": "string", "enum": [p.value for p in Priority]},
        "tlp": {"type": "string"},
        "aware_at": {"type": "string", "format": "date-time"},
        "insider": {"type": "boolean"},
        "wrongful_intent": {"type": "boolean"},
        "ongoing": {"type": "boolean"},
        "involved": {"type": "array", "items": {"type": "string"}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "playbooks": {"type": "array", "items": {"type": "string"}},
    },
}
CASE_PATCH: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{
            k: v
            for k, v in CASE_INPUT["properties"].items()
            if k not in ("playbooks", "tags", "priority")
        },
        "priority": {"type": "string", "enum": [p.value for p in Priority]},
        "phase": {"type": "string", "enum": [p.value for p in Phase if p is not Phase.CLOSED]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "reason": {"type": "string"},
    },
}
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "precision": {"type": "string", "enum": ["day", "minute"]},
        "recorded_at": {"type": "string", "format": "date-time"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "source": {"type": "string"},
        "actor": {"type": "string"},
        "category": {"type": "string"},
        "visibility": {"type": "string", "enum": ["internal", "public"]},
        "automatic": {"type": "boolean"},
        "evidence_ids": {"type": "array", "items": {"type": "integer"}},
    },
}
EVENT_INPUT: dict[str, Any] = {
    "type": "object",
    "required": ["occurred_at", "title"],
    "properties": {
        "occurred_at": {
            "type": "string",
            "description": "YYYY-MM-DD (day precision) or ISO 8601 date-time with offset",
        },
        "precision": {"type": "string", "enum": ["day", "minute"]},
        "title": {"type": "string", "maxLength": 200},
        "description": {"type": "string"},
        "source": {"type": "string", "maxLength": 100},
        "actor": {"type": "string", "maxLength": 100},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "visibility": {"type": "string", "enum": ["internal", "public"]},
        "evidence_ids": {"type": "array", "items": {"type": "integer"}},
    },
}
TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "key": {"type": "string", "nullable": True},
        "playbook_id": {"type": "string", "nullable": True},
        "title": {"type": "string"},
        "phase": {"type": "string"},
        "status": {"type": "string"},
        "required": {"type": "boolean"},
        "due_at": {"type": "string", "format": "date-time", "nullable": True},
        "overdue": {"type": "boolean"},
        "assignees": {"type": "array", "items": {"type": "integer"}},
    },
}
TASK_INPUT: dict[str, Any] = {
    "type": "object",
    "required": ["title"],
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "phase": {"type": "string"},
        "due_at": {"type": "string", "format": "date-time"},
        "required": {"type": "boolean"},
        "assignees": {"type": "array", "items": {"type": "integer"}},
    },
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def case_json(case: Case) -> dict[str, Any]:
    """The API representation of a case."""
    return {
        "id": case.id,
        "reference": case.reference,
        "title": case.title,
        "summary": case.summary,
        "phase": case.phase,
        "outcome": case.outcome,
        "priority": case.priority,
        "tlp": case.tlp,
        "aware_at": _iso(case.aware_at),
        "insider": case.insider,
        "wrongful_intent": case.wrongful_intent,
        "ongoing": case.ongoing,
        "involved": list(case.involved or []),
        "created_at": _iso(case.created_at),
        "closed_at": _iso(case.closed_at),
    }


def event_json(event_row: TimelineEvent) -> dict[str, Any]:
    """The API representation of a timeline event."""
    return {
        "id": event_row.id,
        "occurred_at": _iso(event_row.occurred_at),
        "precision": event_row.precision,
        "recorded_at": _iso(event_row.recorded_at),
        "title": event_row.title,
        "description": event_row.description,
        "source": event_row.source,
        "actor": event_row.actor,
        "category": event_row.category,
        "visibility": event_row.visibility,
        "automatic": event_row.automatic,
        "evidence_ids": list(event_row.evidence_ids or []),
    }


def task_json(task: Task) -> dict[str, Any]:
    """The API representation of a task."""
    return {
        "id": task.id,
        "key": task.key,
        "playbook_id": task.playbook_id,
        "title": task.title,
        "description": task.description,
        "phase": task.phase,
        "status": task.status,
        "required": task.required,
        "due_at": _iso(task.due_at),
        "overdue": is_overdue(task),
        "assignees": [a.user_id for a in task.assignees],
    }


def _not_found() -> ResponseReturnValue:
    return problem(404, "Not Found", "no such case")


def _body() -> dict[str, Any] | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(value)
    return parse_instant(value, need_offset=True)  # out of range: ValueError too


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(value)
    return value


def _case_fields(data: dict[str, Any], *, patch: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """Type-check the JSON fields of a case; returns (values, errors)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    allowed = set(CASE_PATCH["properties"] if patch else CASE_INPUT["properties"])
    for name in data:
        if name not in allowed:
            errors[name] = "unknown field"
    if not patch and not isinstance(data.get("title"), str):
        errors["title"] = "required"
    for name in ("title", "summary", "tlp", "priority", "phase", "reason"):
        if name in data and name in allowed:
            if not isinstance(data[name], str):
                errors[name] = "must be a string"
            else:
                values[name] = data[name]
    if "priority" in values and values["priority"] not in {p.value for p in Priority}:
        errors["priority"] = "one of P1, P2, P3, P4"
    if "phase" in values and values["phase"] not in {
        p.value for p in Phase if p is not Phase.CLOSED
    }:
        errors["phase"] = "an open phase (close a case in the console, with its checklist)"
    for name in ("insider", "wrongful_intent", "ongoing"):
        if name in data:
            if not isinstance(data[name], bool):
                errors[name] = "must be true or false"
            else:
                values[name] = data[name]
    if "aware_at" in data:
        if data["aware_at"] is None and patch:
            values["aware_at"] = None
        else:
            try:
                values["aware_at"] = _parse_datetime(data["aware_at"])
            except ValueError:
                errors["aware_at"] = "an ISO 8601 date-time with offset"
    for name in ("involved", "tags", "playbooks"):
        if name in data and name in allowed:
            try:
                values[name] = _strings(data[name])
            except ValueError:
                errors[name] = "a list of strings"
    if "playbooks" in values:
        unknown = [p for p in values["playbooks"] if p not in registry.playbooks()]
        if unknown:
            errors["playbooks"] = "unknown playbook: " + ", ".join(unknown)
    if "tags" in values:
        try:
            values["tags"] = normalise_tags(values["tags"])
        except CaseValidationError as exc:
            errors.update(exc.errors)
    return values, errors


CASE_LIST_PARAMS = [
    {"name": "phase", "in": "query", "schema": {"type": "string"}},
    {"name": "priority", "in": "query", "schema": {"type": "string"}},
    {"name": "q", "in": "query", "schema": {"type": "string"}},
    {"name": "tag", "in": "query", "schema": {"type": "string"}},
    {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    {"name": "cursor", "in": "query", "schema": {"type": "integer"}},
]


@bp.get("/cases")
@requires(Permission.CASE_VIEW)
@operation(
    "Cases visible to the caller, newest first (keyset pagination)",
    tags=TAGS,
    parameters=CASE_LIST_PARAMS,
    responses={
        "200": _json(
            {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": CASE_SCHEMA},
                    "next_cursor": {"type": "integer", "nullable": True},
                },
            }
        )
    },
)
def list_cases() -> ResponseReturnValue:
    args = request.args
    errors: dict[str, str] = {}
    phase = args.get("phase") or None
    priority = args.get("priority") or None
    if phase is not None and phase not in {p.value for p in Phase}:
        errors["phase"] = "unknown phase"
    if priority is not None and priority not in {p.value for p in Priority}:
        errors["priority"] = "unknown priority"
    limit = args.get("limit", default=50, type=int)
    if (
        limit is None
        or not 1 <= limit <= 200
        or (args.get("limit") and not args["limit"].isdigit())
    ):
        errors["limit"] = "an integer from 1 to 200"
    cursor_text = args.get("cursor")
    cursor = None
    if cursor_text:
        # ASCII digits only ("²".isdigit() is true), and within a 32-bit id column.
        if not (cursor_text.isascii() and cursor_text.isdigit() and len(cursor_text) <= 9):
            errors["cursor"] = "the next_cursor of a previous page"
        else:
            cursor = int(cursor_text)
    if errors:
        return validation_problem(errors)
    filters = listing.CaseFilters(
        phase=phase,
        priority=priority,
        q=(args.get("q") or "").strip()[:200] or None,
        tag=args.get("tag") or None,
        overdue=args.get("overdue") in ("1", "true"),
    )
    page = listing.list_cases(
        get_session(), current_user, filters=filters, limit=limit or 50, cursor=cursor
    )
    return jsonify(items=[case_json(c) for c in page.items], next_cursor=page.next_cursor)


@bp.post("/cases")
@requires(Permission.CASE_CREATE)
@operation(
    "Create a case (optionally with playbooks)",
    tags=TAGS,
    request_body=CASE_INPUT,
    responses={"201": _json(CASE_SCHEMA, "Created")},
)
def create_case() -> ResponseReturnValue:
    data = _body()
    if data is None:
        return validation_problem({"body": "a JSON object"})
    values, errors = _case_fields(data, patch=False)
    if errors:
        return validation_problem(errors)
    session = get_session()
    known = registry.playbooks()
    try:
        case = creation.create_case(
            session,
            title=values["title"],
            summary=values.get("summary", ""),
            actor=current_user,
            priority=values.get("priority", Priority.P3.value),
            tlp=values.get("tlp", "amber"),
            aware_at=values.get("aware_at"),
            insider=values.get("insider", False),
            wrongful_intent=values.get("wrongful_intent", False),
            ongoing=values.get("ongoing", False),
            involved=values.get("involved", []),
            tags=values.get("tags", []),
            playbooks=[known[p] for p in values.get("playbooks", [])],
        )
    except CaseValidationError as exc:
        session.rollback()
        return validation_problem(exc.errors)
    session.commit()
    response = jsonify(case_json(case))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/cases/{case.id}"
    return response


def _load(case_id: int) -> Case | None:
    try:
        return get_case_for(get_session(), current_user, case_id)
    except CaseNotFoundError:
        return None


@bp.get("/cases/<int:case_id>")
@requires(Permission.CASE_VIEW)
@operation("One case", tags=TAGS, responses={"200": _json(CASE_SCHEMA)})
def get_case(case_id: int) -> ResponseReturnValue:
    case = _load(case_id)
    if case is None:
        return _not_found()
    body = case_json(case)
    body["tags"] = case_tags(get_session(), case)
    return jsonify(body)


@bp.patch("/cases/<int:case_id>")
@requires(Permission.CASE_EDIT)
@operation(
    "Change a case (fields, priority, open phase, tags)",
    tags=TAGS,
    request_body=CASE_PATCH,
    responses={"200": _json(CASE_SCHEMA)},
)
def patch_case(case_id: int) -> ResponseReturnValue:
    case = _load(case_id)
    if case is None:
        return _not_found()
    data = _body()
    if data is None:
        return validation_problem({"body": "a JSON object"})
    values, errors = _case_fields(data, patch=True)
    if errors:
        return validation_problem(errors)
    session = get_session()
    reason = values.pop("reason", "")
    try:
        fields = {k: v for k, v in values.items() if k in EDITABLE_FIELDS}
        update_case(session, case, current_user, fields)
        if "tags" in values:
            set_tags(session, case, values["tags"], current_user)
        if "priority" in values:
            change_priority(session, case, values["priority"], current_user, reason)
        if "phase" in values:
            change_phase(session, case, values["phase"], current_user, reason)
    except CaseValidationError as exc:
        session.rollback()
        return validation_problem(exc.errors)
    except TeamTooSmallError as exc:
        session.rollback()
        return problem(409, "Conflict", str(exc), kind="team-too-small")
    session.commit()
    return jsonify(case_json(case))


@bp.get("/cases/<int:case_id>/timeline")
@requires(Permission.CASE_VIEW)
@operation(
    "The case's timeline in time order (keyset pagination)",
    tags=TAGS,
    parameters=[
        {"name": "category", "in": "query", "schema": {"type": "string"}},
        {"name": "visibility", "in": "query", "schema": {"type": "string"}},
        {"name": "q", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
    ],
    responses={
        "200": _json(
            {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": EVENT_SCHEMA},
                    "next_cursor": {"type": "string", "nullable": True},
                },
            }
        )
    },
)
def get_timeline(case_id: int) -> ResponseReturnValue:
    case = _load(case_id)
    if case is None:
        return _not_found()
    limit = request.args.get("limit", default=500, type=int) or 500
    filters = TimelineFilters(
        category=request.args.get("category") or None,
        visibility=request.args.get("visibility") or None,
        text=request.args.get("q") or None,
    )
    page = list_events(
        get_session(),
        case,
        filters,
        limit=max(1, min(limit, 1000)),
        cursor=request.args.get("cursor") or None,
    )
    return jsonify(items=[event_json(e) for e in page.items], next_cursor=page.next_cursor)


@bp.post("/cases/<int:case_id>/timeline")
@requires(Permission.CASE_EDIT)
@operation(
    "Add a timeline event",
    tags=TAGS,
    request_body=EVENT_INPUT,
    responses={"201": _json(EVENT_SCHEMA, "Created")},
)
def post_event(case_id: int) -> ResponseReturnValue:
    case = _load(case_id)
    if case is None:
        return _not_found()
    data = _body()
    if data is None:
        return validation_problem({"body": "a JSON object"})
    unknown = {k: "unknown field" for k in data if k not in EVENT_INPUT["properties"]}
    if unknown:
        return validation_problem(unknown)
    session = get_session()
    try:
        item = validate_event(
            data,
            current_app.config["CSIRT"].tz,
            evidence_ids_allowed=case_evidence_ids(session, case),
        )
    except CaseValidationError as exc:
        return validation_problem(exc.errors)
    row = add_event(session, case, current_user, item)
    session.commit()
    response = jsonify(event_json(row))
    response.status_code = 201
    return response


@bp.get("/cases/<int:case_id>/timeline.csv")
@writes
@requires(Permission.CASE_VIEW)
@exports
@operation(
    "The timeline as CSV (UTF-8 with BOM; the import format)",
    tags=TAGS,
    responses={
        "200": {
            "description": "CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def get_timeline_csv(case_id: int) -> ResponseReturnValue:
    case = _load(case_id)
    if case is None:
        return _not_found()
    return export_response(case)


@bp.get("/cases/<int:case_id>/tasks")
@requires(Permission.CASE_VIEW)
@operation(
    "The case's tasks by due date",
    tags=TAGS,
    responses={
        "200": _json(
            {"type": "object", "properties": {"items": {"type": "array", "items": TASK_SCHEMA}}}
        )
    },
)
def get_tasks(case_id: int) -> ResponseReturnValue:
    case = _load(case_id)
    if case is None:
        return _not_found()
    return jsonify(items=[task_json(t) for t in list_tasks(get_session(), case)])


@bp.post("/cases/<int:case_id>/tasks")
@requires(Permission.CASE_EDIT)
@operation(
    "Add a task",
    tags=TAGS,
    request_body=TASK_INPUT,
    responses={"201": _json(TASK_SCHEMA, "Created")},
)
def post_task(case_id: int) -> ResponseReturnValue:
    case = _load(case_id)
    if case is None:
        return _not_found()
    data = _body()
    if data is None:
        return validation_problem({"body": "a JSON object"})
    errors = {k: "unknown field" for k in data if k not in TASK_INPUT["properties"]}
    if not isinstance(data.get("title"), str):
        errors["title"] = "required"
    due_at = None
    if data.get("due_at") is not None:
        try:
            due_at = _parse_datetime(data["due_at"])
        except ValueError:
            errors["due_at"] = "an ISO 8601 date-time with offset"
    assignees = data.get("assignees", [])
    if not isinstance(assignees, list) or not all(
        isinstance(a, int) and not isinstance(a, bool) for a in assignees
    ):
        errors["assignees"] = "a list of user ids"
    for name in ("description", "phase"):
        if name in data and not isinstance(data[name], str):
            errors[name] = "must be a string"
    if "required" in data and not isinstance(data["required"], bool):
        errors["required"] = "must be true or false"
    if errors:
        return validation_problem(errors)
    session = get_session()
    try:
        task = add_task(
            session,
            case,
            current_user,
            title=data["title"],
            description=data.get("description", ""),
            phase=data.get("phase", case.phase if case.phase != "closed" else "detect"),
            due_at=due_at,
            required=data.get("required", False),
            assignee_ids=assignees,
        )
    except CaseValidationError as exc:
        session.rollback()
        return validation_problem(exc.errors)
    session.commit()
    response = jsonify(task_json(task))
    response.status_code = 201
    return response
