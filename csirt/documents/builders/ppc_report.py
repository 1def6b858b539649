"""漏えい等報告: the report to the Personal Information Protection Commission (速報 / 確報).

The PPC takes reports through its online form; this document is the working copy of what is
entered there, item by item: the 報告対象事態 (規則43条 for 行政機関等 and local governments,
規則7条 for businesses) ticked from triage, then the nine items of 規則8条1項 (applied by
規則44条), with the occurrence, discovery, medium, 要配慮 flags, direct cause and background,
and measures taken and planned.
"""

from __future__ import annotations

from docx.document import Document
from docx.shared import Pt

from csirt.documents import blocks
from csirt.documents.builders._common import (
    DocumentKind,
    bullets,
    contact_text,
    issue_date,
    measures_text,
    persons_total,
    signatory,
    t,
    when,
)
from csirt.documents.facts import CaseFacts, MeasureStatus, PpcStage

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
# The reportable situations (報告対象事態): key, the prefix of triage's reason, the wording.
SITUATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("sensitive", "要配慮", "要配慮個人情報が含まれる事態", "Sensitive personal data"),
    (
        "financial",
        "財産的",
        "不正に利用されることにより財産的被害が生じるおそれがある事態",
        "Risk of financial damage through misuse",
    ),
    (
        "wrongful",
        "不正の目的",
        "不正の目的をもって行われたおそれがある事態",
        "Possibly done with wrongful intent",
    ),
    ("persons", "本人の数", "本人の数が{n}人を超える事態", "More than {n} persons"),
    (
        "ordinance",
        "条例要配慮",
        "条例要配慮個人情報が含まれる事態",
        "Data the ordinance makes sensitive",
    ),
)
WORKING_COPY = (
    "本書は、個人情報保護委員会の漏えい等報告フォーム（オンライン）に入力する内容の控えです。"
    "報告は同フォームにより行います。",
    "This is the working copy of what is entered in the PPC's online breach-report form; the "
    "report itself is made through that form.",
)


def _subject(facts: CaseFacts, lang: str) -> str:
    if lang == "ja":
        return "保有個人情報" if facts.organisation.public_body else "個人データ"
    return "personal information"


def _local_government(facts: CaseFacts) -> bool:
    kind = facts.triage.org_kind if facts.triage else ""
    return kind == "local_government" or (not kind and facts.organisation.public_body)


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


def situations(facts: CaseFacts) -> dict[str, bool]:
    """Which reportable situations apply: from triage's reasons, else from the facts (要配慮
    items in a data set, the stated number of persons over the threshold)."""
    reasons = facts.triage.reasons if facts.triage else ()
    ticked = {key: False for key, *_ in SITUATIONS}
    for key, prefix, *_ in SITUATIONS:
        for reason in reasons:
            if key == "sensitive" and reason.startswith("条例"):
                continue
            if reason.startswith(prefix) or (key == "persons" and "を超える" in reason):
                ticked[key] = True
    if not reasons:
        ticked["sensitive"] = any(ds.sensitive_items for ds in facts.data_sets)
        ticked["persons"] = facts.total_persons > _threshold(facts)
    return ticked


def _threshold(facts: CaseFacts) -> int:
    return 100 if _local_government(facts) or facts.organisation.public_body else 1000


def situation_lines(facts: CaseFacts, lang: str) -> list[str]:
    """The checklist of reportable situations, ☑ where one applies (the 規則 and its 号)."""
    local = _local_government(facts)
    rule, rule_en = (
        ("規則43条", "Rules Art. 43")
        if facts.organisation.public_body
        else ("規則7条", "Rules Art. 7")
    )
    ticked = situations(facts)
    lines = []
    for number, (key, _prefix, ja, en) in enumerate(SITUATIONS, start=1):
        if key == "ordinance" and not local:
            continue
        mark = "☑" if ticked[key] else "☐"
        n = f"{_threshold(facts):,}"
        lines.append(
            t(
                lang,
                f"{mark} {ja.format(n=n)}（{rule}{number}号）",
                f"{mark} {en.format(n=n)} ({rule_en}({number}))",
            )
        )
    return lines


