"""The seed's two lessons in Chromium with JavaScript off: import the file register, open a case
for a leak on 選挙システム, pick the two files held on it and see the deduplicated total and the
triage result; then publish two measures, approve one as a second lead, and see only that one
on the public /measures/ page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REGISTER = (
    "\ufeff個人情報ファイルの名称,ファイル簿の番号,事務をつかさどる組織の名称,利用目的,記録項目,"
    "本人の数,本人の数の区分,本人の数の基準日,保存場所（システム・媒体）,持出しを許可できる者,保存期間\r\n"
    "選挙人名簿,E2E-SEN-1,選挙管理委員会事務局,選挙人名簿の調製,氏名、住所、生年月日、性別,"
    "680000,実数,2015-06-01,選挙システム、USBメモリ,事務局長,永年\r\n"
    "期日前投票者名簿,E2E-SEN-2,選挙管理委員会事務局,期日前投票の管理,氏名、生年月日,"
    "120000,概数,2015-04-12,選挙システム,事務局長,5年\r\n"
    "職員名簿,E2E-JIN-1,人事課,人事管理,氏名、電話番号,15000,実数,2015-04-01,人事給与システム,"
    "人事課長,5年\r\n"
)


def _context(browser: Any) -> Any:
    context = browser.new_context(
        java_script_enabled=False, locale="ja-JP", viewport={"width": 1280, "height": 1000}
    )
    context.set_default_timeout(30_000)
    return context


def test_register_to_case_and_public_follow_up(
    browser: Any, live_server: str, live_users: Any, shots: Any, tmp_path: Any
) -> None:
    first = live_users.create(roles=["lead"], username="e2e-inv-lead1")
    second = live_users.create(roles=["lead"], username="e2e-inv-lead2")
    live_users.session.commit()
    lead = _context(browser)
    page = lead.new_page()
    sign_in(page, live_server, first.user.username, first.password)

    # 1. Import the register (個人情報ファイル簿) CSV.
    register = tmp_path / "register.csv"
    register.write_bytes(REGISTER.encode("utf-8"))
    page.goto(f"{live_server}/console/inventory/import")
    page.locator("input[name=file]").set_input_files(str(register))
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    page.wait_for_url(f"{live_server}/console/inventory")
    assert page.locator("table.inventory tbody tr").count() >= 3
    shots(page, "inventory")

    # 2. Open a case for a leak on 選挙システム (through the new-case form).
    page.goto(f"{live_server}/console/cases/new")
    page.locator("input[name=title]").fill("選挙システムのデータ流出（e2e）")
    page.locator("main form button.primary").last.click()
    page.wait_for_url(re.compile(r".*/console/cases/\d+.*"))
    case_url = page.url.split("?")[0].split("#")[0].rstrip("/")
    case_id = case_url.rsplit("/", 1)[-1]
    base = f"{live_server}/console/cases/{case_id}"

    # 3. "Which files?": every file on 選挙システム, with the persons and items at stake.
    page.goto(f"{base}/datasets")
    page.locator("input[name=inv_system]").fill("選挙システム")
    page.locator("section.inventory-pick form[role=search] button[type=submit]").click()
    panel = page.locator("section.exposure-panel")
    assert "2" in panel.inner_text()
    shots(page, "which-files")
    picks = page.locator("section.inventory-pick input[name=file_id]")
    assert picks.count() == 2
    for index in range(picks.count()):
        picks.nth(index).check()
    page.locator("section.inventory-pick select[name=exposure]").select_option("public_internet")
    page.locator("section.inventory-pick button.primary").click()
    page.wait_for_url(f"{base}/datasets*")
    table = page.locator("table.datasets")
    assert table.get_by_role("rowheader", name="選挙人名簿").count() == 1
    assert page.locator("table.datasets .from-inventory").count() == 2
    assert "800,000" in page.locator("#totals + dl, dl.totals").first.inner_text()
    shots(page, "picked")

    # Declare the overlap of the two files in the inventory; the case's total is deduplicated.
    page.goto(f"{live_server}/console/inventory?q=E2E-SEN-1")
    page.locator("table.inventory a").first.click()
    page.locator("select[name=overlap-other_id]").select_option(
        label="期日前投票者名簿 (選挙管理委員会事務局)"
    )
    page.locator("input[name=overlap-persons]").fill("110000")
    page.locator("form[action$='/overlaps'] button[type=submit]").click()
    page.wait_for_url("**/console/inventory/*")
    page.goto(f"{base}/datasets")
    dedup = page.locator("#dedup")
    assert "690,000" in dedup.inner_text()
    # Triage ran when the data sets were added: the case is P1 (public internet, 800,000).
    assert page.locator(".case-head .prio-P1").count() == 1
    page.goto(f"{base}/triage")
    assert page.locator(".prio-P1").count() >= 1
    shots(page, "dedup-and-triage")

    # 4. Two measures, both proposed for publication; a second lead approves one.
    titles = ("個人所有サーバーへの業務データ保存の禁止", "全職員への情報セキュリティ研修")
    for title, due in (
        ("個人所有サーバーへの業務データ保存の禁止", date.today() - timedelta(days=10)),
        ("全職員への情報セキュリティ研修", date.today() + timedelta(days=60)),
    ):
        page.goto(f"{live_server}/console/measures/new?case_id={case_id}")
        page.locator("input[name=title]").fill(title)
        page.locator("input[name=owner]").fill("情報政策課")
        page.locator("input[name=due]").fill(due.isoformat())
        page.locator("select[name=status]").select_option("in_progress")
        page.locator("main form button.primary").last.click()
        page.wait_for_url("**/console/measures")
    page.goto(f"{live_server}/console/measures/public")
    page.locator(f"#case-{case_id} input[name=title]").fill("選挙人名簿等の流出事案")
    page.locator(f"#case-{case_id} button[type=submit]").click()
    for title in titles:
        article = page.locator("article.measure-public").filter(has_text=title)
        article.locator("summary").click()
        article.locator("form button[type=submit]").click()
        page.wait_for_url("**/console/measures/public*")
    mine = page.locator("article.measure-public").filter(has_text=titles[0])
    assert mine.locator(".pending").count() == 1
    assert mine.locator("form[action$='/approve']").count() == 0  # the proposer cannot approve
    shots(page, "proposed")

    reviewer = _context(browser)
    other = reviewer.new_page()
    sign_in(other, live_server, second.user.username, second.password)
    other.goto(f"{live_server}/console/measures/public")
    pending = other.locator(".pending").filter(has_text="個人所有サーバーへの業務データ保存の禁止")
    pending.locator("form[action$='/approve'] button").click()
    other.wait_for_url("**/console/measures/public*")
    shots(other, "approved")

    # 5. The public page (no session, JavaScript off) lists only the approved one, overdue.
    public = _context(browser)
    visitor = public.new_page()
    response = visitor.goto(f"{live_server}/measures/")
    assert response.status == 200
    text = visitor.locator("main").inner_text()
    assert "個人所有サーバーへの業務データ保存の禁止" in text
    assert "全職員への情報セキュリティ研修" not in text
    assert "選挙人名簿等の流出事案" in text
    assert "期限超過" in text or "Overdue" in text
    shots(visitor, "public-measures")
    for context in (lead, reviewer, public):
        context.close()
