"""Metadata-stripped copies of attachments (pure), with bounded work for anonymous input.

The original is kept sealed as evidence; the copy made here is what staff open by default.  A
file that cannot be parsed as its declared type is refused, so a mislabelled upload cannot slip
through unstripped.  Every limit is checked before the expensive step it guards: pixels from the
image header before decoding, zip entry counts and declared sizes before inflating, and a time
budget between steps.  What cannot be cleaned is said so (``StrippedFile.complete`` is False),
never passed off as clean.

Nothing here logs, and no error message carries a name or a value read from inside a file.

What is removed, by kind (the corpus in ``tests/intake/test_metadata_corpus.py`` checks each):

* JPEG and PNG: re-encoded from the pixels (EXIF, GPS, XMP, ICC, comments, text chunks gone).
* PDF: document information, the XMP stream of the catalog, of every page and of every image;
  APPn and comment segments of embedded JPEG streams (EXIF, GPS, XMP, Photoshop IRB).
* Office Open XML (.docx, .xlsx): core, extended and custom properties; authors and initials
  of comments and tracked changes, the people list, revision-session ids, and the metadata of
  embedded JPEG and PNG media; any other embedded media marks the copy as not fully cleaned.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

# Pillow's debug log prints metadata values (an author's name, a comment) and pypdf's warnings
# quote names of objects inside the file: neither may reach a log.
logging.getLogger("PIL").setLevel(logging.INFO)
logging.getLogger("pypdf").disabled = True

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Limits for one file. A 40-megapixel RGB image decodes to 120 MB; one worker must stay below
# 300 MiB while it cleans an attachment (bench/bench_bombs.py measures it).
MAX_IMAGE_PIXELS = 40_000_000
MAX_DECODED_IMAGE_BYTES = 160 * 1024 * 1024
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_UNCOMPRESSED = 100 * 1024 * 1024
MAX_ZIP_ENTRY_RATIO = 200  # inflated size / compressed size, for entries over 1 MB
MAX_PDF_PAGES = 2_000
TIME_BUDGET_S = 8.0

# Office Open XML parts that carry the author, company, template, revision history and so on.
_OFFICE_PROPERTY_PARTS = {
    "docprops/core.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        b'metadata/core-properties"/>'
    ),
    "docprops/app.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"/>'
    ),
    "docprops/custom.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'custom-properties"/>'
    ),
    "word/people.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"/>'
    ),
}
# Attributes naming who wrote a comment or a tracked change, and when (any namespace prefix).
_PERSON_ATTRIBUTES = re.compile(
    rb'(\s[A-Za-z0-9]+:(?:author|initials|userId|providerId|date|dateUtc)=)"[^"]*"'
)
# Revision-session ids tie the edits of one sitting together across documents.
_RSID_ATTRIBUTES = re.compile(rb'\s[A-Za-z0-9]+:rsid[A-Za-z]*="[^"]*"')
# Spreadsheet comment authors are elements, not attributes.
_XLSX_AUTHORS = re.compile(rb"<author>[^<]*</author>")
_XML_PART = re.compile(r"\.(xml|rels)$", re.IGNORECASE)
_IMAGE_MEDIA = re.compile(r"\.(jpe?g|png)$", re.IGNORECASE)
_OTHER_MEDIA = re.compile(
    r"\.(gif|tiff?|bmp|emf|wmf|webp|svg|heic|mp[34]|m4a|wav|avi|mov|wmv|ole|bin|docx|xlsx|pptx"
    r"|pdf)$",
    re.IGNORECASE,
)


class UnreadableFileError(ValueError):
    """A file is not what its type says, is damaged, or is too large to process safely.

    ``reason`` is one of a few fixed words the web layer turns into a message; nothing in it
    comes from inside the file.
    """

    def __init__(self, reason: str = "unreadable") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StrippedFile:
    """A copy without metadata, what was done to make it, and whether it is fully clean."""

    data: bytes
    method: str
    complete: bool = True


class _Budget:
    """A deadline checked between the steps of one file's cleaning."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise UnreadableFileError("too slow")


