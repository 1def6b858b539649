"""Form pieces shared by every package's views."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something and needs only the CSRF token (delete, approve, run)."""
