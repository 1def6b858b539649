"""Hypothesis strategies built from the app's own OpenAPI document (written by hand, no plugin).

``from_schema`` gives values that follow a JSON schema; ``near_valid`` breaks such a value in one
place (a field dropped, retyped, lengthened or added), where validation code tends to slip.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# C0 control characters other than tab, newline and carriage return. They are accepted by every
# text field but crash the .docx export (a known finding, see test_known_findings.py), so the
# generators leave them out to keep looking for other faults.
CONTROL_CHARACTERS = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r") + "\x7f"
SAFE_CHARACTERS = st.characters(exclude_categories=["Cs"], exclude_characters=CONTROL_CHARACTERS)


def text(min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Return arbitrary text without the known-bad control characters."""
    return st.text(SAFE_CHARACTERS, min_size=min_size, max_size=max_size)


def has_control_characters(value: Any) -> bool:
    """Tell whether a JSON-like value holds a control character anywhere (keys included)."""
    if isinstance(value, str):
        return any(c in CONTROL_CHARACTERS for c in value)
    if isinstance(value, dict):
        return any(has_control_characters(k) or has_control_characters(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_control_characters(v) for v in value)
    return False


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text(max_size=40)
)

# Any JSON value, nested a little.
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

# Strings that look like what forms and APIs receive, including the awkward ones.
AWKWARD_TEXT = st.one_of(
    text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "9" * 30,
            "2147483648",
            "²",
            "１２",
            "2015-04-01",
            "2015-04-01T09:00:00+09:00",
            "2015-02-30",
            "9999-12-31T23:59:59",
            "0001-01-01T00:00:00Z",
            "1e309",
            "NaN",
            "null",
            "true",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "\ud7ff\ufffd",
            "名簿" * 200,
            "x" * 5000,
        ]
    ),
)

DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2015-02-30", "15-04-01", "", "2015-04-01T00:00"]),
)
DATETIMES = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["2015-04-01T25:00:00", "yesterday", "", "2015-04-01"]),
)


# The document's components/schemas, for "$ref" (set by the fuzzer from the OpenAPI document).
COMPONENTS: dict[str, Any] = {}
REF_PREFIX = "#/components/schemas/"


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Return values that (mostly) follow a JSON schema: enum, type, format, items, properties,
    anyOf (a nullable field), $ref to the document's components."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX) and ref[len(REF_PREFIX) :] in COMPONENTS:
        return from_schema(COMPONENTS[ref[len(REF_PREFIX) :]], depth)
    if "anyOf" in schema:
        return st.one_of([from_schema(option, depth) for option in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return DATETIMES
        if fmt == "date":
            return DATES
        limit = int(schema.get("maxLength", 80))
        # Around the limit (a long limit: one string just over it; hypothesis draws no 100k text)
        edge = (
            text(min_size=limit, max_size=limit + 2)
            if limit <= 1000
            else st.just("x" * limit) | st.just("x" * (limit + 1))
        )
        return st.one_of(text(max_size=min(limit, 80)), edge)
    if kind == "integer":
        return st.integers(min_value=-(2**63), max_value=2**63)
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=4)
    if kind == "object" or "properties" in schema:
        if depth > 2:
            return st.dictionaries(text(max_size=8), JSON_SCALARS, max_size=3)
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: from_schema(v, depth + 1) for k, v in props.items() if k in required},
            optional={k: from_schema(v, depth + 1) for k, v in props.items() if k not in required},
        )
    return ANY_JSON


@st.composite
def near_valid(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """Draw a schema-shaped object, then break it in one place (or leave it whole)."""
    value = draw(from_schema(schema))
    if not isinstance(value, dict) or not schema.get("properties"):
        return value
    names = sorted(schema["properties"])
    how = draw(st.sampled_from(["whole", "drop", "retype", "extra", "text"]))
    name = draw(st.sampled_from(names))
    if how == "drop":
        value.pop(name, None)
    elif how == "retype":
        value[name] = draw(ANY_JSON)
    elif how == "extra":
        value[draw(text(max_size=12))] = draw(ANY_JSON)
    elif how == "text":
        value[name] = draw(AWKWARD_TEXT)
    return value


def body_for(schema: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """Return request bodies for an operation: random JSON or near-valid variants."""
    if not schema:
        return ANY_JSON
    return st.one_of(ANY_JSON, near_valid(schema), near_valid(schema))