def strip_metadata(
    data: bytes, content_type: str, *, budget_s: float = TIME_BUDGET_S
) -> StrippedFile:
    """Return a copy of the file without identifying metadata; UnreadableFileError if invalid."""
    budget = _Budget(budget_s)
    if content_type in ("image/jpeg", "image/png"):
        return StrippedFile(_strip_image(data, content_type), "image re-encoded without metadata")
    if content_type == "application/pdf":
        cleaned, complete = _strip_pdf(data, budget)
        return StrippedFile(cleaned, "PDF information, XMP and image metadata removed", complete)
    if content_type in (DOCX, XLSX):
        cleaned, complete = _strip_office(data, budget)
        method = "Office properties, authors and media metadata removed"
        return StrippedFile(cleaned, method, complete)
    if content_type in ("text/plain", "text/csv"):
        return StrippedFile(data, "plain text (no metadata)")
    raise UnreadableFileError("unsupported")


# --- images --------------------------------------------------------------------------------


def _bytes_per_pixel(mode: str) -> int:
    if mode in ("1", "L", "P"):
        return 1
    if mode in ("I", "F", "RGBA", "CMYK", "RGBX", "YCbCr"):
        return 4
    if mode.startswith("I;16") or mode == "LA":
        return 2
    return 4 if len(mode) > 3 else max(len(mode), 3)


def _strip_image(data: bytes, content_type: str) -> bytes:
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            # The header is read here; the pixels are not decoded until ``load``.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            expected = "JPEG" if content_type == "image/jpeg" else "PNG"
            if image.format != expected:
                raise UnreadableFileError("wrong type")
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS or (
                width * height * _bytes_per_pixel(image.mode) > MAX_DECODED_IMAGE_BYTES
            ):
                raise UnreadableFileError("too many pixels")
            image.load()
            # Keep the pixels only: EXIF, XMP, ICC, comments and PNG text chunks stay behind.
            image.info.clear()
            out = io.BytesIO()
            if expected == "JPEG":
                image.save(out, format="JPEG", quality=92)
            else:
                image.save(out, format="PNG")
            return out.getvalue()
    except UnreadableFileError:
        raise
    except Exception:
        # Hostile input: any failure of the decoder is a refusal (4xx), never a 500.
        raise UnreadableFileError("unreadable") from None


_JPEG_KEEP = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_KEEP |= {0xC4, 0xCC, 0xDB, 0xDD, 0xE0, 0xEE}  # tables, restart interval, JFIF, Adobe


def clean_jpeg_segments(data: bytes) -> bytes:
    """A JPEG without EXIF, XMP, ICC, IPTC or comment segments, pixels untouched (no decoding).

    APP0 (JFIF) and APP14 (Adobe colour transform) are kept: decoders need them.
    """
    if data[:2] != b"\xff\xd8":
        raise UnreadableFileError("unreadable")
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise UnreadableFileError("unreadable")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            out += data[pos:]
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += data[pos : pos + 2]
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise UnreadableFileError("unreadable")
        if marker in _JPEG_KEEP and not (marker == 0xE0 and data[pos + 4 : pos + 8] != b"JFIF"):
            out += data[pos : pos + 2 + length]
        pos += 2 + length
    raise UnreadableFileError("unreadable")


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME", b"iCCP", b"dSIG"}


def clean_png_chunks(data: bytes) -> bytes:
    """A PNG without text, EXIF, time or profile chunks, pixels untouched (no decoding)."""
    if not data.startswith(_PNG_SIGNATURE):
        raise UnreadableFileError("unreadable")
    out = bytearray(_PNG_SIGNATURE)
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise UnreadableFileError("unreadable")
        if kind not in _PNG_DROP:
            out += data[pos:end]
        pos = end
        if kind == b"IEND":
            return bytes(out)
    raise UnreadableFileError("unreadable")


# --- PDF -----------------------------------------------------------------------------------


def _strip_pdf(data: bytes, budget: _Budget) -> tuple[bytes, bool]:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableFileError("encrypted")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise UnreadableFileError("too many parts")
        writer = PdfWriter()
        complete = True
        # Cleaned in the reader's objects first, so that nothing removed is copied at all.
        for page in reader.pages:
            budget.check()
            for key in ("/Metadata", "/PieceInfo"):
                if key in page:
                    del page[NameObject(key)]
            complete = _clean_pdf_images(page, budget) and complete
            writer.add_page(page)
        writer.metadata = None  # no /Info dictionary at all
        root = writer._root_object
        for key in ("/Metadata", "/PieceInfo"):
            if key in root:
                del root[NameObject(key)]
        # Whatever is no longer referenced is not written.
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue(), complete
    except UnreadableFileError:
        raise
    except Exception:
        # Hostile input (bad CRC, encrypted or truncated parts, parser errors): a refusal.
        raise UnreadableFileError("unreadable") from None


