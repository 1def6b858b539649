"""Observables in Chromium with JavaScript off: paste 1,000 values through the real server,
check the preview (types guessed, values defanged), save, and see the same value's sighting in
another case on the observables tab. Screenshots in test-output/e2e/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from csirt.cases.creation import create_case
from csirt.observables.service import ObservableIn, add_many
from tests.e2e.conftest import OUTPUT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHARED = "203.0.113.5"


def _values(count: int) -> list[str]:
    values = [SHARED.replace(".", "[.]")]
    for i in range(1, count):
        kind = i % 4
        if kind == 0:
            values.append(f"198.51.{i // 250}.{i % 250}")
        elif kind == 1:
            values.append(f"host{i}.example[.]com")
        elif kind == 2:
            values.append(f"hxxps://files{i}.example[.]net/dl/{i}.zip")
        else:
            values.append(f"{i:064x}")
    return values


def test_paste_preview_save_and_sightings(
    browser: Any, live_server: str, live_users: Any, shots: Any
) -> None:
    created = live_users.create(roles=["lead"], username="e2e-observables-lead")
    session = live_users.session
    session.commit()
    mine = create_case(session, title="不正アクセス（e2e 観測値）", actor=created.user)
    other = create_case(session, title="同じ攻撃元の別事案", actor=created.user)
    session.flush()
    add_many(session, other, created.user, [ObservableIn("ip", SHARED, ioc=True)], source="e2e")
    session.commit()
    mine_id, other_ref = mine.id, other.reference

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

        page.goto(f"{live_server}/console/cases/{mine_id}")
        page.get_by_role("navigation", name="Case sections").get_by_role(
            "link", name="Observables"
        ).click()
        page.wait_for_url("**/observables")
        shots(page, "empty-tab")

        paste = page.locator("form[action$='/observables/paste']")
        paste.get_by_label("Values, one per line").fill("\n".join(_values(1000)))
        paste.get_by_label("TLP").select_option("green")
        paste.get_by_label("Indicator of compromise (IOC)").check()
        paste.get_by_role("button", name="Preview").click()
        page.wait_for_url("**/observables/paste")
        expect(page.get_by_role("heading", name="Check the pasted values")).to_be_visible()
        rows = page.locator("table.paste-preview tbody tr")
        assert rows.count() == 1000
        assert rows.nth(0).locator("select").input_value() == "ip"
        assert rows.nth(1).locator("select").input_value() == "domain"
        assert rows.nth(2).locator("select").input_value() == "url"
        assert rows.nth(3).locator("select").input_value() == "hash"
        assert "hxxps://files2[.]example[.]net/dl/2.zip" in rows.nth(2).inner_text()
        # 1,000 rows: the first screen is what a person checks first.
        folder = OUTPUT / "test_paste_preview_save_and_sightings"
        page.screenshot(path=str(folder / "01b-preview-first-screen.png"))
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url("**/observables")
        expect(page.get_by_text("1000 observables added, 0 merged")).to_be_visible()

        row = page.locator("table.observables tbody tr").filter(has_text="203[.]0[.]113[.]5")
        expect(row.get_by_role("link", name=other_ref)).to_be_visible()
        assert "TLP:GREEN" in row.inner_text()
        assert "http://" not in page.locator("table.observables").inner_text()
        shots(page, "tab-with-sightings")
    finally:
        context.close()
