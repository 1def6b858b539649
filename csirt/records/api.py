"""Case record API: data sets, evidence, takedowns, notes, liaison, inquiries (bearer token)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from csirt.api.openapi import OPENAPI_ATTR, operation
from csirt.api.problems import problem, validation_problem
from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases.models import (
    AffectedDataset,
    Case,
    Evidence,
    Inquiry,
    LiaisonEntry,
    Note,
    TakedownRequest,
)
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.need_to_know import get_case_for
from csirt.db import Base, get_session, writes
from csirt.records import service, validation
from csirt.records.markdown import render_markdown
from csirt.records.views import evidence_response, evidence_store, tz
from csirt.triage import load_vocabulary

bp = Blueprint("api_records", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=Base)
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
TAGS = ["case records"]


class CaseGoneError(Exception):
    """The case does not exist or is not visible to the token's user."""


def _case(case_id: int) -> Case:
    try:
        return get_case_for(get_session(), current_user, case_id)
    except CaseNotFoundError:
        raise CaseGoneError(case_id) from None


@bp.errorhandler(CaseGoneError)
def _case_gone(_error: CaseGoneError) -> ResponseReturnValue:
    return problem(404, "Not Found", "no such case")


@bp.errorhandler(validation.RecordValidationError)
def _invalid(error: validation.RecordValidationError) -> ResponseReturnValue:
    return validation_problem(error.errors)


@bp.errorhandler(service.RecordNotFoundError)
def _record_gone(_error: service.RecordNotFoundError) -> ResponseReturnValue:
    return problem(404, "Not Found", "no such record in this case")


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise validation.RecordValidationError({"body": "must be a JSON object"})
    return body


def _page_params() -> tuple[int, int | None]:
    errors = {}
    limit = DEFAULT_LIMIT
    cursor = None
    raw_limit = request.args.get("limit")
    if raw_limit is not None:
        if raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_LIMIT:
            limit = int(raw_limit)
        else:
            errors["limit"] = f"must be a whole number from 1 to {MAX_LIMIT}"
    raw_cursor = request.args.get("cursor")
    if raw_cursor is not None:
        # ASCII digits only ("²".isdigit() is true), and within a 32-bit id column.
        if raw_cursor.isascii() and raw_cursor.isdigit() and len(raw_cursor) <= 9:
            cursor = int(raw_cursor)
        else:
            errors["cursor"] = "must be a cursor from a previous page"
    if errors:
        raise validation.RecordValidationError(errors)
    return limit, cursor


def _page(
    case: Case, model: type[M], to_json: Callable[[M], dict[str, Any]]
) -> ResponseReturnValue:
    limit, cursor = _page_params()
    rows, next_cursor = service.page_of(get_session(), model, case, limit=limit, cursor=cursor)
    return jsonify(items=[to_json(r) for r in rows], next_cursor=next_cursor)


def _created(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = 201
    return response


# --- OpenAPI schemas ----------------------------------------------------------------------

PAGE_PARAMS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "cursor", "in": "query", "schema": {"type": "integer"}},
]
DATE_TIME = {"type": "string", "format": "date-time"}
DATASET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "persons", "exposure"],
    "properties": {
        "name": {"type": "string", "maxLength": 200, "example": "選挙人名簿 北区"},
        "holder": {"type": "string", "maxLength": 200},
        "items": {"type": "array", "items": {"type": "string"}, "description": "vocabulary keys"},
        "persons": {"type": "integer", "minimum": 0},
        "persons_estimated": {"type": "boolean"},
        "exposure": {"type": "string", "enum": list(validation.EXPOSURES)},
        "exposed_from": DATE_TIME,
        "exposed_until": DATE_TIME,
        "encrypted": {"type": "boolean"},
        "secondary_damage": {"type": "string"},
    },
}
EVIDENCE_FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "kind": {"type": "string", "enum": list(validation.EVIDENCE_KINDS)},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "url": {"type": "string", "description": "required for web_capture"},
        "captured_at": {**DATE_TIME, "description": "required for web_capture"},
    },
}
TAKEDOWN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["recipient", "url"],
    "properties": {
        "kind": {"type": "string", "enum": list(validation.TAKEDOWN_KINDS)},
        "recipient": {"type": "string"},
        "url": {"type": "string"},
        "requested_at": DATE_TIME,
        "status": {"type": "string", "enum": list(validation.TAKEDOWN_STATUSES)},
        "answer": {"type": "string"},
        "answered_at": DATE_TIME,
        "evidence_id": {"type": "integer"},
    },
}
NOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["body"],
    "properties": {"body": {"type": "string", "description": "Markdown"}},
}
LIAISON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["party_kind", "party", "contact_at"],
    "properties": {
        "party_kind": {"type": "string", "enum": list(validation.PARTY_KINDS)},
        "party": {"type": "string"},
        "contact_at": DATE_TIME,
        "direction": {"type": "string", "enum": list(validation.DIRECTIONS)},
        "summary": {"type": "string"},
    },
}
INQUIRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["channel", "received_on"],
    "properties": {
        "channel": {"type": "string", "enum": list(validation.CHANNELS)},
        "received_on": {"type": "string", "format": "date"},
        "topic": {"type": "string"},
        "answered": {"type": "boolean"},
    },
}


