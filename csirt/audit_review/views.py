"""The auditor's pages: browse the log, review signals, download the half-year report."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import click
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.audit_review import service
from csirt.audit_review.explain import explain, kind_label, report_csv, report_docx
from csirt.auth.access import current_actor, requires
from csirt.auth.permissions import Permission
from csirt.auth.reauth import reauth_required
from csirt.db import get_session, utcnow, writes
from csirt.forms import require_action
from csirt.i18n import as_lang, current_lang
from csirt.jobs import job_command

if TYPE_CHECKING:
    from flask import Flask

bp = Blueprint("audit_review", __name__, url_prefix="/console/audit")

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class CloseSignalForm(FlaskForm):  # type: ignore[misc]
    note = TextAreaField(
        _l("Review note (what you checked and why this is closed)"),
        validators=[DataRequired(), Length(max=4000)],
    )
    submit = SubmitField(_l("Close the signal"))


class ScanForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField(_l("Look for signals now"))


def _settings() -> service.SignalSettings:
    config = current_app.config["CSIRT"]
    return service.SignalSettings.from_config(config)


def _parse_query() -> tuple[service.AuditQuery, dict[str, str]]:
    """The filter from the query string, and an error message per bad field."""
    args = request.args
    errors: dict[str, str] = {}
    tz = _settings().tz

    def day(name: str) -> date | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Enter a date, e.g. 2026-12-06.")
            return None

    since, until = day("since"), day("until")
    case_raw = args.get("case", "").strip()
    case_id = None
    if case_raw:
        if case_raw.isdigit() and len(case_raw) < 10:
            case_id = int(case_raw)
        else:
            errors["case"] = _("Enter a case number.")
    for name in ("actor", "action", "object_type", "object_id"):
        if len(args.get(name, "")) > 64:
            errors[name] = _("At most 64 characters.")
    query = service.AuditQuery(
        actor=args.get("actor", "").strip()[:64] or None,
        action=args.get("action", "").strip()[:64] or None,
        since=datetime.combine(since, time(0), tzinfo=tz) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(0), tzinfo=tz) if until else None,
        case_id=case_id,
        object_type=args.get("object_type", "").strip()[:32] or None,
        object_id=args.get("object_id", "").strip()[:64] or None,
    )
    return query, errors


@bp.get("/")
@writes
@requires(Permission.AUDIT_VIEW)
def index() -> ResponseReturnValue:
    query, errors = _parse_query()
    before_raw = request.args.get("before", "")
    before = int(before_raw) if before_raw.isdigit() and len(before_raw) < 18 else None
    db_session = get_session()
    if errors:
        page = service.AuditPage([], None)
    else:
        page = service.browse(db_session, query, before=before)
        audit.record(
            db_session,
            AuditAction.AUDIT_REVIEW_BROWSE,
            actor=current_actor(),
            details={k: v for k, v in request.args.items() if k != "before" and v},
        )
        db_session.commit()
    filters = {k: request.args.get(k, "") for k in service_filter_names()}
    return render_template("audit_review/index.html", page=page, filters=filters, errors=errors), (
        400 if errors else 200
    )


def service_filter_names() -> tuple[str, ...]:
    return ("actor", "action", "since", "until", "case", "object_type", "object_id")


@bp.get("/signals")
@requires(Permission.AUDIT_VIEW)
def signals() -> ResponseReturnValue:
    status = request.args.get("status", "open")
    if status not in ("open", "closed", "all"):
        status = "open"
    rows = service.list_signals(get_session(), status=None if status == "all" else status)
    tz = _settings().tz
    items = [(s, kind_label(s.kind), explain(s.kind, s.subject_name, s.facts, tz)) for s in rows]
    return render_template(
        "audit_review/signals.html", items=items, status=status, scan_form=ScanForm()
    )


@bp.post("/signals/scan")
@requires(Permission.AUDIT_VIEW)
def scan() -> ResponseReturnValue:
    require_action(ScanForm)
    db_session = get_session()
    raised = service.scan(db_session, settings=_settings(), actor=current_actor())
    db_session.commit()
    flash(_("%(n)d new signals.", n=len(raised)), "info")
    return redirect(url_for("audit_review.signals"))


@bp.route("/signals/<int:signal_id>", methods=["GET", "POST"])
@requires(Permission.AUDIT_VIEW)
def signal(signal_id: int) -> ResponseReturnValue:
    db_session = get_session()
    try:
        row = service.get_signal(db_session, signal_id)
    except service.SignalNotFoundError:
        abort(404)
    form = CloseSignalForm()
    status = 200
    if form.is_submitted():
        if form.validate_on_submit():
            try:
                service.close_signal(db_session, signal_id, form.note.data, actor=current_actor())
            except service.SignalClosedError:
                flash(_("This signal was already closed."), "info")
                return redirect(url_for("audit_review.signal", signal_id=signal_id))
            except service.EmptyNoteError:
                form.note.errors.append(_("Write what you checked."))
            else:
                db_session.commit()
                flash(_("The signal was closed."), "success")
                return redirect(url_for("audit_review.signals"))
        status = 400
    tz = _settings().tz
    return render_template(
        "audit_review/signal.html",
        signal=row,
        label=kind_label(row.kind),
        explanation=explain(row.kind, row.subject_name, row.facts, tz),
        form=form,
    ), status


def _period() -> tuple[int, int] | None:
    year_raw, half_raw = request.args.get("year", ""), request.args.get("half", "")
    if not (year_raw.isdigit() and half_raw in ("1", "2")):
        return None
    year = int(year_raw)
    return (year, int(half_raw)) if 2000 <= year <= 2999 else None


@bp.get("/report")
@requires(Permission.AUDIT_VIEW)
def report() -> ResponseReturnValue:
    today = utcnow().astimezone(_settings().tz).date()
    # By default the half-year that ended last: the one due for review.
    default = (today.year, 1) if today.month > 6 else (today.year - 1, 2)
    bad = bool(request.args) and _period() is None
    year, half = _period() or default
    return render_template(
        "audit_review/report.html", year=year, half=half, bad=bad, this_year=today.year
    ), (400 if bad else 200)


@bp.get("/report.csv", defaults={"fmt": "csv"})
@bp.get("/report.docx", defaults={"fmt": "docx"})
@writes
@requires(Permission.AUDIT_VIEW)
@reauth_required
def report_download(fmt: str) -> ResponseReturnValue:
    """The half-year report as CSV or Word (``url_for`` picks the rule by ``fmt``)."""
    period = _period()
    if period is None:
        abort(400)
    year, half = period
    db_session = get_session()
    config = current_app.config["CSIRT"]
    built = service.build_report(db_session, year, half, config.tz)
    # The report's language may be chosen apart from the page's (?lang=ja|en).
    lang = as_lang(request.args.get("lang"), current_lang())
    audit.record(
        db_session,
        AuditAction.AUDIT_REVIEW_EXPORT,
        actor=current_actor(),
        object_type="review_report",
        object_id=f"{year}-H{half}",
        details={"format": fmt, "lang": lang},
    )
    db_session.commit()
    name = f"audit-review-{year}-H{half}-{lang}"
    if fmt == "csv":
        body = report_csv(built, lang).encode("utf-8-sig")  # BOM: Excel opens UTF-8 correctly
        mimetype = "text/csv"
    else:
        body = report_docx(built, lang, config.org_name)
        mimetype = DOCX_MIME
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@click.group("audit-review")
def review_group() -> None:
    """Signals of misuse from the audit log."""


@job_command(review_group, "scan")
def scan_command(db_session: Session) -> str:
    """Look for signals in yesterday's and today's audit events (run it from cron hourly)."""
    raised = service.scan(db_session, settings=_settings(), actor=audit.Actor(None, "cli"))
    return f"{len(raised)} new signals"


def init_app(app: Flask) -> None:
    app.cli.add_command(review_group)
