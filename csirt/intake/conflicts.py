"""Conflicts of interest: staff named in a report's ``involved`` answer never see it (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Protocol

# Reporters separate names with new lines, commas, Japanese commas and middle dots, or slashes.
_SEPARATORS = re.compile(r"[\n\r,;/、，；・]+")
# Names shorter than this match too much text by accident ("IT" inside "KITCHEN").
MIN_NAME_LENGTH = 2


class StaffMember(Protocol):
    """What is_conflicted needs of a user (csirt.auth.models.User satisfies it)."""

    @property
    def username(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def department(self) -> str | None: ...


def normalize_name(text: str) -> str:
    """Fold width, case and spacing so that 'ＩＴ 推進課' and 'it推進課' compare equal."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(folded.split())


def split_involved(text: str) -> list[str]:
    """Split the free-text ``involved`` answer into the people and departments it names."""
    parts = (" ".join(part.split()) for part in _SEPARATORS.split(text or ""))
    return list(dict.fromkeys(part for part in parts if part))


def _names_of(user: StaffMember) -> Iterable[str]:
    for raw in (user.department, user.display_name, user.username):
        if raw:
            name = normalize_name(raw)
            if len(name) >= MIN_NAME_LENGTH:
                yield name


def is_conflicted(user: StaffMember, involved: list[str]) -> bool:
    """True if the user's department, display name or username appears in any involved entry.

    Matching is by containment after normalisation, so "選挙管理委員会事務局の職員" excludes
    the staff of 選挙管理委員会事務局: a false exclusion costs less than a leak to a suspect.
    """
    entries = [normalize_name(entry) for entry in involved if entry and entry.strip()]
    if not entries:
        return False
    return any(name in entry for name in _names_of(user) for entry in entries)
