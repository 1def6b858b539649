"""Documents API (bearer token): create a draft, read it, edit sections, approve, get the .docx."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any, Literal

from flask import Blueprint, Response, current_app, jsonify, request, send_file
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import AfterValidator, Field
from sqlalchemy.orm import Session

from csirt.api import errors
from csirt.api.problems import problem
from csirt.api.responses import created
from csirt.api.routes import ApiRoutes
from csirt.api.schema import ApiModel, Day, read_body_with, read_object
from csirt.auth.access import exports
from csirt.auth.permissions import Permission
from csirt.catalog.current import current_catalog
from csirt.db import get_session, writes
from csirt.documents import approval, public_facts, service, snapshot
from csirt.documents.builders import KINDS, SECTIONS
from csirt.documents.facts import LANGS
from csirt.documents.guard import PublicTextRefusedError, describe
from csirt.documents.models import Document

bp = Blueprint("api_documents", __name__, url_prefix="/api/v1")
errors.register(bp)
api = ApiRoutes(bp, "documents")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

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
        "as_of": {"type": "string", "format": "date", "nullable": True},
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
        "as_of": document.as_of.isoformat() if document.as_of else None,
        "facts_sha256": approval.current_facts_digest(session, document, _env()),
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


def _in_range(day: date) -> date:
    if not 1900 <= day.year <= 2999:
        raise ValueError("must be a date (YYYY-MM-DD) between 1900 and 2999")
    return day


class DocumentIn(ApiModel):
    kind: Literal[KINDS]  # type: ignore[valid-type]
    lang: Literal[LANGS] = "ja"  # type: ignore[valid-type]
    as_of: Annotated[Day, AfterValidator(_in_range)] | None = Field(
        None,
        description="the date the document speaks as of (default: today): events, measures "
        "and responses after it are left out",
    )


class SectionsEdit(ApiModel):
    sections: dict[str, str] = Field(min_length=1, description="section key -> text")
    base_version: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="the version the edit started from (409 if newer exists)",
    )
    note: str = Field("", max_length=200)


class Approval(ApiModel):
    facts_sha256: str | None = Field(
        None,
        description="the document's facts_sha256 when you reviewed it: 409 facts-changed if the "
        "case's facts changed since",
    )
    guard_override: list[str] = Field(
        [],
        description="override_key values of guard findings a lead lets pass as false positives "
        "(audited; the same works on the .docx as ?guard_override=)",
    )


def _document(session: Session, document_id: int) -> Document:
    """The document, if the caller may see its case (else a 404 problem)."""
    document, _access = service.get_document_for(session, current_user, document_id)
    return document


def _refused(error: PublicTextRefusedError) -> Response:
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


@api.post(
    "/cases/<int:case_id>/documents",
    Permission.DOCUMENT_EDIT,
    body=DocumentIn,
    created=(DOCUMENT_SCHEMA, "The new draft"),
)
def create(case_id: int, body: DocumentIn) -> ResponseReturnValue:
    """Create a draft document of a kind for a case, pre-filled from its public facts."""
    session = get_session()
    access = service.get_case_for_documents(session, current_user, case_id)
    document = service.create_document(
        session, current_user, access, body.kind, body.lang, _env(), as_of=body.as_of
    )
    session.commit()
    return created(_json(session, document), location=f"/api/v1/documents/{document.id}")


@api.get(
    "/documents/<int:document_id>", Permission.DOCUMENT_VIEW, ok=(DOCUMENT_SCHEMA, "The document")
)
def get(document_id: int) -> ResponseReturnValue:
    """A document: status, versions and the newest version's sections."""
    session = get_session()
    document = _document(session, document_id)
    return jsonify(_json(session, document))


@api.patch(
    "/documents/<int:document_id>/sections",
    Permission.DOCUMENT_EDIT,
    body=SectionsEdit,
    ok=(DOCUMENT_SCHEMA, "The document after the edit"),
)
def edit_sections(document_id: int) -> ResponseReturnValue:
    """Edit sections: saves a new version (unchanged text saves nothing)."""
    session = get_session()
    document = _document(session, document_id)
    body, _sections = read_body_with(SectionsEdit, lambda data: _known_sections(document, data))
    service.save_sections(
        session,
        current_user,
        document,
        body.sections,
        base_version=body.base_version,
        note=body.note,
    )
    session.commit()
    return jsonify(_json(session, document))


def _known_sections(document: Document, data: dict[str, Any]) -> dict[str, str]:
    """The section keys of the document's kind (the model checks the shape)."""
    sections = data.get("sections")
    return service.validate_sections(document.kind, sections) if isinstance(sections, dict) else {}


@api.post(
    "/documents/<int:document_id>/approve",
    Permission.DOCUMENT_APPROVE,
    body=Approval,
    optional_body=True,
    ok=(DOCUMENT_SCHEMA, "The approved document"),
)
def approve(document_id: int, body: Approval) -> ResponseReturnValue:
    """Approve the newest version (a lead who is not its last editor; the guard must pass). Approval
    freezes the case's facts and the date with the version: every final export of it is the same
    file.
    """
    session = get_session()
    document = _document(session, document_id)
    try:
        approval.approve(
            session,
            current_user,
            document,
            _env(),
            facts_sha256=body.facts_sha256,
            override=body.guard_override,
        )
    except PublicTextRefusedError as error:
        session.rollback()
        return _refused(error)
    session.commit()
    return jsonify(_json(session, document))


