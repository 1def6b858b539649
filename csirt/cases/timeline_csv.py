"""Timeline CSV export and import with the same columns both ways.

Export writes UTF-8 with a byte-order mark (Excel opens it as UTF-8); import accepts it with
or without. ``occurred_at`` is ``YYYY-MM-DD`` for day precision and an ISO 8601 date-time with
its offset (in the configured zone) for minute precision, so export -> import -> export gives
back the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import tzinfo
from typing import Any

from csirt import csvsafe
from csirt.cases.errors import CaseValidationError
from csirt.cases.models import TimelineEvent
from csirt.cases.timeline import EventInput, validate_event

COLUMNS = (
    "occurred_at",
    "precision",
    "title",
    "description",
    "category",
    "visibility",
    "source",
    "actor",
    "evidence_ids",
)
BOM = "\ufeff"
MAX_ROWS = 50_000


class CsvImportError(Exception):
    """The file cannot be imported; ``errors`` maps "row N: field" to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5]))
        self.errors = dict(errors)


def format_when(event_row: TimelineEvent, zone: tzinfo) -> str:
    """The CSV text of an event's time: a date, or a date-time with offset to the minute."""
    local = event_row.occurred_at.astimezone(zone)
    if event_row.precision == "day":
        return local.strftime("%Y-%m-%d")
    return local.isoformat(timespec="minutes")


def _row(event_row: TimelineEvent, zone: tzinfo) -> list[str]:
    return [
        format_when(event_row, zone),
        event_row.precision,
        event_row.title,
        event_row.description,
        event_row.category,
        event_row.visibility,
        event_row.source,
        event_row.actor,
        " ".join(str(i) for i in event_row.evidence_ids or []),
    ]


def export_lines(events: Iterable[TimelineEvent], zone: tzinfo) -> Iterator[str]:
    """The CSV in chunks of 500 rows (BOM and header first), for a streamed response."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(COLUMNS)
    yield BOM + buffer.getvalue()
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    for index, event_row in enumerate(events, 1):
        writer.writerow(_row(event_row, zone))
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer = io.StringIO()
            writer = csvsafe.writer(buffer)
    if buffer.tell():
        yield buffer.getvalue()


def export_text(events: Iterable[TimelineEvent], zone: tzinfo) -> str:
    """The whole CSV as one string."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(COLUMNS)
    for event_row in events:
        writer.writerow(_row(event_row, zone))
    return BOM + buffer.getvalue()


def parse(
    data: bytes, zone: Any, *, evidence_ids_allowed: set[int] | None = None
) -> list[EventInput]:
    """Read and validate every row; CsvImportError naming each bad row and field."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError({"file": "not UTF-8 text"}) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [name for name in ("occurred_at", "title") if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        errors: dict[str, str] = {}
        if missing:
            errors["header"] = "missing columns: " + ", ".join(missing)
        if unknown:
            errors["header "] = "unknown columns: " + ", ".join(unknown)
        raise CsvImportError(errors)
    items: list[EventInput] = []
    errors = {}
    for number, record in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise CsvImportError({"file": f"more than {MAX_ROWS} rows"})
        if None in record:
            errors[f"row {number}"] = "more cells than columns"
            continue
        record = {
            k: csvsafe.restore_cell(v) if isinstance(v, str) else v for k, v in record.items()
        }
        try:
            items.append(validate_event(record, zone, evidence_ids_allowed=evidence_ids_allowed))
        except CaseValidationError as exc:
            for name, message in exc.errors.items():
                errors[f"row {number}: {name}"] = message
        if len(errors) >= 50:
            break
    if errors:
        raise CsvImportError(errors)
    return items
