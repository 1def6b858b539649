"""One declaration per API operation: its route, the permission it needs and its OpenAPI
description, in place of three stacked decorators (``@bp.get``, ``@requires``, ``@operation``).

The operation's summary is the view's docstring (its first paragraph, on one line, without the
closing full stop), so the text a reader of the code sees is the one the API document shows.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint
from pydantic import BaseModel

from csirt.api import errors
from csirt.api.openapi import json_response, operation
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
        **spec: Any,
    ) -> Callable[[F], F]:
        """Register the view at ``rule`` for ``method``, needing ``permission`` (None: a public
        operation, declared ``public=True``). ``ok``/``created``: the JSON body of a 200/201;
        ``responses``: any other answers; ``spec``: the rest of :func:`operation` (``body``,
        ``query``, ``request_body``, ``parameters``, ``public``)."""
        needed = self.permission if isinstance(permission, _Default) else permission
        assert needed is not None or permission is None, f"{rule}: name the permission it needs"
        answers = dict(responses or {})
        if ok is not None:
            answers["200"] = _response(ok, "OK")
        if created is not None:
            answers["201"] = _response(created, "Created")

        def decorate(view: F) -> F:
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
