from __future__ import annotations

import dataclasses
import io
from datetime import date

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.shared import Cm

from csirt.demo_story import founding_facts
from csirt.documents import blocks, fields
from csirt.documents.builders import (
    KINDS,
    SECTIONS,
    UnknownKindError,
    UnknownSectionError,
    UnsupportedLanguageError,
    build_document,
    committee_report,
    default_sections,
    get_builder,
    ppc_report,
    press_release,
    to_bytes,
)
from csirt.documents.facts import MeasureStatus, PpcStage
from tests.documents.helpers import body_text, header, headings, roundtrip, rows, seen, title

JA = founding_facts("ja")
EN = founding_facts("en")
# A committee report is dated on or after the end of the committee's period.
COMMITTEE_DAY = date(2016, 2, 25)
JA_COMMITTEE = founding_facts("ja", as_of=COMMITTEE_DAY)
EN_COMMITTEE = founding_facts("en", as_of=COMMITTEE_DAY)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_kind_builds_and_reopens(kind: str, lang: str) -> None:
    facts = JA if lang == "ja" else EN
    document = roundtrip(kind, facts, lang=lang)
    assert headings(document)[0].startswith("1")
    assert title(document)
    assert abs(document.sections[0].page_width - Cm(21.0)) < Cm(0.01)


@pytest.mark.parametrize("kind", KINDS)
def test_default_sections_follow_the_contract(kind: str) -> None:
    assert tuple(default_sections(kind, JA)) == SECTIONS[kind]


def test_press_release_headings_in_order() -> None:
    document = roundtrip("press_release", JA)
    assert headings(document) == [
        "1　概要",
        "2　職員の所属・役職等",
        "3　経過",
        "4　漏えいした（又はそのおそれがある）情報",
        "5　原因",
        "6　対応",
        "7　二次被害の有無",
        "8　再発防止策",
        "9　今後の対応",
        "10　市民の皆様へのお願い",
        "11　問い合わせ先",
    ]
    text = body_text(document)
    assert "会計室 課長補佐級職員（59歳）" in text
    assert "報道提供資料" in text
    assert "072-000-0000" in text
    # 和暦 with 西暦 and the weekday, as cities date their releases.
    assert "平成27年(2015年)12月14日（月）" in text
    assert "不審な電話" in text  # the caution to residents


def test_press_release_dated_2015_says_nothing_of_2016() -> None:
    document = roundtrip("press_release", JA)
    text = body_text(document)
    assert all(row[0].startswith("2015年") for row in rows(document.tables[0]))
    assert "刑事告訴" not in text
    assert "告訴状" not in text
    assert "広報さかい1月号" not in text
    assert "検証委員会報告書の公表" not in text
    # Measures due in 2016 are not done in December 2015.
    assert "実施済み" not in text


def test_discipline_section_only_with_text() -> None:
    facts = dataclasses.replace(JA, discipline="2015年12月14日付けで懲戒免職処分とした。")
    found = headings(roundtrip("press_release", facts))
    assert "10　職員の処分" in found


def test_press_release_without_staff_misconduct_renumbers() -> None:
    facts = dataclasses.replace(JA, staff=None)
    found = headings(roundtrip("press_release", facts))
    assert found[:3] == ["1　概要", "2　経過", "3　漏えいした（又はそのおそれがある）情報"]
    assert len(found) == 10
    assert press_release.headings(facts, "ja") == [h.split("　", 1)[1] for h in found]


def test_timeline_table_lists_every_public_event_in_order() -> None:
    document = roundtrip("press_release", JA)
    timeline = document.tables[0]
    assert header(timeline) == ["日時", "事項"]
    found = rows(timeline)
    assert len(found) == len(JA.events)
    # As precise as the source: the exposure is known to the month, the tip "午後8時頃".
    assert found[0][0] == "2015年4月"
    assert found[1][0] == "2015年6月24日 午後8時頃"
    assert found[1][1].startswith("匿名の通報を受付\n")
    assert found[2][0] == "2015年6月25日"


