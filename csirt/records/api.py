"""Case record API: data sets, evidence, takedowns, notes, liaison, inquiries (bearer token).

Each body is checked by its model (the schema the OpenAPI document shows) and read by
:mod:`csirt.records.validation`, the reader the console forms use too; errors become problems
through :mod:`csirt.api.errors`; lists page by :mod:`csirt.api.pagination`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, Field, WithJsonSchema

from csirt.api import errors
from csirt.api.openapi import OPENAPI_ATTR, json_response, operation
from csirt.api.pagination import PageQuery, page_response, row_id
from csirt.api.responses import created, iso
from csirt.api.schema import ApiModel, read_body_with, read_query
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
from csirt.cases.need_to_know import get_case_for
from csirt.catalog.current import current_catalog
from csirt.db import Base, get_session, writes
from csirt.records import service, validation
from csirt.records.markdown import render_markdown
from csirt.records.views import evidence_response, evidence_store, tz

bp = Blueprint("api_records", __name__, url_prefix="/api/v1")
errors.register(bp)

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=Base)
TAGS = ["case records"]

# --- request models (validate and document) ---------------------------------------------

Moment = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""ISO 8601, read by validation.Reader.moment (without an offset: in CSIRT_TIMEZONE)."""


class DatasetIn(ApiModel):
    name: str = Field(max_length=200, examples=["選挙人名簿 北区"])
    holder: str | None = Field(None, max_length=200)
    items: list[str] = Field([], description="vocabulary keys")
    persons: int = Field(ge=0, le=validation.MAX_PERSONS)
    persons_estimated: bool = False
    exposure: Literal[validation.EXPOSURES] = Field()  # type: ignore[valid-type]
    exposed_from: Moment | None = None
    exposed_until: Moment | None = None
    encrypted: bool = False
    secondary_damage: str | None = Field(None, max_length=10_000)


class TakedownIn(ApiModel):
    kind: Literal[validation.TAKEDOWN_KINDS] = "takedown"  # type: ignore[valid-type]
    recipient: str = Field(max_length=200)
    url: str = Field(max_length=2000, description="http(s)")
    requested_at: Moment | None = None
    status: Literal[validation.TAKEDOWN_STATUSES] = "requested"  # type: ignore[valid-type]
    answer: str | None = Field(None, max_length=10_000)
    answered_at: Moment | None = None
    evidence_id: int | None = Field(None, ge=0, le=2**31 - 1)


class NoteIn(ApiModel):
    body: str = Field(max_length=100_000, description="Markdown")


class LiaisonIn(ApiModel):
    party_kind: Literal[validation.PARTY_KINDS]  # type: ignore[valid-type]
    party: str = Field(max_length=200)
    contact_at: Moment
    direction: Literal[validation.DIRECTIONS] = "out"  # type: ignore[valid-type]
    summary: str | None = Field(None, max_length=20_000)


class InquiryIn(ApiModel):
    channel: Literal[validation.CHANNELS]  # type: ignore[valid-type]
    received_on: str = Field(json_schema_extra={"format": "date"})
    topic: str | None = Field(None, max_length=200)
    answered: bool = False


class EvidenceForm(BaseModel):
    """The multipart form of an evidence upload (documentation: the form is read by
    validation.read_evidence, the file by the service)."""

    file: bytes = Field(json_schema_extra={"format": "binary"})
    kind: Literal[validation.EVIDENCE_KINDS] = "file"  # type: ignore[valid-type]
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    url: str | None = Field(None, description="required for web_capture")
    captured_at: str | None = Field(
        None, description="required for web_capture", json_schema_extra={"format": "date-time"}
    )


def multipart(model: type[BaseModel]) -> Callable[[F], F]:
    """Declare a multipart/form-data request body (after ``operation``)."""

    def decorate(view: F) -> F:
        spec = getattr(view, OPENAPI_ATTR)
        spec["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": model}},
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
        "exposed_from": iso(row.exposed_from),
        "exposed_until": iso(row.exposed_until),
        "encrypted": row.encrypted,
        "secondary_damage": row.secondary_damage,
        "updated_at": iso(row.updated_at),
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
        "captured_at": iso(row.captured_at),
        "description": row.description,
        "added_by_id": row.added_by_id,
        "added_at": iso(row.added_at),
        "content_url": f"/api/v1/cases/{row.case_id}/evidence/{row.id}/content",
    }


def takedown_json(row: TakedownRequest) -> dict[str, Any]:
    """The API shape of a takedown or cache-removal request."""
    return {
        "id": row.id,
        "kind": row.kind,
        "recipient": row.recipient,
        "url": row.url,
        "requested_at": iso(row.requested_at),
        "status": row.status,
        "answer": row.answer,
        "answered_at": iso(row.answered_at),
        "evidence_id": row.evidence_id,
    }


def note_json(row: Note) -> dict[str, Any]:
    """The API shape of a note, with its sanitised HTML."""
    return {
        "id": row.id,
        "body": row.body,
        "html": render_markdown(row.body),
        "author_id": row.author_id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def liaison_json(row: LiaisonEntry) -> dict[str, Any]:
    """The API shape of a liaison entry."""
    return {
        "id": row.id,
        "party_kind": row.party_kind,
        "party": row.party,
        "contact_at": iso(row.contact_at),
        "direction": row.direction,
        "summary": row.summary,
        "recorded_by_id": row.recorded_by_id,
        "recorded_at": iso(row.recorded_at),
    }


def inquiry_json(row: Inquiry) -> dict[str, Any]:
    """The API shape of a public inquiry."""
    return {
        "id": row.id,
        "channel": row.channel,
        "received_on": iso(row.received_on),
        "topic": row.topic,
        "answered": row.answered,
        "answered_at": iso(row.answered_at),
    }


# --- one list and one create for every collection -----------------------------------------


def _case(case_id: int) -> Case:
    return get_case_for(get_session(), current_user, case_id)


def _list_response(what: str, **extra: Any) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "next_cursor": {"type": "string", "nullable": True},
            **extra,
        },
    }
    return {"200": json_response(schema, f"{what}, newest first")}


