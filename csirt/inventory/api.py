"""Inventory API: the organisation's personal-data files (bearer token), their overlaps, the
register CSV in and out, and the exposure of a system (``GET /inventory?system=``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import Field

from csirt.api import errors
from csirt.api.openapi import OPENAPI_ATTR, json_response, operation
from csirt.api.pagination import PageQuery, page_response, row_id
from csirt.api.responses import created
from csirt.api.schema import ApiModel, ApiOut, IsoDay, IsoTime, read_body_with, read_query
from csirt.auth.access import exports, requires
from csirt.auth.permissions import Permission
from csirt.catalog.current import current_catalog
from csirt.db import get_session, writes
from csirt.inventory import service
from csirt.inventory.web import csv_response
from csirt.records.validation import MAX_PERSONS

bp = Blueprint("api_inventory", __name__, url_prefix="/api/v1/inventory")
errors.register(bp)
TAGS = ["inventory"]
CSV = {"text/csv": {"schema": {"type": "string"}}}


class FileIn(ApiModel):
    name: str = Field(max_length=200, examples=["選挙人名簿"])
    holder: str | None = Field(None, max_length=200, description="holding department")
    purpose: str | None = Field(None, max_length=10_000)
    items: list[str] = Field([], description="vocabulary keys (ordinance items included)")
    persons: int = Field(ge=0, le=MAX_PERSONS)
    persons_estimated: bool = False
    counted_on: str | None = Field(
        None, description="date of the count", json_schema_extra={"format": "date"}
    )
    systems: list[str] = Field([], max_length=service.MAX_SYSTEMS, description="systems, media")
    take_out: str | None = Field(None, max_length=300, description="who may take it out")
    retention: str | None = Field(None, max_length=200)
    register_ref: str | None = Field(None, max_length=100, description="the public register's no.")


class FilePatch(ApiModel):
    name: str | None = Field(None, max_length=200)
    holder: str | None = Field(None, max_length=200)
    purpose: str | None = Field(None, max_length=10_000)
    items: list[str] | None = None
    persons: int | None = Field(None, ge=0, le=MAX_PERSONS)
    persons_estimated: bool | None = None
    counted_on: str | None = Field(None, json_schema_extra={"format": "date"})
    systems: list[str] | None = Field(None, max_length=service.MAX_SYSTEMS)
    take_out: str | None = Field(None, max_length=300)
    retention: str | None = Field(None, max_length=200)
    register_ref: str | None = Field(None, max_length=100)
    reason: str | None = Field(None, max_length=service.MAX_REASON, description="why (history)")


class OverlapIn(ApiModel):
    other_id: int = Field(ge=1, le=2**31 - 1, description="the other inventory file")
    persons: int = Field(ge=0, le=MAX_PERSONS, description="persons in both files")
    note: str | None = Field(None, max_length=300)


class InventoryQuery(PageQuery):
    q: str | None = Field(None, max_length=200, description="part of the name or register no.")
    system: str | None = Field(None, max_length=200, description="a system or medium")
    holder: str | None = Field(None, max_length=200, description="part of the department")


class FileOut(ApiOut):
    id: int
    name: str
    holder: str
    purpose: str
    items: list[str]
    persons: int
    persons_estimated: bool
    counted_on: IsoDay | None
    systems: list[str]
    take_out: str
    retention: str
    register_ref: str
    version: int
    updated_at: IsoTime


class OverlapOut(ApiOut):
    id: int
    file_a_id: int
    file_b_id: int
    persons: int
    note: str


class ExposureOut(ApiModel):
    system: str
    files: int
    persons: int = Field(description="deduplicated by the declared overlaps")
    summed: int
    estimated: bool
    items: list[str]


class VersionOut(ApiModel):
    number: int
    changed_at: str = Field(json_schema_extra={"format": "date-time"})
    reason: str


class FileDetailOut(FileOut):
    overlaps: list[OverlapOut]
    history: list[VersionOut] = Field(description="earlier versions, newest first")


class FilePage(ApiModel):
    items: list[FileOut]
    next_cursor: str | None
    exposure: ExposureOut | None = Field(None, description="with ``system``: every file on it")


class ImportOut(ApiModel):
    created: int
    updated: int


def _tz() -> Any:
    return current_app.config["CSIRT"].tz


def _read(payload: dict[str, Any]) -> service.FileInput:
    return service.read_file(payload, current_catalog().vocabulary, _tz())


def _file(file_id: int) -> Any:
    try:
        return service.get_file(get_session(), file_id)
    except service.InventoryNotFoundError:
        abort(404, "no such inventory file")


@bp.get("")
@requires(Permission.INVENTORY_VIEW)
@operation(
    "Inventory files (search by name, system, department); with ``system``, the exposure of "
    "every file on it",
    tags=TAGS,
    query=InventoryQuery,
    responses={"200": json_response(FilePage, "Files by id, and the exposure")},
)
def list_files() -> ResponseReturnValue:
    query = read_query(InventoryQuery)
    what = service.Search(q=query.q or "", system=query.system or "", holder=query.holder or "")
    cursor = query.position("inventory", row_id)
    session = get_session()
    rows, next_id = service.search(session, what, limit=query.limit, cursor=cursor)
    extra: dict[str, Any] = {}
    if what.system:
        found = service.exposure_of(session, what.system)
        extra["exposure"] = ExposureOut(
            system=found.system,
            files=len(found.files),
            persons=found.persons,
            summed=found.summed,
            estimated=found.estimated,
            items=list(found.items),
        ).model_dump()
    return page_response("inventory", rows, FileOut.dump, next_id, **extra)


@bp.post("")
@requires(Permission.INVENTORY_EDIT)
@operation(
    "Register a personal-data file",
    tags=TAGS,
    body=FileIn,
    responses={"201": json_response(FileOut)},
)
def create_file() -> ResponseReturnValue:
    _body, data = read_body_with(FileIn, _read)
    session = get_session()
    row = service.create_file(session, current_user, data)
    session.commit()
    return created(FileOut.dump(row), f"/api/v1/inventory/{row.id}")


@bp.get("/<int:file_id>")
@requires(Permission.INVENTORY_VIEW)
@operation(
    "One inventory file, its overlaps and its history",
    tags=TAGS,
    responses={"200": json_response(FileDetailOut)},
)
def get_file(file_id: int) -> ResponseReturnValue:
    row = _file(file_id)
    session = get_session()
    body = FileOut.dump(row)
    body["overlaps"] = [OverlapOut.dump(o) for o in service.overlaps_of(session, [row.id])]
    body["history"] = [
        {"number": v.number, "changed_at": v.changed_at.isoformat(), "reason": v.reason}
        for v in service.history(session, row)
    ]
    return jsonify(body)


@bp.patch("/<int:file_id>")
@requires(Permission.INVENTORY_EDIT)
@operation(
    "Change an inventory file (its previous version is kept)",
    tags=TAGS,
    body=FilePatch,
    responses={"200": json_response(FileOut)},
)
def patch_file(file_id: int) -> ResponseReturnValue:
    row = _file(file_id)
    current = service.snapshot(row)

    def merged(payload: dict[str, Any]) -> tuple[service.FileInput, str]:
        reason = payload.pop("reason", None) or ""
        return _read({**current, **{k: v for k, v in payload.items() if v is not None}}), reason

    _body, (data, reason) = read_body_with(FilePatch, merged)
    session = get_session()
    service.update_file(session, current_user, row, data, str(reason))
    session.commit()
    return jsonify(FileOut.dump(row))


@bp.post("/<int:file_id>/overlaps")
@requires(Permission.INVENTORY_EDIT)
@operation(
    "Declare how many persons this file shares with another",
    tags=TAGS,
    body=OverlapIn,
    responses={"201": json_response(OverlapOut)},
)
def declare_overlap(file_id: int) -> ResponseReturnValue:
    row = _file(file_id)
    body, _none = read_body_with(OverlapIn, lambda payload: None)
    session = get_session()
    found = service.declare_overlap(
        session, current_user, row.id, body.other_id, body.persons, body.note or ""
    )
    session.commit()
    return created(OverlapOut.dump(found))


@bp.get("/export.csv")
@writes
@requires(Permission.INVENTORY_VIEW)
@exports
@operation(
    "The inventory in the CSV layout of a 個人情報ファイル簿 (UTF-8 with BOM; the import format)",
    tags=TAGS,
    responses={"200": {"description": "CSV", "content": CSV}},
)
def export_csv() -> ResponseReturnValue:
    session = get_session()
    text = service.export_csv(session, current_user, current_catalog().vocabulary)
    session.commit()
    return csv_response(text)


def _csv_body(view: Any) -> Any:
    """Declare a text/csv request body (after ``operation``)."""
    getattr(view, OPENAPI_ATTR)["requestBody"] = {"required": True, "content": CSV}
    return view


@bp.post("/import")
@requires(Permission.INVENTORY_EDIT)
@_csv_body
@operation(
    "Import a 個人情報ファイル簿 CSV (all rows or none; a row with a known register no. updates)",
    tags=TAGS,
    responses={"200": json_response(ImportOut)},
)
def import_csv() -> ResponseReturnValue:
    session = get_session()
    result = service.import_csv(
        session, current_user, request.get_data(), current_catalog().vocabulary, _tz()
    )
    session.commit()
    return jsonify(created=result.created, updated=result.updated)
