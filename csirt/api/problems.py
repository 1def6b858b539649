"""RFC 9457 problem details: every API error is JSON with a 4xx (or 5xx) status."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

PROBLEM_TYPE_BASE = "https://csirt.invalid/problems/"


def problem(
    status: int,
    title: str,
    detail: str = "",
    *,
    kind: str | None = None,
    errors: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (kind or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def validation_problem(errors: dict[str, str]) -> Response:
    """422 naming each bad field."""
    return problem(
        422,
        "Unprocessable Content",
        "some fields are missing or invalid",
        kind="validation",
        errors=errors,
    )
