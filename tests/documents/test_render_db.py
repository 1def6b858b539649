"""Render a committee report built from the DATABASE with LibreOffice: text layer and ink."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from csirt.documents import approval, service
from tests.documents.conftest import full_access, make_demo_case
from tests.factories import UserFactory


@pytest.mark.slow
def test_db_built_committee_report_renders(
    db_session: Session, users: UserFactory, env: service.Environment, tmp_path: Path
) -> None:
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice (soffice) and poppler-utils are not installed")
    from PIL import Image, ImageChops
    from pypdf import PdfReader

    creator = users.create(roles=["lead"]).user
    approver = users.create(roles=["lead"]).user
    demo = make_demo_case(db_session, creator)
    document = service.create_document(
        db_session, creator, full_access(demo), "committee_report", "ja", env
    )
    approval.approve(db_session, approver, document, env)
    result = service.export_document(db_session, approver, document, env)
    path = tmp_path / result.filename
    path.write_bytes(result.data)
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    pdf = path.with_suffix(".pdf")
    reader = PdfReader(pdf)
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert "検証委員会報告書" in text or "報告書" in text
    assert "堺市個人情報漏えい事案等検証委員会" in text
    assert "匿名の通報を受付" in text
    assert "内部メモ" not in text
    assert "【案】" not in text
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(reader.pages) >= 4
    for page in pages:
        with Image.open(page) as image:
            grey = image.convert("L")
            box = ImageChops.difference(grey, Image.new("L", grey.size, 255)).getbbox()
            assert box is not None
