"""本人への通知: the letter to the persons concerned, with the items of 規則10条."""

from __future__ import annotations

from collections.abc import Mapping

from docx.document import Document

from csirt.documents import blocks
from csirt.documents.builders._common import (
    bullets,
    check_lang,
    contact_text,
    resolve_sections,
    start,
    t,
)
from csirt.documents.facts import CaseFacts

KIND = "individual_notice"
SECTION_KEYS = (
    "addressee",
    "greeting",
    "overview",
    "items",
    "cause",
    "secondary_damage",
    "other",
    "contact",
)
HEADINGS: dict[str, tuple[str, str]] = {
    "overview": ("概要", "What happened"),
    "items": ("流出した（おそれのある）個人情報の項目", "Personal data concerned"),
    "cause": ("原因", "Cause"),
    "secondary_damage": (
        "二次被害又はそのおそれの有無及びその内容",
        "Secondary damage or its risk",
    ),
    "other": ("その他", "Other information"),
    "contact": ("お問い合わせ先", "Contact"),
}


def headings(lang: str) -> list[str]:
    """The numbered headings in order."""
    return [HEADINGS[k][0 if lang == "ja" else 1] for k in SECTION_KEYS if k in HEADINGS]


def notice_title(lang: str) -> str:
    """The letter's title."""
    return t(
        lang,
        "個人情報の流出に関するお知らせとお詫び",
        "Notice of a leak of your personal data, and our apology",
    )


def default_sections(facts: CaseFacts, lang: str) -> dict[str, str]:
    """The editable texts pre-filled from the facts."""
    other = [x for x in (facts.responses.notice_to_individuals, facts.responses.takedown) if x]
    other.append(
        t(
            lang,
            "本件に関連した不審な電話、電子メール、郵便物等にご注意ください。"
            "不審な連絡があった場合は、下記お問い合わせ先までご連絡ください。",
            "Please be wary of suspicious calls, e-mails or letters that refer to this "
            "incident, and tell us about them at the contact below.",
        )
    )
    return {
        "addressee": t(lang, "関係者各位", "Dear Sir or Madam,"),
        "greeting": t(
            lang,
            f"このたび、{facts.organisation.name}が保有する皆様の個人情報が流出した（おそれのある）"
            "事案が発生いたしました。皆様に多大なご迷惑とご心配をおかけしましたことを深くお詫び"
            "申し上げます。下記のとおりお知らせいたします。",
            f"Personal data about you held by {facts.organisation.name} has been, or may have "
            "been, leaked. We sincerely apologise for the trouble and concern this causes. "
            "The details are set out below.",
        ),
        "overview": facts.summary,
        "items": t(
            lang, "流出した（おそれのある）個人情報は次のとおりです。", "The data concerned:"
        )
        if facts.data_sets
        else "",
        "cause": bullets(facts.causes, lang) if facts.causes else "",
        "secondary_damage": facts.secondary_damage,
        "other": "\n".join(other),
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
    """The notice letter: addressee, apology, numbered items, data table, contact."""
    check_lang(lang)
    text = resolve_sections(KIND, SECTION_KEYS, default_sections(facts, lang), sections)
    document = start(facts, lang, draft=draft, template=template)
    blocks.right_lines(
        document,
        (
            blocks.format_date(facts.document_date, lang),
            facts.organisation.name,
            facts.organisation.department,
        ),
    )
    blocks.paragraphs(document, text["addressee"], indent=False)
    blocks.title_block(document, notice_title(lang), draft=draft, lang=lang)
    blocks.paragraphs(document, text["greeting"], indent=False)
    if lang == "ja":
        blocks.centred(document, "記")
    numbering = blocks.Sections(document)
    for key in SECTION_KEYS:
        if key not in HEADINGS:
            continue
        numbering.heading(HEADINGS[key][0 if lang == "ja" else 1])
        blocks.paragraphs(document, text[key])
        if key == "items" and facts.data_sets:
            blocks.data_table(document, facts.data_sets, lang)
    if lang == "ja":
        blocks.right_lines(document, ("以上",))
    return document
