"""Document builders: an explicit registry from kind to a pure build function.

Every builder has the signature of `Builder`: facts in, python-docx Document out. The prose
sections are editable (their keys per kind are the contract in `SECTIONS`); tables are always
rendered from the facts.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Protocol

from docx.document import Document

from csirt.documents.builders import (
    committee_report,
    individual_notice,
    ppc_report,
    press_release,
    prevention_progress,
)
from csirt.documents.builders._common import (
    UnknownKindError,
    UnknownSectionError,
    UnsupportedLanguageError,
    check_lang,
)
from csirt.documents.facts import CaseFacts


class Builder(Protocol):
    """Builds one kind of document from the public facts."""

    def __call__(
        self,
        facts: CaseFacts,
        *,
        lang: str = "ja",
        draft: bool,
        template: bytes | None = None,
        sections: Mapping[str, str] | None = None,
    ) -> Document: ...


class _Defaults(Protocol):
    def __call__(self, facts: CaseFacts, lang: str) -> dict[str, str]: ...


BUILDERS: dict[str, Builder] = {
    press_release.KIND: press_release.build,
    committee_report.KIND: committee_report.build,
    ppc_report.KIND: ppc_report.build,
    individual_notice.KIND: individual_notice.build,
    prevention_progress.KIND: prevention_progress.build,
}
KINDS: tuple[str, ...] = tuple(BUILDERS)

SECTIONS: dict[str, tuple[str, ...]] = {
    press_release.KIND: press_release.SECTION_KEYS,
    committee_report.KIND: committee_report.SECTION_KEYS,
    ppc_report.KIND: ppc_report.SECTION_KEYS,
    individual_notice.KIND: individual_notice.SECTION_KEYS,
    prevention_progress.KIND: prevention_progress.SECTION_KEYS,
}

_DEFAULTS: dict[str, _Defaults] = {
    press_release.KIND: press_release.default_sections,
    committee_report.KIND: committee_report.default_sections,
    ppc_report.KIND: ppc_report.default_sections,
    individual_notice.KIND: individual_notice.default_sections,
    prevention_progress.KIND: prevention_progress.default_sections,
}


def get_builder(kind: str) -> Builder:
    """The builder registered for a kind."""
    try:
        return BUILDERS[kind]
    except KeyError:
        raise UnknownKindError(kind) from None


def default_sections(kind: str, facts: CaseFacts, lang: str = "ja") -> dict[str, str]:
    """The editable prose sections of a kind, pre-filled from the facts (keys: SECTIONS[kind])."""
    if kind not in _DEFAULTS:
        raise UnknownKindError(kind)
    check_lang(lang)
    return _DEFAULTS[kind](facts, lang)


def build_document(
    kind: str,
    facts: CaseFacts,
    *,
    lang: str = "ja",
    draft: bool,
    template: bytes | None = None,
    sections: Mapping[str, str] | None = None,
) -> Document:
    """Build a document of the given kind."""
    return get_builder(kind)(facts, lang=lang, draft=draft, template=template, sections=sections)


def to_bytes(document: Document) -> bytes:
    """The .docx file of a built document."""
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


__all__ = [
    "BUILDERS",
    "KINDS",
    "SECTIONS",
    "Builder",
    "UnknownKindError",
    "UnknownSectionError",
    "UnsupportedLanguageError",
    "build_document",
    "default_sections",
    "get_builder",
    "to_bytes",
]
