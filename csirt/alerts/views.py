"""Console: the alert queue, an alert's page, merge into a case, open a case, ignore."""

from __future__ import annotations

from collections.abc import Callable
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
from csirt.cases.errors import CaseNotFoundError, CaseValidationError
from csirt.cases.listing import CaseFilters, list_cases
from csirt.cases.need_to_know import find_case_by_reference
from csirt.db import get_session, writes
from csirt.i18n import current_lang
from csirt.observables.forms import HASH_NAMES, TYPE_LABELS
from csirt.observables.normalise import defang
from csirt.web import missing_is_404

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
    return {
        "status_labels": STATUS_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "type_labels": TYPE_LABELS,
        "hash_names": HASH_NAMES,
    }


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
        sources={s: s for s in service.sources(session)},
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
    with missing_is_404(AlertNotFoundError):
        alert = service.view_alert(session, alert_id, current_user)
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
    with missing_is_404(AlertNotFoundError):
        alert = service.get_alert(get_session(), alert_id)
    return _render(alert, 400, **given)


def _decided(
    alert_id: int, key: str, form: Any, act: Callable[[], tuple[str, str]]
) -> ResponseReturnValue:
    """Run a decision on a valid form: ``act`` returns the message and where to go; its
    AlertValidationError puts the form back with an error on each field it names."""
    session = get_session()
    if form.validate_on_submit():
        try:
            message, target = act()
        except AlertValidationError as error:
            session.rollback()
            for name, reason in error.errors.items():
                getattr(form, name).errors.append(reason)
        except (AlertNotFoundError, AlertDecidedError) as error:
            return _refused(alert_id, error)
        except CaseValidationError as error:  # the case refused an observable: nothing changed
            session.rollback()
            flash(_("The case refused the alert's observables: %(why)s", why=error), "warning")
        else:
            session.commit()
            flash(message, "success")
            return redirect(target)
    return _again(alert_id, **{key: form})


def _case_named(form: MergeForm) -> int:
    """The case the merge form names (a reference wins over the list)."""
    reference = (form.reference.data or "").strip()
    chosen = form.case_id.data or ""
    if reference:
        try:
            return find_case_by_reference(get_session(), current_user, reference).id
        except CaseNotFoundError:
            unknown = _("No case you may see has this reference.")
            raise AlertValidationError({"reference": unknown}) from None
    if chosen.isascii() and chosen.isdigit() and len(chosen) <= 9:
        return int(chosen)
    raise AlertValidationError({"case_id": _("Choose a case or give its reference.")})


@bp.post("/<int:alert_id>/merge")
@requires(Permission.ALERT_TRIAGE)
def merge(alert_id: int) -> ResponseReturnValue:
    form = MergeForm()
    form.case_id.choices = _visible_cases()

    def act() -> tuple[str, str]:
        case_id = _case_named(form)
        try:
            case = service.merge(get_session(), alert_id, case_id, current_user)
        except AlertValidationError:
            raise AlertValidationError(
                {"case_id": _("No case you may see has this reference.")}
            ) from None
        message = _("The alert was merged into %(ref)s.", ref=case.reference)
        return message, url_for("cases.detail", case_id=case.id)

    return _decided(alert_id, "merge_form", form, act)


@bp.post("/<int:alert_id>/open-case")
@requires(Permission.ALERT_TRIAGE)
def open_case(alert_id: int) -> ResponseReturnValue:
    form = OpenCaseForm()
    _forms(open_form=form)

    def act() -> tuple[str, str]:
        playbook = registry.playbooks().get(form.playbook.data or "")
        case = service.open_case(
            get_session(), alert_id, current_user, playbook=playbook, lang=current_lang()
        )
        return _("Case %(ref)s created.", ref=case.reference), url_for(
            "cases.detail", case_id=case.id
        )

    return _decided(alert_id, "open_form", form, act)


@bp.post("/<int:alert_id>/ignore")
@requires(Permission.ALERT_TRIAGE)
def ignore(alert_id: int) -> ResponseReturnValue:
    form = IgnoreForm()

    def act() -> tuple[str, str]:
        try:
            service.ignore(get_session(), alert_id, current_user, form.reason.data or "")
        except AlertValidationError:
            raise AlertValidationError({"reason": _("Say why the alert is ignored.")}) from None
        return _("The alert is ignored."), url_for("alerts.index")

    return _decided(alert_id, "ignore_form", form, act)
