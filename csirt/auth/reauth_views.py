"""The re-authentication page (``reauth.confirm``) that :func:`csirt.auth.reauth.reauth_required`
sends a user to: password (and second factor) again, then back where they were going."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth import service
from csirt.auth.access import current_actor, requires
from csirt.auth.permissions import Permission
from csirt.auth.reauth import REAUTH_AT, REAUTH_FAILURES, safe_next
from csirt.db import get_session, utcnow

bp = Blueprint("reauth", __name__, url_prefix="/console")


class ReauthForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[Optional(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text"},
    )
    next = StringField(validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Confirm"))


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
    hashing: service.Hashing = current_app.extensions["csirt.hashing"]
    ok = True
    try:
        hashing.hasher.verify(user.password_hash, form.password.data)
    except Exception:  # argon2 raises several kinds; all mean "wrong"
        ok = False
    if ok and user.totp_enabled:
        try:
            config = current_app.config["CSIRT"]
            service.verify_second_factor(
                db_session,
                hashing,
                user,
                form.code.data or "",
                max_failures=config.login_max_failures,
                lock_minutes=config.login_lock_minutes,
            )
        except service.InvalidCodeError:
            ok = False
    if not ok:
        return _failed(form)
    session[REAUTH_AT] = utcnow().isoformat()
    session.pop(REAUTH_FAILURES, None)
    audit.record(
        db_session,
        AuditAction.REAUTH_SUCCESS,
        actor=current_actor(),
        object_type="user",
        object_id=user.id,
    )
    db_session.commit()
    return redirect(safe_next(form.next.data))


def _failed(form: ReauthForm) -> ResponseReturnValue:
    db_session = get_session()
    failures = int(session.get(REAUTH_FAILURES, 0)) + 1
    session[REAUTH_FAILURES] = failures
    audit.record(
        db_session,
        AuditAction.REAUTH_FAILURE,
        actor=current_actor(),
        object_type="user",
        object_id=current_user.id,
        details={"failures": failures},
    )
    db_session.commit()
    if failures >= current_app.config["CSIRT"].login_max_failures:
        # Someone at an unattended, signed-in screen guessing: end the session.
        logout_user()
        session.clear()
        flash(_("Too many failed confirmations. You have been signed out."), "error")
        return redirect(url_for("auth.login"))
    form.password.errors.append(_("That did not match. Try again."))
    return render_template("auth/reauth.html", form=form), 401
