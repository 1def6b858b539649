"""The OpenAPI 3.1 document, built from the routes the app actually serves.

An API view describes itself with :func:`operation`. Its request body and query string are
pydantic models (:mod:`csirt.api.schema`): the same model validates the request
(``read_body``/``read_query``) and, through ``model_json_schema()``, documents it here, so the
two cannot drift. Responses name a model class or a JSON Schema dict (a dict may hold model
classes anywhere; they are written inline, the models they nest as ``$ref`` to
``components/schemas``). The document walks
``app.url_map`` so an interface's document lists exactly its own routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel

from csirt.api.schema import BODY_ATTR, QUERY_ATTR

F = TypeVar("F", bound=Callable[..., Any])
OPENAPI_ATTR = "_csirt_openapi"
REF = "#/components/schemas/{model}"

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
PROBLEM_CONTENT: dict[str, Any] = {
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
}


def json_response(schema: type[BaseModel] | dict[str, Any], description: str = "OK") -> Any:
    """A response object whose JSON body is ``schema`` (a model class or a JSON Schema)."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def problem_response(description: str) -> dict[str, Any]:
    """A response object whose body is a problem."""
    return {"description": description, "content": PROBLEM_CONTENT}


def operation(
    summary: str,
    *,
    responses: dict[str, Any] | None = None,
    body: type[BaseModel] | None = None,
    request_body: dict[str, Any] | None = None,
    query: type[BaseModel] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    public: bool = False,
    tags: list[str] | None = None,
) -> Callable[[F], F]:
    """Describe an API view: ``body`` and ``query`` are the models that validate its request.

    ``request_body``: a JSON Schema for a body that a domain parser validates in its own words
    (the triage facts, the intake's questionnaire answers).
    """

    def decorate(view: F) -> F:
        spec: dict[str, Any] = {"summary": summary, "responses": responses or {}}
        schema = body if body is not None else request_body
        if schema is not None:
            spec["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        if body is not None:
            setattr(view, BODY_ATTR, body)
        if query is not None:
            setattr(view, QUERY_ATTR, query)
        spec["query"] = query
        if parameters:
            spec["parameters"] = parameters
        if public:
            spec["security"] = []
        if tags:
            spec["tags"] = tags
        setattr(view, OPENAPI_ATTR, spec)
        return view

    return decorate


class _Schemas:
    """Turns model classes into JSON Schemas and collects the models they nest as components."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}

    def model(self, model: type[BaseModel]) -> dict[str, Any]:
        """The model's JSON Schema, inline (readers of an operation see its fields at once);
        the models it nests go to ``components/schemas``."""
        schema = model.model_json_schema(ref_template=REF)
        self.components.update(schema.pop("$defs", {}))
        return schema

    def resolve(self, node: Any) -> Any:
        """``node`` with model classes as schemas and 3.0-style ``nullable`` as 3.1 types."""
        if isinstance(node, type) and issubclass(node, BaseModel):
            return self.model(node)
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: self.resolve(value) for key, value in node.items()}
        if out.pop("nullable", False):
            if isinstance(out.get("type"), str):
                out["type"] = [out["type"], "null"]
                if "enum" in out:
                    out["enum"] = [*out["enum"], None]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out

    def query_parameters(self, model: type[BaseModel]) -> list[dict[str, Any]]:
        schema = model.model_json_schema(ref_template=REF)
        self.components.update(schema.pop("$defs", {}))
        required = set(schema.get("required", []))
        params = []
        for name, prop in schema.get("properties", {}).items():
            prop = {k: v for k, v in prop.items() if k != "title"}
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
            }
            if "description" in prop:
                param["description"] = prop.pop("description")
            params.append(param)
        return params


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of ``app``'s API routes."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, OPENAPI_ATTR, None)
        if spec is None:
            continue
        path, path_params = _path(rule.rule)
        query = spec.get("query")
        query_params = schemas.query_parameters(query) if query is not None else []
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = {k: v for k, v in spec.items() if k != "query"}
            op["operationId"] = f"{rule.endpoint}.{method.lower()}"
            op["parameters"] = path_params + query_params + list(spec.get("parameters", []))
            responses = dict(op["responses"])
            responses.setdefault("4XX", problem_response("Problem"))
            op["responses"] = responses
            paths.setdefault(path, {})[method.lower()] = schemas.resolve(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "csirt API",
            "version": "1",
            "description": "Incident-response case management. Errors are RFC 9457 problems.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas.components,
        },
        "security": [{"bearer": []}],
    }
