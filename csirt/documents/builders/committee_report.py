"""検証委員会報告書: the investigation committee's report (日弁連 guideline structure)."""

from __future__ import annotations

from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from csirt.documents import blocks
from csirt.documents.builders._common import (
    DocumentKind,
    headings_of,
    issue_date,
    local_date,
    numbered,
    obligation_assessment,
    obligation_label,
    persons_total,
    t,
    when,
)
from csirt.documents.facts import CaseFacts

KIND = "committee_report"
SECTION_KEYS = (
    "mandate",
    "independence",
    "scope",
    "method",
    "period",
    "facts",
    "findings",
    "causes",
    "evaluation",
    "recommendations",
    "conclusion",
)
H = headings_of(KIND)
EVALUATION_HEADERS = {
    "ja": ("項目", "期限", "実施日", "評価"),
    "en": ("Item", "Due", "Done", "Assessment"),
}


def _h(key: str, lang: str) -> str:
    return H[key][0 if lang == "ja" else 1]


def headings(lang: str) -> list[str]:
    """The level-1 headings in order, without numbers (資料編 last)."""
    keys = ("intro", "facts", "analysis", "evaluation", "recommendations", "conclusion")
    return [_h(k, lang) for k in keys] + [_h("appendix", lang)]


def report_title(facts: CaseFacts, lang: str) -> str:
    """The committee's name and 報告書, or the case title when there is no committee yet."""
    if facts.committee is not None:
        return f"{facts.committee.name} {t(lang, '報告書', 'Report')}"
    return t(lang, f"{facts.title} 検証報告書", f"Review report: {facts.title}")


def default_sections(facts: CaseFacts, lang: str) -> dict[str, str]:
    """The editable texts pre-filled from the facts."""
    committee = facts.committee
    period = ""
    mandate = independence = scope = method = ""
    if committee is not None:
        start_day = blocks.format_date(committee.period_start, lang)
        end_day = blocks.format_date(committee.period_end, lang)
        period = t(lang, f"{start_day}から{end_day}まで", f"From {start_day} to {end_day}.")
        mandate, independence = committee.mandate, committee.independence
        scope, method = committee.scope, committee.method
    days = facts.days_to_first_contact
    evaluation = []
    if facts.first_report_at is not None:
        reported = when(facts, facts.first_report_at, lang)
        if days is not None:
            evaluation.append(
                t(
                    lang,
                    f"最初の通報（{reported}）から通報者への最初の連絡まで{days}日を要した。",
                    f"{days} days passed between the first report ({reported}) and the first "
                    "contact with the reporter.",
                )
            )
        else:
            evaluation.append(
                t(
                    lang,
                    f"最初の通報（{reported}）以降、通報者への連絡は行われていない。",
                    f"The reporter has not been contacted since the first report ({reported}).",
                )
            )
    late = [
        o
        for o in (facts.triage.obligations if facts.triage else ())
        if o.in_force and (o.done_at is None or o.done_at > o.due)
    ]
    if late:
        names = t(lang, "、", ", ").join(obligation_label(o, lang) for o in late)
        evaluation.append(
            t(
                lang,
                f"期限までに実施されなかった対応：{names}。",
                f"Not done on time: {names}.",
            )
        )
    return {
        "mandate": mandate,
        "independence": independence,
        "scope": scope,
        "method": method,
        "period": period,
        "facts": t(
            lang,
            "本委員会が認定した事実経過は以下のとおりである（一覧は資料2）。",
            "The course of events established by the committee is as follows (list in Appendix 2).",
        ),
        "findings": numbered(facts.findings),
        "causes": numbered(facts.causes),
        "evaluation": "\n".join(evaluation),
        "recommendations": t(
            lang,
            "本委員会は、再発防止に向けて以下のとおり提言する。",
            "The committee makes the following recommendations to prevent recurrence.",
        ),
        "conclusion": t(
            lang,
            "本委員会の提言が着実に実行され、その実施状況が公表されることを強く期待する。",
            "The committee expects its recommendations to be carried out and their progress "
            "to be published.",
        ),
    }


