"""The case's "facts for documents" as JSON: what the console's form holds, for the API.

`to_json` gives every field; `validate` checks a body field by field (types, lengths, the
committee and recommendations, how data sets' counts are stated) and returns the values for
`service.save_context`, or raises DocumentValidationError naming each bad field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from csirt.documents.errors import DocumentValidationError
from csirt.documents.facts import PpcStage
from csirt.documents.models import DocumentContext
from csirt.documents.snapshot import COUNT_FORMS, LONG_TEXTS, SHORT_TEXTS

SHORT = 200
LONG = 20_000
MAX_ITEMS = 50

LISTS = ("causes", "findings")
FIELDS = (
    *SHORT_TEXTS,
    *LONG_TEXTS,
    *LISTS,
    "staff_age",
    "ppc_stage",
    "committee",
    "recommendations",
    "contact",
    "datasets",
)
_COMMITTEE_TEXTS = ("name", "mandate", "independence", "scope", "method")

_text = {"type": "string"}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **{k: {"type": "string", "maxLength": SHORT} for k in SHORT_TEXTS},
        **{k: {"type": "string", "maxLength": LONG} for k in LONG_TEXTS},
        **{k: {"type": "array", "maxItems": MAX_ITEMS, "items": {"type": "string"}} for k in LISTS},
        "staff_age": {"type": "integer", "minimum": 15, "maximum": 100, "nullable": True},
        "ppc_stage": {"type": "string", "enum": [s.value for s in PpcStage]},
        "committee": {
            "type": "object",
            "nullable": True,
            "properties": {
                **dict.fromkeys(_COMMITTEE_TEXTS, _text),
                "period_start": {"type": "string", "format": "date"},
                "period_end": {"type": "string", "format": "date"},
                "members": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": _text, "affiliation": _text, "role": _text},
                    },
                },
                "meetings": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "day": {"type": "string", "format": "date"},
                            "summary": _text,
                        },
                    },
                },
            },
        },
        "recommendations": {
            "type": "array",
            "maxItems": MAX_ITEMS,
            "items": {
                "type": "object",
                "properties": {
                    "number": {"type": "integer"},
                    "title": _text,
                    "text": _text,
                    "owner": _text,
                    "finding": _text,
                },
            },
        },
        "contact": {
            "type": "object",
            "description": "overrides of the organisation's contact for this case",
            "properties": {"department": _text, "phone": _text, "email": _text},
        },
        "datasets": {
            "type": "object",
            "description": "per data set id: how its count is stated (exact, approx, max) and "
            "the id of the data set whose persons include it (not added to the total)",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "count": {"type": "string", "enum": list(COUNT_FORMS)},
                    "overlaps": {"type": "integer", "nullable": True},
                },
            },
        },
    },
}


def to_json(context: DocumentContext) -> dict[str, Any]:
    """Every field of the case's facts for documents."""
    data: dict[str, Any] = {k: getattr(context, k) or "" for k in (*SHORT_TEXTS, *LONG_TEXTS)}
    data.update({k: list(getattr(context, k) or []) for k in LISTS})
    data["staff_age"] = context.staff_age
    data["ppc_stage"] = context.ppc_stage or PpcStage.PRELIMINARY.value
    data["committee"] = context.committee or None
    data["recommendations"] = list(context.recommendations or [])
    data["contact"] = dict(context.contact or {})
    data["datasets"] = dict(context.datasets or {})
    return data


def _date(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _strings(value: object, keys: tuple[str, ...], limit: int = LONG) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(k, ""), str) and len(value.get(k, "")) <= limit for k in keys
    )


def validate(body: dict[str, Any], dataset_ids: set[int]) -> dict[str, Any]:
    """The values to save, or DocumentValidationError naming each bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key, value in body.items():
        if key not in FIELDS:
            errors[key] = "unknown field"
        elif key in SHORT_TEXTS or key in LONG_TEXTS:
            limit = SHORT if key in SHORT_TEXTS else LONG
            if not isinstance(value, str) or len(value) > limit:
                errors[key] = f"must be a string of at most {limit} characters"
            else:
                values[key] = value.strip().replace("\r\n", "\n")
        elif key in LISTS:
            if (
                not isinstance(value, list)
                or len(value) > MAX_ITEMS
                or not all(isinstance(v, str) and len(v) <= LONG for v in value)
            ):
                errors[key] = f"must be a list of at most {MAX_ITEMS} strings"
            else:
                values[key] = [v.strip() for v in value if v.strip()]
        elif key == "staff_age":
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not 15 <= value <= 100
            ):
                errors[key] = "must be an integer from 15 to 100, or null"
            else:
                values[key] = value
        elif key == "ppc_stage":
            if not isinstance(value, str) or value not in {s.value for s in PpcStage}:
                errors[key] = "must be preliminary or final"
            else:
                values[key] = value
        elif key == "committee":
            error = _committee_error(value)
            if error:
                errors[key] = error
            else:
                values[key] = value
        elif key == "recommendations":
            if (
                not isinstance(value, list)
                or len(value) > MAX_ITEMS
                or not all(
                    _strings(r, ("title", "text", "owner", "finding"))
                    and isinstance(r.get("number", 0), int)
                    and not isinstance(r.get("number", 0), bool)
                    for r in value
                )
            ):
                errors[key] = "must be a list of {number, title, text, owner, finding}"
            else:
                values[key] = value
        elif key == "contact":
            if not _strings(value, ("department", "phone", "email"), SHORT) or set(value) - {
                "department",
                "phone",
                "email",
            }:
                errors[key] = "must be an object of department, phone, email (strings)"
            else:
                values[key] = value
        elif key == "datasets":
            error = _datasets_error(value, dataset_ids)
            if error:
                errors[key] = error
            else:
                values[key] = value
    if errors:
        raise DocumentValidationError(errors)
    return values


def _committee_error(value: object) -> str:
    if value is None:
        return ""
    if not _strings(value, _COMMITTEE_TEXTS):
        return "must be an object with name, mandate, independence, scope, method (strings)"
    assert isinstance(value, dict)
    if not value.get("name"):
        return "needs a name"
    if not (_date(value.get("period_start")) and _date(value.get("period_end"))):
        return "needs period_start and period_end (YYYY-MM-DD)"
    if value["period_end"] < value["period_start"]:
        return "period_end must not be before period_start"
    members = value.get("members", [])
    if not isinstance(members, list) or not all(
        _strings(m, ("name", "affiliation", "role"), SHORT) for m in members
    ):
        return "members must be a list of {name, affiliation, role}"
    meetings = value.get("meetings", [])
    if not isinstance(meetings, list) or not all(
        _strings(m, ("summary",)) and _date(m.get("day")) for m in meetings
    ):
        return "meetings must be a list of {day (YYYY-MM-DD), summary}"
    return ""


def _datasets_error(value: object, dataset_ids: set[int]) -> str:
    if not isinstance(value, dict):
        return "must be an object of data set id to {count, overlaps}"
    for key, form in value.items():
        if not key.isdigit() or int(key) not in dataset_ids:
            return f"{key} is not a data set of this case"
        if not isinstance(form, dict) or set(form) - {"count", "overlaps"}:
            return f"{key}: must be an object of count and overlaps"
        if form.get("count", "exact") not in COUNT_FORMS:
            return f"{key}: count must be one of {', '.join(COUNT_FORMS)}"
        overlaps = form.get("overlaps")
        if overlaps is not None and (
            not isinstance(overlaps, int) or overlaps not in dataset_ids or overlaps == int(key)
        ):
            return f"{key}: overlaps must be the id of another data set of this case"
    return ""
