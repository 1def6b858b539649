"""Case record API: data sets, evidence, takedowns, notes, liaison, inquiries (bearer token).

Each body is checked by its model (the schema the OpenAPI document shows) and read by
:mod:`csirt.records.validation`, the reader the console forms use too; errors become problems
through :mod:`csirt.api.errors`; lists page by :mod:`csirt.api.pagination`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, Field, WithJsonSchema

from csirt.api import errors
from csirt.api.openapi import OPENAPI_ATTR, json_response, operation
from csirt.api.pagination import PageQuery, page_response, row_id
from csirt.api.responses import created
from csirt.api.routes import ApiRoutes, reading_request
from csirt.api.schema import ApiModel, ApiOut, IsoDay, IsoTime, read_body_with
from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import corrections
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
from csirt.inventory import service as inventory
from csirt.records import service, validation
from csirt.records.markdown import render_markdown
from csirt.records.web import evidence_response, evidence_store, tz

bp = Blueprint("api_records", __name__, url_prefix="/api/v1")
errors.register(bp)

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=Base)
TAGS = ["case records"]
api = ApiRoutes(bp, TAGS[0])

# --- request models (validate and document) ---------------------------------------------

Moment = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""ISO 8601, read by validation.Reader.moment (without an offset: in CSIRT_TIMEZONE)."""


class DatasetIn(ApiModel):
    inventory_id: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="an inventory file: name, holder, items and persons come from it "
        "(the fields given here win); the data set is marked as from the inventory",
    )
    name: str | None = Field(
        None,
        max_length=200,
        examples=["選挙人名簿 北区"],
        description="required without inventory_id",
    )
    holder: str | None = Field(None, max_length=200)
    items: list[str] | None = Field(None, description="vocabulary keys")
    persons: int | None = Field(
        None, ge=0, le=validation.MAX_PERSONS, description="required without inventory_id"
    )
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


# --- responses (each model documents its response and writes it) ----------------------


class DatasetOut(ApiOut):
    id: int
    name: str
    holder: str
    items: list[str]
    persons: int
    persons_estimated: bool
    exposure: str
    exposed_from: IsoTime | None
    exposed_until: IsoTime | None
    encrypted: bool
    secondary_damage: str
    updated_at: IsoTime
    inventory_id: int | None = Field(None, description="the inventory file it was taken from")
    counted_on: IsoDay | None = Field(None, description="the date of that file's count")

    @classmethod
    def dump(cls, row: Any, **values: Any) -> dict[str, Any]:
        source = inventory.dataset_source(get_session(), row.id)
        if source is not None:
            values = {"inventory_id": source.file_id, "counted_on": source.counted_on, **values}
        else:
            values = {"inventory_id": None, "counted_on": None, **values}
        return super().dump(row, **values)


class EvidenceOut(ApiOut):
    id: int
    kind: str
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str | None
    captured_at: IsoTime | None
    description: str
    added_by_id: int | None
    added_at: IsoTime
    content_url: str = Field(description="the bytes (download recorded in the chain of custody)")

    @classmethod
    def dump(cls, row: Any, **values: Any) -> dict[str, Any]:
        url = f"/api/v1/cases/{row.case_id}/evidence/{row.id}/content"
        return super().dump(row, content_url=url, **values)


class TakedownOut(ApiOut):
    id: int
    kind: str
    recipient: str
    url: str
    requested_at: IsoTime
    status: str
    answer: str
    answered_at: IsoTime | None
    evidence_id: int | None


class NoteOut(ApiOut):
    id: int
    body: str = Field(description="Markdown")
    html: str = Field(description="the Markdown rendered and sanitised")
    author_id: int | None
    created_at: IsoTime
    updated_at: IsoTime

    @classmethod
    def dump(cls, row: Any, **values: Any) -> dict[str, Any]:
        return super().dump(row, html=render_markdown(row.body), **values)


