"""Sign-in (password, then second factor), sign-out, and the user's own account page."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any

import segno
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
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response

from csirt.auth import service
from csirt.auth.access import current_actor, requires
from csirt.auth.credentials import current_hashing, lockout, password_matches
from csirt.auth.forms import (
    ConfirmForm,
    LoginForm,
    PasswordChangeForm,
    SecondFactorForm,
    TokenForm,
    TotpSetupForm,
    password_messages,
)
from csirt.auth.models import ApiToken, User
from csirt.auth.permissions import Permission
from csirt.auth.reauth import reauth_required, safe_next
from csirt.db import get_session, utcnow
from csirt.intake import staff_keys
from csirt.intake.escrow import Escrow
from csirt.ratelimit import RateLimiter

bp = Blueprint("auth", __name__, url_prefix="/console")

PENDING_MINUTES = 5
_LOCKED_MESSAGE = _l(
    "This account is locked for a while after repeated failures. "
    "Try again later or ask an administrator to unlock it."
)


@bp.record_once
def _install_limiters(state: BlueprintSetupState) -> None:
    # Per-username and per-client throttles, in memory only (see csirt.ratelimit).
    state.app.extensions["csirt.login_limits"] = (
        RateLimiter(limit=10, window=300),
        RateLimiter(limit=30, window=300),
    )


DEVICE_COOKIE = "csirt_device"
DEVICE_DAYS = 180


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="csirt-known-device")


def _device_value(user: User) -> list[Any]:
    # Tied to the password: a password change forgets every known browser.
    return [user.id, user.password_changed_at.isoformat()]


def _known_device(user: User | None) -> bool:
    """Tell whether this browser signed in to ``user``'s account before (signed cookie).

    A known browser is not held by the account's lockout and has its own throttle: someone
    else's failures never keep the owner out (OWASP "device cookies").
    """
    raw = request.cookies.get(DEVICE_COOKIE)
    if user is None or not raw:
        return False
    try:
        value = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return False
    return bool(value == _device_value(user))


def _remember_device(response: Response, user: User) -> Response:
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps(_device_value(user)),
        max_age=DEVICE_DAYS * 86400,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
        path="/console",
    )
    return response


def _address_trusted() -> bool:
    """A client address can be told apart only behind a configured proxy or without one.

    Behind a proxy that is not configured (``CSIRT_TRUSTED_PROXIES`` unset, or an app that
    serves the intake too) every client arrives from the proxy's loopback address: throttling
    by it would lock everyone out.
    """
    if current_app.extensions.get("csirt.trusted_proxies"):
        return True  # ProxyFix has put the client's own address in remote_addr
    address = request.remote_addr or ""
    try:
        return not ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _throttled(username: str, *, known_device: bool = False) -> bool:
    """Per account (a known browser has a bucket of its own) and, where addresses can be told
    apart, per client address. In memory only, digests of the keys (csirt.ratelimit)."""
    per_user, per_client = current_app.extensions["csirt.login_limits"]
    key = username.lower() + ("\0known" if known_device else "")
    if not per_user.hit(key):
        return True
    return _address_trusted() and not per_client.hit(request.remote_addr or "-")


def _clear_session() -> None:
    """Forget everything but the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _start_session(user: User, method: str) -> Response:
    db_session = get_session()
    service.complete_login(db_session, user, method=method)
    locked_at = service.take_lockout_notice(user)
    must_enrol = service.totp_required(db_session, user) and not user.totp_enabled
    db_session.commit()
    target = safe_next(session.pop("pending_next", None))
    vault_entries = staff_keys.carry(session)
    _clear_session()  # a fresh session on every sign-in: no fixation
    login_user(user)
    staff_keys.restore(session, vault_entries)
    now = utcnow().isoformat()
    session["auth_at"] = now
    session["seen_at"] = now
    if locked_at is not None:
        flash(
            _(
                "Your account was locked on %(when)s after repeated failed sign-ins. If that "
                "was not you, change your password and tell an administrator.",
                when=format_datetime(locked_at, "medium"),
            ),
            "warning",
        )
    if must_enrol:
        session["must_enrol_totp"] = True
        return _remember_device(redirect(url_for("auth.totp_setup")), user)
    return _remember_device(redirect(target), user)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("console.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        db_session = get_session()
        known = _known_device(service.get_user(db_session, username))
        if _throttled(username, known_device=known):
            flash(_("Too many attempts. Wait a few minutes and try again."), "error")
            return render_template("auth/login.html", form=form), 429
        try:
            user = service.authenticate(
                db_session,
                current_hashing(),
                username,
                form.password.data,
                known_device=known,
                **lockout(),
            )
        except service.AccountLockedError:
            db_session.commit()
            flash(str(_LOCKED_MESSAGE), "error")
            return render_template("auth/login.html", form=form), 403
        except service.InvalidCredentialsError:
            db_session.commit()
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        db_session.commit()
        config = current_app.config["CSIRT"]
        # Unwrap (or, the first time, create) the intake key while the password is at hand.
        unlocked = staff_keys.unlock_at_login(
            db_session,
            user,
            form.password.data,
            testing=config.testing,
            escrow=Escrow.from_config(config),
        )
        db_session.commit()
        next_target = request.args.get("next")
        if user.totp_enabled:
            _clear_session()
            staff_keys.store_in_cookie(session, unlocked)
            session["pending_user"] = user.id
            session["pending_at"] = utcnow().isoformat()
            session["pending_next"] = next_target
            return redirect(url_for("auth.login_totp"))
        session["pending_next"] = next_target
        staff_keys.store_in_cookie(session, unlocked)
        return _start_session(user, "password")
    return render_template("auth/login.html", form=form)


@bp.route("/login/verify", methods=["GET", "POST"])
def login_totp() -> ResponseReturnValue:
    user_id = session.get("pending_user")
    pending_at = session.get("pending_at")
    if (
        user_id is None
        or pending_at is None
        or utcnow() - datetime.fromisoformat(pending_at) > timedelta(minutes=PENDING_MINUTES)
    ):
        session.pop("pending_user", None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    db_session = get_session()
    user = db_session.get(User, int(user_id))
    if user is None or not user.active:
        session.clear()
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        known = _known_device(user)
        if _throttled(user.username, known_device=known):
            flash(_("Too many attempts. Wait a few minutes and try again."), "error")
            return render_template("auth/login_totp.html", form=form), 429
        if service.is_locked(user) and not known:
            session.clear()
            flash(str(_LOCKED_MESSAGE), "error")
            return redirect(url_for("auth.login"))
        try:
            method = service.verify_second_factor(
                db_session, current_hashing(), user, form.code.data, **lockout()
            )
        except service.InvalidCodeError:
            db_session.commit()
            flash(_("That code is not valid."), "error")
            return render_template("auth/login_totp.html", form=form), 401
        session.pop("pending_user", None)
        return _start_session(user, f"password+{method}")
    return render_template("auth/login_totp.html", form=form)


@bp.post("/logout")
@requires(Permission.ACCOUNT)
def logout() -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        db_session = get_session()
        staff_keys.end_session(db_session, session)
        # Server-side revocation: a copy of this cookie (or any other) no longer signs in.
        service.end_sessions(current_user._get_current_object())
        service.record_logout(db_session, current_user._get_current_object())
        db_session.commit()
        logout_user()
        _clear_session()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/account")
@requires(Permission.ACCOUNT)
def account() -> ResponseReturnValue:
    tokens = (
        get_session()
        .scalars(
            select(ApiToken)
            .where(ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
        .all()
    )
    return render_template(
        "auth/account.html",
        password_form=PasswordChangeForm(),
        token_form=TokenForm(),
        confirm_form=ConfirmForm(),
        tokens=tokens,
        totp_required=service.totp_required(get_session(), current_user),
    )


@bp.post("/account/password")
@requires(Permission.ACCOUNT)
def change_password() -> ResponseReturnValue:
    form = PasswordChangeForm()
    db_session = get_session()
    if form.validate_on_submit():
        if not password_matches(current_user.password_hash, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            try:
                service.set_password(
                    db_session,
                    current_hashing(),
                    current_user,
                    form.new.data,
                    actor=current_actor(),
                )
            except service.PasswordPolicyError as exc:
                form.new.errors.extend(password_messages(exc.reasons))
            else:
                staff_keys.rewrap_for_new_password(
                    current_user,
                    form.current.data,
                    form.new.data,
                    testing=current_app.config["CSIRT"].testing,
                )
                db_session.commit()
                login_user(current_user._get_current_object())  # new session id
                flash(_("Your password was changed. Other sessions were signed out."), "success")
                return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html",
        password_form=form,
        token_form=TokenForm(),
        confirm_form=ConfirmForm(),
        tokens=[],
        totp_required=service.totp_required(db_session, current_user),
    ), 400


@bp.route("/account/two-step", methods=["GET", "POST"])
@requires(Permission.ACCOUNT)
def totp_setup() -> ResponseReturnValue:
    db_session = get_session()
    if current_user.totp_enabled:
        flash(_("Two-step sign-in is already on."), "info")
        return redirect(url_for("auth.account"))
    seed = session.get("totp_seed") or service.new_totp_seed()
    session["totp_seed"] = seed
    form = TotpSetupForm()
    if form.validate_on_submit():
        try:
            codes = service.enable_totp(
                db_session, current_hashing(), current_user, seed, form.code.data
            )
        except service.InvalidCodeError:
            form.code.errors.append(_("That code does not match. Check the time on your phone."))
        else:
            db_session.commit()
            session.pop("totp_seed", None)
            session.pop("must_enrol_totp", None)
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = service.provisioning_uri(seed, current_user.username)
    qr_svg = segno.make(uri, error="m").svg_data_uri(scale=5)
    grouped = " ".join(seed[i : i + 4] for i in range(0, len(seed), 4))
    return render_template("auth/totp_setup.html", form=form, qr=qr_svg, seed=grouped, uri=uri)


@bp.post("/account/two-step/off")
@requires(Permission.ACCOUNT)
def totp_disable() -> ResponseReturnValue:
    db_session = get_session()
    if ConfirmForm().validate_on_submit():
        if service.totp_required(db_session, current_user):
            flash(_("Your role requires two-step sign-in; it cannot be turned off."), "error")
        else:
            service.disable_totp(db_session, current_user, actor=current_actor())
            db_session.commit()
            flash(_("Two-step sign-in is off."), "info")
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens")
@requires(Permission.ACCOUNT)
@reauth_required  # a token reaches the same data as the console: mint it only when fresh
def token_create() -> ResponseReturnValue:
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("Give the token a name and choose what it may do."), "error")
        return redirect(url_for("auth.account"))
    db_session = get_session()
    try:
        _token, plain = service.create_token(
            db_session,
            current_user,
            name=form.name.data,
            actor=current_actor(),
            scopes=form.scopes.data,
        )
    except service.AuthError:
        db_session.rollback()
        flash(_("Give the token a name and choose what it may do."), "error")
        return redirect(url_for("auth.account"))
    db_session.commit()
    return render_template("auth/token_created.html", token=plain)


@bp.post("/account/tokens/<int:token_id>/revoke")
@requires(Permission.ACCOUNT)
def token_revoke(token_id: int) -> ResponseReturnValue:
    db_session = get_session()
    token = db_session.get(ApiToken, token_id)
    if (
        ConfirmForm().validate_on_submit()
        and token is not None
        and (token.user_id == current_user.id)
    ):
        service.revoke_token(db_session, token, actor=current_actor())
        db_session.commit()
        flash(_("The token was revoked."), "info")
    return redirect(url_for("auth.account"))
