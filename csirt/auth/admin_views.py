"""User administration: accounts, roles, unlocks, and which roles need a second factor."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth import service
from csirt.auth.access import current_actor, requires
from csirt.auth.credentials import current_hashing
from csirt.auth.forms import (
    AdminPasswordForm,
    ConfirmForm,
    SecurityForm,
    UserCreateForm,
    UserEditForm,
    password_messages,
)
from csirt.auth.models import User
from csirt.auth.permissions import Permission, Role
from csirt.auth.reauth import reauth_required
from csirt.db import get_session
from csirt.forms import saved
from csirt.intake import staff_keys
from csirt.intake.escrow import Escrow

bp = Blueprint("admin", __name__, url_prefix="/console/admin")


def _user_or_404(db_session: Session, user_id: int) -> User:
    user = db_session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _provide_keypair(db_session: Session, user: User, password: str) -> None:
    """An intake key pair for a key holder, wrapped under the password just set."""
    config = current_app.config["CSIRT"]
    staff_keys.provide_keypair(
        db_session,
        user,
        password,
        actor=current_actor(),
        escrow=Escrow.from_config(config),
        testing=config.testing,
    )


@bp.get("/users")
@requires(Permission.USER_MANAGE)
def users() -> ResponseReturnValue:
    rows = get_session().scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=rows, confirm_form=ConfirmForm())


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
@reauth_required
def user_new() -> ResponseReturnValue:
    form = UserCreateForm()
    if form.validate_on_submit():
        db_session = get_session()
        try:
            user = service.create_user(
                db_session,
                current_hashing(),
                form.username.data,
                form.password.data,
                [Role(r) for r in form.roles.data],
                actor=current_actor(),
                display_name=form.display_name.data or "",
                email=form.email.data or None,
                department=form.department.data or None,
            )
        except service.UserExistsError:
            form.username.errors.append(_("This username is taken."))
        except service.PasswordPolicyError as exc:
            form.password.errors.extend(password_messages(exc.reasons))
        except service.AuthError as exc:
            form.username.errors.append(str(exc))
        else:
            # The first password is known now: an intake key pair for intake and custodian roles.
            _provide_keypair(db_session, user, form.password.data)
            return saved(_("User %(name)s was created.", name=user.username), "admin.users")
        return render_template("admin/user_new.html", form=form), 400
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
@reauth_required
def user_edit(user_id: int) -> ResponseReturnValue:
    db_session = get_session()
    user = _user_or_404(db_session, user_id)
    form = UserEditForm(obj=user)
    if not form.is_submitted():
        form.roles.data = sorted(r.value for r in user.role_set)
        form.active.data = user.active
    if form.validate_on_submit():
        user.display_name = form.display_name.data or user.username
        user.email = form.email.data or None
        user.department = form.department.data or None
        service.set_active(db_session, user, bool(form.active.data), actor=current_actor())
        service.set_roles(
            db_session, user, [Role(r) for r in form.roles.data], actor=current_actor()
        )
        return saved(_("Saved."), "admin.users")
    return render_template(
        "admin/user_edit.html",
        form=form,
        user=user,
        confirm_form=ConfirmForm(),
        password_form=AdminPasswordForm(),
    )


@bp.post("/users/<int:user_id>/password")
@requires(Permission.USER_MANAGE)
@reauth_required
def user_password(user_id: int) -> ResponseReturnValue:
    """Reset someone's password; a key holder without a key pair gets one now."""
    db_session = get_session()
    user = _user_or_404(db_session, user_id)
    form = AdminPasswordForm()
    if not form.validate_on_submit():
        flash(_("Enter a new password."), "error")
        return redirect(url_for("admin.user_edit", user_id=user_id))
    try:
        service.set_password(
            db_session, current_hashing(), user, form.password.data, actor=current_actor()
        )
    except service.PasswordPolicyError as exc:
        db_session.rollback()
        flash(" ".join(password_messages(exc.reasons)), "error")
        return redirect(url_for("admin.user_edit", user_id=user_id))
    had_key = user.wrapped_private_key is not None
    _provide_keypair(db_session, user, form.password.data)
    db_session.commit()
    flash(_("The password of %(name)s was set.", name=user.username), "success")
    if had_key:
        flash(
            _(
                "Their intake key stays sealed under the old password: at their next sign-in "
                "they restore it with their recovery key or start a new key (Intake > Your "
                "intake key)."
            ),
            "info",
        )
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/unlock")
@requires(Permission.USER_MANAGE)
def user_unlock(user_id: int) -> ResponseReturnValue:
    db_session = get_session()
    user = _user_or_404(db_session, user_id)
    if ConfirmForm().validate_on_submit():
        service.unlock(db_session, user, actor=current_actor())
        return saved(_("The account was unlocked."), "admin.user_edit", user_id=user_id)
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/security", methods=["GET", "POST"])
@requires(Permission.SETTINGS_MANAGE)
@reauth_required
def security() -> ResponseReturnValue:
    db_session = get_session()
    form = SecurityForm()
    if not form.is_submitted():
        form.totp_roles.data = sorted(r.value for r in service.totp_required_roles(db_session))
    if form.validate_on_submit():
        service.set_totp_required_roles(
            db_session, [Role(r) for r in form.totp_roles.data], actor=current_actor()
        )
        return saved(_("Saved."), "admin.security")
    return render_template("admin/security.html", form=form)
