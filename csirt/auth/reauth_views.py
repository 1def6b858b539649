"""The re-authentication page (``reauth.confirm``) that :func:`csirt.auth.reauth.reauth_required`
sends a user to: password (and second factor) again, then back where they were going."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth import service
from csirt.auth.access import current_actor, requires
from csirt.auth.credentials import current_hashing, lockout, password_matches
from csirt.auth.forms import ReauthForm
from csirt.auth.permissions import Permission
from csirt.auth.reauth import REAUTH_AT, REAUTH_FAILURES, safe_next
from csirt.db import get_session, utcnow

bp = Blueprint("reauth", __name__, url_prefix="/console")


@bp.route("/reauth", methods=["GET", "POST"])
@requires(Permission.ACCOUNT)
def confirm() -> ResponseReturnValue:
    """Ask for the password (and second factor) again; remember the time in the session."""
    form = ReauthForm()
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("auth/reauth.html", form=form), status
    db_session = get_session()
    user = current_user._get_current_object()
    ok = password_matches(user.password_hash, form.password.data)
    if ok and user.totp_enabled:
        try:
            service.verify_second_factor(
                db_session, current_hashing(), user, form.code.data or "", **lockout()
            )
        except service.InvalidCodeError:
            ok = False
    if not ok:
        return _failed(form)
    session[REAUTH_AT] = utcnow().isoformat()
    session.pop(REAUTH_FAILURES, None)
    _record(db_session, AuditAction.REAUTH_SUCCESS)
    db_session.commit()
    return redirect(safe_next(form.next.data))


def _failed(form: ReauthForm) -> ResponseReturnValue:
    db_session = get_session()
    failures = int(session.get(REAUTH_FAILURES, 0)) + 1
    session[REAUTH_FAILURES] = failures
    _record(db_session, AuditAction.REAUTH_FAILURE, details={"failures": failures})
    db_session.commit()
    if failures >= lockout()["max_failures"]:
        # Someone at an unattended, signed-in screen guessing: end the session.
        logout_user()
        session.clear()
        flash(_("Too many failed confirmations. You have been signed out."), "error")
        return redirect(url_for("auth.login"))
    form.password.errors.append(_("That did not match. Try again."))
    return render_template("auth/reauth.html", form=form), 401


def _record(db_session: Session, action: AuditAction, **fields: Any) -> None:
    """Audit a confirmation by the signed-in user, about their own account."""
    audit.record(
        db_session,
        action,
        actor=current_actor(),
        object_type="user",
        object_id=current_user.id,
        **fields,
    )
