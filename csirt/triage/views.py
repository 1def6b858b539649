"""Console pages of triage: the case's triage panel, the deadlines board and its iCalendar feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request
from flask import url_for as flask_url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases.access import case_or_404, case_page
from csirt.cases.models import Case
from csirt.catalog.current import current_catalog
from csirt.db import get_session, utcnow
from csirt.forms import ActionForm, require_action, saved
from csirt.i18n import current_lang
from csirt.triage import service
from csirt.triage.forms import ContractorNoticeForm, DoneForm, OverrideForm
from csirt.triage.models import CaseTriage, Obligation, ObligationStatus

bp = Blueprint("triage", __name__)

DEADLINE_LABELS = {
    "legal": _l("legal deadline"),
    "guidance": _l("guidance (the law says promptly)"),
    "internal": _l("internal target (no legal date)"),
    "window": _l("protection period ends"),
}
STATUS_LABELS = {
    ObligationStatus.PENDING.value: _l("Pending"),
    ObligationStatus.DONE.value: _l("Done"),
    ObligationStatus.NOT_APPLICABLE.value: _l("No longer applies"),
}
FACTOR_LABELS = {
    "persons": _l("Persons affected"),
    "sensitive_items": _l("Sensitive personal data"),
    "financial_items": _l("Risk of financial damage"),
    "jnsa_sensitivity": _l("JNSA sensitivity"),
    "identifiability": _l("Identifiability"),
    "exposure": _l("Exposure"),
    "insider": _l("Insider"),
    "wrongful_intent": _l("Wrongful intent"),
    "ongoing": _l("Ongoing"),
    "reportable": _l("Reportable to the PPC"),
}
CHANGE_LABELS = {
    "first_run": _l("First triage"),
    "score": _l("Score"),
    "priority": _l("Priority"),
    "obligation": _l("Obligation"),
    "facts.datasets": _l("Data sets (count / persons)"),
    "facts.exposure": _l("Exposure"),
    "facts.insider": _l("Insider"),
    "facts.wrongful_intent": _l("Wrongful intent"),
    "facts.ongoing": _l("Ongoing"),
    "facts.aware_at": _l("Aware at"),
    "facts.whistleblower_report": _l("Whistleblower report"),
    "facts.reported_at": _l("Reported at"),
    "facts.acknowledged_at": _l("Acknowledged at"),
    "facts.contractor_notice_at": _l("Contractor notice at"),
    "facts.organization": _l("Organisation"),
}


def obligation_label(kind: str) -> str:
    """The obligation kind's name (legal.yaml ``label``) in the UI language."""
    for rule in current_catalog().rules.obligations:
        if rule.kind == kind:
            return rule.label.get(current_lang())
    return kind


def init_app(app: Flask) -> None:
    """Expose obligation labels to templates (the triage reaction is in csirt/wiring.py)."""
    app.jinja_env.globals["obligation_label"] = obligation_label


_load_case = case_or_404


def _done_form(obligation: Obligation, formdata: Any = None) -> DoneForm:
    form = DoneForm(formdata=formdata, prefix=f"ob{obligation.id}")
    if formdata is None:
        tz = current_app.config["CSIRT"].tz
        form.done_at.data = utcnow().astimezone(tz).replace(tzinfo=None, second=0)
    return form