def body(
    document: Document, text: dict[str, str], facts: CaseFacts, lang: str, draft: bool
) -> None:
    """Cover, contents, six numbered chapters and the appendices."""
    _cover(document, facts, lang, draft)
    toc_anchor = document.add_paragraph()
    blocks.page_break(document)

    numbering = blocks.Sections(document)
    numbering.heading(_h("intro", lang))
    for key in ("mandate", "members", "independence", "scope", "method", "period", "meetings"):
        if key == "meetings" and not (facts.committee and facts.committee.meetings):
            continue
        numbering.sub(_h(key, lang))
        if key == "members":
            _members(document, facts, lang)
        elif key == "meetings":
            _meetings(document, facts, lang)
        else:
            blocks.paragraphs(document, text[key])

    numbering.heading(_h("facts", lang))
    blocks.paragraphs(document, text["facts"])
    _narrative_timeline(document, facts, lang)

    numbering.heading(_h("analysis", lang))
    numbering.sub(_h("findings", lang))
    blocks.paragraphs(document, text["findings"])
    numbering.sub(_h("causes", lang))
    blocks.paragraphs(document, text["causes"])

    numbering.heading(_h("evaluation", lang))
    blocks.paragraphs(document, text["evaluation"])
    _evaluation_table(document, facts, lang)

    numbering.heading(_h("recommendations", lang))
    blocks.paragraphs(document, text["recommendations"])
    for rec in sorted(facts.recommendations, key=lambda r: r.number):
        label = t(lang, f"提言{rec.number}", f"Recommendation {rec.number}")
        document.add_heading(f"{label}　{rec.title}" if rec.title else label, level=3)
        if rec.finding:
            blocks.paragraphs(
                document, t(lang, f"【指摘】{rec.finding}", f"Finding: {rec.finding}")
            )
            blocks.paragraphs(
                document, t(lang, f"【提言】{rec.text}", f"Recommendation: {rec.text}")
            )
        else:
            blocks.paragraphs(document, rec.text)
        owner = document.add_paragraph(t(lang, f"（担当：{rec.owner}）", f"(Owner: {rec.owner})"))
        owner.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    numbering.heading(_h("conclusion", lang))
    blocks.paragraphs(document, text["conclusion"])

    blocks.page_break(document)
    numbering.unnumbered(_h("appendix", lang))
    document.add_heading(_h("appendix_data", lang), level=2)
    blocks.data_table(document, facts.data_sets, lang, persons_total(facts, lang))
    document.add_heading(_h("appendix_timeline", lang), level=2)
    blocks.timeline_table(document, facts.timeline, lang, facts.zone)
    if facts.measures:
        document.add_heading(_h("appendix_measures", lang), level=2)
        blocks.measures_table(document, facts.measures, lang)

    blocks.table_of_contents(document, toc_anchor, lang)


SPEC = DocumentKind(KIND, SECTION_KEYS, default_sections, body)


def _cover(document: Document, facts: CaseFacts, lang: str, draft: bool) -> None:
    for _ in range(8):
        document.add_paragraph()
    # The committee's name and 報告書 on lines of their own: 書 never stands alone.
    name, _, last = report_title(facts, lang).rpartition(" ")
    title = blocks.title_block(document, name or last, draft=draft, lang=lang)
    if name:
        title.add_run().add_break()
        title.add_run(last)
    for run in title.runs:
        run.font.size = Pt(22)
    for _ in range(14):
        document.add_paragraph()
    for line in (issue_date(facts, lang), facts.organisation.name):
        paragraph = document.add_paragraph(line)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.runs[0].font.size = Pt(12)
    if facts.committee is not None:
        paragraph = document.add_paragraph(facts.committee.name)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.runs[0].font.size = Pt(12)
    blocks.page_break(document)


def _members(document: Document, facts: CaseFacts, lang: str) -> None:
    members = facts.committee.members if facts.committee else ()
    rows = [(m.role, m.name, m.affiliation) for m in members]
    headers = t(lang, "役職", "Role"), t(lang, "氏名", "Name"), t(lang, "所属等", "Affiliation")
    blocks.table(document, headers, rows, (2.6, 4.0, blocks.TEXT_WIDTH_CM - 6.6))


def _meetings(document: Document, facts: CaseFacts, lang: str) -> None:
    meetings = facts.committee.meetings if facts.committee else ()
    rows = [(blocks.format_date(m.day, lang), m.summary) for m in meetings]
    headers = t(lang, "開催日", "Date"), t(lang, "内容", "Business")
    blocks.table(document, headers, rows, (3.6, blocks.TEXT_WIDTH_CM - 3.6))


def _narrative_timeline(document: Document, facts: CaseFacts, lang: str) -> None:
    stamp_proto = document.add_paragraph()
    stamp_proto.paragraph_format.left_indent = Cm(0.5)
    stamp_proto.paragraph_format.keep_with_next = True
    stamp_proto.paragraph_format.space_after = Pt(0)
    stamp_proto.add_run("-").bold = True
    body_proto = document.add_paragraph()
    body_proto.paragraph_format.left_indent = Cm(1.0)
    body_proto.add_run("-")
    # The prototypes are removed once copied; each event is a copy of them.
    for event in facts.timeline:
        stamp = blocks.format_datetime(event.occurred_at, event.precision, lang, facts.zone)
        blocks.append_copies(document, stamp_proto, [f"{stamp}　{event.title}"])
        if event.description:
            blocks.append_copies(document, body_proto, [event.description])
    for proto in (stamp_proto, body_proto):
        proto._p.getparent().remove(proto._p)


def _evaluation_table(document: Document, facts: CaseFacts, lang: str) -> None:
    rows: list[tuple[str, str, str, str]] = []
    if facts.first_report_at is not None:
        contact = facts.first_contact_with_reporter_at
        days = facts.days_to_first_contact
        rows.append(
            (
                t(lang, "通報から通報者への最初の連絡", "First report to first contact"),
                blocks.format_date(local_date(facts, facts.first_report_at), lang),
                blocks.format_date(local_date(facts, contact), lang) if contact else "—",
                t(lang, f"{days}日", f"{days} days") if days is not None else "—",
            )
        )
    for obligation in facts.triage.obligations if facts.triage else ():
        done = obligation.done_at
        rows.append(
            (
                obligation_label(obligation, lang),
                blocks.format_date(local_date(facts, obligation.due), lang),
                blocks.format_date(local_date(facts, done), lang) if done else "—",
                obligation_assessment(facts, obligation, lang),
            )
        )
    if rows:
        blocks.table(document, EVALUATION_HEADERS[lang], rows, (4.2, 3.7, 3.7, 4.4))


__all__ = ["KIND", "SECTION_KEYS", "SPEC", "default_sections", "headings", "report_title"]
