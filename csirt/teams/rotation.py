"""Weekly on-call rotations (pure): who is on call at a moment, and who comes next."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Override:
    """``user_id`` is on call instead of the rotation from ``starts_at`` until ``ends_at``."""

    user_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str = ""


@dataclass(frozen=True)
class Rotation:
    """Members in order take one week each, the first week starting on ``start`` (local)."""

    members: tuple[int, ...]
    start: date | None
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Shift:
    """Who is on call and why (``rotation``, ``override`` or ``cover`` for someone on leave)."""

    user_id: int
    source: str
    scheduled_user_id: int | None = None


OnLeave = Callable[[int, date], bool]


def _never_on_leave(_user_id: int, _day: date) -> bool:
    return False


def week_index(rotation: Rotation, day: date) -> int | None:
    """The number of the rotation week containing ``day``; None before the start."""
    if rotation.start is None or day < rotation.start:
        return None
    return (day - rotation.start).days // 7


def week_start(rotation: Rotation, day: date) -> date | None:
    """The first day of the rotation week containing ``day``."""
    index = week_index(rotation, day)
    if index is None or rotation.start is None:
        return None
    return rotation.start + timedelta(weeks=index)


def scheduled(rotation: Rotation, day: date) -> int | None:
    """The member whose week contains ``day``, by the rotation alone."""
    index = week_index(rotation, day)
    if index is None or not rotation.members:
        return None
    return rotation.members[index % len(rotation.members)]


def on_call(
    rotation: Rotation, moment: datetime, tz: ZoneInfo, on_leave: OnLeave = _never_on_leave
) -> Shift | None:
    """Who is on call at ``moment``: an override wins, then the rotation, skipping leave."""
    matching = [o for o in rotation.overrides if o.starts_at <= moment < o.ends_at]
    if matching:
        return Shift(matching[-1].user_id, "override")
    day = moment.astimezone(tz).date()
    planned = scheduled(rotation, day)
    if planned is None:
        return None
    if not on_leave(planned, day):
        return Shift(planned, "rotation")
    for candidate in after(rotation, planned):
        if not on_leave(candidate, day):
            return Shift(candidate, "cover", scheduled_user_id=planned)
    return None


def after(rotation: Rotation, user_id: int) -> list[int]:
    """The other members in rotation order, starting with the one after ``user_id``."""
    members = list(rotation.members)
    if user_id not in members:
        return members
    index = members.index(user_id)
    return members[index + 1 :] + members[:index]


def days(
    rotation: Rotation, first: date, count: int, tz: ZoneInfo, on_leave: OnLeave
) -> list[tuple[date, Shift | None]]:
    """Who is on call at noon (local) on each of ``count`` days from ``first``."""
    result = []
    for offset in range(count):
        day = first + timedelta(days=offset)
        noon = datetime.combine(day, time(12, 0), tzinfo=tz)
        result.append((day, on_call(rotation, noon, tz, on_leave)))
    return result


def weeks(rotation: Rotation, first: date, count: int) -> list[tuple[date, int]]:
    """The rotation weeks (start day, member) from the week containing ``first``."""
    start = week_start(rotation, first) if rotation.start and first >= rotation.start else None
    if start is None:
        start = rotation.start
    if start is None or not rotation.members:
        return []
    result = []
    for offset in range(count):
        day = start + timedelta(weeks=offset)
        member = scheduled(rotation, day)
        if member is not None:
            result.append((day, member))
    return result


def order_for(members: Sequence[int]) -> tuple[int, ...]:
    """A rotation order with duplicates removed, first occurrence kept."""
    return tuple(dict.fromkeys(members))
