"""Due dates: calendar days and months in the configured time zone, or exact hours.

Day- and month-based deadlines end at 23:59:59 local time on their last day, because the law
counts whole calendar days. Japanese periods follow the Civil Code: the first day is not
counted (民法140条本文) unless the period starts exactly at 00:00 (同条但書) or the rule says so
(the PPC counts the day of awareness as day 1 of the 確報 period); a period of months ends on
the day before the day that corresponds to its first counted day (民法143条2項). A deadline
with ``roll: forward`` that falls on a day the administrative offices are closed
(行政機関の休日に関する法律1条1項: Saturdays, Sundays, national holidays, 12/29-1/3) moves to
the next day that is none of these (同法2条; PPC 通則編 3-5-3-4 ※2). Hour-based deadlines
(GDPR's 72 hours) run from the exact instant.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from zoneinfo import ZoneInfo

import holidays

from csirt.triage.rules import DueSpec

END_OF_DAY = dt.time(23, 59, 59)
MIDNIGHT = dt.time(0, 0)


def end_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """23:59:59 on ``day`` in ``tz``."""
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=tz)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later, clamped to that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def civil_months_end(first_day: dt.date, months: int) -> dt.date:
    """Last day of a period of ``months`` whose first counted day is ``first_day`` (民法143条).

    The day before the corresponding day of the last month; when that month has no such day,
    its last day (同条2項但書).
    """
    index = first_day.month - 1 + months
    year, month = first_day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if first_day.day > last:
        return dt.date(year, month, last)
    return dt.date(year, month, first_day.day) - dt.timedelta(days=1)


@functools.lru_cache(maxsize=64)
def _national_holidays(year: int) -> frozenset[dt.date]:
    # The `holidays` package computes 国民の祝日, 振替休日 and 国民の休日 (祝日法3条).
    return frozenset(holidays.country_holidays("JP", years=year))


def is_administrative_holiday(day: dt.date) -> bool:
    """A day the administrative offices are closed (行政機関の休日に関する法律1条1項)."""
    if day.weekday() >= 5:
        return True
    if (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3):
        return True
    return day in _national_holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself, or the first later day that is not an administrative holiday."""
    while is_administrative_holiday(day):
        day += dt.timedelta(days=1)
    return day


def previous_working_day(day: dt.date) -> dt.date:
    """``day`` itself, or the last earlier day that is not an administrative holiday."""
    while is_administrative_holiday(day):
        day -= dt.timedelta(days=1)
    return day


def first_day_counts(spec: DueSpec, origin: dt.datetime, tz: ZoneInfo) -> bool:
    """Whether the day of ``origin`` is day 1: by the rule, or because it starts at 00:00."""
    return spec.count_first_day or origin.astimezone(tz).timetz().replace(tzinfo=None) == MIDNIGHT


def due_at(spec: DueSpec, origin: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """When an obligation computed by ``spec`` from ``origin`` falls due, in ``tz``."""
    if origin.tzinfo is None:
        raise ValueError("origin must be time-zone aware")
    if spec.unit == "hours":
        # Add in UTC: aware datetime arithmetic is wall-clock and would drift across DST.
        return (origin.astimezone(dt.UTC) + dt.timedelta(hours=spec.amount)).astimezone(tz)
    start = origin.astimezone(tz).date()
    counts = first_day_counts(spec, origin, tz)
    if spec.unit == "months":
        if spec.reckoning == "eu":
            # Regulation 1182/71 Art. 3(2)(c): the same date as the day the period runs from
            # (a 00:00 start ends a day earlier: the conservative reading).
            last = add_months(start, spec.amount) - dt.timedelta(days=1 if counts else 0)
        else:
            last = civil_months_end(start if counts else start + dt.timedelta(days=1), spec.amount)
    else:
        last = start + dt.timedelta(days=spec.amount - 1 if counts else spec.amount)
    if spec.roll == "forward":
        last = next_working_day(last)
    elif spec.roll == "back":
        last = previous_working_day(last)
    return end_of_day(last, tz)
