"""Small typed readers for the triage YAML files; every error names the file, line and field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path
from typing import Any

from csirt.yamlfile import LineDict, LineList, PlaybookError


def _line(container: Any, key: str | int | None) -> int | None:
    if isinstance(container, LineDict) and isinstance(key, str):
        return container.line_of(key)
    if isinstance(container, LineList) and isinstance(key, int):
        return container.line_of(key)
    line = getattr(container, "line", None)
    return line if isinstance(line, int) and line > 0 else None


def join(prefix: str, key: str | int) -> str:
    """The dotted field name of ``key`` inside ``prefix``."""
    return f"{prefix}.{key}" if prefix else str(key)


class Reader:
    """Reads values out of one loaded YAML file, raising PlaybookError naming file, line, field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(
        self, container: Any, key: str | int | None, field: str, message: str
    ) -> PlaybookError:
        return PlaybookError(self.path, _line(container, key), f"{field}: {message}")

    def root(self, data: Any) -> LineDict:
        if not isinstance(data, LineDict):
            raise PlaybookError(self.path, _line(data, None) or 1, "top level: must be a mapping")
        return data

    def check_keys(
        self,
        node: LineDict,
        field: str,
        *,
        required: Collection[str] = (),
        optional: Collection[str] = (),
    ) -> None:
        for key in required:
            if key not in node:
                raise self.error(node, None, join(field, key), "is required")
        allowed = set(required) | set(optional)
        for key in node:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.error(
                    node, key, join(field, key), f"unknown field (expected {expected})"
                )

    def _get(self, node: LineDict, key: str, field: str) -> Any:
        if key not in node:
            raise self.error(node, None, join(field, key), "is required")
        return node[key]

    def mapping(self, node: LineDict, key: str, field: str) -> LineDict:
        value = self._get(node, key, field)
        if not isinstance(value, LineDict):
            raise self.error(node, key, join(field, key), "must be a mapping")
        return value

    def sequence(self, node: LineDict, key: str, field: str) -> LineList:
        value = self._get(node, key, field)
        if not isinstance(value, LineList):
            raise self.error(node, key, join(field, key), "must be a list")
        return value

    def string(
        self, node: LineDict, key: str, field: str, *, choices: Collection[str] | None = None
    ) -> str:
        value = self._get(node, key, field)
        if not isinstance(value, str) or not value.strip():
            raise self.error(node, key, join(field, key), "must be a non-empty string")
        if choices is not None and value not in choices:
            raise self.error(
                node, key, join(field, key), f"must be one of {', '.join(sorted(choices))}"
            )
        return value

    def integer(self, node: LineDict, key: str, field: str, *, minimum: int = 0) -> int:
        value = self._get(node, key, field)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(node, key, join(field, key), f"must be an integer >= {minimum}")
        return value

    def number(self, node: LineDict, key: str, field: str, *, minimum: float = 0.0) -> float:
        value = self._get(node, key, field)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.error(node, key, join(field, key), f"must be a number >= {minimum:g}")
        return float(value)

    def boolean(self, node: LineDict, key: str, field: str) -> bool:
        value = self._get(node, key, field)
        if not isinstance(value, bool):
            raise self.error(node, key, join(field, key), "must be true or false")
        return value

    def date(self, node: LineDict, key: str, field: str) -> dt.date:
        value = self._get(node, key, field)
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise self.error(node, key, join(field, key), "must be a date (YYYY-MM-DD)")
        return value

    def text(self, node: LineDict, key: str, field: str) -> tuple[str, str]:
        """A ``{ja: ..., en: ...}`` pair."""
        pair = self.mapping(node, key, field)
        sub = join(field, key)
        self.check_keys(pair, sub, required=("ja", "en"))
        return self.string(pair, "ja", sub), self.string(pair, "en", sub)
