"""One range for every date the app accepts: out-of-range input is a validation error.

``0001-01-01T00:00:00+14:00`` is a valid ISO 8601 string whose UTC instant lies before year 1,
and ``9999-12-31T23:59:59-14:00`` one after year 9999: converting either raises
``OverflowError``. An incident's dates lie well inside :data:`EARLIEST` .. :data:`LATEST`;
anything outside is refused as invalid input (a form error or a 422), never a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)
OUT_OF_RANGE = "must lie between 1900-01-01 and 2999-12-31"


class DateRangeError(ValueError):
    """A date or date-time outside :data:`EARLIEST` .. :data:`LATEST`."""

    def __init__(self) -> None:
        super().__init__(OUT_OF_RANGE)


def in_range(value: datetime, zone: tzinfo | None = None) -> datetime:
    """``value`` (naive ones read in ``zone``, else UTC) if its instant is in range; else raise."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone or UTC)
    try:
        instant = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise DateRangeError() from exc
    if not EARLIEST <= instant <= LATEST:
        raise DateRangeError()
    return value


def day_in_range(value: date) -> date:
    """``value`` if it lies in range; else raise :class:`DateRangeError`."""
    if not EARLIEST.date() <= value <= LATEST.date():
        raise DateRangeError()
    return value


def parse_instant(text: str, zone: tzinfo | None = None, *, need_offset: bool = False) -> datetime:
    """An ISO 8601 date-time (``Z`` allowed) in range; without an offset it is read in ``zone``.

    ValueError (or its subclass :class:`DateRangeError`) when unreadable or out of range.
    """
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None and need_offset:
        raise ValueError("an offset is required")
    return in_range(parsed, zone)


def parse_day(text: str) -> date:
    """An ISO 8601 date in range; ValueError otherwise."""
    return day_in_range(date.fromisoformat(text.strip()))


class InDateRange:
    """A WTForms validator: a date or (naive, local) date-time field must lie in range.

    A naive value is read in the app's configured zone, as the views do; out of range is a
    form error (400), never an overflow in the view (500).
    """

    def __call__(self, form: Any, field: Any) -> None:
        from flask import current_app
        from flask_babel import gettext as _
        from wtforms.validators import StopValidation

        value = field.data
        if value is None:
            return
        try:
            if isinstance(value, datetime):
                in_range(value, current_app.config["CSIRT"].tz)
            elif isinstance(value, date):
                day_in_range(value)
        except DateRangeError as exc:
            field.errors[:] = []
            raise StopValidation(_("Enter a date between 1900-01-01 and 2999-12-31.")) from exc
