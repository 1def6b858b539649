"""Render every kind with LibreOffice and check the PDF: Japanese text layer, non-blank pages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from csirt.demo_story import founding_facts
from csirt.documents.builders import (
    KINDS,
    build_document,
    committee_report,
    individual_notice,
    ppc_report,
    prevention_progress,
    to_bytes,
)

FACTS = founding_facts()
TITLES = {
    "press_release": FACTS.title,
    "committee_report": committee_report.report_title(FACTS, "ja"),
    "ppc_report": ppc_report.report_title(FACTS, "ja"),
    "individual_notice": individual_notice.notice_title("ja"),
    "prevention_progress": prevention_progress.progress_title("ja"),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice (soffice) and poppler-utils are not installed")
    out = tmp_path_factory.mktemp("render")
    files = []
    for kind in KINDS:
        path = out / f"{kind}.docx"
        path.write_bytes(to_bytes(build_document(kind, FACTS, draft=True)))
        files.append(str(path))
    profile = out / "lo-profile"
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *files,
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(out)},
    )
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_pdf_has_japanese_text_layer_and_non_blank_pages(rendered: Path, kind: str) -> None:
    from PIL import Image, ImageChops
    from pypdf import PdfReader

    pdf = rendered / f"{kind}.pdf"
    reader = PdfReader(pdf)
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert "".join(TITLES[kind].split()) in text
    assert "【案】" in text
    prefix = rendered / kind
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(prefix)], check=True)
    pages = sorted(rendered.glob(f"{kind}-*.png"))
    assert len(pages) == len(reader.pages) >= 1
    for page in pages:
        with Image.open(page) as image:
            grey = image.convert("L")
            white = Image.new("L", grey.size, 255)
            # Not all white: some ink beyond the page-number footer.
            box = ImageChops.difference(grey, white).getbbox()
            assert box is not None
            assert box[3] - box[1] > grey.size[1] // 4, page.name