def test_data_table_rows_and_counts_match_the_data_sets() -> None:
    document = roundtrip("press_release", JA)
    data = document.tables[1]
    assert header(data) == ["情報の名称", "保有部署", "項目", "人数"]
    found = rows(data)
    assert len(found) == len(JA.data_sets) + 1
    roll = found[0]
    assert roll[0].startswith("選挙人名簿")
    assert roll[1] == "北区選挙管理委員会事務局"
    assert roll[2] == "氏名、性別、生年月日、住所"
    # Japanese rounding of an estimate, exact figures without 約, upper bounds as 最大.
    assert roll[3] == "約68万人"
    assert found[1][3] == "約1,000人"
    assert found[2][3] == "11人"
    # Data sets within another are marked ※ and named in a note under the table.
    assert found[4][3] == "約125人※"
    assert found[5][3] == "最大393人※"
    note = next(p.text for p in document.paragraphs if p.text.startswith("※"))
    assert note.endswith("の対象者に含まれます（合計には含めていません）。")
    assert "選挙人名簿" in note
    # The city's own figure (overlaps removed), not the sum 681,572.
    assert found[-1] == ["合計", "", "", "約68万人\n（重複を除く）"]
    assert "681,572" not in body_text(document)


def test_english_variant() -> None:
    document = roundtrip("press_release", EN, lang="en")
    assert headings(document)[0] == "1　Overview"
    assert headings(document)[-1] == "11　Contact"
    timeline, data = document.tables[:2]
    assert rows(timeline)[1][0] == "24 June 2015, about 20:00"
    assert rows(data)[0][3] == "about 680,000 persons"
    assert rows(data)[2][3] == "11 persons"
    assert rows(data)[0][2] == "Name, Sex, Date of birth, Address"  # vocabulary labels
    assert "記" not in [p.text for p in document.paragraphs]


@pytest.mark.parametrize("kind", KINDS)
def test_draft_has_watermark_and_mark_final_has_neither(kind: str) -> None:
    draft = roundtrip(kind, JA, draft=True)
    assert blocks.has_watermark(draft)
    assert title(draft).startswith("【案】")
    header_xml = draft.sections[0].header._element.xml
    assert 'string="案 DRAFT"' in header_xml
    final = roundtrip(kind, JA, draft=False)
    assert not blocks.has_watermark(final)
    assert "【案】" not in body_text(final)


def test_english_draft_mark() -> None:
    draft = roundtrip("ppc_report", EN, lang="en", draft=True)
    assert title(draft).startswith("DRAFT")
    assert 'string="DRAFT"' in draft.sections[0].header._element.xml


@pytest.mark.parametrize("kind", KINDS)
def test_page_number_field_in_footer(kind: str) -> None:
    document = roundtrip(kind, JA)
    footer = document.sections[0].footer._element
    assert [t.strip() for t in footer.xpath(".//w:instrText/text()")] == ["PAGE"]


def test_edited_sections_replace_defaults_and_tables_stay() -> None:
    document = roundtrip(
        "press_release", JA, sections={"overview": "編集した概要。\n二段落目。", "cause": ""}
    )
    texts = [p.text for p in document.paragraphs]
    start = texts.index("1　概要")
    assert texts[start + 1 : start + 3] == ["編集した概要。", "二段落目。"]
    assert texts[texts.index("5　原因") + 1] == "6　対応"
    assert len(rows(document.tables[1])) == len(JA.data_sets) + 1


def test_unknown_section_key_is_refused() -> None:
    with pytest.raises(UnknownSectionError, match="nonsense"):
        build_document("press_release", JA, draft=True, sections={"nonsense": "x"})


def test_unknown_kind_and_language_are_refused() -> None:
    with pytest.raises(UnknownKindError):
        get_builder("memo")
    with pytest.raises(UnknownKindError):
        default_sections("memo", JA)
    with pytest.raises(UnsupportedLanguageError):
        build_document("press_release", JA, lang="fr", draft=True)
    with pytest.raises(UnsupportedLanguageError):
        default_sections("press_release", JA, "fr")


