"""Fields, footer, contents and the draft watermark of the documents (python-docx XML)."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr

from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

FONT_HEADING_JA = "IPAGothic"
FONT_LATIN_HEADING = "Arial"
TEXT_WIDTH_CM = 16.0


def _field_runs(paragraph: Paragraph, instruction: str, placeholder: str) -> None:
    """A complex field (begin/instr/separate/result/end) Word and LibreOffice both update."""
    p = paragraph._p
    p.append(_field_run("begin", None))
    p.append(_field_run("instr", instruction))
    p.append(_field_run("separate", None))
    result = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = placeholder
    result.append(text)
    p.append(result)
    p.append(_field_run("end", None))


def page_number_footer(document: Document) -> None:
    """A centred PAGE field in every section's footer, unless the template already has one."""
    for section in document.sections:
        footer = section.footer
        if "PAGE" in "".join(footer._element.xpath(".//w:instrText/text() | .//@w:instr")):
            continue
        paragraph = footer.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run("- ")
        _field_runs(paragraph, " PAGE ", "1")
        paragraph.add_run(" -")


def table_of_contents(document: Document, anchor: Paragraph, lang: str) -> None:
    """The contents (heading levels 1-2) in place of `anchor`; call once the body is built.

    Each line is the heading's text, a dotted tab and a PAGEREF field to a bookmark on the
    heading: LibreOffice computes the page when it lays the document out (it keeps a TOC
    field's cached text as it is, without page numbers), Word when it updates the fields on
    open (updateFields).
    """
    # Style ids, not Paragraph.style: resolving a style object per paragraph is quadratic.
    level_of = {document.styles[f"Heading {n}"].style_id: n for n in (1, 2)}
    entries = [
        (p, "".join(p.xpath("./w:r/w:t/text()")), level_of[p.style])
        for p in document.element.body.iterchildren(qn("w:p"))
        if p.style in level_of
    ]
    heading = anchor.insert_paragraph_before("目次" if lang == "ja" else "Contents", style="Title")
    heading.paragraph_format.space_after = Pt(18)
    lines = []
    for number, (element, entry, level) in enumerate(entries, start=1):
        line = anchor.insert_paragraph_before()
        # By heading level: 資料編 is a chapter like 結語, its 資料1… are indented under it.
        line.paragraph_format.left_indent = Cm(0 if level == 1 else 0.9)
        line.paragraph_format.space_after = Pt(3)
        line.paragraph_format.tab_stops.add_tab_stop(
            Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
        )
        line.add_run(entry)
        line.add_run("\t")
        # The page number is a PAGEREF to a bookmark on the heading: LibreOffice computes it
        # when it lays the document out, Word when it updates the fields on open.
        name = f"_TocCsirt{number:04d}"
        _bookmark(element, name, number)
        _field_runs(line, f" PAGEREF {name} \\h ", "")
        lines.append(line)
    if not lines:
        lines.append(anchor.insert_paragraph_before())
    anchor._p.getparent().remove(anchor._p)
    settings = document.settings.element
    if settings.find(qn("w:updateFields")) is None:
        update = OxmlElement("w:updateFields")
        update.set(qn("w:val"), "true")
        settings.append(update)


def _bookmark(paragraph: Any, name: str, number: int) -> None:
    """A bookmark around a paragraph's text (the target of a PAGEREF)."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    ppr = paragraph.find(qn("w:pPr"))
    if ppr is None:
        paragraph.insert(0, start)
    else:
        ppr.addnext(start)
    paragraph.append(end)


def _field_run(kind: str, instruction: str | None) -> Any:
    run = OxmlElement("w:r")
    if instruction is not None:
        instr = OxmlElement("w:instrText")
        instr.set(qn("xml:space"), "preserve")
        instr.text = instruction
        run.append(instr)
    else:
        fld = OxmlElement("w:fldChar")
        fld.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            fld.set(qn("w:dirty"), "true")
        run.append(fld)
    return run


WATERMARK_SHAPE_ID = "CsirtDraftWatermark"
_VML_NS = (
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
)

_SHAPETYPE_136 = """<v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800"
 path="m@7,l@8,m@5,21600l@6,21600e"><v:formulas><v:f eqn="sum #0 0 10800"/>
<v:f eqn="prod #0 2 1"/><v:f eqn="sum 21600 0 @1"/><v:f eqn="sum 0 0 @2"/>
<v:f eqn="sum 21600 0 @3"/><v:f eqn="if @0 @3 0"/><v:f eqn="if @0 21600 @1"/>
<v:f eqn="if @0 0 @2"/><v:f eqn="if @0 @4 21600"/><v:f eqn="mid @5 @6"/>
<v:f eqn="mid @8 @5"/><v:f eqn="mid @7 @8"/><v:f eqn="mid @6 @7"/><v:f eqn="sum @6 0 @5"/>
</v:formulas><v:path textpathok="t" o:connecttype="custom"
 o:connectlocs="@9,0;@10,10800;@11,21600;@12,10800" o:connectangles="270,180,90,0"/>
<v:textpath on="t" fitshape="t"/><v:handles><v:h position="#0,bottomRight" xrange="6629,14971"/>
</v:handles><o:lock v:ext="edit" text="t" shapetype="t"/></v:shapetype>"""


def watermark_text(lang: str) -> str:
    """The diagonal text a draft carries on every page."""
    return "案 DRAFT" if lang == "ja" else "DRAFT"


def draft_watermark(document: Document, lang: str) -> None:
    """A grey diagonal VML text watermark in each section's header (Word's own kind)."""
    text = watermark_text(lang)
    font = FONT_HEADING_JA if lang == "ja" else FONT_LATIN_HEADING
    style = quoteattr(f'font-family:"{font}";font-size:1pt')
    xml = (
        f"<w:r {nsdecls('w')} {_VML_NS}><w:rPr><w:noProof/></w:rPr><w:pict>{_SHAPETYPE_136}"
        f'<v:shape id="{WATERMARK_SHAPE_ID}" o:spid="_x0000_s2049" type="#_x0000_t136" '
        'style="position:absolute;margin-left:0;margin-top:0;width:440pt;height:150pt;'
        "rotation:315;z-index:-251654144;mso-position-horizontal:center;"
        "mso-position-horizontal-relative:margin;mso-position-vertical:center;"
        'mso-position-vertical-relative:margin" o:allowincell="f" fillcolor="#c8c8c8" '
        'stroked="f"><v:fill opacity=".5"/>'
        f"<v:textpath style={style} string={quoteattr(text)}/></v:shape></w:pict></w:r>"
    )
    for section in document.sections:
        paragraph = section.header.add_paragraph()
        paragraph._p.append(parse_xml(xml))


def has_watermark(document: Document) -> bool:
    """True when a section header carries the draft watermark."""
    for section in document.sections:
        if section.header.is_linked_to_previous:
            continue
        for shape in section.header._element.iter("{urn:schemas-microsoft-com:vml}shape"):
            if shape.get("id") == WATERMARK_SHAPE_ID:
                return True
    return False
