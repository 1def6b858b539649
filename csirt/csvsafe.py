"""The one way the app writes CSV: cells that a spreadsheet would run as a formula are defused.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
leading apostrophe (OWASP "CSV injection"); so is a cell that already starts with an
apostrophe, so that :func:`restore_cell` can undo it exactly and an export -> import ->
export round trip gives back the same bytes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: object) -> str:
    """The text of one cell, with a leading apostrophe when it could start a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) or text.startswith(ESCAPE):
        return ESCAPE + text
    return text


def restore_cell(text: str) -> str:
    """Undo :func:`safe_cell` on a cell read back from a file this app wrote."""
    if text.startswith(ESCAPE) and text[1:].startswith((*FORMULA_START, ESCAPE)):
        return text[1:]
    return text


class SafeWriter:
    """``csv.writer`` whose every text cell goes through :func:`safe_cell` (numbers stay)."""

    def __init__(self, out: _Writable, **kwargs: Any) -> None:
        kwargs.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow(
            [
                cell
                if isinstance(cell, int | float) and not isinstance(cell, bool)
                else safe_cell(cell)
                for cell in row
            ]
        )

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: _Writable, **kwargs: Any) -> SafeWriter:
    """A CSV writer that neutralises formulas; use it for every CSV the app writes."""
    return SafeWriter(out, **kwargs)
