"""Load and validate the YAML data in ``playbooks/``: errors name the file, line and field.

Mappings load as :class:`LineDict` and sequences as :class:`LineList`; both remember the line
of the node itself and of each key or item. :class:`Node` is the one validator of every file
(playbooks, questionnaire, vocabulary, triage and legal rules), so every error reads the same:
``playbooks/triage.yaml:42: scoring.persons.points_per_tenfold: must be a number``. Lists are
written ``tasks[2].due``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, Final

import yaml

from csirt.lang import LANGUAGES, LocalText

KEY_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]*")


class PlaybookError(ValueError):
    """A data file in ``playbooks/`` is missing, unreadable or invalid."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class LineDict(dict[str, Any]):
    """A mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


# libyaml's parser when available (several times faster); marks carry lines either way.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise PlaybookError(loader.name, key_node.start_mark.line + 1, f"{key}: duplicate key")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path | str) -> Any:
    """Read one YAML file; raise :class:`PlaybookError` naming the file and line on bad syntax."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError(path, None, f"cannot read: {exc.strerror}") from exc
    loader = _Loader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise PlaybookError(path, line, f"invalid YAML: {exc.problem}") from exc
    finally:
        loader.dispose()


def playbooks_dir() -> Path:
    """The ``playbooks/`` folder shipped in the repository (the default CSIRT_PLAYBOOKS_PATH;
    apps read the configured one through their catalog)."""
    return Path(__file__).resolve().parent.parent / "playbooks"


# --- validation --------------------------------------------------------------------------------


