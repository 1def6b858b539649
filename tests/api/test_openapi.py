"""The OpenAPI document of each interface is a valid OpenAPI 3.1 document (openapi-spec-validator),
and every operation's request model is the one that validates its requests."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy.orm import Session

from csirt.api.openapi import OPENAPI_ATTR, REF
from csirt.api.schema import BODY_ATTR, QUERY_ATTR
from csirt.auth import service as auth_service
from tests.factories import FACTORY, UserFactory


@pytest.mark.parametrize("interface", ["all", "console", "intake"])
def test_openapi_document_is_valid(make_app: Callable[[str], Flask], interface: str) -> None:
    document = make_app(interface).test_client().get("/api/v1/openapi.json").json
    assert document is not None
    validate(document)  # raises OpenAPIValidationError naming the first fault
    assert document["openapi"] == "3.1.0"
    assert document["paths"]


def _path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_body_and_query_models_are_what_the_document_shows(
    make_app: Callable[[str], Flask],
) -> None:
    """The model a view validates with is the schema its operation shows."""
    app = make_app("all")
    document = app.test_client().get("/api/v1/openapi.json").json
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, OPENAPI_ATTR, None) is None:
            continue
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        operations = {
            m: op for m, op in document["paths"][_path(rule.rule)].items() if m in methods
        }
        body = getattr(view, BODY_ATTR, None)
        if body is not None:
            for op in operations.values():
                shown = op["requestBody"]["content"]["application/json"]["schema"]
                schema = body.model_json_schema(ref_template=REF)
                schema.pop("$defs", None)  # nested models: in components/schemas
                assert shown == schema, rule.rule
                checked += 1
        query = getattr(view, QUERY_ATTR, None)
        if query is not None:
            params = {
                p["name"]
                for op in operations.values()
                for p in op["parameters"]
                if p["in"] == "query"
            }
            assert set(query.model_fields) <= params, rule.rule
            checked += 1
    assert checked >= 20


def test_the_documented_title_limit_is_the_enforced_one(
    client: FlaskClient, users: UserFactory, db_session: Session
) -> None:
    """The task's example of drift: the schema said nothing, the service cut at 200."""
    document = client.get("/api/v1/openapi.json").json
    post = document["paths"]["/api/v1/cases"]["post"]
    title = post["requestBody"]["content"]["application/json"]["schema"]["properties"]["title"]
    assert title["maxLength"] == 200
    lead = users.create(roles=["lead"]).user
    _token, plain = auth_service.create_token(db_session, lead, actor=FACTORY)
    db_session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    too_long = client.post("/api/v1/cases", json={"title": "x" * 201}, headers=headers)
    assert too_long.status_code == 422
    assert set(too_long.json["errors"]) == {"title"}
    assert (
        client.post("/api/v1/cases", json={"title": "x" * 200}, headers=headers).status_code == 201
    )


# Views that read their declared body themselves: with a domain reader that needs a row the view
# loads first (read_body_with) or from a multipart body as well (the intake).
READ_BY_THE_VIEW = {
    "api_cases.post_event",
    "api_documents.edit_sections",
    "api_intake.create_report",
    "api_intake.reply_mailbox",
    "api_inventory.patch_file",
    "api_measures.propose",
    "api_records.create_dataset",
    "api_records.create_inquiry",
    "api_records.create_liaison",
    "api_records.create_note",
    "api_records.create_takedown",
}


def test_the_declared_request_models_are_what_the_views_get(
    make_app: Callable[[str], Flask],
) -> None:
    """Structural: a view that declares ``body=``/``query=`` takes it as a keyword typed with
    that model (the route reads it, csirt.api.routes.reading_request), or is one of the few that
    read their body themselves, each with the declared model (read_body_with asserts it)."""
    app = make_app("all")
    injected = 0
    own = set()
    for endpoint, view in app.view_functions.items():
        for attr, name in ((BODY_ATTR, "body"), (QUERY_ATTR, "query")):
            model = getattr(view, attr, None)
            if model is None:
                continue
            inner = getattr(view, "__wrapped__", None)
            if (
                inner is None
                or name not in inspect.signature(inner, follow_wrapped=False).parameters
            ):
                own.add(endpoint)
                continue
            typed = inner.__annotations__[name]  # a name (from __future__ import annotations)
            assert issubclass(model, inner.__globals__[typed]), endpoint
            injected += 1
    assert own == READ_BY_THE_VIEW
    assert injected >= 40