CREATED = {"201": {"description": "Created", "content": {"application/json": {}}}}


def _page(case: Case, model: type[M], to_json: Callable[[M], dict[str, Any]], **extra: Any) -> Any:
    page = read_query(PageQuery)
    scope = model.__tablename__
    cursor = page.position(scope, row_id)
    rows, next_id = service.page_of(get_session(), model, case, limit=page.limit, cursor=cursor)
    return page_response(scope, rows, to_json, next_id, **extra)


def _create(
    case_id: int,
    model: type[ApiModel],
    read: Callable[[dict[str, Any]], Any],
    add: Callable[..., M],
    to_json: Callable[[M], dict[str, Any]],
) -> ResponseReturnValue:
    case = _case(case_id)
    _body, data = read_body_with(model, read)
    session = get_session()
    row = add(session, case, current_user, data)
    session.commit()
    return created(to_json(row))


def _collection(
    name: str,
    what: str,
    row: type[M],
    to_json: Callable[[M], dict[str, Any]],
    summary: str,
) -> None:
    """GET (paged list) for one collection of a case's records."""

    @requires(Permission.CASE_VIEW)
    @operation(what, tags=TAGS, query=PageQuery, responses=_list_response(summary))
    def list_rows(case_id: int) -> ResponseReturnValue:
        return _page(_case(case_id), row, to_json)  # type: ignore[no-any-return]

    bp.add_url_rule(f"/cases/<int:case_id>/{name}", f"list_{name}", list_rows, methods=["GET"])


_collection("datasets", "Affected data sets of a case", AffectedDataset, dataset_json, "Data sets")
_collection("evidence", "Evidence of a case", Evidence, evidence_json, "Evidence")
_collection(
    "takedowns",
    "Takedown and search-cache removal requests of a case",
    TakedownRequest,
    takedown_json,
    "Requests",
)
_collection("notes", "Notes of a case (Markdown and sanitised HTML)", Note, note_json, "Notes")
_collection(
    "liaison",
    "Liaison log of a case (police, regulator, JPCERT/CC, vendors, lawyers)",
    LiaisonEntry,
    liaison_json,
    "Contacts",
)


@bp.post("/cases/<int:case_id>/datasets")
@requires(Permission.CASE_EDIT)
@operation(
    "Add an affected data set (triage re-runs)", tags=TAGS, body=DatasetIn, responses=CREATED
)
def create_dataset(case_id: int) -> ResponseReturnValue:
    vocabulary = current_catalog().vocabulary
    return _create(
        case_id,
        DatasetIn,
        lambda data: validation.read_dataset(data, vocabulary, tz()),
        service.add_dataset,
        dataset_json,
    )


@bp.post("/cases/<int:case_id>/evidence")
@requires(Permission.CASE_EDIT)
@multipart(EvidenceForm)
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
    return created(evidence_json(row))


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


@bp.post("/cases/<int:case_id>/takedowns")
@requires(Permission.CASE_EDIT)
@operation(
    "Record a takedown or search-cache removal request",
    tags=TAGS,
    body=TakedownIn,
    responses=CREATED,
)
def create_takedown(case_id: int) -> ResponseReturnValue:
    return _create(
        case_id,
        TakedownIn,
        lambda data: validation.read_takedown(data, tz()),
        service.add_takedown,
        takedown_json,
    )


@bp.post("/cases/<int:case_id>/notes")
@requires(Permission.CASE_EDIT)
@operation("Add a Markdown note", tags=TAGS, body=NoteIn, responses=CREATED)
def create_note(case_id: int) -> ResponseReturnValue:
    return _create(
        case_id, NoteIn, lambda data: validation.read_note(data, tz()), service.add_note, note_json
    )


@bp.post("/cases/<int:case_id>/liaison")
@requires(Permission.CASE_EDIT)
@operation("Record a contact with an outside party", tags=TAGS, body=LiaisonIn, responses=CREATED)
def create_liaison(case_id: int) -> ResponseReturnValue:
    return _create(
        case_id,
        LiaisonIn,
        lambda data: validation.read_liaison(data, tz()),
        service.add_liaison,
        liaison_json,
    )


@bp.get("/cases/<int:case_id>/inquiries")
@requires(Permission.CASE_VIEW)
@operation(
    "Public inquiries of a case, with the counts per day",
    tags=TAGS,
    query=PageQuery,
    responses=_list_response("Inquiries", per_day={"type": "array", "items": {"type": "object"}}),
)
def list_inquiries(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    per_day = [
        {"day": c.day.isoformat(), "total": c.total, "answered": c.answered}
        for c in service.inquiry_counts(get_session(), case)
    ]
    return _page(case, Inquiry, inquiry_json, per_day=per_day)  # type: ignore[no-any-return]


@bp.post("/cases/<int:case_id>/inquiries")
@requires(Permission.CASE_EDIT)
@operation("Record a public inquiry", tags=TAGS, body=InquiryIn, responses=CREATED)
def create_inquiry(case_id: int) -> ResponseReturnValue:
    return _create(
        case_id,
        InquiryIn,
        lambda data: validation.read_inquiry(data, tz()),
        service.add_inquiry,
        inquiry_json,
    )
