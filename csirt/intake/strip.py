"""Metadata-stripped copies of attachments (pure): EXIF, PDF info, Office document properties.

The original is kept sealed as evidence; the copy made here is what staff open by default.  A
file that cannot be parsed as its declared type is refused, so a mislabelled upload cannot slip
through unstripped.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass

# Office Open XML parts that carry the author, company, template, revision history and so on.
_OFFICE_PROPERTY_PARTS = {
    "docProps/core.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        b'metadata/core-properties"/>'
    ),
    "docProps/app.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"/>'
    ),
    "docProps/custom.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'custom-properties"/>'
    ),
}
_MAX_OFFICE_UNCOMPRESSED = 200 * 1024 * 1024
_MAX_IMAGE_PIXELS = 80_000_000

# Pillow's debug log prints metadata values (an author's name, a comment): keep it quiet.
logging.getLogger("PIL").setLevel(logging.INFO)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UnreadableFileError(ValueError):
    """A file is not what its type says, or too large to process safely."""


@dataclass(frozen=True)
class StrippedFile:
    """A copy without metadata, and what was done to make it."""

    data: bytes
    method: str


def strip_metadata(data: bytes, content_type: str) -> StrippedFile:
    """Return a copy of the file without identifying metadata; UnreadableFileError if invalid."""
    if content_type in ("image/jpeg", "image/png"):
        return StrippedFile(_strip_image(data, content_type), "image re-encoded without metadata")
    if content_type == "application/pdf":
        return StrippedFile(_strip_pdf(data), "PDF document information removed")
    if content_type in (DOCX, XLSX):
        return StrippedFile(_strip_office(data), "Office document properties cleared")
    if content_type in ("text/plain", "text/csv"):
        return StrippedFile(data, "plain text (no metadata)")
    raise UnreadableFileError("unsupported type")


def _strip_image(data: bytes, content_type: str) -> bytes:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = _MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            expected = "JPEG" if content_type == "image/jpeg" else "PNG"
            if image.format != expected:
                raise UnreadableFileError("the image is not of its declared type")
            image.load()
            # Copy the pixels only: EXIF, XMP, ICC comments and PNG text chunks stay behind.
            clean = Image.frombytes(image.mode, image.size, image.tobytes())
            palette = image.getpalette()
            if image.mode == "P" and palette:
                clean.putpalette(palette)
            out = io.BytesIO()
            if expected == "JPEG":
                clean.save(out, format="JPEG", quality=92)
            else:
                clean.save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise UnreadableFileError("the image cannot be read") from exc


def _strip_pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        writer.metadata = None  # no /Info dictionary at all
        if "/Metadata" in writer._root_object:  # XMP stream in the catalog
            del writer._root_object["/Metadata"]
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableFileError("the PDF cannot be read") from exc


def _strip_office(data: bytes) -> bytes:
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UnreadableFileError("the document cannot be read") from exc
    with source:
        infos = source.infolist()
        if sum(info.file_size for info in infos) > _MAX_OFFICE_UNCOMPRESSED:
            raise UnreadableFileError("the document is too large when unpacked")
        if "[Content_Types].xml" not in source.namelist():
            raise UnreadableFileError("the document is not an Office file")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in infos:
                content = _OFFICE_PROPERTY_PARTS.get(info.filename)
                if content is None:
                    content = source.read(info.filename)
                # A fixed timestamp: the zip entries' dates would tell when it was edited.
                clean_info = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                clean_info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(clean_info, content)
        return out.getvalue()
