"""Size and nesting limits for every JSON body the API accepts, checked in one place.

A ``before_request`` hook on the app (installed by :mod:`csirt.api.views`, present on every
interface) looks at each ``/api/`` request before any view parses it: a JSON body larger than
``CSIRT_API_MAX_JSON_KB`` (default 1024) is a 413, and one nested deeper than
:data:`MAX_DEPTH` a 400 problem, so that ``json.loads`` never recurses far enough to fail
with a 500. The JSON ``document`` part of a multipart body (the intake API) is held to the same
depth.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from flask import Flask, Response, current_app, request

from csirt.api.problems import problem

MAX_DEPTH = 32


def json_depth(raw: bytes | str) -> int:
    """The deepest nesting of arrays and objects in a JSON text; 0 if it is not JSON.

    Nesting too deep for the parser itself counts as deeper than any limit.
    """
    try:
        value = json.loads(raw)
    except RecursionError:
        return sys.maxsize
    except ValueError:
        return 0  # not JSON: the view answers that in its own words
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:  # iterative: no recursion on what the client sent
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in node)
    return deepest


def max_json_bytes() -> int:
    kilobytes: int = current_app.config["CSIRT"].api_max_json_kb
    return kilobytes * 1024


def _too_deep() -> Response:
    return problem(
        400, "Bad Request", f"JSON nested deeper than {MAX_DEPTH} levels", kind="json-too-deep"
    )


def check_body() -> Response | None:
    """Refuse an API request whose JSON is too large or too deeply nested."""
    if not request.path.startswith("/api/") or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.is_json:
        limit = max_json_bytes()
        if (request.content_length or 0) > limit:
            return problem(413, "Content Too Large", f"JSON bodies are limited to {limit} bytes")
        raw = request.get_data(cache=True)
        if len(raw) > limit:
            return problem(413, "Content Too Large", f"JSON bodies are limited to {limit} bytes")
        if json_depth(raw) > MAX_DEPTH:
            return _too_deep()
    elif request.mimetype == "multipart/form-data":
        for value in request.form.values():
            if value[:1] in ("{", "[") and json_depth(value) > MAX_DEPTH:
                return _too_deep()
    return None


def init_app(app: Flask) -> None:
    app.before_request(check_body)
