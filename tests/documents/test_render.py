"""Render every kind, in Japanese and English, with LibreOffice and read the pages back.

The page images are kept in test-output/documents/ (CSIRT_RENDER_DIR) for people to look at.
The text layer is checked as a reader sees the pages: the title is there, no date or number
in a table cell is broken across lines ("2016年3月31 / 日", "9 / 8%"), no page ends with a
heading whose content is on the next page, and the contents give page numbers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import docx
import pytest

from csirt.demo_story import founding_facts
from csirt.documents.blocks import NBSP, WORD_JOINER
from csirt.documents.builders import KINDS, build_document, to_bytes

RENDER_DIR = Path(os.environ.get("CSIRT_RENDER_DIR", "test-output/documents"))
LANGS = ("ja", "en")
# Each kind as of a day the founding story supports: the press release, the PPC report and the
# notice of December 2015, the committee report when the committee ended, a progress report.
AS_OF = {
    "press_release": date(2015, 12, 14),
    "ppc_report": date(2015, 12, 14),
    "individual_notice": date(2015, 12, 14),
    "committee_report": date(2016, 2, 25),
    "prevention_progress": date(2017, 4, 1),
}
# Dates and numbers (and English dates) as they appear in table cells.
TOKEN = re.compile(
    r"[0-9][0-9,.:%年月日時分秒人件点万歳]*[0-9年月日時分秒人件点万歳%]"
    r"|\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October"
    r"|November|December) \d{4}\b"
)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text.replace(WORD_JOINER, "").replace(NBSP, " "))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice (soffice) and poppler-utils are not installed")
    out = tmp_path_factory.mktemp("render")
    files = []
    for kind in KINDS:
        for lang in LANGS:
            facts = founding_facts(lang, as_of=AS_OF[kind])
            path = out / f"{kind}_{lang}.docx"
            path.write_bytes(to_bytes(build_document(kind, facts, lang=lang, draft=False)))
            files.append(str(path))
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={(out / 'lo-profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *files,
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "HOME": str(out)},
    )
    RENDER_DIR.mkdir(parents=True, exist_ok=True)
    for old in RENDER_DIR.glob("*.png"):
        old.unlink()
    for kind in KINDS:
        for lang in LANGS:
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "60",
                    str(out / f"{kind}_{lang}.pdf"),
                    str(RENDER_DIR / f"{kind}_{lang}"),
                ],
                check=True,
                timeout=120,
            )
    return out


def _pages(rendered: Path, kind: str, lang: str) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(rendered / f"{kind}_{lang}.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [page for page in text.split("\f") if page.strip()]


def _document(rendered: Path, kind: str, lang: str) -> docx.document.Document:
    return docx.Document(str(rendered / f"{kind}_{lang}.docx"))


CASES = [(kind, lang) for kind in KINDS for lang in LANGS]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_every_page_is_rendered_and_kept(rendered: Path, kind: str, lang: str) -> None:
    from PIL import Image, ImageChops

    pages = sorted(RENDER_DIR.glob(f"{kind}_{lang}-*.png"))
    assert len(pages) == len(_pages(rendered, kind, lang)) >= 1
    for page in pages:
        with Image.open(page) as image:
            grey = image.convert("L")
            box = ImageChops.difference(grey, Image.new("L", grey.size, 255)).getbbox()
            assert box is not None, page.name
            assert box[3] - box[1] > grey.size[1] // 8, page.name  # ink beyond the footer


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_title_is_in_the_text_layer(rendered: Path, kind: str, lang: str) -> None:
    document = _document(rendered, kind, lang)
    title = next(p.text for p in document.paragraphs if p.style.name == "Title")
    text = _squeeze("".join(_pages(rendered, kind, lang)))
    assert _squeeze(title) in text


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_no_date_or_number_in_a_table_cell_breaks(rendered: Path, kind: str, lang: str) -> None:
    document = _document(rendered, kind, lang)
    tokens = set()
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                seen = cell.text.replace(WORD_JOINER, "").replace(NBSP, " ")
                tokens.update(match.group(0) for match in TOKEN.finditer(seen))
    assert tokens
    lines = [_squeeze(line) for page in _pages(rendered, kind, lang) for line in page.splitlines()]
    broken = sorted(t for t in tokens if not any(_squeeze(t) in line for line in lines))
    assert not broken, f"broken across lines in {kind}_{lang}: {broken}"


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_no_page_ends_with_a_heading(rendered: Path, kind: str, lang: str) -> None:
    document = _document(rendered, kind, lang)
    headings = {
        _squeeze(p.text)
        for p in document.paragraphs
        if p.style.name.startswith("Heading") and p.text.strip()
    }
    for number, page in enumerate(_pages(rendered, kind, lang), start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        body = [line for line in lines if not re.fullmatch(r"\s*-\s*\d+\s*-\s*", line)]
        assert body, f"page {number} of {kind}_{lang} is empty"
        assert _squeeze(body[-1]) not in headings, f"page {number} ends with {body[-1]!r}"


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_contents_give_page_numbers(rendered: Path, lang: str) -> None:
    contents = _pages(rendered, "committee_report", lang)[1]
    entries = [line for line in contents.splitlines() if "....." in line]
    assert len(entries) >= 10
    assert all(re.search(r"\.{3,}\s*\d+\s*$", line) for line in entries), entries
