"""One declaration per API operation: its route, the permission it needs, its OpenAPI
description and its request models, in place of three stacked decorators (``@bp.get``,
``@requires``, ``@operation``) and a ``read_body``/``read_query`` in the view.

The operation's summary is the view's docstring (its first paragraph, on one line, without the
closing full stop), so the text a reader of the code sees is the one the API document shows.

The declared ``body``/``query`` model is read once, by the route (:func:`reading_request`), and
handed to the view as its ``body=``/``query=`` keyword: a view that takes a ``body`` (``query``)
parameter gets the parsed model and never reads it itself. The order of checks is therefore
always: the permission (the access hook, before any view: 401/403), then the request (422, the
same limits and problem bodies as :func:`read_body`/:func:`read_query`), then whatever the view
loads (a case: 404 when missing or out of need-to-know). A 422 depends only on the request, never
on a row, so answering it first reveals nothing.

A body that the domain checks as well (:func:`csirt.api.schema.read_body_with`: a case's tags
against the vocabulary, a named user) names the domain's reader in the declaration
(``checked_by=``); the view gets what it read as ``checked=``. One kind of view still reads its
body itself: one whose domain check needs a row the view loads first (a section against its
document, an event's evidence against its case). It declares ``body=`` for the document, takes
no ``body`` parameter, and calls ``read_body_with`` with the declared model (which asserts it is
the one declared). Views whose body may also be multipart (the intake's report and mailbox
reply) read it themselves too. ``tests/api/test_openapi.py`` lists these views: any other that
declares a model takes it as a parameter typed with that model.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint
from pydantic import BaseModel

from csirt.api import errors
from csirt.api.openapi import json_response, operation
from csirt.api.schema import read_body, read_body_with, read_query
from csirt.auth.access import requires
from csirt.auth.permissions import Permission

F = TypeVar("F", bound=Callable[..., Any])
Schema = type[BaseModel] | dict[str, Any]
Answer = Schema | tuple[Schema, str]
"""A response body's schema, or the schema and what the response is."""


class _Default(enum.Enum):
    BLUEPRINT = "the permission every operation of the blueprint needs"


Needs = Permission | None | _Default
"""An operation's permission: a member, None (a public operation) or, left out, the one given to
:meth:`ApiRoutes.blueprint` for all its operations."""
BLUEPRINT = _Default.BLUEPRINT


def summary_of(view: Callable[..., Any]) -> str:
    """The first paragraph of the view's docstring on one line, without a closing full stop."""
    paragraph = (inspect.getdoc(view) or "").split("\n\n")[0]
    summary = " ".join(paragraph.split())
    assert summary, f"API view {view.__name__} needs a docstring (its OpenAPI summary)"
    return summary.removesuffix(".")


def reading_request(
    view: F,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    *,
    optional_body: bool = False,
    checked_by: Callable[[dict[str, Any]], Any] | None = None,
) -> F:
    """``view`` given its declared request as keywords: ``query=`` the query string read by
    :func:`read_query`, ``body=`` the JSON body read by :func:`read_body` (``optional_body``: an
    empty body is the model's defaults), for each model declared that the view takes as a
    parameter. ``checked_by``: the domain's own reader of the body, run with the model by
    :func:`read_body_with` (one 422 naming every bad field); what it read is the view's
    ``checked=``. All read before the view runs, so a bad request is a 422 before any row is
    loaded. The view unchanged when it takes none."""
    takes = inspect.signature(view, follow_wrapped=False).parameters
    body_model = body if "body" in takes else None
    wants_checked = "checked" in takes
    query_model = query if "query" in takes else None
    assert body_model is not None or "body" not in takes, f"{view.__name__}: declare its body"
    assert query_model is not None or "query" not in takes, f"{view.__name__}: declare its query"
    assert checked_by is None or body_model is not None, f"{view.__name__}: checked_by, no body"
    assert checked_by is not None or not wants_checked, f"{view.__name__}: name its checked_by"
    if body_model is None and query_model is None:
        return view

    @functools.wraps(view)
    def read_then_call(**args: Any) -> Any:
        if query_model is not None:
            args["query"] = read_query(query_model)
        if checked_by is not None and body_model is not None:
            args["body"], checked = read_body_with(body_model, checked_by)
            if wants_checked:
                args["checked"] = checked
        elif body_model is not None:
            args["body"] = read_body(body_model, optional=optional_body)
        return view(**args)

    return cast(F, read_then_call)


