"""Console: the alert queue, an alert's page, merge into a case, open a case, ignore."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice

from csirt.alerts import service
from csirt.alerts.cli import alerts_group
from csirt.alerts.errors import AlertDecidedError, AlertNotFoundError, AlertValidationError
from csirt.alerts.forms import IgnoreForm, MergeForm, OpenCaseForm
from csirt.alerts.models import Alert, AlertStatus, Severity
from csirt.api.pagination import row_id
from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import registry
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.listing import CaseFilters, list_cases
from csirt.cases.need_to_know import find_case_by_reference
from csirt.db import get_session, writes
from csirt.i18n import current_lang
from csirt.observables.normalise import defang

bp = Blueprint("alerts", __name__, url_prefix="/console/alerts")

STATUS_LABELS = {
    AlertStatus.NEW.value: _l("New"),
    AlertStatus.MERGED.value: _l("Merged"),
    AlertStatus.IGNORED.value: _l("Ignored"),
}
SEVERITY_LABELS = {
    Severity.LOW.value: _l("Low"),
    Severity.MEDIUM.value: _l("Medium"),
    Severity.HIGH.value: _l("High"),
    Severity.CRITICAL.value: _l("Critical"),
}


def init_app(app: Flask) -> None:
    """The ``csirt alerts`` commands."""
    app.cli.add_command(alerts_group)


def _labels() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "severity_labels": SEVERITY_LABELS}


@bp.get("/")
@requires(Permission.ALERT_VIEW)
def index() -> ResponseReturnValue:
    args = request.args
    status = args.get("status", "new")
    filters = service.AlertFilters(
        status=status if status in STATUS_LABELS else None,
        source=(args.get("source") or "").strip()[:64] or None,
        severity=args.get("severity") if args.get("severity") in SEVERITY_LABELS else None,
    )
    cursor = row_id(args.get("cursor", ""))
    session = get_session()
    page = service.list_alerts(session, filters, cursor=cursor)
    query = {
        "status": filters.status or "all",
        "source": filters.source,
        "severity": filters.severity,
    }
    return render_template(
        "alerts/index.html",
        page=page,
        filters=filters,
        query={k: v for k, v in query.items() if v},
        sources=service.sources(session),
        **_labels(),
    )


def _visible_cases() -> list[SelectChoice]:
    page = list_cases(get_session(), current_user, filters=CaseFilters(open_only=True), limit=50)
    return [SelectChoice("", _("Choose a case"))] + [
        SelectChoice(str(c.id), f"{c.reference} {c.title}") for c in page.items
    ]


def _forms(**given: Any) -> dict[str, Any]:
    merge_form = given.get("merge_form") or MergeForm()
    merge_form.case_id.choices = _visible_cases()
    open_form = given.get("open_form") or OpenCaseForm()
    lang = current_lang()
    open_form.playbook.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(pid, playbook.title.get(lang))
        for pid, playbook in registry.playbooks().items()
    ]
    return {
        "merge_form": merge_form,
        "open_form": open_form,
        "ignore_form": given.get("ignore_form") or IgnoreForm(),
    }


def _render(alert: Alert, status: int = 200, **given: Any) -> ResponseReturnValue:
    observables = [(o, defang(o["type"], o["value"])) for o in alert.observables]
    forms = _forms(**given) if alert.status == AlertStatus.NEW.value else {}
    return (
        render_template(
            "alerts/detail.html", alert=alert, observables=observables, **forms, **_labels()
        ),
        status,
    )


@bp.get("/<int:alert_id>")
@requires(Permission.ALERT_VIEW)
@writes
def detail(alert_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        alert = service.view_alert(session, alert_id, current_user)
    except AlertNotFoundError:
        abort(404)
    session.commit()
    return _render(alert)


def _refused(alert_id: int, error: Exception) -> ResponseReturnValue:
    get_session().rollback()
    if isinstance(error, AlertNotFoundError):
        abort(404)
    flash(_("This alert was merged or ignored already."), "warning")
    return redirect(url_for("alerts.detail", alert_id=alert_id))


def _again(alert_id: int, **given: Any) -> ResponseReturnValue:
    """The alert's page again with a refused form (400)."""
    try:
        alert = service.get_alert(get_session(), alert_id)
    except AlertNotFoundError:
        abort(404)
    return _render(alert, 400, **given)


@bp.post("/<int:alert_id>/merge")
@requires(Permission.ALERT_TRIAGE)
def merge(alert_id: int) -> ResponseReturnValue:
    form = MergeForm()
    form.case_id.choices = _visible_cases()
    session = get_session()
    case_id = None
    if form.validate_on_submit():
        reference = (form.reference.data or "").strip()
        try:
            if reference:
                case_id = find_case_by_reference(session, current_user, reference).id
            elif (form.case_id.data or "").isascii() and (form.case_id.data or "").isdigit():
                case_id = int(form.case_id.data)
        except CaseNotFoundError:
            form.reference.errors.append(_("No case you may see has this reference."))
        if case_id is None and not form.errors and not form.reference.errors:
            form.case_id.errors.append(_("Choose a case or give its reference."))
    if case_id is not None:
        try:
            case = service.merge(session, alert_id, case_id, current_user)
        except AlertValidationError:
            session.rollback()
            form.case_id.errors.append(_("No case you may see has this reference."))
        except (AlertNotFoundError, AlertDecidedError) as error:
            return _refused(alert_id, error)
        else:
            session.commit()
            flash(_("The alert was merged into %(ref)s.", ref=case.reference), "success")
            return redirect(url_for("cases.detail", case_id=case.id))
    return _again(alert_id, merge_form=form)


@bp.post("/<int:alert_id>/open-case")
@requires(Permission.ALERT_TRIAGE)
def open_case(alert_id: int) -> ResponseReturnValue:
    form = OpenCaseForm()
    _forms(open_form=form)
    session = get_session()
    if form.validate_on_submit():
        playbook = registry.playbooks().get(form.playbook.data or "")
        try:
            case = service.open_case(
                session, alert_id, current_user, playbook=playbook, lang=current_lang()
            )
        except (AlertNotFoundError, AlertDecidedError) as error:
            return _refused(alert_id, error)
        session.commit()
        flash(_("Case %(ref)s created.", ref=case.reference), "success")
        return redirect(url_for("cases.detail", case_id=case.id))
    return _again(alert_id, open_form=form)


@bp.post("/<int:alert_id>/ignore")
@requires(Permission.ALERT_TRIAGE)
def ignore(alert_id: int) -> ResponseReturnValue:
    form = IgnoreForm()
    session = get_session()
    if form.validate_on_submit():
        try:
            service.ignore(session, alert_id, current_user, form.reason.data or "")
        except AlertValidationError:
            session.rollback()
            form.reason.errors.append(_("Say why the alert is ignored."))
        except (AlertNotFoundError, AlertDecidedError) as error:
            return _refused(alert_id, error)
        else:
            session.commit()
            flash(_("The alert is ignored."), "success")
            return redirect(url_for("alerts.index"))
    return _again(alert_id, ignore_form=form)
