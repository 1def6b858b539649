"""Form pieces shared by every package's views."""

from __future__ import annotations

from flask import abort
from flask_wtf import FlaskForm


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something and needs only the CSRF token (delete, approve, run)."""


def require_action(form: type[FlaskForm] = ActionForm) -> None:
    """Refuse with 400 a button's POST whose form (by default only the CSRF token) is not valid."""
    if not form().validate_on_submit():
        abort(400)
