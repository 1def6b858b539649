"""PR drafts a press release, edits a section; a lead approves; PR exports the final .docx,
which is rendered to PNG with LibreOffice for a person to look at."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import pytest
from playwright.sync_api import expect

from csirt.documents import blocks
from tests.documents.conftest import make_demo_case
from tests.e2e.conftest import OUTPUT
from tests.factories import assign_to_case

pytestmark = pytest.mark.browser


def _sign_in(page: Any, live_server: str, username: str, password: str) -> None:
    page.goto(f"{live_server}/console/login")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")


def _render(docx_path: Path, folder: Path) -> list[Path]:
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        return []
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={(folder / 'lo').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(docx_path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(folder)},
    )
    pdf = docx_path.with_suffix(".pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(folder / "export")], check=True)
    return sorted(folder.glob("export-*.png"))


def test_pr_drafts_lead_approves_pr_exports_final(
    browser: Any, page: Any, live_server: str, live_users: Any, shots: Any
) -> None:
    pr = live_users.create(roles=["pr"], username="e2e-pr")
    lead = live_users.create(roles=["lead"], username="e2e-lead-doc")
    creator = live_users.create(roles=["lead"], username="e2e-case-lead")
    demo = make_demo_case(live_users.session, creator.user)
    live_users.session.commit()
    assign_to_case(live_users.session, pr.user, demo.case.id, "pr")  # PR: assigned cases only

    _sign_in(page, live_server, pr.user.username, pr.password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Documents").click()
    page.get_by_role("link", name=f"{demo.case.reference} {demo.case.title}").click()
    page.wait_for_url(f"**/console/cases/{demo.case.id}/documents")
    expect(page.get_by_text("Public facts only")).to_be_visible()
    assert page.locator("text=内部メモ").count() == 0
    shots(page, "pr-case-documents")

    page.get_by_label("Kind of document").select_option("press_release")
    page.get_by_label("Language of the document").select_option("ja")
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_url("**/console/documents/*")
    document_url = page.url
    expect(page.get_by_text("Draft", exact=True).first).to_be_visible()
    shots(page, "pr-draft")

    page.get_by_role("link", name="Edit sections").click()
    cause = page.get_by_label("Cause", exact=True)
    cause.fill("当該職員が個人情報の持出しに関する規程に違反し、私物のサーバーに保存したため。")
    page.get_by_label("What changed (optional)").fill("原因を具体化")
    shots(page, "pr-edit")
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_url(document_url)
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    page.get_by_role("link", name="Compare with version 1").click()
    expect(page.locator("table.doc-diff ins").first).to_be_visible()
    shots(page, "pr-diff")

    lead_context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    lead_page = lead_context.new_page()
    _sign_in(lead_page, live_server, lead.user.username, lead.password)
    lead_page.goto(document_url)
    lead_page.get_by_role("button", name="Approve version 2").click()
    expect(lead_page.get_by_text("Version 2 approved.")).to_be_visible()
    shots(lead_page, "lead-approved")
    lead_context.close()

    page.goto(document_url)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export final .docx").click()
    download = download_info.value
    assert download.suggested_filename.endswith("_press_release_ja_v2_final.docx")
    folder = OUTPUT / "test_pr_drafts_lead_approves_pr_exports_final"
    target = folder / download.suggested_filename
    download.save_as(str(target))
    exported = docx.Document(str(target))
    assert not blocks.has_watermark(exported)
    assert any("私物のサーバー" in p.text for p in exported.paragraphs)
    shots(page, "pr-after-export")
    pages = _render(target, folder)
    if shutil.which("soffice"):
        assert pages, "LibreOffice produced no pages"