class LiaisonOut(ApiOut):
    id: int
    party_kind: str
    party: str
    contact_at: IsoTime
    direction: str
    summary: str
    recorded_by_id: int | None
    recorded_at: IsoTime


class InquiryOut(ApiOut):
    id: int
    channel: str
    received_on: IsoDay
    topic: str
    answered: bool
    answered_at: IsoTime | None


# --- one list and one create for every collection -----------------------------------------


def _case(case_id: int) -> Case:
    return get_case_for(get_session(), current_user, case_id)


def _list_response(out: type[ApiOut], what: str, **extra: Any) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": out},
            "next_cursor": {"type": "string", "nullable": True},
            **extra,
        },
    }
    return {"200": json_response(schema, f"{what}, newest first")}


def _created(out: type[ApiOut]) -> dict[str, Any]:
    return {"201": json_response(out, "Created")}


def _page(case: Case, page: PageQuery, model: type[M], out: type[ApiOut], **extra: Any) -> Response:
    scope = model.__tablename__
    cursor = page.position(scope, row_id)
    rows, next_id = service.page_of(get_session(), model, case, limit=page.limit, cursor=cursor)
    return page_response(scope, rows, out.dump, next_id, **extra)


def _collection(
    name: str,
    row: type[M],
    out: type[ApiOut],
    listed: tuple[str, str] | None,
    added: tuple[str, str, type[ApiModel], Callable[[dict[str, Any]], Any], Callable[..., M]],
) -> None:
    """The routes of one collection of a case's records.

    ``listed``: the GET list (summary, what its items are), or None when it has its own view;
    ``added``: the POST (endpoint, summary, body model, the records reader, the service call).
    """
    if listed is not None:
        summary, what = listed

        @requires(Permission.CASE_VIEW)
        @operation(summary, tags=TAGS, query=PageQuery, responses=_list_response(out, what))
        def list_rows(case_id: int, query: PageQuery) -> ResponseReturnValue:
            return _page(_case(case_id), query, row, out)

        rule, listing = f"/cases/<int:case_id>/{name}", reading_request(list_rows, query=PageQuery)
        bp.add_url_rule(rule, f"list_{name}", listing, methods=["GET"])

    endpoint, summary, model, read, add = added

    @requires(Permission.CASE_EDIT)
    @operation(summary, tags=TAGS, body=model, responses=_created(out))
    def create_row(case_id: int) -> ResponseReturnValue:
        case = _case(case_id)
        _body, data = read_body_with(model, read)
        session = get_session()
        created_row = add(session, case, current_user, data)
        session.commit()
        return created(out.dump(created_row))

    bp.add_url_rule(f"/cases/<int:case_id>/{name}", endpoint, create_row, methods=["POST"])


def _read_dataset(data: dict[str, Any]) -> tuple[validation.DatasetInput, int | None]:
    """A data set, completed from its inventory file when ``inventory_id`` names one."""
    file_id = data.get("inventory_id")
    if file_id is not None:
        data = inventory.prefill(get_session(), file_id, data)
    return validation.read_dataset(data, current_catalog().vocabulary, tz()), file_id