def _sensitive(facts: CaseFacts, lang: str) -> str:
    labels = sorted({label for ds in facts.data_sets for label in ds.sensitive_items})
    if not labels:
        return t(lang, "要配慮個人情報：含まれない", "Sensitive personal data: none")
    joined = t(lang, "、", ", ").join(labels)
    return t(
        lang, f"要配慮個人情報：含まれる（{joined}）", f"Sensitive personal data: yes ({joined})"
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
    unknown = t(lang, "調査中", "under investigation")
    responses = facts.responses
    individual = "\n".join(x for x in (responses.notice_to_individuals, responses.takedown) if x)
    other = "\n".join(x for x in (responses.police, facts.other_notes) if x)
    taken = [m for m in facts.measures if m.status is MeasureStatus.DONE]
    planned = [m for m in facts.measures if m.status is not MeasureStatus.DONE]
    prevention = []
    if taken:
        prevention += [t(lang, "【実施済みの措置】", "Measures taken:"), measures_text(taken, lang)]
    if planned:
        prevention += [
            t(lang, "【今後実施予定の措置】", "Measures planned:"),
            measures_text(planned, lang),
        ]
    causes = []
    if facts.direct_cause:
        causes += [t(lang, "【直接の原因】", "Direct cause:"), facts.direct_cause]
    if facts.causes:
        causes += [
            t(lang, "【背景・管理上の問題】", "Background and control failures:"),
            bullets(facts.causes, lang),
        ]
    return {
        "summary": "\n".join(
            x
            for x in (
                facts.summary,
                t(lang, "発生日時（期間）：", "Occurred: ") + (facts.occurrence or unknown),
                t(lang, "発覚日時：", "Became aware: ") + when(facts, facts.aware_at, lang),
                t(lang, "発覚の経緯：", "How it was found: ") + (facts.discovery or unknown),
            )
            if x
        ),
        "items": "\n".join(
            (
                t(lang, "下表のとおり。", "As in the table below."),
                _sensitive(facts, lang),
                t(lang, "媒体等：", "Medium: ") + (facts.medium or unknown),
            )
        )
        if facts.data_sets
        else pending,
        "persons": t(
            lang,
            f"{persons_total(facts, lang)}（内訳は2の表のとおり）",
            f"{persons_total(facts, lang)} (see 2).",
        )
        if facts.data_sets
        else pending,
        "cause": "\n".join(causes) or pending,
        "secondary_damage": facts.secondary_damage or pending,
        "individual_response": individual or pending,
        "publication": facts.publication or pending,
        "prevention": "\n".join(prevention) or pending,
        "other": other or pending,
    }


def header(facts: CaseFacts, lang: str) -> list[str]:
    """The date (和暦) and the reporting body's head."""
    return [issue_date(facts, lang), signatory(facts)]


def addressee(facts: CaseFacts, lang: str) -> list[str]:
    """個人情報保護委員会 御中."""
    return [t(lang, "個人情報保護委員会 御中", "To the Personal Information Protection Commission")]


def body(
    document: Document, text: dict[str, str], facts: CaseFacts, lang: str, draft: bool
) -> None:
    """The working-copy note, the reporter block, the reportable situations and the nine
    numbered items."""
    note = document.add_paragraph(t(lang, *WORKING_COPY))
    note.paragraph_format.space_after = Pt(8)
    contact = contact_text(facts, lang)
    if facts.contact_person:
        contact = t(lang, f"担当者：{facts.contact_person}", f"Person: {facts.contact_person}")
        contact += "\n" + contact_text(facts, lang)
    rows = [
        (t(lang, "報告者", "Reported by"), facts.reporter or signatory(facts)),
        (t(lang, "保有者", "Holder of the data"), facts.data_holder),
        (t(lang, "担当部署・連絡先", "Contact"), contact),
        (t(lang, "事案番号", "Case reference"), facts.case_reference),
        (t(lang, "報告の区分", "Stage"), stage_label(facts.ppc_stage, lang)),
        (t(lang, "発覚日時", "Became aware"), when(facts, facts.aware_at, lang)),
    ]
    blocks.key_value_table(document, [row for row in rows if row[1]])
    numbering = blocks.Sections(document)
    document.add_heading(t(lang, "報告対象事態", "Reportable situation"), level=2)
    blocks.paragraphs(document, "\n".join(situation_lines(facts, lang)))
    for key, heading in zip(SECTION_KEYS, item_headings(facts, lang), strict=True):
        numbering.heading(heading)
        blocks.paragraphs(document, text[key])
        if key == "items" and facts.data_sets:
            blocks.data_table(document, facts.data_sets, lang, persons_total(facts, lang))


SPEC = DocumentKind(
    KIND,
    SECTION_KEYS,
    default_sections,
    body,
    header=header,
    title=report_title,
    before_title=addressee,
)
