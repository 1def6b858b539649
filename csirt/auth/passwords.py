"""The bundled list of common passwords (csirt/auth/common-passwords.txt), loaded once."""

from __future__ import annotations

import functools
import re
from pathlib import Path

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