_collection(
    "datasets",
    AffectedDataset,
    DatasetOut,
    ("Affected data sets of a case", "Data sets"),
    (
        "create_dataset",
        "Add an affected data set (triage re-runs)",
        DatasetIn,
        _read_dataset,
        lambda session, case, actor, read: inventory.add_case_dataset(session, case, actor, *read),
    ),
)
_collection(
    "takedowns",
    TakedownRequest,
    TakedownOut,
    ("Takedown and search-cache removal requests of a case", "Requests"),
    (
        "create_takedown",
        "Record a takedown or search-cache removal request",
        TakedownIn,
        lambda data: validation.read_takedown(data, tz()),
        service.add_takedown,
    ),
)
_collection(
    "notes",
    Note,
    NoteOut,
    ("Notes of a case (Markdown and sanitised HTML)", "Notes"),
    (
        "create_note",
        "Add a Markdown note",
        NoteIn,
        lambda data: validation.read_note(data, tz()),
        service.add_note,
    ),
)
_collection(
    "liaison",
    LiaisonEntry,
    LiaisonOut,
    ("Liaison log of a case (police, regulator, JPCERT/CC, vendors, lawyers)", "Contacts"),
    (
        "create_liaison",
        "Record a contact with an outside party",
        LiaisonIn,
        lambda data: validation.read_liaison(data, tz()),
        service.add_liaison,
    ),
)
_collection(
    "inquiries",
    Inquiry,
    InquiryOut,
    None,  # listed below, with its counts per day
    (
        "create_inquiry",
        "Record a public inquiry",
        InquiryIn,
        lambda data: validation.read_inquiry(data, tz()),
        service.add_inquiry,
    ),
)


def _zoned(correct: Callable[..., Any]) -> corrections.Edit:
    """A correction read in the configured time zone."""
    return lambda *args: correct(*args, tz())


def _correct_dataset(*args: Any) -> Any:
    return service.correct_dataset(*args, current_catalog().vocabulary, tz())  # type: ignore[call-arg]


# Each kind of record is corrected with history: PATCH, DELETE, restore and history.
for _kind, _path, _out, _in, _edit in (
    (service.DATASET, "datasets", DatasetOut, DatasetIn, _correct_dataset),
    (service.NOTE, "notes", NoteOut, NoteIn, _zoned(service.correct_note)),
    (service.LIAISON, "liaison", LiaisonOut, LiaisonIn, _zoned(service.correct_liaison)),
):
    _spec = corrections.ApiKind(_kind, _path, _kind.name, _kind.name, _out, _in, _edit, (TAGS[0],))
    corrections.api_routes(bp, _spec, _case)


@api.get(
    "/cases/<int:case_id>/inquiries",
    Permission.CASE_VIEW,
    query=PageQuery,
    responses=_list_response(
        InquiryOut, "Inquiries", per_day={"type": "array", "items": {"type": "object"}}
    ),
)
def list_inquiries(case_id: int, query: PageQuery) -> ResponseReturnValue:
    """Public inquiries of a case, with the counts per day."""
    case = _case(case_id)
    per_day = [
        {"day": c.day.isoformat(), "total": c.total, "answered": c.answered}
        for c in service.inquiry_counts(get_session(), case)
    ]
    return _page(case, query, Inquiry, InquiryOut, per_day=per_day)


# --- evidence: a multipart upload and a download ------------------------------------------


@api.get(
    "/cases/<int:case_id>/evidence",
    Permission.CASE_VIEW,
    query=PageQuery,
    responses=_list_response(EvidenceOut, "Evidence"),
)
def list_evidence(case_id: int, query: PageQuery) -> ResponseReturnValue:
    """Evidence of a case."""
    return _page(_case(case_id), query, Evidence, EvidenceOut)


@multipart(EvidenceForm)
@api.post("/cases/<int:case_id>/evidence", Permission.CASE_EDIT, responses=_created(EvidenceOut))
def create_evidence(case_id: int) -> ResponseReturnValue:
    """Upload evidence: a file or captured web content (hash computed by the server)."""
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
    return created(EvidenceOut.dump(row))


@writes
@api.get(
    "/cases/<int:case_id>/evidence/<int:evidence_id>/content",
    Permission.CASE_VIEW,
    responses={"200": {"description": "The file, as an attachment"}},
)
def evidence_content(case_id: int, evidence_id: int) -> ResponseReturnValue:
    """Download evidence bytes (recorded in the chain of custody and the audit log)."""
    case = _case(case_id)
    session = get_session()
    row = service.open_for_download(session, case, current_user, evidence_id, via="api")
    response = evidence_response(row)
    session.commit()
    return response