def test_committee_report_structure() -> None:
    document = roundtrip("committee_report", JA_COMMITTEE)
    assert headings(document) == [
        "1　序論",
        "2　事実経過",
        "3　原因分析",
        "4　対応の評価",
        "5　提言",
        "6　結語",
        "資料編",
    ]
    assert headings(document, 2)[:6] == [
        "(1)　委嘱の経緯",
        "(2)　委員構成",
        "(3)　委員会の独立性",
        "(4)　検証の範囲",
        "(5)　検証の方法",
        "(6)　検証の期間",
    ]
    assert headings(document, 2)[6] == "(7)　開催経過"
    # The committee's name and 報告書 on lines of their own.
    assert title(document) == "堺市個人情報流出事案検証委員会\n報告書"
    # The contents give page numbers: PAGEREF fields to bookmarks on the headings, which
    # LibreOffice computes on layout and Word updates on open.
    instr = document.element.body.xpath(".//w:instrText/text()")
    refs = [i.split()[1] for i in instr if i.strip().startswith("PAGEREF")]
    bookmarks = document.element.body.xpath(".//w:bookmarkStart/@w:name")
    assert refs
    assert set(refs) <= set(bookmarks)
    assert document.settings.element.find(blocks.qn("w:updateFields")) is not None
    texts = [p.text for p in document.paragraphs]
    toc_start = texts.index("目次")
    assert [t.rstrip("\t") for t in texts[toc_start + 1 : toc_start + 3]] == [
        "1　序論",
        "(1)　委嘱の経緯",
    ]
    assert texts.index("目次") < texts.index("1　序論", toc_start + 2)
    recs = headings(document, 3)
    assert recs[0] == "提言1　インターネット上の不審事象への対応"
    assert len(recs) == len(JA_COMMITTEE.recommendations)
    # A recommendation answers a finding (指摘事項).
    assert any(t.startswith("【指摘】市は匿名の通報から約3か月間") for t in texts)
    # Owners that existed when the committee reported (the CSIRT was set up in April 2016).
    assert "（担当：CSIRT）" not in texts
    assert "（担当：総務局）" in texts
    assert "2015年12月21日から2016年2月25日まで" in texts


def test_committee_report_tables() -> None:
    document = roundtrip("committee_report", JA_COMMITTEE)
    members, meetings, evaluation, data, timeline, measures = document.tables
    assert rows(meetings)[0][0] == "2015年12月21日"
    assert rows(members)[0] == ["委員長", "委員A", "弁護士"]
    assert rows(evaluation)[0] == [
        "通報から通報者への最初の連絡",
        "2015年6月24日",
        "2015年9月24日",
        "92日",
    ]
    # Duties that did not exist in 2015 are shown for reference, never judged late.
    assert rows(evaluation)[1][0] == "通報者への調査の通知（20日以内）"
    assert rows(evaluation)[1][3] == "参考（当時は義務なし）"
    assert not any("超過" in row[3] or "遅延" in row[3] for row in rows(evaluation))
    assert rows(data)[0][3] == "約68万人"
    assert len(rows(timeline)) == len(JA_COMMITTEE.events)
    assert "刑事告訴" not in [row[1].split("\n")[0] for row in rows(timeline)]
    assert len(rows(measures)) == len(JA_COMMITTEE.measures)
    text = body_text(document)
    assert "最初の通報（2015年6月24日 20:00）から通報者への最初の連絡まで92日を要した。" in text
    assert "期限までに実施されなかった対応" not in text


def test_committee_report_without_committee_or_contact() -> None:
    facts = dataclasses.replace(
        JA_COMMITTEE,
        committee=None,
        first_contact_with_reporter_at=None,
        triage=None,
        measures=(),
        recommendations=(),
    )
    document = roundtrip("committee_report", facts)
    assert title(document) == "職員の不祥事案の発生について\n検証報告書"
    evaluation = document.tables[1]
    assert rows(evaluation) == [["通報から通報者への最初の連絡", "2015年6月24日", "—", "—"]]
    assert "通報者への連絡は行われていない" in body_text(document)
    assert committee_report.report_title(EN_COMMITTEE, "en").endswith("Report")


def test_committee_report_english_headings() -> None:
    document = roundtrip("committee_report", EN_COMMITTEE, lang="en")
    assert headings(document) == [
        f"{n}　{h}" for n, h in enumerate(committee_report.headings("en")[:-1], start=1)
    ] + ["Appendices"]
    assert rows(document.tables[2])[0][3] == "92 days"


