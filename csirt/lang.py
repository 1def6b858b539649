"""The languages csirt speaks (pure: no Flask), and how a stored or asked-for code is read.

``csirt.i18n.current_lang()`` says which one a request uses.
"""

from __future__ import annotations

from typing import Literal, TypeGuard

Lang = Literal["ja", "en"]
LANGUAGES: tuple[Lang, ...] = ("ja", "en")


def is_lang(value: object) -> TypeGuard[Lang]:
    """Tell whether ``value`` is a supported language code."""
    return value in LANGUAGES


def as_lang(value: object, default: Lang = "ja") -> Lang:
    """``value`` when it is a supported language, else ``default`` (stored settings, mails)."""
    return value if is_lang(value) else default
