"""The personal-data item vocabulary (``playbooks/vocabulary.yaml``): labels, 要配慮, JNSA levels.

Other packages (the intake questionnaire, case data sets, documents) read it from the app's
catalog (``csirt.catalog``) to list the items a person may tick and to label them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from csirt.lang import Lang, LocalText
from csirt.triage.exposure import Exposure
from csirt.yamlfile import LineDict, Reader, join, load_yaml

IDENTITY_ROLES: frozenset[str] = frozenset({"name", "address", "phone"})
"""Roles an item can play in the JNSA identifiability rule (本人特定容易度)."""

JNSA_LEVELS = (1, 2, 3)
EXPOSURE_VALUES = frozenset(e.value for e in Exposure)


@dataclass(frozen=True)
class Item:
    """One kind of personal data, e.g. ``name`` or ``medical_history``."""

    key: str
    name: LocalText
    sensitive: bool
    jnsa_x: int
    jnsa_y: int
    identifies: str | None
    financial: bool
    note: str | None = None

    def label(self, lang: Lang = "ja") -> str:
        """The item's label in ``lang``."""
        return self.name.get(lang)


@dataclass(frozen=True)
class ExposureNames:
    """What an :class:`Exposure` is called: in forms and reasons, and in public documents."""

    label: LocalText
    public: LocalText


class Vocabulary(Mapping[str, Item]):
    """Read-only mapping from item key to :class:`Item`, in the file's order, and the display
    names of the exposure levels."""

    def __init__(
        self,
        items: Mapping[str, Item],
        *,
        checked: dt.date,
        source: Path,
        exposures: Mapping[Exposure, ExposureNames],
    ) -> None:
        self._items = dict(items)
        self.checked = checked
        self.source = source
        self.exposures = dict(exposures)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return (self._items, self.exposures, self.checked) == (
            other._items,
            other.exposures,
            other.checked,
        )

    __hash__ = None  # type: ignore[assignment]

    def exposure_label(self, exposure: str, lang: Lang) -> str:
        """The name of ``exposure`` in forms and reasons (the value itself when unknown)."""
        names = self.exposures.get(Exposure(exposure)) if exposure in EXPOSURE_VALUES else None
        return names.label.get(lang) if names is not None else exposure

    def exposure_public(self, exposure: str, lang: Lang) -> str:
        """The wording of ``exposure`` in public documents (the value itself when unknown)."""
        names = self.exposures.get(Exposure(exposure)) if exposure in EXPOSURE_VALUES else None
        return names.public.get(lang) if names is not None else exposure

    def __getitem__(self, key: str) -> Item:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} items from {self.source})"

    def label(self, key: str, lang: Lang = "ja") -> str:
        """The label of ``key`` in ``lang``; the key itself when it is unknown."""
        item = self._items.get(key)
        return item.label(lang) if item is not None else key

    def sensitive_keys(self) -> frozenset[str]:
        """Keys of the 要配慮個人情報 items."""
        return frozenset(k for k, item in self._items.items() if item.sensitive)

    def financial_keys(self) -> frozenset[str]:
        """Keys of the items whose leak risks financial damage."""
        return frozenset(k for k, item in self._items.items() if item.financial)


def load_vocabulary(path: Path | str) -> Vocabulary:
    """Load and validate one vocabulary file (apps read theirs from the catalog instead)."""
    resolved = Path(path)
    return parse_vocabulary(load_yaml(resolved), resolved)


def parse_vocabulary(data: object, path: Path) -> Vocabulary:
    """Validate already-loaded YAML as a vocabulary."""
    reader = Reader(path)
    root = reader.root(data)
    reader.check_keys(root, "", required=("checked", "items", "exposures"))
    checked = reader.date(root, "checked", "")
    items_node = reader.mapping(root, "items", "")
    if not items_node:
        raise reader.error(root, "items", "items", "must list at least one item")
    items: dict[str, Item] = {}
    for key in items_node:
        field = join("items", key)
        if not key.isidentifier() or key != key.lower():
            raise reader.error(items_node, key, field, "keys must be lower_snake_case")
        node = reader.mapping(items_node, key, "items")
        reader.check_keys(
            node,
            field,
            required=("label", "sensitive", "jnsa", "identifies", "financial"),
            optional=("note",),
        )
        jnsa = reader.mapping(node, "jnsa", field)
        jnsa_field = join(field, "jnsa")
        reader.check_keys(jnsa, jnsa_field, required=("x", "y"))
        x = reader.integer(jnsa, "x", jnsa_field, minimum=1)
        y = reader.integer(jnsa, "y", jnsa_field, minimum=1)
        for axis, level in (("x", x), ("y", y)):
            if level not in JNSA_LEVELS:
                raise reader.error(jnsa, axis, join(jnsa_field, axis), "must be 1, 2 or 3")
        identifies = node["identifies"]
        if identifies is not None and identifies not in IDENTITY_ROLES:
            raise reader.error(
                node,
                "identifies",
                join(field, "identifies"),
                f"must be null or one of {', '.join(sorted(IDENTITY_ROLES))}",
            )
        note = reader.string(node, "note", field) if "note" in node else None
        items[key] = Item(
            key=key,
            name=reader.text(node, "label", field),
            sensitive=reader.boolean(node, "sensitive", field),
            jnsa_x=x,
            jnsa_y=y,
            identifies=identifies,
            financial=reader.boolean(node, "financial", field),
            note=note,
        )
    return Vocabulary(items, checked=checked, source=path, exposures=_parse_exposures(reader, root))


def _parse_exposures(reader: Reader, root: LineDict) -> dict[Exposure, ExposureNames]:
    """``exposures``: the names of every exposure level, no more and no less."""
    node = reader.mapping(root, "exposures", "")
    names: dict[Exposure, ExposureNames] = {}
    for key in node:
        if key not in EXPOSURE_VALUES:
            raise reader.error(
                node,
                key,
                join("exposures", key),
                f"unknown exposure (expected {', '.join(e.value for e in Exposure)})",
            )
        field = join("exposures", key)
        entry = reader.mapping(node, key, "exposures")
        reader.check_keys(entry, field, required=("label", "public"))
        names[Exposure(key)] = ExposureNames(
            label=reader.text(entry, "label", field),
            public=reader.text(entry, "public", field),
        )
    for exposure in Exposure:
        if exposure not in names:
            raise reader.error(node, None, join("exposures", exposure.value), "is required")
    return names
