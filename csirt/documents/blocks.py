"""The building blocks every document kind shares (python-docx, no I/O beyond bytes)."""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr
from zoneinfo import ZoneInfo

import docx
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from csirt.documents.facts import DataSet, Measure, PublicEvent
from csirt.documents.fields import (
    draft_watermark,
    has_watermark,
    page_number_footer,
    table_of_contents,
)
from csirt.documents.wording import (
    STATUS_LABELS,
    data_set_persons,
    format_date,
    format_datetime,
    format_letter_date,
    format_persons,
    item_labels,
    wareki_year,
)

# LibreOffice finds no substitute for "MS Mincho" here (fontconfig has no alias: it falls back to
# a Gothic face), so the IPA fonts are named; the font table gives Word the MS fonts as altName,
# which it uses where the IPA fonts are not installed. An organisation template overrides both.
FONT_BODY_JA = "IPAMincho"
FONT_HEADING_JA = "IPAGothic"
_ALT_NAMES = {FONT_BODY_JA: "ＭＳ 明朝", FONT_HEADING_JA: "ＭＳ ゴシック"}
FONT_LATIN = "Times New Roman"
FONT_LATIN_HEADING = "Arial"

TABLE_STYLE = "CSIRT Table Text"
TEXT_WIDTH_CM = 16.0


class TemplateError(ValueError):
    """The organisation template is not a readable .docx."""


# --- document and styles ----------------------------------------------------------------------


def new_document(template: bytes | None, lang: str) -> Document:
    """An empty document: the organisation template's styles, header, footer and logo, or A4."""
    if template is None:
        document = docx.Document()
        _a4_page(document)
        _house_styles(document, lang)
        _font_table_alternatives(document)
    else:
        try:
            document = docx.Document(io.BytesIO(template))
        except Exception as exc:  # python-docx raises several unrelated types for bad input
            raise TemplateError(f"not a readable .docx template: {exc}") from exc
        _clear_body(document)
        _ensure_east_asian_font(document, lang)
    _ensure_needed_styles(document, lang)
    _set_language(document, lang)
    return document


