"""Re-authentication for sensitive actions (identity requests and decisions, roles, exports).

Decorate a console view with :func:`reauth_required` (under ``@requires``): unless the user
entered their password (and second factor, when on) within the last ``CSIRT_REAUTH_MINUTES``
(default 10) minutes, they are sent to ``reauth.confirm`` (the page, in
:mod:`csirt.auth.reauth_views`) and back. Signing in counts as entering them. API requests are
bearer-token only and cannot re-authenticate: a decorated API view answers 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _

from csirt.auth.access import is_api_request
from csirt.db import utcnow
from csirt.redirects import local_target

F = TypeVar("F", bound=Callable[..., Any])

REAUTH_AT = "reauth_at"
REAUTH_FAILURES = "reauth_failures"


def reauth_minutes() -> int:
    """How long a re-authentication stays fresh (``CSIRT_REAUTH_MINUTES``, default 10)."""
    minutes: int = current_app.config["CSIRT"].reauth_minutes
    return minutes


def recently_authenticated(now: datetime | None = None) -> bool:
    """Tell whether this session entered its credentials within the re-authentication window."""
    now = now or utcnow()
    stamps = [session.get("auth_at"), session.get(REAUTH_AT)]
    times = [datetime.fromisoformat(s) for s in stamps if isinstance(s, str)]
    return any(now - t <= timedelta(minutes=reauth_minutes()) for t in times)


def safe_next(target: str | None) -> str:
    """``target`` if it is a console path on this host, else the dashboard."""
    return local_target(target, url_for("console.dashboard"), prefix="/console")


def _return_target() -> str:
    rule = request.url_rule
    if request.method == "GET" or (rule is not None and "GET" in (rule.methods or set())):
        return request.full_path.rstrip("?")
    # A POST-only action cannot be replayed by a redirect: go back where its form said.
    return safe_next(request.form.get("reauth_next"))


def reauth_required(view: F) -> F:
    """Send the user to re-enter their credentials unless they did so within the window."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if is_api_request():
            from csirt.api.problems import problem

            return problem(403, "Forbidden", "this action needs re-authentication in the console")
        if recently_authenticated():
            return view(*args, **kwargs)
        flash(_("Please confirm your identity to continue."), "info")
        return redirect(url_for("reauth.confirm", next=_return_target()))

    return cast(F, wrapper)
