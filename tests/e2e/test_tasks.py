"""Working tasks in Chromium with JavaScript off: tick rows and set their status and assignee at
once, then change one row's status inline; each update is confirmed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from csirt.cases.creation import create_case
from csirt.cases.models import CaseMember, Task
from csirt.cases.tasks import add_task

pytestmark = pytest.mark.browser


def test_bulk_and_inline_task_updates(
    browser: Any, live_server: str, live_users: Any, shots: Any
) -> None:
    created = live_users.create(roles=["lead"], username="e2e-tasks-lead")
    helper = live_users.create(roles=["responder"], username="e2e-tasks-helper").user
    session = live_users.session
    session.commit()
    case = create_case(session, title="名簿の掲載（e2e タスク）", actor=created.user)
    session.add(CaseMember(case_id=case.id, user_id=helper.id, role="investigator"))
    tasks = [
        add_task(session, case, created.user, title=title)
        for title in ("証拠保全", "チーム編成", "通報者へ連絡")
    ]
    session.commit()
    case_id, inline_id = case.id, tasks[2].id
    session.rollback()  # hold no read transaction while the server writes

    context = browser.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/console/login")
        page.get_by_label("ユーザー名").fill(created.user.username)
        page.get_by_label("パスワード").fill(created.password)
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_url("**/console/")
        page.get_by_role("button", name="English").click()
        page.wait_for_url("**/console/")

        page.goto(f"{live_server}/console/cases/{case_id}/tasks")
        page.get_by_label("Select: 証拠保全").check()
        page.get_by_label("Select: チーム編成").check()
        page.get_by_label("Set status").select_option("done")
        page.get_by_label("Add assignee").select_option(str(helper.id))
        shots(page, "selected")
        page.get_by_role("button", name="Apply to selected tasks").click()
        page.wait_for_url("**/tasks")
        expect(page.get_by_text("2 tasks updated.")).to_be_visible()
        shots(page, "bulk-updated")

        page.get_by_label("Status: 通報者へ連絡").select_option("in_progress")
        page.locator(f"#quick-{inline_id}").locator("xpath=..").get_by_role(
            "button", name="Save"
        ).click()
        page.wait_for_url(f"**/tasks#task-{inline_id}")
        expect(page.get_by_text("Task updated: 通報者へ連絡")).to_be_visible()
        shots(page, "inline-updated")
    finally:
        context.close()

    session.expire_all()
    rows = {t.title: t for t in session.scalars(select(Task).where(Task.case_id == case_id))}
    assert rows["証拠保全"].status == rows["チーム編成"].status == "done"
    assert [a.user_id for a in rows["証拠保全"].assignees] == [helper.id]
    assert rows["通報者へ連絡"].status == "in_progress"
