"""A corpus of attachments with a distinct canary in each place metadata hides (issue 13, 4).

``CORPUS`` maps (kind, place) to a builder returning (file bytes, content type, canary). The
canary is checked to be in the original, then looked for in the stripped copy: raw bytes, every
zip entry inflated, and every PDF stream decoded.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GPS_IFD = 0x8825


def jpeg(canary: str, *, gps: bool = False, xmp: bool = False, comment: bool = False) -> bytes:
    image = Image.new("RGB", (16, 16), (120, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = canary  # Artist
    exif[0x010F] = canary  # Make
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (35.0, 41.0, 22.0), 27: canary.encode()})
    options: dict[str, object] = {"exif": exif}
    if xmp:
        options["xmp"] = f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{canary}</x:xmpmeta>'.encode()
    if comment:
        options["comment"] = canary.encode()
    out = io.BytesIO()
    image.save(out, format="JPEG", **options)
    return out.getvalue()


def png(canary: str) -> bytes:
    image = Image.new("RGB", (16, 16), (30, 120, 30))
    info = PngInfo()
    info.add_text("Author", canary)
    info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta>{canary}</x:xmpmeta>")
    exif = Image.Exif()
    exif[0x013B] = canary
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def _docx_with(parts: dict[str, bytes]) -> bytes:
    """A real .docx from python-docx, with parts replaced or added."""
    import docx

    document = docx.Document()
    document.add_paragraph("本文")
    base = io.BytesIO()
    document.save(base)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename not in parts:
                target.writestr(info, source.read(info.filename))
        for name, data in parts.items():
            target.writestr(name, data)
    return out.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_core(canary: str) -> bytes:
    core = (
        '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.'
        'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/'
        f'elements/1.1/"><dc:creator>{canary}</dc:creator><cp:lastModifiedBy>{canary}'
        "</cp:lastModifiedBy></cp:coreProperties>"
    )
    return _docx_with({"docProps/core.xml": core.encode()})


def docx_custom(canary: str) -> bytes:
    custom = (
        '<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
        '2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
        'docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" '
        f'name="Owner"><vt:lpwstr>{canary}</vt:lpwstr></property></Properties>'
    )
    return _docx_with({"docProps/custom.xml": custom.encode()})


def docx_comment(canary: str) -> bytes:
    comments = (
        f'<?xml version="1.0"?><w:comments {W}><w:comment w:id="0" w:author="{canary}" '
        f'w:initials="{canary}" w:date="2015-06-24T10:37:00Z"><w:p><w:r><w:t>ok</w:t></w:r>'
        "</w:p></w:comment></w:comments>"
    )
    return _docx_with({"word/comments.xml": comments.encode()})


def docx_tracked(canary: str) -> bytes:
    body = (
        f'<?xml version="1.0"?><w:document {W}><w:body><w:p><w:ins w:id="1" '
        f'w:author="{canary}" w:date="2015-06-24T10:37:00Z"><w:r><w:t>追加</w:t></w:r></w:ins>'
        f'<w:del w:id="2" w:author="{canary}"><w:r><w:delText>削除</w:delText></w:r></w:del>'
        '</w:p><w:p w:rsidR="00A1B2C3"/></w:body></w:document>'
    )
    return _docx_with({"word/document.xml": body.encode()})


def docx_people(canary: str) -> bytes:
    people = (
        '<?xml version="1.0"?><w15:people xmlns:w15="http://schemas.microsoft.com/office/word/'
        f'2012/wordml"><w15:person w15:author="{canary}"><w15:presenceInfo '
        f'w15:providerId="AD" w15:userId="{canary}"/></w15:person></w15:people>'
    )
    return _docx_with({"word/people.xml": people.encode()})


def docx_media_exif(canary: str) -> bytes:
    return _docx_with({"word/media/image9.jpeg": jpeg(canary, gps=True, xmp=True)})


def docx_media_png(canary: str) -> bytes:
    return _docx_with({"word/media/image8.png": png(canary)})


def xlsx_parts(canary: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        archive.writestr(
            "xl/comments1.xml",
            f'<?xml version="1.0"?><comments><authors><author>{canary}</author></authors>'
            "</comments>",
        )
        archive.writestr("xl/media/image1.jpeg", jpeg(canary, gps=True))
        archive.writestr(
            "docProps/app.xml", f"<Properties><Company>{canary}</Company></Properties>"
        )
    return out.getvalue()


def _pdf(canary: str, *, info: bool, xmp: bool, image: bool) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        StreamObject,
    )

    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    if info:
        writer.add_metadata({"/Author": canary, "/Producer": canary})
    if xmp:
        stream = StreamObject()
        stream._data = f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{canary}</x:xmpmeta>'.encode()
        stream.update({NameObject("/Type"): NameObject("/Metadata")})
        writer._root_object[NameObject("/Metadata")] = writer._add_object(stream)
    if image:
        data = jpeg(canary, gps=True, xmp=True, comment=True)
        xobject = StreamObject()
        xobject._data = data
        xobject.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Image"),
                NameObject("/Width"): NumberObject(16),
                NameObject("/Height"): NumberObject(16),
                NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
                NameObject("/BitsPerComponent"): NumberObject(8),
                NameObject("/Filter"): NameObject("/DCTDecode"),
            }
        )
        xmp_stream = StreamObject()
        xmp_stream._data = f"<x:xmpmeta>{canary}</x:xmpmeta>".encode()
        xobject[NameObject("/Metadata")] = writer._add_object(xmp_stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {
                NameObject("/XObject"): DictionaryObject(
                    {NameObject("/Im0"): writer._add_object(xobject)}
                ),
                NameObject("/ProcSet"): ArrayObject([NameObject("/PDF")]),
            }
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


Builder = Callable[[str], tuple[bytes, str]]

CORPUS: dict[tuple[str, str], Builder] = {
    ("JPEG", "EXIF (Artist, Make)"): lambda c: (jpeg(c), "image/jpeg"),
    ("JPEG", "EXIF GPS"): lambda c: (jpeg(c, gps=True), "image/jpeg"),
    ("JPEG", "XMP"): lambda c: (jpeg(c, xmp=True), "image/jpeg"),
    ("JPEG", "comment (COM)"): lambda c: (jpeg(c, comment=True), "image/jpeg"),
    ("PNG", "tEXt, iTXt XMP, eXIf"): lambda c: (png(c), "image/png"),
    ("PDF", "document information"): lambda c: (
        _pdf(c, info=True, xmp=False, image=False),
        "application/pdf",
    ),
    ("PDF", "catalog XMP"): lambda c: (
        _pdf(c, info=False, xmp=True, image=False),
        "application/pdf",
    ),
    ("PDF", "embedded JPEG EXIF/GPS/XMP/COM + image XMP"): lambda c: (
        _pdf(c, info=False, xmp=False, image=True),
        "application/pdf",
    ),
    ("DOCX", "core properties (creator, lastModifiedBy)"): lambda c: (docx_core(c), DOCX),
    ("DOCX", "custom properties"): lambda c: (docx_custom(c), DOCX),
    ("DOCX", "comment author and initials"): lambda c: (docx_comment(c), DOCX),
    ("DOCX", "tracked-change authors"): lambda c: (docx_tracked(c), DOCX),
    ("DOCX", "people list (w15)"): lambda c: (docx_people(c), DOCX),
    ("DOCX", "embedded JPEG EXIF/GPS/XMP"): lambda c: (docx_media_exif(c), DOCX),
    ("DOCX", "embedded PNG text chunks"): lambda c: (docx_media_png(c), DOCX),
    ("XLSX", "comment authors, app properties, embedded JPEG EXIF"): lambda c: (
        xlsx_parts(c),
        XLSX,
    ),
}


def _object(reader: Any, number: int) -> Any:
    try:
        return reader.get_object(number)
    except Exception:
        return None


def searchable(data: bytes) -> bytes:
    """The bytes, plus every zip entry inflated and every PDF stream decoded."""
    found = [data]
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found += [archive.read(name) for name in archive.namelist()]
    if data[:5] == b"%PDF-":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        for number in range(1, len(reader.xref_objStm) + 2 + 200):
            obj = _object(reader, number)
            if hasattr(obj, "get_data"):
                try:
                    found.append(obj.get_data())
                except Exception:
                    found.append(obj._data)
        if reader.metadata:
            found.append(repr(dict(reader.metadata)).encode())
    return b"\n".join(found)
