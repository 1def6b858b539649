"""The languages csirt speaks (pure: no Flask), how a code is read, and bilingual text.

``csirt.i18n.current_lang()`` says which one a request uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeGuard

Lang = Literal["ja", "en"]
LANGUAGES: tuple[Lang, ...] = ("ja", "en")


def is_lang(value: object) -> TypeGuard[Lang]:
    """Tell whether ``value`` is a supported language code."""
    return value in LANGUAGES


def as_lang(value: object, default: Lang = "ja") -> Lang:
    """``value`` when it is a supported language, else ``default`` (stored settings, mails)."""
    return value if is_lang(value) else default


@dataclass(frozen=True)
class LocalText:
    """A text in every supported language: the one bilingual form besides gettext (catalog
    labels, triage reasons, playbook titles)."""

    ja: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` ("ja" or "en"); ValueError for any other language."""
        if lang == "ja":
            return self.ja
        if lang == "en":
            return self.en
        raise ValueError(f"unsupported language: {lang!r}")
