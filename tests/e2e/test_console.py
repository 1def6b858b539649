"""Sign in with a second factor, move around, switch language, sign out — in Chromium."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_login_with_totp_navigate_switch_language_logout(
    page: Any, live_server: str, live_users: Any, shots: Any
) -> None:
    created = live_users.create(roles=["lead"], totp=True, username="e2e-lead")
    live_users.session.commit()

    page.goto(f"{live_server}/console/")
    assert page.url.endswith("/console/login?next=/console/")
    shots(page, "login")
    page.get_by_label("ユーザー名").fill(created.user.username)
    page.get_by_label("パスワード").fill(created.password)
    page.get_by_role("button", name="サインイン").click()

    page.wait_for_url("**/console/login/verify")
    shots(page, "second-factor")
    page.get_by_label("認証アプリのコード").fill(pyotp.TOTP(created.totp_seed).now())
    page.get_by_role("button", name="確認").click()

    page.wait_for_url("**/console/")
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    shots(page, "dashboard-ja")

    page.get_by_role("navigation").get_by_role("link", name="事案").click()
    page.wait_for_url("**/console/cases/")
    expect(page.get_by_role("heading", name="事案")).to_be_visible()

    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/console/cases/")
    expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    shots(page, "cases-en")

    # Keyboard only: the skip link is the first stop and leads to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"

    page.get_by_role("link", name="Account").click()
    shots(page, "account-en")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shots(page, "signed-out")
    page.goto(f"{live_server}/console/")
    assert "/console/login" in page.url


def test_console_works_with_javascript_off(browser: Any, live_server: str, live_users: Any):
    created = live_users.create(roles=["responder"], username="e2e-nojs")
    live_users.session.commit()
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    page = context.new_page()
    page.goto(f"{live_server}/console/login")
    page.get_by_label("Username").fill(created.user.username)
    page.get_by_label("Password").fill(created.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    context.close()
