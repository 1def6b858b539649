"""Reporter API for organisations embedding the form: submit, read and answer the mailbox.

Public (no token). The receipt travels only in the ``X-Receipt`` header, never in a URL. A wrong
receipt and a malformed one get byte-identical 401 answers.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from csirt.api import errors
from csirt.api.openapi import PROBLEM_SCHEMA
from csirt.api.problems import problem
from csirt.api.responses import created
from csirt.api.routes import ApiRoutes
from csirt.api.schema import ApiModel, read_body, validate_json
from csirt.db import get_session
from csirt.i18n import current_lang
from csirt.intake import base, reporter, web
from csirt.intake.base import BadReceiptError, IntakeBusyError

bp = Blueprint("api_intake", __name__, url_prefix="/api/v1")
errors.register(bp)
api = ApiRoutes(bp, "intake")

_PROBLEM = {"application/problem+json": {"schema": PROBLEM_SCHEMA}}
_RECEIPT_HEADER = {
    "name": "X-Receipt",
    "in": "header",
    "required": True,
    "description": "The receipt shown once after submitting",
    "schema": {"type": "string"},
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


class ReportIn(BaseModel):
    """A report: the questionnaire's answers, the reporter's identity if given, the language.

    Unknown members are ignored (forms embedded elsewhere may send more); the answers are
    checked by the questionnaire (``GET /intake`` shows it), each bad one named in the 422.
    """

    model_config = ConfigDict(strict=True, extra="ignore")

    answers: dict[str, Any] = Field(description="question key -> answer")
    identity: dict[str, Any] | None = Field(
        None, description="identity question key -> answer (sealed for custodians only)"
    )
    lang: Literal["ja", "en"] | None = None


class MailboxReply(ApiModel):
    body: str = Field(description="the reply (multipart: a 'body' field)")


def _document() -> ReportIn:
    """The report from a JSON body or from the ``document`` part of a multipart body."""
    if request.mimetype == "multipart/form-data":
        return validate_json(ReportIn, request.form.get("document", ""))
    return read_body(ReportIn)


def _answers_of(document: ReportIn) -> dict[str, Any]:
    merged = dict(document.answers)
    for key, value in (document.identity or {}).items():
        merged[f"identity.{key}"] = value
    return merged


@api.post("/reports", None, public=True, body=ReportIn, responses=_CREATED)
def create_report() -> ResponseReturnValue:
    """Send a report (JSON, or multipart with a JSON 'document' part and 'attachments' files)."""
    db_session = get_session()
    settings = web.settings(db_session)
    document = _document()
    lang = document.lang or current_lang()
    limit = settings.questionnaire.file_fields[0].max_size_bytes
    uploads = web.read_uploads(web.files("attachments"), limit)
    try:
        submitted = reporter.submit(db_session, settings, _answers_of(document), lang, uploads)
    except IntakeBusyError:
        db_session.rollback()
        return _busy()
    db_session.commit()
    return created(
        {
            "receipt": submitted.receipt,
            "answer_due": submitted.answer_due.astimezone(settings.tz).isoformat(),
        }
    )


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


@api.get(
    "/reports/mailbox",
    None,
    public=True,
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
    """Read the mailbox of a report."""
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


@api.post(
    "/reports/mailbox",
    None,
    public=True,
    parameters=[_RECEIPT_HEADER],
    body=MailboxReply,
    responses={
        "201": {"description": "Sealed and stored"},
        "401": {"description": "Wrong or malformed receipt (same answer)", "content": _PROBLEM},
        "422": {"description": "Empty or too long", "content": _PROBLEM},
    },
)
def reply_mailbox() -> ResponseReturnValue:
    """Reply in the mailbox of a report (JSON {'body'} or multipart with 'body' and
    'attachments')."""
    box = _mailbox()
    if isinstance(box, Response):
        return box
    db_session = get_session()
    settings = web.settings(db_session)
    if request.mimetype == "multipart/form-data":
        body = request.form.get("body", "")
    else:
        body = read_body(MailboxReply).body
    limit = settings.questionnaire.file_fields[0].max_size_bytes
    uploads = web.read_uploads(web.files("attachments"), limit)
    reporter.reporter_reply(db_session, settings, box, body, uploads)
    db_session.commit()
    return created({"status": "sent"})
