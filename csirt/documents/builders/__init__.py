"""Document builders: an explicit registry from kind to a pure build function.

Every builder has the signature of `Builder`: facts in, python-docx Document out. The prose
sections are editable (their keys per kind are the contract in `SECTIONS`); tables are always
rendered from the facts.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import re
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import TypeVar

from docx.document import Document

from csirt.documents.builders import (
    committee_report,
    individual_notice,
    ppc_report,
    press_release,
    prevention_progress,
)
from csirt.documents.builders._common import (
    DocumentKind,
    UnknownKindError,
    UnknownSectionError,
    UnsupportedLanguageError,
    check_lang,
    kind_name,
)
from csirt.documents.facts import CaseFacts

SPECS: dict[str, DocumentKind] = {
    spec.kind: spec
    for spec in (
        press_release.SPEC,
        committee_report.SPEC,
        ppc_report.SPEC,
        individual_notice.SPEC,
        prevention_progress.SPEC,
    )
}
"""Every kind of document: its editable sections, their defaults and its builder."""
KINDS: tuple[str, ...] = tuple(SPECS)
SECTIONS: dict[str, tuple[str, ...]] = {kind: spec.keys for kind, spec in SPECS.items()}


def get_builder(kind: str) -> DocumentKind:
    """The kind's specification (its ``build``)."""
    try:
        return SPECS[kind]
    except KeyError:
        raise UnknownKindError(kind) from None


def default_sections(kind: str, facts: CaseFacts, lang: str = "ja") -> dict[str, str]:
    """The editable prose sections of a kind, pre-filled from the facts (keys: SECTIONS[kind])."""
    defaults = get_builder(kind).defaults
    check_lang(lang)
    return dict(defaults(facts, lang))


def build_document(
    kind: str,
    facts: CaseFacts,
    *,
    lang: str = "ja",
    draft: bool,
    template: bytes | None = None,
    sections: Mapping[str, str] | None = None,
) -> Document:
    """Build a document of the given kind (text unusable in XML is dropped first)."""
    clean_sections = None if sections is None else {k: xml_safe(v) for k, v in sections.items()}
    safe_facts = xml_safe(facts)
    spec = get_builder(kind)
    check_lang(lang)
    document = spec.build(safe_facts, lang, draft=draft, template=template, sections=clean_sections)
    pin_properties(document, safe_facts)
    return document


def pin_properties(document: Document, facts: CaseFacts) -> None:
    """Document properties from the facts, never from the clock: the organisation as author,
    the public title, and the document date (midnight in the document's zone) as created and
    modified. The same facts thus give the same core properties on every build."""
    at = datetime.combine(facts.document_date, time(), tzinfo=facts.zone).astimezone(UTC)
    props = document.core_properties
    props.author = facts.organisation.name
    props.last_modified_by = facts.organisation.name
    props.title = facts.title
    props.created = at.replace(tzinfo=None)  # python-docx writes naive values as UTC ("Z")
    props.modified = at.replace(tzinfo=None)
    props.last_printed = at.replace(tzinfo=None)
    props.revision = 1


# Characters XML 1.0 cannot hold (C0 controls but tab, newline and carriage return; U+FFFE/F;
# lone surrogates). Stored case text may contain them; a .docx must not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
T = TypeVar("T")


def xml_safe(value: T) -> T:
    """``value`` with every string inside it (dataclasses, tuples, lists, dicts) made XML-safe."""
    if isinstance(value, str) and not isinstance(value, enum.Enum):  # StrEnum members stay
        return _NOT_XML.sub("", value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: xml_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # NamedTuple
        return type(value)(*(xml_safe(v) for v in value))
    if isinstance(value, tuple):
        return type(value)(xml_safe(v) for v in value)
    if isinstance(value, list):
        return [xml_safe(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: xml_safe(v) for k, v in value.items()}  # type: ignore[return-value]
    return value


# The time stamp of every member of the .docx (zip) archive: the zip format's epoch, so that the
# same document saved at different times is the same file, byte for byte.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def to_bytes(document: Document) -> bytes:
    """The .docx file of a built document, deterministic: the same document gives the same
    bytes whenever it is saved (python-docx stamps each zip member with the clock)."""
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(member.filename))
    return out.getvalue()


__all__ = [
    "KINDS",
    "SECTIONS",
    "SPECS",
    "UnknownKindError",
    "UnknownSectionError",
    "UnsupportedLanguageError",
    "build_document",
    "default_sections",
    "get_builder",
    "kind_name",
    "to_bytes",
]