def join(prefix: str, key: str | int) -> str:
    """The field name of ``key`` inside ``prefix`` (``a.b``, ``a[2]``)."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _line_of(container: Any, key: str | int | None) -> int | None:
    if isinstance(container, LineDict) and isinstance(key, str):
        return container.line_of(key)
    if isinstance(container, LineList) and isinstance(key, int):
        return container.line_of(key)
    line = getattr(container, "line", None)
    return line if isinstance(line, int) and line > 0 else None


class Node:
    """One YAML mapping under validation; knows its file and its path in the document.

    Each reader checks one key and raises :class:`PlaybookError` at the line of that key (or of
    the mapping, when the key is absent).
    """

    def __init__(self, file: Path, value: Any, where: str, line: int | None) -> None:
        self.file = file
        self.where = where
        # The line of the key that holds this mapping: where a missing key is reported.
        self.line = line if line is not None else _line_of(value, None) or 1
        if not isinstance(value, LineDict):
            raise PlaybookError(file, self.line, f"{where or 'top level'}: must be a mapping")
        self.data = value

    @classmethod
    def root(cls, file: Path, value: Any) -> Node:
        """The document itself."""
        return cls(file, value, "", _line_of(value, None) or 1)

    def path(self, key: str | int) -> str:
        return join(self.where, key)

    def error(self, key: str, message: str) -> PlaybookError:
        """An error about ``key`` at the line of that key (or of this mapping if it is absent)."""
        line = self.data.key_lines.get(key, self.line)
        return PlaybookError(self.file, line, f"{self.path(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def keys(self) -> list[str]:
        return list(self.data)

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
                raise self.error(key, "is required")

    def _get(self, key: str) -> Any:
        if key not in self.data:
            raise self.error(key, "is required")
        return self.data[key]

    def string(self, key: str) -> str:
        value = self._get(key)
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
        child.expect_keys(LANGUAGES)
        return LocalText(ja=child.string("ja"), en=child.string("en"))

    def optional_text(self, key: str) -> LocalText | None:
        return self.text(key) if self.has(key) else None

    def boolean(self, key: str, default: bool | None = None) -> bool:
        """True or false; ``default`` when absent (absent and no default: an error)."""
        if not self.has(key) and default is not None:
            return default
        value = self._get(key)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def integer(self, key: str, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, "must be a whole number")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum}")
        return value

    def number(self, key: str, minimum: float | None = None) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, "must be a number")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum:g}")
        return float(value)

    def date(self, key: str) -> dt.date:
        value = self._get(key)
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise self.error(key, "must be a date (YYYY-MM-DD)")
        return value

    def child(self, key: str) -> Node:
        """The mapping under ``key``."""
        if key not in self.data:
            raise self.error(key, "is required")
        return Node(self.file, self.data.get(key), self.path(key), self.data.line_of(key))

    def sequence(self, key: str, allow_empty: bool = False) -> LineList:
        value = self._get(key)
        if not isinstance(value, LineList):
            raise self.error(key, "must be a list")
        if not value and not allow_empty:
            raise self.error(key, "must not be empty")
        return value

    def nodes(self, key: str, allow_empty: bool = False) -> Iterator[Node]:
        """Each item of the list under ``key``, which must be mappings."""
        items = self.sequence(key, allow_empty)
        for index, item in enumerate(items):
            yield Node(self.file, item, self.path(key) + f"[{index}]", items.line_of(index))

    def strings(self, key: str, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
        """A list of distinct non-empty strings, each from ``allowed`` when given."""
        items = self.sequence(key, allow_empty=True)
        allowed = tuple(allowed) if allowed is not None else None
        seen: list[str] = []
        for index, item in enumerate(items):
            where = self.path(key) + f"[{index}]"
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


class Reader:
    """The same checks for parsers that walk the raw mappings (the triage files): each call
    wraps the mapping in a :class:`Node` named ``field``, so errors read exactly as above."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def node(self, container: LineDict, field: str) -> Node:
        return Node(self.path, container, field, _line_of(container, None))

    def error(
        self, container: Any, key: str | int | None, field: str, message: str
    ) -> PlaybookError:
        return PlaybookError(self.path, _line_of(container, key), f"{field}: {message}")

    def root(self, data: Any) -> LineDict:
        return Node.root(self.path, data).data

    def check_keys(
        self,
        node: LineDict,
        field: str,
        *,
        required: Collection[str] = (),
        optional: Collection[str] = (),
    ) -> None:
        self.node(node, field).expect_keys(required, optional)

    def mapping(self, node: LineDict, key: str, field: str) -> LineDict:
        return self.node(node, field).child(key).data

    def sequence(self, node: LineDict, key: str, field: str) -> LineList:
        return self.node(node, field).sequence(key, allow_empty=True)

    def mappings(self, items: LineList, field: str) -> Iterator[tuple[str, LineDict]]:
        """Each item of ``items`` (the list named ``field``), which must be a mapping, with its
        field name (``field[index]``)."""
        for index, item in enumerate(items):
            item_field = join(field, index)
            yield item_field, Node(self.path, item, item_field, items.line_of(index)).data

    def members(
        self, node: LineDict, key: str, field: str, allowed: Collection[str], problem: str
    ) -> LineList:
        """The list under ``key``, each item a string of ``allowed``; else ``problem`` (with
        ``{item!r}`` for the item) at the item's line."""
        items = self.sequence(node, key, field)
        for index, item in enumerate(items):
            if not isinstance(item, str) or item not in allowed:
                where = join(join(field, key), index)
                raise self.error(items, index, where, problem.format(item=item))
        return items

    def string(
        self, node: LineDict, key: str, field: str, *, choices: Collection[str] | None = None
    ) -> str:
        checked = self.node(node, field)
        if choices is None:
            return checked.string(key)
        return checked.choice(key, sorted(choices))

    def integer(self, node: LineDict, key: str, field: str, *, minimum: int = 0) -> int:
        return self.node(node, field).integer(key, minimum=minimum)

    def number(self, node: LineDict, key: str, field: str, *, minimum: float = 0.0) -> float:
        return self.node(node, field).number(key, minimum=minimum)

    def boolean(self, node: LineDict, key: str, field: str) -> bool:
        return self.node(node, field).boolean(key)

    def date(self, node: LineDict, key: str, field: str) -> dt.date:
        return self.node(node, field).date(key)

    def text(self, node: LineDict, key: str, field: str) -> LocalText:
        """A ``{ja: ..., en: ...}`` pair."""
        return self.node(node, field).text(key)
