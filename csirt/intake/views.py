"""Public intake pages. No login and nothing that identifies the client, ever.

Every step of a flow is a POST back to the same URL: the receipt is shown in a POST response and
never appears in a URL, a query string, a redirect or a log.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from csirt import vault
from csirt.api.problems import problem
from csirt.catalog import ChoiceField, FileField, Questionnaire, TextField
from csirt.db import get_session
from csirt.i18n import LANGUAGES, current_lang
from csirt.intake import base, reporter, web
from csirt.intake.base import AnswersInvalidError, BadReceiptError, IntakeBusyError

bp = Blueprint("intake", __name__, url_prefix="/report")
log = logging.getLogger(__name__)
RETRY_AFTER = "5"


def init_app(app: Flask) -> None:
    """Uploads stay in memory; the instance folder is private; the onion address is announced."""
    # Werkzeug spools uploads over 500 KB to a temporary file: a tip's attachment would sit in
    # clear on disk while the request runs. In memory instead, bounded by MAX_CONTENT_LENGTH.
    app.request_class = web.InMemoryRequest
    instance = Path(app.instance_path)
    if instance.is_dir() and instance.stat().st_mode & 0o077:
        instance.chmod(0o700)
    onion = app.config["CSIRT"].onion_url
    if onion:

        @app.after_request
        def onion_location(response: Response) -> Response:
            # Tor Browser offers the onion service for this page (only on the intake's pages).
            if request.path.startswith("/report") and response.mimetype == "text/html":
                response.headers["Onion-Location"] = onion + request.full_path.rstrip("?")
            return response


class CsrfForm(FlaskForm):  # type: ignore[misc]
    """No fields of its own: the questionnaire is rendered from the playbook; CSRF only."""


def upload_message(message: str) -> str:
    """The reporter-facing text of an attachment error from the service."""
    known = {
        "this type of file is not accepted": _("This type of file is not accepted."),
        "a file cannot be read as its type": _(
            "A file cannot be read: it does not match its type or is damaged."
        ),
        "write a message or attach a file": _("Write a message or attach a file."),
        "the image has too many pixels": _(
            "The image has too many pixels to be processed safely. Please send a smaller one."
        ),
        "the file is too large when unpacked": _(
            "The file is too large when unpacked to be processed safely."
        ),
        "the file takes too long to process": _("The file takes too long to process."),
        "the file is encrypted": _(
            "The file is encrypted or password-protected. Please send it without a password."
        ),
    }
    if message in known:
        return str(known[message])
    name, _sep, reason = message.partition(": ")  # "<file name>: <reason>" (names hold no ':')
    if reason in known:
        return str(_("%(name)s: %(reason)s", name=name, reason=known[reason]))
    if message.startswith("at most") and "files" in message:
        return str(_("You can attach at most %(n)s files.", n=message.split()[2]))
    if message.startswith("each file"):
        return str(_("Each file must be at most %(n)s MB.", n=message.split()[-2]))
    if message.startswith("at most"):
        return str(_("Please use at most %(n)s characters.", n=message.split()[2]))
    return message


def _errors_for_display(errors: dict[str, str]) -> dict[str, str]:
    return {key: upload_message(value) for key, value in errors.items()}


def _busy(template: str = "intake/busy.html") -> ResponseReturnValue:
    return render_template(template), 429, {"Retry-After": RETRY_AFTER}


def _file_limit(questionnaire: Questionnaire) -> int:
    fields = questionnaire.file_fields
    return fields[0].max_size_bytes if fields else 0


def _form_page(
    questionnaire: Questionnaire,
    values: MultiDict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> str:
    language = current_lang()
    values = values if values is not None else MultiDict()
    rendered = []
    for field in questionnaire.fields:
        entry: dict[str, Any] = {
            "field": field,
            "label": field.label.get(language),
            "help": field.help.get(language),
            "value": values.get(field.key, ""),
            "error": (errors or {}).get(field.key),
        }
        if isinstance(field, ChoiceField):
            entry["choices"] = web.render_choices(field, language)
            entry["picked"] = values.getlist(field.key)
        if isinstance(field, TextField):
            entry["max_length"] = field.max_length
        if isinstance(field, FileField):
            entry["accept"] = ",".join(field.allowed_types)
        rendered.append(entry)
    return render_template(
        "intake/index.html",
        form=CsrfForm(),
        questionnaire=questionnaire,
        lang=language,
        answer_fields=[e for e in rendered if not e["field"].is_identity],
        identity_fields=[e for e in rendered if e["field"].is_identity],
        errors=errors or {},
    )


def _receipt_page(
    questionnaire: Questionnaire, receipt: str, answer_due: str, token: str, error: str = ""
) -> str:
    return render_template(
        "intake/receipt.html",
        form=CsrfForm(),
        groups=receipt.split("-"),
        answer_due=answer_due,
        closing=questionnaire.closing.get(current_lang()).strip().splitlines(),
        token=token,
        error=error,
    )


def _same_group(typed: str, expected: str) -> bool:
    compact = "".join(
        {"O": "0", "I": "1", "L": "1"}.get(ch, ch)
        for ch in unicodedata.normalize("NFKC", typed or "").upper()
        if not ch.isspace() and ch not in "-ー"
    )
    return compact == expected


@bp.route("/", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    db_session = get_session()
    settings = web.settings(db_session)
    questionnaire = settings.questionnaire
    form = CsrfForm()
    if not form.is_submitted():
        return _form_page(questionnaire)
    if not form.validate():
        expired = {"_form": _("This form had expired. Please send it again.")}
        return _form_page(questionnaire, web.form_answers(), expired), 400
    if web.step() == "confirm":
        return _confirm(questionnaire)
    if web.step() == "language":
        return _switch_language(questionnaire)
    file_key = questionnaire.file_fields[0].key if questionnaire.file_fields else "attachments"
    uploads = web.read_uploads(web.files(file_key), _file_limit(questionnaire))
    try:
        submitted = reporter.submit(
            db_session, settings, web.form_answers(), current_lang(), uploads, ignore_unknown=True
        )
    except AnswersInvalidError as exc:
        db_session.rollback()
        return _form_page(questionnaire, web.form_answers(), _errors_for_display(exc.errors)), 400
    except IntakeBusyError:
        db_session.rollback()
        return _busy()
    db_session.commit()
    due_text = web.format_due(submitted.answer_due)
    payload = json.dumps(
        {"r": submitted.receipt, "d": due_text, "a": submitted.answer_due.isoformat()}
    ).encode()
    token = web.seal_token(payload, web.CONFIRM_CONTEXT, web.CONFIRM_SECONDS)
    return _receipt_page(questionnaire, submitted.receipt, due_text, token)


def _switch_language(questionnaire: Questionnaire) -> ResponseReturnValue:
    """The receipt page again, in the chosen language, from the same sealed state (issue 13, 9)."""
    payload = web.open_token(web.form_value("token"), web.CONFIRM_CONTEXT)
    if payload is None:
        return render_template("intake/confirm_expired.html"), 400
    chosen = web.form_value("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        refresh()  # this response already speaks the new language
    data = json.loads(payload)
    receipt, due_text = str(data["r"]), str(data["d"])
    if isinstance(data.get("a"), str):
        due_text = web.format_due(datetime.fromisoformat(data["a"]))
    token = web.seal_token(payload, web.CONFIRM_CONTEXT, web.CONFIRM_SECONDS)
    return _receipt_page(questionnaire, receipt, due_text, token)


def _confirm(questionnaire: Questionnaire) -> ResponseReturnValue:
    payload = web.open_token(web.form_value("token"), web.CONFIRM_CONTEXT)
    if payload is None:
        return render_template("intake/confirm_expired.html"), 400
    data = json.loads(payload)
    receipt, due_text = str(data["r"]), str(data["d"])
    last_group = receipt.rsplit("-", 1)[-1]
    kept = web.form_value("kept") == "yes"
    if kept and _same_group(web.form_value("last_group"), last_group):
        return render_template("intake/confirmed.html", answer_due=due_text)
    error = (
        _("Please tick the box to confirm that you have kept your receipt.")
        if not kept
        else _("The last group you typed does not match. Please check your note.")
    )
    token = web.seal_token(payload, web.CONFIRM_CONTEXT, web.CONFIRM_SECONDS)
    return _receipt_page(questionnaire, receipt, due_text, token, error), 400


def _mailbox_page(
    mailbox: base.Mailbox,
    keys: vault.ReceiptKeys,
    errors: dict[str, str] | None = None,
    *,
    sent: bool = False,
) -> str:
    submission = mailbox.submission
    return render_template(
        "intake/mailbox.html",
        form=CsrfForm(),
        submission=submission,
        mailbox=mailbox,
        token=web.mailbox_token(keys),
        answer_due=web.format_due(submission.answer_due),
        errors=errors or {},
        sent=sent,
    )


def _login_page(error: str = "") -> str:
    return render_template("intake/mailbox_login.html", form=CsrfForm(), error=error)


@bp.route("/mailbox", methods=["GET", "POST"])
def mailbox() -> ResponseReturnValue:
    db_session = get_session()
    settings = web.settings(db_session)
    form = CsrfForm()
    if not form.is_submitted():
        return _login_page()
    if not form.validate():
        return _login_page(_("This form had expired. Please try again.")), 400
    not_found = _("We could not open a report with this receipt. Check each group and try again.")
    if web.step() == "reply":
        keys = web.keys_from_mailbox_token(web.form_value("token"))
        if keys is None:
            return _login_page(
                _("For your safety the page timed out. Enter your receipt again.")
            ), 400
        try:
            box = reporter.find_by_keys(db_session, keys)
        except BadReceiptError:
            return _login_page(not_found), 400
        uploads = web.read_uploads(web.files("attachments"), _file_limit(settings.questionnaire))
        try:
            reporter.reporter_reply(db_session, settings, box, web.form_value("body"), uploads)
        except AnswersInvalidError as exc:
            db_session.rollback()
            box = reporter.find_by_keys(db_session, keys)
            return _mailbox_page(box, keys, _errors_for_display(exc.errors)), 400
        db_session.commit()
        box = reporter.find_by_keys(db_session, keys)
        return _mailbox_page(box, keys, sent=True)
    # A malformed receipt is refused before any hashing and spends no budget; only well-formed
    # wrong ones spend the mailbox budget (issue 13, 8; see reporter.open_mailbox).
    try:
        keys = reporter.derive_keys(settings, web.form_value("receipt"))
    except BadReceiptError:
        return _login_page(not_found), 400
    except IntakeBusyError:
        return _busy()
    try:
        box = reporter.find_by_keys(db_session, keys)
    except BadReceiptError:
        if not web.mailbox_budget().spend():
            return _busy()
        return _login_page(not_found), 400
    return _mailbox_page(box, keys)


@bp.app_errorhandler(vault.TamperedError)
def tampered(_error: vault.TamperedError) -> ResponseReturnValue:
    # Loud, but without content: the blob failed authentication and nothing from it is shown.
    log.error("intake: a sealed blob failed its integrity check")
    get_session().rollback()
    if request.path.startswith("/api/"):
        return problem(500, "Integrity Check Failed", "sealed data failed its integrity check")
    public = request.blueprint == "intake"
    return render_template("intake/tampered.html", public=public), 500