def _panel(
    case: Case,
    *,
    override_form: OverrideForm | None = None,
    done_forms: dict[int, DoneForm] | None = None,
    contractor_form: ContractorNoticeForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session = get_session()
    config = current_app.config["CSIRT"]
    lang = current_lang()
    catalog = current_catalog()
    state = session.get(CaseTriage, case.id)
    run = service.latest_run(session, case)
    if run is not None:
        result = run.result[lang]
    else:
        _facts, live = service.evaluate_case(session, case, config, catalog.rules)
        result = live.to_json(lang)
    rules = catalog.rules
    obligations = service.obligations_of(session, case)
    forms = {o.id: _done_form(o) for o in obligations if o.status != ObligationStatus.DONE}
    forms.update(done_forms or {})
    if override_form is None:
        override_form = OverrideForm(
            priority=(state.override_priority if state else None) or case.priority
        )
    return (
        render_template(
            "triage/panel.html",
            case=case,
            active="triage.panel",
            state=state,
            run=run,
            result=result,
            damage=result["damage_estimate"],
            obligations=obligations,
            done_forms=forms,
            override_form=override_form,
            action_form=ActionForm(),
            runs=service.runs_of(session, case),
            regimes={key: regime.label.get(lang) for key, regime in rules.regimes.items()},
            vocabulary=rules.vocabulary,
            lang=lang,
            factor_labels=FACTOR_LABELS,
            status_labels=STATUS_LABELS,
            change_labels=CHANGE_LABELS,
            deadline_labels=DEADLINE_LABELS,
            contractor_form=contractor_form or _contractor_form(state),
            max_score=rules.scoring.max_score,
        ),
        status,
    )


def _saved(case: Case, message: str) -> ResponseReturnValue:
    """Commit the change, say ``message`` and go back to the case's triage panel."""
    return saved(message, "triage.panel", case_id=case.id)


case_page(bp, "/console/cases/<int:case_id>/triage", "panel", _panel)


def _panel_button(
    action: str, permission: Permission
) -> Callable[[Callable[[Case], str]], Callable[[Case], str]]:
    """Register the decorated function as the POST of one of the panel's buttons, at
    ``/console/cases/<case_id>/triage/<action>``: the case (or 404) and the CSRF token are
    checked here; the function makes the change and returns what to say once it is saved."""

    def register(handle: Callable[[Case], str]) -> Callable[[Case], str]:
        @requires(permission)
        def view(case_id: int) -> ResponseReturnValue:
            case = _load_case(case_id)
            require_action()
            return _saved(case, handle(case))

        rule = f"/console/cases/<int:case_id>/triage/{action}"
        bp.add_url_rule(rule, handle.__name__, view, methods=["POST"])
        return handle

    return register


@_panel_button("run", Permission.TRIAGE_EVALUATE)
def rerun(case: Case) -> str:
    service.run_triage(
        get_session(),
        case,
        config=current_app.config["CSIRT"],
        catalog=current_catalog(),
        actor=current_user,
        reason="manual re-run",
    )
    return str(_("Triage was run again."))


_PanelForm = TypeVar("_PanelForm", OverrideForm, ContractorNoticeForm)
_PanelPost = Callable[[Case, _PanelForm], ResponseReturnValue | None]


def _panel_post(
    action: str, permission: Permission, form_class: type[_PanelForm], slot: str
) -> Callable[[_PanelPost[_PanelForm]], _PanelPost[_PanelForm]]:
    """Register the decorated function as the POST of one of the panel's forms, at
    ``/console/cases/<case_id>/triage/<action>``: the case (or 404) and the form are loaded and
    validated here; the function gets the valid form and returns a response, or None when the
    service refused it (the form then holds the errors). On errors the panel is shown again with
    this form in its ``slot`` (400)."""

    def register(handle: _PanelPost[_PanelForm]) -> _PanelPost[_PanelForm]:
        @requires(permission)
        def view(case_id: int) -> ResponseReturnValue:
            case = _load_case(case_id)
            form = form_class()
            if form.validate_on_submit():
                response = handle(case, form)
                if response is not None:
                    return response
            return _panel(case, status=400, **{slot: form})

        rule = f"/console/cases/<int:case_id>/triage/{action}"
        bp.add_url_rule(rule, handle.__name__, view, methods=["POST"])
        return handle

    return register


@_panel_post("override", Permission.PRIORITY_OVERRIDE, OverrideForm, "override_form")
def override(case: Case, form: OverrideForm) -> ResponseReturnValue | None:
    session = get_session()
    try:
        service.override_priority(
            session, case, priority=form.priority.data, reason=form.reason.data, actor=current_user
        )
    except service.OverrideError as error:  # pragma: no cover - the form checks the same
        form.reason.errors = [*form.reason.errors, str(error)]
        return None
    return _saved(case, _("The priority was overridden."))


@_panel_button("override/clear", Permission.PRIORITY_OVERRIDE)
def clear_override(case: Case) -> str:
    service.clear_override(get_session(), case, actor=current_user)
    return str(_("The override was cleared: the computed priority applies again."))


def _contractor_form(state: CaseTriage | None) -> ContractorNoticeForm:
    form = ContractorNoticeForm()
    if state is not None and state.contractor_notice_at is not None and not form.is_submitted():
        tz = current_app.config["CSIRT"].tz
        form.contractor.data = state.contractor_name
        form.notified.data = state.contractor_notified
        form.notice_at.data = state.contractor_notice_at.astimezone(tz).replace(tzinfo=None)
    return form


@_panel_post("contractor-notice", Permission.CASE_EDIT, ContractorNoticeForm, "contractor_form")
def contractor_notice(case: Case, form: ContractorNoticeForm) -> ResponseReturnValue | None:
    config = current_app.config["CSIRT"]
    try:
        service.record_contractor_notice(
            get_session(),
            case,
            contractor=form.contractor.data,
            notified=form.notified.data,
            notice_at=form.notice_at.data.replace(tzinfo=config.tz),
            actor=current_user,
            config=config,
            catalog=current_catalog(),
        )
    except service.ContractorNoticeError as error:
        if "notice_at" in error.errors:
            form.notice_at.errors = [_("The date must not be in the future.")]
        for key in ("contractor", "notified"):
            if key in error.errors:  # pragma: no cover - the form checks the same first
                getattr(form, key).errors = [error.errors[key]]
        return None
    return _saved(case, _("The contractor notice was recorded; the deadlines count from it."))


@bp.post("/console/cases/<int:case_id>/obligations/<int:obligation_id>/done")
@requires(Permission.CASE_EDIT)
def mark_done(case_id: int, obligation_id: int) -> ResponseReturnValue:
    case = _load_case(case_id)
    session = get_session()
    try:
        obligation = service.get_obligation(session, case, obligation_id)
    except service.ObligationNotFoundError:
        abort(404)
    form = _done_form(obligation, formdata=MultiDict(request.form))
    if form.validate_on_submit():
        tz = current_app.config["CSIRT"].tz
        done_at = form.done_at.data.replace(tzinfo=tz)
        try:
            service.mark_done(
                session,
                obligation,
                done_at=done_at,
                evidence=form.evidence.data,
                actor=current_user,
            )
        except service.ObligationError as error:
            if "status" in error.errors:
                flash(_("This obligation is already done."), "error")
            if "done_at" in error.errors:
                form.done_at.errors = [_("The date must not be in the future.")]
            if "evidence" in error.errors:  # pragma: no cover - the form checks the same first
                form.evidence.errors = [_("Describe the evidence.")]
        else:
            return _saved(case, _("The obligation was marked done."))
    return _panel(case, done_forms={obligation.id: form}, status=400)


# --- deadlines -------------------------------------------------------------------------------


def _deadlines_page(feed_url: str | None = None) -> ResponseReturnValue:
    session = get_session()
    now = utcnow()
    board = service.deadline_board(session, current_user, now=now)
    return render_template(
        "triage/deadlines.html",
        board=board,
        now=now,
        tz=current_app.config["CSIRT"].tz,
        feed=service.feed_token_of(session, current_user),
        feed_url=feed_url,
        status_labels=STATUS_LABELS,
        deadline_labels=DEADLINE_LABELS,
        days_left=days_left,
    )


@bp.get("/console/deadlines")
@requires(Permission.CASE_VIEW)
def deadlines() -> ResponseReturnValue:
    return _deadlines_page()


@bp.post("/console/deadlines/feed")
@requires(Permission.CASE_VIEW)
def issue_feed() -> ResponseReturnValue:
    require_action()
    session = get_session()
    token = service.issue_feed_token(session, current_user)
    session.commit()
    base = current_app.config["CSIRT"].base_url
    # Shown once: only the hash is kept.
    return _deadlines_page(feed_url=f"{base}{flask_url_for('triage.feed', token=token)}")


@bp.post("/console/deadlines/feed/revoke")
@requires(Permission.CASE_VIEW)
def revoke_feed() -> ResponseReturnValue:
    require_action()
    session = get_session()
    service.revoke_feed_token(session, current_user)
    session.commit()
    flash(_("The calendar feed URL no longer works."), "success")
    return redirect(flask_url_for("triage.deadlines"))


@bp.get("/console/deadlines.ics")
def feed() -> ResponseReturnValue:
    """Public endpoint (calendar apps cannot sign in): the secret token in the URL decides."""
    session = get_session()
    user = service.user_for_feed_token(session, request.args.get("token", ""))
    if user is None:
        abort(404)
    config = current_app.config["CSIRT"]
    host = config.base_url.split("://", 1)[-1].split("/", 1)[0] or "csirt"
    body = service.ical_feed(service.pending_deadlines(session, user), tz=config.tz, host=host)
    return current_app.response_class(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'inline; filename="deadlines.ics"'},
    )


def days_left(due: dt.datetime, now: dt.datetime) -> int:
    """Whole days from ``now`` to ``due`` (negative when overdue)."""
    return (due - now) // dt.timedelta(days=1)
