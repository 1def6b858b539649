"""One paging rule for every API list: ``limit`` 1-200 (default 50) and an opaque cursor.

A list's query model extends :class:`PageQuery`. The cursor a page hands out (``next_cursor``)
is opaque to clients: the list's name and its keyset position, base64url-encoded. A cursor that
does not decode, or that belongs to another list, is a 422 on ``cursor``, and a limit out of range
a 422 on ``limit``: never a silent clamp or a restart at the first page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import orjson
from flask import Response, jsonify
from pydantic import Field, field_validator

from csirt.api.schema import ApiValidationError, QueryModel

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_ID = 2_147_483_647
_SEP = "~"
BAD_CURSOR = "the next_cursor of a previous page"

T = TypeVar("T")
R = TypeVar("R")


class PageQuery(QueryModel):
    """``limit`` and ``cursor`` of a keyset-paginated list."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="items per page")
    cursor: str | None = Field(
        None, max_length=200, description="the next_cursor of the previous page (opaque)"
    )

    @field_validator("cursor")
    @classmethod
    def _a_cursor(cls, value: str | None) -> str | None:
        if value is not None and _unpack(value) is None:
            raise ValueError(BAD_CURSOR)
        return value

    def position(self, scope: str, parse: Callable[[str], T | None]) -> T | None:
        """The keyset position in the cursor, or None for the first page.

        ``parse`` turns the position text into the service's cursor, or returns None when the
        text is not one; a cursor of another list or a damaged one is a 422.
        """
        if self.cursor is None:
            return None
        text = decode_cursor(scope, self.cursor)
        value = parse(text) if text is not None else None
        if value is None:
            raise ApiValidationError({"cursor": BAD_CURSOR})
        return value


def encode_cursor(scope: str, position: str | int) -> str:
    """The opaque cursor for ``position`` in the list named ``scope``."""
    raw = f"{scope}{_SEP}{position}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unpack(cursor: str) -> tuple[str, str] | None:
    if not cursor.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    name, sep, position = raw.partition(_SEP)
    return (name, position) if sep else None


def decode_cursor(scope: str, cursor: str) -> str | None:
    """The position of a cursor of ``scope``, or None if it is not one."""
    unpacked = _unpack(cursor)
    return unpacked[1] if unpacked is not None and unpacked[0] == scope else None


def row_id(text: str) -> int | None:
    """A keyset position that is a row id (ASCII digits, within a 32-bit column)."""
    if text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ID:
        return int(text)
    return None


def page_response(
    scope: str,
    items: Iterable[R],
    to_json: Callable[[R], dict[str, Any]],
    next_position: str | int | None,
    **extra: Any,
) -> Response:
    """``{"items": [...], "next_cursor": ...}`` (plus ``extra`` members)."""
    next_cursor = encode_cursor(scope, next_position) if next_position is not None else None
    return jsonify(items=[to_json(item) for item in items], next_cursor=next_cursor, **extra)


def items_response(
    scope: str, items: list[dict[str, Any]], next_position: str | int | None
) -> Response:
    """What :func:`page_response` answers, for items that already hold the response's values
    (datetimes as they are): encoded by orjson in one call, without a pydantic round trip per
    item. Keys are sorted as ``jsonify`` sorts them and datetimes written in ISO 8601 with their
    offset, as ``IsoTime`` writes them.
    """
    next_cursor = encode_cursor(scope, next_position) if next_position is not None else None
    body = orjson.dumps({"items": items, "next_cursor": next_cursor}, option=orjson.OPT_SORT_KEYS)
    return Response(body + b"\n", mimetype="application/json")
