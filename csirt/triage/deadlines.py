"""Due dates: calendar days and months in the configured time zone, or exact hours.

Day- and month-based deadlines end at 23:59:59 local time on their last day, because the law
counts whole calendar days (民法140条: the first day is not counted unless a rule says so).
Hour-based deadlines (GDPR's 72 hours) run from the exact instant.
"""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from csirt.triage.rules import DueSpec

END_OF_DAY = dt.time(23, 59, 59)


def end_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """23:59:59 on ``day`` in ``tz``."""
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=tz)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later, clamped to that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_at(spec: DueSpec, origin: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """When an obligation computed by ``spec`` from ``origin`` falls due, in ``tz``."""
    if origin.tzinfo is None:
        raise ValueError("origin must be time-zone aware")
    if spec.unit == "hours":
        # Add in UTC: aware datetime arithmetic is wall-clock and would drift across DST.
        return (origin.astimezone(dt.UTC) + dt.timedelta(hours=spec.amount)).astimezone(tz)
    start = origin.astimezone(tz).date()
    if spec.unit == "months":
        return end_of_day(add_months(start, spec.amount), tz)
    days = spec.amount - 1 if spec.count_first_day else spec.amount
    return end_of_day(start + dt.timedelta(days=days), tz)
