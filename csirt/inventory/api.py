"""Inventory API: the organisation's personal-data files (bearer token), their overlaps, the
register CSV in and out, and the exposure of a system (``GET /inventory?system=``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import Field

from csirt.api.openapi import OPENAPI_ATTR
from csirt.api.pagination import PageQuery, page_response, row_id
from csirt.api.responses import created
from csirt.api.routes import ApiRoutes
from csirt.api.schema import (
    ApiModel,
    ApiOut,
    IsoDay,
    IsoTime,
    read_body_with,
)
from csirt.auth.access import exports
from csirt.auth.permissions import Permission
from csirt.catalog.current import current_catalog
from csirt.db import get_session, writes
from csirt.inventory import service
from csirt.inventory.web import csv_response
from csirt.records.validation import MAX_PERSONS

api = ApiRoutes.blueprint("api_inventory", __name__, "/api/v1/inventory", "inventory")
bp = api.bp
CSV = {"text/csv": {"schema": {"type": "string"}}}
CSV_RESPONSE = {"description": "CSV", "content": CSV}


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


@api.get(
    "",
    Permission.INVENTORY_VIEW,
    query=InventoryQuery,
    ok=(FilePage, "Files by id, and the exposure"),
)
def list_files(query: InventoryQuery) -> ResponseReturnValue:
    """Inventory files (search by name, system, department); with ``system``, the exposure of
    every file on it."""
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


@api.post("", Permission.INVENTORY_EDIT, body=FileIn, checked_by=_read, created=FileOut)
def create_file(body: FileIn, checked: service.FileInput) -> ResponseReturnValue:
    """Register a personal-data file."""
    del body  # its shape checked; the domain's reading is the file
    session = get_session()
    row = service.create_file(session, current_user, checked)
    session.commit()
    return created(FileOut.dump(row), f"/api/v1/inventory/{row.id}")


@api.get("/<int:file_id>", Permission.INVENTORY_VIEW, ok=FileDetailOut)
def get_file(file_id: int) -> ResponseReturnValue:
    """One inventory file, its overlaps and its history."""
    session = get_session()
    row = service.get_file(session, file_id)
    body = FileOut.dump(row)
    body["overlaps"] = [OverlapOut.dump(o) for o in service.overlaps_of(session, [row.id])]
    body["history"] = [
        {"number": v.number, "changed_at": v.changed_at.isoformat(), "reason": v.reason}
        for v in service.history(session, row)
    ]
    return jsonify(body)


@api.patch("/<int:file_id>", Permission.INVENTORY_EDIT, body=FilePatch, ok=FileOut)
def patch_file(file_id: int) -> ResponseReturnValue:
    """Change an inventory file (its previous version is kept)."""
    session = get_session()
    row = service.get_file(session, file_id)
    current = service.snapshot(row)

    def merged(payload: dict[str, Any]) -> tuple[service.FileInput, str]:
        reason = payload.pop("reason", None) or ""
        return _read({**current, **{k: v for k, v in payload.items() if v is not None}}), reason

    _body, (data, reason) = read_body_with(FilePatch, merged)
    service.update_file(session, current_user, row, data, str(reason))
    session.commit()
    return jsonify(FileOut.dump(row))


@api.post("/<int:file_id>/overlaps", Permission.INVENTORY_EDIT, body=OverlapIn, created=OverlapOut)
def declare_overlap(file_id: int, body: OverlapIn) -> ResponseReturnValue:
    """Declare how many persons this file shares with another."""
    session = get_session()
    row = service.get_file(session, file_id)
    found = service.declare_overlap(
        session, current_user, row.id, body.other_id, body.persons, body.note or ""
    )
    session.commit()
    return created(OverlapOut.dump(found))


@api.get("/export.csv", Permission.INVENTORY_VIEW, responses={"200": CSV_RESPONSE})
@writes
@exports
def export_csv() -> ResponseReturnValue:
    """The inventory in the CSV layout of a 個人情報ファイル簿 (UTF-8 with BOM; the import
    format)."""
    session = get_session()
    text = service.export_csv(session, current_user, current_catalog().vocabulary)
    session.commit()
    return csv_response(text)


def _csv_body(view: Any) -> Any:
    """Declare a text/csv request body (after the route's declaration)."""
    getattr(view, OPENAPI_ATTR)["requestBody"] = {"required": True, "content": CSV}
    return view


@_csv_body
@api.post("/import", Permission.INVENTORY_EDIT, ok=ImportOut)
def import_csv() -> ResponseReturnValue:
    """Import a 個人情報ファイル簿 CSV (all rows or none; a row with a known register no.
    updates)."""
    session = get_session()
    result = service.import_csv(
        session, current_user, request.get_data(), current_catalog().vocabulary, _tz()
    )
    session.commit()
    return jsonify(created=result.created, updated=result.updated)
