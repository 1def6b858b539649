"""Small response helpers shared by the API modules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Response, jsonify


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601 text of a date or date-time, or None."""
    return value.isoformat() if value is not None else None


def created(body: Any, location: str | None = None) -> Response:
    """A 201 with ``body`` as JSON (and a ``Location`` header when given)."""
    response = jsonify(body)
    response.status_code = 201
    if location is not None:
        response.headers["Location"] = location
    return response
