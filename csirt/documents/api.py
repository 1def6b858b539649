"""Documents API (bearer token): create a draft, read it, edit sections, approve, get the .docx."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, current_app, jsonify, request, send_file
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session

from csirt.api.openapi import operation
from csirt.api.problems import problem, validation_problem
from csirt.auth.access import exports, requires
from csirt.auth.permissions import Permission
from csirt.cases.errors import CaseNotFoundError
from csirt.catalog.current import current_catalog
from csirt.db import get_session, writes
from csirt.documents import service
from csirt.documents.builders import KINDS, SECTIONS
from csirt.documents.facts import LANGS
from csirt.documents.guard import PublicTextRefusedError, describe
from csirt.documents.models import Document

bp = Blueprint("api_documents", __name__, url_prefix="/api/v1")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TAGS = ["documents"]

DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "case_id": {"type": "integer"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "lang": {"type": "string", "enum": list(LANGS)},
        "status": {"type": "string", "enum": ["draft", "approved"]},
        "version": {"type": "integer"},
        "approved_version": {"type": "integer", "nullable": True},
        "approved_at": {"type": "string", "format": "date-time", "nullable": True},
        "last_editor": {"type": "string", "nullable": True},
        "sections": {"type": "object", "additionalProperties": {"type": "string"}},
        "section_keys": {"type": "array", "items": {"type": "string"}},
        "facts_sha256": {
            "type": "string",
            "description": "digest of the case's facts now; pass it to approve what you reviewed",
        },
        "approved_facts_sha256": {
            "type": "string",
            "nullable": True,
            "description": "digest of the facts frozen with the approved version",
        },
        "approved_document_date": {"type": "string", "format": "date", "nullable": True},
        "approved_sha256": {
            "type": "string",
            "nullable": True,
            "description": "SHA-256 of the approved version's final .docx",
        },
        "facts_changed_since_approval": {
            "type": "boolean",
            "nullable": True,
            "description": "true when the case's facts changed after the approved version was "
            "approved: its final export keeps the old facts; create a new version to use them",
        },
    },
}
_DOCUMENT_RESPONSE = {"content": {"application/json": {"schema": DOCUMENT_SCHEMA}}}


def _env() -> service.Environment:
    config = current_app.config["CSIRT"]
    return service.Environment(
        config.org_name, config.timezone, config.instance_path, current_catalog().vocabulary
    )


def _json(session: Session, document: Document) -> dict[str, Any]:
    current = service.version(session, document)
    data: dict[str, Any] = {
        "id": document.id,
        "case_id": document.case_id,
        "kind": document.kind,
        "lang": document.lang,
        "status": document.status.value,
        "version": document.current_version,
        "approved_version": document.approved_version,
        "approved_at": document.approved_at.isoformat() if document.approved_at else None,
        "last_editor": current.author.username if current.author else None,
        "sections": current.sections,
        "section_keys": list(SECTIONS[document.kind]),
        "facts_sha256": service.current_facts_digest(session, document, _env()),
        "approved_facts_sha256": None,
        "approved_document_date": None,
        "approved_sha256": None,
        "facts_changed_since_approval": None,
    }
    freshness = service.approval_freshness(session, document, _env())
    if freshness is not None:
        approved = service.version(session, document, freshness.approved_version)
        data["approved_facts_sha256"] = approved.frozen_facts_sha256
        if freshness.document_date is not None:
            data["approved_document_date"] = freshness.document_date.isoformat()
        data["approved_sha256"] = approved.frozen_docx_sha256
        data["facts_changed_since_approval"] = freshness.facts_changed
    return data


def _not_found() -> ResponseReturnValue:
    return problem(404, "Not Found", "no such document")


def _body() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _refused(error: PublicTextRefusedError) -> ResponseReturnValue:
    errors = {
        section: f"contains forbidden content: {kinds}"
        for section, kinds in service.describe_findings(error.findings).items()
    }
    # Each finding names its section and the matched text; a lead may let a false positive
    # pass by sending its key back as ``guard_override``.
    findings = [
        {
            "section": f.section,
            "kind": f.kind.value,
            "text": f.matched,
            "override_key": f.key if f.overridable else None,
        }
        for f in error.findings
    ]
    return problem(
        422,
        "Public text refused",
        "the public-text guard found content that must not be published: "
        + "; ".join(describe(error.findings)),
        kind="public-text-refused",
        errors=errors,
        findings=findings,
    )


@bp.post("/cases/<int:case_id>/documents")
@requires(Permission.DOCUMENT_EDIT)
@operation(
    "Create a draft document of a kind for a case, pre-filled from its public facts",
    tags=TAGS,
    request_body={
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "lang": {"type": "string", "enum": list(LANGS), "default": "ja"},
        },
    },
    responses={"201": {"description": "The new draft", **_DOCUMENT_RESPONSE}},
)
def create(case_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        access = service.get_case_for_documents(session, current_user, case_id)
    except CaseNotFoundError:
        return problem(404, "Not Found", "no such case")
    body = _body()
    if body is None:
        return validation_problem({"body": "must be a JSON object"})
    kind, lang = body.get("kind"), body.get("lang", "ja")
    errors = {}
    if not isinstance(kind, str) or kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    if not isinstance(lang, str) or lang not in LANGS:
        errors["lang"] = f"must be one of {', '.join(LANGS)}"
    if errors:
        return validation_problem(errors)
    assert isinstance(kind, str)
    assert isinstance(lang, str)
    try:
        document = service.create_document(session, current_user, access, kind, lang, _env())
    except service.KindNotAllowedError:
        return problem(403, "Forbidden", "you may not create documents of this kind")
    session.commit()
    response = jsonify(_json(session, document))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/documents/{document.id}"
    return response


@bp.get("/documents/<int:document_id>")
@requires(Permission.DOCUMENT_VIEW)
@operation(
    "A document: status, versions and the newest version's sections",
    tags=TAGS,
    responses={"200": {"description": "The document", **_DOCUMENT_RESPONSE}},
)
def get(document_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        document, _access = service.get_document_for(session, current_user, document_id)
    except service.DocumentNotFoundError:
        return _not_found()
    return jsonify(_json(session, document))


@bp.patch("/documents/<int:document_id>/sections")
@requires(Permission.DOCUMENT_EDIT)
@operation(
    "Edit sections: saves a new version (unchanged text saves nothing)",
    tags=TAGS,
    request_body={
        "type": "object",
        "required": ["sections"],
        "properties": {
            "sections": {"type": "object", "additionalProperties": {"type": "string"}},
            "base_version": {
                "type": "integer",
                "description": "the version the edit started from (409 if newer exists)",
            },
            "note": {"type": "string", "maxLength": 200},
        },
    },
    responses={"200": {"description": "The document after the edit", **_DOCUMENT_RESPONSE}},
)
def edit_sections(document_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        document, _access = service.get_document_for(session, current_user, document_id)
    except service.DocumentNotFoundError:
        return _not_found()
    body = _body()
    if body is None:
        return validation_problem({"body": "must be a JSON object"})
    sections = body.get("sections")
    base = body.get("base_version")
    note = body.get("note", "")
    errors = {}
    if not isinstance(sections, dict) or not sections:
        errors["sections"] = "must be a non-empty object of section key to text"
    if base is not None and (not isinstance(base, int) or isinstance(base, bool)):
        errors["base_version"] = "must be an integer"
    if not isinstance(note, str) or len(note) > 200:
        errors["note"] = "must be a string of at most 200 characters"
    if errors:
        return validation_problem(errors)
    assert isinstance(sections, dict)
    try:
        service.save_sections(
            session, current_user, document, sections, base_version=base, note=str(note)
        )
    except service.DocumentValidationError as error:
        return validation_problem(error.errors)
    except service.StaleVersionError:
        return problem(
            409,
            "Conflict",
            f"a newer version ({document.current_version}) exists",
            kind="stale-version",
        )
    session.commit()
    return jsonify(_json(session, document))


@bp.post("/documents/<int:document_id>/approve")
@requires(Permission.DOCUMENT_APPROVE)
@operation(
    "Approve the newest version (a lead who is not its last editor; the guard must pass). "
    "Approval freezes the case's facts and the date with the version: every final export of "
    "it is the same file",
    tags=TAGS,
    request_body={
        "type": "object",
        "properties": {
            "facts_sha256": {
                "type": "string",
                "description": "the document's facts_sha256 when you reviewed it: 409 "
                "facts-changed if the case's facts changed since",
            },
            "guard_override": {
                "type": "array",
                "items": {"type": "string"},
                "description": "override_key values of guard findings a lead lets pass as "
                "false positives (audited; the same works on the .docx as ?guard_override=)",
            },
        },
    },
    responses={"200": {"description": "The approved document", **_DOCUMENT_RESPONSE}},
)
def approve(document_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        document, _access = service.get_document_for(session, current_user, document_id)
    except service.DocumentNotFoundError:
        return _not_found()
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict):
        return validation_problem({"body": "must be a JSON object"})
    expected = body.get("facts_sha256")
    if expected is not None and not isinstance(expected, str):
        return validation_problem({"facts_sha256": "must be a string"})
    override = body.get("guard_override", [])
    if not isinstance(override, list) or not all(isinstance(o, str) for o in override):
        return validation_problem({"guard_override": "must be a list of strings"})
    try:
        service.approve(
            session, current_user, document, _env(), facts_sha256=expected, override=override
        )
    except service.FactsChangedError:
        return problem(
            409,
            "Conflict",
            "the case's facts changed since you reviewed the document: review it again",
            kind="facts-changed",
        )
    except service.SelfApprovalError:
        return problem(
            409,
            "Conflict",
            "the last editor of a version may not approve it",
            kind="self-approval",
        )
    except service.AlreadyApprovedError:
        return problem(409, "Conflict", "the newest version is already approved", kind="approved")
    except PublicTextRefusedError as error:
        return _refused(error)
    session.commit()
    return jsonify(_json(session, document))


@bp.get("/documents/<int:document_id>/docx")
@writes
@requires(Permission.DOCUMENT_EXPORT)
@exports
@operation(
    "The .docx of the newest version: final if approved, otherwise watermarked DRAFT",
    tags=TAGS,
    responses={"200": {"description": "The document", "content": {DOCX: {}}}},
)
def docx(document_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        document, _access = service.get_document_for(session, current_user, document_id)
    except service.DocumentNotFoundError:
        return _not_found()
    try:
        result = service.export_document(
            session,
            current_user,
            document,
            _env(),
            override=request.args.getlist("guard_override"),
        )
    except PublicTextRefusedError as error:
        session.commit()  # keep the audit record of the refusal
        return _refused(error)
    except service.FrozenUnreadableError:
        return problem(
            409,
            "Conflict",
            "the approved version cannot be rebuilt from its stored facts: create a new version",
            kind="frozen-unreadable",
        )
    session.commit()
    response = send_file(
        io.BytesIO(result.data), mimetype=DOCX, as_attachment=True, download_name=result.filename
    )
    response.headers["X-Document-Final"] = "true" if result.final else "false"
    response.headers["X-Document-Version"] = str(result.version)
    response.headers["X-Document-SHA256"] = result.sha256
    if result.document_date is not None:
        response.headers["X-Document-Date"] = result.document_date.isoformat()
    return response


@bp.post("/documents/<int:document_id>/new-version")
@requires(Permission.DOCUMENT_EDIT)
@operation(
    "A new version with the newest text, built from the case's current facts: a draft until "
    "approved again (use it when facts_changed_since_approval is true)",
    tags=TAGS,
    responses={"201": {"description": "The document with its new version", **_DOCUMENT_RESPONSE}},
)
def new_version(document_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        document, _access = service.get_document_for(session, current_user, document_id)
    except service.DocumentNotFoundError:
        return _not_found()
    try:
        service.new_version_from_current_facts(session, current_user, document)
    except service.NotApprovedError:
        return problem(
            409,
            "Conflict",
            "the newest version is a draft: it already uses the case's current facts",
            kind="not-approved",
        )
    session.commit()
    response = jsonify(_json(session, document))
    response.status_code = 201
    return response
