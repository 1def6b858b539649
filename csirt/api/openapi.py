"""The OpenAPI document, built from the routes the app actually serves.

An API view describes itself with :func:`operation`; the document walks ``app.url_map`` so an
interface's document lists exactly its own routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

F = TypeVar("F", bound=Callable[..., Any])
OPENAPI_ATTR = "_csirt_openapi"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def operation(
    summary: str,
    *,
    responses: dict[str, Any] | None = None,
    request_body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    public: bool = False,
    tags: list[str] | None = None,
) -> Callable[[F], F]:
    """Describe an API view for the OpenAPI document."""

    def decorate(view: F) -> F:
        spec: dict[str, Any] = {"summary": summary, "responses": responses or {}}
        if request_body is not None:
            spec["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": request_body}},
            }
        if parameters:
            spec["parameters"] = parameters
        if public:
            spec["security"] = []
        if tags:
            spec["tags"] = tags
        setattr(view, OPENAPI_ATTR, spec)
        return view

    return decorate


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def build_document(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, OPENAPI_ATTR, None)
        if spec is None:
            continue
        path, path_params = _path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = dict(spec)
            op["operationId"] = f"{rule.endpoint}.{method.lower()}"
            op["parameters"] = path_params + list(spec.get("parameters", []))
            responses = dict(op["responses"])
            responses.setdefault(
                "4XX",
                {
                    "description": "Problem",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
            )
            op["responses"] = responses
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "csirt API",
            "version": "1",
            "description": "Incident-response case management. Errors are RFC 9457 problems.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": PROBLEM_SCHEMA},
        },
        "security": [{"bearer": []}],
    }
