"""Correcting a case in Chromium with JavaScript off: edit a timeline event, read its history,
delete it through the confirmation page with a reason, restore it as a lead, see the activity."""

from __future__ import annotations

from typing import Any

import pytest

from csirt.cases.creation import create_case

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

    context = browser.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/console/login")
        page.get_by_label("ユーザー名").fill(created.user.username)
        page.get_by_label("パスワード").fill(created.password)
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_url("**/console/")
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
        assert history.get_by_text("送信先の明記").is_visible()
        assert history.get_by_text("名簿を誤って送信").is_visible()
        shots(page, "edited-with-history")

        page.get_by_role("link", name="Delete this event…").click()
        page.wait_for_url("**/delete")
        assert page.get_by_role("heading", name="Delete this event?").is_visible()
        shots(page, "confirmation")
        page.get_by_role("button", name="Delete the event").click()  # no reason: refused
        assert page.locator("ul.errors").is_visible()
        page.get_by_label("Reason").fill("重複登録")
        page.get_by_role("button", name="Delete the event").click()
        page.wait_for_url("**/timeline")
        deleted = page.locator("section[aria-labelledby=deleted-h]")
        assert deleted.get_by_text("重複登録").is_visible()
        assert page.locator("table.timeline:not(.deleted) tbody tr").count() == 0
        shots(page, "deleted")

        deleted.get_by_role("button", name="Restore").click()
        page.wait_for_url("**/timeline")
        assert page.locator("section[aria-labelledby=deleted-h]").count() == 0
        assert page.get_by_role("rowheader", name="名簿を誤って外部へ送信").is_visible()
        shots(page, "restored")

        page.get_by_role("navigation", name="Case sections").get_by_role(
            "link", name="Activity"
        ).click()
        page.wait_for_url("**/activity")
        assert page.get_by_text("restored an event").is_visible()
        assert page.get_by_text("deleted an event").is_visible()
        assert page.get_by_text("corrected an event").is_visible()
        shots(page, "activity")
    finally:
        context.close()
