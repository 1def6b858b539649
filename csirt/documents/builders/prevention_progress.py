"""再発防止策の実施状況: progress of the recurrence-prevention measures, with evidence."""

from __future__ import annotations

from docx.document import Document

from csirt.documents import blocks
from csirt.documents.builders._common import (
    DocumentKind,
    contact_text,
    headings_of,
    issue_date,
    t,
)
from csirt.documents.facts import CaseFacts, MeasureStatus

KIND = "prevention_progress"
SECTION_KEYS = ("overview", "summary", "next_steps", "contact")
HEADINGS = headings_of(KIND)
ORDER = ("overview", "summary", "areas", "measures", "next_steps", "contact")


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
    day = blocks.format_date(facts.document_date, lang)
    subject = facts.title.removesuffix("について")
    return {
        "overview": t(
            lang,
            f"「{subject}」に関し、{facts.organisation.name}が定めた再発防止策（{total}項目）の"
            f"{day}現在の実施状況を"
            "お知らせします。",
            f"This report sets out the progress, as of {day}, of the {total} measures adopted "
            f"after the incident \u201c{facts.title}\u201d.",
        ),
        "summary": t(
            lang,
            f"{day}現在、{total}項目のうち{done}項目を実施済みです。",
            f"As of {day}, {done} of {total} measures have been carried out.",
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


def header(facts: CaseFacts, lang: str) -> list[str]:
    """The date (和暦) and the issuing department."""
    return [issue_date(facts, lang), f"{facts.organisation.name} {facts.organisation.department}"]


def _title(facts: CaseFacts, lang: str) -> str:
    return progress_title(lang)


def body(
    document: Document, text: dict[str, str], facts: CaseFacts, lang: str, draft: bool
) -> None:
    """As of its date: status counts, counts by area (the owner), the measures with the
    evidence of their effect."""
    as_of = blocks.format_date(facts.document_date, lang)
    blocks.right_lines(document, (t(lang, f"（{as_of}現在）", f"(as of {as_of})"),))
    numbering = blocks.Sections(document)
    counts = status_counts(facts)
    status = t(lang, "状況", "Status"), t(lang, "件数", "Count")
    for key in ORDER:
        numbering.heading(HEADINGS[key][0 if lang == "ja" else 1])
        if key == "measures":
            blocks.measures_table(document, facts.measures, lang)
            continue
        if key == "areas":
            _areas(document, facts, lang)
            continue
        blocks.paragraphs(document, text[key])
        if key == "summary":
            rows = [
                (blocks.STATUS_LABELS[lang][s], str(counts[s])) for s in reversed(MeasureStatus)
            ]
            rows.append((t(lang, "**合計", "**Total"), str(len(facts.measures))))
            blocks.table(document, status, rows, (4.0, 2.5))


def area_counts(facts: CaseFacts) -> dict[str, dict[MeasureStatus, int]]:
    """Per area (the owner of the measures), how many measures are in each status."""
    areas: dict[str, dict[MeasureStatus, int]] = {}
    for measure in facts.measures:
        counts = areas.setdefault(measure.owner or "—", dict.fromkeys(MeasureStatus, 0))
        counts[measure.status] += 1
    return areas


def _areas(document: Document, facts: CaseFacts, lang: str) -> None:
    order = tuple(reversed(MeasureStatus))
    headers = (
        t(lang, "分野（担当）", "Area (owner)"),
        *(blocks.STATUS_LABELS[lang][s] for s in order),
        t(lang, "計", "Total"),
    )
    rows = [
        (area, *(str(counts[s]) for s in order), str(sum(counts.values())))
        for area, counts in area_counts(facts).items()
    ]
    width = 2.2
    blocks.table(
        document, headers, rows, (blocks.TEXT_WIDTH_CM - width * 4, width, width, width, width)
    )


SPEC = DocumentKind(KIND, SECTION_KEYS, default_sections, body, header=header, title=_title)
