"""Readers that validate the YAML in ``playbooks/`` with errors naming file, line and field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final

from csirt.lang import LANGUAGES, LocalText
from csirt.yamlfile import LineDict, LineList, PlaybookError

__all__ = ["KEY_PATTERN", "LANGS", "LocalText", "Node", "unique"]

LANGS: Final = LANGUAGES
KEY_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]*")


class Node:
    """One YAML mapping under validation; knows its file and its dotted path in the document."""

    def __init__(self, file: Path, value: Any, where: str, line: int) -> None:
        self.file = file
        self.where = where
        # The line of the key that holds this mapping: where a missing key is reported.
        self.line = line
        if not isinstance(value, LineDict):
            raise PlaybookError(file, line, f"{where or 'document'}: must be a mapping")
        self.data = value

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, message: str) -> PlaybookError:
        """An error about ``key`` at the line of that key (or of this mapping if it is absent)."""
        line = self.data.key_lines.get(key, self.line)
        return PlaybookError(self.file, line, f"{self.path(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def expect_keys(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        """Refuse unknown keys and missing required ones."""
        required = tuple(required)
        allowed = set(required) | set(optional)
        for key in self.data:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.error(key, f"unknown key (expected one of: {expected})")
        for key in required:
            if key not in self.data:
                raise self.error(key, "missing")

    def string(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string")
        return value.strip()

    def key_name(self, key: str) -> str:
        value = self.string(key)
        if not KEY_PATTERN.fullmatch(value):
            raise self.error(key, f"{value!r} must be lower_snake_case (a-z, 0-9, _)")
        return value

    def choice(self, key: str, allowed: Iterable[str]) -> str:
        allowed = tuple(allowed)
        value = self.string(key)
        if value not in allowed:
            raise self.error(key, f"{value!r} is not one of: {', '.join(allowed)}")
        return value

    def text(self, key: str) -> LocalText:
        child = self.child(key)
        child.expect_keys(LANGS)
        return LocalText(ja=child.string("ja"), en=child.string("en"))

    def optional_text(self, key: str) -> LocalText | None:
        return self.text(key) if self.has(key) else None

    def boolean(self, key: str, default: bool) -> bool:
        if not self.has(key):
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def integer(self, key: str, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, "must be a whole number")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum}")
        return value

    def child(self, key: str) -> Node:
        return Node(self.file, self.data.get(key), self.path(key), self.data.line_of(key))

    def sequence(self, key: str, allow_empty: bool = False) -> LineList:
        value = self.data.get(key)
        if not isinstance(value, LineList):
            raise self.error(key, "must be a list")
        if not value and not allow_empty:
            raise self.error(key, "must not be empty")
        return value

    def nodes(self, key: str, allow_empty: bool = False) -> Iterator[Node]:
        """Each item of the list under ``key``, which must be mappings."""
        items = self.sequence(key, allow_empty)
        for index, item in enumerate(items):
            yield Node(self.file, item, f"{self.path(key)}[{index}]", items.line_of(index))

    def strings(self, key: str, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
        """A list of distinct non-empty strings, each from ``allowed`` when given."""
        items = self.sequence(key, allow_empty=True)
        allowed = tuple(allowed) if allowed is not None else None
        seen: list[str] = []
        for index, item in enumerate(items):
            where = f"{self.path(key)}[{index}]"
            line = items.line_of(index)
            if not isinstance(item, str) or not item.strip():
                raise PlaybookError(self.file, line, f"{where}: must be a non-empty string")
            item = item.strip()
            if allowed is not None and item not in allowed:
                raise PlaybookError(
                    self.file, line, f"{where}: {item!r} is not one of: {', '.join(allowed)}"
                )
            if item in seen:
                raise PlaybookError(self.file, line, f"{where}: {item!r} is listed twice")
            seen.append(item)
        return tuple(seen)


def unique(node: Node, key: str, value: str, seen: dict[str, int]) -> None:
    """Record ``value`` of ``node[key]``; refuse a value already seen in the same list."""
    if value in seen:
        raise node.error(key, f"{value!r} is used twice (first at line {seen[value]})")
    seen[value] = node.data.line_of(key)
