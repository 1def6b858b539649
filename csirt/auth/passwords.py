"""The password policy, in one place: length, the username, and the bundled list of common
passwords (csirt/auth/common-passwords.txt, loaded once). ``auth.service.check_password_policy``
is the one check every path that sets a password goes through."""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from pathlib import Path

MIN_PASSWORD_LENGTH = 12


class PasswordProblem(StrEnum):
    """A rule a new password breaks (the value is the English text the CLI prints)."""

    TOO_SHORT = f"at least {MIN_PASSWORD_LENGTH} characters"
    CONTAINS_USERNAME = "must not contain the username"
    TOO_COMMON = "too common or too simple"


COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")

# Trailing digits and symbols that people add to a word to satisfy rules ("sakura2024!").
_DECORATION = re.compile(r"[\d!@#$%^&*()_+\-=.?~ ]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """Every entry of the bundled list, lower case (read from disk on first use only)."""
    text = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def is_common_password(password: str) -> bool:
    """Tell whether the password, or the word under its trailing digits, is in the list."""
    lowered = password.strip().lower()
    listed = common_passwords()
    if lowered in listed:
        return True
    if lowered.rstrip("!@#$%^&*()_+-=.?~ ") in listed:
        return True
    stem = _DECORATION.sub("", lowered)
    # A listed word of six or more letters plus decoration is still a dictionary guess.
    return len(stem) >= 6 and stem in listed


def password_problems(password: str, username: str) -> list[PasswordProblem]:
    """Every rule ``password`` breaks for the account ``username`` (empty: acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(PasswordProblem.TOO_SHORT)
    if len(username) >= 3 and username.lower() in password.lower():
        problems.append(PasswordProblem.CONTAINS_USERNAME)
    if is_common_password(password) or len(set(password)) < 4:
        problems.append(PasswordProblem.TOO_COMMON)
    return problems
