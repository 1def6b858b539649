"""Conflicts of interest for assignment (pure), with the reason an admin sees.

The decision is the intake's :func:`csirt.intake.conflicts.is_conflicted` (department, display
name or username found in an involved entry, width- and case-insensitive), so a person who may
not see a submission is never suggested for its case either. This module adds the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from csirt.intake.conflicts import StaffMember, is_conflicted, normalize_name

__all__ = ["Conflict", "StaffMember", "conflict_of", "is_conflicted"]


@dataclass(frozen=True)
class Conflict:
    """Why a person may not work on a case: ``subject`` (named) or ``department``."""

    kind: str
    entry: str


def conflict_of(person: StaffMember, involved: Iterable[str]) -> Conflict | None:
    """The first involved entry the person conflicts with, and how; None if none."""
    for entry in involved:
        if not entry or not entry.strip() or not is_conflicted(person, [entry]):
            continue
        names = [person.username, person.display_name or ""]
        key = normalize_name(entry)
        named = any(normalize_name(n) and normalize_name(n) in key for n in names)
        return Conflict("subject" if named else "department", entry)
    return None
