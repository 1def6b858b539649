"""漏えい等報告: the report to the Personal Information Protection Commission (速報 / 確報).

The nine items are those of 規則8条1項 (applied to 行政機関等 by 規則44条).
"""

from __future__ import annotations

from collections.abc import Mapping

from docx.document import Document

from csirt.documents import blocks
from csirt.documents.builders._common import (
    check_lang,
    contact_text,
    measures_text,
    resolve_sections,
    start,
    t,
    when,
)
from csirt.documents.facts import CaseFacts, PpcStage

KIND = "ppc_report"
SECTION_KEYS = (
    "summary",
    "items",
    "persons",
    "cause",
    "secondary_damage",
    "individual_response",
    "publication",
    "prevention",
    "other",
)


def _subject(facts: CaseFacts, lang: str) -> str:
    if lang == "ja":
        return "保有個人情報" if facts.organisation.public_body else "個人データ"
    return "personal information"


def item_headings(facts: CaseFacts, lang: str) -> list[str]:
    """The nine items of 規則8条1項, in order."""
    subject = _subject(facts, lang)
    if lang == "ja":
        return [
            "概要",
            f"漏えい等が発生し、又は発生したおそれがある{subject}の項目",
            f"漏えい等が発生し、又は発生したおそれがある{subject}に係る本人の数",
            "原因",
            "二次被害又はそのおそれの有無及びその内容",
            "本人への対応の実施状況",
            "公表の実施状況",
            "再発防止のための措置",
            "その他参考となる事項",
        ]
    return [
        "Summary",
        f"Items of {subject} leaked or possibly leaked",
        "Number of persons concerned",
        "Cause",
        "Secondary damage or its risk, and its nature",
        "Action taken towards the persons concerned",
        "Public announcement",
        "Measures to prevent recurrence",
        "Other relevant matters",
    ]


def stage_label(stage: PpcStage, lang: str) -> str:
    """速報 / 確報."""
    if stage is PpcStage.PRELIMINARY:
        return t(lang, "速報", "preliminary")
    return t(lang, "確報", "final")


def report_title(facts: CaseFacts, lang: str) -> str:
    """e.g. 保有個人情報の漏えい等報告（確報）."""
    stage = stage_label(facts.ppc_stage, lang)
    return t(
        lang,
        f"{_subject(facts, lang)}の漏えい等報告（{stage}）",
        f"Report of a personal data breach ({stage})",
    )


def default_sections(facts: CaseFacts, lang: str) -> dict[str, str]:
    """The nine items pre-filled from the facts; what is not known yet says so."""
    pending = t(
        lang,
        "調査中（確報にて報告する。）" if facts.ppc_stage is PpcStage.PRELIMINARY else "該当なし",
        "Under investigation (to follow in the final report)."
        if facts.ppc_stage is PpcStage.PRELIMINARY
        else "None.",
    )
    total = blocks.format_persons(facts.total_persons, facts.total_estimated, lang)
    responses = facts.responses
    individual = "\n".join(x for x in (responses.notice_to_individuals, responses.takedown) if x)
    other = "\n".join(x for x in (responses.police, facts.other_notes) if x)
    return {
        "summary": "\n".join(
            (
                facts.summary,
                t(
                    lang,
                    f"発覚日時：{when(facts, facts.aware_at, lang)}",
                    f"Became aware: {when(facts, facts.aware_at, lang)}",
                ),
            )
        ),
        "items": t(lang, "下表のとおり。", "As in the table below.")
        if facts.data_sets
        else pending,
        "persons": t(lang, f"合計 {total}（内訳は2の表のとおり）", f"{total} in total (see 2).")
        if facts.data_sets
        else pending,
        "cause": "\n".join(facts.causes) or pending,
        "secondary_damage": facts.secondary_damage or pending,
        "individual_response": individual or pending,
        "publication": facts.publication or pending,
        "prevention": measures_text(facts.measures, lang) or pending,
        "other": other or pending,
    }


def build(
    facts: CaseFacts,
    *,
    lang: str = "ja",
    draft: bool,
    template: bytes | None = None,
    sections: Mapping[str, str] | None = None,
) -> Document:
    """The regulator report: reporter block and the nine numbered items."""
    check_lang(lang)
    text = resolve_sections(KIND, SECTION_KEYS, default_sections(facts, lang), sections)
    document = start(facts, lang, draft=draft, template=template)
    blocks.right_lines(
        document,
        (blocks.format_date(facts.document_date, lang), facts.organisation.name),
    )
    document.add_paragraph(
        t(lang, "個人情報保護委員会 御中", "To the Personal Information Protection Commission")
    )
    blocks.title_block(document, report_title(facts, lang), draft=draft, lang=lang)
    blocks.key_value_table(
        document,
        (
            (t(lang, "報告者", "Reported by"), facts.organisation.name),
            (t(lang, "担当部署・連絡先", "Contact"), contact_text(facts, lang)),
            (t(lang, "事案番号", "Case reference"), facts.case_reference),
            (t(lang, "報告の区分", "Stage"), stage_label(facts.ppc_stage, lang)),
            (t(lang, "発覚日時", "Became aware"), when(facts, facts.aware_at, lang)),
        ),
    )
    numbering = blocks.Sections(document)
    for key, heading in zip(SECTION_KEYS, item_headings(facts, lang), strict=True):
        numbering.heading(heading)
        blocks.paragraphs(document, text[key])
        if key == "items" and facts.data_sets:
            blocks.data_table(document, facts.data_sets, lang)
    return document
