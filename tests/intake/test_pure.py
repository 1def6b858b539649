"""Conflicts of interest and metadata stripping (pure functions)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from csirt.intake.conflicts import is_conflicted, normalize_name, split_involved
from csirt.intake.strip import DOCX, XLSX, UnreadableFileError, strip_metadata
from tests.intake.conftest import jpeg_with_exif, png_with_exif


@dataclass
class Person:
    username: str
    display_name: str
    department: str | None


def test_split_involved() -> None:
    assert split_involved("選挙課、山田太郎\n情報政策課 / 佐藤;選挙課") == [
        "選挙課",
        "山田太郎",
        "情報政策課",
        "佐藤",
    ]
    assert split_involved("") == []


@pytest.mark.parametrize(
    ("person", "involved", "expected"),
    [
        (
            Person("tanaka", "田中 一郎", "選挙管理委員会事務局"),
            ["選挙管理委員会事務局の職員"],
            True,
        ),
        (Person("yamada", "山田 太郎", "総務課"), ["山田太郎さん"], True),
        (Person("sato", "佐藤", "総務課"), ["Sato from IT"], True),
        (Person("sato", "佐藤", "ＩＴ推進課"), ["it推進課"], True),
        (Person("kimura", "木村", "総務課"), ["選挙課"], False),
        (Person("x", "x", None), ["x marks the spot"], False),  # too short to match
        (Person("kimura", "木村", "総務課"), [], False),
        (Person("kimura", "木村", "総務課"), ["  "], False),
    ],
)
def test_is_conflicted(person: Person, involved: list[str], expected: bool) -> None:
    assert is_conflicted(person, involved) is expected


def test_normalize_name() -> None:
    assert normalize_name("ＩＴ 推進課") == normalize_name("it推進課")


def test_images_lose_exif() -> None:
    for data, kind in (
        (jpeg_with_exif("Secret Author"), "image/jpeg"),
        (png_with_exif("Secret Author"), "image/png"),
    ):
        stripped = strip_metadata(data, kind)
        assert b"Secret Author" in data
        assert b"Secret Author" not in stripped.data
        with Image.open(io.BytesIO(stripped.data)) as image:
            assert image.size in ((8, 8), (4, 4))
            assert not image.getexif()
    palette = Image.new("P", (3, 3))
    palette.putpalette([0, 0, 0, 255, 0, 0] * 128)
    out = io.BytesIO()
    palette.save(out, format="PNG")
    assert strip_metadata(out.getvalue(), "image/png").data
    with pytest.raises(UnreadableFileError):
        strip_metadata(png_with_exif("x"), "image/jpeg")
    with pytest.raises(UnreadableFileError):
        strip_metadata(b"garbage", "image/png")


def test_pdf_loses_document_information() -> None:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_metadata({"/Author": "Secret Author", "/Title": "leak"})
    out = io.BytesIO()
    writer.write(out)
    stripped = strip_metadata(out.getvalue(), "application/pdf")
    assert b"Secret Author" not in stripped.data
    reader = PdfReader(io.BytesIO(stripped.data))
    assert len(reader.pages) == 1
    assert not (reader.metadata or {}).get("/Author")
    with pytest.raises(UnreadableFileError):
        strip_metadata(b"%PDF-1.4 nonsense", "application/pdf")


def _office(kind: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "docProps/core.xml",
            "<cp:coreProperties><dc:creator>Secret Author</dc:creator></cp:coreProperties>",
        )
        archive.writestr(
            "docProps/app.xml", "<Properties><Company>Secret Corp</Company></Properties>"
        )
        archive.writestr("docProps/custom.xml", "<Properties>Secret Custom</Properties>")
        archive.writestr(
            "word/document.xml" if kind == DOCX else "xl/workbook.xml", "<body>content</body>"
        )
    return out.getvalue()


@pytest.mark.parametrize("kind", [DOCX, XLSX])
def test_office_properties_are_cleared(kind: str) -> None:
    stripped = strip_metadata(_office(kind), kind)
    with zipfile.ZipFile(io.BytesIO(stripped.data)) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
    assert b"Secret" not in everything
    assert b"content" in everything
    with pytest.raises(UnreadableFileError):
        strip_metadata(b"not a zip", kind)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("other.xml", "x")
    with pytest.raises(UnreadableFileError):
        strip_metadata(out.getvalue(), kind)


def test_text_passes_and_unknown_types_are_refused() -> None:
    assert strip_metadata(b"a,b\n", "text/csv").data == b"a,b\n"
    with pytest.raises(UnreadableFileError):
        strip_metadata(b"MZ", "application/x-msdownload")
