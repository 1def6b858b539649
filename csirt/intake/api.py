"""Reporter API for organisations embedding the form: submit, read and answer the mailbox.

Public (no token). The receipt travels only in the ``X-Receipt`` header, never in a URL. A wrong
receipt and a malformed one get byte-identical 401 answers.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from csirt.api.openapi import PROBLEM_SCHEMA, operation
from csirt.api.problems import problem, validation_problem
from csirt.db import get_session
from csirt.i18n import current_lang
from csirt.intake import base, reporter, web
from csirt.intake.base import AnswersInvalidError, BadReceiptError, IntakeBusyError

bp = Blueprint("api_intake", __name__, url_prefix="/api/v1")

_PROBLEM = {"application/problem+json": {"schema": PROBLEM_SCHEMA}}
_RECEIPT_HEADER = {
    "name": "X-Receipt",
    "in": "header",
    "required": True,
    "description": "The receipt shown once after submitting",
    "schema": {"type": "string"},
}
_REPORT_BODY = {
    "type": "object",
    "required": ["answers"],
    "properties": {
        "answers": {"type": "object", "description": "question key -> answer"},
        "identity": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "contact": {"type": "string"}},
        },
        "lang": {"type": "string", "enum": ["ja", "en"]},
    },
}
_CREATED = {
    "201": {
        "description": "Sealed and stored; the receipt is shown only in this response",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "receipt": {"type": "string"},
                        "answer_due": {"type": "string", "format": "date-time"},
                    },
                }
            }
        },
    },
    "422": {"description": "Answers that fail validation, by field", "content": _PROBLEM},
    "429": {"description": "Too many reports at once; retry later", "content": _PROBLEM},
}


def _unknown_receipt() -> Response:
    response = problem(401, "Unauthorized", "receipt not recognised", kind="receipt")
    response.headers["WWW-Authenticate"] = 'Receipt realm="intake"'
    return response


def _busy() -> Response:
    response = problem(429, "Too Many Requests", "try again shortly")
    response.headers["Retry-After"] = "5"
    return response


def _document() -> dict[str, Any] | None:
    """The report document from a JSON body or from the ``document`` part of a multipart body."""
    if request.mimetype == "multipart/form-data":
        raw = request.form.get("document", "")
        try:
            loaded = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return None
    else:
        loaded = request.get_json(silent=True)
    return loaded if isinstance(loaded, dict) else None


def _answers_of(document: dict[str, Any]) -> tuple[dict[str, Any], str, dict[str, str]]:
    errors: dict[str, str] = {}
    answers = document.get("answers")
    if not isinstance(answers, dict):
        errors["answers"] = "must be an object"
        answers = {}
    identity = document.get("identity") or {}
    if not isinstance(identity, dict):
        errors["identity"] = "must be an object"
        identity = {}
    lang = document.get("lang") or current_lang()
    if lang not in ("ja", "en"):
        errors["lang"] = "must be ja or en"
        lang = "ja"
    merged = dict(answers)
    for key, value in identity.items():
        merged[f"identity.{key}"] = value
    return merged, str(lang), errors


@bp.post("/reports")
@operation(
    "Send a report (JSON, or multipart with a JSON 'document' part and 'attachments' files)",
    public=True,
    tags=["intake"],
    request_body=_REPORT_BODY,
    responses=_CREATED,
)
def create_report() -> ResponseReturnValue:
    db_session = get_session()
    settings = web.settings(db_session)
    document = _document()
    if document is None:
        return validation_problem({"body": "send a JSON object with 'answers'"})
    answers, lang, errors = _answers_of(document)
    if errors:
        return validation_problem(errors)
    limit = settings.questionnaire.file_fields[0].max_size_bytes
    uploads = web.read_uploads(web.files("attachments"), limit)
    try:
        submitted = reporter.submit(db_session, settings, answers, lang, uploads)
    except AnswersInvalidError as exc:
        db_session.rollback()
        return validation_problem(exc.errors)
    except IntakeBusyError:
        db_session.rollback()
        return _busy()
    db_session.commit()
    response = jsonify(
        receipt=submitted.receipt,
        answer_due=submitted.answer_due.astimezone(settings.tz).isoformat(),
    )
    response.status_code = 201
    return response


def _mailbox() -> base.Mailbox | Response:
    db_session = get_session()
    settings = web.settings(db_session)
    receipt = request.headers.get("X-Receipt", "")
    try:
        return reporter.open_mailbox(db_session, settings, receipt, web.mailbox_budget())
    except BadReceiptError:
        return _unknown_receipt()
    except IntakeBusyError:
        return _busy()


_MAILBOX_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string"},
        "answer_due": {"type": "string", "format": "date-time"},
        "identity": {"type": "object"},
        "messages": {"type": "array", "items": {"type": "object"}},
    },
}


@bp.get("/reports/mailbox")
@operation(
    "Read the mailbox of a report",
    public=True,
    tags=["intake"],
    parameters=[_RECEIPT_HEADER],
    responses={
        "200": {
            "description": "Status, answer date and messages",
            "content": {"application/json": {"schema": _MAILBOX_SCHEMA}},
        },
        "401": {"description": "Wrong or malformed receipt (same answer)", "content": _PROBLEM},
    },
)
def read_mailbox() -> ResponseReturnValue:
    box = _mailbox()
    if isinstance(box, Response):
        return box
    submission = box.submission
    tz = web.settings(get_session()).tz
    return jsonify(
        status=submission.status,
        answer_due=submission.answer_due.astimezone(tz).isoformat(),
        identity={
            "given": submission.identity_sealed is not None,
            "disclosed_at": submission.identity_disclosed_at.astimezone(tz).isoformat()
            if submission.identity_disclosed_at
            else None,
            "disclosure_approved_by_custodian": submission.identity_disclosed_at is not None,
        },
        attachments=[a.filename for a in box.attachments],
        messages=[
            {
                "from": "reporter" if m.from_reporter else "handler",
                "body": m.body,
                "created_at": m.created_at.astimezone(tz).isoformat(),
                "attachments": [a.filename for a in m.attachments],
            }
            for m in box.messages
        ],
    )


@bp.post("/reports/mailbox")
@operation(
    "Reply in the mailbox of a report (JSON {'body'} or multipart with 'body' and 'attachments')",
    public=True,
    tags=["intake"],
    parameters=[_RECEIPT_HEADER],
    request_body={"type": "object", "properties": {"body": {"type": "string"}}},
    responses={
        "201": {"description": "Sealed and stored"},
        "401": {"description": "Wrong or malformed receipt (same answer)", "content": _PROBLEM},
        "422": {"description": "Empty or too long", "content": _PROBLEM},
    },
)
def reply_mailbox() -> ResponseReturnValue:
    box = _mailbox()
    if isinstance(box, Response):
        return box
    db_session = get_session()
    settings = web.settings(db_session)
    body: Any = ""
    if request.mimetype == "multipart/form-data":
        body = request.form.get("body", "")
    else:
        payload = request.get_json(silent=True)
        body = payload.get("body", "") if isinstance(payload, dict) else ""
    if not isinstance(body, str):
        return validation_problem({"body": "must be a string"})
    limit = settings.questionnaire.file_fields[0].max_size_bytes
    uploads = web.read_uploads(web.files("attachments"), limit)
    try:
        reporter.reporter_reply(db_session, settings, box, body, uploads)
    except AnswersInvalidError as exc:
        db_session.rollback()
        return validation_problem(exc.errors)
    db_session.commit()
    response = jsonify(status="sent")
    response.status_code = 201
    return response
