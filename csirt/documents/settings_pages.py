"""Console pages for recurrence-prevention measures and the organisation settings (template
included): routes of the documents blueprint (`console.blueprint`, registered by `views`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.db import get_session
from csirt.documents import forms, service, snapshot
from csirt.documents.console import action, case_of, env
from csirt.documents.console import blueprint as routes
from csirt.documents.console import case_access as _access
from csirt.forms import ActionForm, require_action, saved

# --- measures ---------------------------------------------------------------------------------


@routes.get("/console/measures")
@requires(Permission.DOCUMENT_VIEW)
def measures() -> ResponseReturnValue:
    session = get_session()
    rows = service.measures_for(session, current_user)
    cases = service.measure_cases(session, rows)
    return render_template(
        "documents/measures.html",
        measures=rows,
        cases=cases,
        status_labels=forms.MEASURE_STATUS_LABELS,
        today=datetime.now(current_app.config["CSIRT"].tz).date(),
    )


def _measure_form(session: Session, data: Any = None) -> Any:
    form = forms.MeasureForm(formdata=data) if data is not None else forms.MeasureForm()
    cases = service.reachable_cases(session, current_user, limit=500)
    form.case_id.choices = [SelectChoice("", _("Organisation-wide"))] + [
        SelectChoice(str(c.id), f"{c.reference} {c.title}") for c in cases
    ]
    return form


def _measure_values(form: Any) -> service.MeasureInput:
    return service.validate_measure(
        {
            "title": form.title.data,
            "owner": form.owner.data,
            "due": form.due.data,
            "status": form.status.data,
            "evidence": form.evidence.data,
        }
    )


@routes.route("/console/measures/new", methods=["GET", "POST"])
@requires(Permission.MEASURE_MANAGE)
def measure_new() -> ResponseReturnValue:
    session = get_session()
    form = _measure_form(session)
    if request.method == "GET":
        form.case_id.data = request.args.get("case_id", "")
    elif form.validate_on_submit():
        case = None
        if form.case_id.data:
            case = _access(session, int(form.case_id.data)).case
        service.save_measure(session, current_user, _measure_values(form), case=case)
        return saved(_("Measure saved."), "documents.measures")
    status = 400 if request.method == "POST" else 200
    return render_template("documents/measure_form.html", form=form, measure=None), status


@routes.route("/console/measures/<int:measure_id>", methods=["GET", "POST"])
@requires(Permission.MEASURE_MANAGE)
def measure_edit(measure_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        measure = service.get_measure_for(session, current_user, measure_id)
    except service.DocumentNotFoundError:
        abort(404)
    form = _measure_form(session)
    del form.case_id  # a measure stays with its case
    if request.method == "GET":
        form.title.data = measure.title
        form.owner.data = measure.owner
        form.due.data = measure.due
        form.status.data = measure.status
        form.evidence.data = measure.evidence
    elif form.validate_on_submit():
        service.save_measure(session, current_user, _measure_values(form), measure=measure)
        return saved(_("Measure saved."), "documents.measures")
    status = 400 if request.method == "POST" else 200
    return render_template("documents/measure_form.html", form=form, measure=measure), status


@action(
    "/console/cases/<int:case_id>/documents/adopt-recommendations",
    Permission.MEASURE_MANAGE,
    case_of,
)
def adopt_recommendations(session: Session, access: service.CaseAccess) -> ResponseReturnValue:
    created = service.adopt_recommendations(session, current_user, access.case)
    return saved(_("%(n)d recommendations became measures.", n=len(created)), "documents.measures")


# --- organisation settings and template ---------------------------------------------------------


def _render_settings(
    settings_form: Any = None, template_form: Any = None, status: int = 200
) -> ResponseReturnValue:
    session = get_session()
    current = snapshot.organisation_settings(session, env().org_name)
    if settings_form is None:
        settings_form = forms.SettingsForm(data=current.as_dict())
    path = service.template_path(env().instance_path)
    return (
        render_template(
            "documents/settings.html",
            form=settings_form,
            template_form=template_form or forms.TemplateForm(),
            action=ActionForm(),
            template_size=path.stat().st_size if path.is_file() else None,
            max_mb=service.MAX_TEMPLATE_BYTES // 1024 // 1024,
        ),
        status,
    )


@routes.route("/console/documents/settings", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
def settings() -> ResponseReturnValue:
    if request.method == "GET":
        return _render_settings()
    form = forms.SettingsForm()
    if not form.validate_on_submit():
        return _render_settings(settings_form=form, status=400)
    service.save_organisation_settings(
        get_session(),
        current_user,
        snapshot.OrganisationSettings(
            name=form.name.data.strip(),
            department=(form.department.data or "").strip(),
            contact_department=(form.contact_department.data or "").strip(),
            phone=(form.phone.data or "").strip(),
            email=(form.email.data or "").strip(),
            public_body=bool(form.public_body.data),
            head=(form.head.data or "").strip(),
            date_style=form.date_style.data
            if form.date_style.data in snapshot.DATE_STYLES
            else "wareki",
            caution=(form.caution.data or "").strip(),
        ),
    )
    return saved(_("Settings saved."), "documents.settings")


@routes.post("/console/documents/settings/template")
@requires(Permission.SETTINGS_MANAGE)
def template_upload() -> ResponseReturnValue:
    form = forms.TemplateForm()
    if not form.validate_on_submit():
        return _render_settings(template_form=form, status=400)
    session = get_session()
    data = form.template.data.read(service.MAX_TEMPLATE_BYTES + 1)
    try:
        service.save_template(session, current_user, data, env().instance_path)
    except service.TemplateInvalidError as error:
        form.template.errors = [_("The template was refused: %(reason)s", reason=str(error))]
        return _render_settings(template_form=form, status=400)
    return saved(_("Template uploaded: every export uses it now."), "documents.settings")


@routes.post("/console/documents/settings/template/delete")
@requires(Permission.SETTINGS_MANAGE)
def template_delete() -> ResponseReturnValue:
    require_action()
    session = get_session()
    if service.delete_template(session, current_user, env().instance_path):
        session.commit()
        flash(_("Template removed: exports use the built-in style."), "success")
    return redirect(url_for("documents.settings"))