def _list_response(what: str) -> dict[str, Any]:
    return {
        "200": {
            "description": f"{what}, newest first",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": {"type": "object"}},
                            "next_cursor": {"type": "integer", "nullable": True},
                        },
                    }
                }
            },
        }
    }


CREATED = {"201": {"description": "Created", "content": {"application/json": {}}}}


def multipart(schema: dict[str, Any]) -> Callable[[F], F]:
    """Declare a multipart/form-data request body (after ``operation``)."""

    def decorate(view: F) -> F:
        spec = getattr(view, OPENAPI_ATTR)
        spec["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema}},
        }
        return view

    return decorate


# --- serialisation ------------------------------------------------------------------------


def dataset_json(row: AffectedDataset) -> dict[str, Any]:
    """The API shape of a data set."""
    return {
        "id": row.id,
        "name": row.name,
        "holder": row.holder,
        "items": list(row.items),
        "persons": row.persons,
        "persons_estimated": row.persons_estimated,
        "exposure": row.exposure,
        "exposed_from": _iso(row.exposed_from),
        "exposed_until": _iso(row.exposed_until),
        "encrypted": row.encrypted,
        "secondary_damage": row.secondary_damage,
        "updated_at": _iso(row.updated_at),
    }


def evidence_json(row: Evidence) -> dict[str, Any]:
    """The API shape of an evidence item (the bytes are at ``content_url``)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "title": row.title,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "url": row.url,
        "captured_at": _iso(row.captured_at),
        "description": row.description,
        "added_by_id": row.added_by_id,
        "added_at": _iso(row.added_at),
        "content_url": f"/api/v1/cases/{row.case_id}/evidence/{row.id}/content",
    }


def takedown_json(row: TakedownRequest) -> dict[str, Any]:
    """The API shape of a takedown or cache-removal request."""
    return {
        "id": row.id,
        "kind": row.kind,
        "recipient": row.recipient,
        "url": row.url,
        "requested_at": _iso(row.requested_at),
        "status": row.status,
        "answer": row.answer,
        "answered_at": _iso(row.answered_at),
        "evidence_id": row.evidence_id,
    }


def note_json(row: Note) -> dict[str, Any]:
    """The API shape of a note, with its sanitised HTML."""
    return {
        "id": row.id,
        "body": row.body,
        "html": render_markdown(row.body),
        "author_id": row.author_id,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def liaison_json(row: LiaisonEntry) -> dict[str, Any]:
    """The API shape of a liaison entry."""
    return {
        "id": row.id,
        "party_kind": row.party_kind,
        "party": row.party,
        "contact_at": _iso(row.contact_at),
        "direction": row.direction,
        "summary": row.summary,
        "recorded_by_id": row.recorded_by_id,
        "recorded_at": _iso(row.recorded_at),
    }


def inquiry_json(row: Inquiry) -> dict[str, Any]:
    """The API shape of a public inquiry."""
    return {
        "id": row.id,
        "channel": row.channel,
        "received_on": _iso(row.received_on),
        "topic": row.topic,
        "answered": row.answered,
        "answered_at": _iso(row.answered_at),
    }


# --- data sets ----------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>/datasets")
@requires(Permission.CASE_VIEW)
@operation(
    "Affected data sets of a case",
    tags=TAGS,
    parameters=PAGE_PARAMS,
    responses=_list_response("Data sets"),
)
def list_datasets(case_id: int) -> ResponseReturnValue:
    return _page(_case(case_id), AffectedDataset, dataset_json)


@bp.post("/cases/<int:case_id>/datasets")
@requires(Permission.CASE_EDIT)
@operation(
    "Add an affected data set (triage re-runs)",
    tags=TAGS,
    request_body=DATASET_SCHEMA,
    responses=CREATED,
)
def create_dataset(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    data = validation.read_dataset(_json_body(), load_vocabulary(), tz())
    session = get_session()
    row = service.add_dataset(session, case, current_user, data)
    session.commit()
    return _created(dataset_json(row))


# --- evidence -----------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>/evidence")
@requires(Permission.CASE_VIEW)
@operation(
    "Evidence of a case", tags=TAGS, parameters=PAGE_PARAMS, responses=_list_response("Evidence")
)
def list_evidence(case_id: int) -> ResponseReturnValue:
    return _page(_case(case_id), Evidence, evidence_json)


@bp.post("/cases/<int:case_id>/evidence")
@requires(Permission.CASE_EDIT)
@multipart(EVIDENCE_FORM_SCHEMA)
@operation(
    "Upload evidence: a file or captured web content (hash computed by the server)",
    tags=TAGS,
    responses=CREATED,
)
def create_evidence(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    upload = request.files.get("file")
    has_file = upload is not None and bool(upload.filename)
    data = validation.read_evidence(request.form, tz(), has_file=has_file)
    assert upload is not None
    session = get_session()
    store = evidence_store()
    row, blob = service.add_evidence(
        session, store, case, current_user, data, upload.stream, upload.filename, via="api"
    )
    try:
        session.commit()
    except BaseException:
        service.discard_blob(session, store, blob)
        raise
    return _created(evidence_json(row))


@bp.get("/cases/<int:case_id>/evidence/<int:evidence_id>/content")
@writes
@requires(Permission.CASE_VIEW)
@operation(
    "Download evidence bytes (recorded in the chain of custody and the audit log)",
    tags=TAGS,
    responses={"200": {"description": "The file, as an attachment"}},
)
def evidence_content(case_id: int, evidence_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    session = get_session()
    row = service.open_for_download(session, case, current_user, evidence_id, via="api")
    response = evidence_response(row)
    session.commit()
    return response


@bp.get("/cases/<int:case_id>/takedowns")
@requires(Permission.CASE_VIEW)
@operation(
    "Takedown and search-cache removal requests of a case",
    tags=TAGS,
    parameters=PAGE_PARAMS,
    responses=_list_response("Requests"),
)
def list_takedowns(case_id: int) -> ResponseReturnValue:
    return _page(_case(case_id), TakedownRequest, takedown_json)


@bp.post("/cases/<int:case_id>/takedowns")
@requires(Permission.CASE_EDIT)
@operation(
    "Record a takedown or search-cache removal request",
    tags=TAGS,
    request_body=TAKEDOWN_SCHEMA,
    responses=CREATED,
)
def create_takedown(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    data = validation.read_takedown(_json_body(), tz())
    session = get_session()
    row = service.add_takedown(session, case, current_user, data)
    session.commit()
    return _created(takedown_json(row))


# --- notes, liaison, inquiries ------------------------------------------------------------


@bp.get("/cases/<int:case_id>/notes")
@requires(Permission.CASE_VIEW)
@operation(
    "Notes of a case (Markdown and sanitised HTML)",
    tags=TAGS,
    parameters=PAGE_PARAMS,
    responses=_list_response("Notes"),
)
def list_notes(case_id: int) -> ResponseReturnValue:
    return _page(_case(case_id), Note, note_json)


@bp.post("/cases/<int:case_id>/notes")
@requires(Permission.CASE_EDIT)
@operation("Add a Markdown note", tags=TAGS, request_body=NOTE_SCHEMA, responses=CREATED)
def create_note(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    body = validation.read_note(_json_body(), tz())
    session = get_session()
    row = service.add_note(session, case, current_user, body)
    session.commit()
    return _created(note_json(row))


@bp.get("/cases/<int:case_id>/liaison")
@requires(Permission.CASE_VIEW)
@operation(
    "Liaison log of a case (police, regulator, JPCERT/CC, vendors, lawyers)",
    tags=TAGS,
    parameters=PAGE_PARAMS,
    responses=_list_response("Contacts"),
)
def list_liaison(case_id: int) -> ResponseReturnValue:
    return _page(_case(case_id), LiaisonEntry, liaison_json)


@bp.post("/cases/<int:case_id>/liaison")
@requires(Permission.CASE_EDIT)
@operation(
    "Record a contact with an outside party",
    tags=TAGS,
    request_body=LIAISON_SCHEMA,
    responses=CREATED,
)
def create_liaison(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    data = validation.read_liaison(_json_body(), tz())
    session = get_session()
    row = service.add_liaison(session, case, current_user, data)
    session.commit()
    return _created(liaison_json(row))


@bp.get("/cases/<int:case_id>/inquiries")
@requires(Permission.CASE_VIEW)
@operation(
    "Public inquiries of a case, with the counts per day",
    tags=TAGS,
    parameters=PAGE_PARAMS,
    responses=_list_response("Inquiries"),
)
def list_inquiries(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    limit, cursor = _page_params()
    session = get_session()
    rows, next_cursor = service.page_of(session, Inquiry, case, limit=limit, cursor=cursor)
    per_day = [
        {"day": c.day.isoformat(), "total": c.total, "answered": c.answered}
        for c in service.inquiry_counts(session, case)
    ]
    return jsonify(items=[inquiry_json(r) for r in rows], next_cursor=next_cursor, per_day=per_day)


@bp.post("/cases/<int:case_id>/inquiries")
@requires(Permission.CASE_EDIT)
@operation("Record a public inquiry", tags=TAGS, request_body=INQUIRY_SCHEMA, responses=CREATED)
def create_inquiry(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    data = validation.read_inquiry(_json_body(), tz())
    session = get_session()
    row = service.add_inquiry(session, case, current_user, data)
    session.commit()
    return _created(inquiry_json(row))