def _response(answer: Answer, default: str) -> Any:
    schema, description = answer if isinstance(answer, tuple) else (answer, default)
    return json_response(schema, description)


class ApiRoutes:
    """The operations of one API blueprint, documented under one OpenAPI tag."""

    def __init__(self, bp: Blueprint, tag: str, permission: Permission | None = None) -> None:
        self.bp = bp
        self.tags = [tag]
        self.permission = permission

    @classmethod
    def blueprint(
        cls,
        name: str,
        import_name: str,
        url_prefix: str,
        tag: str,
        permission: Permission | None = None,
    ) -> ApiRoutes:
        """A new API blueprint (its ``bp``) whose domain errors answer as problems
        (:func:`csirt.api.errors.register`), its operations documented under ``tag``;
        ``permission``: what every operation needs unless it names its own."""
        bp = Blueprint(name, import_name, url_prefix=url_prefix)
        errors.register(bp)
        return cls(bp, tag, permission)

    def route(
        self,
        method: str,
        rule: str,
        permission: Needs = BLUEPRINT,
        *,
        ok: Answer | None = None,
        created: Answer | None = None,
        responses: dict[str, Any] | None = None,
        optional_body: bool = False,
        checked_by: Callable[[dict[str, Any]], Any] | None = None,
        **spec: Any,
    ) -> Callable[[F], F]:
        """Register the view at ``rule`` for ``method``, needing ``permission`` (None: a public
        operation, declared ``public=True``). ``ok``/``created``: the JSON body of a 200/201;
        ``responses``: any other answers; ``spec``: the rest of :func:`operation` (``body``,
        ``query``, ``request_body``, ``parameters``, ``public``). The declared ``body`` and
        ``query`` are read for the view (:func:`reading_request`; ``optional_body``: an empty
        body is the model's defaults; ``checked_by``: the domain's reader of the body, its result
        the view's ``checked=``)."""
        needed = self.permission if isinstance(permission, _Default) else permission
        assert needed is not None or permission is None, f"{rule}: name the permission it needs"
        answers = dict(responses or {})
        if ok is not None:
            answers["200"] = _response(ok, "OK")
        if created is not None:
            answers["201"] = _response(created, "Created")

        def decorate(view: F) -> F:
            view = reading_request(
                view,
                spec.get("body"),
                spec.get("query"),
                optional_body=optional_body,
                checked_by=checked_by,
            )
            operation(summary_of(view), tags=self.tags, responses=answers, **spec)(view)
            if needed is not None:
                requires(needed)(view)
            self.bp.add_url_rule(rule, view_func=view, methods=[method])
            return view

        return decorate

    def get(self, rule: str, permission: Needs = BLUEPRINT, **kw: Any) -> Callable[[F], F]:
        return self.route("GET", rule, permission, **kw)

    def post(self, rule: str, permission: Needs = BLUEPRINT, **kw: Any) -> Callable[[F], F]:
        return self.route("POST", rule, permission, **kw)

    def put(self, rule: str, permission: Needs = BLUEPRINT, **kw: Any) -> Callable[[F], F]:
        return self.route("PUT", rule, permission, **kw)

    def patch(self, rule: str, permission: Needs = BLUEPRINT, **kw: Any) -> Callable[[F], F]:
        return self.route("PATCH", rule, permission, **kw)

    def delete(self, rule: str, permission: Needs = BLUEPRINT, **kw: Any) -> Callable[[F], F]:
        return self.route("DELETE", rule, permission, **kw)
