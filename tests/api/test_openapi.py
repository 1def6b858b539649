"""The OpenAPI document of each interface is a valid OpenAPI 3.1 document (openapi-spec-validator),
and every operation's request model is the one that validates its requests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from openapi_spec_validator import validate

from csirt.api.openapi import OPENAPI_ATTR
from csirt.api.schema import BODY_ATTR, QUERY_ATTR


@pytest.mark.parametrize("interface", ["all", "console", "intake"])
def test_openapi_document_is_valid(make_app: Callable[[str], Flask], interface: str) -> None:
    document = make_app(interface).test_client().get("/api/v1/openapi.json").json
    assert document is not None
    validate(document)  # raises OpenAPIValidationError naming the first fault
    assert document["openapi"] == "3.1.0"
    assert document["paths"]


def test_body_and_query_models_are_documented(make_app: Callable[[str], Flask]) -> None:
    app = make_app("all")
    document = app.test_client().get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, OPENAPI_ATTR, None) is None:
            continue
        body = getattr(view, BODY_ATTR, None)
        if body is not None:
            assert body.__name__ in schemas, rule.rule
        query = getattr(view, QUERY_ATTR, None)
        if query is not None:
            path = "/" + "/".join(
                "{" + p.split(":")[-1].strip("<>") + "}" if p.startswith("<") else p
                for p in rule.rule.strip("/").split("/")
            )
            params = {
                p["name"]
                for op in document["paths"][path].values()
                for p in op["parameters"]
                if p["in"] == "query"
            }
            assert set(query.model_fields) <= params, rule.rule