def _font_table_alternatives(document: Document) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from lxml import etree  # type: ignore[import-untyped]

    part = document.part.part_related_by(RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    for name, alt in _ALT_NAMES.items():
        font = parse_xml(
            f"<w:font {nsdecls('w')} w:name={quoteattr(name)}><w:altName w:val={quoteattr(alt)}/>"
            '<w:charset w:val="80"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>'
        )
        root.append(font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _clear_body(document: Document) -> None:
    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def _a4_page(document: Document) -> None:
    for section in document.sections:
        section.page_width = Cm(21.0)
        section.page_height = Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = Cm(2.5)
        section.bottom_margin = Cm(2.2)
        section.header_distance = section.footer_distance = Cm(1.2)


def _fonts(rpr_owner: object, latin: str, east_asia: str) -> None:
    rpr = rpr_owner.get_or_add_rPr()  # type: ignore[attr-defined]
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:cs"), latin)


def _body_fonts(lang: str) -> tuple[str, str]:
    # Japanese documents set Latin text in the Mincho face too, like Word does with MS Mincho.
    return (FONT_BODY_JA if lang == "ja" else FONT_LATIN), FONT_BODY_JA


def _heading_fonts(lang: str) -> tuple[str, str]:
    return (FONT_HEADING_JA if lang == "ja" else FONT_LATIN_HEADING), FONT_HEADING_JA


def _house_styles(document: Document, lang: str) -> None:
    styles = document.styles
    normal = styles["Normal"]
    _fonts(normal.element, *_body_fonts(lang))
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.25
    for name, size, before in (
        ("Title", 16, 6),
        ("Heading 1", 12.5, 14),
        ("Heading 2", 11, 8),
        ("Heading 3", 10.5, 6),
    ):
        style = styles[name]
        _fonts(style.element, *_heading_fonts(lang))
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(4)
        style.paragraph_format.keep_with_next = True
    title = styles["Title"]
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)
    # The stock Title style draws a blue rule under the text; an official document has none.
    ppr = title.element.pPr
    if ppr is not None:
        border = ppr.find(qn("w:pBdr"))
        if border is not None:
            ppr.remove(border)
    title_rpr = title.element.get_or_add_rPr()
    for tag in ("w:spacing", "w:kern"):
        found = title_rpr.find(qn(tag))
        if found is not None:
            title_rpr.remove(found)


def _doc_defaults_rpr(document: Document) -> Any:
    styles_el = document.styles.element
    defaults = styles_el.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles_el.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    return rpr


def _ensure_east_asian_font(document: Document, lang: str) -> None:
    """Keep the template's fonts but make sure Japanese text has an East Asian face."""
    rpr = _doc_defaults_rpr(document)
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    if rfonts.get(qn("w:eastAsia")) is None:
        rfonts.attrib.pop(qn("w:eastAsiaTheme"), None)
        rfonts.set(qn("w:eastAsia"), FONT_BODY_JA)


def _set_language(document: Document, lang: str) -> None:
    rpr = _doc_defaults_rpr(document)
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = OxmlElement("w:lang")
        rpr.append(lang_el)
    lang_el.set(qn("w:val"), "ja-JP" if lang == "ja" else "en-GB")
    lang_el.set(qn("w:eastAsia"), "ja-JP")


def _ensure_needed_styles(document: Document, lang: str) -> None:
    """Templates made in Word often lack the heading styles until used: add what is missing."""
    from docx.enum.style import WD_STYLE_TYPE

    styles = document.styles
    names = {style.name for style in styles}
    for name, size in (("Title", 16), ("Heading 1", 12.5), ("Heading 2", 11), ("Heading 3", 10.5)):
        if name not in names:
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = styles["Normal"]
            style.font.size = Pt(size)
            style.font.bold = True
            style.paragraph_format.keep_with_next = True
            if name == "Title":
                style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            else:
                level = int(name.rsplit(" ", 1)[1])
                ppr = style.element.get_or_add_pPr()
                outline = OxmlElement("w:outlineLvl")
                outline.set(qn("w:val"), str(level - 1))
                ppr.append(outline)
    if TABLE_STYLE not in names:
        style = styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        style.font.size = Pt(9)
        style.paragraph_format.space_before = Pt(1)
        style.paragraph_format.space_after = Pt(1)
        style.paragraph_format.line_spacing = 1.1


# --- text blocks ------------------------------------------------------------------------------


def draft_mark(lang: str) -> str:
    """The mark a draft carries in its title."""
    return "【案】" if lang == "ja" else "DRAFT – "


def title_block(document: Document, title: str, *, draft: bool, lang: str) -> Paragraph:
    """The centred document title; drafts carry 【案】/DRAFT in front of it."""
    text = f"{draft_mark(lang)}{title}" if draft else title
    return document.add_paragraph(text, style="Title")


def right_lines(document: Document, lines: Iterable[str]) -> None:
    """Right-aligned lines (date, organisation, department) above a title."""
    for line in lines:
        paragraph = document.add_paragraph(line)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.space_after = Pt(0)


def centred(
    document: Document, text: str, *, size: float | None = None, bold: bool = False
) -> None:
    """A centred paragraph (記, 以上 for the end is right-aligned with right_lines)."""
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = bold
    if size is not None:
        run.font.size = Pt(size)


_LIST_MARK = re.compile(r"^(・|- |\(\d+\)\s?|（\d+）|\d+\.\s|[①-⑳])")


def paragraphs(document: Document, text: str, *, indent: bool = True) -> list[Paragraph]:
    """One paragraph per non-empty line of an edited section text; list lines (・, -, (1))
    hang: the text of a wrapped line aligns with the text after the mark."""
    added = []
    base = 0.5 if indent else 0.0
    for line in text.splitlines():
        if not line.strip():
            continue
        content = line.strip()
        paragraph = document.add_paragraph(content)
        fmt = paragraph.paragraph_format
        mark = _LIST_MARK.match(content)
        if mark is not None:
            width = _mark_width_cm(mark.group(0))
            fmt.left_indent = Cm(base + width)
            fmt.first_line_indent = Cm(-width)
        elif indent:
            fmt.left_indent = Cm(base)
        added.append(paragraph)
    return added


def _mark_width_cm(mark: str) -> float:
    # 10.5 pt body text: a full-width character is 0.37 cm, a half-width one about half.
    full = sum(1 for ch in mark if ord(ch) > 0x2000)
    half = len(mark) - full
    return round(full * 0.37 + half * 0.19, 2)


def keep_with_next(paragraph: Paragraph) -> None:
    """Keep the paragraph on the page of what follows it (a heading, a table's lead-in)."""
    paragraph.paragraph_format.keep_with_next = True


# A date or number inside a table cell must not break across lines (2016年3月31 / 日, 9 / 8%):
# a WORD JOINER (U+2060) between its characters forbids a break there in Word and LibreOffice.
WORD_JOINER = "\u2060"
_UNBREAKABLE = re.compile(
    r"(?:午前|午後)?[0-9][0-9,.:%年月日時分秒人件点万歳項目頃]*[0-9年月日時分秒人件点万歳%項目頃]"
    r"|[0-9]"
)


NBSP = "\u00a0"
# "21 December 2015" in a cell breaks at its spaces: they become no-break spaces there.
_EN_DATE = re.compile(
    r"\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October"
    r"|November|December) \d{4}\b"
)


def no_break(text: str) -> str:
    """Join the characters of each date and number so that a line never breaks inside one."""
    return _UNBREAKABLE.sub(lambda m: WORD_JOINER.join(m.group(0)), text)


_R, _T = qn("w:r"), qn("w:t")


def append_copies(document: Document, prototype: Paragraph, texts: Iterable[str]) -> None:
    """Paragraphs formatted like `prototype` (one run) with each text, appended to the body.

    Copying XML is ~50 times faster than add_paragraph for the 1,000-event narrative timeline.
    """
    proto = prototype._p
    sect_pr = document.element.body.find(qn("w:sectPr"))
    for text in texts:
        p = copy.deepcopy(proto)
        p.find(_R).find(_T).text = text
        if sect_pr is None:
            document.element.body.append(p)
        else:
            sect_pr.addprevious(p)


def page_break(document: Document) -> None:
    """Start the next block on a new page."""
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


class Sections:
    """Numbered headings: 1, 2, 3 … at level 1 and (1), (2) … below each."""

    def __init__(self, document: Document) -> None:
        self._document = document
        self._number = 0
        self._sub = 0

    def heading(self, text: str) -> Paragraph:
        """The next numbered level-1 heading."""
        self._number += 1
        self._sub = 0
        heading: Paragraph = self._document.add_heading(f"{self._number}　{text}", level=1)
        return heading

    def sub(self, text: str) -> Paragraph:
        """The next (n) heading under the current section."""
        self._sub += 1
        heading: Paragraph = self._document.add_heading(f"({self._sub})　{text}", level=2)
        return heading

    def unnumbered(self, text: str) -> Paragraph:
        """A level-1 heading outside the numbering (資料編, appendix)."""
        heading: Paragraph = self._document.add_heading(text, level=1)
        return heading


# --- tables -----------------------------------------------------------------------------------


def _borders_xml() -> str:
    sides = "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="808080"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    return f"<w:tblBorders {nsdecls('w')}>{sides}</w:tblBorders>"


def table(
    document: Document,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    widths_cm: Sequence[float],
) -> Table:
    """A bordered table with a repeated, shaded header row and fixed column widths."""
    assert len(headers) == len(widths_cm)
    _keep_lead_in_with_table(document)
    tbl: Table = document.add_table(rows=1, cols=len(headers))
    tbl.autofit = False
    tbl_pr = tbl._tbl.tblPr
    tbl_pr.append(parse_xml(_borders_xml()))
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    for grid_col, width in zip(tbl._tbl.tblGrid.gridCol_lst, widths_cm, strict=True):
        grid_col.w = Cm(width)
    header = tbl.rows[0]
    tr_pr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    tr_pr.append(repeat)
    for cell, text, width in zip(header.cells, headers, widths_cm, strict=True):
        cell.width = Cm(width)
        paragraph = cell.paragraphs[0]
        paragraph.style = document.styles[TABLE_STYLE]
        paragraph.add_run(text).bold = True
        cell._tc.get_or_add_tcPr().append(
            parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="E7E6E6"/>')
        )
    # Rows never split across pages: a data set's items stay next to its name.
    tr_pr.append(OxmlElement("w:cantSplit"))
    # Rows are built as XML from one prototype: python-docx's per-cell API costs ~100 µs a cell,
    # which a 1,000-event timeline notices.
    proto_row = _prototype_row(tbl, document)
    tbl_el = tbl._tbl
    for index, values in enumerate(rows):
        row = copy.deepcopy(proto_row)
        for tc, value in zip(row.iter(qn("w:tc")), values, strict=True):
            _fill_cell(tc, value)
        if index == 0:
            _keep_row_with_next(row)
        tbl_el.append(row)
    _keep_row_with_next(header._tr)
    return tbl


def _keep_lead_in_with_table(document: Document, limit: int = 6) -> None:
    """The paragraphs between a heading and the table about to follow it (and the heading)
    stay on the table's page: a heading never ends a page whose next page holds its table."""
    headings = {
        style.style_id
        for style in document.styles
        if style.name is not None and style.name.startswith("Heading")
    }
    body = document.element.body
    children = [el for el in body.iterchildren() if el.tag != qn("w:sectPr")]
    for element in reversed(children[-limit:]):
        if element.tag != qn("w:p"):
            break
        paragraph = Paragraph(element, document._body)
        paragraph.paragraph_format.keep_with_next = True
        if element.style in headings:
            break


def _keep_row_with_next(tr: Any) -> None:
    """The header row stays with the first data row (never alone at the foot of a page)."""
    for p in tr.iter(qn("w:p")):
        ppr = p.get_or_add_pPr()
        if ppr.find(qn("w:keepNext")) is None:
            ppr.append(OxmlElement("w:keepNext"))


def _prototype_row(tbl: Table, document: Document) -> Any:
    style_id = document.styles[TABLE_STYLE].style_id
    row = tbl.add_row()._tr  # type: ignore[no-untyped-call]
    tbl._tbl.remove(row)
    row.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for tc in row.iter(qn("w:tc")):
        paragraph = tc.find(qn("w:p"))
        ppr = OxmlElement("w:pPr")
        pstyle = OxmlElement("w:pStyle")
        pstyle.set(qn("w:val"), style_id)
        ppr.append(pstyle)
        paragraph.append(ppr)
    return row


def _fill_cell(tc: Any, value: str) -> None:
    """Lines of the value become paragraphs; a leading '**' line is bold (the event title).

    Each date or number is a run of its own, its characters joined (WORD JOINER) and marked as
    English text: LibreOffice's Japanese line breaking ignores the joiners, its English one
    keeps them, so "2016年3月31日" or "98%" never breaks across lines in a narrow cell.
    """
    first = tc.find(qn("w:p"))
    lines = value.split("\n") if value else [""]
    paragraph = first
    for index, line in enumerate(lines):
        if index:
            paragraph = copy.deepcopy(first)
            for run in paragraph.findall(qn("w:r")):
                paragraph.remove(run)
            tc.append(paragraph)
        bold = line.startswith("**")
        if bold:
            line = line[2:]
        line = _EN_DATE.sub(lambda m: m.group(0).replace(" ", NBSP), line)
        start = 0
        for match in _UNBREAKABLE.finditer(line):
            if match.start() > start:
                paragraph.append(_run(line[start : match.start()], bold=bold))
            paragraph.append(_run(WORD_JOINER.join(match.group(0)), bold=bold, unbroken=True))
            start = match.end()
        if start < len(line) or not line:
            paragraph.append(_run(line[start:], bold=bold))


def _run(text: str, *, bold: bool, unbroken: bool = False) -> Any:
    run = OxmlElement("w:r")
    if bold or unbroken:
        rpr = OxmlElement("w:rPr")
        if bold:
            rpr.append(OxmlElement("w:b"))
        if unbroken:
            lang = OxmlElement("w:lang")
            lang.set(qn("w:val"), "en-US")
            lang.set(qn("w:eastAsia"), "en-US")
            rpr.append(lang)
        run.append(rpr)
    element = OxmlElement("w:t")
    element.text = text
    element.set(qn("xml:space"), "preserve")
    run.append(element)
    return run


TIMELINE_HEADERS = {"ja": ("日時", "事項"), "en": ("Date", "Event")}


def timeline_table(
    document: Document, events: Sequence[PublicEvent], lang: str, zone: ZoneInfo
) -> Table:
    """Dated events: date (and time when known) and the event with its description."""
    rows = (
        (
            format_datetime(event.occurred_at, event.precision, lang, zone),
            f"**{event.title}\n{event.description}" if event.description else f"**{event.title}",
        )
        for event in sorted(events, key=lambda e: e.occurred_at)
    )
    return table(document, TIMELINE_HEADERS[lang], rows, (3.9, TEXT_WIDTH_CM - 3.9))


DATA_HEADERS = {
    "ja": ("情報の名称", "保有部署", "項目", "人数"),
    "en": ("Data set", "Held by", "Items", "Persons"),
}


def data_table(
    document: Document, data_sets: Sequence[DataSet], lang: str, total: str = ""
) -> Table:
    """Each data set with its items and number of persons, and the stated total (the caller's:
    it knows the case's persons_total); data sets within another are marked ※ and named in a
    note under the table."""
    rows: list[tuple[str, str, str, str]] = [
        (
            ds.name,
            ds.holder_department,
            item_labels(ds, lang),
            data_set_persons(ds, lang) + (("※" if lang == "ja" else "*") if ds.overlaps else ""),
        )
        for ds in data_sets
    ]
    if len(data_sets) > 1 and total:
        # "約68万人（重複を除く）": the note on a line of its own, never broken inside.
        figure, bracket, note = total.partition("（" if lang == "ja" else " (")
        rows.append(
            (
                "**合計" if lang == "ja" else "**Total",
                "",
                "",
                figure + (f"\n{bracket}{note}" if bracket else ""),
            )
        )
    tbl = table(document, DATA_HEADERS[lang], rows, (4.4, 3.2, 5.4, 3.0))
    note = overlap_note(data_sets, lang)
    if note:
        paragraph = document.add_paragraph(note)
        paragraph.paragraph_format.left_indent = Cm(0.37)
        paragraph.paragraph_format.first_line_indent = Cm(-0.37)
        for run in paragraph.runs:
            run.font.size = Pt(9)
    return tbl


def overlap_note(data_sets: Sequence[DataSet], lang: str) -> str:
    """※ …は、…に含まれます（合計には含めていません）。 for the data sets within another."""
    within: dict[str, list[str]] = {}
    for ds in data_sets:
        if ds.overlaps:
            within.setdefault(ds.overlaps, []).append(ds.name)
    lines = []
    for outer, names in within.items():
        if lang == "ja":
            lines.append(
                f"※{'及び'.join(names)}の対象者は、{outer}の対象者に含まれます（合計には含めていません）。"
            )
        else:
            lines.append(f"* {' and '.join(names)}: included in {outer} (not added to the total).")
    return "\n".join(lines)


MEASURE_HEADERS = {
    "ja": ("No.", "再発防止策", "担当", "期限", "状況", "効果の検証"),
    "en": ("No.", "Measure", "Owner", "Due", "Status", "Evidence of effect"),
}


def measures_table(document: Document, measures: Sequence[Measure], lang: str) -> Table:
    """Recurrence-prevention measures with owner, due date, status and evidence."""
    rows = (
        (
            str(number),
            measure.title,
            measure.owner,
            format_date(measure.due, lang) if measure.due else "—",
            STATUS_LABELS[lang][measure.status],
            measure.evidence or "—",
        )
        for number, measure in enumerate(measures, start=1)
    )
    return table(document, MEASURE_HEADERS[lang], rows, (1.1, 4.0, 2.7, 2.9, 1.9, 3.4))


def key_value_table(document: Document, rows: Sequence[tuple[str, str]]) -> Table:
    """A two-column label/value table (report header, committee members)."""
    tbl = table(document, ("", ""), rows, (4.0, TEXT_WIDTH_CM - 4.0))
    # A label/value table has no header row.
    tbl._tbl.remove(tbl.rows[0]._tr)
    return tbl


__all__ = [
    "NBSP",
    "STATUS_LABELS",
    "WORD_JOINER",
    "TemplateError",
    "centred",
    "data_set_persons",
    "data_table",
    "draft_watermark",
    "format_date",
    "format_datetime",
    "format_letter_date",
    "format_persons",
    "has_watermark",
    "item_labels",
    "key_value_table",
    "measures_table",
    "new_document",
    "no_break",
    "page_break",
    "page_number_footer",
    "paragraphs",
    "right_lines",
    "table",
    "table_of_contents",
    "timeline_table",
    "title_block",
    "wareki_year",
]
