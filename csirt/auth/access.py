"""Deny by default: one ``before_request`` decides every request.

An endpoint is reachable without signing in only if it is named in :data:`PUBLIC_ENDPOINTS`.
Every other endpoint must declare the permission it needs with :func:`requires`; an endpoint
that declares nothing is refused to everyone, so a forgotten decorator fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, logout_user
from sqlalchemy import update
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth import service
from csirt.auth.models import ApiToken, User
from csirt.auth.permissions import Permission, Scope
from csirt.db import after_request_write, get_session, utcnow, write_step

F = TypeVar("F", bound=Callable[..., Any])

# The only endpoints anyone may reach without signing in.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "root",
        "set_language",
        "auth.login",
        "auth.login_totp",
        "api.health",
        "api.openapi",
        "intake.index",
        "intake.mailbox",
        "api_intake.create_report",
        "api_intake.read_mailbox",
        "api_intake.reply_mailbox",
        # The public follow-up of prevention measures (approved texts only).
        "measures_public.index",
        "measures_public.feed",
        # Calendar apps cannot sign in: a per-user secret token in the URL authenticates.
        "triage.feed",
        # The on-call feed: a per-user token, or a staff session checked in the view itself.
        "teams.oncall_ics",
    }
)

# What a user who must still enrol a second factor may reach.
ENROLMENT_ENDPOINTS = frozenset(
    {"auth.account", "auth.totp_setup", "auth.logout", "static", "set_language"}
)

PERMISSION_ATTR = "_csirt_permission"
EXPORT_ATTR = "_csirt_export"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare the permission a view needs; the access hook enforces it."""

    def decorate(view: F) -> F:
        setattr(view, PERMISSION_ATTR, permission)
        return view

    return decorate


def exports(view: F) -> F:
    """Mark an API view as an export: a bearer token needs the ``export`` scope for it."""
    setattr(view, EXPORT_ATTR, True)
    return view


def is_export(app: Flask, endpoint: str) -> bool:
    return bool(getattr(app.view_functions.get(endpoint), EXPORT_ATTR, False))


def required_scope(app: Flask, endpoint: str, method: str) -> Scope:
    """The token scope a request needs: export for exports, read for reads, else write."""
    if is_export(app, endpoint):
        return Scope.EXPORT
    return Scope.READ if method in READ_METHODS else Scope.WRITE


def _check_scope(endpoint: str) -> ResponseReturnValue | None:
    """Refuse a token request outside the token's scopes; audit every use of ``export``."""
    scopes: frozenset[Scope] | None = g.get("token_scopes")
    if scopes is None:
        return None  # not a token request
    needed = required_scope(current_app, endpoint, request.method)
    if needed not in scopes:
        with write_step(get_session()) as db_session:  # as _record_denial does
            audit.record(
                db_session,
                AuditAction.ACCESS_DENIED,
                actor=current_actor(),
                details={"endpoint": endpoint, "needs": f"scope:{needed.value}"},
            )
        return _deny(403, f"this token lacks the '{needed.value}' scope")
    if needed is Scope.EXPORT:
        # In the request's transaction: kept when the export happens (the view commits).
        audit.record(
            get_session(),
            AuditAction.TOKEN_SCOPE_USE,
            actor=current_actor(),
            object_type="api_token",
            object_id=g.get("token_id"),
            details={"scope": needed.value, "endpoint": endpoint, "path": request.path},
        )
    return None


def required_permission(app: Flask, endpoint: str) -> Permission | None:
    view = app.view_functions.get(endpoint)
    return cast(Permission | None, getattr(view, PERMISSION_ATTR, None))


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def current_actor() -> audit.Actor:
    """The signed-in staff member as an audit actor."""
    user = current_user._get_current_object()  # once, not through the proxy per attribute
    if user.is_authenticated:
        return audit.Actor(user.id, user.username)
    return audit.Actor(None, "anonymous")


