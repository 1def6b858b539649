"""Case records in Chromium: add data sets and evidence through the pages, see the inquiry chart."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from csirt.cases.creation import create_case

pytestmark = pytest.mark.browser


def sign_in(page: Any, live_server: str, username: str, password: str) -> None:
    page.goto(f"{live_server}/console/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/console/")


def test_datasets_evidence_and_inquiry_chart(
    page: Any, live_server: str, live_users: Any, shots: Any, tmp_path: Any
) -> None:
    created = live_users.create(roles=["responder"], username="e2e-records")
    case = create_case(live_users.session, title="選挙人名簿の流出（e2e）", actor=created.user)
    live_users.session.commit()
    sign_in(page, live_server, created.user.username, created.password)
    base = f"{live_server}/console/cases/{case.id}"

    # Data sets: two added through the form; totals and 要配慮 marks show.
    page.goto(f"{base}/datasets")
    for name, persons, items, exposure in (
        ("選挙人名簿 北区", "68000", ["name", "address", "birth_date", "sex"], "public_internet"),
        ("健康診断結果", "120", ["name", "medical_history"], "internal"),
    ):
        page.locator("input[name=name]").fill(name)
        page.locator("input[name=holder]").fill("選挙管理委員会")
        for item in items:
            page.locator(f"input[name=items][value={item}]").check()
        page.locator("input[name=persons]").fill(persons)
        page.locator("select[name=exposure]").select_option(exposure)
        if exposure == "public_internet":
            page.locator("input[name=exposed_from]").fill("2015-04-01T10:00")
        page.locator("form.record-form button[type=submit]").click()
        page.wait_for_url(f"{base}/datasets")
    table = page.locator("table.datasets")
    expect(table.get_by_role("rowheader", name="選挙人名簿 北区")).to_be_visible()
    expect(page.get_by_text("68,120")).to_be_visible()
    assert page.locator("table.datasets .tag.sensitive").count() == 1
    shots(page, "datasets")

    # A bad form shows errors, not a crash.
    page.locator("input[name=persons]").fill("-5")
    page.locator("form.record-form button[type=submit]").click()
    expect(page.locator("ul.errors").first).to_be_visible()
    shots(page, "dataset-errors")

    # Evidence: upload a captured page; its hash and custody show; download is an attachment.
    capture = tmp_path / "capture.html"
    capture.write_bytes(b"<!DOCTYPE html><html><body>leaked list</body></html>")
    page.goto(f"{base}/evidence")
    page.locator("select[name=kind]").select_option("web_capture")
    page.locator("input[name=file]").set_input_files(str(capture))
    page.locator("input[name=title]").fill("掲示板の書き込み")
    page.locator("input[name=url]").fill("https://bbs.example/thread/1")
    page.locator("input[name=captured_at]").fill("2015-05-01T12:00")
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    page.wait_for_url("**/evidence/*")
    import hashlib

    sha = hashlib.sha256(capture.read_bytes()).hexdigest()
    expect(page.get_by_text(sha, exact=True)).to_be_visible()
    with page.expect_download() as info:
        page.locator("a.button[download]").click()
    download = info.value
    assert download.suggested_filename == "capture.html"
    page.reload()
    assert page.locator("table.custody tbody tr").count() == 2  # collected, downloaded
    shots(page, "evidence-detail")
    page.goto(f"{base}/evidence")
    page.locator("input[name=td-recipient]").fill("掲示板運営者")
    page.locator("input[name=td-url]").fill("https://bbs.example/thread/1")
    page.locator("form[action$='/takedowns'] button[type=submit]").click()
    page.wait_for_url("**/evidence#takedowns")
    shots(page, "evidence-list")

    # Inquiries: a few days of calls and letters; the server-drawn chart shows one bar per day.
    page.goto(f"{base}/inquiries")
    for day, channel in (
        ("2015-06-30", "phone"),
        ("2015-06-30", "phone"),
        ("2015-06-30", "letter"),
        ("2015-07-01", "phone"),
        ("2015-07-03", "email"),
    ):
        page.locator("select[name=channel]").select_option(channel)
        page.locator("input[name=received_on]").fill(day)
        page.locator("input[name=topic]").fill("自分の情報は含まれているか")
        page.locator("form.record-form button[type=submit]").click()
        page.wait_for_url(f"{base}/inquiries")
    bars = page.locator("svg.bars rect.total")
    assert bars.count() == 4  # 30 June to 3 July, the empty 2 July included
    assert bars.first.get_attribute("width") == "520"
    shots(page, "inquiries-chart")
