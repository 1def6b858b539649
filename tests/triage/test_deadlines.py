"""Calendar arithmetic of due dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from csirt.triage.deadlines import add_months, due_at, end_of_day
from csirt.triage.rules import DueSpec

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2026, 11, 27), 3, dt.date(2027, 2, 27)),
        (dt.date(2026, 12, 31), 12, dt.date(2027, 12, 31)),
        (dt.date(2026, 8, 31), 1, dt.date(2026, 9, 30)),
    ],
)
def test_add_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


def test_end_of_day() -> None:
    assert end_of_day(dt.date(2026, 12, 31), TOKYO).isoformat() == "2026-12-31T23:59:59+09:00"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (DueSpec("aware_at", None, "days", 3), "2027-01-02T23:59:59+09:00"),
        (DueSpec("aware_at", None, "days", 30, count_first_day=True), "2027-01-28T23:59:59+09:00"),
        (DueSpec("aware_at", None, "days", 1, count_first_day=True), "2026-12-30T23:59:59+09:00"),
        (DueSpec("aware_at", None, "months", 2), "2027-02-28T23:59:59+09:00"),
        (DueSpec("aware_at", None, "hours", 72), "2027-01-02T10:00:00+09:00"),
    ],
)
def test_due_at(spec: DueSpec, expected: str) -> None:
    origin = dt.datetime(2026, 12, 30, 10, tzinfo=TOKYO)
    assert due_at(spec, origin, TOKYO).isoformat() == expected


def test_due_at_needs_an_aware_origin() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        due_at(DueSpec("aware_at", None, "days", 3), dt.datetime(2026, 1, 1), TOKYO)
