"""The CSV layout of a 個人情報ファイル簿 (the public register of personal-data files), read and
written: text in, rows out, no database.

One header row of Japanese column names (:data:`COLUMNS`); UTF-8, with or without a byte-order
mark; lists (記録項目, 保存場所) separated by 「、」. Data items are written with their Japanese
labels and read from a label or a vocabulary key. Every cell written goes through
:mod:`csirt.csvsafe` (no formula runs when the file is opened in a spreadsheet).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from csirt import csvsafe
from csirt.triage import Vocabulary

# (header, field): the order of the columns of the export; the import finds them by header.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("個人情報ファイルの名称", "name"),
    ("ファイル簿の番号", "register_ref"),
    ("事務をつかさどる組織の名称", "holder"),
    ("利用目的", "purpose"),
    ("記録項目", "items"),
    ("本人の数", "persons"),
    ("本人の数の区分", "persons_estimated"),
    ("本人の数の基準日", "counted_on"),
    ("保存場所（システム・媒体）", "systems"),
    ("持出しを許可できる者", "take_out"),
    ("保存期間", "retention"),
)
ESTIMATED = "概数"
EXACT = "実数"
LIST_SEPARATOR = "、"
MAX_ROWS = 5000
BOM = "\ufeff"


class RegisterCsvError(ValueError):
    """The file cannot be read as a register; ``errors`` maps 'row N' / a column to why."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def _item_keys(vocabulary: Vocabulary) -> dict[str, str]:
    """Label (ja or en) or key -> key."""
    found: dict[str, str] = {}
    for key in vocabulary:
        found[key] = key
        found[vocabulary.label(key, "ja")] = key
        found[vocabulary.label(key, "en").lower()] = key
    return found


def split_list(text: str) -> list[str]:
    """Names separated by 、 , ， ; ； or line breaks (the register's way of listing)."""
    for separator in ("，", ",", "；", ";", "\n"):
        text = text.replace(separator, LIST_SEPARATOR)
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def read(data: bytes, vocabulary: Vocabulary) -> list[dict[str, Any]]:
    """The register's rows as payloads for the inventory reader (unknown items stay as given,
    so that the reader names them); RegisterCsvError for a file that is not a register."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RegisterCsvError({"file": "must be UTF-8 text"}) from None
    text = text.removeprefix(BOM)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise RegisterCsvError({"file": "is empty"})
    header = [csvsafe.restore_cell(cell.strip()) for cell in rows[0]]
    fields = dict(COLUMNS)
    if "個人情報ファイルの名称" not in header:
        raise RegisterCsvError({"file": "has no column 個人情報ファイルの名称"})
    unknown = [name for name in header if name and name not in fields]
    if unknown:
        raise RegisterCsvError({"file": "unknown columns: " + LIST_SEPARATOR.join(unknown)})
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    if len(body) > MAX_ROWS:
        raise RegisterCsvError({"file": f"at most {MAX_ROWS} rows"})
    keys = _item_keys(vocabulary)
    payloads = []
    for row in body:
        cells = {
            fields[name]: csvsafe.restore_cell(value.strip())
            for name, value in zip(header, row, strict=False)
            if name
        }
        payload: dict[str, Any] = dict(cells)
        payload["items"] = [
            keys.get(item, keys.get(item.lower(), item))
            for item in split_list(cells.get("items", ""))
        ]
        payload["systems"] = split_list(cells.get("systems", ""))
        payload["persons"] = cells.get("persons", "").replace(",", "")
        payload["persons_estimated"] = cells.get("persons_estimated", "") == ESTIMATED
        payloads.append(payload)
    return payloads


def write(rows: Iterable[Mapping[str, Any]], vocabulary: Vocabulary) -> str:
    """The register as CSV text (with a byte-order mark, so that spreadsheets read UTF-8)."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csvsafe.writer(buffer)
    writer.writerow([header for header, _field in COLUMNS])
    for row in rows:
        writer.writerow(_cells(row, vocabulary))
    return buffer.getvalue()


def _cells(row: Mapping[str, Any], vocabulary: Vocabulary) -> Iterator[object]:
    for _header, name in COLUMNS:
        value = row.get(name)
        if name == "items":
            yield LIST_SEPARATOR.join(
                vocabulary.label(key, "ja") if key in vocabulary else key for key in value or ()
            )
        elif name == "systems":
            yield LIST_SEPARATOR.join(value or ())
        elif name == "persons_estimated":
            yield ESTIMATED if value else EXACT
        elif name == "counted_on":
            yield value.isoformat() if value else ""
        else:
            yield "" if value is None else value
