"""Case work in Chromium: a case from a playbook, timeline events, CSV import, closing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CSV = (
    "\ufeffoccurred_at,precision,title,description,category,visibility,source,actor,evidence_ids\r\n"
    "2015-08-22,day,ブログに流出の書き込み,,detection,public,ブログサイト,,\r\n"
    "2015-09-07,day,報道提供,職員の不祥事案の発生について,publication,public,広報,,\r\n"
).encode("utf-8")


def _login(page: Any, live_server: str, live_users: Any, username: str) -> None:
    created = live_users.create(roles=["lead"], username=username)
    live_users.session.commit()
    page.goto(f"{live_server}/console/login")
    page.get_by_label("ユーザー名").fill(created.user.username)
    page.get_by_label("パスワード").fill(created.password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url("**/console/")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/console/")


def _new_case(page: Any, live_server: str, title: str, playbook: str) -> None:
    page.goto(f"{live_server}/console/cases/")
    page.get_by_role("link", name="New case").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Summary").fill("匿名の通報フォームから。")
    page.get_by_label("Priority").select_option("P3")
    page.get_by_label("Aware since").fill("2015-06-24T20:00")
    page.get_by_label("An insider may be involved").check()
    page.get_by_label("Tags (comma-separated)").fill("名簿, e2e")
    page.get_by_label("Playbook").select_option(label=playbook)
    page.get_by_role("button", name="Create case").click()
    page.wait_for_url("**/console/cases/*")


def test_case_from_playbook_timeline_and_csv_import(
    page: Any, live_server: str, live_users: Any, shots: Any
) -> None:
    _login(page, live_server, live_users, "e2e-cases-lead")
    page.goto(f"{live_server}/console/cases/new")
    shots(page, "new-case-form")
    _new_case(
        page, live_server, "選挙人名簿がWebに掲載（e2e）", "Personal data leaked on the internet"
    )
    expect(page.get_by_role("heading", name="選挙人名簿がWebに掲載（e2e）")).to_be_visible()
    expect(page.get_by_text("Closing checklist").first).to_be_visible()
    shots(page, "overview")

    page.get_by_role("navigation", name="Case sections").get_by_role("link", name="Tasks").click()
    expect(
        page.get_by_role("rowheader").filter(has_text="Capture the published content")
    ).to_have_count(1)
    assert page.locator("tr.is-overdue").count() > 0  # aware in 2015: everything is overdue
    shots(page, "tasks")

    page.get_by_role("navigation", name="Case sections").get_by_role(
        "link", name="Timeline"
    ).click()
    add = page.get_by_role("region", name="Add an event")
    add.get_by_label("When").fill("2015-06-24 20:00")
    add.get_by_label("What happened").fill("匿名の通報を受信")
    add.get_by_label("Visibility").select_option("public")
    add.get_by_label("Source", exact=True).fill("通報フォーム")
    add.get_by_role("button", name="Add event").click()
    page.wait_for_url("**/timeline")
    assert page.get_by_role("rowheader").filter(has_text="匿名の通報を受信").count() == 1

    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "timeline.csv", "mimeType": "text/csv", "buffer": CSV}]
    )
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url("**/timeline")
    expect(page.get_by_text("2 events imported.")).to_be_visible()
    whens = page.locator("table.timeline td.when").all_inner_texts()
    # Times in the reader's language with the zone; a day-precision event shows its day only.
    assert whens == ["24 Jun 2015 20:00 JST", "22 Aug 2015", "7 Sep 2015"]
    shots(page, "timeline")

    search = page.get_by_role("search", name="Filter events")
    search.get_by_label("Visibility").select_option("public")
    search.get_by_label("Text").fill("報道")
    search.get_by_role("button", name="Filter").click()
    expect(page.locator("table.timeline tbody tr")).to_have_count(1)
    shots(page, "timeline-filtered")

    page.goto(f"{live_server}/console/cases/?q=名簿&tag=e2e")
    assert (
        page.get_by_role("link", name="CSIRT-").count() >= 1
        or page.locator("table.cases tbody tr").count() == 1
    )
    shots(page, "case-list-search")


def test_close_with_the_checklist(page: Any, live_server: str, live_users: Any, shots: Any) -> None:
    _login(page, live_server, live_users, "e2e-close-lead")
    _new_case(page, live_server, "誤送信（e2e）", "Misdelivered mail, email or fax")
    case_url = page.url

    page.get_by_role("button", name="Close the case").click()
    missing = page.locator("#missing")
    expect(missing.get_by_role("heading", name="The case cannot be closed yet")).to_be_visible()
    assert missing.locator("li").count() > 3
    shots(page, "close-refused")

    page.goto(case_url + "/tasks")
    while True:
        open_rows = page.locator("tr.task-edit").filter(
            has=page.locator("select[name$='-status'] option[selected][value='open']")
        )
        if open_rows.count() == 0:
            break
        row = open_rows.first
        row.locator("summary").click()
        row.locator("select[name$='-status']").select_option("done")
        row.get_by_role("button", name="Update").click()
        page.wait_for_load_state()
    shots(page, "tasks-done")

    page.goto(case_url)
    for _button in page.locator("#checklist").get_by_role("button", name="Confirm").all():
        page.locator("#checklist").get_by_role("button", name="Confirm").first.click()
        page.wait_for_load_state()
    page.get_by_label("Outcome").select_option("resolved")
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_url(case_url)
    expect(page.get_by_text("Case closed.")).to_be_visible()
    assert page.locator("p.case-ref").inner_text().endswith("Closed")
    shots(page, "closed")
