"""再発防止策の実施状況: progress of the recurrence-prevention measures, with evidence."""

from __future__ import annotations

from collections.abc import Mapping

from docx.document import Document

from csirt.documents import blocks
from csirt.documents.builders._common import check_lang, contact_text, resolve_sections, start, t
from csirt.documents.facts import CaseFacts, MeasureStatus

KIND = "prevention_progress"
SECTION_KEYS = ("overview", "summary", "next_steps", "contact")
HEADINGS: dict[str, tuple[str, str]] = {
    "overview": ("概要", "Background"),
    "summary": ("実施状況の概要", "Progress at a glance"),
    "measures": ("各措置の実施状況", "Each measure"),
    "next_steps": ("今後の取組", "Next steps"),
    "contact": ("問い合わせ先", "Contact"),
}
ORDER = ("overview", "summary", "measures", "next_steps", "contact")


def headings(lang: str) -> list[str]:
    """The numbered headings in order."""
    return [HEADINGS[k][0 if lang == "ja" else 1] for k in ORDER]


def progress_title(lang: str) -> str:
    """The report's title."""
    return t(lang, "再発防止策の実施状況について", "Progress of the recurrence-prevention measures")


def status_counts(facts: CaseFacts) -> dict[MeasureStatus, int]:
    """How many measures are in each status."""
    counts = dict.fromkeys(MeasureStatus, 0)
    for measure in facts.measures:
        counts[measure.status] += 1
    return counts


def default_sections(facts: CaseFacts, lang: str) -> dict[str, str]:
    """The editable texts pre-filled from the facts."""
    counts = status_counts(facts)
    total = len(facts.measures)
    done = counts[MeasureStatus.DONE]
    open_items = [m.title for m in facts.measures if m.status is not MeasureStatus.DONE]
    return {
        "overview": t(
            lang,
            f"{facts.title}を受けて定めた再発防止策（{total}項目）の実施状況を報告します。",
            f"This report gives the progress of the {total} measures adopted after: {facts.title}.",
        ),
        "summary": t(
            lang,
            f"{total}項目のうち{done}項目が完了しました。",
            f"{done} of {total} measures are done.",
        ),
        "next_steps": t(
            lang,
            "未完了の措置（" + "、".join(open_items) + "）を引き続き実施し、効果を検証します。",
            "We will complete the open measures (" + "; ".join(open_items) + ") and verify "
            "their effect.",
        )
        if open_items
        else t(lang, "各措置の効果を継続して検証します。", "We will keep verifying their effect."),
        "contact": contact_text(facts, lang),
    }


def build(
    facts: CaseFacts,
    *,
    lang: str = "ja",
    draft: bool,
    template: bytes | None = None,
    sections: Mapping[str, str] | None = None,
) -> Document:
    """The progress report: status counts and the measures table with evidence of effect."""
    check_lang(lang)
    text = resolve_sections(KIND, SECTION_KEYS, default_sections(facts, lang), sections)
    document = start(facts, lang, draft=draft, template=template)
    blocks.right_lines(
        document,
        (
            blocks.format_date(facts.document_date, lang),
            f"{facts.organisation.name} {facts.organisation.department}",
        ),
    )
    blocks.title_block(document, progress_title(lang), draft=draft, lang=lang)
    numbering = blocks.Sections(document)
    counts = status_counts(facts)
    for key in ORDER:
        numbering.heading(HEADINGS[key][0 if lang == "ja" else 1])
        if key == "measures":
            blocks.measures_table(document, facts.measures, lang)
            continue
        blocks.paragraphs(document, text[key])
        if key == "summary":
            rows = [
                (blocks.STATUS_LABELS[lang][s], str(counts[s])) for s in reversed(MeasureStatus)
            ]
            rows.append((t(lang, "**合計", "**Total"), str(len(facts.measures))))
            blocks.table(
                document, (t(lang, "状況", "Status"), t(lang, "件数", "Count")), rows, (4.0, 2.5)
            )
    return document
