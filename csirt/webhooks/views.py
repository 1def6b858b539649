"""Console (admin): outgoing webhooks, each with its delivery log."""

from __future__ import annotations

from typing import Any

import flask
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from csirt.api.pagination import row_id
from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases.forms import TLP_LABELS
from csirt.db import get_session
from csirt.forms import ActionForm
from csirt.web import missing_is_404
from csirt.webhooks import service
from csirt.webhooks.cli import webhooks_group
from csirt.webhooks.forms import EVENT_LABELS, WebhookForm
from csirt.webhooks.models import Webhook

bp = Blueprint("webhooks", __name__, url_prefix="/console/webhooks")


def init_app(app: flask.Flask) -> None:
    """The ``csirt webhooks`` commands."""
    app.cli.add_command(webhooks_group)


def _hook_or_404(webhook_id: int) -> Webhook:
    with missing_is_404(service.WebhookNotFoundError):
        return service.get_webhook(get_session(), webhook_id)


def _input(form: WebhookForm) -> service.WebhookInput:
    return service.WebhookInput(
        name=form.name.data or "",
        url=form.url.data or "",
        events=list(form.events.data or []),
        max_tlp=form.max_tlp.data or "green",
        secret=form.secret.data or None,
        active=bool(form.active.data),
    )


def _save(form: WebhookForm, hook: Webhook | None) -> Webhook | None:
    """Create or change the webhook from a valid form; None (with field errors) if refused."""
    session = get_session()
    secret_key = flask.current_app.config["CSIRT"].secret_key
    try:
        if hook is None:
            hook = service.create_webhook(
                session, _input(form), current_user, secret_key=secret_key
            )
        else:
            service.update_webhook(session, hook, _input(form), current_user, secret_key=secret_key)
    except service.WebhookValidationError as error:
        session.rollback()
        for name, message in error.errors.items():
            getattr(form, name, form.name).errors.append(message)
        return None
    session.commit()
    return hook


def _page(template: str, status: int = 200, **values: Any) -> ResponseReturnValue:
    return render_template(
        template, event_labels=EVENT_LABELS, tlp_labels=TLP_LABELS, **values
    ), status


@bp.route("/", methods=["GET", "POST"])
@requires(Permission.WEBHOOK_MANAGE)
def index() -> ResponseReturnValue:
    form = WebhookForm()
    if form.validate_on_submit():
        if not form.secret.data:
            form.secret.errors.append(_("Give a signing secret of at least 16 characters."))
        elif _save(form, None) is not None:
            flash(_("The webhook was added."), "success")
            return redirect(url_for("webhooks.index"))
    status = 400 if form.is_submitted() else 200
    hooks = service.list_webhooks(get_session())
    return _page("alerts/webhooks.html", status, hooks=hooks, form=form)


@bp.route("/<int:webhook_id>", methods=["GET", "POST"])
@requires(Permission.WEBHOOK_MANAGE)
def detail(webhook_id: int) -> ResponseReturnValue:
    session = get_session()
    hook = _hook_or_404(webhook_id)
    form = WebhookForm(obj=hook if request.method == "GET" else None)
    if form.validate_on_submit() and _save(form, hook) is not None:
        flash(_("The webhook was saved."), "success")
        return redirect(url_for("webhooks.detail", webhook_id=hook.id))
    rows, next_id = service.deliveries(session, hook, cursor=row_id(request.args.get("cursor", "")))
    status = 400 if form.is_submitted() else 200
    return _page(
        "alerts/webhook.html",
        status,
        hook=hook,
        form=form,
        rows=rows,
        next_id=next_id,
        delete_form=ActionForm(),
    )


@bp.post("/<int:webhook_id>/delete")
@requires(Permission.WEBHOOK_MANAGE)
def delete(webhook_id: int) -> ResponseReturnValue:
    session = get_session()
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    service.delete_webhook(session, _hook_or_404(webhook_id), current_user)
    session.commit()
    flash(_("The webhook was removed."), "success")
    return redirect(url_for("webhooks.index"))