class ApprovalRequest(ApiModel):
    approver: str = Field(
        min_length=1,
        max_length=150,
        description="username of a lead who may see the case and did not write the newest "
        "version (422 otherwise, whoever it names)",
    )


@api.post(
    "/documents/<int:document_id>/request-approval",
    Permission.DOCUMENT_EDIT,
    body=ApprovalRequest,
    ok=(DOCUMENT_SCHEMA, "The document"),
)
def request_approval(document_id: int, body: ApprovalRequest) -> ResponseReturnValue:
    """Ask a named lead to approve the newest version (audited; the lead is notified)."""
    session = get_session()
    document = _document(session, document_id)
    approval.request_approval(session, current_user, document, body.approver)
    session.commit()
    return jsonify(_json(session, document))


class ReasonIn(ApiModel):
    reason: str = Field(min_length=1, max_length=2_000, description="why (audited)")


@api.post(
    "/documents/<int:document_id>/refuse-approval",
    Permission.DOCUMENT_APPROVE,
    body=ReasonIn,
    ok=(DOCUMENT_SCHEMA, "The document"),
)
def refuse_approval(document_id: int, body: ReasonIn) -> ResponseReturnValue:
    """Send the newest version back without approving it (audited; its authors are told, the
    reason in the app only)."""
    session = get_session()
    document = _document(session, document_id)
    approval.refuse_approval(session, current_user, document, body.reason)
    session.commit()
    return jsonify(_json(session, document))


@api.post(
    "/documents/<int:document_id>/withdraw",
    Permission.DOCUMENT_EDIT,
    body=ReasonIn,
    ok=({"type": "object", "properties": {"withdrawn": {"type": "integer"}}}, "Withdrawn"),
)
def withdraw(document_id: int, body: ReasonIn) -> ResponseReturnValue:
    """Withdraw an unused draft (never approved) with a reason: it leaves the case's documents
    and no longer holds the case open; kept in the case's history (409 once approved)."""
    session = get_session()
    document = _document(session, document_id)
    service.withdraw(session, current_user, document, body.reason)
    session.commit()
    return jsonify(withdrawn=document_id)


@writes
@exports
@api.get(
    "/documents/<int:document_id>/docx",
    Permission.DOCUMENT_EXPORT,
    parameters=[
        {
            "name": "guard_override",
            "in": "query",
            "description": "override_key of a guard finding a lead lets pass (repeatable)",
            "schema": {"type": "array", "items": {"type": "string"}},
        }
    ],
    responses={"200": {"description": "The document", "content": {DOCX: {}}}},
)
def docx(document_id: int) -> ResponseReturnValue:
    """The .docx of the newest version: final if approved, otherwise watermarked DRAFT."""
    session = get_session()
    document = _document(session, document_id)
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


@api.post(
    "/documents/<int:document_id>/new-version",
    Permission.DOCUMENT_EDIT,
    created=(DOCUMENT_SCHEMA, "The document with its new version"),
)
def new_version(document_id: int) -> ResponseReturnValue:
    """A new version with the newest text, built from the case's current facts: a draft until
    approved again (use it when facts_changed_since_approval is true).
    """
    session = get_session()
    document = _document(session, document_id)
    service.new_version_from_current_facts(session, current_user, document)
    session.commit()
    return created(_json(session, document))


@api.get(
    "/cases/<int:case_id>/public-facts",
    Permission.DOCUMENT_VIEW,
    ok=(public_facts.SCHEMA, "The facts"),
)
def get_public_facts(case_id: int) -> ResponseReturnValue:
    """The case's facts for documents (what the console's form holds): public title and summary,
    causes, findings, responses, staff post, committee, recommendations, contact overrides, the PPC
    form's texts and how data sets' counts are stated.
    """
    session = get_session()
    access = service.get_case_for_documents(session, current_user, case_id)
    return jsonify(public_facts.to_json(snapshot.get_context(session, access.case.id)))


@api.put(
    "/cases/<int:case_id>/public-facts",
    Permission.DOCUMENT_EDIT,
    request_body=public_facts.SCHEMA,
    ok=(public_facts.SCHEMA, "The facts after the change"),
)
def put_public_facts(case_id: int) -> ResponseReturnValue:
    """Set the case's facts for documents: the fields given are replaced, the others kept."""
    session = get_session()
    access = service.get_case_for_documents(session, current_user, case_id)
    if not access.full and not current_user.can(Permission.DOCUMENT_APPROVE):
        return problem(403, "Forbidden", "you may not change this case's facts")
    ids = {d.id for d in snapshot.public_datasets(session, case_id)}
    values = public_facts.validate(read_object(), ids)
    if values:
        service.save_context(session, current_user, access.case, values)
    session.commit()
    return jsonify(public_facts.to_json(snapshot.get_context(session, access.case.id)))
