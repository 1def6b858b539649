"""報道提供資料: the press release municipalities issue on a personal-data incident."""

from __future__ import annotations

from docx.document import Document

from csirt.documents import blocks
from csirt.documents.builders._common import (
    DocumentKind,
    bullets,
    contact_text,
    headings_of,
    issue_date,
    measures_text,
    persons_total,
    t,
)
from csirt.documents.facts import CaseFacts

KIND = "press_release"
SECTION_KEYS = (
    "lead",
    "overview",
    "staff",
    "timeline",
    "data",
    "cause",
    "response",
    "secondary_damage",
    "prevention",
    "future",
    "discipline",
    "caution",
    "contact",
)
HEADINGS = headings_of(KIND)
# Sections printed only when they have text (the rest always, so that a gap shows).
OPTIONAL = frozenset({"staff", "discipline"})
DEFAULT_CAUTION = (
    "本件に関連して、市職員等を装った不審な電話、電子メール、郵便物等があった場合は、"
    "応じることなく、下記問い合わせ先までご連絡ください。",
    "If you receive suspicious calls, e-mails or letters that refer to this incident or claim "
    "to come from our staff, do not respond, and tell us at the contact below.",
)


def _shown(key: str, text: dict[str, str]) -> bool:
    return key in HEADINGS and (key not in OPTIONAL or bool(text.get(key, "").strip()))


def headings(facts: CaseFacts, lang: str, sections: dict[str, str] | None = None) -> list[str]:
    """The level-1 headings in order, without numbers (staff and discipline only with text)."""
    text = sections if sections is not None else default_sections(facts, lang)
    return [HEADINGS[k][0 if lang == "ja" else 1] for k in SECTION_KEYS if _shown(k, text)]


def default_sections(facts: CaseFacts, lang: str) -> dict[str, str]:
    """The editable texts pre-filled from the facts."""
    staff = ""
    if facts.staff is not None:
        age = facts.staff.age
        staff = t(
            lang,
            f"{facts.staff.department} {facts.staff.post}職員" + (f"（{age}歳）" if age else ""),
            f"{facts.staff.post}, {facts.staff.department}" + (f" (aged {age})" if age else ""),
        )
    responses = facts.responses
    response_lines = [
        t(lang, f"本人への対応：{text}", f"Persons concerned: {text}")
        for text in (responses.notice_to_individuals,)
        if text
    ]
    if responses.takedown:
        response_lines.append(
            t(lang, f"削除要請：{responses.takedown}", f"Takedown: {responses.takedown}")
        )
    if responses.police:
        response_lines.append(t(lang, f"警察：{responses.police}", f"Police: {responses.police}"))
    exposures = sorted({ds.exposure for ds in facts.data_sets if ds.exposure})
    return {
        "lead": t(
            lang,
            "下記のとおり、個人情報の流出に係る事案が発生しましたのでお知らせいたします。"
            "関係者の皆様には多大なご迷惑とご心配をおかけしましたことを深くお詫び申し上げます。"
            "引き続き全容の解明と再発の防止に全力で取り組んでまいります。",
            "We announce the incident described below, in which personal data was leaked. "
            "We sincerely apologise to everyone affected for the trouble and concern caused, "
            "and will continue to investigate fully and to prevent any recurrence.",
        ),
        "overview": facts.summary,
        "staff": staff,
        "timeline": "",
        "data": "\n".join(
            [*exposures, t(lang, "対象者数：", "Persons concerned: ") + persons_total(facts, lang)]
        )
        if facts.data_sets
        else "",
        "cause": bullets(facts.causes, lang) if facts.causes else "",
        "response": "\n".join(f"({n}) {line}" for n, line in enumerate(response_lines, 1)),
        # Left blank, the heading would stand empty in the release: say it is being checked.
        "secondary_damage": facts.secondary_damage
        or t(lang, "現在確認中です。", "This is being investigated."),
        "prevention": measures_text(facts.measures, lang) if facts.measures else "",
        "future": facts.future_actions
        or t(
            lang,
            "引き続き事実関係の調査を進め、新たな事実が判明した場合は速やかに公表します。",
            "We will continue to investigate and will publish any new findings promptly.",
        ),
        "discipline": facts.discipline,
        "caution": facts.caution
        or facts.organisation.caution
        or t(lang, DEFAULT_CAUTION[0], DEFAULT_CAUTION[1]),
        "contact": contact_text(facts, lang),
    }


def header(facts: CaseFacts, lang: str) -> list[str]:
    """報道提供資料, the date (和暦), the issuing department and its phone."""
    contact = facts.organisation.contact
    return [
        t(lang, "報道提供資料", "Press release"),
        issue_date(facts, lang),
        f"{facts.organisation.name} {facts.organisation.department}",
        t(lang, f"電話 {contact.phone}", f"Phone {contact.phone}") if contact.phone else "",
    ]


def body(
    document: Document, text: dict[str, str], facts: CaseFacts, lang: str, draft: bool
) -> None:
    """The lead, 記, the numbered sections with the timeline and data tables, 以上."""
    blocks.paragraphs(document, text["lead"], indent=False)
    if lang == "ja":
        blocks.centred(document, "記")
    numbering = blocks.Sections(document)
    for key in SECTION_KEYS:
        if not _shown(key, text):
            continue
        numbering.heading(HEADINGS[key][0 if lang == "ja" else 1])
        blocks.paragraphs(document, text[key])
        if key == "timeline":
            blocks.timeline_table(document, facts.timeline, lang, facts.zone)
        elif key == "data" and facts.data_sets:
            blocks.data_table(document, facts.data_sets, lang, persons_total(facts, lang))
    if lang == "ja":
        blocks.right_lines(document, ("以上",))


def _title(facts: CaseFacts, lang: str) -> str:
    return facts.title


SPEC = DocumentKind(KIND, SECTION_KEYS, default_sections, body, header=header, title=_title)
