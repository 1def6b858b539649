"""Form pieces shared by every package's views."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from csirt.db import get_session


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something and needs only the CSRF token (delete, approve, run)."""


def require_action(form: type[FlaskForm] = ActionForm) -> None:
    """Refuse with 400 a button's POST whose form (by default only the CSRF token) is not valid."""
    if not form().validate_on_submit():
        abort(400)


def saved(message: str, endpoint: str, anchor: str = "", **values: Any) -> Response:
    """Commit the request's change, say ``message`` and go to ``endpoint`` (POST, then a
    redirect: the page shown after a form is saved)."""
    get_session().commit()
    flash(message, "success")
    return redirect(url_for(endpoint, **values) + anchor)
