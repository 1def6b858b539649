"""Keyboard shortcuts in Chromium with JavaScript on (a progressive enhancement: the other
browser tests run with it off): j/k through the case list, Enter opens, / searches, c creates,
? shows the help, and nothing fires while typing in a field; no CSP violation on the way."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from csirt.cases.creation import create_case
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def test_keyboard_shortcuts(browser: Any, live_server: str, live_users: Any, shots: Any) -> None:
    created = live_users.create(roles=["lead"], username="e2e-keys-lead")
    session = live_users.session
    for n in range(3):
        create_case(session, title=f"キーボード操作の確認 {n + 1}", actor=created.user)
    session.commit()

    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems: list[str] = []
    # Script errors and CSP reports (a refused script or style is a console error).
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(response.url)
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    try:
        sign_in(page, live_server, created.user.username, created.password)
        page.goto(f"{live_server}/console/cases/")
        rows = page.locator("main table tbody tr")
        assert rows.count() >= 3

        page.keyboard.press("j")
        assert "kb-current" in (rows.nth(0).get_attribute("class") or "")
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.keyboard.press("k")
        assert "kb-current" in (rows.nth(1).get_attribute("class") or "")
        assert "kb-current" not in (rows.nth(0).get_attribute("class") or "")
        focused = page.evaluate("document.activeElement.textContent")
        assert focused == rows.nth(1).locator("a").first.text_content()
        shots(page, "second-row-selected")
        target = rows.nth(1).locator("a").first.get_attribute("href") or ""
        page.keyboard.press("Enter")
        page.wait_for_url(f"**{target}")

        page.goto(f"{live_server}/console/cases/")
        page.keyboard.press("/")
        search = page.locator("#f-q")
        assert page.evaluate("document.activeElement.id") == "f-q"
        # Typed into the field, j, k, c and ? are letters, not shortcuts.
        page.keyboard.type("jkc?")
        assert search.input_value() == "jkc?"
        assert page.url.endswith("/console/cases/")
        assert page.locator("tr.kb-current").count() == 0

        page.locator("h1").click()  # leave the field
        page.keyboard.press("?")
        dialog = page.locator("#kb-help")
        expect(dialog).to_be_visible()
        expect(dialog.locator("kbd", has_text="j")).to_be_visible()
        shots(page, "help")
        page.keyboard.press("j")  # the open dialog takes no shortcut
        assert page.locator("tr.kb-current").count() == 0
        page.keyboard.press("Escape")
        expect(dialog).not_to_be_visible()

        page.goto(f"{live_server}/console/")
        page.keyboard.press("/")  # no search field here: to the case list's
        page.wait_for_url("**/console/cases/#search")
        assert page.evaluate("document.activeElement.id") == "f-q"
        page.locator("h1").click()
        page.keyboard.press("c")
        page.wait_for_url(re.compile(r".*/console/cases/new$"))
        assert problems == [], problems
    finally:
        context.close()


def test_pages_carry_the_script_only_for_signed_in_users(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/console/login")
    assert page.locator("script").count() == 0
    assert page.locator("#kb-help").count() == 0
