"""One schema per operation: pydantic models that validate a request and document it.

A request body is an :class:`ApiModel` (strict JSON types, unknown fields refused), a query string
a :class:`QueryModel` (strings converted, unknown parameters ignored). :func:`operation` (in
:mod:`csirt.api.openapi`) puts the same model in the OpenAPI document; :func:`read_body` and
:func:`read_query` validate with it and raise :class:`ApiValidationError`, which every API
blueprint answers with a 422 problem naming each field (:mod:`csirt.api.problems`).

The body size and nesting limits of :mod:`csirt.api.limits` run before any view, so a body that
reaches a model is already within them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from flask import current_app, request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import ErrorDetails

from csirt.dates import parse_instant

BODY_ATTR = "_csirt_body_model"
QUERY_ATTR = "_csirt_query_model"

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
NOT_AN_OBJECT = "must be a JSON object"


class ApiValidationError(Exception):
    """A request the API refuses with 422: ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)


class ApiModel(BaseModel):
    """A JSON request body: strict types (no "1" for 1, no "yes" for true), no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryModel(BaseModel):
    """Query parameters: text converted to the field's type; unknown parameters ignored."""

    model_config = ConfigDict(extra="ignore")


class LangQuery(QueryModel):
    """``?lang=``: the language of an answer's reasons and labels (see csirt.i18n)."""

    lang: Literal["ja", "en"] | None = Field(
        None, description="language of reasons and labels (default: the user's, else the server's)"
    )


def _instant(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("an ISO 8601 date-time with offset")
    try:
        return parse_instant(value, need_offset=True)
    except ValueError:
        raise ValueError("an ISO 8601 date-time with offset") from None


def _day(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError("a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("a date YYYY-MM-DD") from None


Instant = Annotated[
    datetime,
    PlainValidator(_instant),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An ISO 8601 date-time with an offset, within the range every backend stores."""

Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
"""A row id: within every backend's integer column (PostgreSQL: 32 bits)."""

Day = Annotated[date, PlainValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]


def _iso(value: date) -> str:  # a datetime is a date too
    return value.isoformat()


IsoTime = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A date-time in a response: ISO 8601 with its offset, as stored."""

IsoDay = Annotated[
    date,
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]


class ApiOut(BaseModel):
    """A response body read from a row's attributes: the model that documents the response is
    the one that writes it."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def dump(cls, row: Any, **values: Any) -> dict[str, Any]:
        """``row`` as JSON-ready data; ``values`` give the fields a row has no attribute for."""
        if not values:  # the same validation, reading the row's attributes in pydantic's core
            return cls.model_validate(row, from_attributes=True).model_dump(mode="json")
        data = {
            name: values[name] if name in values else getattr(row, name)
            for name in cls.model_fields
        }
        return cls.model_validate(data).model_dump(mode="json")


def field_errors(error: ValidationError) -> dict[str, str]:
    """Each failing field (dotted, e.g. ``datasets.0.persons``; a bad item of a list of plain
    values names the list) with a short reason; ``body`` when the body itself is wrong."""
    errors: dict[str, str] = {}
    for detail in error.errors(include_url=False):
        errors.setdefault(_field(detail), _reason(detail))
    return errors


def _field(detail: ErrorDetails) -> str:
    path = [str(part) for part in detail["loc"]]
    while path and isinstance(detail["loc"][len(path) - 1], int):
        path.pop()
    return ".".join(path) or "body"


_WORDS = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": NOT_AN_OBJECT,
    "model_attributes_type": NOT_AN_OBJECT,
    "json_type": NOT_AN_OBJECT,
    "json_invalid": NOT_AN_OBJECT,
}


def _reason(detail: ErrorDetails) -> str:
    """The house wording of a pydantic error (the console's forms say it the same way)."""
    kind = detail["type"]
    ctx = detail.get("ctx", {})
    if kind in _WORDS:
        return _WORDS[kind]
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    if kind in ("literal_error", "enum"):
        return "must be one of " + str(ctx.get("expected", "")).replace(" or ", ", ")
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "required"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind in ("too_short", "string_too_short"):
        return f"must have at least {ctx.get('min_length')}"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}"
    return detail["msg"]


def validate_json(model: type[M], raw: str | bytes, *, context: dict[str, Any] | None = None) -> M:
    """JSON text as ``model``, or :class:`ApiValidationError` (not an object: on ``body``).

    Validated from the text (not from parsed Python data) so that strict mode takes JSON's own
    types: an enum's value, a date-time string.
    """
    try:
        return model.model_validate_json(raw, context=context)
    except ValidationError as error:
        raise ApiValidationError(field_errors(error)) from None


def _declared(attr: str, model: type[BaseModel]) -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    declared = getattr(view, attr, None)
    # The model that validates must be the one the OpenAPI document shows.
    assert declared is model, f"{request.endpoint} declares {declared}, validates with {model}"


def read_body(
    model: type[M],
    *,
    context: dict[str, Any] | None = None,
    optional: bool = False,
) -> M:
    """The request's JSON body as ``model`` (declared by the view's :func:`operation`).

    ``optional``: an empty body is the model's defaults (for operations whose body may be left
    out). A body that is not JSON, or not an object, is a 422 on ``body``.
    """
    _declared(BODY_ATTR, model)
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return validate_json(model, "{}", context=context)
    if not request.is_json:
        raise ApiValidationError({"body": NOT_AN_OBJECT})
    return validate_json(model, raw, context=context)


def read_query(model: type[M]) -> M:
    """The query string as ``model`` (declared by the view's :func:`operation`); an empty value
    is the same as leaving the parameter out."""
    _declared(QUERY_ATTR, model)
    values = {k: v for k, v in request.args.items() if v != ""}
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ApiValidationError(field_errors(error)) from None


def read_body_with(model: type[M], domain: Callable[[dict[str, Any]], T]) -> tuple[M, T]:
    """The body checked by ``model`` (its shape: types, enums, lengths, required and unknown
    fields) and read by ``domain``, the package's own reader (the one its forms use too), which
    checks what only the domain knows (vocabulary items, date order, links to other rows).

    Both run on every request, so a 422 names every bad field at once; ``domain`` raises an
    error with an ``errors`` mapping. Returns the model and what ``domain`` read.
    """
    _declared(BODY_ATTR, model)
    raw = request.get_data(cache=True)
    if not request.is_json:
        raise ApiValidationError({"body": NOT_AN_OBJECT})
    errors: dict[str, str] = {}
    body: M | None = None
    try:
        body = validate_json(model, raw)
    except ApiValidationError as error:
        if "body" in error.errors:
            raise
        errors = error.errors
    try:
        value = domain(parse_json_object(raw))
    except Exception as error:  # the domain's named validation error
        found = getattr(error, "errors", None)
        if not isinstance(found, dict):
            raise
        raise ApiValidationError({**found, **errors}) from None
    if body is None:
        raise ApiValidationError(errors)
    return body, value


def parse_json_object(raw: str | bytes) -> dict[str, Any]:
    """JSON text that must be an object (within the limits of :mod:`csirt.api.limits`)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise ApiValidationError({"body": NOT_AN_OBJECT})
    return value


def read_object() -> dict[str, Any]:
    """The request's JSON body as an object, for a body that a domain parser reads whole (its
    schema given by hand to :func:`operation` as ``request_body``)."""
    if not request.is_json:
        raise ApiValidationError({"body": NOT_AN_OBJECT})
    return parse_json_object(request.get_data(cache=True))