def init_app(app: Flask, *, with_login: bool) -> None:
    """Install the deny-by-default hook; the console also gets staff sign-in."""
    app.before_request(_enforce)
    if not with_login:
        return
    login_manager = LoginManager()
    login_manager.login_view = "auth.login"
    login_manager.login_message = ""
    login_manager.init_app(app)

    @login_manager.user_loader
    def _load_from_session(user_id: str) -> User | None:
        if is_api_request():
            return None  # the API authenticates by token only (it is CSRF-exempt)
        ident, _sep, token = user_id.partition(":")
        if not (ident.isascii() and ident.isdigit()) or len(ident) > 10:
            return None
        user = service.load_user(get_session(), int(ident))  # one query: user and roles
        if user is None or not user.active or user.session_token != token:
            return None
        return user

    @login_manager.request_loader
    def _load_from_token(_request: Any) -> User | None:
        if not is_api_request():
            return None
        header = request.headers.get("Authorization", "")
        scheme, _sep, plain = header.partition(" ")
        if scheme.lower() != "bearer" or not plain.strip():
            return None
        token = service.valid_token(get_session(), plain.strip())  # one query: token, user, roles
        if token is None:
            return None
        g.token_scopes = token.scope_set
        g.token_id = token.id
        _record_token_use(token)
        return token.user


def _record_token_use(token: service.TokenUse) -> None:
    """Note when a token was last used, at most hourly, once the request's session is closed.

    Not in the request's own transaction (an API read would have to upgrade its read lock, which
    SQLite refuses once anyone else has written) and never in a second transaction while the
    request's is open (a write request holds the write lock: the second would wait on it until
    the busy timeout). Losing this bookkeeping is harmless.
    """
    token_id = service.token_use_to_record(token)
    if token_id is None:
        return
    used_at = utcnow()

    def touch(later: Session) -> None:
        later.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=used_at))

    after_request_write(touch)


def _deny(status: int, reason: str) -> ResponseReturnValue:
    if is_api_request():
        from csirt.api.problems import problem

        title = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Not Found")
        response = problem(status, title, reason)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="csirt"'
        return response
    abort(status)


def _record_denial(permission: Permission | None) -> None:
    # The request's own session (which has changed nothing yet), in a write step of its own:
    # a refused GET has read the user, and must not upgrade that read lock to write.
    with write_step(get_session()) as db_session:
        audit.record(
            db_session,
            AuditAction.ACCESS_DENIED,
            actor=current_actor(),
            details={
                "endpoint": request.endpoint,
                "needs": permission.value if permission else "undeclared",
            },
        )


def _session_expired() -> bool:
    config = current_app.config["CSIRT"]
    now = utcnow()
    auth_at = session.get("auth_at")
    seen_at = session.get("seen_at")
    if auth_at is None or seen_at is None:
        return True
    if now - datetime.fromisoformat(auth_at) > timedelta(hours=config.session_absolute_hours):
        return True
    return now - datetime.fromisoformat(seen_at) > timedelta(minutes=config.session_idle_minutes)


# How stale ``seen_at`` may get before it is written again. Writing it on every request would
# change the session, so Flask would sign and send a new cookie on every page. The idle check
# reads the stored (older) time, so it can only end a session up to this much *earlier*.
SEEN_AT_GRANULARITY = timedelta(seconds=60)


def _note_seen() -> None:
    now = utcnow()
    seen_at = session.get("seen_at")
    if seen_at is None or now - datetime.fromisoformat(seen_at) >= SEEN_AT_GRANULARITY:
        session["seen_at"] = now.isoformat()


def _enforce() -> ResponseReturnValue | None:
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no such route: let Flask answer 404/405
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if not hasattr(current_app, "login_manager"):
        return _deny(404, "not found")  # the intake has no staff routes at all
    user = current_user._get_current_object()  # loads the user (session or token) once
    if not user.is_authenticated:
        if is_api_request():
            return _deny(401, "a valid bearer token is required")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not is_api_request():
        if _session_expired():
            logout_user()
            session.clear()
            flash(_("Your session has expired. Please sign in again."), "info")
            return redirect(url_for("auth.login"))
        _note_seen()
        if session.get("must_enrol_totp") and endpoint not in ENROLMENT_ENDPOINTS:
            flash(_("Your role requires a second factor. Please set it up now."), "warning")
            return redirect(url_for("auth.totp_setup"))
    permission = required_permission(current_app, endpoint)
    if permission is None or not user.can(permission):
        _record_denial(permission)
        return _deny(403, "you do not have permission for this action")
    g.permission = permission
    if is_api_request():
        return _check_scope(endpoint)
    return None
