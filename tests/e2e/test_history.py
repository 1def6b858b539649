"""Correcting a case in Chromium with JavaScript off: edit a timeline event, read its history,
delete it through the confirmation page with a reason, restore it as a lead, see the activity."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from csirt.cases.creation import create_case
from csirt.cases.tasks import add_task
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def test_edit_history_soft_delete_confirmation_restore(
    browser: Any, live_server: str, live_users: Any, shots: Any
) -> None:
    created = live_users.create(roles=["lead"], username="e2e-history-lead")
    live_users.session.commit()
    session = live_users.session
    case = create_case(session, title="名簿の誤送信（e2e 訂正）", actor=created.user)
    session.commit()
    case_id = case.id

    context = _context(browser)
    page = context.new_page()
    try:
        sign_in(page, live_server, created.user.username, created.password)
        page.get_by_role("button", name="English").click()
        page.wait_for_url("**/console/")

        page.goto(f"{live_server}/console/cases/{case_id}/timeline")
        add = page.locator("form[action$='/timeline']")
        add.get_by_label("When").fill("2026-11-02 09:30")
        add.get_by_label("What happened").fill("名簿を誤って送信")
        add.get_by_role("button", name="Add event").click()
        page.wait_for_url("**/timeline")

        page.get_by_role("link", name="Correct or delete: 名簿を誤って送信").click()
        page.wait_for_url("**/edit")
        page.get_by_label("What happened").fill("名簿を誤って外部へ送信")
        page.get_by_label("Why it changed").fill("送信先の明記")
        page.get_by_role("button", name="Save the correction").click()
        page.wait_for_url("**/edit")
        history = page.locator("section[aria-labelledby=history-h]")
        expect(history.get_by_text("送信先の明記")).to_be_visible()
        expect(history.get_by_text("名簿を誤って送信")).to_be_visible()
        shots(page, "edited-with-history")

        page.get_by_role("link", name="Delete this event…").click()
        page.wait_for_url("**/delete")
        expect(page.get_by_role("heading", name="Delete this event?")).to_be_visible()
        shots(page, "confirmation")
        page.get_by_role("button", name="Delete the event").click()  # no reason: refused
        expect(page.locator("ul.errors")).to_be_visible()
        page.get_by_label("Reason").fill("重複登録")
        page.get_by_role("button", name="Delete the event").click()
        page.wait_for_url("**/timeline")
        deleted = page.locator("section[aria-labelledby=deleted-h]")
        expect(deleted.get_by_text("重複登録")).to_be_visible()
        assert page.locator("table.timeline:not(.deleted) tbody tr").count() == 0
        shots(page, "deleted")

        deleted.get_by_role("button", name="Restore").click()
        page.wait_for_url("**/timeline")
        assert page.locator("section[aria-labelledby=deleted-h]").count() == 0
        expect(page.get_by_role("rowheader", name="名簿を誤って外部へ送信")).to_be_visible()
        shots(page, "restored")

        page.get_by_role("navigation", name="Case sections").get_by_role(
            "link", name="Activity"
        ).click()
        page.wait_for_url("**/activity")
        expect(page.get_by_text("restored an event")).to_be_visible()
        expect(page.get_by_text("deleted an event")).to_be_visible()
        expect(page.get_by_text("corrected an event")).to_be_visible()
        shots(page, "activity")
    finally:
        context.close()


def test_a_task_corrected_deleted_after_confirmation_and_restored(
    browser: Any, live_server: str, live_users: Any, shots: Any
) -> None:
    created = live_users.create(roles=["lead"], username="e2e-task-history-lead")
    session = live_users.session
    session.commit()
    case = create_case(session, title="名簿の誤送信（e2e タスク訂正）", actor=created.user)
    add_task(session, case, created.user, title="送信先へ削除を依頼")
    session.commit()
    tasks_url = f"{live_server}/console/cases/{case.id}/tasks"

    context = _context(browser)
    page = context.new_page()
    try:
        sign_in(page, live_server, created.user.username, created.password)
        page.get_by_role("button", name="English").click()
        page.wait_for_url("**/console/")
        page.goto(tasks_url)
        page.locator("tr.task-edit details > summary").first.click()
        page.get_by_role("link", name="Correct or delete this task").click()
        page.wait_for_url("**/edit")
        page.get_by_label("Title").fill("送信先へ削除と報告を依頼")
        page.get_by_label("Why it changed").fill("報告も求めることにした")
        page.get_by_role("button", name="Save the correction").click()
        page.wait_for_url("**/tasks")
        expect(
            page.get_by_text("The task was corrected; the previous version is kept.")
        ).to_be_visible()

        page.goto(page.url.removesuffix("/tasks") + f"/tasks/{_task_id(page)}/edit")
        history = page.locator("section[aria-labelledby=history-h]")
        expect(history.get_by_text("報告も求めることにした")).to_be_visible()
        expect(history.get_by_text("送信先へ削除を依頼 (")).to_be_visible()
        shots(page, "task-edited-with-history")

        page.get_by_role("link", name="Delete this task…").click()
        page.wait_for_url("**/delete")
        expect(page.get_by_role("heading", name="Delete this task?")).to_be_visible()
        page.get_by_role("button", name="Delete the task").click()  # no reason: refused
        expect(page.locator("ul.errors")).to_be_visible()
        shots(page, "task-confirmation")
        page.get_by_label("Reason").fill("別の事案のタスクだった")
        page.get_by_role("button", name="Delete the task").click()
        page.wait_for_url("**/tasks")
        deleted = page.locator("section[aria-labelledby=deleted-h]")
        expect(deleted.get_by_text("別の事案のタスクだった")).to_be_visible()
        shots(page, "task-deleted")

        deleted.get_by_role("button", name="Restore").click()
        page.wait_for_url("**/tasks")
        expect(page.get_by_text("The task was restored.")).to_be_visible()
        expect(page.get_by_role("rowheader", name="送信先へ削除と報告を依頼")).to_be_visible()
        shots(page, "task-restored")
    finally:
        context.close()


def _task_id(page: Any) -> str:
    row_id = page.locator("tr[id^=task-]").first.get_attribute("id")
    return str(row_id).removeprefix("task-")


def _context(browser: Any) -> Any:
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(30_000)
    return context