def test_ppc_report_has_the_nine_items() -> None:
    document = roundtrip("ppc_report", JA)
    assert headings(document) == [
        "1　概要",
        "2　漏えい等が発生し、又は発生したおそれがある保有個人情報の項目",
        "3　漏えい等が発生し、又は発生したおそれがある保有個人情報に係る本人の数",
        "4　原因",
        "5　二次被害又はそのおそれの有無及びその内容",
        "6　本人への対応の実施状況",
        "7　公表の実施状況",
        "8　再発防止のための措置",
        "9　その他参考となる事項",
    ]
    assert title(document) == "保有個人情報の漏えい等報告（確報）"
    head = document.tables[0]
    assert [r[0].text for r in [row.cells for row in head.rows]] == [
        "報告者",
        "保有者",
        "担当部署・連絡先",
        "事案番号",
        "報告の区分",
        "発覚日時",
    ]
    assert head.rows[0].cells[1].text == "堺市長"
    assert head.rows[1].cells[1].text.startswith("堺市選挙管理委員会")
    assert head.rows[2].cells[1].text.startswith("担当者：")
    assert seen(head.rows[5].cells[1].text) == "2015年6月24日 20:00"
    text = body_text(document)
    assert "オンライン" in text
    assert "控え" in text
    # The reportable situations, ticked (規則43条: a local government).
    assert "☑ 本人の数が100人を超える事態（規則43条4号）" in text
    assert "☑ 要配慮個人情報が含まれる事態（規則43条1号）" in text
    assert "☐ 不正に利用されることにより財産的被害が生じるおそれがある事態（規則43条2号）" in text
    assert "発生日時（期間）：2015年4月から6月までの間" in text
    assert "発覚の経緯：" in text
    assert "媒体等：" in text
    assert "要配慮個人情報：含まれる（要介護度、障害者手帳の情報）" in text
    assert "【直接の原因】" in text
    assert "【背景・管理上の問題】" in text
    assert "【今後実施予定の措置】" in text
    assert "約68万人（重複を除く）（内訳は2の表のとおり）" in text
    assert "681,572" not in text
    assert rows(document.tables[1])[0][3] == "約68万人"


def test_ppc_report_splits_measures_taken_and_planned() -> None:
    later = founding_facts("ja", as_of=date(2016, 7, 1))
    text = body_text(roundtrip("ppc_report", later))
    assert text.index("【実施済みの措置】") < text.index("【今後実施予定の措置】")


def test_ppc_preliminary_report_of_a_business_with_unknowns() -> None:
    facts = dataclasses.replace(
        JA,
        ppc_stage=PpcStage.PRELIMINARY,
        organisation=dataclasses.replace(JA.organisation, public_body=False),
        data_sets=(),
        causes=(),
        direct_cause="",
        publication="",
    )
    document = roundtrip("ppc_report", facts)
    assert title(document) == "個人データの漏えい等報告（速報）"
    assert headings(document)[1].endswith("個人データの項目")
    assert body_text(document).count("調査中（確報にて報告する。）") == 4
    assert "規則7条4号" in body_text(document)  # a business: more than 1,000 persons
    assert len(document.tables) == 1
    final_empty = dataclasses.replace(facts, ppc_stage=PpcStage.FINAL)
    assert default_sections("ppc_report", final_empty)["cause"] == "該当なし"
    assert ppc_report.report_title(facts, "en") == "Report of a personal data breach (preliminary)"


def test_individual_notice() -> None:
    document = roundtrip("individual_notice", JA)
    assert headings(document) == [
        "1　概要",
        "2　対象となる個人情報の項目",
        "3　原因",
        "4　二次被害又はそのおそれの有無及びその内容",
        "5　その他",
        "6　お問い合わせ先",
    ]
    assert title(document) == "個人情報の漏えい等に関するお知らせとお詫び"
    # Every data set, but no grand total: a letter speaks of the recipient's data.
    assert len(rows(document.tables[0])) == len(JA.data_sets)
    texts = [p.text for p in document.paragraphs]
    assert "関係者各位" in texts
    assert texts[-1] == "以上"
    assert "堺市長 竹山 修身" in texts  # signed by the head of the body
    assert "流出した（おそれのある）" not in body_text(document)


def test_individual_notice_per_recipient_group() -> None:
    postal = JA.data_sets[4].name
    document = roundtrip("individual_notice", JA, sections={"recipients": postal})
    found = rows(document.tables[0])
    assert [row[0] for row in found] == [postal]  # no other data set, no grand total


PROGRESS_DAY = date(2016, 7, 1)


def test_prevention_progress() -> None:
    document = roundtrip("prevention_progress", founding_facts("ja", as_of=PROGRESS_DAY))
    assert headings(document) == [
        "1　概要",
        "2　実施状況の概要",
        "3　分野別の実施状況",
        "4　各措置の実施状況",
        "5　今後の取組",
        "6　問い合わせ先",
    ]
    counts, areas, measures = document.tables
    assert rows(counts) == [["実施済み", "5"], ["実施中", "1"], ["予定", "1"], ["合計", "7"]]
    assert header(areas) == ["分野（担当）", "実施済み", "実施中", "予定", "計"]
    assert ["情報システム担当課", "2", "1", "0", "3"] in rows(areas)
    assert header(measures) == ["No.", "再発防止策", "担当", "期限", "状況", "効果の検証"]
    first = rows(measures)[0]
    assert first[0] == "1"
    assert first[3] == "2016年3月31日"
    assert first[4] == "実施済み"
    assert first[5].startswith("eラーニング受講率98%")
    assert rows(measures)[5][5] == "—"
    text = body_text(document)
    assert "2016年7月1日現在、7項目のうち5項目を実施済みです。" in text
    assert "（2016年7月1日現在）" in text
    assert "についてを受けて" not in text


