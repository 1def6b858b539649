"""CaseFacts as JSON and back, so that an approved version keeps the facts it was approved with.

The encoding follows the dataclasses of `csirt.documents.facts` field by field: dates and
datetimes as ISO strings (datetimes keep their offset), enums as their values, tuples as lists,
NamedTuples as lists. Decoding reads the type hints, so a field added to CaseFacts later needs a
default (old snapshots lack it) and a removed field is ignored. The digest is the SHA-256 of the
canonical JSON: two snapshots with the same digest build the same document.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import types
import typing
from datetime import date, datetime
from functools import cache
from typing import Any

from csirt.documents import facts as f

FORMAT = 1


class FrozenFactsError(ValueError):
    """A stored snapshot that cannot be read back as CaseFacts."""


def to_json(facts: f.CaseFacts) -> dict[str, Any]:
    """The facts as a JSON-ready dict (with a format number)."""
    return {"format": FORMAT, "facts": _encode(facts)}


def from_json(data: dict[str, Any]) -> f.CaseFacts:
    """The facts a `to_json` dict holds; FrozenFactsError if it is not one."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FrozenFactsError("not a frozen CaseFacts snapshot of a known format")
    try:
        value = _decode(data.get("facts"), f.CaseFacts)
    except (TypeError, ValueError, KeyError) as error:
        raise FrozenFactsError(str(error)) from error
    assert isinstance(value, f.CaseFacts)
    return value


def canonical(data: dict[str, Any]) -> bytes:
    """The canonical JSON bytes of a snapshot (sorted keys, no spaces, UTF-8)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(data: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a snapshot."""
    return hashlib.sha256(canonical(data)).hexdigest()


def facts_digest(facts: f.CaseFacts, *, ignore_date: bool = False) -> str:
    """SHA-256 of the facts' snapshot; `ignore_date` leaves the document date out (to tell
    whether the case's facts changed, whatever day it is)."""
    data = to_json(facts)
    if ignore_date:
        data["facts"] = {k: v for k, v in data["facts"].items() if k != "document_date"}
    return digest(data)


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in CaseFacts")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _encode(getattr(value, field.name)) for field in _fields(type(value))}
    if isinstance(value, tuple | list):  # NamedTuples too: their fields are positional
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot freeze a {type(value).__name__}")


@cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return tuple(field for field in dataclasses.fields(cls) if field.init)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(f))


def _decode(value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _decode(value, options[0])
    if origin is tuple:
        if not isinstance(value, list):
            raise TypeError(f"expected a list for {hint}")
        args = typing.get_args(hint)
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else None
        if item is None:
            return tuple(_decode(v, a) for v, a in zip(value, args, strict=True))
        return tuple(_decode(v, item) for v in value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise TypeError(f"expected an object for {hint.__name__}")
        hints = _hints(hint)
        kwargs = {
            field.name: _decode(value[field.name], hints[field.name])
            for field in _fields(hint)
            if field.name in value
        }
        return hint(**kwargs)
    if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields"):
        hints = typing.get_type_hints(hint)
        names = hint._fields
        if not isinstance(value, list) or len(value) != len(names):
            raise TypeError(f"expected {len(names)} values for {hint.__name__}")
        return hint(*(_decode(v, hints[n]) for v, n in zip(value, names, strict=True)))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if hint is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime in a frozen snapshot")
        return parsed
    if hint is date:
        return date.fromisoformat(value)
    if hint in (str, int, float, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise TypeError(f"expected {hint.__name__}, got {type(value).__name__}")
        return value
    raise TypeError(f"cannot thaw a {hint!r}")
