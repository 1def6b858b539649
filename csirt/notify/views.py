"""Console pages: my notifications and my email preferences."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.db import get_session
from csirt.forms import ActionForm, require_action, saved
from csirt.notify import service
from csirt.notify.cli import reminders_group
from csirt.notify.messages import KINDS
from csirt.redirects import local_target

bp = Blueprint("notify", __name__, url_prefix="/console/notifications")

KIND_LABELS = {
    "page": _l("P1 page (on call)"),
    "escalation": _l("Escalated P1 page"),
    "assignment": _l("Assigned to a case"),
    "task_due": _l("Task due"),
    "deadline_due": _l("Legal deadline due"),
    "digest": _l("Daily digest"),
    "report_new": _l("New report at the intake"),
    "report_reply": _l("Reporter replied"),
    "report_due": _l("Answer to a reporter due"),
    "task_assigned": _l("Task assigned to you"),
    "mention": _l("Mentioned in a comment or note"),
    "approval_request": _l("Document awaits your approval"),
    "approved": _l("Your document was approved"),
    "approval_refused": _l("Your document was sent back"),
    "alert_new": _l("New machine alert"),
}


def init_app(app: Flask) -> None:
    """Install the mailer, the unread counter for the nav and the reminders commands (the count
    is read with the signed-in user: csirt.wiring.USER_COLUMNS)."""
    service.install(app)
    app.cli.add_command(reminders_group)

    def unread_notifications() -> int:
        user = current_user._get_current_object()
        if not user.is_authenticated:
            return 0
        return service.unread_count(get_session(), user.id)

    app.jinja_env.globals["unread_notifications"] = unread_notifications


def _local_path(target: str) -> str:
    return local_target(target, url_for("notify.index"))


@bp.get("/")
@requires(Permission.ACCOUNT)
def index() -> ResponseReturnValue:
    rows = service.recent(get_session(), current_user.id)
    return render_template("notify/index.html", rows=rows, form=ActionForm(), labels=KIND_LABELS)


@bp.post("/<int:notification_id>/open")
@requires(Permission.ACCOUNT)
def open_one(notification_id: int) -> ResponseReturnValue:
    require_action()
    session = get_session()
    try:
        row = service.mark_read(session, current_user.id, notification_id)
    except service.NotificationNotFoundError:
        abort(404)
    session.commit()
    assert row is not None
    return redirect(_local_path(row.link))


@bp.post("/read")
@requires(Permission.ACCOUNT)
def read_all() -> ResponseReturnValue:
    require_action()
    session = get_session()
    service.mark_read(session, current_user.id, None)
    return saved(_("All notifications marked as read."), "notify.index")


@bp.route("/preferences", methods=["GET", "POST"])
@requires(Permission.ACCOUNT)
def preferences() -> ResponseReturnValue:
    session = get_session()
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        chosen = set(request.form.getlist("email"))
        service.set_preferences(session, current_user.id, {k: k in chosen for k in KINDS})
        return saved(_("Your notification preferences were saved."), "notify.preferences")
    return render_template(
        "notify/preferences.html",
        form=form,
        prefs=service.preferences(session, current_user.id),
        labels=KIND_LABELS,
        has_email=bool(current_user.email),
    )