def test_prevention_progress_all_done() -> None:
    done = tuple(dataclasses.replace(m, status=MeasureStatus.DONE, due=None) for m in JA.measures)
    facts = dataclasses.replace(JA, measures=done)
    sections = default_sections("prevention_progress", facts)
    assert sections["next_steps"] == "各措置の効果を継続して検証します。"
    document = roundtrip("prevention_progress", facts)
    assert rows(document.tables[2])[0][3] == "—"


# --- organisation template -----------------------------------------------------------------


def _template(*, with_page_field: bool = False) -> bytes:
    from docx.enum.style import WD_STYLE_TYPE

    template = docx.Document()
    section = template.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.left_margin = Cm(3.3)
    section.header.paragraphs[0].text = "堺市 ORGANISATION HEADER"
    section.footer.paragraphs[0].text = "Sakai City footer"
    if with_page_field:
        footer_p = section.footer.add_paragraph()
        fields._field_runs(footer_p, " PAGE ", "1")
    style = template.styles.add_style("Org Emphasis", WD_STYLE_TYPE.PARAGRAPH)
    style.font.size = blocks.Pt(13)
    template.add_paragraph("This body text belongs to the template and must go.")
    template.add_table(rows=1, cols=1)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


def test_template_header_footer_and_styles_survive() -> None:
    document = roundtrip("press_release", JA, template=_template(), draft=True)
    section = document.sections[0]
    assert section.header.paragraphs[0].text == "堺市 ORGANISATION HEADER"
    assert section.footer.paragraphs[0].text == "Sakai City footer"
    assert abs(section.left_margin - Cm(3.3)) < Cm(0.01)
    assert "Org Emphasis" in [s.name for s in document.styles]
    assert "must go" not in body_text(document)
    assert len(document.tables) == 2  # timeline and data, the template's table is gone
    assert blocks.has_watermark(document)
    footer_instr = section.footer._element.xpath(".//w:instrText/text()")
    assert [i.strip() for i in footer_instr] == ["PAGE"]


def test_template_page_field_is_not_duplicated() -> None:
    document = roundtrip("ppc_report", JA, template=_template(with_page_field=True))
    footer_instr = document.sections[0].footer._element.xpath(".//w:instrText/text()")
    assert [i.strip() for i in footer_instr] == ["PAGE"]


def test_template_without_heading_styles_gets_them() -> None:
    template = docx.Document()
    styles = template.styles.element
    for style in list(styles):
        name = style.find(blocks.qn("w:name"))
        if name is not None and name.get(blocks.qn("w:val")) in ("heading 1", "heading 2", "Title"):
            styles.remove(style)
    buffer = io.BytesIO()
    template.save(buffer)
    document = roundtrip("press_release", JA, template=buffer.getvalue())
    assert headings(document)[0] == "1　概要"


def test_template_keeps_its_east_asian_font_or_gets_one() -> None:
    document = build_document("press_release", JA, draft=False, template=_template())
    rpr = document.styles.element.find(blocks.qn("w:docDefaults")).find(blocks.qn("w:rPrDefault"))
    fonts = rpr.find(blocks.qn("w:rPr")).find(blocks.qn("w:rFonts"))
    assert fonts.get(blocks.qn("w:eastAsia")) == blocks.FONT_BODY_JA


def test_not_a_docx_template() -> None:
    with pytest.raises(blocks.TemplateError):
        build_document("press_release", JA, draft=True, template=b"not a zip")


def test_house_fonts_set_east_asian_face() -> None:
    document = build_document("press_release", JA, draft=False)
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(blocks.qn("w:eastAsia")) == "IPAMincho"
    heading = document.styles["Heading 1"].element.rPr.rFonts
    assert heading.get(blocks.qn("w:eastAsia")) == "IPAGothic"
    assert b"\xef\xbc\xad\xef\xbc\xb3 \xe6\x98\x8e\xe6\x9c\x9d" in to_bytes_part(document)


def to_bytes_part(document: docx.document.Document) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(to_bytes(document))) as archive:
        return archive.read("word/fontTable.xml")


def test_document_date_is_shown() -> None:
    facts = dataclasses.replace(JA, document_date=date(2016, 2, 25))
    assert "平成28年(2016年)2月25日（木）" in body_text(roundtrip("individual_notice", facts))
