"""Write YAML variants into a temporary folder and find the line an error should name."""

from __future__ import annotations

from pathlib import Path


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first occurrence of ``needle`` in ``text``."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1


def replace_once(text: str, old: str, new: str) -> str:
    """Replace exactly one occurrence, so that a test cannot silently change nothing."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
