"""本人への通知: the letter to the persons concerned, with the items of 規則10条."""

from __future__ import annotations

from docx.document import Document

from csirt.documents import blocks
from csirt.documents.builders._common import (
    DocumentKind,
    bullets,
    contact_text,
    headings_of,
    issue_date,
    signatory,
    t,
)
from csirt.documents.facts import CaseFacts, DataSet

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
    "recipients",
)
HEADINGS = headings_of(KIND)


def headings(lang: str) -> list[str]:
    """The numbered headings in order."""
    return [HEADINGS[k][0 if lang == "ja" else 1] for k in SECTION_KEYS if k in HEADINGS]


def notice_title(lang: str) -> str:
    """The letter's title."""
    return t(
        lang,
        "個人情報の漏えい等に関するお知らせとお詫び",
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
            f"このたび、{facts.organisation.name}が保有する皆様の個人情報が外部に漏えいし、又は"
            "漏えいしたおそれがあることが判明いたしました。皆様に多大なご迷惑とご心配をおかけ"
            "しましたことを深くお詫び申し上げます。下記のとおりお知らせいたします。",
            f"Personal data about you held by {facts.organisation.name} has been, or may have "
            "been, leaked. We sincerely apologise for the trouble and concern this causes. "
            "The details are set out below.",
        ),
        "overview": facts.summary,
        "items": t(
            lang,
            "皆様に関する情報のうち、対象となる項目は次のとおりです。",
            "The data about you concerned:",
        )
        if facts.data_sets
        else "",
        "cause": bullets(facts.causes, lang) if facts.causes else "",
        "secondary_damage": facts.secondary_damage,
        "other": "\n".join(other),
        "contact": contact_text(facts, lang),
        # The recipient group: the names of the data sets that concern them, one per line
        # (the letter lists only those). Default: every data set.
        "recipients": "\n".join(ds.name for ds in facts.data_sets),
    }


def concerning(facts: CaseFacts, recipients: str) -> tuple[DataSet, ...]:
    """The data sets named in the recipients section (all when it names none of them)."""
    names = {line.strip() for line in recipients.splitlines() if line.strip()}
    chosen = tuple(ds for ds in facts.data_sets if ds.name in names)
    return chosen or facts.data_sets


def header(facts: CaseFacts, lang: str) -> list[str]:
    """The date (和暦) and the head of the body, who signs the letter."""
    return [issue_date(facts, lang), signatory(facts)]


def body(
    document: Document, text: dict[str, str], facts: CaseFacts, lang: str, draft: bool
) -> None:
    """The letter to one group of recipients: addressee, title, apology, numbered items with
    the data sets that concern them (no grand total), 以上."""
    blocks.paragraphs(document, text["addressee"], indent=False)
    blocks.title_block(document, notice_title(lang), draft=draft, lang=lang)
    blocks.paragraphs(document, text["greeting"], indent=False)
    if lang == "ja":
        blocks.centred(document, "記")
    numbering = blocks.Sections(document)
    data_sets = concerning(facts, text["recipients"])
    for key in SECTION_KEYS:
        if key not in HEADINGS:
            continue
        numbering.heading(HEADINGS[key][0 if lang == "ja" else 1])
        blocks.paragraphs(document, text[key])
        if key == "items" and data_sets:
            blocks.data_table(document, data_sets, lang)
    if lang == "ja":
        blocks.right_lines(document, ("以上",))


SPEC = DocumentKind(KIND, SECTION_KEYS, default_sections, body, header=header)
