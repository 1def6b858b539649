"""Helpers the document builders share: sections, labels, the usual opening and closing."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any, Protocol

from docx.document import Document

from csirt.documents import blocks
from csirt.documents.facts import LANGS, CaseFacts, Measure, Obligation, Precision


class UnknownKindError(KeyError):
    """No builder is registered for this document kind."""


class UnknownSectionError(ValueError):
    """An edited section key is not part of the kind's section contract."""


class UnsupportedLanguageError(ValueError):
    """Documents are built in Japanese or English only."""


def _load_wording() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("wording.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


_WORDING = _load_wording()


def kind_name(kind: str) -> tuple[str, str]:
    """The kind's name in Japanese and English (an unknown kind: its key)."""
    ja, en = _WORDING.get(kind, {}).get("name", (kind, kind))
    return ja, en


def headings_of(kind: str) -> dict[str, tuple[str, str]]:
    """The kind's section headings in Japanese and English, by section key."""
    return {key: (ja, en) for key, (ja, en) in _WORDING[kind].get("headings", {}).items()}


def check_lang(lang: str) -> None:
    """Refuse a language the builders have no headings for."""
    if lang not in LANGS:
        raise UnsupportedLanguageError(f"lang must be one of {LANGS}, not {lang!r}")


def resolve_sections(
    kind: str,
    keys: Sequence[str],
    defaults: Mapping[str, str],
    edited: Mapping[str, str] | None,
) -> dict[str, str]:
    """The defaults overlaid with the edited texts; unknown keys are an error, not ignored."""
    merged = dict(defaults)
    if edited is not None:
        unknown = sorted(set(edited) - set(keys))
        if unknown:
            raise UnknownSectionError(f"{kind}: unknown section(s) {', '.join(unknown)}")
        merged.update(edited)
    return merged


def start(facts: CaseFacts, lang: str, *, draft: bool, template: bytes | None) -> Document:
    """A new document with page numbers and, for a draft, the watermark."""
    check_lang(lang)
    document = blocks.new_document(template, lang)
    blocks.page_number_footer(document)
    if draft:
        blocks.draft_watermark(document, lang)
    return document


def opening(
    kind: str,
    keys: Sequence[str],
    defaults: Callable[[CaseFacts, str], Mapping[str, str]],
    facts: CaseFacts,
    lang: str,
    *,
    draft: bool,
    template: bytes | None,
    sections: Mapping[str, str] | None,
    header: Sequence[str],
    title: str | None,
    before_title: Sequence[str] = (),
) -> tuple[Document, dict[str, str]]:
    """The opening every kind shares: the section texts (defaults overlaid with the edits), a
    new document, the right-aligned header lines, lines before the title and the title."""
    check_lang(lang)
    text = resolve_sections(kind, keys, defaults(facts, lang), sections)
    document = start(facts, lang, draft=draft, template=template)
    blocks.right_lines(document, [line for line in header if line])
    for line in before_title:
        document.add_paragraph(line)
    if title is not None:
        blocks.title_block(document, title, draft=draft, lang=lang)
    return document, text


class Body(Protocol):
    """Writes a kind's content after its opening (the sections' texts are resolved)."""

    def __call__(
        self, document: Document, text: dict[str, str], facts: CaseFacts, lang: str, draft: bool
    ) -> None: ...


def _nothing(facts: CaseFacts, lang: str) -> Sequence[str]:
    return ()


def _no_title(facts: CaseFacts, lang: str) -> str | None:
    return None


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document: its editable sections with their defaults, its opening (header
    lines, lines before the title, title) and its body. `build` is the kind's builder."""

    kind: str
    keys: tuple[str, ...]
    defaults: Callable[[CaseFacts, str], Mapping[str, str]]
    body: Body
    header: Callable[[CaseFacts, str], Sequence[str]] = _nothing
    title: Callable[[CaseFacts, str], str | None] = _no_title
    before_title: Callable[[CaseFacts, str], Sequence[str]] = _nothing

    def build(
        self,
        facts: CaseFacts,
        lang: str,
        *,
        draft: bool,
        template: bytes | None,
        sections: Mapping[str, str] | None,
    ) -> Document:
        """The document: the shared opening, then the kind's body (``build_document`` gives
        every option and the XML-safe facts)."""
        document, text = opening(
            self.kind,
            self.keys,
            self.defaults,
            facts,
            lang,
            draft=draft,
            template=template,
            sections=sections,
            header=self.header(facts, lang),
            title=self.title(facts, lang),
            before_title=self.before_title(facts, lang),
        )
        self.body(document, text, facts, lang, draft)
        return document


def issue_date(facts: CaseFacts, lang: str) -> str:
    """The document's date as the organisation writes it (和暦 with 西暦 and the weekday)."""
    return blocks.format_letter_date(facts.document_date, lang, facts.organisation.date_style)


def signatory(facts: CaseFacts) -> str:
    """Who signs: the head of the body when set, else the organisation."""
    return facts.organisation.head or facts.organisation.name


def t(lang: str, ja: str, en: str) -> str:
    """The Japanese or English wording."""
    return ja if lang == "ja" else en


def bullets(lines: Sequence[str], lang: str) -> str:
    """Lines as a list, one per line (・ in Japanese, - in English)."""
    mark = "・" if lang == "ja" else "- "
    return "\n".join(f"{mark}{line}" for line in lines)


def numbered(lines: Sequence[str]) -> str:
    """Lines numbered (1), (2) …, one per line."""
    return "\n".join(f"({n}) {line}" for n, line in enumerate(lines, start=1))


def contact_text(facts: CaseFacts, lang: str) -> str:
    """The organisation's public contact point as lines."""
    contact = facts.organisation.contact
    return "\n".join(
        (
            f"{facts.organisation.name} {contact.department}",
            t(lang, f"電話：{contact.phone}", f"Phone: {contact.phone}"),
            t(lang, f"電子メール：{contact.email}", f"E-mail: {contact.email}"),
        )
    )


def persons_total(facts: CaseFacts, lang: str) -> str:
    """The number of persons as the organisation states it (約68万人（重複を除く）)."""
    text = blocks.format_persons(
        facts.total_persons, facts.total_estimated, lang, maximum=facts.total_max
    )
    note = facts.persons_total_note
    if note:
        text += f"（{note}）" if lang == "ja" else f" ({note})"
    return text


def measures_text(measures: Sequence[Measure], lang: str) -> str:
    """Measures as list lines: title (owner, due)."""
    lines = []
    for measure in measures:
        due = blocks.format_date(measure.due, lang) if measure.due else "—"
        status = blocks.STATUS_LABELS[lang][measure.status]
        lines.append(
            t(
                lang,
                f"{measure.title}（担当：{measure.owner}、期限：{due}、{status}）",
                f"{measure.title} (owner: {measure.owner}; due {due}; {status.lower()})",
            )
        )
    return bullets(lines, lang)


def local_date(facts: CaseFacts, moment: datetime) -> date:
    """The calendar day of an instant in the document's zone."""
    return moment.astimezone(facts.zone).date()


def when(facts: CaseFacts, moment: datetime, lang: str) -> str:
    """An instant as date and HH:MM in the document's zone."""
    return blocks.format_datetime(moment, Precision.MINUTE, lang, facts.zone)


OBLIGATION_LABELS: dict[str, tuple[str, str]] = {
    "reporter_notice": ("通報者への調査の通知（20日以内）", "Notice to the reporter (20 days)"),
    "ppc_preliminary": ("個人情報保護委員会への速報", "Preliminary report to the PPC"),
    "ppc_final": ("個人情報保護委員会への確報", "Final report to the PPC"),
    "individual_notice": ("本人への通知", "Notice to the persons concerned"),
    "notify_individuals": ("本人への通知", "Notice to the persons concerned"),  # triage's kind
    "publication": ("公表", "Public announcement"),
}


def obligation_label(obligation: Obligation, lang: str) -> str:
    """The obligation's own label, else the known wording for its kind, else the kind."""
    if obligation.label:
        return obligation.label
    pair = OBLIGATION_LABELS.get(obligation.kind)
    if pair is None:
        return obligation.kind
    return pair[0] if lang == "ja" else pair[1]


def obligation_assessment(facts: CaseFacts, obligation: Obligation, lang: str) -> str:
    """On time, N days late, or not done (and overdue by N days at the document date); a duty
    not in force when the organisation became aware is for reference only (参考)."""
    if not obligation.in_force:
        return t(lang, "参考（当時は義務なし）", "For reference (no such duty then)")
    due_day = local_date(facts, obligation.due)
    if obligation.done_at is None:
        overdue = (facts.document_date - due_day).days
        if overdue > 0:
            return t(lang, f"未実施（{overdue}日超過）", f"Not done ({overdue} days overdue)")
        return t(lang, "未実施", "Not done")
    late = (local_date(facts, obligation.done_at) - due_day).days
    if late > 0:
        return t(lang, f"{late}日遅延", f"{late} days late")
    return t(lang, "期限内", "On time")