def _clean_pdf_images(page: object, budget: _Budget) -> bool:
    """Strip XMP and JPEG metadata from a page's image XObjects; False if one cannot be cleaned."""
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    complete = True
    resources = page.get("/Resources")  # type: ignore[attr-defined]
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, DictionaryObject):
        return True
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, DictionaryObject):
        return True
    for ref in list(xobjects.values()):
        budget.check()
        xobject = ref.get_object()
        if not isinstance(xobject, StreamObject):
            continue
        if "/Metadata" in xobject:
            del xobject[NameObject("/Metadata")]
        if xobject.get("/Subtype") != "/Image":
            complete = _clean_pdf_images(xobject, budget) and complete  # a form's own images
            continue
        filters = xobject.get("/Filter")
        names = [str(f) for f in filters] if isinstance(filters, list) else [str(filters)]
        if names == ["/DCTDecode"]:
            xobject._data = clean_jpeg_segments(xobject._data)
        elif "/DCTDecode" in names or "/JPXDecode" in names:
            complete = False  # a JPEG inside another filter, or JPEG 2000: not rewritten here
    return complete


# --- Office Open XML -----------------------------------------------------------------------


def _check_zip(source: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = source.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UnreadableFileError("too many parts")
    if sum(info.file_size for info in infos) > MAX_ZIP_UNCOMPRESSED:
        raise UnreadableFileError("too large unpacked")
    names = [info.filename.lower() for info in infos]
    if len(set(names)) != len(names):
        raise UnreadableFileError("unreadable")
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnreadableFileError("encrypted")
        if info.file_size > 1024 * 1024 and (
            info.compress_size == 0 or info.file_size / info.compress_size > MAX_ZIP_ENTRY_RATIO
        ):
            raise UnreadableFileError("too large unpacked")
    if "[content_types].xml" not in names:
        raise UnreadableFileError("wrong type")
    return infos


def _read_entry(source: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """An entry's bytes, never more than it declares (a lying header cannot inflate further)."""
    with source.open(info) as handle:
        content = handle.read(info.file_size + 1)
    if len(content) != info.file_size:
        raise UnreadableFileError("unreadable")
    return content


def _clean_part(name: str, content: bytes) -> tuple[bytes, bool]:
    lowered = name.lower()
    replacement = _OFFICE_PROPERTY_PARTS.get(lowered)
    if replacement is not None:
        return replacement, True
    cleaners: list[Callable[[bytes], bytes]] = []
    if _XML_PART.search(name):
        content = _PERSON_ATTRIBUTES.sub(rb'\1""', content)
        content = _RSID_ATTRIBUTES.sub(b"", content)
        if lowered.startswith("xl/comments"):
            content = _XLSX_AUTHORS.sub(b"<author></author>", content)
        return content, True
    if lowered.endswith("/media/") or "/media/" in lowered or lowered.startswith("media/"):
        if _IMAGE_MEDIA.search(name):
            is_png = lowered.endswith(".png")
            cleaners.append(clean_png_chunks if is_png else clean_jpeg_segments)
        else:
            return content, False
    elif _OTHER_MEDIA.search(name) or "/embeddings/" in lowered:
        return content, False
    for cleaner in cleaners:
        content = cleaner(content)
    return content, True


def _strip_office(data: bytes, budget: _Budget) -> tuple[bytes, bool]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            infos = _check_zip(source)
            out = io.BytesIO()
            complete = True
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
                for info in infos:
                    budget.check()
                    content, clean = _clean_part(info.filename, _read_entry(source, info))
                    complete = complete and clean
                    # A fixed timestamp: the entries' dates would tell when it was edited.
                    entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    target.writestr(entry, content)
            return out.getvalue(), complete
    except UnreadableFileError:
        raise
    except Exception:
        # Hostile input (bad CRC, encrypted or truncated parts, parser errors): a refusal.
        raise UnreadableFileError("unreadable") from None
